"""Spec: after a clean bake the gate waits for the other region's gate
(PeerStackSetName), so that a release is kept or rolled back in both regions,
never kept in one: the gate that started first waits for the other; a failed or
rolling-back peer fails this gate; a peer still baking when this gate's time is
up fails it (both roll back); an unreadable peer is not waited for, and the
reason says so. Both gates read the same two CloudFormation timestamps, so
exactly one of them waits and they never wait for each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gate
from support import STACK_ID, FakeClock, FakeContext, assert_well_formed, cfn_event
from tap import deploy_gate

REGION = "us-east-1"
PEER_REGION = "eu-west-1"
ALARM = "deployment-health-test"
STACKSET = "tap-test"
PEER_STACK = f"StackSet-{STACKSET}-0a1b2c3d-1111-2222-3333-444455556666"
GATE_ID = "DeploymentGate"
OWN_START = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
PROPS = {
    "AlarmNames": [ALARM],
    "BakeMinutes": "1",
    "PeerRegion": PEER_REGION,
    "PeerAlarmNames": [ALARM],
    "PeerStackSetName": STACKSET,
}


def alarms_answer(state: str = "OK", reason: str = "") -> dict:
    alarm = {
        "AlarmName": ALARM,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{ALARM}",
        "StateValue": state,
        "StateReason": reason or f"{ALARM} is {state}",
    }
    return {"CompositeAlarms": [alarm], "MetricAlarms": []}


def resource_detail(stack: str, status: str, since: datetime) -> dict:
    return {
        "StackResourceDetail": {
            "StackName": stack,
            "LogicalResourceId": GATE_ID,
            "ResourceType": "Custom::DeploymentGate",
            "LastUpdatedTimestamp": since,
            "ResourceStatus": status,
        }
    }


class Peer:
    """Both regions stubbed: this region's stack status and gate, both regions' alarms, the other region's stack instance."""

    def __init__(self, stub) -> None:
        self.cfn, self.cfn_stub = stub("cloudformation")
        self.cw, self.cw_stub = stub("cloudwatch")
        self.peer_cw, self.peer_cw_stub = stub("cloudwatch", PEER_REGION)
        self.peer_cfn, self.peer_cfn_stub = stub("cloudformation", PEER_REGION)
        self.clock = FakeClock()
        self.deps = deploy_gate.Dependencies(
            cloudformation=self.cfn, cloudwatch=self.cw, region=REGION, sleep=self.clock.sleep, monotonic=self.clock
        )
        gate.set_dependencies(self.deps)

    def deploying(self) -> None:
        stack = {"StackName": "tap", "StackId": STACK_ID, "CreationTime": OWN_START, "StackStatus": "UPDATE_IN_PROGRESS"}
        self.cfn_stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK_ID})

    def polls(self, n: int, own: str = "OK", peer: str = "OK") -> None:
        expected = {"AlarmNames": [ALARM], "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
        for _ in range(n):
            self.cw_stub.add_response("describe_alarms", alarms_answer(own), expected)
            if own != "ALARM":  # an alarm here fails the gate before the other region is read
                self.peer_cw_stub.add_response("describe_alarms", alarms_answer(peer), expected)

    def own_gate(self, since: datetime = OWN_START) -> None:
        self.cfn_stub.add_response(
            "describe_stack_resource",
            resource_detail("tap", "UPDATE_IN_PROGRESS", since),
            {"StackName": STACK_ID, "LogicalResourceId": GATE_ID},
        )

    def peer_listed(self, *names: str, parent: str | None = None) -> None:
        summaries = [
            {"StackName": n, "CreationTime": OWN_START, "StackStatus": "UPDATE_IN_PROGRESS", **({"ParentId": parent} if parent else {})}
            for n in names
        ]
        self.peer_cfn_stub.add_response("list_stacks", {"StackSummaries": summaries}, {})

    def peer(self, stack_status: str, gate_status: str, since: datetime) -> None:
        stack = {"StackName": PEER_STACK, "CreationTime": OWN_START, "StackStatus": stack_status}
        self.peer_cfn_stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": PEER_STACK})
        self.peer_cfn_stub.add_response(
            "describe_stack_resource",
            resource_detail(PEER_STACK, gate_status, since),
            {"StackName": PEER_STACK, "LogicalResourceId": GATE_ID},
        )

    def run(self, remaining: float = 900.0) -> tuple[dict, dict]:
        event = cfn_event("Update", PROPS, LogicalResourceId=GATE_ID)
        body = gate.handler(event, FakeContext(remaining, clock=self.clock))
        assert_well_formed(body, event)
        return event, body


@pytest.fixture
def p(stub) -> Peer:
    return Peer(stub)


LATER = OWN_START + timedelta(seconds=20)
EARLIER = OWN_START - timedelta(seconds=20)


def given_a_clean_bake(p: Peer) -> None:
    p.deploying()
    p.polls(3)  # 60 s bake: polls at 0, 30 and 60 s
    p.own_gate()
    p.peer_listed(PEER_STACK, f"{PEER_STACK}-ComputeStack-ABCDEF123456", f"StackSet-{STACKSET}-eu-0a1b2c3d-1111-2222-3333-444455556666")


@pytest.mark.parametrize(
    ("stack_status", "gate_status", "since", "note"),
    [
        pytest.param("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", LATER, f"{PEER_REGION}: its gate passed", id="the other gate passed"),
        pytest.param(
            "UPDATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            EARLIER,
            "its gate started first and waits for this one's answer",
            id="the other started first",
        ),
        pytest.param(
            "UPDATE_COMPLETE", "UPDATE_COMPLETE", EARLIER, "it is not deploying this release (stack UPDATE_COMPLETE", id="not deploying"
        ),
    ],
)
def test_given_the_other_regions_outcome_is_known_when_the_bake_ends_then_success_at_once(
    p, cfn_responses, stack_status, gate_status, since, note
) -> None:
    given_a_clean_bake(p)
    p.peer(stack_status, gate_status, since)

    _, body = p.run()

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].startswith(f"no alarm in ALARM in {REGION} or {PEER_REGION} during a 60 s bake")
    assert note in body["Reason"] and "waited" not in body["Reason"]
    assert p.clock.sleeps == [30, 30]  # the bake's own polls, no wait


