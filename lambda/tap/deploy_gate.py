"""The deployment gate custom resource (Custom::DeploymentGate).

Create: no bake. A new environment has no traffic and no alarm data, and a
failed create deletes the stack anyway, so waiting would prove nothing. The
gate reads its alarms once, only to confirm they exist (FAILED names the
missing ones); their states are ignored (an alarm that treats missing data
as breaching, like the Aurora connections alarm, is in ALARM before the
cluster reports). If DescribeAlarms cannot be read at all, SUCCESS with a
reason that says the check could not run. The other region is not read (it
may not exist yet). CloudFormation never sends Create during a rollback (a
rollback deletes what the update created and sends Update to the rest), so
the stack status is not read either.

Update: bake, i.e. watch the named CloudWatch alarms (composite and metric)
and answer FAILED, naming every alarm in ALARM with its reason, as soon as
one is seen; SUCCESS when the bake ends clean. INSUFFICIENT_DATA counts as
healthy (a quiet environment has no data). BakeMinutes "auto" bakes as long
as the slowest gated metric alarm needs to go to ALARM, plus the time
CloudWatch needs to receive the datapoints (see ``auto_plan``).

On every poll of an Update the gate also reads the other region's
deployment-health alarm (PeerRegion/PeerAlarmNames). If it is in ALARM the
gate fails too, so that both regions roll back to the same release. If it
cannot be read (in a DR event that region may be down), the gate decides on
its own region's alarms, says so in its reason, and tries again next poll.

Watching the other region's alarms is not enough on its own: the two gates
start some seconds apart, so the earlier one would answer SUCCESS (and its
region keep the release) before the later one's window is over. With
PeerStackSetName, when its own bake ends clean the gate reads the other
region's stack instance of the same StackSet and its DeploymentGate
(``await_peer_gate``, decisions in ``decide``). Both gates compare the same two
CloudFormation timestamps (each gate's UPDATE_IN_PROGRESS; ties: the region
codes), so exactly one of them waits:

* the gate that started first waits for the other's answer and follows it:
  SUCCESS when that gate passed, FAILED when that stack rolls back or its gate
  failed. It no longer fails on an alarm itself (its window is over; the other
  gate, still watching both regions, fails on it and this one follows). If the
  other gate has not answered when this gate's time runs out, FAILED: both
  regions then roll back rather than one keeping the release;
* the gate that started second keeps baking, failing on any alarm of either
  region, until the first gate's window is over (its start, plus
  PEER_START_SLACK_SECONDS, plus the bake), then answers; FAILED if it could
  not answer before the first gate gives up waiting.

A stack that has not reached its gate yet is waited for; one that is not part
of this release (its last update started long before this one's) is not.
When the other region's stack can never be read (that region may be down), the
gate decides on its own and says so; a read refused for lack of permission
fails the gate (its role is wrong, not the region down).

During a rollback the gate answers SUCCESS at once: failing there would
leave the stack in UPDATE_ROLLBACK_FAILED. CloudFormation does not flag a
rollback in the event, so the gate reads the status of its own stack
(cloudformation:DescribeStacks on the event's StackId). If that status
cannot be read, for whatever reason (AWS errors after retries, a malformed
answer, a bug), the gate cannot rule out a rollback and therefore never
fails: it still bakes and logs the alarms, and answers SUCCESS with "gate
unverified" in the reason, whatever goes wrong on the way. That holds for the
custom-resource timer too (tap/cfn.py), which answers shortly before the
function times out if the gate has not: the gate tells it to answer SUCCESS
while the status is unknown or a rollback, and FAILED only once it knows it
is baking a deployment.

Delete: SUCCESS at once.

ResourceProperties (CloudFormation sends strings and lists of strings):
  AlarmNames                 own region's alarms, composite first (list, or comma-separated)
  BakeMinutes                "auto" or a whole number "0".."10"
  MetricPublishDelaySeconds  "0".."600"; required when BakeMinutes is auto, ignored otherwise
  PeerRegion                 the other region's code; empty: no peer check
  PeerAlarmNames             alarms read in PeerRegion; given with PeerRegion or not at all
  PeerStackSetName           the StackSet whose stack instance in PeerRegion runs the other gate
                             (optional, with PeerRegion): wait for that gate as described above
  ReleaseInputs, DnsHealthCheckId, ServiceToken     ignored (they only make CloudFormation send an Update, or order the gate)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws, cfn, env, properties
from tap.budget import Budget
from tap.cfn import Outcome
from tap.cfn_response import FAILED, SUCCESS
from tap.errors import UserFacingError
from tap.jsonlog import get_logger
from tap.lambda_context import LambdaContext
from tap.properties import InvalidProperties
from tap.transient import aws_error_code

logger = get_logger("gate")

# Function timeout is 900 s. The timer answers 20 s before the end (FAILED,
# or SUCCESS while a rollback cannot be ruled out: see on_update);
# the bake stops 60 s before the end, leaving time for the last poll (own and
# peer region: two calls of at most ~7 s each with tap.aws's client timeouts)
# and the answer.
TIMEOUT_MARGIN_SECONDS = 20.0
BAKE_SAFETY_MARGIN_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 30.0
MAX_BAKE_MINUTES = 10
MAX_BAKE_SECONDS = MAX_BAKE_MINUTES * 60
MAX_PUBLISH_DELAY_SECONDS = 600
STATUS_ATTEMPTS = 3
DESCRIBE_ALARMS_PAGE = 100  # DescribeAlarms accepts at most 100 names per call

AUTO = "auto"
# The template parameter's AllowedPattern, checked again here: old decimal values are refused.
BAKE_MINUTES_PATTERN = re.compile(r"auto|[0-9]|10")

ALARM = "ALARM"
UNVERIFIED = "gate unverified (stack status unknown)"
# The timer's answer (tap/cfn.py) when it fires before the gate has answered.
TIMED_OUT = "the function was about to time out before"
NOT_FAILING = "not failing (possible rollback)"
PEER_FAILURE_WHY = "the other region's deployment is unhealthy; failing here too so both regions roll back to the same release"
PEER_WAIT_WHY = "failing so that both regions roll back to the same release instead of one keeping it"
# The UUID a StackSet appends to its stack instances' names (find_stack_instance).
STACK_INSTANCE_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
STACKSET_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


class GateFailed(UserFacingError):
    pass


class MalformedAnswer(Exception):
    """DescribeAlarms answered something the gate cannot read; the poll counts as unreadable."""


# Errors that make one poll unreadable; anything else in a normal Update is a bug and fails the gate.
READ_ERRORS = (BotoCoreError, ClientError, MalformedAnswer)


def is_rollback_status(status: str | None) -> bool:
    """UPDATE_ROLLBACK_IN_PROGRESS, ROLLBACK_IN_PROGRESS,
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, IMPORT_ROLLBACK_IN_PROGRESS..."""
    return status is not None and "ROLLBACK" in status and status.endswith("_IN_PROGRESS")


def _alarm_names(props: Mapping[str, Any], key: str, *, required: bool) -> tuple[str, ...]:
    raw = props.get(key)
    if properties.is_unset(raw):
        if required:
            raise InvalidProperties(f"{key} must be a non-empty list of alarm names")
        return ()
    if isinstance(raw, str):
        # Tolerate a comma-separated string (e.g. from a Fn::Join).
        raw = raw.split(",")
    if not isinstance(raw, list):
        raise InvalidProperties(f"{key} must be a list of alarm names, got {type(raw).__name__}")
    names = tuple(dict.fromkeys(str(n).strip() for n in raw if str(n).strip()))
    if not names and required:
        raise InvalidProperties(f"{key} must be a non-empty list of alarm names")
    return names


@dataclass(frozen=True)
class GateProperties:
    alarm_names: tuple[str, ...]
    bake_minutes: int | None  # None: auto
    publish_delay_seconds: int = 0  # used only when bake_minutes is None
    peer_region: str = ""
    peer_alarm_names: tuple[str, ...] = ()
    peer_stackset_name: str = ""

    @classmethod
    def parse(cls, props: Mapping[str, Any] | None) -> GateProperties:
        props = props or {}
        names = _alarm_names(props, "AlarmNames", required=True)
        raw_bake = props.get("BakeMinutes")
        bake_text = properties.scalar(raw_bake)
        if not BAKE_MINUTES_PATTERN.fullmatch(bake_text):
            raise InvalidProperties(
                f'BakeMinutes must be "{AUTO}" or a whole number of minutes from 0 to {MAX_BAKE_MINUTES}, got {raw_bake!r}'
            )
        minutes = None if bake_text == AUTO else int(bake_text)
        delay = 0
        if minutes is None:
            if properties.is_unset(props.get("MetricPublishDelaySeconds")):
                raise InvalidProperties(f'MetricPublishDelaySeconds is required when BakeMinutes is "{AUTO}"')
            delay = properties.whole_number(props, "MetricPublishDelaySeconds", MAX_PUBLISH_DELAY_SECONDS)
        peer_region = properties.region(props, "PeerRegion", required=False)
        peer_names = _alarm_names(props, "PeerAlarmNames", required=False)
        if bool(peer_region) != bool(peer_names):
            raise InvalidProperties(
                "PeerRegion and PeerAlarmNames go together: give both to check the other region, or neither"
                f" (PeerRegion {peer_region!r}, PeerAlarmNames {list(peer_names)!r})"
            )
        raw_stackset = props.get("PeerStackSetName")
        stackset = "" if properties.is_unset(raw_stackset) else properties.scalar(raw_stackset).strip()
        if stackset and not STACKSET_NAME_PATTERN.fullmatch(stackset):
            raise InvalidProperties(
                f"PeerStackSetName must be a StackSet name (a letter, then letters, digits and hyphens), got {raw_stackset!r}"
            )
        if stackset and not peer_region:
            raise InvalidProperties(f"PeerStackSetName {stackset!r} needs PeerRegion: the region whose stack instance runs the other gate")
        return cls(
            alarm_names=names,
            bake_minutes=minutes,
            publish_delay_seconds=delay,
            peer_region=peer_region,
            peer_alarm_names=peer_names,
            peer_stackset_name=stackset,
        )


def _cloudwatch_in(region: str) -> aws.Client:
    return aws.client("cloudwatch", region)


def _cloudformation_in(region: str) -> aws.Client:
    return aws.client("cloudformation", region)


@dataclass
class Dependencies:
    cloudformation: aws.Client
    cloudwatch: aws.Client
    # The client for another region; tap.aws builds one per region, once per container.
    cloudwatch_in: Callable[[str], aws.Client] = _cloudwatch_in
    cloudformation_in: Callable[[str], aws.Client] = _cloudformation_in
    region: str = field(default_factory=lambda: env.get(env.AWS_REGION))
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    # Wall-clock time, compared with CloudFormation's timestamps.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    poll_interval: float = POLL_INTERVAL_SECONDS

    @classmethod
    def default(cls) -> Dependencies:
        return cls(cloudformation=aws.client("cloudformation"), cloudwatch=aws.client("cloudwatch"))


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _log_read_error(message: str, e: BaseException, **extra: Any) -> None:
    """AWS errors and malformed answers are expected (a warning); anything else gets its traceback."""
    if isinstance(e, READ_ERRORS):
        logger.warning(message, extra={**extra, "error": _describe(e)})
    else:
        logger.exception(message, extra=extra)


def stack_status(stack_id: str, deps: Dependencies) -> str | None:
    """The stack's status, or None when it cannot be read, whatever the reason."""
    delay = 1.0
    for attempt in range(1, STATUS_ATTEMPTS + 1):
        try:
            stacks = deps.cloudformation.describe_stacks(StackName=stack_id).get("Stacks") or []
            return str(stacks[0]["StackStatus"]) if stacks else None
        except (BotoCoreError, ClientError) as e:
            logger.warning(
                "could not read the stack status",
                extra={"attempt": attempt, "error": f"{type(e).__name__}: {e}"},
            )
            if attempt < STATUS_ATTEMPTS:
                deps.sleep(delay)
                delay *= 2
        except Exception:
            # Anything else (a malformed answer, a bug) leaves the status just
            # as unknown. Raising would answer FAILED, and during a rollback
            # that ends in UPDATE_ROLLBACK_FAILED; a retry would not help.
            logger.exception("could not read the stack status", extra={"attempt": attempt})
            return None
    return None


