"""Spec: migrations converge. Every pending file is checked (rules, then the
server's parser) before any is applied; a data file applies whole or not at
all; a DDL file that failed half way continues after a fix from where it
stopped; once the timer has answered CloudFormation nothing more runs.
Real MariaDB (marker db), then the rules on their own (pure)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pymysql
import pytest

import migrate
from support import FakeContext, FakeMigrationServer, cfn_event
from tap import cfn, db, migrate_resource
from tap.cancellation import Cancellation, Cancelled
from tap.db_settings import DbSettings
from tap.migration_files import MIGRATIONS_DIR, MigrationFile, MigrationFileError, discover, plan
from tap.migration_runner import PROGRESS_TABLE, InvalidMigration, MigrationError, apply_migrations

SHIPPED = discover()


@pytest.fixture
def settings(database_server, fresh_database) -> DbSettings:
    return DbSettings(
        database_server["host"], database_server["port"], database_server["user"], database_server["password"], fresh_database
    )


def migrate_now(settings: DbSettings, directory: Path, cancellation: Cancellation | None = None):
    conn = db.connect(settings, tls=None, database=None)
    try:
        return apply_migrations(conn, discover(directory), database=settings.database, lock_timeout_seconds=10, cancellation=cancellation)
    finally:
        conn.close()


def query(settings: DbSettings, sql: str) -> list[tuple]:
    conn = db.connect(settings, tls=None)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def tables(settings: DbSettings) -> set[str]:
    conn = db.connect(settings, tls=None, database=None)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (settings.database,))
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


@pytest.fixture
def files(tmp_path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


pytestmark_db = pytest.mark.db


@pytestmark_db
def test_given_a_ddl_file_that_fails_half_way_when_it_is_fixed_then_the_rerun_continues_where_it_stopped(settings, files) -> None:
    path = files / "099_two_tables.sql"
    path.write_text("CREATE TABLE first_one (id INT PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x INT;\n")
    with pytest.raises(pymysql.err.ProgrammingError):
        migrate_now(settings, files)
    assert "first_one" in tables(settings)
    assert query(settings, f"SELECT version, statement_number FROM {PROGRESS_TABLE}") == [(99, 1)]
    assert 99 not in [r[0] for r in query(settings, "SELECT version FROM schema_migrations")]

    # The fix: the first statement as it was (not re-runnable on purpose), the second corrected.
    path.write_text("CREATE TABLE first_one (id INT PRIMARY KEY);\nALTER TABLE first_one ADD COLUMN x INT;\n")
    result = migrate_now(settings, files)

    assert result.applied == ["099_two_tables.sql"]
    assert "x" in {r[0] for r in query(settings, "SHOW COLUMNS FROM first_one")}
    assert query(settings, f"SELECT COUNT(*) FROM {PROGRESS_TABLE}") == [(0,)]


@pytestmark_db
def test_given_a_half_applied_ddl_file_whose_applied_statement_was_changed_then_the_run_refuses_naming_it(settings, files) -> None:
    path = files / "099_two_tables.sql"
    path.write_text("CREATE TABLE first_one (id INT PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x INT;\n")
    with pytest.raises(pymysql.err.ProgrammingError):
        migrate_now(settings, files)
    path.write_text("CREATE TABLE first_one (id BIGINT PRIMARY KEY);\nALTER TABLE first_one ADD COLUMN x INT;\n")
    with pytest.raises(MigrationError, match=r"099_two_tables.sql, statement 1 \(CREATE TABLE first_one"):
        migrate_now(settings, files)


@pytestmark_db
def test_given_a_data_file_that_fails_half_way_then_nothing_of_it_stays_and_the_fixed_file_applies_once(settings, files) -> None:
    path = files / "099_seed_merchants.sql"
    path.write_text(
        "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('seed-1', 'One', 'USD', 10);\n"
        "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('seed-2', 'Two', 'USD', -1);\n"
    )
    with pytest.raises(pymysql.MySQLError):
        migrate_now(settings, files)
    assert query(settings, "SELECT merchant_id FROM merchants") == [], "the first INSERT was rolled back with the file"

    path.write_text(path.read_text().replace("-1);", "20);"))
    assert migrate_now(settings, files).applied == ["099_seed_merchants.sql"]
    assert query(settings, "SELECT merchant_id FROM merchants ORDER BY merchant_id") == [("seed-1",), ("seed-2",)]


@pytestmark_db
def test_given_a_syntax_error_in_the_last_pending_file_then_it_is_found_before_the_first_is_applied(settings, files) -> None:
    (files / "099_broken.sql").write_text("CREATE TABLE fine (id INT);\nCREATE TABLE broken (id INT,, name TEXT);\n")
    with pytest.raises(InvalidMigration, match=r"099_broken.sql, statement 2 \(CREATE TABLE broken.*syntax.*nothing was applied"):
        migrate_now(settings, files)
    assert tables(settings) <= {"schema_migrations", PROGRESS_TABLE}, "001..003 must not have run"
    assert query(settings, "SELECT COUNT(*) FROM schema_migrations") == [(0,)]


@pytestmark_db
def test_given_a_file_mixing_data_and_ddl_then_it_is_refused_naming_the_file_and_statement_before_anything_runs(settings, files) -> None:
    (files / "099_mixed.sql").write_text(
        "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('m', 'M', 'USD', 1);\n"
        "ALTER TABLE merchants ADD COLUMN email VARCHAR(255) NULL;\n"
    )
    with pytest.raises(InvalidMigration, match=r"099_mixed.sql, statement 2 \(ALTER TABLE merchants.*data statements \(statement 1"):
        migrate_now(settings, files)
    assert "merchants" not in tables(settings)


@pytestmark_db
def test_every_shipped_file_follows_the_rules_and_applies_on_a_fresh_database_and_again_as_a_no_op(settings) -> None:
    for migration in SHIPPED:
        plan(migration)
    assert migrate_now(settings, MIGRATIONS_DIR).applied == [m.filename for m in SHIPPED]
    assert migrate_now(settings, MIGRATIONS_DIR).applied == []


# --- cancellation --------------------------------------------------------------------------------


@pytestmark_db
def test_given_the_timer_answered_during_a_statement_then_the_handler_executes_nothing_more_and_a_rerun_finishes(
    stub, settings, files, cfn_responses
) -> None:
    """GIVEN a DDL file whose second statement outlasts the function's time
    WHEN the timer answers FAILED during it THEN the third statement never
    runs, the lock is not even released by a statement, and the next run
    (a retry with time) completes from the third statement on."""
    from test_db_integration import MigrateEnv

    (files / "099_slow.sql").write_text("CREATE TABLE before_timer (id INT);\nDO SLEEP(0.8);\nCREATE TABLE after_timer (id INT);\n")
    migrate_now(settings, MIGRATIONS_DIR)  # only 099 is pending for the handler
    executed: list[str] = []

    def recording_connect(s, read_timeout):
        conn = db.connect(s, tls=None, database=None)
        original = conn.query

        def query_(sql, unbuffered=False):
            executed.append(sql if isinstance(sql, str) else sql.decode())
            return original(sql, unbuffered)

        conn.query = query_
        return conn

    m = MigrateEnv(stub, settings, files, connect=recording_connect)
    m.expect_config()
    event = cfn_event("Create", m.props)
    context = FakeContext(migrate_resource.TIMEOUT_MARGIN_SECONDS + 0.4)
    worker = threading.Thread(target=migrate.handler, args=(event, context))
    worker.start()
    assert cfn_responses.delivered.wait(5)
    worker.join(10)

    (body,) = cfn_responses.bodies
    assert body["Status"] == "FAILED" and "time out" in body["Reason"]
    assert executed[-1].strip().startswith("DO SLEEP"), executed[-3:]
    assert not any(sql.strip().startswith("CREATE TABLE after_timer") for sql in executed)
    assert not any(sql.startswith("SELECT RELEASE_LOCK") for sql in executed)
    assert "before_timer" in tables(settings) and "after_timer" not in tables(settings)
    assert query(settings, f"SELECT version, statement_number FROM {PROGRESS_TABLE}") == [(99, 1)]

    assert migrate_now(settings, files).applied == ["099_slow.sql"]
    assert {"before_timer", "after_timer"} <= tables(settings)


def test_given_a_cancellation_after_some_statements_then_no_further_statement_is_executed_at_all() -> None:
    """The apply loop checks the flag before every statement (fake server)."""
    server = FakeMigrationServer()
    cancellation = Cancellation()
    migration = MigrationFile(99, "099_three.sql", b"CREATE TABLE a (i INT); CREATE TABLE b (i INT); CREATE TABLE c (i INT);")

    def fail(sql: str):
        if sql.startswith("CREATE TABLE b"):
            cancellation.cancel("the timer answered")
        return None

    server.fail = fail
    with pytest.raises(Cancelled):
        apply_migrations(server.connect(), [migration], database="tap", lock_timeout_seconds=1, cancellation=cancellation)
    after = server.executed[server.executed.index("CREATE TABLE b (i INT)") + 1 :]
    assert after == ["INSERT INTO schema_migration_progress (version, statement_number, checksum) VALUES (%s, %s, %s)"]


# --- the rules (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("START TRANSACTION;", "runner manages transactions"),
        ("COMMIT;", "runner manages transactions"),
        ("SET autocommit = 0;", "runner manages transactions"),
        ("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE;", "runner manages transactions"),
        ("USE other;", "selects the database"),
        ("GRANT SELECT ON *.* TO 'x';", "accounts and privileges"),
        ("CREATE DATABASE other;", "runner creates the database"),
        ("DROP SCHEMA tap;", "runner creates the database"),
        ("CREATE USER bob;", "accounts and privileges"),
        ("CREATE PROCEDURE p() SELECT 1;", "stored programs"),
        ("DELIMITER //", "DELIMITER"),
        ("CALL p();", "not supported"),
        ("LOCK TABLES merchants WRITE;", "locks"),
        ("-- only a comment\n", "no SQL statement"),
        ("SELECT 'unterminated;", "unterminated"),
    ],
)
def test_a_file_with_a_statement_the_runner_refuses_is_rejected_naming_file_and_reason(sql, reason) -> None:
    with pytest.raises(MigrationFileError, match=reason) as caught:
        plan(MigrationFile(7, "007_x.sql", sql.encode()))
    assert str(caught.value).startswith("007_x.sql")


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("CREATE TABLE IF NOT EXISTS t (i INT); CREATE INDEX t_i ON t (i);", "ddl"),
        ("INSERT INTO t VALUES (1); UPDATE t SET i = 2; DELETE FROM t WHERE i = 3;", "data"),
        ("SET @x = 1; INSERT INTO t VALUES (@x);", "data"),
        ("SET @d = 'DO 0'; PREPARE s FROM @d; EXECUTE s; DEALLOCATE PREPARE s;", "ddl"),
        ("DO SLEEP(0); SELECT 1;", "ddl"),
    ],
)
def test_files_of_one_kind_with_session_statements_are_accepted(sql, kind) -> None:
    assert plan(MigrationFile(7, "007_x.sql", sql.encode())).kind == kind


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1); CREATE TABLE u (i INT);",
        "ALTER TABLE t ADD COLUMN j INT; UPDATE t SET j = 1;",
        "EXECUTE s; REPLACE INTO t VALUES (1);",
    ],
)
def test_a_file_mixing_data_and_ddl_statements_is_refused(sql) -> None:
    with pytest.raises(MigrationFileError, match="DDL in a file with data statements"):
        plan(MigrationFile(7, "007_x.sql", sql.encode()))


# --- tap/cfn.py's cancellation API (the budget's side of it: test_budget.py) ---------------------


def test_outside_a_run_the_current_cancellation_is_never_set() -> None:
    assert not cfn.current_cancellation().cancelled


def test_the_timer_cancels_the_run_before_it_answers_and_the_handler_sees_it(cfn_responses) -> None:
    seen: list[bool] = []
    release = threading.Event()

    def handler(event, context):
        cancellation = cfn.current_cancellation()
        release.wait(5)
        seen.append(cancellation.cancelled)
        return cfn.Outcome()

    event = cfn_event("Create", {})
    worker = threading.Thread(
        target=lambda: cfn.run(event, FakeContext(1.3), create=handler, update=handler, delete=handler, timeout_margin_seconds=1.0)
    )
    worker.start()
    assert cfn_responses.delivered.wait(5)
    release.set()
    worker.join(5)
    assert seen == [True]
    assert [b["Status"] for b in cfn_responses.bodies] == ["FAILED"]