def test_given_the_other_gate_started_later_then_this_gate_waits_polling_both_regions_until_it_passed(p, cfn_responses) -> None:
    given_a_clean_bake(p)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)
    p.polls(1)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)
    p.polls(1)
    p.peer("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", LATER + timedelta(seconds=60))

    _, body = p.run()

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].endswith(f"; {PEER_REGION}: its gate passed (waited 2 polls)")
    assert p.clock.sleeps == [30, 30, 30, 30]


def test_given_the_other_update_has_not_reached_its_gate_then_this_gate_waits_for_it(p, cfn_responses) -> None:
    given_a_clean_bake(p)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", EARLIER - timedelta(days=3))  # the gate of the previous release
    p.polls(1)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", LATER + timedelta(seconds=90))

    _, body = p.run()

    assert body["Status"] == "SUCCESS" and body["Reason"].endswith("its gate passed (waited 1 poll)"), body["Reason"]


@pytest.mark.parametrize(
    ("stack_status", "gate_status", "detail"),
    [
        pytest.param(
            "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_FAILED", f"its stack {PEER_STACK} is in UPDATE_ROLLBACK_IN_PROGRESS", id="rolling back"
        ),
        pytest.param(
            "UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE", f"its stack {PEER_STACK} is in UPDATE_ROLLBACK_COMPLETE", id="rolled back"
        ),
        pytest.param("UPDATE_IN_PROGRESS", "UPDATE_FAILED", f"its gate failed ({PEER_STACK})", id="its gate just failed"),
    ],
)
def test_given_the_other_region_fails_while_this_gate_waits_then_failed_naming_the_region_and_why(
    p, cfn_responses, stack_status, gate_status, detail
) -> None:
    given_a_clean_bake(p)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)
    p.polls(1)
    p.peer(stack_status, gate_status, LATER + timedelta(seconds=45))

    _, body = p.run()

    assert body["Status"] == "FAILED"
    assert f"the deployment in {PEER_REGION} failed ({detail}" in body["Reason"]
    assert deploy_gate.PEER_FAILURE_WHY in body["Reason"]


