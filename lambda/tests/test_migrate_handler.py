"""Spec: migrate.handler (the schema-migration custom resource) answers
CloudFormation on every path, with an in-memory MySQL double. The same
handler runs against a real MariaDB in test_db_integration.py."""

from __future__ import annotations

import json
import shutil
import threading

import pymysql
import pytest

import migrate
from support import FakeClock, FakeContext, FakeMigrationServer, answer_of_the_timer, assert_well_formed, cfn_event
from tap import migrate_resource
from tap.migration_files import MIGRATIONS_DIR, discover, migrations_hash

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap-db-test-AbCdEf"
PROPS = {
    "WriterEndpointParameter": "/tap/test/db/writer-endpoint",
    "PortParameter": "/tap/test/db/port",
    "SecretArnParameter": "/tap/test/db/secret-arn",
    "DatabaseName": "tap",
    "MigrationsHash": migrations_hash(),
}
SHIPPED = discover()


def expect_config(ssm_stub, secrets_stub, secret_error: str | None = None) -> None:
    ssm_stub.add_response(
        "get_parameters",
        {
            "Parameters": [
                {"Name": PROPS["WriterEndpointParameter"], "Type": "String", "Value": "writer.internal", "Version": 1},
                {"Name": PROPS["PortParameter"], "Type": "String", "Value": "3306", "Version": 1},
                {"Name": PROPS["SecretArnParameter"], "Type": "String", "Value": SECRET_ARN, "Version": 1},
            ]
        },
        {
            "Names": [PROPS["WriterEndpointParameter"], PROPS["PortParameter"], PROPS["SecretArnParameter"]],
            "WithDecryption": True,
        },
    )
    if secret_error:
        secrets_stub.add_client_error("get_secret_value", secret_error, http_status_code=400)
        return
    secrets_stub.add_response(
        "get_secret_value",
        {"ARN": SECRET_ARN, "Name": "db", "SecretString": json.dumps({"username": "admin", "password": "pw"})},
        {"SecretId": SECRET_ARN},
    )


class Env:
    def __init__(self, stub, *, connect=None, migrations_dir=MIGRATIONS_DIR, applied=None):
        self.ssm, self.ssm_stub = stub("ssm")
        self.secrets, self.secrets_stub = stub("secretsmanager")
        self.server = FakeMigrationServer(applied)
        self.clock = FakeClock()
        self.connects = 0

        def default_connect(settings, read_timeout):
            self.connects += 1
            return self.server.connect(settings, read_timeout)

        self.deps = migrate_resource.Dependencies(
            ssm=self.ssm,
            secrets=self.secrets,
            connect=connect or default_connect,
            migrations_dir=migrations_dir,
            sleep=self.clock.sleep,
            jitter=lambda: 1.0,
            monotonic=self.clock,
        )
        migrate.set_dependencies(self.deps)

    def context(self, remaining: float = 300.0) -> FakeContext:
        return FakeContext(remaining, clock=self.clock)


