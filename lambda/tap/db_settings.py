"""Database settings from SSM Parameter Store and Secrets Manager.

The Aurora endpoints are not in the function's environment (that would make
the compute stack depend on the database stack, the circular dependency the
architecture removes); DatabaseStack writes them to SSM and the functions
read them at run time. The validator keeps them in a TTLCache
(tap/ttl_cache.py), so a warm container looks them up at most once per
CONFIG_TTL_SECONDS: one GetParameters and one GetSecretValue call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws
from tap.budget import Budget
from tap.errors import DependencyError
from tap.fingerprint import FingerprintKey
from tap.jsonlog import get_logger

logger = get_logger("config")


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
    ssm: aws.Client, secrets: aws.Client, names: DbParameterNames, database: str, budget: Budget | None = None
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
