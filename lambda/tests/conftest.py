"""Shared fixtures. No test reaches AWS: clients are real botocore clients
wrapped in Stubber (which checks every call against the service model), with
fake credentials, and any unstubbed call is pointed at a closed local port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, Phase, settings

import gate
import migrate
import prerequisites
import validator
from support import ResponseRecorder
from tap import aws, cfn_response

REGION = "us-east-1"

# Generated inputs, the same on every run (derandomize: no flaky CI, no
# example database to carry around); each test bounds its own max_examples.
settings.register_profile(
    "tap",
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=50,
    # No "explain" phase: it re-runs failing examples under a tracer (slow)
    # and only adds hints to a report that the shrunk example already gives.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("tap")


def ci_enabled() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GIVEN no real AWS credentials, config or endpoint can ever be used."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    # Belt and braces: an unstubbed call fails fast on a closed local port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.reset()
    yield
    aws.reset()
    validator.set_app(None)
    migrate.set_dependencies(None)
    gate.set_dependencies(None)
    prerequisites.set_dependencies(None)


@pytest.fixture
def stub() -> Iterator[Callable[[str], tuple[Any, Stubber]]]:
    """Factory: stub("ssm") -> (client, stubber), registered as tap's client;
    stub("cloudwatch", "eu-west-1") for another region's client.
    Every queued response must have been used by the end of the test."""
    stubbers: list[Stubber] = []

    def make(service: str, region: str = REGION) -> tuple[Any, Stubber]:
        # The validator's Config: its time budget reads the worst case from it.
        client = boto3.client(service, region_name=region, config=aws.VALIDATOR_CONFIG)
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        aws.override(service, client, region=region)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.deactivate()
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


_FAULT_REPORT: list[Any] = []


@pytest.fixture
def fault_report() -> list[Any]:
    """Scenarios of the fault-injection run, printed at the end of the session."""
    return _FAULT_REPORT


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FAULT_REPORT:
        return
    worst = max(_FAULT_REPORT, key=lambda s: s.seconds)
    terminalreporter.write_line(
        f"fault injection: {len(_FAULT_REPORT)} scenarios on loopback; worst validator answer"
        f" {worst.seconds:.2f} s ({worst.name}) vs a function timeout of 10 s"
    )


@pytest.fixture
def fake_aws() -> Any:
    """The validator's clients answered in process on a fake clock (validator_harness.FakeAws)."""
    from validator_harness import FakeAws

    return FakeAws()


@pytest.fixture
def cfn_responses(monkeypatch: pytest.MonkeyPatch) -> ResponseRecorder:
    """Captures the response PUT (urllib.request.urlopen) and makes retries instant."""
    recorder = ResponseRecorder()
    monkeypatch.setattr("urllib.request.urlopen", recorder)
    monkeypatch.setattr(cfn_response, "_sleep", lambda seconds: None)
    return recorder


# --- database ------------------------------------------------------------------


def _db_params() -> dict[str, Any]:
    return {
        "host": os.environ.get("TAP_TEST_DB_HOST", "127.0.0.1"),
        "port": int(os.environ.get("TAP_TEST_DB_PORT", "3306")),
        "user": os.environ.get("TAP_TEST_DB_USER", "tap"),
        "password": os.environ.get("TAP_TEST_DB_PASSWORD", "tap"),
        "database_prefix": os.environ.get("TAP_TEST_DB_NAME", "tap_test"),
    }


@pytest.fixture(scope="session")
def database_server() -> dict[str, Any]:
    """A reachable MySQL-compatible server, or a skip (locally) / failure (CI=true)."""
    import pymysql

    params = _db_params()
    error: pymysql.MySQLError | None = None
    try:
        conn = pymysql.connect(
            host=params["host"],
            port=params["port"],
            user=params["user"],
            password=params["password"],
            connect_timeout=3,
        )
        conn.close()
    except pymysql.MySQLError as e:
        error = e
    if error is not None:
        message = (
            f"MariaDB/MySQL not reachable at {params['host']}:{params['port']} as {params['user']!r} ({error}). "
            "Install and start mariadb-server, then run: bash lambda/tests/setup_test_db.sh"
        )
        if ci_enabled():
            pytest.fail(f"CI=true and the database suite cannot run: {message}", pytrace=False)
        pytest.skip(f"database tests skipped: {message}")
    return params


@pytest.fixture
def fresh_database(database_server: dict[str, Any]) -> Iterator[str]:
    """GIVEN a new, empty database of its own (dropped afterwards)."""
    import pymysql

    name = f"{database_server['database_prefix']}_{uuid.uuid4().hex[:12]}"
    admin = pymysql.connect(
        host=database_server["host"],
        port=database_server["port"],
        user=database_server["user"],
        password=database_server["password"],
        autocommit=True,
    )
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
