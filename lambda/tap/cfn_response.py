"""The custom-resource response on the wire: its body, fitted to
CloudFormation's size limit, and its delivery, a PUT to the pre-signed S3 URL
of the request, retried.

Only the transport: when to answer, and that it happens exactly once, is
tap/cfn.py's business.

Response object: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from tap.jsonlog import get_logger

# The lifecycle's logger: these lines are part of one answer's story.
logger = get_logger("cfn")

SUCCESS = "SUCCESS"
FAILED = "FAILED"
# CloudFormation rejects response bodies over 4096 bytes.
MAX_RESPONSE_BYTES = 4096
SEND_ATTEMPTS = 5
SEND_TIMEOUT_SECONDS = 10.0


class ResponseNotDelivered(Exception):
    """Every attempt to PUT the response failed."""


class Reply(Protocol):
    def getcode(self) -> int | None: ...


class Opener(Protocol):
    """What ``urllib.request.urlopen`` is to ``send_response``."""

    def __call__(self, request: urllib.request.Request, *, timeout: float) -> AbstractContextManager[Reply]: ...


def _urlopen(request: urllib.request.Request, *, timeout: float) -> AbstractContextManager[Reply]:
    # Looked up at call time, so that tests can replace urllib.request.urlopen;
    # typeshed types its answer as Any.
    reply: AbstractContextManager[Reply] = urllib.request.urlopen(request, timeout=timeout)
    return reply


def physical_resource_id(event: Mapping[str, Any]) -> str:
    """The one in the event on Update and Delete; on Create one derived from
    the stack and logical id, so that a retried Create names the same
    resource (a new id on Update would make CloudFormation delete the "old" one)."""
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
    opener: Opener | None = None,
    sleep: Callable[[float], None] | None = None,
    time_left: Callable[[], float] = lambda: float("inf"),
    attempts: int = SEND_ATTEMPTS,
) -> None:
    """PUTs the body to the pre-signed URL, retrying with backoff, and raises
    ResponseNotDelivered only when every attempt failed, so that Lambda's own
    retry of the asynchronous invocation gets another chance.

    urllib.request keeps the image free of extra HTTP libraries; the opener
    and sleep are looked up at call time so tests can replace them.
    """
    open_url = opener or _urlopen
    pause = sleep or _sleep
    payload = json.dumps(body).encode("utf-8")
    # The pre-signed S3 URL was signed without a content type: send an empty one
    # (urllib would otherwise add application/x-www-form-urlencoded).
    headers = {"Content-Type": "", "Content-Length": str(len(payload))}
    delay = 0.5
    last_error: BaseException | None = None
    attempt = 0
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=payload, headers=headers, method="PUT")
        try:
            timeout = max(1.0, min(SEND_TIMEOUT_SECONDS, time_left()))
            with open_url(request, timeout=timeout) as reply:
                status = getattr(reply, "status", None) or reply.getcode()
            if 200 <= int(status or 0) < 300:
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
        pause(delay)
        delay = min(delay * 2, 8.0)
    raise ResponseNotDelivered(f"could not deliver the response after {attempt} attempt(s)") from last_error
