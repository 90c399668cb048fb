"""Spec: gate.handler (the deployment gate custom resource): checks the alarms
exist on Create, bakes on them on Update (for as long as they need to fire,
with BakeMinutes auto), fails with the other region, never fails a rollback,
always answers before the timeout."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import gate
from support import STACK_ID, FakeClock, FakeContext, answer_of_the_timer, assert_well_formed, cfn_event
from tap import aws, cfn, deploy_gate

ALARM_NAME = "deployment-health-test"
PEER_REGION = "eu-west-1"
PEER_ALARM = "deployment-health-test"  # the same suffix, read in the other region
PROPS = {"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "DeploymentStamp": "2024-05-01T12:00:00Z-abc123"}
PEER_PROPS = {"PeerRegion": PEER_REGION, "PeerAlarmNames": [PEER_ALARM]}
AUTO_PROPS = dict(PROPS, BakeMinutes="auto", MetricPublishDelaySeconds="60")


def composite(name: str, state: str, reason: str = "", region: str = "us-east-1") -> dict:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:123456789012:alarm:{name}",
        "StateValue": state,
        "StateReason": reason or f"{name} is {state}",
    }


def metric(name: str, state: str, reason: str = "", *, period: int = 60, evaluation_periods: int = 3, datapoints: int | None = 2) -> dict:
    alarm = {
        **composite(name, state, reason),
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
        "Period": period,
        "EvaluationPeriods": evaluation_periods,
    }
    if datapoints is not None:
        alarm["DatapointsToAlarm"] = datapoints
    return alarm


def metric_math(name: str, state: str, periods: list[int], *, evaluation_periods: int = 3, datapoints: int | None = 2) -> dict:
    queries = [
        {
            "Id": f"m{i}",
            "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": period, "Stat": "Sum"},
            "ReturnData": False,
        }
        for i, period in enumerate(periods)
    ]
    queries.append({"Id": "ratio", "Expression": "m0 / m1", "ReturnData": True})
    alarm = {**composite(name, state), "Metrics": queries, "EvaluationPeriods": evaluation_periods}
    if datapoints is not None:
        alarm["DatapointsToAlarm"] = datapoints
    return alarm


def is_metric_alarm(alarm: dict) -> bool:
    return "EvaluationPeriods" in alarm


def describe_alarms_answer(*alarms: dict) -> dict:
    return {
        "CompositeAlarms": [a for a in alarms if not is_metric_alarm(a)],
        "MetricAlarms": [a for a in alarms if is_metric_alarm(a)],
    }


class NoCalls:
    """A client that must not be used: every call is recorded (and raises)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append(name)
            raise AssertionError(f"unexpected call: {name}")

        return call


