"""Spec: after a clean bake the gate waits for the other region's gate
(PeerStackSetName), so that a release is kept or rolled back in both regions,
never kept in one. Of two baking gates exactly one waits: the one whose
UPDATE_IN_PROGRESS is earlier waits for the other's answer and follows it; the
later one keeps baking until the earlier one's window is over, then answers.
A failed or rolling-back peer fails this gate; a peer that has not answered when
this gate's time is up fails it (both roll back); a peer that can never be read
is not waited for, and the reason says so; a refused read fails the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gate
from support import STACK_ID, FakeClock, FakeContext, assert_well_formed, cfn_event
from tap import deploy_gate
from tap.deploy_gate import PEER_DONE, PEER_FAILED, PEER_WAIT, PEER_WATCH, GatePosition, OwnGate, decide

REGION = "us-east-1"
PEER_REGION = "eu-west-1"
ALARM = "deployment-health-test"
STACKSET = "tap-test"
PEER_STACK = f"StackSet-{STACKSET}-0a1b2c3d-1111-2222-3333-444455556666"
GATE_ID = "DeploymentGate"
OWN_START = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
UPDATE_START = OWN_START - timedelta(minutes=3)
PROPS = {
    "AlarmNames": [ALARM],
    "BakeMinutes": "1",
    "PeerRegion": PEER_REGION,
    "PeerAlarmNames": [ALARM],
    "PeerStackSetName": STACKSET,
}
DESCRIBE_ALARMS = {"AlarmNames": [ALARM], "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}


def at(seconds: float) -> datetime:
    return OWN_START + timedelta(seconds=seconds)


def alarms_answer(state: str = "OK") -> dict:
    alarm = {
        "AlarmName": ALARM,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{ALARM}",
        "StateValue": state,
        "StateReason": f"{ALARM} is {state}",
    }
    return {"CompositeAlarms": [alarm], "MetricAlarms": []}


def stack_answer(name: str, status: str, updated: datetime = UPDATE_START) -> dict:
    return {
        "Stacks": [
            {"StackName": name, "CreationTime": UPDATE_START - timedelta(days=30), "LastUpdatedTime": updated, "StackStatus": status}
        ]
    }


def resource_answer(stack: str, status: str, since: datetime) -> dict:
    detail = {"StackName": stack, "LogicalResourceId": GATE_ID, "ResourceType": "Custom::DeploymentGate", "LastUpdatedTimestamp": since}
    return {"StackResourceDetail": {**detail, "ResourceStatus": status}}


class Regions:
    """Both regions stubbed: this stack and its gate, both regions' alarms, the other region's stack instance.
    The wall clock moves with the fake monotonic clock; this gate started at OWN_START."""

    def __init__(self, stub) -> None:
        self.cfn, self.cfn_stub = stub("cloudformation")
        self.cw, self.cw_stub = stub("cloudwatch")
        self.peer_cw, self.peer_cw_stub = stub("cloudwatch", PEER_REGION)
        self.peer_cfn, self.peer_cfn_stub = stub("cloudformation", PEER_REGION)
        self.clock = FakeClock()
        start = self.clock.now
        self.deps = deploy_gate.Dependencies(
            cloudformation=self.cfn,
            cloudwatch=self.cw,
            region=REGION,
            sleep=self.clock.sleep,
            monotonic=self.clock,
            now=lambda: at(self.clock.now - start),
        )
        gate.set_dependencies(self.deps)

    def polls(self, n: int, own: str = "OK", peer: str = "OK") -> None:
        for _ in range(n):
            self.cw_stub.add_response("describe_alarms", alarms_answer(own), DESCRIBE_ALARMS)
            if own != "ALARM":  # an alarm here fails the gate before the other region is read
                self.peer_cw_stub.add_response("describe_alarms", alarms_answer(peer), DESCRIBE_ALARMS)

    def clean_bake(self) -> None:
        """Deploying (not a rollback), a 60 s bake without alarms, then this gate's own position."""
        self.cfn_stub.add_response("describe_stacks", stack_answer("tap", "UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
        self.polls(3)  # at 0, 30 and 60 s
        self.cfn_stub.add_response("describe_stacks", stack_answer("tap", "UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
        self.cfn_stub.add_response(
            "describe_stack_resource",
            resource_answer("tap", "UPDATE_IN_PROGRESS", OWN_START),
            {"StackName": STACK_ID, "LogicalResourceId": GATE_ID},
        )

    def peer_listed(self, *names: str) -> None:
        summaries = [{"StackName": n, "CreationTime": UPDATE_START, "StackStatus": "UPDATE_IN_PROGRESS"} for n in names]
        nested = {
            "StackName": f"{PEER_STACK}-ComputeStack-ABC",
            "CreationTime": UPDATE_START,
            "StackStatus": "UPDATE_COMPLETE",
            "ParentId": "arn:x",
        }
        self.peer_cfn_stub.add_response(
            "list_stacks", {"StackSummaries": [*summaries, nested]}, {"StackStatusFilter": deploy_gate.live_stack_statuses(self.peer_cfn)}
        )

    def peer(self, stack_status: str, gate_status: str, since: datetime, updated: datetime = UPDATE_START) -> None:
        self.peer_cfn_stub.add_response("describe_stacks", stack_answer(PEER_STACK, stack_status, updated), {"StackName": PEER_STACK})
        self.peer_cfn_stub.add_response(
            "describe_stack_resource",
            resource_answer(PEER_STACK, gate_status, since),
            {"StackName": PEER_STACK, "LogicalResourceId": GATE_ID},
        )

    def run(self, remaining: float = 900.0) -> dict:
        event = cfn_event("Update", PROPS, LogicalResourceId=GATE_ID)
        body = gate.handler(event, FakeContext(remaining, clock=self.clock))
        assert_well_formed(body, event)
        return body


@pytest.fixture
def r(stub) -> Regions:
    return Regions(stub)


@pytest.mark.parametrize(
    ("stack_status", "gate_status", "since", "note"),
    [
        pytest.param("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", at(70), "its gate passed", id="the other gate passed"),
        pytest.param(
            "UPDATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            at(-20),
            "its gate started first, its bake window is over",
            id="the other started first, window over",
        ),
        pytest.param(
            "UPDATE_COMPLETE", "UPDATE_COMPLETE", at(-3600), "it is not deploying this release (stack UPDATE_COMPLETE", id="not deploying"
        ),
    ],
)
def test_given_the_other_regions_outcome_is_known_when_the_bake_ends_then_success_at_once(
    r, cfn_responses, stack_status, gate_status, since, note
) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer(stack_status, gate_status, since)

    body = r.run()

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].startswith(f"no alarm in ALARM in {REGION} or {PEER_REGION} during a 60 s bake")
    assert f"; {PEER_REGION}: {note}" in body["Reason"] and "waited" not in body["Reason"]
    assert r.clock.sleeps == [30, 30]  # the bake's own polls, no wait


def test_given_this_gate_started_second_then_it_keeps_baking_on_both_regions_alarms_until_the_first_gates_window_is_over(
    r, cfn_responses
) -> None:
    # The other gate started 5 s earlier: its window ends at 5 + 20 + 60 = 75 s after this one's start.
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(-5))
    r.polls(1)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(-5))

    body = r.run()

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].endswith("its gate started first, its bake window is over, and it follows this answer (waited 1 poll)")
    assert r.clock.sleeps == [30, 30, 15]


