"""Module-level boto3 clients, created lazily once per container, and
``call``, which starts a call only when its worst case fits a time budget.

Creating a client costs milliseconds of CPU (it loads the service model), so
a warm container reuses it. Tests put botocore-Stubber-wrapped clients in
place with ``override`` and restore the defaults with ``reset``.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, TypeAlias

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tap import env, transient
from tap.budget import Budget
from tap.jsonlog import get_logger

logger = get_logger("aws")

# A boto3 client: generated from the service model at run time, so it has no
# static type without boto3-stubs (not on every machine's package index).
Client: TypeAlias = Any

# The custom resources (migrate, gate) have minutes and their own
# deadline-aware retries around these: botocore may retry once more.
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

# The validator has seconds, and a call may start only when its worst case
# fits what is left of them (tap/budget.py). botocore's timeouts cannot be cut
# per call (the clients are module-level, built once per container), and its
# retries hide an unbounded wait (standard mode sleeps up to 20 s, plus up to
# 5 s more when a response carries x-amz-retry-after). So the validator's
# clients make exactly one attempt with short timeouts, and ``call`` retries
# once itself, only when that attempt's worst case still fits as well.
VALIDATOR_CONNECT_TIMEOUT_SECONDS = 1
VALIDATOR_READ_TIMEOUT_SECONDS = 2
VALIDATOR_CONFIG = Config(
    connect_timeout=VALIDATOR_CONNECT_TIMEOUT_SECONDS,
    read_timeout=VALIDATOR_READ_TIMEOUT_SECONDS,
    retries={"total_max_attempts": 1, "mode": "standard"},
)
CALL_ATTEMPTS = 2
# Bounds of botocore's standard-mode backoff, for clients that do retry.
BOTOCORE_MAX_BACKOFF_SECONDS = 20 + 5
THROTTLE_BACKOFF_SECONDS = 0.2
# botocore's default attempts per retry mode when a Config names none.
_DEFAULT_ATTEMPTS = {"legacy": 5, "standard": 3, "adaptive": 3}

_lock = threading.Lock()
_clients: dict[tuple[str, str, int], Client] = {}
_overrides: dict[tuple[str, str], Client] = {}


def _key(service: str, region: str | None) -> tuple[str, str]:
    # None means the function's own region, so client("s3") and
    # client("s3", <own region>) are one client.
    return service, region or env.get(env.AWS_REGION)


def client(service: str, region: str | None = None, config: Config = DEFAULT_CONFIG) -> Client:
    """The container's client for ``service`` in ``region`` (default: the
    function's own region) with ``config`` (default: the short timeouts above)."""
    key = _key(service, region)
    with _lock:
        if key in _overrides:
            return _overrides[key]
        existing = _clients.get((*key, id(config)))
        if existing is None:
            existing = boto3.client(service, region_name=key[1], config=config)
            _clients[(*key, id(config))] = existing
        return existing


def override(service: str, client_: Client, region: str | None = None) -> None:
    """Tests: ``client(service, region)`` returns ``client_`` whatever the config."""
    with _lock:
        _overrides[_key(service, region)] = client_


def reset() -> None:
    with _lock:
        _clients.clear()
        _overrides.clear()


def attempts_of(config: Config) -> int:
    retries = config.retries or {}
    if retries.get("total_max_attempts"):
        return int(retries["total_max_attempts"])
    if retries.get("max_attempts") is not None:
        return int(retries["max_attempts"]) + 1
    return _DEFAULT_ATTEMPTS.get(retries.get("mode") or "legacy", 5)


def worst_case_seconds(client_: Client) -> float:
    """How long one call on ``client_`` takes at most against an endpoint
    that never accepts (connect timeout) or accepts and never answers (read
    timeout): (connect + read) x attempts, plus botocore's backoff between
    them. Read from the client's own Config, so it cannot drift from it."""
    config = client_.meta.config
    attempts = attempts_of(config)
    per_attempt = float(config.connect_timeout) + float(config.read_timeout)
    return attempts * per_attempt + (attempts - 1) * BOTOCORE_MAX_BACKOFF_SECONDS


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def call(budget: Budget | None, dependency: str, client_: Client, operation: str, **params: Any) -> Any:
    """``client_.<operation>(**params)``, started only when its worst case fits
    ``budget`` (BudgetExhausted otherwise), retried once on a transient error
    when the retry's worst case fits too. Without a budget (the custom
    resources), one call. Raises what botocore raised."""
    method = getattr(client_, operation)
    if budget is None:
        return method(**params)
    worst = worst_case_seconds(client_)
    budget.require(dependency, worst)
    attempt = 1
    while True:
        try:
            return method(**params)
        except (BotoCoreError, ClientError) as e:
            backoff = random.uniform(0, THROTTLE_BACKOFF_SECONDS) if "Throttl" in transient.aws_error_code(e) else 0.0
            if attempt >= CALL_ATTEMPTS or not transient.is_transient_aws(e) or not budget.allows(worst + backoff):
                raise
            logger.warning(
                "transient AWS error; retrying once",
                extra={"dependency": dependency, "operation": operation, "error": type(e).__name__},
            )
        _sleep(backoff)
        attempt += 1