class GateEnv:
    def __init__(self, stub, *, cloudwatch=None, peer: bool = False):
        self.cfn, self.cfn_stub = stub("cloudformation")
        if cloudwatch is None:
            self.cw, self.cw_stub = stub("cloudwatch")
        else:
            self.cw, self.cw_stub = cloudwatch, None
        if peer:
            # Registered as tap.aws's client for that region: the default cloudwatch_in finds it.
            self.peer_cw, self.peer_stub = stub("cloudwatch", PEER_REGION)
        self.clock = FakeClock()
        self.deps = deploy_gate.Dependencies(
            cloudformation=self.cfn, cloudwatch=self.cw, region="us-east-1", sleep=self.clock.sleep, monotonic=self.clock
        )
        gate.set_dependencies(self.deps)

    def context(self, remaining: float = 900.0) -> FakeContext:
        return FakeContext(remaining, clock=self.clock)

    def stack_status(self, status: str) -> None:
        self.cfn_stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": "tap-compute-test", "StackId": STACK_ID, "CreationTime": "2024-01-01T00:00:00Z", "StackStatus": status}
                ]
            },
            {"StackName": STACK_ID},
        )

    def status_unreadable(self) -> None:
        for _ in range(deploy_gate.STATUS_ATTEMPTS):
            self.cfn_stub.add_client_error("describe_stacks", "AccessDenied", http_status_code=403)

    @staticmethod
    def _expect(stubber, alarms, names, token, next_token) -> None:
        expected = {"AlarmNames": list(names), "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
        if token:
            expected["NextToken"] = token
        response = describe_alarms_answer(*alarms)
        if next_token:
            response["NextToken"] = next_token
        stubber.add_response("describe_alarms", response, expected)

    def alarms(self, *alarms: dict, names=(ALARM_NAME,), token: str | None = None, next_token: str | None = None) -> None:
        self._expect(self.cw_stub, alarms, names, token, next_token)

    def peer_alarms(self, *alarms: dict, names=(PEER_ALARM,)) -> None:
        self._expect(self.peer_stub, alarms, names, None, None)


class Scripted:
    """A CloudWatch client that answers DescribeAlarms from a script, the
    last answer repeated: an answer is returned as it is (no Stubber
    validation, so malformed answers can be sent), an exception is raised."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def describe_alarms(self, **kwargs):
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


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


@pytest.fixture
def g(stub) -> GateEnv:
    return GateEnv(stub)


@pytest.fixture
def gp(stub) -> GateEnv:
    """The gate of a region whose peer (eu-west-1) is stubbed too."""
    return GateEnv(stub, peer=True)


ENDPOINT_DOWN = EndpointConnectionError(endpoint_url=f"https://monitoring.{PEER_REGION}.amazonaws.com/")
THROTTLED = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeAlarms")

# --- Delete ------------------------------------------------------------------------


def test_given_a_delete_then_success_at_once_without_any_call(g, cfn_responses) -> None:
    event = cfn_event("Delete", PROPS, physical_id="gate-1")
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and g.clock.sleeps == []


# --- Create: no bake, the alarms must exist ------------------------------------------


@pytest.mark.parametrize("bake", ["10", "auto"])
@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA", "ALARM"])
def test_given_a_create_then_no_bake_and_alarm_states_are_ignored(g, cfn_responses, state, bake) -> None:
    """GIVEN a new environment (no traffic, no data; an alarm that treats missing data as breaching is in ALARM)
    WHEN the gate is created THEN it looks once, only to see the alarms exist, and succeeds without waiting,
    without reading the stack status or the other region."""
    names = [ALARM_NAME, "rds-connections-test"]
    g.alarms(composite(ALARM_NAME, state), metric("rds-connections-test", state, "no data: treated as breaching"), names=names)
    g.deps.cloudformation = NoCalls()
    peer_regions: list[str] = []
    g.deps.cloudwatch_in = lambda region: peer_regions.append(region) or NoCalls()
    props = dict(AUTO_PROPS, BakeMinutes=bake, AlarmNames=names, **PEER_PROPS)
    event = cfn_event("Create", props)

    body = gate.handler(event, g.context())

    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "without a bake" in body["Reason"] and "all 2 alarms exist in us-east-1" in body["Reason"]
    assert body["Data"]["BakeSeconds"] == "0" and body["Data"]["Polls"] == "1"
    assert g.clock.sleeps == []
    assert g.deps.cloudformation.calls == [] and peer_regions == []


def test_given_a_create_and_a_named_alarm_does_not_exist_then_failed_names_only_the_missing_ones(g, cfn_responses) -> None:
    names = [ALARM_NAME, "lambda-errors-test", "rds-connections-test"]
    g.alarms(composite(ALARM_NAME, "OK"), names=names)
    event = cfn_event("Create", dict(PROPS, AlarmNames=names))
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("deployment gate failed: alarms not found: lambda-errors-test, rds-connections-test")
    assert ALARM_NAME not in body["Reason"]


@pytest.mark.parametrize(
    ("cloudwatch", "error"),
    [
        pytest.param(lambda: Scripted(THROTTLED), "ClientError", id="ClientError"),
        pytest.param(lambda: Scripted(ENDPOINT_DOWN), "EndpointConnectionError", id="endpoint down"),
        pytest.param(lambda: Scripted({"MetricAlarms": [{"AlarmName": ALARM_NAME}]}), "MalformedAnswer", id="no StateValue"),
        pytest.param(lambda: Explodes(RuntimeError("cloudwatch exploded")), "RuntimeError", id="a bug"),
    ],
)
def test_given_a_create_and_the_alarms_cannot_be_read_then_success_saying_the_check_could_not_run(
    stub, cfn_responses, cloudwatch, error
) -> None:
    g = GateEnv(stub, cloudwatch=cloudwatch())
    event = cfn_event("Create", PROPS)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS"
    assert f"the alarm check could not run: {error}" in body["Reason"]
    assert len(cfn_responses.bodies) == 1 and g.clock.sleeps == []


def test_given_a_create_with_invalid_properties_then_failed_names_the_property(g, cfn_responses) -> None:
    body = gate.handler(cfn_event("Create", dict(PROPS, BakeMinutes="2.5")), g.context())
    assert body["Status"] == "FAILED" and "BakeMinutes" in body["Reason"]


# --- Update: rollbacks ----------------------------------------------------------------


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


# --- Update: the bake ------------------------------------------------------------------


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_given_healthy_alarms_for_the_whole_bake_then_success(g, cfn_responses, state) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):  # t = 0, 30, 60
        g.alarms(composite(ALARM_NAME, state))
    event = cfn_event("Update", PROPS)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"] == "no alarm in ALARM in us-east-1 during a 60 s bake (BakeMinutes 1; 3 polls)"
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


@pytest.mark.parametrize("bake", [0, "0"])
def test_given_no_bake_then_exactly_one_poll(g, cfn_responses, bake) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=bake)), g.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["Polls"] == "1" and g.clock.sleeps == []
    assert "during a 0 s bake (BakeMinutes 0; 1 poll)" in body["Reason"]


def test_given_little_time_left_then_the_bake_is_capped_and_the_answer_comes_in_time(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(6):  # 140 s of bake at 30 s intervals: t = 0, 30, 60, 90, 120, 140
        g.alarms(composite(ALARM_NAME, "OK"))
    context = g.context(200)
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=10)), context)
    assert body["Status"] == "SUCCESS"
    assert body["Data"]["BakeSeconds"] == "140"
    assert "(BakeMinutes 10, capped at 140 s by the function's remaining time; 6 polls)" in body["Reason"]
    assert context.get_remaining_time_in_millis() / 1000 >= deploy_gate.BAKE_SAFETY_MARGIN_SECONDS


def test_a_last_poll_of_both_regions_that_hangs_still_ends_before_the_timer() -> None:
    """The bake stops BAKE_SAFETY_MARGIN_SECONDS before the end; its last poll
    is at worst one DescribeAlarms per region (up to 100 alarms each), each
    hanging until tap.aws's timeouts on every attempt."""
    worst_call = aws.MAX_ATTEMPTS * max(aws.CONNECT_TIMEOUT_SECONDS, aws.READ_TIMEOUT_SECONDS) + (aws.MAX_ATTEMPTS - 1)
    assert 2 * worst_call <= deploy_gate.BAKE_SAFETY_MARGIN_SECONDS - deploy_gate.TIMEOUT_MARGIN_SECONDS


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


# --- Update: BakeMinutes auto ----------------------------------------------------------


@pytest.mark.parametrize(
    ("alarms", "seconds", "how"),
    [
        pytest.param(
            [metric("errors", "OK", period=60, evaluation_periods=3, datapoints=2)],
            180,
            "auto: 2 x 60 s + 60 s metric publishing delay",
            id="single metric: DatapointsToAlarm x Period",
        ),
        pytest.param(
            [metric_math("error-rate", "OK", [60, 300], evaluation_periods=2, datapoints=1)],
            360,
            "auto: 1 x 300 s + 60 s metric publishing delay",
            id="metric math: the slowest metric's period",
        ),
        pytest.param(
            [
                {
                    **composite("insights", "OK"),
                    "EvaluationPeriods": 2,
                    "Metrics": [{"Id": "q", "Expression": 'SELECT SUM(Errors) FROM "AWS/Lambda"', "Period": 120}],
                }
            ],
            300,
            "auto: 2 x 120 s + 60 s metric publishing delay",
            id="Metrics Insights: the query's period",
        ),
        pytest.param(
            [metric("errors", "OK", period=60, evaluation_periods=3, datapoints=None)],
            240,
            "auto: 3 x 60 s + 60 s metric publishing delay",
            id="no DatapointsToAlarm: EvaluationPeriods",
        ),
        pytest.param(
            [
                metric("fast", "OK", period=60, datapoints=2),
                metric("slow", "OK", period=120, datapoints=2),
                metric("mid", "OK", period=60, datapoints=3),
            ],
            300,
            "auto: 2 x 120 s + 60 s metric publishing delay",
            id="several: the longest window",
        ),
        pytest.param(
            [composite("deployment-health", "OK")],
            60,
            "auto: no metric alarm, 60 s metric publishing delay",
            id="composite only: the delay only",
        ),
        pytest.param(
            [composite("deployment-health", "OK"), metric("errors", "OK", period=60, datapoints=1)],
            120,
            "auto: 1 x 60 s + 60 s metric publishing delay",
            id="composites add nothing",
        ),
        pytest.param(
            [metric_math("error-rate", "OK", [300, 60], datapoints=3)],
            600,
            "auto: 3 x 300 s + 60 s metric publishing delay, capped at 600 s",
            id="capped at 10 minutes",
        ),
    ],
)
def test_auto_bake_is_the_longest_alarm_window_plus_the_publishing_delay(alarms, seconds, how) -> None:
    plan = deploy_gate.auto_plan([a for a in alarms if is_metric_alarm(a)], 60, cap=600.0)
    assert plan.seconds == seconds and plan.how == how


def test_given_auto_then_the_bake_comes_from_the_alarms_read_on_the_first_poll(gp, cfn_responses) -> None:
    """GIVEN BakeMinutes auto and a metric alarm that fires after 2 x 60 s
    THEN the gate bakes 2 x 60 s + 60 s = 180 s, polling both regions, and the reason says how it got there."""
    names = [ALARM_NAME, "lambda-errors-test"]
    gp.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(7):  # t = 0, 30, ..., 180
        gp.alarms(composite(ALARM_NAME, "OK"), metric("lambda-errors-test", "OK", period=60, datapoints=2), names=names)
        gp.peer_alarms(composite(PEER_ALARM, "OK", region=PEER_REGION))
    event = cfn_event("Update", dict(AUTO_PROPS, AlarmNames=names, **PEER_PROPS))

    body = gate.handler(event, gp.context())

    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"] == (
        "no alarm in ALARM in us-east-1 or eu-west-1 during a 180 s bake (auto: 2 x 60 s + 60 s metric publishing delay; 7 polls)"
    )
    assert body["Data"]["BakeSeconds"] == "180" and gp.clock.sleeps == [30] * 6


