"""The deployment gate custom resource (Custom::DeploymentGate).

Create/Update: bake, i.e. watch the named CloudWatch alarms (composite and
metric) for BakeMinutes, and answer FAILED, naming every alarm in ALARM with
its reason, as soon as one is seen; SUCCESS when the bake ends clean.
INSUFFICIENT_DATA counts as healthy (a quiet new environment has no data).

During a rollback the gate answers SUCCESS at once: failing there would
leave the stack in UPDATE_ROLLBACK_FAILED. CloudFormation does not flag a
rollback in the event, so the gate reads the status of its own stack
(cloudformation:DescribeStacks on the event's StackId). If that status
cannot be read, for whatever reason (AWS errors after retries, a malformed
answer, a bug), the gate cannot rule out a rollback and therefore does not
fail on it: it still bakes and logs the alarms, and answers SUCCESS with
"gate unverified" in the reason.

Delete: SUCCESS at once.

ResourceProperties: ServiceToken, AlarmNames (list), BakeMinutes (0..10),
DeploymentStamp (opaque; changes to force an Update on every deployment).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws
from tap.cfn import Deadline, Outcome, UserFacingError
from tap.jsonlog import get_logger

logger = get_logger("gate")

# Function timeout is 900 s. The timer answers FAILED 20 s before the end;
# the bake stops 60 s before the end, leaving time for the last poll and the answer.
TIMEOUT_MARGIN_SECONDS = 20.0
BAKE_SAFETY_MARGIN_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 30.0
MAX_BAKE_MINUTES = Decimal(10)
STATUS_ATTEMPTS = 3
DESCRIBE_ALARMS_PAGE = 100  # DescribeAlarms accepts at most 100 names per call

ALARM = "ALARM"
UNVERIFIED = "gate unverified (stack status unknown)"


class GateFailed(UserFacingError):
    pass


class InvalidProperties(UserFacingError):
    pass


def is_rollback_status(status: str | None) -> bool:
    """UPDATE_ROLLBACK_IN_PROGRESS, ROLLBACK_IN_PROGRESS,
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, IMPORT_ROLLBACK_IN_PROGRESS..."""
    return status is not None and "ROLLBACK" in status and status.endswith("_IN_PROGRESS")


@dataclass(frozen=True)
class GateProperties:
    alarm_names: tuple[str, ...]
    bake_seconds: float

    @classmethod
    def parse(cls, props: Mapping[str, Any] | None) -> "GateProperties":
        props = props or {}
        raw_names = props.get("AlarmNames")
        if isinstance(raw_names, str):
            # Tolerate a comma-separated string (e.g. from a Fn::Join).
            raw_names = [n for n in raw_names.split(",")]
        if not isinstance(raw_names, list) or not raw_names:
            raise InvalidProperties("AlarmNames must be a non-empty list of alarm names")
        names = tuple(dict.fromkeys(str(n).strip() for n in raw_names if str(n).strip()))
        if not names:
            raise InvalidProperties("AlarmNames must be a non-empty list of alarm names")
        raw_bake = props.get("BakeMinutes", 0)
        try:
            minutes = Decimal(str(raw_bake).strip())
        except InvalidOperation as e:
            raise InvalidProperties(f"BakeMinutes must be a number from 0 to 10, got {raw_bake!r}") from e
        if not minutes.is_finite() or not Decimal(0) <= minutes <= MAX_BAKE_MINUTES:
            raise InvalidProperties(f"BakeMinutes must be a number from 0 to 10, got {raw_bake!r}")
        return cls(alarm_names=names, bake_seconds=float(minutes * 60))


@dataclass
class Dependencies:
    cloudformation: Any
    cloudwatch: Any
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    poll_interval: float = POLL_INTERVAL_SECONDS

    @classmethod
    def default(cls) -> "Dependencies":
        return cls(cloudformation=aws.client("cloudformation"), cloudwatch=aws.client("cloudwatch"))


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


def read_alarms(names: tuple[str, ...], cloudwatch: Any) -> AlarmSnapshot:
    states: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for start in range(0, len(names), DESCRIBE_ALARMS_PAGE):
        chunk = list(names[start : start + DESCRIBE_ALARMS_PAGE])
        kwargs: dict[str, Any] = {"AlarmNames": chunk, "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]}
        while True:
            page = cloudwatch.describe_alarms(**kwargs)
            for alarm in [*page.get("CompositeAlarms", []), *page.get("MetricAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
                reasons[alarm["AlarmName"]] = alarm.get("StateReason", "")
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    in_alarm = tuple((n, reasons[n]) for n in names if states.get(n) == ALARM)
    missing = tuple(n for n in names if n not in states)
    return AlarmSnapshot(in_alarm=in_alarm, missing=missing, states=states)


def _failure_message(snapshot: AlarmSnapshot) -> str:
    parts = []
    if snapshot.in_alarm:
        parts.append("alarms in ALARM: " + "; ".join(f"{name} ({reason})" for name, reason in snapshot.in_alarm))
    if snapshot.missing:
        parts.append("alarms not found: " + ", ".join(snapshot.missing))
    return "deployment gate failed: " + " | ".join(parts)


def bake(props: GateProperties, deadline: Deadline, deps: Dependencies, *, fail_on_alarm: bool = True) -> Outcome:
    """Polls until the bake ends; the bake is capped by the time left."""
    bake_seconds = min(props.bake_seconds, max(0.0, deadline.remaining()))
    if bake_seconds < props.bake_seconds:
        logger.warning(
            "bake period shortened to fit the function's remaining time",
            extra={"requested_s": props.bake_seconds, "granted_s": bake_seconds},
        )
    end = deps.monotonic() + bake_seconds
    polls = 0
    good_polls = 0
    unhealthy: str | None = None
    last_error: BaseException | None = None
    while True:
        polls += 1
        try:
            snapshot = read_alarms(props.alarm_names, deps.cloudwatch)
            good_polls += 1
            logger.info("alarm states", extra={"poll": polls, "states": dict(snapshot.states)})
            if snapshot.in_alarm or snapshot.missing:
                unhealthy = _failure_message(snapshot)
                if fail_on_alarm:
                    raise GateFailed(unhealthy)
                logger.error("alarms unhealthy; not failing (possible rollback)", extra={"detail": unhealthy})
        except (BotoCoreError, ClientError) as e:
            last_error = e
            logger.warning("could not read alarm states", extra={"poll": polls, "error": f"{type(e).__name__}: {e}"})
        left = end - deps.monotonic()
        if left <= 0 or deadline.expired():
            break
        deps.sleep(min(deps.poll_interval, left))
    data = {"Polls": str(polls), "BakeSeconds": str(int(bake_seconds)), "Alarms": ",".join(props.alarm_names)}
    if good_polls == 0:
        unreadable = f"could not read the alarm states in {polls} attempt(s): {type(last_error).__name__}: {last_error}"
        if fail_on_alarm:
            raise GateFailed(unreadable)
        return Outcome(data=data, reason=f"{UNVERIFIED}: {unreadable}")
    if unhealthy:
        return Outcome(data=data, reason=f"{UNVERIFIED}: {unhealthy}")
    clean = f"no alarm in ALARM during a {int(bake_seconds)} s bake ({polls} polls)"
    # A gate that could not have failed has verified nothing, even when clean.
    return Outcome(data=data, reason=clean if fail_on_alarm else f"{UNVERIFIED}: {clean}")


def on_create_or_update(event: Mapping[str, Any], context: Any, deps: Dependencies) -> Outcome:
    status = stack_status(str(event.get("StackId", "")), deps)
    if is_rollback_status(status):
        logger.info("stack is rolling back; the gate lets it through", extra={"stack_status": status})
        return Outcome(data={"Polls": "0", "BakeSeconds": "0"}, reason=f"stack is in {status}; gate skipped")
    try:
        props = GateProperties.parse(event.get("ResourceProperties"))
    except InvalidProperties:
        if status is not None:
            raise
        logger.exception("invalid gate properties and unknown stack status; not failing (possible rollback)")
        return Outcome(reason="gate unverified: invalid properties and the stack status could not be read")
    deadline = Deadline(context, BAKE_SAFETY_MARGIN_SECONDS)
    if status is None:
        # Can't tell a rollback from a deployment: never fail (see module docstring).
        logger.error("stack status unknown; baking without the power to fail")
        return bake(props, deadline, deps, fail_on_alarm=False)
    return bake(props, deadline, deps)


def on_delete(event: Mapping[str, Any], context: Any, deps: Dependencies | None = None) -> Outcome:
    return Outcome(reason="nothing to delete")
