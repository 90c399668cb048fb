"""Applies pending migrations to MySQL, one run at a time.

* A MySQL named lock (GET_LOCK) serialises runs: two stacks, or a retry
  racing the original invocation, never interleave. The lock belongs to the
  connection, so a crashed run releases it by disconnecting.
* Each applied migration is recorded in schema_migrations with its checksum;
  re-running is a no-op.
* An applied migration whose file changed fails with a clear reason: the
  database no longer matches what the file says, and only a new migration
  can fix that.
* An applied version with no file (the database is ahead of this code, as
  during a rollback to an older image) is logged and tolerated, so that a
  rollback does not fail on it.

MySQL commits DDL implicitly, so a migration that fails half way is not rolled
back. Migrations are therefore written to be re-runnable (CREATE TABLE IF NOT
EXISTS ...); the tests apply every shipped migration twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pymysql

from tap.cfn import UserFacingError
from tap.db import quote_identifier
from tap.jsonlog import get_logger
from tap.migration_files import MigrationFile, split_statements

logger = get_logger("migrations")

MIGRATIONS_TABLE = "schema_migrations"
MAX_LOCK_NAME = 64  # MySQL 5.7+ limit for GET_LOCK names

CREATE_MIGRATIONS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
  version INT UNSIGNED NOT NULL,
  filename VARCHAR(255) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  execution_ms INT UNSIGNED NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
"""


class MigrationError(UserFacingError):
    pass


class ChecksumMismatch(MigrationError):
    pass


class LockTimeout(MigrationError):
    pass


@dataclass
class MigrationResult:
    applied: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)
    unknown_applied: list[str] = field(default_factory=list)
    schema_version: int = 0


def lock_name(database: str) -> str:
    name = f"tap.migrate.{database}"
    if len(name) > MAX_LOCK_NAME:
        name = f"tap.migrate.{hashlib.sha256(database.encode()).hexdigest()[:40]}"
    return name


def _acquire_lock(cur: Any, name: str, timeout_seconds: float) -> None:
    cur.execute("SELECT GET_LOCK(%s, %s)", (name, max(0, int(timeout_seconds))))
    (got,) = cur.fetchone()
    if got != 1:
        raise LockTimeout(
            f"another schema migration run holds lock {name!r}; gave up after {int(timeout_seconds)} s"
        )


def _release_lock(cur: Any, name: str) -> None:
    try:
        cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
        cur.fetchone()
    except pymysql.MySQLError:
        # The lock dies with the connection anyway; the caller closes it next.
        logger.warning("could not release the migration lock", exc_info=True)


def apply_migrations(
    conn: Any,
    migrations: list[MigrationFile],
    *,
    database: str,
    lock_timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> MigrationResult:
    """``conn`` must be in autocommit mode with no database selected."""
    quoted = quote_identifier(database)
    name = lock_name(database)
    result = MigrationResult()
    with conn.cursor() as cur:
        _acquire_lock(cur, name, lock_timeout_seconds)
        try:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            conn.select_db(database)
            cur.execute(CREATE_MIGRATIONS_TABLE)
            cur.execute(f"SELECT version, filename, checksum FROM {MIGRATIONS_TABLE} ORDER BY version")
            applied = {int(v): (f, c) for v, f, c in cur.fetchall()}
            by_version = {m.version: m for m in migrations}

            for version, (filename, checksum) in sorted(applied.items()):
                migration = by_version.get(version)
                if migration is None:
                    result.unknown_applied.append(filename)
                    continue
                if migration.checksum != checksum:
                    raise ChecksumMismatch(
                        f"migration {migration.filename} was already applied with checksum {checksum[:12]}..."
                        f" but the file now has {migration.checksum[:12]}...; applied migrations must never be"
                        " edited: restore the file and add a new migration instead"
                    )
                result.already_applied.append(migration.filename)
            if result.unknown_applied:
                logger.warning(
                    "database has migrations this code does not know (newer schema); leaving them alone",
                    extra={"unknown": result.unknown_applied},
                )

            for migration in migrations:
                if migration.version in applied:
                    continue
                started = clock()
                logger.info("applying migration", extra={"migration": migration.filename})
                for statement in split_statements(migration.sql):
                    cur.execute(statement)
                elapsed_ms = int((clock() - started) * 1000)
                cur.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (version, filename, checksum, execution_ms) VALUES (%s, %s, %s, %s)",
                    (migration.version, migration.filename, migration.checksum, elapsed_ms),
                )
                conn.commit()
                result.applied.append(migration.filename)
                logger.info("applied migration", extra={"migration": migration.filename, "execution_ms": elapsed_ms})
            newly_applied = [m.version for m in migrations if m.filename in result.applied]
            result.schema_version = max([*applied.keys(), *newly_applied], default=0)
        finally:
            _release_lock(cur, name)
    return result