def test_given_auto_and_the_first_poll_fails_then_the_next_good_poll_sets_the_bake_from_its_start(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    g.cw_stub.add_client_error("describe_alarms", "Throttling", http_status_code=400)  # t = 0
    g.alarms(composite(ALARM_NAME, "OK"))  # t = 30: composite only, bake = the 60 s delay
    g.alarms(composite(ALARM_NAME, "OK"))  # t = 60: the end
    body = gate.handler(cfn_event("Update", AUTO_PROPS), g.context())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["BakeSeconds"] == "60" and body["Data"]["Polls"] == "3" and g.clock.sleeps == [30, 30]


def test_given_auto_and_no_poll_succeeds_then_failed_after_polling_for_as_long_as_a_bake_may_last(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(4):  # 150 s left - 60 s margin = 90 s: t = 0, 30, 60, 90
        g.cw_stub.add_client_error("describe_alarms", "InternalServiceError", http_status_code=500)
    body = gate.handler(cfn_event("Update", AUTO_PROPS), g.context(150))
    assert body["Status"] == "FAILED" and "could not read the alarm states in 4 attempt(s)" in body["Reason"]


def test_given_auto_and_the_window_exceeds_the_time_left_then_the_bake_fits_the_function(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(5):  # 180 s left - 60 s margin = 120 s: t = 0, 30, 60, 90, 120
        g.alarms(metric(ALARM_NAME, "OK", period=300, datapoints=1))
    context = g.context(180)
    body = gate.handler(cfn_event("Update", AUTO_PROPS), context)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "(auto: 1 x 300 s + 60 s metric publishing delay, capped at 120 s by the function's remaining time; 5 polls)" in body["Reason"]
    assert context.get_remaining_time_in_millis() / 1000 >= deploy_gate.BAKE_SAFETY_MARGIN_SECONDS


def test_given_a_numeric_bake_then_it_overrides_the_alarm_windows(g, cfn_responses) -> None:
    """GIVEN BakeMinutes 1 and an alarm that would need 3 x 300 s THEN the bake is 60 s."""
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):
        g.alarms(metric(ALARM_NAME, "OK", period=300, datapoints=3))
    body = gate.handler(cfn_event("Update", dict(AUTO_PROPS, BakeMinutes="1")), g.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["BakeSeconds"] == "60"
    assert "(BakeMinutes 1; 3 polls)" in body["Reason"]


# --- Update: the other region -------------------------------------------------------------


def test_given_the_other_regions_alarm_goes_to_alarm_then_failed_naming_the_region_and_why(gp, cfn_responses) -> None:
    gp.stack_status("UPDATE_IN_PROGRESS")
    gp.alarms(composite(ALARM_NAME, "OK"))
    gp.peer_alarms(composite(PEER_ALARM, "OK", region=PEER_REGION))
    gp.alarms(composite(ALARM_NAME, "OK"))
    gp.peer_alarms(composite(PEER_ALARM, "ALARM", "Alarm rule ALARM(lambda-errors-test) evaluated to ALARM", region=PEER_REGION))
    event = cfn_event("Update", dict(PROPS, BakeMinutes="5", **PEER_PROPS))

    body = gate.handler(event, gp.context())

    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert f"alarms in ALARM in {PEER_REGION}: {PEER_ALARM} (Alarm rule ALARM(lambda-errors-test) evaluated to ALARM)" in body["Reason"]
    assert deploy_gate.PEER_FAILURE_WHY in body["Reason"]
    assert gp.clock.sleeps == [30]


@pytest.mark.parametrize(
    ("peer", "error"),
    [
        pytest.param(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeAlarms"), "ClientError", id="ClientError"),
        pytest.param(ENDPOINT_DOWN, "EndpointConnectionError: Could not connect", id="region down"),
        pytest.param(describe_alarms_answer(), f"not found there: {PEER_ALARM}", id="alarm not found there"),
        pytest.param({"CompositeAlarms": [{"StateValue": "ALARM"}]}, "MalformedAnswer", id="malformed answer"),
        pytest.param(RuntimeError("peer exploded"), "RuntimeError: peer exploded", id="a bug"),
    ],
)
def test_given_the_other_region_is_unreadable_then_the_gate_decides_on_its_own_alarms_and_says_so(g, cfn_responses, peer, error) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):
        g.alarms(composite(ALARM_NAME, "OK"))
    regions: list[str] = []
    client = Scripted(peer)
    g.deps.cloudwatch_in = lambda region: regions.append(region) or client
    event = cfn_event("Update", dict(PROPS, **PEER_PROPS))

    body = gate.handler(event, g.context())

    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Reason"].startswith("no alarm in ALARM in us-east-1 during a 60 s bake")
    assert f"decided on us-east-1 alarms only: {PEER_REGION} alarms unreadable ({error}" in body["Reason"]
    assert regions == [PEER_REGION] * 3  # tried again on every poll


def test_given_the_other_region_becomes_readable_and_is_in_alarm_then_failed(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):
        g.alarms(composite(ALARM_NAME, "OK"))
    g.deps.cloudwatch_in = lambda region: peer
    peer = Scripted(
        ENDPOINT_DOWN, describe_alarms_answer(), describe_alarms_answer(composite(PEER_ALARM, "ALARM", "boom", region=PEER_REGION))
    )
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes="5", **PEER_PROPS)), g.context())
    assert body["Status"] == "FAILED" and f"in {PEER_REGION}: {PEER_ALARM} (boom)" in body["Reason"]
    assert g.clock.sleeps == [30, 30]


