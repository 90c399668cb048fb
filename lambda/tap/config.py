"""Database settings from SSM Parameter Store and Secrets Manager, cached.

The Aurora endpoints are not in the function's environment (that would make
the compute stack depend on the database stack, the circular dependency the
architecture removes); DatabaseStack writes them to SSM and the functions
read them at run time. A warm container looks them up at most once per
CONFIG_TTL_SECONDS: one GetParameters and one GetSecretValue call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws
from tap.fingerprint import FingerprintKey
from tap.jsonlog import get_logger

if TYPE_CHECKING:  # tap.budget imports this module for BudgetExhausted
    from tap.budget import Budget

logger = get_logger("config")

T = TypeVar("T")


class DependencyError(Exception):
    """A dependency (SSM, Secrets Manager, the database...) is unavailable or
    misconfigured. ``dependency`` names it for the 503 body and the logs."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency

    @property
    def public_reason(self) -> str:
        """For the 503 body: names the dependency, no internal details."""
        return f"{self.dependency} is unavailable"

    @property
    def transient(self) -> bool:
        """Whether the underlying failure may go away on retry."""
        from tap import db  # local import: db imports this module

        cause = self.__cause__
        return cause is not None and (aws.is_transient(cause) or db.is_transient(cause))


class BudgetExhausted(DependencyError):
    """Too little of the invocation's time budget is left to call
    ``dependency`` (see tap/budget.py). Answered 503 like an outage: the call
    would likely have outlived the function, and the client would get a 500."""

    def __init__(self, dependency: str, remaining_seconds: float) -> None:
        super().__init__(dependency, f"time budget exhausted before calling it ({max(0.0, remaining_seconds):.2f} s left)")
        self.remaining_seconds = remaining_seconds

    @property
    def public_reason(self) -> str:
        return f"time budget exhausted before calling {self.dependency}"


class TTLCache(Generic[T]):
    """One value with a maximum age.

    No lock is held while the loader runs: a load left running by a request
    that has already answered (a GET /health check that outlived its answer,
    see tap/health.py) must not make the next request wait for it. Two loads
    may then overlap; each caller gets its own result and the cache keeps one
    of them. In Lambda a container serves one request at a time, so the cost
    is at most one extra lookup, only after such a health check.
    """

    def __init__(
        self,
        loader: Callable[[Budget | None], T],
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        dependency: str,
    ):
        self._loader = loader
        self._ttl = ttl_seconds
        self._clock = clock
        self.dependency = dependency
        self._lock = threading.Lock()  # guards the three fields below, never a load
        self._value: T | None = None
        self._loaded_at: float | None = None
        self._generation = 0

    def get(self, budget: Budget | None = None) -> T:
        with self._lock:
            if self._loaded_at is not None and self._clock() - self._loaded_at < self._ttl:
                return self._value  # type: ignore[return-value]
            generation = self._generation
        started = self._clock()
        value = self._loader(budget)
        with self._lock:
            # A load that began before an invalidate() may carry the very
            # credentials that were refused: hand it back, do not keep it.
            if generation == self._generation and (self._loaded_at is None or started >= self._loaded_at):
                self._value, self._loaded_at = value, started
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._loaded_at = None
            self._value = None


@dataclass(frozen=True)
class DbParameterNames:
    """Names of the SSM parameters, not their values. ``fingerprint_key`` (the
    validator's only) names a SecureString read in the same GetParameters
    call; it may be missing (tap/fingerprint.py: no card part then)."""

    endpoint: str
    port: str
    secret_arn: str
    fingerprint_key: str | None = None


@dataclass(frozen=True)
class DbSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    database: str
    fingerprint_key: FingerprintKey | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"DbSettings(host={self.host!r}, port={self.port}, username={self.username!r}, database={self.database!r})"


def load_db_settings(
    ssm: Any, secrets: Any, names: DbParameterNames, database: str, budget: Budget | None = None
) -> DbSettings:
    """Exactly one SSM call (GetParameters for all three names) and one
    Secrets Manager call, each only if ``budget`` (when given) allows it."""
    wanted = [names.endpoint, names.port, names.secret_arn] + ([names.fingerprint_key] if names.fingerprint_key else [])
    try:
        response = aws.call(budget, "ssm", ssm, "get_parameters", Names=wanted, WithDecryption=True)
    except (BotoCoreError, ClientError) as e:
        logger.exception("could not read database parameters from SSM")
        raise DependencyError("ssm", "could not read database parameters") from e
    missing = [m for m in response.get("InvalidParameters") or [] if m != names.fingerprint_key]
    if missing:
        raise DependencyError("ssm", f"parameters not found: {', '.join(sorted(missing))}")
    values = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
    fingerprint_key = _fingerprint_key(names.fingerprint_key, values)
    try:
        host = values[names.endpoint].strip()
        port = int(values[names.port])
        secret_arn = values[names.secret_arn].strip()
    except (KeyError, ValueError) as e:
        raise DependencyError("ssm", "database parameters are incomplete or malformed") from e
    if not host or not 0 < port < 65536 or not secret_arn:
        raise DependencyError("ssm", "database parameters are incomplete or malformed")

    try:
        secret = aws.call(budget, "secretsmanager", secrets, "get_secret_value", SecretId=secret_arn)
    except (BotoCoreError, ClientError) as e:
        logger.exception("could not read database credentials from Secrets Manager")
        raise DependencyError("secretsmanager", "could not read database credentials") from e
    try:
        credentials = json.loads(secret["SecretString"])
        username = str(credentials["username"])
        password = str(credentials["password"])
    except (KeyError, TypeError, ValueError) as e:
        # Never log the secret itself, not even when it is malformed.
        raise DependencyError("secretsmanager", "secret must be JSON with username and password") from e
    return DbSettings(
        host=host, port=port, username=username, password=password, database=database, fingerprint_key=fingerprint_key
    )


def _fingerprint_key(name: str | None, values: dict[str, str]) -> FingerprintKey | None:
    if name is None:
        return None
    if name not in values:
        # Deployable before the parameter exists: the fingerprint then
        # compares the card by its masked form only, and says so.
        logger.warning("request fingerprint key parameter not found; card changes are detected by their last four digits only")
        return None
    try:
        return FingerprintKey.from_parameter(values[name])
    except ValueError as e:
        # The message names the rule, never the value.
        logger.exception("the request fingerprint key parameter is malformed")
        raise DependencyError("ssm", "the request fingerprint key is malformed") from e
