"""Spec: the validator answers 503, never a timeout, when slow or hanging
dependencies use up the invocation's time (tap/budget.py): a call starts only
when its worst case fits what is left. GET /health answers within its own
short budget (tap/health.py).

Time is a FakeClock: a "slow" stub moves it forward before answering, a
"hanging" one moves it by the client's timeouts and raises what botocore or
pymysql raise then. The generated combinations below, and the loopback fault
servers of test_fault_injection.py (real sockets, real time), prove the same
property. Only the thread tests of /health here use real time."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pymysql
import pytest
from botocore.exceptions import ReadTimeoutError
from hypothesis import given, settings
from hypothesis import strategies as st

from tap import api, aws, budget, db
from validator_harness import ValidatorHarness, http_event, transaction_body

FUNCTION_TIMEOUT = 10.0  # the harness's, and ComputeStack's default
AWS_WORST = aws.VALIDATOR_CONNECT_TIMEOUT_SECONDS + aws.VALIDATOR_READ_TIMEOUT_SECONDS
MESSAGE = "a dependency is unavailable, retry with the same transactionId"


def leaves(seconds_of_budget: float) -> float:
    """How long a step must take to leave ``seconds_of_budget`` of a fresh invocation."""
    return FUNCTION_TIMEOUT - budget.RESERVE_SECONDS - seconds_of_budget


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

# (the step that is slow, what it leaves of the budget, the dependency the 503 names, the AWS calls made)
SLOW_STEPS = [
    pytest.param(
        "dynamodb.GetItem",
        AWS_WORST - 0.1,
        "ssm",
        ["dynamodb.GetItem"],
        id="session read slow: SSM (3 s worst case) not started with 2.9 s left",
    ),
    pytest.param(
        "ssm.GetParameters", AWS_WORST - 0.1, "secretsmanager", ["dynamodb.GetItem", "ssm.GetParameters"], id="SSM slow: secret not read"
    ),
    pytest.param(
        "secretsmanager.GetSecretValue",
        budget.MIN_DB_CONNECT_SECONDS - 0.1,
        "database",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="Secrets Manager slow: no connection opened",
    ),
    pytest.param(
        "database.connect",
        api.VALIDATOR_DB_TIMEOUTS.read - 0.1,
        "database",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="connect slow: no statement whose read timeout does not fit",
    ),
    pytest.param(
        "database.query",
        api.VALIDATOR_DB_TIMEOUTS.read - 0.1,
        "database",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="a statement slow: the next one not started, nothing committed",
    ),
    pytest.param(
        "database.commit",
        AWS_WORST - 0.1,
        "s3",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue"],
        id="commit slow: no audit write",
    ),
    pytest.param(
        "s3.PutObject",
        AWS_WORST - 0.1,
        "dynamodb",
        ["dynamodb.GetItem", "ssm.GetParameters", "secretsmanager.GetSecretValue", "s3.PutObject"],
        id="audit write slow: session table not written",
    ),
]


@pytest.mark.parametrize(("slow", "left", "dependency", "calls"), SLOW_STEPS)
def test_given_a_slow_step_left_less_than_the_next_calls_worst_case_then_503_names_it_before_the_function_times_out(
    stub, slow, left, dependency, calls
) -> None:
    eats = leaves(left)

    def connect(settings, timeouts):
        if slow == "database.connect":
            h.monotonic.sleep(eats)
        conn = h.db.connect(settings, timeouts)
        if slow == "database.commit":
            commit = conn.commit
            conn.commit = lambda: (h.monotonic.sleep(eats), commit())
        return conn

    h = ValidatorHarness(stub, connect=connect)
    body = transaction_body()
    expect_answers(h, body["transactionId"], calls)
    service, operation = slow.split(".")
    if service != "database":
        h.slow_call(service, operation, eats)
    elif operation == "query":
        h.db.fail = lambda sql: h.monotonic.sleep(eats) if "FOR UPDATE" in sql else None

    _, _, result = h.post(body)

    assert_well_formed_503(result, dependency, exhausted(dependency))
    assert h.calls() == calls
    assert h.context.get_remaining_time_in_millis() >= budget.RESERVE_SECONDS * 1000, "the reserve was spent"
    if slow.startswith(("dynamodb.GetItem", "ssm", "secretsmanager", "database.connect", "database.query")):
        assert h.db.transactions == {}, "nothing is committed after the budget ran out"


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
def test_given_an_aws_dependency_that_never_answers_then_one_retry_that_fits_and_a_503_in_time(stub, operation, dependency) -> None:
    h = ValidatorHarness(stub)
    body = transaction_body()
    answered = CALL_ORDER[: CALL_ORDER.index(operation)]
    expect_answers(h, body["transactionId"], answered)
    service, name = operation.split(".")
    h.slow_call(service, name, AWS_WORST, error=read_timeout())

    _, _, result = h.post(body)

    assert_well_formed_503(result, dependency, f"{dependency} is unavailable")
    assert h.calls() == [*answered, operation, operation]
    assert h.context.get_remaining_time_in_millis() >= budget.RESERVE_SECONDS * 1000


def test_given_an_invocation_that_starts_with_less_than_the_reserve_then_503_at_once_without_any_call(stub) -> None:
    h = ValidatorHarness(stub, timeout_seconds=budget.RESERVE_SECONDS + AWS_WORST - 0.1)
    _, _, result = h.post(transaction_body())
    assert_well_formed_503(result, "dynamodb", exhausted("dynamodb"))
    assert h.calls() == [] and h.db.connects == 0


def test_given_little_time_left_when_a_connection_is_opened_then_its_timeouts_are_fitted_so_a_hanging_connect_still_ends_in_503(
    stub,
) -> None:
    opened_with: list[db.Timeouts] = []

    def connect(settings, timeouts):
        opened_with.append(timeouts)
        if len(opened_with) == 1:
            return h.db.connect(settings, timeouts)
        h.monotonic.sleep(timeouts.connect + timeouts.read)  # accepts, never greets
        raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query (timed out)")

    h = ValidatorHarness(stub, connect=connect)
    h.expect_config()
    first = transaction_body(amount="0.01")
    h.expect_new_transaction(first["transactionId"])
    assert h.post(first)[0] == 200
    h.app.store._connections.discard()
    body = transaction_body(amount="0.01")
    h.expect_session_miss(body["transactionId"])
    h.slow_call("dynamodb", "GetItem", leaves(1.5))

    _, _, result = h.post(body)

    assert [round(t.connect_worst_case, 6) for t in opened_with] == [6.0, 1.5]
    assert_well_formed_503(result, "database", "database is unavailable")
    assert h.context.get_remaining_time_in_millis() == pytest.approx(budget.RESERVE_SECONDS * 1000, abs=1)


def test_given_a_connection_opened_with_fitted_timeouts_then_the_next_invocation_replaces_it_and_the_one_after_reuses(
    stub,
) -> None:
    h = ValidatorHarness(stub)
    h.expect_config()
    first = transaction_body(amount="0.01")
    h.expect_new_transaction(first["transactionId"])
    h.slow_call("dynamodb", "GetItem", leaves(5.0))
    assert h.post(first)[0] == 200
    h.slow_call("dynamodb", "GetItem", 0.0)
    for _ in range(2):
        body = transaction_body(amount="0.01")
        h.expect_new_transaction(body["transactionId"])
        assert h.post(body)[0] == 200
    fitted = api.VALIDATOR_DB_TIMEOUTS.fitted(5.0)
    assert h.db.connect_timeouts == [fitted, api.VALIDATOR_DB_TIMEOUTS]
    assert fitted.connect_worst_case == pytest.approx(5.0)


# --- every combination, generated ---------------------------------------------------------

STEPS = [
    "dynamodb.GetItem",
    "ssm.GetParameters",
    "secretsmanager.GetSecretValue",
    "database.connect",
    "database.query",
    "s3.PutObject",
    "dynamodb.PutItem",
]
behaviours = st.one_of(
    st.just(("ok", 0.0)),
    st.just(("hang", 0.0)),
    st.tuples(st.just("slow"), st.floats(0.05, 1.95)),
)


@settings(max_examples=60)
@given(
    plan=st.fixed_dictionaries({step: behaviours for step in STEPS}),
    warm=st.booleans(),
    health_first=st.booleans(),
    timeout=st.sampled_from([8.0, 10.0, 15.0]),
)
def test_given_any_mix_of_slow_and_hanging_dependencies_then_the_answer_comes_before_the_function_timeout(
    fake_aws, plan, warm, health_first, timeout
) -> None:
    """GIVEN each step ok, slow (answers within its read timeout) or hanging
    (never answers: costs the client's timeouts, then raises), cold or warm,
    after a GET /health or not, for the shortest, default and a long function
    timeout WHEN a transaction is posted THEN it is answered (200 or 503)
    with the reserve intact, and 200 only if nothing hung."""
    app, _clock, context_for = fake_aws.app(timeout)
    if warm:
        assert fake_aws.post(app, context_for())["statusCode"] == 200
    if health_first:
        fake_aws.plan = plan
        app.health_spawn = lambda fn: fn()
        app.handle(http_event("GET", "/health"), context_for())
    fake_aws.plan = plan
    fake_aws.calls = []
    context = context_for()
    result = fake_aws.post(app, context)
    assert result["statusCode"] in (200, 503), result
    assert context.get_remaining_time_in_millis() >= budget.RESERVE_SECONDS * 1000 - 1, "the function would have timed out"
    if result["statusCode"] == 200:
        assert not [step for step in fake_aws.calls if plan[step][0] == "hang"]


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
        pytest.param("dynamodb", {"config": "ok", "database": "ok", "sessionTable": "unavailable"}, id="session table hangs"),
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
    h.app.health_budget_seconds = 0.8
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