def test_given_this_gate_started_second_and_an_alarm_fires_before_the_first_gates_window_is_over_then_failed(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(-5))
    r.polls(1, peer="ALARM")

    body = r.run()

    assert body["Status"] == "FAILED" and f"alarms in ALARM in {PEER_REGION}" in body["Reason"], body["Reason"]


def test_given_this_gate_started_first_then_it_waits_for_the_other_gates_answer_without_failing_on_alarms_itself(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))
    r.peer("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", at(95))

    body = r.run()

    # No alarm read while waiting: the other gate, still watching both regions, decides.
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].endswith(f"; {PEER_REGION}: its gate passed (waited 2 polls)")
    assert r.clock.sleeps == [30, 30, 30, 30]


def test_given_the_other_update_has_not_reached_its_gate_then_this_gate_waits_for_it(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", at(-3 * 86400))  # the gate of the previous release
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", at(200))

    body = r.run()

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
    r, cfn_responses, stack_status, gate_status, detail
) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))
    r.peer(stack_status, gate_status, at(85))

    body = r.run()

    assert body["Status"] == "FAILED"
    assert f"the deployment in {PEER_REGION} failed ({detail})" in body["Reason"]
    assert deploy_gate.PEER_FAILURE_WHY in body["Reason"]


def test_given_the_other_gate_has_not_answered_when_this_gates_time_is_up_then_failed_before_the_timer(r, cfn_responses) -> None:
    # 200 s left: the bake keeps 60 s back; after the 60 s bake the wait keeps 55 s for a last look: 25 s of waiting.
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))

    body = r.run(remaining=200.0)

    assert body["Status"] == "FAILED"
    assert f"{PEER_REGION}'s gate had not answered (its gate is baking) when this gate's time ran out" in body["Reason"]
    assert deploy_gate.PEER_WAIT_WHY in body["Reason"]
    assert sum(r.clock.sleeps) <= 200.0 - deploy_gate.BAKE_SAFETY_MARGIN_SECONDS - deploy_gate.PEER_READ_SECONDS


