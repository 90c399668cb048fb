"""Spec: gate.handler (the deployment gate custom resource): bakes on the
named alarms, never fails a rollback, always answers before the timeout."""

from __future__ import annotations

import threading

import pytest

import gate
from support import STACK_ID, FakeClock, FakeContext, answer_of_the_timer, assert_well_formed, cfn_event
from tap import deploy_gate

ALARM_NAME = "deployment-health-test"
PROPS = {"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "DeploymentStamp": "2024-05-01T12:00:00Z-abc123"}


def composite(name: str, state: str, reason: str = "") -> dict:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
        "StateValue": state,
        "StateReason": reason or f"{name} is {state}",
    }


def metric(name: str, state: str, reason: str = "") -> dict:
    return {**composite(name, state, reason), "MetricName": "Errors", "Namespace": "AWS/Lambda"}


class GateEnv:
    def __init__(self, stub, *, cloudwatch=None):
        self.cfn, self.cfn_stub = stub("cloudformation")
        if cloudwatch is None:
            self.cw, self.cw_stub = stub("cloudwatch")
        else:
            self.cw, self.cw_stub = cloudwatch, None
        self.clock = FakeClock()
        self.deps = deploy_gate.Dependencies(
            cloudformation=self.cfn, cloudwatch=self.cw, sleep=self.clock.sleep, monotonic=self.clock
        )
        gate.set_dependencies(self.deps)

    def context(self, remaining: float = 900.0) -> FakeContext:
        return FakeContext(remaining, clock=self.clock)

    def stack_status(self, status: str) -> None:
        self.cfn_stub.add_response(
            "describe_stacks",
            {"Stacks": [{"StackName": "tap-compute-test", "StackId": STACK_ID, "CreationTime": "2024-01-01T00:00:00Z", "StackStatus": status}]},
            {"StackName": STACK_ID},
        )

    def alarms(self, *alarms: dict, names=(ALARM_NAME,), token: str | None = None, next_token: str | None = None) -> None:
        expected = {"AlarmNames": list(names), "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
        if token:
            expected["NextToken"] = token
        response = {
            "CompositeAlarms": [a for a in alarms if "MetricName" not in a],
            "MetricAlarms": [a for a in alarms if "MetricName" in a],
        }
        if next_token:
            response["NextToken"] = next_token
        self.cw_stub.add_response("describe_alarms", response, expected)


@pytest.fixture
def g(stub) -> GateEnv:
    return GateEnv(stub)


def test_given_a_delete_then_success_at_once_without_any_call(g, cfn_responses) -> None:
    event = cfn_event("Delete", PROPS, physical_id="gate-1")
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and g.clock.sleeps == []


@pytest.mark.parametrize(
    "status",
    ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "IMPORT_ROLLBACK_IN_PROGRESS"],
)
@pytest.mark.parametrize("props", [PROPS, {"AlarmNames": "", "BakeMinutes": "99"}], ids=["valid props", "invalid props"])
def test_given_a_rollback_then_success_at_once_without_looking_at_alarms(g, cfn_responses, status, props) -> None:
    g.stack_status(status)  # no describe_alarms queued: a call would fail the Stubber
    event = cfn_event("Update", props)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and status in body["Reason"]
    assert g.clock.sleeps == []


@pytest.mark.parametrize(
    ("status", "rollback"),
    [
        ("UPDATE_ROLLBACK_IN_PROGRESS", True),
        ("ROLLBACK_IN_PROGRESS", True),
        ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", True),
        ("UPDATE_IN_PROGRESS", False),
        ("CREATE_IN_PROGRESS", False),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("UPDATE_ROLLBACK_COMPLETE", False),
        ("UPDATE_ROLLBACK_FAILED", False),
        (None, False),
    ],
)
def test_rollback_status_table(status, rollback) -> None:
    assert deploy_gate.is_rollback_status(status) is rollback


@pytest.mark.parametrize("request_type", ["Create", "Update"])
@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_given_healthy_alarms_for_the_whole_bake_then_success(g, cfn_responses, request_type, state) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):  # t = 0, 30, 60
        g.alarms(composite(ALARM_NAME, state))
    event = cfn_event(request_type, PROPS)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Polls"] == "3" and body["Data"]["BakeSeconds"] == "60"
    assert g.clock.sleeps == [30, 30]