@pytest.mark.parametrize(
    ("own", "peer", "expected"), [("ALARM", "OK", f"alarms in ALARM: {ALARM}"), ("OK", "ALARM", f"alarms in ALARM in {PEER_REGION}")]
)
def test_given_an_alarm_fires_while_this_gate_waits_then_failed(p, cfn_responses, own, peer, expected) -> None:
    given_a_clean_bake(p)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)
    p.polls(1, own=own, peer=peer)

    _, body = p.run()

    assert body["Status"] == "FAILED" and expected in body["Reason"], body["Reason"]


def test_given_the_other_gate_still_bakes_when_this_gates_time_is_up_then_failed_before_the_timer(p, cfn_responses) -> None:
    # 200 s left: the bake keeps 60 s back (BAKE_SAFETY_MARGIN_SECONDS); 60 s bake, then 80 s of waiting.
    given_a_clean_bake(p)
    for _ in range(3):
        p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)
        p.polls(1)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)

    _, body = p.run(remaining=200.0)

    assert body["Status"] == "FAILED"
    assert f"{PEER_REGION}'s gate had not finished (its gate is baking) after 3 polls of waiting" in body["Reason"]
    assert deploy_gate.PEER_WAIT_WHY in body["Reason"]
    assert sum(p.clock.sleeps) <= 200.0 - deploy_gate.BAKE_SAFETY_MARGIN_SECONDS


@pytest.mark.parametrize(
    ("listed", "error"),
    [
        pytest.param((), "0 stacks named StackSet-tap-test-<uuid> (expected one): none", id="no stack instance"),
        pytest.param(
            (PEER_STACK, f"StackSet-{STACKSET}-ffffffff-1111-2222-3333-444455556666"), "2 stacks named StackSet-tap-test-<uuid>", id="two"
        ),
    ],
)
def test_given_the_other_regions_stack_cannot_be_found_then_this_gate_decides_alone_and_says_so(p, cfn_responses, listed, error) -> None:
    p.deploying()
    p.polls(3)
    p.own_gate()
    p.peer_listed(*listed)

    _, body = p.run()

    assert body["Status"] == "SUCCESS"
    assert f"; did not wait for the {PEER_REGION} gate: its stack could not be read (LookupError: {error}" in body["Reason"]


def test_given_the_other_regions_cloudformation_is_down_then_this_gate_decides_alone_and_says_so(p, cfn_responses) -> None:
    p.deploying()
    p.polls(3)
    p.own_gate()
    p.peer_cfn_stub.add_client_error("list_stacks", "AccessDenied", http_status_code=403)

    _, body = p.run()

    assert body["Status"] == "SUCCESS" and "its stack could not be read (ClientError" in body["Reason"]


def test_given_this_gates_own_start_cannot_be_read_then_it_does_not_wait_for_a_baking_peer(p, cfn_responses) -> None:
    p.deploying()
    p.polls(3)
    p.cfn_stub.add_client_error("describe_stack_resource", "Throttling", http_status_code=400)
    p.peer_listed(PEER_STACK)
    p.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", LATER)

    _, body = p.run()

    assert body["Status"] == "SUCCESS" and "this gate's start could not be read, so it does not wait" in body["Reason"]