def test_given_the_other_region_is_unreadable_on_some_polls_then_the_reason_counts_them(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    for _ in range(3):
        g.alarms(composite(ALARM_NAME, "OK"))
    peer = Scripted(describe_alarms_answer(composite(PEER_ALARM, "OK")), ENDPOINT_DOWN, describe_alarms_answer(composite(PEER_ALARM, "OK")))
    g.deps.cloudwatch_in = lambda region: peer
    body = gate.handler(cfn_event("Update", dict(PROPS, **PEER_PROPS)), g.context())
    assert body["Status"] == "SUCCESS"
    assert body["Reason"].startswith("no alarm in ALARM in us-east-1 or eu-west-1 during a 60 s bake")
    assert f"{PEER_REGION} alarms unreadable on 1 of 3 polls (EndpointConnectionError" in body["Reason"]


def test_given_no_other_region_then_it_is_never_read(g, cfn_responses) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    g.alarms(composite(ALARM_NAME, "OK"))
    g.deps.cloudwatch_in = lambda region: pytest.fail(f"read {region}")
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes="0", PeerRegion="", PeerAlarmNames=[])), g.context())
    assert body["Status"] == "SUCCESS" and body["Reason"].startswith("no alarm in ALARM in us-east-1 during")


def test_the_other_regions_client_is_built_once_for_that_region_with_short_timeouts() -> None:
    deps = deploy_gate.Dependencies(cloudformation=None, cloudwatch=None)
    client = deps.cloudwatch_in(PEER_REGION)
    assert deps.cloudwatch_in(PEER_REGION) is client and client is aws.client("cloudwatch", PEER_REGION)
    assert client.meta.region_name == PEER_REGION
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 3)
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}