def test_given_an_alarm_fires_during_the_bake_then_failed_names_every_alarm_in_alarm_with_its_reason(stub, cfn_responses) -> None:
    g = GateEnv(stub)
    names = ["deployment-health-test", "lambda-errors-test", "rds-connections-test"]
    props = dict(PROPS, AlarmNames=names, BakeMinutes=5)
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms(composite(names[0], "OK"), metric(names[1], "OK"), metric(names[2], "INSUFFICIENT_DATA"), names=names)
    g.alarms(
        composite(names[0], "ALARM", "Alarm rule ALARM(lambda-errors-test) evaluated to ALARM"),
        metric(names[1], "ALARM", "Threshold Crossed: 1 datapoint [12.0] was greater than 5.0"),
        metric(names[2], "OK"),
        names=names,
    )
    event = cfn_event("Update", props)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert "deployment-health-test (Alarm rule ALARM(lambda-errors-test) evaluated to ALARM)" in body["Reason"]
    assert "lambda-errors-test (Threshold Crossed" in body["Reason"]
    assert "rds-connections-test" not in body["Reason"]
    assert g.clock.sleeps == [30]  # failed at the second poll, no waiting for the bake end


def test_given_a_named_alarm_does_not_exist_then_failed(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms()
    body = gate.handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "FAILED" and f"not found: {ALARM_NAME}" in body["Reason"]


@pytest.mark.parametrize("bake", [0, "0", "0.0"])
def test_given_no_bake_then_exactly_one_poll(g, cfn_responses, bake) -> None:
    g.stack_status("CREATE_IN_PROGRESS")
    g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Create", dict(PROPS, BakeMinutes=bake)), g.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["Polls"] == "1" and g.clock.sleeps == []


def test_given_little_time_left_then_the_bake_is_capped_and_the_answer_comes_in_time(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(6):  # 140 s of bake at 30 s intervals: t = 0, 30, 60, 90, 120, 140
        g.alarms(composite(ALARM_NAME, "OK"))
    context = g.context(200)
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=10)), context)
    assert body["Status"] == "SUCCESS"
    assert body["Data"]["BakeSeconds"] == "140"
    assert context.get_remaining_time_in_millis() / 1000 >= deploy_gate.BAKE_SAFETY_MARGIN_SECONDS


def test_given_the_full_900_seconds_then_a_10_minute_bake_fits(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(21):
        g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes="10")), g.context(900))
    assert body["Status"] == "SUCCESS" and body["Data"]["BakeSeconds"] == "600" and body["Data"]["Polls"] == "21"


def test_given_cloudwatch_errors_on_some_polls_then_the_good_polls_decide(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    g.cw_stub.add_client_error("describe_alarms", "Throttling", http_status_code=400)
    g.alarms(composite(ALARM_NAME, "OK"))
    g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "SUCCESS"


def test_given_cloudwatch_unreadable_for_the_whole_bake_then_failed(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):
        g.cw_stub.add_client_error("describe_alarms", "InternalServiceError", http_status_code=500)
    body = gate.handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "FAILED" and "could not read the alarm states" in body["Reason"]


def test_given_the_stack_status_is_unreadable_then_the_gate_bakes_but_cannot_fail(g, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        g.cfn_stub.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)
    g.alarms(composite(ALARM_NAME, "ALARM", "boom"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=0)), g.context())
    assert body["Status"] == "SUCCESS"
    assert "unverified" in body["Reason"] and ALARM_NAME in body["Reason"]


def test_given_the_stack_status_is_unreadable_and_alarms_stay_ok_then_the_reason_still_says_unverified(g, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        g.cfn_stub.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)
    g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=0)), g.context())
    assert body["Status"] == "SUCCESS"
    assert body["Reason"].startswith("gate unverified") and "no alarm in ALARM" in body["Reason"]


def test_given_the_stack_status_is_unreadable_and_props_invalid_then_still_no_failure(g, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        g.cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)
    body = gate.handler(cfn_event("Update", {"AlarmNames": []}), g.context())
    assert body["Status"] == "SUCCESS" and "unverified" in body["Reason"]


def test_given_a_transient_describe_stacks_error_then_it_is_retried(g, cfn_responses) -> None:
    g.cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)
    g.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    body = gate.handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "SUCCESS" and "UPDATE_ROLLBACK_IN_PROGRESS" in body["Reason"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [], "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [" "], "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": {"a": 1}, "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "11"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "-1"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "soon"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "NaN"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "Infinity"}, "BakeMinutes"),
    ],
)
def test_given_invalid_properties_on_a_deployment_then_failed_names_the_property(g, cfn_responses, props, message) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    event = cfn_event("Update", props)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and message in body["Reason"]


@pytest.mark.parametrize(
    ("raw", "names", "seconds"),
    [
        ({"AlarmNames": ["a", "b", "a"], "BakeMinutes": 2}, ("a", "b"), 120.0),
        ({"AlarmNames": "a, b", "BakeMinutes": "2.5"}, ("a", "b"), 150.0),
        ({"AlarmNames": ["a"], "BakeMinutes": "10"}, ("a",), 600.0),
        ({"AlarmNames": ["a"]}, ("a",), 0.0),
    ],
)
def test_property_parsing(raw, names, seconds) -> None:
    parsed = deploy_gate.GateProperties.parse(raw)
    assert parsed.alarm_names == names and parsed.bake_seconds == seconds