def test_given_a_possible_rollback_then_the_other_regions_stack_is_never_read(p, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        p.cfn_stub.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)
    p.polls(3)
    p.deps.cloudformation_in = lambda region: pytest.fail(f"read the stack in {region}")

    _, body = p.run()

    assert body["Status"] == "SUCCESS" and body["Reason"].startswith(deploy_gate.UNVERIFIED)


def test_given_the_paged_stack_list_then_the_root_stack_instance_is_found_on_a_later_page(stub) -> None:
    client, stubber = stub("cloudformation", PEER_REGION)
    other = {"StackName": "unrelated", "CreationTime": OWN_START, "StackStatus": "CREATE_COMPLETE"}
    deleted = {
        "StackName": f"StackSet-{STACKSET}-ffffffff-1111-2222-3333-444455556666",
        "CreationTime": OWN_START,
        "StackStatus": "DELETE_COMPLETE",
    }
    nested = {"StackName": PEER_STACK.upper(), "CreationTime": OWN_START, "StackStatus": "UPDATE_COMPLETE", "ParentId": "arn:parent"}
    root = {"StackName": PEER_STACK, "CreationTime": OWN_START, "StackStatus": "UPDATE_COMPLETE"}
    stubber.add_response("list_stacks", {"StackSummaries": [other, deleted], "NextToken": "t"}, {})
    stubber.add_response("list_stacks", {"StackSummaries": [nested, root]}, {"NextToken": "t"})
    assert deploy_gate.find_stack_instance(client, STACKSET) == PEER_STACK


@pytest.mark.parametrize(
    ("props", "message"),
    [
        pytest.param({"PeerStackSetName": "9bad name"}, "PeerStackSetName must be a StackSet name", id="not a name"),
        pytest.param(
            {"PeerRegion": "", "PeerAlarmNames": [], "PeerStackSetName": STACKSET},
            "PeerStackSetName 'tap-test' needs PeerRegion",
            id="no region",
        ),
    ],
)
def test_given_invalid_peer_properties_then_the_property_is_named(props, message) -> None:
    with pytest.raises(deploy_gate.InvalidProperties, match=message):
        deploy_gate.GateProperties.parse({**PROPS, **props})


# --- exactly one of two gates waits -------------------------------------------------------


class _View:
    """The other region's stack instance as read_peer_gate sees it: stack UPDATE_IN_PROGRESS, its gate baking since ``since``."""

    def __init__(self, since: datetime) -> None:
        self.since = since

    def list_stacks(self, **kwargs):
        return {"StackSummaries": [{"StackName": PEER_STACK, "StackStatus": "UPDATE_IN_PROGRESS"}]}

    def describe_stacks(self, **kwargs):
        return {"Stacks": [{"StackStatus": "UPDATE_IN_PROGRESS"}]}

    def describe_stack_resource(self, **kwargs):
        return resource_detail(PEER_STACK, "UPDATE_IN_PROGRESS", self.since)


def _view_from(region: str, own: datetime, peer_region: str, peer: datetime) -> str:
    props = deploy_gate.GateProperties.parse({**PROPS, "PeerRegion": peer_region})
    deps = deploy_gate.Dependencies(cloudformation=None, cloudwatch=None, region=region, cloudformation_in=lambda r: _View(peer))
    return deploy_gate.read_peer_gate(props, deploy_gate.GateRef(STACK_ID, GATE_ID), own, deps, {}).state


@given(st.integers(min_value=-600, max_value=600))
def test_whatever_the_two_gates_start_times_exactly_one_of_them_waits(offset: int) -> None:
    us_start, eu_start = OWN_START, OWN_START + timedelta(seconds=offset)
    views = {_view_from(REGION, us_start, PEER_REGION, eu_start), _view_from(PEER_REGION, eu_start, REGION, us_start)}
    assert views == {deploy_gate.PEER_WAIT, deploy_gate.PEER_DONE}
