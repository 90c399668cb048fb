"""Module-level boto3 clients, created lazily once per container.

Creating a client costs milliseconds of CPU (it loads the service model), so
a warm container reuses it. Tests put botocore-Stubber-wrapped clients in
place with ``override`` and restore the defaults with ``reset``.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tap import env

# botocore takes its timeouts from the client's Config, and the clients are
# module-level (built once per container, shared by every invocation), so
# they cannot be capped to one invocation's remaining time per call the way
# pymysql's are per connection (tap/budget.py). They are short for all
# instead: an endpoint that hangs costs one call at most 2 attempts x 3 s
# read (or 2 s connect) plus standard mode's backoff (under 1 s before the
# second attempt), about 7 s, so a single hanging AWS call still ends in a
# 503 within the validator's default 10 s; the validator's budget check
# then refuses to start further calls. A client per invocation with capped
# timeouts would cost milliseconds of CPU (and a new connection) each time.
# The custom resources prefer their own deadline-aware retries to botocore's.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3
MAX_ATTEMPTS = 2
DEFAULT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    # total_max_attempts counts the first try; botocore's "max_attempts"
    # would count retries only (2 would mean 3 tries).
    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
)

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}


def _key(service: str, region: str | None) -> tuple[str, str]:
    # None means the function's own region, so client("s3") and
    # client("s3", <own region>) are one client.
    return service, region or env.get(env.AWS_REGION)


def client(service: str, region: str | None = None) -> Any:
    """The container's client for ``service`` in ``region`` (default: the
    function's own region), with the short timeouts above."""
    key = _key(service, region)
    with _lock:
        existing = _clients.get(key)
        if existing is None:
            existing = boto3.client(service, region_name=key[1], config=DEFAULT_CONFIG)
            _clients[key] = existing
        return existing


def override(service: str, client_: Any, region: str | None = None) -> None:
    with _lock:
        _clients[_key(service, region)] = client_


def reset() -> None:
    with _lock:
        _clients.clear()


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# Error codes worth another try once botocore's own retries are used up.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def is_transient(exc: BaseException) -> bool:
    """True for throttling, 5xx and connection failures; False for e.g. AccessDenied."""
    if isinstance(exc, ClientError):
        return error_code(exc) in TRANSIENT_ERROR_CODES
    return isinstance(exc, BotoCoreError)