def test_given_paged_results_then_every_page_is_read(g, cfn_responses) -> None:
    names = ["a1", "a2"]
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms(composite("a1", "OK"), names=names, next_token="page2")
    g.alarms(composite("a2", "ALARM", "bad"), names=names, token="page2")
    body = gate.handler(cfn_event("Update", dict(PROPS, AlarmNames=names, BakeMinutes=0)), g.context())
    assert body["Status"] == "FAILED" and "a2 (bad)" in body["Reason"]


def test_given_more_than_100_alarms_then_they_are_asked_for_in_chunks(g, cfn_responses) -> None:
    names = [f"alarm-{i:03d}" for i in range(150)]
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms(*[composite(n, "OK") for n in names[:100]], names=names[:100])
    g.alarms(*[composite(n, "OK") for n in names[100:]], names=names[100:])
    body = gate.handler(cfn_event("Update", dict(PROPS, AlarmNames=names, BakeMinutes=0)), g.context())
    assert body["Status"] == "SUCCESS", body["Reason"]


class Explodes:
    def __init__(self, error: BaseException):
        self.error = error

    def __getattr__(self, name):
        def call(**kwargs):
            raise self.error

        return call


class Malformed:
    """DescribeStacks answering without a StackStatus (reading it raises KeyError)."""

    def describe_stacks(self, **kwargs):
        return {"Stacks": [{"StackName": "tap-compute-test"}]}


@pytest.mark.parametrize(
    "cloudformation",
    [
        pytest.param(Explodes(RuntimeError("cloudformation exploded")), id="RuntimeError"),
        pytest.param(Explodes(TypeError("unexpected keyword")), id="TypeError"),
        pytest.param(Malformed(), id="malformed answer (KeyError)"),
    ],
)
@pytest.mark.parametrize("state", ["OK", "ALARM"])
def test_given_reading_the_stack_status_raises_a_non_aws_error_then_the_gate_bakes_but_cannot_fail(
    stub, cfn_responses, capsys, cloudformation, state
) -> None:
    """The gate cannot rule out a rollback, and FAILED during one would end
    in UPDATE_ROLLBACK_FAILED: any failure to read the status is "unknown"."""
    g = GateEnv(stub)
    g.deps.cloudformation = cloudformation
    g.alarms(composite(ALARM_NAME, state, "boom"))
    event = cfn_event("Update", dict(PROPS, BakeMinutes=0))

    body = gate.handler(event, g.context())

    (delivered,) = cfn_responses.bodies  # exactly one answer reached CloudFormation
    assert delivered == body
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and "gate unverified" in body["Reason"]
    assert (f"{ALARM_NAME} (boom)" in body["Reason"]) is (state == "ALARM")
    logs = capsys.readouterr().out
    assert "could not read the stack status" in logs and "Traceback" in logs
    assert g.clock.sleeps == []  # not retried: another try would fail the same way


@pytest.mark.parametrize("step", ["describe_alarms", "sleep"])
def test_given_an_unexpected_error_in_any_step_then_failed_is_still_answered(stub, cfn_responses, step) -> None:
    g = GateEnv(stub, cloudwatch=Explodes(RuntimeError("cloudwatch exploded")) if step == "describe_alarms" else None)
    g.stack_status("UPDATE_IN_PROGRESS")
    if step == "sleep":
        g.alarms(composite(ALARM_NAME, "OK"))

        def bad_sleep(seconds):
            raise RuntimeError("sleep exploded")

        g.deps.sleep = bad_sleep
    event = cfn_event("Update", PROPS)
    body = gate.handler(event, g.context())
    (delivered,) = cfn_responses.bodies
    assert delivered == body
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "exploded" in body["Reason"]


def test_given_cloudwatch_hangs_then_the_timer_answers_before_the_timeout(stub, cfn_responses) -> None:
    release = threading.Event()

    class Hangs:
        def describe_alarms(self, **kwargs):
            release.wait(10)
            return {"CompositeAlarms": [composite(ALARM_NAME, "OK")]}

    g = GateEnv(stub, cloudwatch=Hangs())
    g.stack_status("UPDATE_IN_PROGRESS")
    # real clock here: the timer is a real thread
    g.deps.monotonic = __import__("time").monotonic
    event = cfn_event("Update", PROPS)
    body = answer_of_the_timer(gate.handler, event, deploy_gate.TIMEOUT_MARGIN_SECONDS, release, cfn_responses)
    assert body["Status"] == "FAILED" and "time out" in body["Reason"]