def test_given_one_read_of_the_other_region_fails_while_waiting_then_it_keeps_waiting(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_listed(PEER_STACK)
    r.peer("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", at(20))
    r.peer_cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)
    r.peer("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_FAILED", at(110))

    body = r.run()

    assert body["Status"] == "FAILED" and f"the deployment in {PEER_REGION} failed" in body["Reason"], body["Reason"]


def test_given_the_other_region_is_never_readable_then_this_gate_decides_alone_when_its_time_is_up_and_says_so(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_listed()  # no stack instance there
    r.peer_listed()

    body = r.run(remaining=200.0)

    assert body["Status"] == "SUCCESS", body["Reason"]
    assert (
        f"; did not wait for the {PEER_REGION} gate: its stack could not be read (LookupError: 0 stacks named StackSet-tap-test-<uuid>"
        in body["Reason"]
    )


def test_given_the_gate_may_not_read_the_other_region_then_failed_naming_its_role(r, cfn_responses) -> None:
    r.clean_bake()
    r.peer_cfn_stub.add_client_error("list_stacks", "AccessDenied", http_status_code=403)

    body = r.run()

    assert (
        body["Status"] == "FAILED"
        and f"this gate may not read the {PEER_REGION} stack" in body["Reason"]
        and "fix its role" in body["Reason"]
    )


def test_given_this_gates_own_position_cannot_be_read_then_it_does_not_wait_and_says_so(r, cfn_responses) -> None:
    r.cfn_stub.add_response("describe_stacks", stack_answer("tap", "UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    r.polls(3)
    r.cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)

    body = r.run()

    assert body["Status"] == "SUCCESS" and "this gate's own start could not be read" in body["Reason"]


def test_given_a_possible_rollback_then_the_other_regions_stack_is_never_read(r, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        r.cfn_stub.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)
    r.polls(3)
    r.deps.cloudformation_in = lambda region: pytest.fail(f"read the stack in {region}")

    body = r.run()

    assert body["Status"] == "SUCCESS" and body["Reason"].startswith(deploy_gate.UNVERIFIED)


def test_given_the_paged_stack_list_then_the_root_stack_instance_is_found_on_a_later_page(stub) -> None:
    client, stubber = stub("cloudformation", PEER_REGION)
    other = {"StackName": "unrelated", "CreationTime": OWN_START, "StackStatus": "CREATE_COMPLETE"}
    prefix = {
        "StackName": f"StackSet-{STACKSET}-eu-0a1b2c3d-1111-2222-3333-444455556666",
        "CreationTime": OWN_START,
        "StackStatus": "UPDATE_COMPLETE",
    }
    nested = {
        "StackName": f"{PEER_STACK}-DatabaseStack-XYZ",
        "CreationTime": OWN_START,
        "StackStatus": "UPDATE_COMPLETE",
        "ParentId": "arn:parent",
    }
    root = {"StackName": PEER_STACK, "CreationTime": OWN_START, "StackStatus": "UPDATE_COMPLETE"}
    live = {"StackStatusFilter": deploy_gate.live_stack_statuses(client)}
    stubber.add_response("list_stacks", {"StackSummaries": [other, prefix], "NextToken": "t"}, live)
    stubber.add_response("list_stacks", {"StackSummaries": [nested, root]}, {**live, "NextToken": "t"})
    assert deploy_gate.find_stack_instance(client, STACKSET) == PEER_STACK


def test_the_stack_list_leaves_out_only_deleted_stacks(stub) -> None:
    client, _ = stub("cloudformation", PEER_REGION)
    statuses = deploy_gate.live_stack_statuses(client)
    assert "DELETE_COMPLETE" not in statuses
    assert {"UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"} <= set(statuses)


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


# --- decide: the two gates' decisions, as a pure function -------------------------------------

BAKE = 180.0
BUDGET = 900.0 - deploy_gate.BAKE_SAFETY_MARGIN_SECONDS - 30.0 - deploy_gate.PEER_READ_SECONDS


def own_gate(region: str, start: datetime) -> OwnGate:
    return OwnGate(region=region, start=start, update_start=UPDATE_START, deadline=start + timedelta(seconds=BUDGET))


def baking(since: datetime, status: str = "UPDATE_IN_PROGRESS") -> GatePosition:
    return GatePosition(stack=PEER_STACK, stack_status="UPDATE_IN_PROGRESS", stack_updated=UPDATE_START, gate_status=status, since=since)


@pytest.mark.parametrize(
    ("case", "peer", "now", "expected"),
    [
        ("other started later", baking(at(30)), at(200), PEER_WAIT),
        ("other started earlier, its window open", baking(at(-10)), at(180), PEER_WATCH),
        ("other started earlier, its window over", baking(at(-10)), at(190), PEER_DONE),
        ("other started earlier and gives up waiting", baking(at(-700)), at(200), PEER_FAILED),
        ("other passed", baking(at(250), "UPDATE_COMPLETE"), at(260), PEER_DONE),
        ("other failed", baking(at(250), "UPDATE_FAILED"), at(260), PEER_FAILED),
        ("other gate from the previous release, its update running", baking(at(-86400), "UPDATE_COMPLETE"), at(200), PEER_WAIT),
        (
            "other stack rolled back in an earlier operation",
            GatePosition(PEER_STACK, "UPDATE_ROLLBACK_COMPLETE", UPDATE_START - timedelta(days=2), "UPDATE_COMPLETE", at(-172800)),
            at(200),
            PEER_DONE,
        ),
    ],
)
def test_decide(case, peer, now, expected) -> None:
    assert decide(own_gate(REGION, OWN_START), PEER_REGION, peer, now, BAKE).state == expected, case


@given(st.integers(min_value=-600, max_value=600), st.integers(min_value=0, max_value=900))
def test_whatever_the_two_gates_start_times_and_the_moment_never_do_both_wait_and_one_waits_while_the_other_bakes(
    offset: int, elapsed: int
) -> None:
    us_start, eu_start = OWN_START, OWN_START + timedelta(seconds=offset)
    now = max(us_start, eu_start) + timedelta(seconds=elapsed)
    us = decide(own_gate(REGION, us_start), PEER_REGION, baking(eu_start), now, BAKE).state
    eu = decide(own_gate(PEER_REGION, eu_start), REGION, baking(us_start), now, BAKE).state
    assert (us, eu).count(PEER_WAIT) == 1
