"""Spec: the validator answers 503, never a timeout, when slow or hanging
dependencies use up the invocation's time (tap/budget.py), and GET /health
answers within its own short budget (tap/health.py).

Time is the harness's FakeClock: a "slow" stub moves it forward before
answering, a "hanging" one moves it by botocore's timeouts and raises what
botocore raises then. Only the thread tests of /health use real time."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pymysql
import pytest
from botocore.exceptions import ReadTimeoutError

from tap import api, aws, budget, db
from validator_harness import ValidatorHarness, http_event, transaction_body

FUNCTION_TIMEOUT = 10.0  # the harness's, and ComputeStack's default
# Takes the budget (10 s minus the reserve) down to less than one call needs.
EATS_THE_BUDGET = FUNCTION_TIMEOUT - budget.RESERVE_SECONDS - budget.MIN_CALL_SECONDS + 0.1
# What a call against an endpoint that never answers costs before botocore gives up.
BOTOCORE_GIVES_UP_AFTER = aws.MAX_ATTEMPTS * aws.READ_TIMEOUT_SECONDS + 1.0
MESSAGE = "a dependency is unavailable, retry with the same transactionId"


def read_timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")


def assert_well_formed_503(result: dict[str, Any], dependency: str, reason: str) -> None:
    assert result["statusCode"] == 503
    assert result["headers"]["content-type"] == "application/json" and result["headers"]["retry-after"] == "1"
    assert json.loads(result["body"]) == {"message": MESSAGE, "dependency": dependency, "reason": reason}
    assert "Traceback" not in result["body"]


def exhausted(dependency: str) -> str:
    return f"time budget exhausted before calling {dependency}"


def expect_answers(h: ValidatorHarness, txn_id: str, calls: list[str]) -> None:
    """Queues a Stubber answer for exactly these calls of a new transaction."""
    expect = {
        "dynamodb.GetItem": lambda: h.expect_session_miss(txn_id),
        "ssm.GetParameters": h.expect_parameters,
        "secretsmanager.GetSecretValue": h.expect_secret,
        "s3.PutObject": lambda: h.expect_audit(txn_id),
        "dynamodb.PutItem": lambda: h.expect_session_put(txn_id),
    }
    for call in calls:
        expect[call]()


def join_health_threads() -> None:
    """Waits for checks left running after /health answered, so that nothing
    of this test runs (or logs) during the next one."""
    for thread in threading.enumerate():
        if thread.name == "tap-health-check":
            thread.join(5)


# --- POST /transactions ------------------------------------------------------------

# (the step that is slow, the dependency the 503 names, the AWS calls made)
SLOW_STEPS = [
    pytest.param("dynamodb.GetItem", "ssm", ["dynamodb.GetItem"], id="session table read slow: SSM not called"),
    pytest.param(
        "ssm.GetParameters", "secretsmanager", ["dynamodb.GetItem", "ssm.GetParameters"], id="SSM slow: secret not read"
    ),
    pytest.param(
        "secretsmanager.GetSecretValue",
        "database",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="Secrets Manager slow: no connection opened",
    ),
    pytest.param(
        "database.connect",
        "database",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="database connect slow: no transaction started",
    ),
    pytest.param(
        "database.query",
        "s3",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="database query slow: no audit write",
    ),
    pytest.param(
        "s3.PutObject",
        "dynamodb",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue", "s3.PutObject"],
        id="audit write slow: session table not written",
    ),
]


@pytest.mark.parametrize(("slow", "dependency", "calls"), SLOW_STEPS)
def test_given_a_slow_step_used_up_the_budget_when_the_next_call_is_due_then_503_names_it_before_the_function_times_out(
    stub, slow, dependency, calls
) -> None:
    def connect(settings, timeouts):
        if slow == "database.connect":
            h.monotonic.sleep(EATS_THE_BUDGET)
        return h.db.connect(settings, timeouts)

    h = ValidatorHarness(stub, connect=connect)
    body = transaction_body()
    expect_answers(h, body["transactionId"], calls)
    service, operation = slow.split(".")
    if service != "database":
        h.slow_call(service, operation, EATS_THE_BUDGET)
    elif operation == "query":
        h.db.fail = lambda sql: h.monotonic.sleep(EATS_THE_BUDGET) if "FOR UPDATE" in sql else None

    _, _, result = h.post(body)

    assert_well_formed_503(result, dependency, exhausted(dependency))
    assert h.calls() == calls
    assert h.context.get_remaining_time_in_millis() > 0, "the function would have timed out (a 500)"


# The calls of a new transaction in order; each row hangs one of them.
CALL_ORDER = ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue", "s3.PutObject", "dynamodb.PutItem"]


@pytest.mark.parametrize(
    ("operation", "dependency"),
    [
        pytest.param("dynamodb.GetItem", "dynamodb", id="session table read"),
        pytest.param("ssm.GetParameters", "ssm", id="SSM"),
        pytest.param("secretsmanager.GetSecretValue", "secretsmanager", id="Secrets Manager"),
        pytest.param("s3.PutObject", "s3", id="audit bucket"),
        pytest.param("dynamodb.PutItem", "dynamodb", id="session table write"),
    ],
)
def test_given_an_aws_dependency_that_never_answers_then_botocore_gives_up_in_time_for_a_503(
    stub, operation, dependency
) -> None:
    h = ValidatorHarness(stub)
    body = transaction_body()
    answered = CALL_ORDER[: CALL_ORDER.index(operation)]
    expect_answers(h, body["transactionId"], answered)
    service, name = operation.split(".")
    h.slow_call(service, name, BOTOCORE_GIVES_UP_AFTER, error=read_timeout())

    _, _, result = h.post(body)

    assert_well_formed_503(result, dependency, f"{dependency} is unavailable")
    assert h.calls() == answered + [operation]
    assert h.context.get_remaining_time_in_millis() > 0


def test_given_an_invocation_that_starts_with_less_than_the_reserve_then_503_at_once_without_any_call(stub) -> None:
    h = ValidatorHarness(stub, timeout_seconds=budget.RESERVE_SECONDS + budget.MIN_CALL_SECONDS - 0.1)
    _, _, result = h.post(transaction_body())
    assert_well_formed_503(result, "dynamodb", exhausted("dynamodb"))
    assert h.calls() == [] and h.db.connects == 0


def test_given_little_time_left_when_a_connection_is_opened_then_its_timeouts_are_capped_so_a_hanging_connect_still_ends_in_503(
    stub,
) -> None:
    opened_with: list[db.Timeouts] = []

    def hanging_connect(settings, timeouts):
        opened_with.append(timeouts)
        h.monotonic.sleep(timeouts.connect)  # the server never completes the handshake
        raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server (timed out)")

    h = ValidatorHarness(stub, connect=hanging_connect)
    body = transaction_body()
    h.expect_session_miss(body["transactionId"])
    h.expect_config()
    h.slow_call("ssm", "GetParameters", 7.5)  # leaves 2.5 s of the function, 1.5 s of budget

    _, _, result = h.post(body)

    assert opened_with == [db.Timeouts(connect=1.5, read=1.5, write=1.5)]
    assert_well_formed_503(result, "database", "database is unavailable")
    # Uncapped, the 3 s connect timeout would have outlived the function.
    assert api.VALIDATOR_DB_TIMEOUTS.connect > 1.5 + budget.RESERVE_SECONDS
    assert h.context.get_remaining_time_in_millis() == pytest.approx(budget.RESERVE_SECONDS * 1000, abs=1)


def test_given_a_connection_opened_with_capped_timeouts_then_the_next_invocation_replaces_it_and_the_one_after_reuses(
    stub,
) -> None:
    h = ValidatorHarness(stub)
    h.expect_config()
    first = transaction_body(amount="0.01")
    h.expect_new_transaction(first["transactionId"])
    h.slow_call("ssm", "GetParameters", 6.0)  # 3 s of budget left when connecting
    assert h.post(first)[0] == 200
    for _ in range(2):
        body = transaction_body(amount="0.01")
        h.expect_new_transaction(body["transactionId"])
        assert h.post(body)[0] == 200
    assert h.db.connect_timeouts == [db.Timeouts(connect=3, read=3, write=3), api.VALIDATOR_DB_TIMEOUTS]


# --- GET /health -----------------------------------------------------------------------


def inline(fn) -> None:
    """Runs the checks in the calling thread, one chain after the other, so
    that fake-clock time adds up deterministically."""
    fn()


def test_given_a_health_check_that_answers_after_the_health_budget_then_it_is_reported_unavailable(stub) -> None:
    h = ValidatorHarness(stub)
    h.app.health_spawn = inline
    h.expect_config()
    h.ddb_stub.add_response("get_item", {})
    h.slow_call("dynamodb", "GetItem", api.health.HEALTH_BUDGET_SECONDS + 0.5)

    status, payload, _ = h.invoke(http_event("GET", "/health"))

    assert status == 503 and payload["status"] == "degraded"
    assert {k: v["status"] for k, v in payload["checks"].items()} == {
        "config": "ok",
        "database": "ok",
        "sessionTable": "unavailable",
    }
    assert payload["checks"]["sessionTable"]["reason"] == "timeout"


def test_given_the_health_budget_is_spent_then_later_checks_are_not_started(stub) -> None:
    h = ValidatorHarness(stub)
    h.app.health_spawn = inline
    h.expect_parameters()  # no secret, no GetItem queued: they must not be called
    h.slow_call("ssm", "GetParameters", api.health.HEALTH_BUDGET_SECONDS)

    started = h.monotonic()
    status, payload, _ = h.invoke(http_event("GET", "/health"))

    assert status == 503
    checks = payload["checks"]
    assert checks["config"] == {
        "status": "unavailable",
        "dependency": "secretsmanager",
        "reason": "timeout",
        "latencyMs": api.health.HEALTH_BUDGET_SECONDS * 1000,
    }
    assert checks["database"]["status"] == "skipped"
    assert checks["sessionTable"]["status"] == "unavailable" and checks["sessionTable"]["reason"] == "timeout"
    assert h.calls() == ["ssm.GetParameters"]
    assert h.monotonic() - started <= api.health.HEALTH_BUDGET_SECONDS


@pytest.mark.parametrize(
    ("hanging", "expected"),
    [
        pytest.param(
            "dynamodb", {"config": "ok", "database": "ok", "sessionTable": "unavailable"}, id="session table hangs"
        ),
        pytest.param("ssm", {"config": "unavailable", "database": "skipped", "sessionTable": "ok"}, id="SSM hangs"),
        pytest.param("database", {"config": "ok", "database": "unavailable", "sessionTable": "ok"}, id="database hangs"),
    ],
)
def test_given_a_dependency_that_hangs_then_health_answers_within_its_budget(stub, hanging, expected) -> None:
    """Real threads and real time: the hanging call blocks until released."""
    release = threading.Event()

    def hang() -> None:
        release.wait(10)
        raise read_timeout()

    def connect(settings, timeouts):
        if hanging == "database":
            release.wait(10)
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server (timed out)")
        return h.db.connect(settings, timeouts)

    h = ValidatorHarness(stub, connect=connect)
    h.app.monotonic = time.monotonic
    h.app.health_budget_seconds = budget.MIN_CALL_SECONDS + 0.3
    if hanging == "ssm":
        h.on_call("ssm", "GetParameters", hang)
    else:
        h.expect_config()
    if hanging == "dynamodb":
        h.on_call("dynamodb", "GetItem", hang)
    else:
        h.ddb_stub.add_response("get_item", {})

    started = time.monotonic()
    try:
        status, payload, result = h.invoke(http_event("GET", "/health"))
        elapsed = time.monotonic() - started
    finally:
        release.set()
        join_health_threads()

    assert elapsed < h.app.health_budget_seconds + 0.5, f"health took {elapsed:.2f} s"
    assert status == 503 and payload["status"] == "degraded"
    assert {k: v["status"] for k, v in payload["checks"].items()} == expected
    timed_out = next(k for k, v in expected.items() if v == "unavailable")
    assert payload["checks"][timed_out]["reason"] == "timeout"
    assert "Traceback" not in result["body"]
