"""CloudFormation custom resource plumbing, modelled on crhelper.

The one rule: CloudFormation must always get exactly one answer, or the
stack waits (up to an hour) and a rollback can end in UPDATE_ROLLBACK_FAILED.
So ``run``:
  * answers SUCCESS or FAILED for every request type, whatever the handler
    raises (FAILED carries the exception's message as the reason);
  * starts a timer that answers FAILED shortly before the function would
    time out, in case the handler hangs;
  * PUTs the response to the pre-signed URL with retries, and raises only
    when it could not be delivered, so that Lambda's own retry of the
    asynchronous invocation gets another chance;
  * keeps the PhysicalResourceId stable: the one in the event on Update and
    Delete, and on Create one derived from the stack and logical id (a new id
    on Update would make CloudFormation delete the "old" resource);
  * once the timer has answered, cancels the run (``Cancellation``): the
    handler, still running, is told that nobody waits for its work any more
    and should stop touching anything. Handlers read it with
    ``current_cancellation()``, or through ``Budget.from_context(..., cancellation=)``
    (tap/budget.py);
    their signature (event, context) is unchanged.

Response object: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import contextvars
import hashlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tap.cancellation import Cancellation
from tap.jsonlog import bound, get_logger

logger = get_logger("cfn")

SUCCESS = "SUCCESS"
FAILED = "FAILED"
REQUEST_TYPES = ("Create", "Update", "Delete")
# CloudFormation rejects response bodies over 4096 bytes.
MAX_RESPONSE_BYTES = 4096
SEND_ATTEMPTS = 5
SEND_TIMEOUT_SECONDS = 10.0


class ResponseNotDelivered(Exception):
    """Every attempt to PUT the response failed."""


@dataclass
class Outcome:
    """What a successful handler returns. Data values become Fn::GetAtt attributes."""

    data: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def remaining_seconds(context: Any) -> float:
    return max(0.0, context.get_remaining_time_in_millis() / 1000.0)


_current: contextvars.ContextVar[Cancellation | None] = contextvars.ContextVar("tap_cfn_cancellation", default=None)


def current_cancellation() -> Cancellation:
    """The cancellation of the ``run`` in progress in this context, or, outside
    of one, a new one that is never cancelled (so callers need not check)."""
    return _current.get() or Cancellation()


def physical_resource_id(event: Mapping[str, Any]) -> str:
    existing = event.get("PhysicalResourceId")
    if existing:
        return str(existing)
    seed = f"{event.get('StackId', '')}|{event.get('LogicalResourceId', '')}".encode()
    return f"{event.get('LogicalResourceId') or 'resource'}-{hashlib.sha256(seed).hexdigest()[:16]}"


def build_response(
    event: Mapping[str, Any], status: str, reason: str, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if status not in (SUCCESS, FAILED):
        raise ValueError(f"invalid status {status!r}")
    body: dict[str, Any] = {
        "Status": status,
        "Reason": reason or status,
        "PhysicalResourceId": physical_resource_id(event),
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": {str(k): str(v) for k, v in (data or {}).items()},
    }
    return fit_response(body)


def _size(body: Mapping[str, Any]) -> int:
    return len(json.dumps(body).encode("utf-8"))


def fit_response(body: dict[str, Any]) -> dict[str, Any]:
    """Shortens Reason (then drops Data) until the body fits the 4 KiB limit."""
    if _size(body) <= MAX_RESPONSE_BYTES:
        return body
    reason = body["Reason"]
    suffix = " ...[truncated]"
    # JSON escaping makes bytes-per-character vary: binary-search the longest prefix that fits.
    low, high = 0, len(reason)
    while low < high:
        mid = (low + high + 1) // 2
        body["Reason"] = reason[:mid] + suffix
        if _size(body) <= MAX_RESPONSE_BYTES:
            low = mid
        else:
            high = mid - 1
    body["Reason"] = reason[:low] + suffix
    if low == 0 or _size(body) > MAX_RESPONSE_BYTES:
        body["Reason"] = "response truncated: see the function's logs"
        if _size(body) > MAX_RESPONSE_BYTES:
            body["Data"] = {}
    return body


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def send_response(
    url: str,
    body: Mapping[str, Any],
    *,
    opener: Callable[..., Any] | None = None,
    sleep: Callable[[float], None] | None = None,
    time_left: Callable[[], float] = lambda: float("inf"),
    attempts: int = SEND_ATTEMPTS,
) -> None:
    """PUTs the body to the pre-signed URL, retrying with backoff.

    urllib.request keeps the image free of extra HTTP libraries; the opener
    and sleep are looked up at call time so tests can replace them.
    """
    opener = opener or urllib.request.urlopen
    sleep = sleep or _sleep
    payload = json.dumps(body).encode("utf-8")
    # The pre-signed S3 URL was signed without a content type: send an empty one
    # (urllib would otherwise add application/x-www-form-urlencoded).
    headers = {"Content-Type": "", "Content-Length": str(len(payload))}
    delay = 0.5
    last_error: BaseException | None = None
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=payload, headers=headers, method="PUT")
        try:
            timeout = max(1.0, min(SEND_TIMEOUT_SECONDS, time_left()))
            with opener(request, timeout=timeout) as reply:
                status = getattr(reply, "status", None) or reply.getcode()
            if 200 <= int(status) < 300:
                logger.info("response delivered", extra={"status": body.get("Status"), "attempt": attempt})
                return
            last_error = ResponseNotDelivered(f"HTTP {status}")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            # HTTPError (4xx/5xx) is a URLError; S3 hiccups are worth a retry too.
            last_error = e
        logger.warning(
            "could not deliver the response",
            extra={"attempt": attempt, "error": f"{type(last_error).__name__}: {last_error}"},
        )
        if attempt == attempts or time_left() < delay + 1.0:
            break
        sleep(delay)
        delay = min(delay * 2, 8.0)
    raise ResponseNotDelivered(f"could not deliver the response after {attempt} attempt(s)") from last_error


class _Responder:
    """Lets exactly one of (handler, timeout timer) answer."""

    def __init__(self, event: Mapping[str, Any], context: Any, send: Callable[..., None]):
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


def failure_reason(exc: BaseException, context: Any) -> str:
    message = str(exc) or type(exc).__name__
    if not getattr(exc, "user_facing", False):
        message = f"{type(exc).__name__}: {message}"
    stream = getattr(context, "log_stream_name", None)
    return f"{message} (log stream: {stream})" if stream else message


Handler = Callable[[Mapping[str, Any], Any], Outcome]


def run(
    event: Mapping[str, Any],
    context: Any,
    *,
    create: Handler,
    update: Handler,
    delete: Handler,
    timeout_margin_seconds: float,
    send: Callable[..., None] = send_response,
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
        cancellation = Cancellation()

        def on_timeout() -> None:
            # First: the handler must not start anything more, whether or not
            # the answer gets through.
            cancellation.cancel("the timer answered CloudFormation before the work finished")
            try:
                responder.respond(
                    "timer",
                    FAILED,
                    "the function was about to time out before the work finished"
                    f" (log stream: {getattr(context, 'log_stream_name', '?')})",
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
                token = _current.set(cancellation)
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



class CustomResource:
    """A Lambda custom resource whose Create and Update share one function of
    (event, context, dependencies). The dependencies (AWS clients, clocks) are
    built on first use, inside ``run``, so that a failure to build them still
    reaches CloudFormation; tests inject theirs with ``set_dependencies``."""

    def __init__(
        self,
        default_dependencies: Callable[[], Any],
        on_create_or_update: Callable[[Mapping[str, Any], Any, Any], Outcome],
        on_delete: Handler,
        timeout_margin_seconds: float,
    ) -> None:
        self._default_dependencies = default_dependencies
        self._on_create_or_update = on_create_or_update
        self._on_delete = on_delete
        self._timeout_margin_seconds = timeout_margin_seconds
        self._dependencies: Any = None

    def set_dependencies(self, dependencies: Any) -> None:
        """None restores the default."""
        self._dependencies = dependencies

    def _create_or_update(self, event: Mapping[str, Any], context: Any) -> Outcome:
        if self._dependencies is None:
            self._dependencies = self._default_dependencies()
        return self._on_create_or_update(event, context, self._dependencies)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return run(
            event,
            context,
            create=self._create_or_update,
            update=self._create_or_update,
            delete=self._on_delete,
            timeout_margin_seconds=self._timeout_margin_seconds,
        )
