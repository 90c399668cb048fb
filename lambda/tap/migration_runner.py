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

* Every pending file is checked before any is applied: its statements are
  split and classified (tap/migration_files.py: a data file or a DDL file,
  never both), and the server parses each one (PREPARE, which checks the
  syntax without running it; errors other than syntax, e.g. a table that an
  earlier pending file creates, wait for the real run).
* A data file runs in one transaction with its schema_migrations row: it
  applies whole or not at all.
* A DDL file cannot (MySQL commits DDL implicitly): each DDL statement that
  succeeded is recorded in schema_migration_progress, and a run after a fix
  skips those (refusing to go on if one of them was changed since) and
  continues with the first that had not run. The shipped files are also
  written re-runnable (IF NOT EXISTS, guarded ALTERs), which covers the one
  gap left: a DDL statement that ran but whose progress row was not written.
* ``cancellation`` (tap/cancellation.py, set by tap/cfn.py's timer) is checked before every statement: once the
  timer has answered CloudFormation, nothing more is executed, not even the
  lock release (closing the connection releases it). The one exception is
  the progress row of a DDL statement that was already running then: it
  records what the database did.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pymysql

from tap.cancellation import Cancellation
from tap.db import Connection, Cursor, one_row, quote_identifier
from tap.errors import UserFacingError
from tap.jsonlog import get_logger
from tap.migration_files import DATA, DDL, MigrationFile, MigrationFileError, MigrationPlan, plan, preview
from tap.transient import mysql_error_code

logger = get_logger("migrations")

MIGRATIONS_TABLE = "schema_migrations"
PROGRESS_TABLE = "schema_migration_progress"
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


CREATE_PROGRESS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
  version INT UNSIGNED NOT NULL,
  statement_number INT UNSIGNED NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (version, statement_number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
"""
# ER_PARSE_ERROR, ER_SYNTAX_ERROR: what PREPARE says about the text itself.
SYNTAX_ERRORS = frozenset({1064, 1149})
# Not preparable, and nothing to parse beyond the name they carry.
_NOT_PREPARED = ("PREPARE", "EXECUTE", "DEALLOCATE")


class MigrationError(UserFacingError):
    pass


class InvalidMigration(MigrationError):
    """A pending file breaks the rules or does not parse; nothing was applied."""


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


def _acquire_lock(cur: Cursor, name: str, timeout_seconds: float) -> None:
    cur.execute("SELECT GET_LOCK(%s, %s)", (name, max(0, int(timeout_seconds))))
    (got,) = one_row(cur)
    if got != 1:
        raise LockTimeout(
            f"another schema migration run holds lock {name!r}; gave up after {int(timeout_seconds)} s"
        )


def _release_lock(cur: Cursor, name: str) -> None:
    try:
        cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
        cur.fetchone()
    except pymysql.MySQLError:
        # The lock dies with the connection anyway; the caller closes it next.
        logger.warning("could not release the migration lock", exc_info=True)


def _check_syntax(cur: Cursor, plans: list[MigrationPlan], cancellation: Cancellation) -> None:
    for p in plans:
        for statement in p.statements:
            if statement.text.lstrip()[:10].upper().startswith(_NOT_PREPARED):
                continue
            cancellation.raise_if_cancelled()
            cur.execute("SET @tap_migration_check = %s", (statement.text,))
            try:
                cur.execute("PREPARE tap_migration_check FROM @tap_migration_check")
            except pymysql.MySQLError as e:
                if mysql_error_code(e) in SYNTAX_ERRORS:
                    raise InvalidMigration(
                        f"{p.migration.filename}, statement {statement.number} ({preview(statement.text)}):"
                        f" the server rejects its syntax: {e.args[1] if len(e.args) > 1 else e}; nothing was applied"
                    ) from e
                continue
            cur.execute("DEALLOCATE PREPARE tap_migration_check")


def _apply_data(conn: Connection, cur: Cursor, p: MigrationPlan, cancellation: Cancellation, record: Callable[[], None]) -> None:
    cancellation.raise_if_cancelled()
    conn.begin()
    try:
        for statement in p.statements:
            cancellation.raise_if_cancelled()
            cur.execute(statement.text)
        cancellation.raise_if_cancelled()
        record()
        conn.commit()
    except Exception:
        if not cancellation.cancelled:
            _rollback(conn)
        # Cancelled: no ROLLBACK either; the caller closes the connection,
        # and the server rolls back what it had open.
        raise


def _apply_ddl(conn: Connection, cur: Cursor, p: MigrationPlan, cancellation: Cancellation, record: Callable[[], None]) -> None:
    m = p.migration
    cur.execute(f"SELECT statement_number, checksum FROM {PROGRESS_TABLE} WHERE version = %s", (m.version,))
    done = {int(n): c for n, c in cur.fetchall()}
    ddl = {s.number: s for s in p.statements if s.kind == DDL}
    for number, checksum in sorted(done.items()):
        statement = ddl.get(number)
        if statement is None or statement.checksum != checksum:
            what = f"({preview(statement.text)}) " if statement else ""
            raise MigrationError(
                f"{m.filename}, statement {number} {what}was applied by an earlier run that failed after it, and has"
                " changed since (or is gone); MySQL cannot undo DDL: restore it as it was and fix forward in later"
                " statements or a new file"
            )
    if done:
        logger.info("resuming a migration that failed half way", extra={"migration": m.filename, "done": sorted(done)})
    for statement in p.statements:
        if statement.number in done:
            continue
        cancellation.raise_if_cancelled()
        cur.execute(statement.text)
        if statement.kind == DDL:
            cur.execute(
                f"INSERT INTO {PROGRESS_TABLE} (version, statement_number, checksum) VALUES (%s, %s, %s)",
                (m.version, statement.number, statement.checksum),
            )
    cancellation.raise_if_cancelled()
    conn.begin()
    try:
        record()
        cur.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE version = %s", (m.version,))
        conn.commit()
    except Exception:
        _rollback(conn)
        raise


def _rollback(conn: Connection) -> None:
    try:
        conn.rollback()
    except pymysql.MySQLError:
        # Only after another error, which is the one reported; the
        # connection is closed next and the server rolls back anyway.
        logger.warning("rollback failed", exc_info=True)


def apply_migrations(
    conn: Connection,
    migrations: list[MigrationFile],
    *,
    database: str,
    lock_timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    cancellation: Cancellation | None = None,
) -> MigrationResult:
    """``conn`` must be in autocommit mode with no database selected."""
    cancellation = cancellation or Cancellation()
    quoted = quote_identifier(database)
    name = lock_name(database)
    result = MigrationResult()
    with conn.cursor() as cur:
        cancellation.raise_if_cancelled()
        _acquire_lock(cur, name, lock_timeout_seconds)
        try:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            conn.select_db(database)
            cur.execute(CREATE_MIGRATIONS_TABLE)
            cur.execute(CREATE_PROGRESS_TABLE)
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

            pending = [m for m in migrations if m.version not in applied]
            try:
                plans = [plan(m) for m in pending]
            except MigrationFileError as e:
                raise InvalidMigration(f"{e}; nothing was applied") from e
            _check_syntax(cur, plans, cancellation)

            for p in plans:
                migration = p.migration
                started = clock()
                logger.info("applying migration", extra={"migration": migration.filename, "kind": p.kind})

                def record(migration: MigrationFile = migration, started: float = started) -> None:
                    cur.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (version, filename, checksum, execution_ms) VALUES (%s, %s, %s, %s)",
                        (migration.version, migration.filename, migration.checksum, int((clock() - started) * 1000)),
                    )

                (_apply_data if p.kind == DATA else _apply_ddl)(conn, cur, p, cancellation, record)
                result.applied.append(migration.filename)
                logger.info("applied migration", extra={"migration": migration.filename})
            newly_applied = [p.migration.version for p in plans]
            result.schema_version = max([*applied.keys(), *newly_applied], default=0)
        finally:
            if not cancellation.cancelled:
                _release_lock(cur, name)
    return result