# --- Update: the stack status cannot be read (possibly a rollback): never FAILED ------------


def test_given_the_stack_status_is_unreadable_then_the_gate_bakes_but_cannot_fail(g, cfn_responses) -> None:
    g.status_unreadable()
    g.alarms(composite(ALARM_NAME, "ALARM", "boom"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=0)), g.context())
    assert body["Status"] == "SUCCESS"
    assert "unverified" in body["Reason"] and ALARM_NAME in body["Reason"]


def test_given_the_stack_status_is_unreadable_and_alarms_stay_ok_then_the_reason_still_says_unverified(g, cfn_responses) -> None:
    g.status_unreadable()
    g.alarms(composite(ALARM_NAME, "OK"))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=0)), g.context())
    assert body["Status"] == "SUCCESS"
    assert body["Reason"].startswith("gate unverified") and "no alarm in ALARM" in body["Reason"]


def test_given_the_stack_status_is_unreadable_and_props_invalid_then_still_no_failure(g, cfn_responses) -> None:
    for _ in range(deploy_gate.STATUS_ATTEMPTS):
        g.cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)
    body = gate.handler(cfn_event("Update", {"AlarmNames": []}), g.context())
    assert body["Status"] == "SUCCESS" and "unverified" in body["Reason"] and "AlarmNames" in body["Reason"]


