"""Spec, against a real MariaDB (Debian's mariadb-server): migrations apply,
re-run as a no-op, serialise under concurrency and fail on a changed file;
the validator's merchant and limit checks run against real tables.

Each test gets a database of its own. Locally without a server these tests
skip with the reason; with CI=true a missing server fails the run."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest

import migrate
from support import FakeClock, FakeContext, assert_well_formed, cfn_event
from tap import db, fingerprint, migrate_resource
from tap.budget import Budget
from tap.db_settings import DbSettings
from tap.fingerprint import Fingerprint
from tap.migration_files import MIGRATIONS_DIR, discover, split_statements
from tap.migration_runner import ChecksumMismatch, LockTimeout, apply_migrations, lock_name
from tap.store import TransactionStore
from tap.validation import Transaction
from validator_harness import PAN, ValidatorHarness, transaction_body

pytestmark = pytest.mark.db

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
SHIPPED_VERSION = discover()[-1].version


def fp(transaction: Transaction) -> Fingerprint:
    return fingerprint.of(transaction, None)

# The store tests are about SQL, not time: a budget that never runs out.
BUDGET = Budget(lambda: 3600.0)


@pytest.fixture
def settings(database_server, fresh_database) -> DbSettings:
    return DbSettings(
        host=database_server["host"],
        port=database_server["port"],
        username=database_server["user"],
        password=database_server["password"],
        database=fresh_database,
    )


def server_connection(settings: DbSettings) -> Any:
    return db.connect(settings, tls=None, database=None)


def migrate_now(settings: DbSettings, migrations=None, lock_timeout: float = 10):
    conn = server_connection(settings)
    try:
        return apply_migrations(conn, migrations or discover(), database=settings.database, lock_timeout_seconds=lock_timeout)
    finally:
        conn.close()


def query(settings: DbSettings, sql: str, params: Any = None) -> list[tuple]:
    conn = db.connect(settings, tls=None)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


# --- migrations ------------------------------------------------------------------


def test_given_an_empty_server_when_migrated_then_tables_exist_and_each_migration_is_recorded(settings) -> None:
    result = migrate_now(settings)
    assert result.applied == [m.filename for m in discover()]
    assert result.schema_version == SHIPPED_VERSION
    tables = {r[0] for r in query(settings, "SHOW TABLES")}
    assert {"merchants", "transactions", "schema_migrations"} <= tables
    rows = query(settings, "SELECT version, filename, checksum FROM schema_migrations ORDER BY version")
    assert rows == [(m.version, m.filename, m.checksum) for m in discover()]


def test_given_a_migrated_database_when_migrated_again_then_nothing_changes(settings) -> None:
    migrate_now(settings)
    before = query(settings, "SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
    result = migrate_now(settings)
    assert result.applied == [] and len(result.already_applied) == len(discover())
    assert query(settings, "SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version") == before


def test_every_shipped_migration_can_run_twice_because_mysql_ddl_is_not_transactional(settings) -> None:
    migrate_now(settings)
    conn = db.connect(settings, tls=None)
    try:
        with conn.cursor() as cur:
            for migration in discover():
                for statement in split_statements(migration.sql):
                    cur.execute(statement)
    finally:
        conn.close()


def test_given_four_concurrent_runs_then_each_migration_is_applied_exactly_once(settings, tmp_path) -> None:
    directory = copy_migrations(tmp_path)
    # Not re-runnable and slow on purpose: interleaved runs would collide here.
    (directory / "099_slow_and_strict.sql").write_text("DO SLEEP(0.3);\nCREATE TABLE strict_once (id INT PRIMARY KEY);\n")
    migrations = discover(directory)
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            results.append(migrate_now(settings, migrations, lock_timeout=20))
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    applied = [name for r in results for name in r.applied]
    assert sorted(applied) == sorted(m.filename for m in migrations)
    assert sum(1 for r in results if r.applied) == 1
    counts = query(settings, "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations")
    assert counts == [(SHIPPED_VERSION + 1, SHIPPED_VERSION + 1)]


def test_given_another_connection_holds_the_lock_then_a_run_gives_up_with_a_clear_reason(settings) -> None:
    holder = server_connection(settings)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (lock_name(settings.database),))
            assert cur.fetchone() == (1,)
        with pytest.raises(LockTimeout, match="holds lock"):
            migrate_now(settings, lock_timeout=1)
    finally:
        holder.close()
    # The holder's disconnect released the lock.
    assert migrate_now(settings, lock_timeout=2).schema_version == SHIPPED_VERSION


def test_given_an_applied_migration_file_changed_then_the_run_fails_naming_it(settings, tmp_path) -> None:
    directory = copy_migrations(tmp_path)
    migrate_now(settings, discover(directory))
    path = directory / "001_create_merchants.sql"
    path.write_text(path.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(ChecksumMismatch, match=r"001_create_merchants\.sql"):
        migrate_now(settings, discover(directory))


def test_given_a_new_migration_then_only_it_is_applied(settings, tmp_path) -> None:
    directory = copy_migrations(tmp_path)
    migrate_now(settings, discover(directory))
    (directory / "099_add_merchant_email.sql").write_text("ALTER TABLE merchants ADD COLUMN email VARCHAR(255) NULL;")
    result = migrate_now(settings, discover(directory))
    assert result.applied == ["099_add_merchant_email.sql"] and result.schema_version == 99
    assert "email" in {r[0] for r in query(settings, "SHOW COLUMNS FROM merchants")}


def test_given_a_failing_migration_then_it_is_not_recorded_and_the_lock_is_released(settings, tmp_path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "099_broken.sql").write_text("ALTER TABLE no_such_table ADD COLUMN x INT;")
    with pytest.raises(pymysql.err.ProgrammingError):
        migrate_now(settings, discover(directory))
    assert [r[0] for r in query(settings, "SELECT version FROM schema_migrations")] == [m.version for m in discover()]
    (directory / "099_broken.sql").unlink()
    assert migrate_now(settings, discover(directory), lock_timeout=1).applied == []


# --- the migrate handler end to end -------------------------------------------------


class MigrateEnv:
    def __init__(self, stub, settings: DbSettings, migrations_dir: Path = MIGRATIONS_DIR, connect=None):
        self.ssm, self.ssm_stub = stub("ssm")
        self.sm, self.sm_stub = stub("secretsmanager")
        self.settings = settings
        self.clock = FakeClock()
        migrate.set_dependencies(
            migrate_resource.Dependencies(
                ssm=self.ssm,
                secrets=self.sm,
                # Tests disable TLS explicitly; the handler's default always enables it.
                connect=connect or (lambda s, read_timeout: db.connect(s, tls=None, database=None)),
                migrations_dir=migrations_dir,
                sleep=self.clock.sleep,
                jitter=lambda: 1.0,
            )
        )
        self.props = {
            "WriterEndpointParameter": "/tap/it/db/writer-endpoint",
            "PortParameter": "/tap/it/db/port",
            "SecretArnParameter": "/tap/it/db/secret-arn",
            "DatabaseName": settings.database,
            "MigrationsHash": "x",
        }

    def expect_config(self) -> None:
        arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:it-AbCdEf"
        self.ssm_stub.add_response(
            "get_parameters",
            {
                "Parameters": [
                    {"Name": self.props["WriterEndpointParameter"], "Type": "String", "Value": self.settings.host, "Version": 1},
                    {"Name": self.props["PortParameter"], "Type": "String", "Value": str(self.settings.port), "Version": 1},
                    {"Name": self.props["SecretArnParameter"], "Type": "String", "Value": arn, "Version": 1},
                ]
            },
        )
        self.sm_stub.add_response(
            "get_secret_value",
            {
                "ARN": arn,
                "Name": "it",
                "SecretString": json.dumps({"username": self.settings.username, "password": self.settings.password}),
            },
            {"SecretId": arn},
        )

    def run(self, request_type: str, **kwargs: Any) -> dict:
        event = cfn_event(request_type, self.props, **kwargs)
        body = migrate.handler(event, FakeContext(300))
        assert_well_formed(body, event)
        return body


def test_given_create_update_delete_then_the_handler_migrates_once_and_never_drops_data(stub, settings, cfn_responses) -> None:
    m = MigrateEnv(stub, settings)
    m.expect_config()
    created = m.run("Create")
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["Data"]["SchemaVersion"] == str(SHIPPED_VERSION) and created["Data"]["AppliedCount"] == str(len(discover()))
    query(settings, "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('keep-me', 'K', 'USD', 1)")

    m.expect_config()
    updated = m.run("Update", PhysicalResourceId=created["PhysicalResourceId"])
    assert updated["Status"] == "SUCCESS" and updated["Data"]["AppliedCount"] == "0"
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]

    deleted = m.run("Delete", PhysicalResourceId=created["PhysicalResourceId"])
    assert deleted["Status"] == "SUCCESS"
    assert query(settings, "SELECT merchant_id FROM merchants") == [("keep-me",)]


def test_given_a_changed_file_then_the_handler_answers_failed_with_the_reason(stub, settings, cfn_responses, tmp_path) -> None:
    directory = copy_migrations(tmp_path)
    m = MigrateEnv(stub, settings, directory)
    m.expect_config()
    assert m.run("Create")["Status"] == "SUCCESS"
    (directory / "002_create_transactions.sql").write_text("-- rewritten\n" + (MIGRATIONS_DIR / "002_create_transactions.sql").read_text())
    m.expect_config()
    body = m.run("Update")
    assert body["Status"] == "FAILED"
    assert "002_create_transactions.sql" in body["Reason"] and "never be edited" in body["Reason"]


def test_given_the_server_refuses_connections_at_first_then_the_handler_retries_and_succeeds(stub, settings, cfn_responses) -> None:
    attempts: list[int] = []

    def connect(s: DbSettings, read_timeout: float):
        attempts.append(1)
        if len(attempts) <= 2:
            # A real "can't connect" (2003) from a closed port, as during a failover.
            return db.connect(DbSettings(s.host, 1, s.username, s.password, s.database), tls=None, database=None)
        return db.connect(s, tls=None, database=None)

    m = MigrateEnv(stub, settings, connect=connect)
    m.expect_config()
    body = m.run("Create")
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert len(attempts) == 3 and m.clock.sleeps == [1.0, 2.0]


# --- the validator against real tables ------------------------------------------------


@pytest.fixture
def merchants_db(settings) -> DbSettings:
    migrate_now(settings)
    rows = [
        ("merchant-001", "Active shop", "ACTIVE", "USD", "100.00"),
        ("merchant-eur", "Euro shop", "ACTIVE", "EUR", "1000.00"),
        ("merchant-off", "Suspended shop", "SUSPENDED", "USD", "1000.00"),
        ("merchant-jpy", "Yen shop", "ACTIVE", "JPY", "50000"),
    ]
    for row in rows:
        query(
            settings,
            "INSERT INTO merchants (merchant_id, display_name, status, currency, daily_limit) VALUES (%s, %s, %s, %s, %s)",
            row,
        )
    return settings


class Connections:
    def __init__(self, settings: DbSettings):
        self.settings = settings
        self.conn = None

    def get(self, budget: Budget = BUDGET):
        if self.conn is None:
            self.conn = db.connect(self.settings, tls=None, lock_wait_timeout=5)
        return self.conn

    def require_round_trip(self, budget: Budget = BUDGET) -> None:
        budget.require("database", 5)

    def discard(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def txn(merchant: str = "merchant-001", amount: str = "10.00", currency: str = "USD", txn_id: str | None = None) -> Transaction:
    return Transaction(txn_id or str(uuid.uuid4()), Decimal(amount), currency, "************1111", merchant, NOW)


@pytest.mark.parametrize(
    ("transaction", "decision", "codes"),
    [
        pytest.param(txn(), "APPROVED", [], id="active merchant under its limit"),
        pytest.param(txn(amount="100.00"), "APPROVED", [], id="exactly the daily limit"),
        pytest.param(txn(amount="100.01"), "DECLINED", ["DAILY_LIMIT_EXCEEDED"], id="over the daily limit"),
        pytest.param(txn("merchant-off"), "DECLINED", ["MERCHANT_NOT_ACTIVE"], id="suspended merchant"),
        pytest.param(txn("merchant-nope"), "DECLINED", ["MERCHANT_NOT_FOUND"], id="unknown merchant"),
        pytest.param(txn("merchant-eur"), "DECLINED", ["CURRENCY_NOT_ACCEPTED"], id="wrong currency"),
        pytest.param(txn("merchant-jpy", "49999", "JPY"), "APPROVED", [], id="JPY merchant"),
    ],
)
def test_merchant_checks_against_real_tables(merchants_db, transaction, decision, codes) -> None:
    store = TransactionStore(Connections(merchants_db), clock=lambda: NOW)
    recorded = store.record(transaction, fp(transaction), BUDGET)
    assert recorded.decision.decision == decision
    assert [r.code for r in recorded.decision.reasons] == codes
    (row,) = query(
        merchants_db, "SELECT decision, card_masked, amount FROM transactions WHERE transaction_id = %s", (transaction.transaction_id,)
    )
    assert row[0] == decision and row[1] == "************1111" and row[2] == transaction.amount


def test_the_daily_limit_sums_only_todays_approved_transactions(merchants_db) -> None:
    clock_value = [NOW - dt.timedelta(days=1)]
    store = TransactionStore(Connections(merchants_db), clock=lambda: clock_value[0])
    assert store.record(txn(amount="90.00"), fp(txn(amount="90.00")), BUDGET).decision.decision == "APPROVED"  # yesterday
    clock_value[0] = NOW
    assert store.record(txn(amount="60.00"), fp(txn(amount="60.00")), BUDGET).decision.decision == "APPROVED"
    assert (
        store.record(txn(amount="50.00"), fp(txn(amount="50.00")), BUDGET).decision.decision == "DECLINED"
    )  # declined ones don't count...
    assert store.record(txn(amount="40.00"), fp(txn(amount="40.00")), BUDGET).decision.decision == "APPROVED"  # ...so 60 + 40 still fits
    assert store.record(txn(amount="0.01"), fp(txn(amount="0.01")), BUDGET).decision.decision == "DECLINED"


def test_a_repeated_transaction_id_returns_the_first_decision_even_if_it_would_now_differ(merchants_db) -> None:
    store = TransactionStore(Connections(merchants_db), clock=lambda: NOW)
    first = store.record(
        txn(amount="80.00", txn_id="11111111-1111-4111-8111-111111111111"),
        fp(txn(amount="80.00", txn_id="11111111-1111-4111-8111-111111111111")),
        BUDGET,
    )
    store.record(txn(amount="20.00"), fp(txn(amount="20.00")), BUDGET)
    again = store.record(
        txn(amount="80.00", txn_id="11111111-1111-4111-8111-111111111111"),
        fp(txn(amount="80.00", txn_id="11111111-1111-4111-8111-111111111111")),
        BUDGET,
    )
    assert first.decision.decision == again.decision.decision == "APPROVED"
    assert again.replayed and not first.replayed
    assert query(merchants_db, "SELECT COUNT(*) FROM transactions") == [(2,)]


def test_concurrent_requests_cannot_together_overspend_the_daily_limit(merchants_db) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(10)

    def slow_clock() -> dt.datetime:
        # Called between taking the merchant lock and summing the day's total:
        # widens the race window so that a missing lock would overspend.
        time.sleep(0.03)
        return NOW

    def worker() -> None:
        connections = Connections(merchants_db)
        try:
            connections.get()
            start.wait()
            results.append(
                TransactionStore(connections, clock=slow_clock)
                .record(txn(amount="15.00"), fp(txn(amount="15.00")), BUDGET)
                .decision.decision
            )
        except BaseException as e:
            errors.append(e)
        finally:
            connections.discard()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert results.count("APPROVED") == 6 and results.count("DECLINED") == 4  # 6 x 15 = 90 <= 100 < 105
    total = query(merchants_db, "SELECT SUM(amount) FROM transactions WHERE decision = 'APPROVED'")[0][0]
    assert total == Decimal("90.0000")


def test_concurrent_requests_with_the_same_id_record_one_decision(merchants_db) -> None:
    txn_id = str(uuid.uuid4())
    results: list[Any] = []
    start = threading.Barrier(6)

    def worker() -> None:
        connections = Connections(merchants_db)
        try:
            start.wait()
            results.append(
                TransactionStore(connections, clock=lambda: NOW).record(
                    txn(merchant="merchant-nope", txn_id=txn_id), fp(txn(merchant="merchant-nope", txn_id=txn_id)), BUDGET
                )
            )
        finally:
            connections.discard()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6
    assert sum(1 for r in results if not r.replayed) == 1
    assert {r.decision.decision for r in results} == {"DECLINED"}
    assert query(merchants_db, "SELECT COUNT(*) FROM transactions") == [(1,)]


def test_the_database_refuses_a_card_number_in_clear(merchants_db) -> None:
    with pytest.raises(pymysql.err.OperationalError):
        query(
            merchants_db,
            "INSERT INTO transactions (transaction_id, merchant_id, amount, currency, card_masked, client_timestamp,"
            " decision, reasons, decided_at) VALUES (%s, 'm', 1, 'USD', %s, NOW(), 'APPROVED', '[]', NOW())",
            (str(uuid.uuid4()), PAN),
        )


def test_the_handler_end_to_end_on_real_tables_stores_no_pan_anywhere(stub, merchants_db, capsys) -> None:
    h = ValidatorHarness(stub, connect=lambda s, timeouts: db.connect(merchants_db, tls=None, timeouts=timeouts, lock_wait_timeout=3))
    h.expect_config()
    bodies = [transaction_body(amount="60.00"), transaction_body(amount="60.00"), transaction_body(merchantId="merchant-off")]
    decisions = []
    for body in bodies:
        h.expect_new_transaction(body["transactionId"])
        status, payload, _ = h.post(body)
        assert status == 200, payload
        decisions.append(payload["decision"])
    assert decisions == ["APPROVED", "DECLINED", "DECLINED"]
    dump = []
    for (table,) in query(merchants_db, "SHOW TABLES"):
        dump.extend(query(merchants_db, f"SELECT * FROM `{table}`"))
    everything = repr(dump) + capsys.readouterr().out + json.dumps([p for _, _, p in h.sent], default=str)
    assert PAN not in everything
    assert "************1111" in repr(dump)
