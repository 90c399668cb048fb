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

# Short timeouts and few attempts: the validator has 10 s in total, and the
# custom resources prefer their own deadline-aware retries to botocore's.
DEFAULT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    with _lock:
        existing = _clients.get(service)
        if existing is None:
            existing = boto3.client(service, region_name=env.get(env.AWS_REGION), config=DEFAULT_CONFIG)
            _clients[service] = existing
        return existing


def override(service: str, client_: Any) -> None:
    with _lock:
        _clients[service] = client_


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