def test_given_the_stack_status_is_unreadable_and_the_other_region_in_alarm_then_still_no_failure(gp, cfn_responses) -> None:
    gp.status_unreadable()
    gp.alarms(composite(ALARM_NAME, "OK"))
    gp.peer_alarms(composite(PEER_ALARM, "ALARM", "boom", region=PEER_REGION))
    body = gate.handler(cfn_event("Update", dict(PROPS, BakeMinutes=0, **PEER_PROPS)), gp.context())
    assert body["Status"] == "SUCCESS"
    assert body["Reason"].startswith("gate unverified") and f"in {PEER_REGION}: {PEER_ALARM} (boom)" in body["Reason"]


def _bad_sleep(seconds):
    raise RuntimeError("sleep exploded")


def _no_client(region):
    raise RuntimeError(f"no client for {region}")


HEALTHY = describe_alarms_answer(composite(ALARM_NAME, "OK"))


@pytest.mark.parametrize(
    ("cloudwatch", "sleep", "peer"),
    [
        pytest.param(lambda: Scripted({"MetricAlarms": [{"AlarmName": ALARM_NAME}]}), None, None, id="DescribeAlarms without StateValue"),
        pytest.param(lambda: Scripted({"CompositeAlarms": [{"StateValue": "ALARM"}]}), None, None, id="without AlarmName"),
        pytest.param(lambda: Scripted({"CompositeAlarms": ["not an alarm"]}), None, None, id="alarm not a dict"),
        pytest.param(lambda: Scripted(None), None, None, id="no answer"),
        pytest.param(lambda: Explodes(KeyError("StateValue")), None, None, id="KeyError"),
        pytest.param(lambda: Explodes(RuntimeError("cloudwatch exploded")), None, None, id="RuntimeError"),
        pytest.param(lambda: Scripted(HEALTHY), _bad_sleep, None, id="sleep raises"),
        pytest.param(lambda: Scripted(HEALTHY), None, _no_client, id="the other region's client cannot be built"),
    ],
)
@pytest.mark.parametrize("bake", ["1", "auto"])
def test_given_the_stack_status_is_unreadable_then_any_exception_still_answers_success(
    stub, cfn_responses, cloudwatch, sleep, peer, bake
) -> None:
    """Today's worst case: a DescribeAlarms answer without StateValue raised
    KeyError and made the gate FAIL, which during a rollback means
    UPDATE_ROLLBACK_FAILED."""
    g = GateEnv(stub, cloudwatch=cloudwatch())
    g.deps.cloudformation = Explodes(RuntimeError("cloudformation exploded"))  # status unknown, at once
    if sleep:
        g.deps.sleep = sleep
    if peer:
        g.deps.cloudwatch_in = peer
    props = dict(AUTO_PROPS, BakeMinutes=bake, **(PEER_PROPS if peer else {}))
    event = cfn_event("Update", props)

    body = gate.handler(event, g.context())

    (delivered,) = cfn_responses.bodies
    assert delivered == body
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and body["Reason"].startswith(deploy_gate.UNVERIFIED), body["Reason"]


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


def test_given_a_transient_describe_stacks_error_then_it_is_retried(g, cfn_responses) -> None:
    g.cfn_stub.add_client_error("describe_stacks", "Throttling", http_status_code=400)
    g.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    body = gate.handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "SUCCESS" and "UPDATE_ROLLBACK_IN_PROGRESS" in body["Reason"]


# --- Update: malformed DescribeAlarms answers are unreadable polls, not crashes ----------------

