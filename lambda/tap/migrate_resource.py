"""The schema-migration custom resource (Custom::SchemaMigrations).

Create and Update apply pending migrations; Delete succeeds without touching
the database (dropping a payments schema because a stack resource went away
would be a disaster; the Aurora cluster has its own snapshot policy).

ResourceProperties: ServiceToken, WriterEndpointParameter, PortParameter,
SecretArnParameter (SSM parameter names), DatabaseName, MigrationsHash (only
there so that CloudFormation sends an Update when the files change).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from tap import aws, cfn, db
from tap.budget import Budget
from tap.cancellation import Cancellation
from tap.cfn import Outcome, current_cancellation
from tap.db_settings import DbParameterNames, DbSettings, load_db_settings
from tap.errors import DependencyError, UserFacingError
from tap.jsonlog import get_logger
from tap.lambda_context import LambdaContext
from tap.migration_files import MIGRATIONS_DIR, discover, migrations_hash
from tap.migration_runner import MigrationError, MigrationResult, apply_migrations
from tap.transient import is_transient_mysql

logger = get_logger("migrate")

# Function timeout is 300 s. The timer answers FAILED 15 s before the end
# (time for the PUT and its retries); the work itself (connection retries,
# waiting for the lock) stops 30 s before the end.
TIMEOUT_MARGIN_SECONDS = 15.0
WORK_MARGIN_SECONDS = 30.0
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 20.0

REQUIRED_PROPERTIES = ("WriterEndpointParameter", "PortParameter", "SecretArnParameter", "DatabaseName")


class InvalidProperties(UserFacingError):
    pass


@dataclass(frozen=True)
class Properties:
    parameters: DbParameterNames
    database: str

    @classmethod
    def parse(cls, props: Mapping[str, Any] | None) -> Properties:
        props = props or {}
        missing = [name for name in REQUIRED_PROPERTIES if not str(props.get(name) or "").strip()]
        if missing:
            raise InvalidProperties(f"missing resource properties: {', '.join(missing)}")
        database = str(props["DatabaseName"]).strip()
        try:
            db.quote_identifier(database)
        except ValueError as e:
            raise InvalidProperties(f"DatabaseName {database!r} must be 1-64 letters, digits or '_'") from e
        return cls(
            parameters=DbParameterNames(
                endpoint=str(props["WriterEndpointParameter"]).strip(),
                port=str(props["PortParameter"]).strip(),
                secret_arn=str(props["SecretArnParameter"]).strip(),
            ),
            database=database,
        )


def _default_connect(settings: DbSettings, read_timeout: float) -> db.Connection:
    seconds = max(5, int(read_timeout))
    return db.connect(
        settings,
        tls=db.TlsConfig.from_env(),
        database=None,
        timeouts=db.Timeouts(connect=5, read=seconds, write=seconds),
    )


@dataclass
class Dependencies:
    ssm: aws.Client
    secrets: aws.Client
    connect: Callable[[DbSettings, float], db.Connection] = _default_connect
    migrations_dir: Path = MIGRATIONS_DIR
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    monotonic: Callable[[], float] = time.monotonic

    @classmethod
    def default(cls) -> Dependencies:
        return cls(ssm=aws.client("ssm"), secrets=aws.client("secretsmanager"))


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DependencyError):
        return exc.transient
    return is_transient_mysql(exc)


def apply_with_retry(
    props: Properties, budget: Budget, deps: Dependencies, cancellation: Cancellation | None = None
) -> MigrationResult:
    """``cancellation``: once set (the timer answered), no further attempt,
    sleep or statement (apply_migrations checks it before each)."""
    cancellation = cancellation or Cancellation()
    migrations = discover(deps.migrations_dir)
    delay = BACKOFF_START_SECONDS
    attempt = 0
    settings: DbSettings | None = None
    while True:
        attempt += 1
        conn = None
        cancellation.raise_if_cancelled()
        try:
            if settings is None:
                settings = load_db_settings(deps.ssm, deps.secrets, props.parameters, props.database)
            conn = deps.connect(settings, max(0.0, budget.remaining()))
            return apply_migrations(
                conn,
                migrations,
                database=props.database,
                lock_timeout_seconds=max(1.0, budget.remaining() - 5.0),
                clock=deps.monotonic,
                cancellation=cancellation,
            )
        except (pymysql.MySQLError, OSError, DependencyError) as e:
            if not _is_transient(e):
                raise
            wait = min(delay, BACKOFF_MAX_SECONDS) * (0.5 + deps.jitter() / 2)
            if budget.remaining() <= wait:
                logger.exception("transient error and no time left to retry", extra={"attempt": attempt})
                raise MigrationError(
                    f"gave up after {attempt} attempt(s), out of time; last error: {type(e).__name__}: {e}"
                ) from e
            logger.warning(
                "transient error; retrying",
                extra={"attempt": attempt, "wait_s": round(wait, 2), "error": f"{type(e).__name__}: {e}"},
            )
            cancellation.raise_if_cancelled()
            deps.sleep(wait)
            delay *= 2
        finally:
            if conn is not None:
                db.close_quietly(conn)


def on_create_or_update(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies) -> Outcome:
    props = Properties.parse(event.get("ResourceProperties"))
    cancellation = current_cancellation()
    budget = Budget.from_context(context, WORK_MARGIN_SECONDS, cancellation)
    result = apply_with_retry(props, budget, deps, cancellation)
    applied = ", ".join(result.applied) or "none"
    logger.info(
        "schema migrations done",
        extra={"applied": result.applied, "schema_version": result.schema_version, "unknown": result.unknown_applied},
    )
    return Outcome(
        data={
            "SchemaVersion": str(result.schema_version),
            "AppliedCount": str(len(result.applied)),
            "MigrationsHash": migrations_hash(deps.migrations_dir),
        },
        reason=f"schema at version {result.schema_version}; applied now: {applied}",
    )


def on_delete(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies | None = None) -> Outcome:
    logger.info("Delete: leaving the schema and its data in place")
    return Outcome(reason="schema and data left in place")


# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
RESOURCE = cfn.Resource(
    default_dependencies=lambda: Dependencies.default(),
    on_create_or_update=on_create_or_update,
    on_delete=on_delete,
    timeout_margin_seconds=TIMEOUT_MARGIN_SECONDS,
)
