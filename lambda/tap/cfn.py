"""The custom-resource lifecycle, modelled on crhelper: request types, the
timeout timer, and exactly one answer per request.

The one rule: CloudFormation must always get exactly one answer, or the
stack waits (up to an hour) and a rollback can end in UPDATE_ROLLBACK_FAILED.
So ``run``:
  * answers SUCCESS or FAILED for every request type, whatever the handler
    raises (FAILED carries the exception's message as the reason);
  * starts a timer that answers shortly before the function would time out,
    in case the handler hangs: FAILED, unless the handler has said that a
    FAILED would do harm (``current_invocation().answer_on_timeout``, e.g.
    the deployment gate during a rollback) and what to answer instead;
  * lets exactly one of the two answer (the body, its size limit and the
    PUT with retries are tap/cfn_response.py's);
  * once the timer has answered, cancels the run (tap/cancellation.py): the
    handler, still running, is told that nobody waits for its work any more
    and should stop touching anything. Handlers read it with
    ``current_cancellation()``, or through ``Budget.from_context(...,
    cancellation=)`` (tap/budget.py); their signature (event, context) is
    unchanged.

Request object: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from tap.cancellation import Cancellation
from tap.cfn_response import FAILED, SUCCESS, build_response, send_response
from tap.jsonlog import bound, get_logger
from tap.lambda_context import LambdaContext

logger = get_logger("cfn")

D = TypeVar("D")

REQUEST_TYPES = ("Create", "Update", "Delete")


class Send(Protocol):
    """What ``cfn_response.send_response`` is to ``run``."""

    def __call__(self, url: str, body: Mapping[str, Any], *, time_left: Callable[[], float]) -> None: ...


@dataclass
class Outcome:
    """What a successful handler returns. Data values become Fn::GetAtt attributes."""

    data: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def remaining_seconds(context: LambdaContext) -> float:
    return max(0.0, context.get_remaining_time_in_millis() / 1000.0)


TIMEOUT_REASON = "the function was about to time out before the work finished"


@dataclass(frozen=True)
class TimeoutAnswer:
    status: str
    reason: str


class Invocation:
    """What the handler of one ``run`` and its timer share: the run's
    cancellation, and what the timer answers if it fires first.

    The timer answers FAILED unless the handler says otherwise: a handler that
    learns that a FAILED would do harm (the deployment gate during a
    rollback, where FAILED ends in UPDATE_ROLLBACK_FAILED) sets the answer to
    SUCCESS with its reason, before it starts work that might not finish.
    """

    def __init__(self) -> None:
        self.cancellation = Cancellation()
        # Replaced whole, never mutated: the timer thread reads one reference.
        self._timeout_answer = TimeoutAnswer(FAILED, TIMEOUT_REASON)

    def answer_on_timeout(self, status: str, reason: str) -> None:
        """What the timer answers from now on, if it fires before the handler returns."""
        if status not in (SUCCESS, FAILED):
            raise ValueError(f"invalid status {status!r}")
        self._timeout_answer = TimeoutAnswer(status, reason)

    @property
    def timeout_answer(self) -> TimeoutAnswer:
        return self._timeout_answer


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("tap_cfn_invocation", default=None)


def current_invocation() -> Invocation:
    """The invocation of the ``run`` in progress in this context, or, outside
    of one, a new one that no timer reads and that is never cancelled (so
    callers need not check)."""
    return _current.get() or Invocation()


def current_cancellation() -> Cancellation:
    """The cancellation of the ``run`` in progress in this context (see ``current_invocation``)."""
    return current_invocation().cancellation


class _Responder:
    """Lets exactly one of (handler, timeout timer) answer."""

    def __init__(self, event: Mapping[str, Any], context: LambdaContext, send: Send):
        self._event = event
        self._context = context
        self._send = send
        self._lock = threading.Lock()
        self.claimed_by: str | None = None
        self.delivered = False
        self.body: dict[str, Any] | None = None

    def respond(self, who: str, status: str, reason: str, data: Mapping[str, Any] | None = None) -> bool:
        with self._lock:
            if self.claimed_by is not None:
                logger.warning("response already sent; not sending another", extra={"by": who, "sent_by": self.claimed_by})
                return False
            self.claimed_by = who
        self.body = build_response(self._event, status, reason, data)
        logger.info("answering CloudFormation", extra={"status": status, "reason": self.body["Reason"], "by": who})
        self._send(
            self._event["ResponseURL"],
            self.body,
            time_left=lambda: remaining_seconds(self._context) - 0.5,
        )
        self.delivered = True
        return True


def failure_reason(exc: BaseException, context: LambdaContext) -> str:
    message = str(exc) or type(exc).__name__
    if not getattr(exc, "user_facing", False):
        message = f"{type(exc).__name__}: {message}"
    stream = getattr(context, "log_stream_name", None)
    return f"{message} (log stream: {stream})" if stream else message


Handler = Callable[[Mapping[str, Any], LambdaContext], Outcome]


def run(
    event: Mapping[str, Any],
    context: LambdaContext,
    *,
    create: Handler,
    update: Handler,
    delete: Handler,
    timeout_margin_seconds: float,
    send: Send = send_response,
) -> dict[str, Any]:
    """Runs the handler for the event's RequestType and answers CloudFormation.

    Returns the response body that was sent (handy for tests and logs).
    """
    if not event.get("ResponseURL"):
        # Nothing to answer to: not a CloudFormation request.
        raise ValueError("event has no ResponseURL; not a CloudFormation custom resource request")
    request_type = event.get("RequestType")
    with bound(
        request_type=request_type,
        logical_resource_id=event.get("LogicalResourceId"),
        cfn_request_id=event.get("RequestId"),
    ):
        responder = _Responder(event, context, send)
        invocation = Invocation()

        def on_timeout() -> None:
            # First: the handler must not start anything more, whether or not
            # the answer gets through.
            invocation.cancellation.cancel("the timer answered CloudFormation before the work finished")
            answer = invocation.timeout_answer
            try:
                responder.respond(
                    "timer",
                    answer.status,
                    f"{answer.reason} (log stream: {getattr(context, 'log_stream_name', '?')})",
                )
            except Exception:
                logger.exception("could not deliver the timeout response")

        delay = max(0.0, remaining_seconds(context) - timeout_margin_seconds)
        timer = threading.Timer(delay, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            handler = {"Create": create, "Update": update, "Delete": delete}.get(str(request_type))
            try:
                if handler is None:
                    raise ValueError(f"unknown RequestType {request_type!r}")
                token = _current.set(invocation)
                try:
                    outcome = handler(event, context)
                finally:
                    _current.reset(token)
                if not isinstance(outcome, Outcome):
                    raise TypeError(f"handler returned {type(outcome).__name__}, not Outcome")
                status, reason, data = SUCCESS, outcome.reason or SUCCESS, outcome.data
            except Exception as e:
                logger.exception("custom resource handler failed")
                status, reason, data = FAILED, failure_reason(e, context), {}
            responder.respond("handler", status, reason, data)
        finally:
            timer.cancel()
        if responder.claimed_by == "timer":
            # The timer may still be sending; wait rather than let Lambda freeze it mid-PUT.
            timer.join(timeout=max(0.0, remaining_seconds(context) - 0.5))
        return responder.body or {}


@dataclass(frozen=True)
class Resource(Generic[D]):
    """One custom resource whose Create and Update share one function of
    (event, context, dependencies); defined beside its logic (tap/deploy_gate.py,
    tap/migrate_resource.py, tap/prerequisites_wait.py) and turned into the Lambda
    handler by CustomResourceHandler."""

    # Called on first use, inside ``run``, so that a failure to build the
    # dependencies (AWS clients, clocks) still reaches CloudFormation.
    default_dependencies: Callable[[], D]
    on_create_or_update: Callable[[Mapping[str, Any], LambdaContext, D], Outcome]
    # How long before the function's timeout the timer answers.
    timeout_margin_seconds: float
    # Most custom resources own nothing that outlives them; Delete answers at once, with no AWS call.
    on_delete: Handler = field(default=lambda event, context: Outcome(reason="nothing to delete"))


class CustomResourceHandler(Generic[D]):
    """The one factory of the custom-resource handlers: ``handler(event,
    context)`` runs ``resource`` through ``run``. The dependencies are built
    once per container and kept; tests inject theirs with ``set_dependencies``."""

    def __init__(self, resource: Resource[D]) -> None:
        self._resource = resource
        self._dependencies: D | None = None

    def set_dependencies(self, dependencies: D | None) -> None:
        """None restores the default."""
        self._dependencies = dependencies

    def _create_or_update(self, event: Mapping[str, Any], context: LambdaContext) -> Outcome:
        if self._dependencies is None:
            self._dependencies = self._resource.default_dependencies()
        return self._resource.on_create_or_update(event, context, self._dependencies)

    def __call__(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        return run(
            event,
            context,
            create=self._create_or_update,
            update=self._create_or_update,
            delete=self._resource.on_delete,
            timeout_margin_seconds=self._resource.timeout_margin_seconds,
        )