@pytest.fixture
def m(stub) -> Env:
    return Env(stub)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_given_pending_migrations_then_they_are_applied_in_order_under_the_lock(m, cfn_responses, request_type) -> None:
    expect_config(m.ssm_stub, m.secrets_stub)
    event = cfn_event(request_type, PROPS)
    body = migrate.handler(event, m.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == {
        "SchemaVersion": str(SHIPPED[-1].version),
        "AppliedCount": str(len(SHIPPED)),
        "MigrationsHash": PROPS["MigrationsHash"],
    }
    sql = m.server.executed
    assert sql[0].startswith("SELECT GET_LOCK") and sql[-1].startswith("SELECT RELEASE_LOCK")
    assert sql[1] == "CREATE DATABASE IF NOT EXISTS `tap` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    assert [v for v, _, _ in m.server.applied] == [mig.version for mig in SHIPPED]
    assert m.server.closed_connections == 1
    assert cfn_responses.bodies == [body]


def test_given_everything_applied_then_an_update_is_a_no_op(stub, cfn_responses) -> None:
    m = Env(stub, applied=[(mig.version, mig.filename, mig.checksum) for mig in SHIPPED])
    expect_config(m.ssm_stub, m.secrets_stub)
    body = migrate.handler(cfn_event("Update", PROPS), m.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["AppliedCount"] == "0"
    assert not any(s.startswith("CREATE TABLE IF NOT EXISTS merchants") for s in m.server.executed)


def test_given_the_database_is_ahead_of_this_code_then_an_update_still_succeeds(stub, cfn_responses) -> None:
    applied = [(mig.version, mig.filename, mig.checksum) for mig in SHIPPED] + [(999, "999_future.sql", "f" * 64)]
    m = Env(stub, applied=applied)
    expect_config(m.ssm_stub, m.secrets_stub)
    body = migrate.handler(cfn_event("Update", PROPS), m.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["SchemaVersion"] == "999"


def test_given_a_delete_then_success_without_touching_aws_or_the_database(m, cfn_responses) -> None:
    event = cfn_event("Delete", PROPS, physical_id="migrations-abc")
    body = migrate.handler(event, m.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == "migrations-abc"
    assert m.connects == 0 and m.server.executed == []


def _sql_failure(prefix: str, error: Exception):
    return lambda sql: error if sql.startswith(prefix) else None


STEP_FAILURES = [
    pytest.param("GET_LOCK raises", _sql_failure("SELECT GET_LOCK", pymysql.err.OperationalError(1064, "x")), "FAILED", id="lock query"),
    pytest.param(
        "CREATE DATABASE", _sql_failure("CREATE DATABASE", pymysql.err.OperationalError(1044, "denied")), "FAILED", id="create database"
    ),
    pytest.param(
        "schema table",
        _sql_failure("CREATE TABLE IF NOT EXISTS schema_migrations", pymysql.err.OperationalError(1142, "denied")),
        "FAILED",
        id="create schema_migrations",
    ),
    pytest.param(
        "read applied", _sql_failure("SELECT version", pymysql.err.ProgrammingError(1146, "no table")), "FAILED", id="read applied"
    ),
    pytest.param(
        "migration",
        _sql_failure("CREATE TABLE IF NOT EXISTS transactions", pymysql.err.ProgrammingError(1064, "syntax")),
        "FAILED",
        id="a migration statement",
    ),
    pytest.param(
        "record",
        _sql_failure("INSERT INTO schema_migrations", pymysql.err.IntegrityError(1062, "dup")),
        "FAILED",
        id="recording a migration",
    ),
    pytest.param(
        "release",
        _sql_failure("SELECT RELEASE_LOCK", pymysql.err.OperationalError(2013, "lost")),
        "SUCCESS",
        id="releasing the lock (tolerated)",
    ),
]


@pytest.mark.parametrize(("step", "fail", "status"), STEP_FAILURES)
def test_given_a_failure_inside_any_database_step_then_one_well_formed_answer_is_sent(m, cfn_responses, step, fail, status) -> None:
    expect_config(m.ssm_stub, m.secrets_stub)
    m.server.fail = fail
    event = cfn_event("Update", PROPS)
    body = migrate.handler(event, m.context())
    assert_well_formed(body, event)
    assert body["Status"] == status, body["Reason"]
    assert len(cfn_responses.requests) == 1
    assert m.clock.sleeps == []  # none of these is transient
    if status == "FAILED":
        assert m.server.executed[-1].startswith("SELECT RELEASE_LOCK") or step == "GET_LOCK raises"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(lambda p: p.pop("WriterEndpointParameter"), "WriterEndpointParameter", id="no endpoint parameter"),
        pytest.param(lambda p: p.pop("SecretArnParameter"), "SecretArnParameter", id="no secret parameter"),
        pytest.param(lambda p: p.update(PortParameter=""), "PortParameter", id="empty port parameter"),
        pytest.param(lambda p: p.update(DatabaseName="tap;DROP"), "DatabaseName", id="unsafe database name"),
    ],
)
def test_given_bad_properties_then_failed_names_them(m, cfn_responses, mutate, reason) -> None:
    props = dict(PROPS)
    mutate(props)
    event = cfn_event("Create", props)
    body = migrate.handler(event, m.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and reason in body["Reason"]


@pytest.mark.parametrize(
    ("service", "code"),
    [("ssm", "AccessDeniedException"), ("secretsmanager", "ResourceNotFoundException")],
)
def test_given_ssm_or_secrets_manager_refuses_then_failed_without_retrying(m, cfn_responses, service, code) -> None:
    if service == "ssm":
        m.ssm_stub.add_client_error("get_parameters", code, http_status_code=400)
    else:
        expect_config(m.ssm_stub, m.secrets_stub, secret_error=code)
    body = migrate.handler(cfn_event("Create", PROPS), m.context())
    assert body["Status"] == "FAILED" and service in body["Reason"]
    assert m.clock.sleeps == []


def test_given_a_throttled_ssm_then_it_is_retried(m, cfn_responses) -> None:
    m.ssm_stub.add_client_error("get_parameters", "ThrottlingException", http_status_code=400)
    expect_config(m.ssm_stub, m.secrets_stub)
    body = migrate.handler(cfn_event("Create", PROPS), m.context())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert m.clock.sleeps == [1.0]


def test_given_transient_connection_errors_then_it_retries_with_backoff_and_succeeds(stub, cfn_responses) -> None:
    failures = [pymysql.err.OperationalError(2003, "Can't connect"), pymysql.err.OperationalError(1040, "Too many connections")]

    def flaky(settings, read_timeout):
        if failures:
            raise failures.pop(0)
        return m.server.connect()

    m = Env(stub, connect=flaky)
    expect_config(m.ssm_stub, m.secrets_stub)  # settings are read once, not per attempt
    body = migrate.handler(cfn_event("Create", PROPS), m.context())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert m.clock.sleeps == [1.0, 2.0]


def test_given_the_database_stays_down_then_retries_stop_in_time_and_failed_is_answered(stub, cfn_responses) -> None:
    attempts: list[float] = []

    def down(settings, read_timeout):
        attempts.append(read_timeout)
        raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")

    m = Env(stub, connect=down)
    expect_config(m.ssm_stub, m.secrets_stub)
    context = m.context(300)
    event = cfn_event("Create", PROPS)
    body = migrate.handler(event, context)
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "gave up" in body["Reason"] and "2003" in body["Reason"]
    assert sum(m.clock.sleeps) <= 300 - migrate_resource.WORK_MARGIN_SECONDS
    assert context.get_remaining_time_in_millis() / 1000 >= migrate_resource.WORK_MARGIN_SECONDS
    assert max(m.clock.sleeps) <= migrate_resource.BACKOFF_MAX_SECONDS
    assert len(attempts) > 3


def test_given_another_run_holds_the_lock_then_failed_says_so(m, cfn_responses) -> None:
    expect_config(m.ssm_stub, m.secrets_stub)
    m.server.lock_result = 0
    body = migrate.handler(cfn_event("Update", PROPS), m.context())
    assert body["Status"] == "FAILED" and "holds lock" in body["Reason"]


def test_given_an_applied_migration_changed_then_failed_names_the_file(stub, cfn_responses) -> None:
    applied = [(mig.version, mig.filename, mig.checksum) for mig in SHIPPED]
    applied[1] = (2, applied[1][1], "0" * 64)
    m = Env(stub, applied=applied)
    expect_config(m.ssm_stub, m.secrets_stub)
    body = migrate.handler(cfn_event("Update", PROPS), m.context())
    assert body["Status"] == "FAILED"
    assert "002_create_transactions.sql" in body["Reason"] and "never be edited" in body["Reason"]


def test_given_a_badly_named_migration_file_then_failed(stub, cfn_responses, tmp_path) -> None:
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m")
    (tmp_path / "m" / "3_oops.sql").write_text("SELECT 1;")
    m = Env(stub, migrations_dir=tmp_path / "m")
    body = migrate.handler(cfn_event("Create", PROPS), m.context())
    assert body["Status"] == "FAILED" and "3_oops.sql" in body["Reason"]


def test_given_a_hanging_database_then_the_timer_answers_failed_before_the_timeout(stub, cfn_responses) -> None:
    release = threading.Event()

    def hangs(settings, read_timeout):
        release.wait(10)
        raise pymysql.err.OperationalError(2013, "Lost connection")

    m = Env(stub, connect=hangs)
    expect_config(m.ssm_stub, m.secrets_stub)
    event = cfn_event("Create", PROPS)
    body = answer_of_the_timer(migrate.handler, event, migrate_resource.TIMEOUT_MARGIN_SECONDS, release, cfn_responses)
    assert body["Status"] == "FAILED" and "time out" in body["Reason"]


def test_given_the_response_put_fails_once_then_it_is_retried(m, cfn_responses) -> None:
    import urllib.error

    cfn_responses.failures = [urllib.error.HTTPError(migrate_resource.__name__, 500, "err", {}, None)]
    expect_config(m.ssm_stub, m.secrets_stub)
    migrate.handler(cfn_event("Create", PROPS), m.context())
    assert [b["Status"] for b in cfn_responses.bodies] == ["SUCCESS", "SUCCESS"]


def test_given_client_creation_fails_then_failed_is_still_answered(cfn_responses, monkeypatch) -> None:
    migrate.set_dependencies(None)

    def no_clients():
        raise RuntimeError("could not build clients")

    monkeypatch.setattr(migrate_resource.Dependencies, "default", classmethod(lambda cls: no_clients()))
    event = cfn_event("Create", PROPS)
    body = migrate.handler(event, FakeContext(300))
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "could not build clients" in body["Reason"]