GOOD = describe_alarms_answer(composite(ALARM_NAME, "OK"))
MALFORMED = {
    "no StateValue": {"MetricAlarms": [{"AlarmName": ALARM_NAME, "EvaluationPeriods": 1, "Period": 60}]},
    "no AlarmName": {"CompositeAlarms": [{"StateValue": "OK"}]},
    "alarm not a dict": {"CompositeAlarms": [ALARM_NAME]},
    "alarms not a list": {"CompositeAlarms": {"AlarmName": ALARM_NAME}},
    "answer not a dict": ["CompositeAlarms"],
    "Period not a number (auto)": {"MetricAlarms": [{**metric(ALARM_NAME, "OK"), "Period": "60"}]},
    "no period at all (auto)": {"MetricAlarms": [{**metric(ALARM_NAME, "OK"), "Period": None}]},
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_given_a_malformed_answer_then_that_poll_is_unreadable_and_the_good_polls_decide(stub, cfn_responses, answer) -> None:
    g = GateEnv(stub, cloudwatch=Scripted(answer, GOOD, GOOD))
    g.stack_status("UPDATE_IN_PROGRESS")
    body = gate.handler(cfn_event("Update", dict(AUTO_PROPS)), g.context())  # composite only: a 60 s bake
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"]["Polls"] == "3"


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_given_only_malformed_answers_then_failed_says_they_could_not_be_read(stub, cfn_responses, answer) -> None:
    g = GateEnv(stub, cloudwatch=Scripted(answer, answer, answer, answer))
    g.stack_status("UPDATE_IN_PROGRESS")
    event = cfn_event("Update", dict(AUTO_PROPS))
    body = gate.handler(event, g.context(150))  # 90 s at most: t = 0, 30, 60, 90
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "could not read the alarm states in 4 attempt(s): MalformedAnswer" in body["Reason"]


# --- properties -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [], "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [" "], "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": {"a": 1}, "BakeMinutes": "1"}, "AlarmNames"),
        ({"AlarmNames": [ALARM_NAME]}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "11"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "-1"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "2.5"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "0.0"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "05"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "Auto"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "soon"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "NaN"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "Infinity"}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": True}, "BakeMinutes"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "auto"}, "MetricPublishDelaySeconds"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "auto", "MetricPublishDelaySeconds": "601"}, "MetricPublishDelaySeconds"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "auto", "MetricPublishDelaySeconds": "-1"}, "MetricPublishDelaySeconds"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "auto", "MetricPublishDelaySeconds": "60.5"}, "MetricPublishDelaySeconds"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "PeerRegion": "Europe"}, "PeerRegion"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "PeerRegion": PEER_REGION}, "PeerAlarmNames"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "PeerAlarmNames": [PEER_ALARM]}, "PeerRegion"),
        ({"AlarmNames": [ALARM_NAME], "BakeMinutes": "1", "PeerRegion": PEER_REGION, "PeerAlarmNames": {"a": 1}}, "PeerAlarmNames"),
    ],
)
def test_given_invalid_properties_on_a_deployment_then_failed_names_the_property(g, cfn_responses, props, message) -> None:
    g.stack_status("UPDATE_IN_PROGRESS")
    event = cfn_event("Update", props)
    body = gate.handler(event, g.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and message in body["Reason"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"AlarmNames": ["a", "b", "a"], "BakeMinutes": 2}, {"alarm_names": ("a", "b"), "bake_minutes": 2}),
        ({"AlarmNames": "a, b", "BakeMinutes": "10"}, {"alarm_names": ("a", "b"), "bake_minutes": 10}),
        ({"AlarmNames": ["a"], "BakeMinutes": "0"}, {"bake_minutes": 0}),
        (
            {"AlarmNames": ["a"], "BakeMinutes": "auto", "MetricPublishDelaySeconds": "60"},
            {"bake_minutes": None, "publish_delay_seconds": 60},
        ),
        ({"AlarmNames": ["a"], "BakeMinutes": "auto", "MetricPublishDelaySeconds": "0"}, {"publish_delay_seconds": 0}),
        (
            {"AlarmNames": ["a"], "BakeMinutes": "3", "MetricPublishDelaySeconds": "not used"},
            {"bake_minutes": 3, "publish_delay_seconds": 0},
        ),
        (
            {"AlarmNames": ["a"], "BakeMinutes": "3", "PeerRegion": " eu-west-1 ", "PeerAlarmNames": ["p"]},
            {"peer_region": "eu-west-1", "peer_alarm_names": ("p",)},
        ),
        ({"AlarmNames": ["a"], "BakeMinutes": "3", "PeerRegion": "", "PeerAlarmNames": []}, {"peer_region": "", "peer_alarm_names": ()}),
        ({"AlarmNames": ["a"], "BakeMinutes": "3", "DeploymentStamp": "x", "DnsHealthCheckId": "y"}, {"alarm_names": ("a",)}),
    ],
)
def test_property_parsing(raw, expected) -> None:
    parsed = deploy_gate.GateProperties.parse(raw)
    assert {key: getattr(parsed, key) for key in expected} == expected


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