@dataclass(frozen=True)
class AlarmSnapshot:
    in_alarm: tuple[tuple[str, str], ...]  # (name, state reason)
    missing: tuple[str, ...]
    states: Mapping[str, str]
    metric_alarms: tuple[Mapping[str, Any], ...] = ()


def _alarm_list(page: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    alarms = page.get(key) or []
    if not isinstance(alarms, list):
        raise MalformedAnswer(f"DescribeAlarms {key} is a {type(alarms).__name__}, not a list")
    for alarm in alarms:
        if not (isinstance(alarm, dict) and isinstance(alarm.get("AlarmName"), str) and isinstance(alarm.get("StateValue"), str)):
            raise MalformedAnswer(f"DescribeAlarms returned an alarm without a name or state: {str(alarm)[:200]}")
    return alarms


def read_alarms(names: Sequence[str], cloudwatch: aws.Client) -> AlarmSnapshot:
    """One look at the named alarms. Raises MalformedAnswer on an answer it cannot read."""
    states: dict[str, str] = {}
    reasons: dict[str, str] = {}
    metric_alarms: list[Mapping[str, Any]] = []
    for start in range(0, len(names), DESCRIBE_ALARMS_PAGE):
        chunk = list(names[start : start + DESCRIBE_ALARMS_PAGE])
        kwargs: dict[str, Any] = {"AlarmNames": chunk, "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
        while True:
            page = cloudwatch.describe_alarms(**kwargs)
            if not isinstance(page, dict):
                raise MalformedAnswer(f"DescribeAlarms answered a {type(page).__name__}, not an object")
            composites = _alarm_list(page, "CompositeAlarms")
            metrics = _alarm_list(page, "MetricAlarms")
            metric_alarms.extend(metrics)
            for alarm in [*composites, *metrics]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
                reasons[alarm["AlarmName"]] = str(alarm.get("StateReason", ""))
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    in_alarm = tuple((n, reasons[n]) for n in names if states.get(n) == ALARM)
    missing = tuple(n for n in names if n not in states)
    return AlarmSnapshot(in_alarm=in_alarm, missing=missing, states=states, metric_alarms=tuple(metric_alarms))


def _failure_message(snapshot: AlarmSnapshot) -> str:
    parts = []
    if snapshot.in_alarm:
        parts.append("alarms in ALARM: " + "; ".join(f"{name} ({reason})" for name, reason in snapshot.in_alarm))
    if snapshot.missing:
        parts.append("alarms not found: " + ", ".join(snapshot.missing))
    return "deployment gate failed: " + " | ".join(parts)


def _peer_failure_message(region: str, snapshot: AlarmSnapshot) -> str:
    alarms = "; ".join(f"{name} ({reason})" for name, reason in snapshot.in_alarm)
    return f"deployment gate failed: alarms in ALARM in {region}: {alarms} | {PEER_FAILURE_WHY}"


# --- how long to bake ----------------------------------------------------------


def _whole(alarm: Mapping[str, Any], key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedAnswer(f"alarm {alarm.get('AlarmName')!r} has {key} {value!r}, not a whole number")
    return value


def evaluation_window(alarm: Mapping[str, Any]) -> tuple[int, int]:
    """(datapoints, period in seconds): a metric alarm goes to ALARM once
    DatapointsToAlarm datapoints (EvaluationPeriods when it is not set)
    breach, so a fault takes at most datapoints x period to show.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html

    Metric-math alarms have no Period of their own: the slowest metric in
    the expression sets the pace (MetricStat.Period, or the query's Period
    for a Metrics Insights query)."""
    raw_datapoints = alarm.get("DatapointsToAlarm")
    key = "DatapointsToAlarm"
    if raw_datapoints is None:
        raw_datapoints, key = alarm.get("EvaluationPeriods"), "EvaluationPeriods"
    datapoints = _whole(alarm, key, raw_datapoints)
    if alarm.get("Period") is not None:
        return datapoints, _whole(alarm, "Period", alarm["Period"])
    metrics = alarm.get("Metrics")
    periods: list[int] = []
    for query in metrics if isinstance(metrics, list) else []:
        if not isinstance(query, dict):
            continue
        stat = query.get("MetricStat")
        if isinstance(stat, dict) and stat.get("Period") is not None:
            periods.append(_whole(alarm, "Metrics[].MetricStat.Period", stat["Period"]))
        if query.get("Period") is not None:
            periods.append(_whole(alarm, "Metrics[].Period", query["Period"]))
    if not periods:
        raise MalformedAnswer(f"alarm {alarm.get('AlarmName')!r} has neither a Period nor a metric with one")
    return datapoints, max(periods)


@dataclass(frozen=True)
class BakePlan:
    seconds: float
    how: str  # for the reason: "BakeMinutes 3" or "auto: 2 x 60 s + 60 s metric publishing delay"


def _capped(requested: float, cap: float, how: str) -> BakePlan:
    if requested <= cap:
        return BakePlan(requested, how)
    by = "" if cap >= MAX_BAKE_SECONDS else " by the function's remaining time"
    logger.warning(
        "bake period shortened",
        extra={"requested_s": requested, "granted_s": cap, "why": f"capped at {MAX_BAKE_SECONDS} s{by}"},
    )
    return BakePlan(cap, f"{how}, capped at {int(cap)} s{by}")


def fixed_plan(minutes: int, cap: float) -> BakePlan:
    return _capped(minutes * 60.0, cap, f"BakeMinutes {minutes}")


def auto_plan(metric_alarms: Sequence[Mapping[str, Any]], publish_delay_seconds: int, cap: float) -> BakePlan:
    """The longest evaluation window among the gated metric alarms, plus the
    time a datapoint takes to reach CloudWatch. Composite alarms add nothing:
    their members are gated too."""
    slowest: tuple[int, int, str] | None = None
    for alarm in metric_alarms:
        datapoints, period = evaluation_window(alarm)
        if slowest is None or datapoints * period > slowest[0] * slowest[1]:
            slowest = (datapoints, period, str(alarm["AlarmName"]))
    delay = f"{publish_delay_seconds} s metric publishing delay"
    if slowest is None:
        return _capped(float(publish_delay_seconds), cap, f"auto: no metric alarm, {delay}")
    datapoints, period, name = slowest
    logger.info("bake derived from the alarm windows", extra={"alarm": name, "datapoints": datapoints, "period_s": period})
    return _capped(float(datapoints * period + publish_delay_seconds), cap, f"auto: {datapoints} x {period} s + {delay}")


# --- the bake --------------------------------------------------------------------


def _polls(n: int) -> str:
    return f"{n} poll" if n == 1 else f"{n} polls"


@dataclass
class _PeerTally:
    reads: int = 0
    failures: int = 0
    last_error: str = ""


def _read_peer(props: GateProperties, deps: Dependencies, tally: _PeerTally, poll: int) -> AlarmSnapshot | None:
    """The other region's alarms, or None when they cannot be read (any
    error, or an alarm not found there): that region may be down."""
    try:
        snapshot = read_alarms(props.peer_alarm_names, deps.cloudwatch_in(props.peer_region))
    except Exception as e:
        tally.failures += 1
        tally.last_error = _describe(e)
        _log_read_error("could not read the other region's alarms", e, poll=poll, region=props.peer_region)
        return None
    logger.info("other region's alarm states", extra={"poll": poll, "region": props.peer_region, "states": dict(snapshot.states)})
    if snapshot.missing and not snapshot.in_alarm:
        tally.failures += 1
        tally.last_error = "not found there: " + ", ".join(snapshot.missing)
        logger.warning(
            "other region's alarms not found",
            extra={"poll": poll, "region": props.peer_region, "missing": list(snapshot.missing)},
        )
        return None
    tally.reads += 1
    return snapshot


@dataclass
class _Bake:
    """What the polls found so far."""

    plan: BakePlan | None
    polls: int = 0
    good_polls: int = 0
    unhealthy: dict[str, str] = field(default_factory=dict)  # "own"/"peer" -> last unhealthy finding (when not failing)
    last_error: BaseException | None = None
    peer: _PeerTally = field(default_factory=_PeerTally)


def _poll(props: GateProperties, deps: Dependencies, state: _Bake, cap: float, *, fail_on_alarm: bool) -> None:
    """One look at this region's alarms and the other region's; raises GateFailed on an alarm when it may fail."""
    state.polls += 1
    snapshot: AlarmSnapshot | None = None
    try:
        snapshot = read_alarms(props.alarm_names, deps.cloudwatch)
        if state.plan is None:
            state.plan = auto_plan(snapshot.metric_alarms, props.publish_delay_seconds, cap)
    except Exception as e:
        if fail_on_alarm and not isinstance(e, READ_ERRORS):
            raise
        snapshot, state.last_error = None, e
        _log_read_error("could not read alarm states", e, poll=state.polls)
    if snapshot is not None:
        state.good_polls += 1
        logger.info("alarm states", extra={"poll": state.polls, "states": dict(snapshot.states)})
        if snapshot.in_alarm or snapshot.missing:
            state.unhealthy["own"] = _failure_message(snapshot)
            if fail_on_alarm:
                raise GateFailed(state.unhealthy["own"])
            logger.error("alarms unhealthy; not failing (possible rollback)", extra={"detail": state.unhealthy["own"]})
    if props.peer_region:
        peer_snapshot = _read_peer(props, deps, state.peer, state.polls)
        if peer_snapshot is not None and peer_snapshot.in_alarm:
            state.unhealthy["peer"] = _peer_failure_message(props.peer_region, peer_snapshot)
            if fail_on_alarm:
                raise GateFailed(state.unhealthy["peer"])
            logger.error("other region unhealthy; not failing (possible rollback)", extra={"detail": state.unhealthy["peer"]})


@dataclass(frozen=True)
class GateRef:
    """This gate in its stack: the event's StackId and LogicalResourceId (the same logical ID in both regions)."""

    stack_id: str
    logical_id: str


def bake(props: GateProperties, budget: Budget, deps: Dependencies, *, fail_on_alarm: bool = True, gate: GateRef | None = None) -> Outcome:
    """Polls until the bake ends; the bake is capped at 10 minutes and by the time left.
    Then, given ``gate`` and PeerStackSetName, waits for the other region's gate (``await_peer_gate``).

    With BakeMinutes auto the length is known once the alarms have been read;
    until then the bake may last up to the cap."""
    cap = min(float(MAX_BAKE_SECONDS), max(0.0, budget.remaining()))
    state = _Bake(plan=None if props.bake_minutes is None else fixed_plan(props.bake_minutes, cap))
    start = deps.monotonic()
    while True:
        _poll(props, deps, state, cap, fail_on_alarm=fail_on_alarm)
        left = start + (state.plan.seconds if state.plan else cap) - deps.monotonic()
        if left <= 0 or budget.expired():
            break
        deps.sleep(min(deps.poll_interval, left))
    plan = state.plan or BakePlan(cap, "auto: the alarm windows could not be read")
    waited = ""
    if fail_on_alarm and gate is not None and props.peer_stackset_name and state.good_polls > 0:
        waited = await_peer_gate(props, gate, budget, deps, state, plan.seconds)
    data = {"Polls": str(state.polls), "BakeSeconds": str(int(plan.seconds)), "Alarms": ",".join(props.alarm_names)}
    peer = state.peer
    peer_note = ""
    regions = deps.region
    if props.peer_region:
        if peer.reads == 0:
            peer_note = f"; decided on {deps.region} alarms only: {props.peer_region} alarms unreadable ({peer.last_error})"
        else:
            regions = f"{deps.region} or {props.peer_region}"
            if peer.failures:
                peer_note = f"; {props.peer_region} alarms unreadable on {peer.failures} of {_polls(state.polls)} ({peer.last_error})"
    if state.good_polls == 0:
        last = state.last_error
        unreadable = f"could not read the alarm states in {state.polls} attempt(s): {_describe(last) if last else '?'}"
        if fail_on_alarm:
            raise GateFailed(unreadable)
        return Outcome(data=data, reason=f"{UNVERIFIED}: {' | '.join([unreadable, *state.unhealthy.values()])}{peer_note}")
    if state.unhealthy:
        return Outcome(data=data, reason=f"{UNVERIFIED}: {' | '.join(state.unhealthy.values())}{peer_note}")
    clean = f"no alarm in ALARM in {regions} during a {int(plan.seconds)} s bake ({plan.how}; {_polls(state.polls)}){peer_note}{waited}"
    # A gate that could not have failed has verified nothing, even when clean.
    return Outcome(data=data, reason=clean if fail_on_alarm else f"{UNVERIFIED}: {clean}")


# --- the other region's gate ----------------------------------------------------------

PEER_FAILED = "failed"
PEER_DONE = "done"
PEER_WATCH = "watch"  # this gate answers the other: it keeps baking until the other's window is over
PEER_WAIT = "wait"  # this gate waits for the other's answer and follows it

# Between a gate's UPDATE_IN_PROGRESS and the start of its bake: the asynchronous invoke, a cold
# start of the image and the stack-status read. The other gate's window is taken to end this long
# after its start plus the bake.
PEER_START_SLACK_SECONDS = 20.0
# One look at the other region's stack (DescribeStacks and DescribeStackResource, each at most
# ~11 s with tap.aws's timeouts and retries), kept free at the end of a wait.
PEER_READ_SECONDS = 25.0
# The other stack counts as deploying this release when its update started no earlier than this
# before this stack's (one StackSet operation starts both within seconds).
SAME_OPERATION_SECONDS = 15 * 60
# Errors that mean the gate's own role or request is wrong, not that the other region is down.
CONFIGURATION_ERRORS = frozenset({"AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId"})


def live_stack_statuses(client: aws.Client) -> list[str]:
    """Every stack status but DELETE_COMPLETE, from the client's own API model: ListStacks would
    otherwise page through 90 days of deleted stacks."""
    return [s for s in client.meta.service_model.shape_for("StackStatus").enum if s != "DELETE_COMPLETE"]


def _as_time(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise MalformedAnswer(f"{what} is {value!r}, not a time")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class GatePosition:
    """A gate resource and its stack, as CloudFormation reports them."""

    stack: str
    stack_status: str
    stack_updated: datetime | None  # when the stack's current (or last) update started
    gate_status: str
    since: datetime  # when the gate's status was set: its start while UPDATE_IN_PROGRESS


def read_position(client: aws.Client, stack: str, logical_id: str) -> GatePosition:
    stacks = client.describe_stacks(StackName=stack).get("Stacks") or []
    if not stacks or not isinstance(stacks[0].get("StackStatus"), str):
        raise MalformedAnswer(f"DescribeStacks answered no status for {stack}")
    updated = stacks[0].get("LastUpdatedTime")
    detail = client.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id).get("StackResourceDetail")
    if not isinstance(detail, dict) or not isinstance(detail.get("ResourceStatus"), str):
        raise MalformedAnswer(f"DescribeStackResource answered no status for {logical_id}: {str(detail)[:200]}")
    return GatePosition(
        stack=stack,
        stack_status=stacks[0]["StackStatus"],
        stack_updated=None if updated is None else _as_time(updated, "LastUpdatedTime"),
        gate_status=detail["ResourceStatus"],
        since=_as_time(detail.get("LastUpdatedTimestamp"), f"{logical_id}'s LastUpdatedTimestamp"),
    )


def find_stack_instance(client: aws.Client, stackset_name: str) -> str:
    """The name of the StackSet's stack instance (the root stack) in the client's region. StackSets
    name it StackSet-<StackSet name>-<UUID> (observed; AWS documents no format), and the root's
    nested stacks append -<logical ID>-<random>, so a full match finds the root only."""
    pattern = re.compile(f"StackSet-{re.escape(stackset_name)}-{STACK_INSTANCE_UUID}")
    found: list[str] = []
    kwargs: dict[str, Any] = {"StackStatusFilter": live_stack_statuses(client)}
    while True:
        page = client.list_stacks(**kwargs)
        for summary in page.get("StackSummaries") or []:
            name = str(summary.get("StackName", ""))
            if pattern.fullmatch(name) and not summary.get("ParentId"):
                found.append(name)
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    if len(found) != 1:
        raise LookupError(f"{len(found)} stacks named StackSet-{stackset_name}-<uuid> (expected one): {', '.join(found) or 'none'}")
    return found[0]


@dataclass(frozen=True)
class OwnGate:
    region: str
    start: datetime  # this gate's UPDATE_IN_PROGRESS
    update_start: datetime | None  # this stack's update
    deadline: datetime  # when this gate stops waiting (its budget, less one look at the other region)


@dataclass(frozen=True)
class PeerDecision:
    state: str  # PEER_FAILED, PEER_DONE, PEER_WATCH or PEER_WAIT
    detail: str
    until: datetime | None = None  # PEER_WATCH: when the other gate's bake window ends


def decide(own: OwnGate, peer_region: str, peer: GatePosition, now: datetime, bake_seconds: float) -> PeerDecision:
    """What the other region's position means for this gate, and why (pure).

    The gate whose UPDATE_IN_PROGRESS is earlier (ties: the region codes) waits for the other's
    answer and follows it; the later one answers once the earlier one's bake window is over. Both
    compare the same two CloudFormation timestamps, so exactly one of two baking gates waits."""
    same_operation = timedelta(seconds=SAME_OPERATION_SECONDS)
    if own.update_start is not None and peer.stack_updated is not None and peer.stack_updated < own.update_start - same_operation:
        updated = peer.stack_updated.isoformat()
        return PeerDecision(PEER_DONE, f"it is not deploying this release (stack {peer.stack_status}, updated {updated})")
    if "ROLLBACK" in peer.stack_status or peer.stack_status.endswith("_FAILED"):
        return PeerDecision(PEER_FAILED, f"its stack {peer.stack} is in {peer.stack_status}")
    release_start = own.update_start if own.update_start is not None else own.start - same_operation
    if peer.gate_status == "UPDATE_FAILED" and peer.since >= release_start:
        return PeerDecision(PEER_FAILED, f"its gate failed ({peer.stack})")
    if peer.gate_status == "UPDATE_COMPLETE" and peer.since >= own.start:
        return PeerDecision(PEER_DONE, "its gate passed")
    if peer.gate_status == "UPDATE_IN_PROGRESS":
        if (peer.since, peer_region) < (own.start, own.region):
            # It started first, so it waits for this gate's answer: answer once its window is over,
            # and early enough before it gives up waiting (same function timeout, counted from its
            # start) for the answer to reach CloudFormation before its last look.
            window_end = peer.since + timedelta(seconds=PEER_START_SLACK_SECONDS + bake_seconds)
            peer_deadline = peer.since + (own.deadline - own.start) - timedelta(seconds=PEER_READ_SECONDS)
            if now >= peer_deadline:
                return PeerDecision(PEER_FAILED, f"its gate started first and stops waiting for this one at {peer_deadline.isoformat()}")
            if now >= window_end:
                return PeerDecision(PEER_DONE, "its gate started first, its bake window is over, and it follows this answer")
            return PeerDecision(PEER_WATCH, f"its gate started first; its bake window ends at {window_end.isoformat()}", window_end)
        return PeerDecision(PEER_WAIT, "its gate is baking")
    if peer.stack_status == "UPDATE_IN_PROGRESS":
        return PeerDecision(PEER_WAIT, "its update has not reached its gate yet")
    return PeerDecision(PEER_DONE, f"it is not deploying this release (stack {peer.stack_status}, gate {peer.gate_status})")


def await_peer_gate(props: GateProperties, gate: GateRef, budget: Budget, deps: Dependencies, state: _Bake, bake_seconds: float) -> str:
    """After a clean bake: answer only once the other region's outcome is known (see the module
    docstring). Returns the note for the reason; raises GateFailed when the other region failed,
    or when its gate has not answered by the end of this gate's time."""
    region = props.peer_region
    try:
        mine = read_position(deps.cloudformation, gate.stack_id, gate.logical_id)
    except Exception as e:
        _log_read_error("could not read this gate's start", e)
        return f"; did not wait for the {region} gate: this gate's own start could not be read ({_describe(e)})"
    reserve = deps.poll_interval + PEER_READ_SECONDS
    own = OwnGate(deps.region, mine.since, mine.stack_updated, deps.now() + timedelta(seconds=max(0.0, budget.remaining() - reserve)))
    client = deps.cloudformation_in(region)
    stack: str | None = None
    waited, unreadable, last_error = 0, 0, ""
    while True:
        try:
            stack = stack or find_stack_instance(client, props.peer_stackset_name)
            view = decide(own, region, read_position(client, stack, gate.logical_id), deps.now(), bake_seconds)
        except Exception as e:
            if aws_error_code(e) in CONFIGURATION_ERRORS:
                raise GateFailed(f"deployment gate failed: this gate may not read the {region} stack ({_describe(e)}); fix its role") from e
            _log_read_error("could not read the other region's stack", e, region=region)
            unreadable, last_error = unreadable + 1, _describe(e)
            view = PeerDecision(PEER_WAIT, f"its stack could not be read ({last_error})")
        logger.info("other region's gate", extra={"region": region, "decision": view.state, "detail": view.detail})
        if view.state == PEER_FAILED:
            raise GateFailed(f"deployment gate failed: the deployment in {region} failed ({view.detail}) | {PEER_FAILURE_WHY}")
        if view.state == PEER_DONE:
            return f"; {region}: {view.detail}" + (f" (waited {_polls(waited)})" if waited else "")
        if deps.now() >= own.deadline:
            if unreadable == waited + 1:
                # Never readable: that region may be down (a DR event); decide on this region alone.
                return f"; did not wait for the {region} gate: its stack could not be read ({last_error})"
            raise GateFailed(
                f"deployment gate failed: {region}'s gate had not answered ({view.detail}) when this gate's time ran out | {PEER_WAIT_WHY}"
            )
        pause = deps.poll_interval
        if view.until is not None:
            pause = max(1.0, min(pause, (view.until - deps.now()).total_seconds()))
        deps.sleep(min(pause, max(0.0, (own.deadline - deps.now()).total_seconds())))
        waited += 1
        if view.state == PEER_WATCH:
            # This gate answers the other one, so its own window stays open until the other's is over.
            _poll(props, deps, state, bake_seconds, fail_on_alarm=True)


# --- request types -------------------------------------------------------------------


def on_create(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies) -> Outcome:
    props = GateProperties.parse(event.get("ResourceProperties"))
    data = {"Polls": "1", "BakeSeconds": "0", "Alarms": ",".join(props.alarm_names)}
    no_bake = "created without a bake (a new environment has no traffic and no alarm data)"
    try:
        snapshot = read_alarms(props.alarm_names, deps.cloudwatch)
    except Exception as e:
        # Not being able to look is no evidence of a broken deployment.
        _log_read_error("could not check that the alarms exist", e)
        return Outcome(data=data, reason=f"{no_bake}; the alarm check could not run: {_describe(e)}")
    if snapshot.missing:
        raise GateFailed("deployment gate failed: alarms not found: " + ", ".join(snapshot.missing))
    logger.info("alarms exist; states ignored on create", extra={"states": dict(snapshot.states)})
    return Outcome(data=data, reason=f"{no_bake}; all {len(props.alarm_names)} alarms exist in {deps.region}")


def on_update(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies) -> Outcome:
    invocation = cfn.current_invocation()
    # Until the status is read this may be a rollback, so the timer, should it
    # fire first, must not answer FAILED either.
    invocation.answer_on_timeout(SUCCESS, f"{UNVERIFIED}: {TIMED_OUT} reading the stack status; {NOT_FAILING}")
    status = stack_status(str(event.get("StackId", "")), deps)
    if status is not None and not is_rollback_status(status):
        invocation.answer_on_timeout(FAILED, f"deployment gate failed: {TIMED_OUT} the bake finished")
        props = GateProperties.parse(event.get("ResourceProperties"))
        gate = GateRef(stack_id=str(event.get("StackId", "")), logical_id=str(event.get("LogicalResourceId", "")))
        return bake(props, Budget.from_context(context, BAKE_SAFETY_MARGIN_SECONDS), deps, gate=gate)
    # A rollback, or possibly one: whatever happens from here on, never FAILED
    # (it would end in UPDATE_ROLLBACK_FAILED), not even from the timer.
    try:
        if status is not None:
            invocation.answer_on_timeout(SUCCESS, f"stack is in {status}; gate skipped")
            logger.info("stack is rolling back; the gate lets it through", extra={"stack_status": status})
            return Outcome(data={"Polls": "0", "BakeSeconds": "0"}, reason=f"stack is in {status}; gate skipped")
        invocation.answer_on_timeout(SUCCESS, f"{UNVERIFIED}: {TIMED_OUT} the bake finished; {NOT_FAILING}")
        logger.error("stack status unknown; baking without the power to fail")
        props = GateProperties.parse(event.get("ResourceProperties"))
        return bake(props, Budget.from_context(context, BAKE_SAFETY_MARGIN_SECONDS), deps, fail_on_alarm=False)
    except Exception as e:
        logger.exception("gate could not run; not failing (possible rollback)", extra={"stack_status": status})
        return Outcome(reason=f"{UNVERIFIED}: {e if getattr(e, 'user_facing', False) else _describe(e)}")


def on_create_or_update(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies) -> Outcome:
    if event.get("RequestType") == "Create":
        return on_create(event, context, deps)
    return on_update(event, context, deps)


# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
RESOURCE = cfn.Resource(
    default_dependencies=lambda: Dependencies.default(),
    on_create_or_update=on_create_or_update,
    timeout_margin_seconds=TIMEOUT_MARGIN_SECONDS,
)