# --- always one answer ------------------------------------------------------------------


@pytest.mark.parametrize("step", ["describe_alarms", "sleep"])
def test_given_an_unexpected_error_in_any_step_then_failed_is_still_answered(stub, cfn_responses, step) -> None:
    g = GateEnv(stub, cloudwatch=Explodes(RuntimeError("cloudwatch exploded")) if step == "describe_alarms" else None)
    g.stack_status("UPDATE_IN_PROGRESS")
    if step == "sleep":
        g.alarms(composite(ALARM_NAME, "OK"))
        g.deps.sleep = _bad_sleep
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


# --- the timer's answer: FAILED only while baking a deployment ---------------------------------


class HangsUntil:
    """A client whose calls wait for ``release``, then answer ``answer``."""

    def __init__(self, release: threading.Event, answer: dict) -> None:
        self.release = release
        self.answer = answer

    def __getattr__(self, name):
        def call(**kwargs):
            self.release.wait(10)
            return self.answer

        return call


STATUS_ANSWER = {"Stacks": [{"StackName": "tap-compute-test", "StackStatus": "UPDATE_IN_PROGRESS"}]}
OK_ALARMS = {"CompositeAlarms": [composite(ALARM_NAME, "OK")]}


@pytest.mark.parametrize(
    ("mode", "status", "reason"),
    [
        pytest.param(
            "deployment",
            "FAILED",
            "deployment gate failed: the function was about to time out before the bake finished",
            id="normal update bake: FAILED",
        ),
        pytest.param(
            "unverified",
            "SUCCESS",
            "gate unverified (stack status unknown): the function was about to time out before the bake finished; not failing",
            id="rollback-mode (status unreadable) bake: SUCCESS",
        ),
        pytest.param(
            "status hangs",
            "SUCCESS",
            "gate unverified (stack status unknown): the function was about to time out before reading the stack status",
            id="status read hangs: SUCCESS",
        ),
    ],
)
def test_given_the_timer_fires_before_the_gate_answers_then_it_fails_only_a_deployment_never_a_possible_rollback(
    stub, cfn_responses, mode, status, reason
) -> None:
    """GIVEN an Update whose next AWS call hangs past the timer's margin
    WHEN the timer answers THEN FAILED only when the gate knew it was baking a
    deployment; while the stack may be rolling back, SUCCESS saying why."""
    release = threading.Event()
    if mode == "status hangs":
        g = GateEnv(stub, cloudwatch=NoCalls())
        g.deps.cloudformation = HangsUntil(release, STATUS_ANSWER)
    else:
        g = GateEnv(stub, cloudwatch=HangsUntil(release, OK_ALARMS))
        if mode == "deployment":
            g.stack_status("UPDATE_IN_PROGRESS")
        else:
            g.status_unreadable()
    g.deps.monotonic = __import__("time").monotonic  # real clock: the timer is a real thread
    event = cfn_event("Update", PROPS)
    body = answer_of_the_timer(gate.handler, event, deploy_gate.TIMEOUT_MARGIN_SECONDS, release, cfn_responses)
    assert body["Status"] == status
    assert body["Reason"].startswith(reason) and "log stream" in body["Reason"], body["Reason"]


def test_given_a_rollback_then_the_gate_tells_the_timer_to_answer_success(g, cfn_responses) -> None:
    """GIVEN a rollback WHEN the gate has decided THEN the timer's answer, had it fired, is SUCCESS too."""
    g.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    answers: list[cfn.TimeoutAnswer] = []

    def on_update(event, context, deps):
        outcome = deploy_gate.on_update(event, context, deps)
        answers.append(cfn.current_invocation().timeout_answer)
        return outcome

    handler = cfn.CustomResourceHandler(dataclasses.replace(deploy_gate.RESOURCE, on_create_or_update=on_update))
    handler.set_dependencies(g.deps)
    body = handler(cfn_event("Update", PROPS), g.context())
    assert body["Status"] == "SUCCESS"
    assert answers == [cfn.TimeoutAnswer("SUCCESS", "stack is in UPDATE_ROLLBACK_IN_PROGRESS; gate skipped")]
