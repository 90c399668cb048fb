"""Spec: the invocation's time budget (tap/budget.py), the one time-budget type
of the validator and the custom resources: a call starts only when its worst
case fits, and nothing starts once a custom resource's run is cancelled; the
AWS clients' worst case (tap/aws.py) and aws.call's budget-aware retry;
database timeouts fitted to the budget (tap/db.py); the settings cache never
makes a request wait for a load it did not start."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from support import FakeClock, FakeContext
from tap import aws, budget, db
from tap.budget import Budget
from tap.cancellation import Cancellation, Cancelled
from tap.errors import BudgetExhausted, DependencyError
from tap.ttl_cache import TTLCache

# ComputeStack's ValidatorTimeoutSeconds: default and minimum.
VALIDATOR_DEFAULT_TIMEOUT_SECONDS = 10
VALIDATOR_MIN_TIMEOUT_SECONDS = 8


@pytest.mark.parametrize(
    ("function_left", "worst_case", "allowed"),
    [
        pytest.param(10.0, 3.0, True, id="fresh invocation"),
        pytest.param(budget.RESERVE_SECONDS + 3.0, 3.0, True, id="exactly enough"),
        pytest.param(budget.RESERVE_SECONDS + 2.99, 3.0, False, id="just short of the worst case"),
        pytest.param(2.0, 0.5, True, id="a short call still fits"),
        pytest.param(budget.RESERVE_SECONDS, 0.1, False, id="only the reserve left"),
        pytest.param(0.0, 0.0, False, id="function out of time"),
    ],
)
def test_given_the_time_left_when_a_call_is_about_to_start_then_it_starts_only_if_its_worst_case_fits(
    function_left, worst_case, allowed
) -> None:
    b = Budget.from_context(FakeContext(function_left, clock=FakeClock()))
    if allowed:
        assert b.require("dynamodb", worst_case) == pytest.approx(function_left - budget.RESERVE_SECONDS)
    else:
        with pytest.raises(BudgetExhausted) as caught:
            b.require("dynamodb", worst_case)
        assert caught.value.dependency == "dynamodb" and "time budget exhausted" in str(caught.value)


def test_given_time_passes_then_the_budget_follows_the_lambda_context() -> None:
    clock = FakeClock()
    b = Budget.from_context(FakeContext(10, clock=clock))
    assert b.remaining() == pytest.approx(9.0)
    clock.sleep(6.5)
    assert b.require("s3", 2.5) == pytest.approx(2.5)
    clock.sleep(0.1)
    with pytest.raises(BudgetExhausted):
        b.require("s3", 2.5)


def test_given_a_cutoff_then_nothing_starts_after_it_but_what_may_start_is_judged_on_the_whole_budget() -> None:
    clock = FakeClock()
    parent = Budget.from_context(FakeContext(10, clock=clock))
    limited = parent.with_cutoff(2.5, clock)
    assert limited.require("ssm", 3.0) == pytest.approx(9.0)  # longer than the cutoff, within the invocation
    clock.sleep(2.5)
    with pytest.raises(BudgetExhausted):
        limited.require("ssm", 0.0)
    assert parent.require("ssm", 3.0) == pytest.approx(6.5)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        pytest.param(9.0, db.Timeouts(2, 4, 4), id="plenty left: unchanged"),
        pytest.param(6.0, db.Timeouts(2, 4, 4), id="exactly the worst case"),
        pytest.param(3.0, db.Timeouts(1, 2, 2), id="half: all halved"),
        pytest.param(0.0, db.Timeouts(0, 0, 0), id="nothing left"),
    ],
)
def test_database_timeouts_are_fitted_so_that_a_connection_attempt_fits_what_is_left(left, expected) -> None:
    fitted = db.Timeouts(connect=2, read=4, write=4).fitted(left)
    assert (fitted.connect, fitted.read, fitted.write) == pytest.approx((expected.connect, expected.read, expected.write))
    assert fitted.connect_worst_case <= max(left, 0.0) + 1e-9


def test_budget_exhausted_is_a_non_transient_dependency_error_with_a_public_reason() -> None:
    error = BudgetExhausted("secretsmanager", -0.3)
    assert isinstance(error, DependencyError) and not error.transient
    assert error.public_reason == "time budget exhausted before calling secretsmanager"
    assert "0.00 s left" in str(error)


def test_given_a_load_left_running_elsewhere_then_the_next_get_does_not_wait_for_it() -> None:
    """GIVEN a /health check whose settings load hangs (it holds no lock)
    WHEN the next request reads the cache THEN it loads on its own at once."""
    loading, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def loader(_budget):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            loading.set()
            release.wait(5)
            return "stale"
        return "fresh"

    cache = TTLCache(loader, ttl_seconds=300, dependency="ssm")
    first = threading.Thread(target=cache.get, name="left-running")
    first.start()
    try:
        assert loading.wait(5)
        started = time.monotonic()
        assert cache.get(Budget(lambda: 9.0)) == "fresh"
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        first.join(5)
    assert cache.get() == "fresh", "the load that started later is the one kept"


def test_given_an_invalidation_during_a_load_then_that_load_is_not_kept() -> None:
    cache: TTLCache[str]

    def loader(_budget) -> str:
        cache.invalidate()  # e.g. the database refused the credentials meanwhile
        return "old password"

    cache = TTLCache(loader, ttl_seconds=300, dependency="ssm")
    assert cache.get() == "old password"
    cache._loader = lambda _budget: "new password"
    assert cache.get() == "new password"


# --- custom resources: a work margin and the run's cancellation -------------------------------


def test_given_a_custom_resources_work_margin_then_the_budget_keeps_it_for_answering() -> None:
    b = Budget.from_context(FakeContext(100), 30)
    assert 69 <= b.remaining() <= 70
    assert not b.expired()
    assert Budget.from_context(FakeContext(10), 30).expired()


def test_given_no_cancellation_then_the_budget_follows_the_clock_alone() -> None:
    assert Budget.from_context(FakeContext(100), 30).remaining() > 69


def test_given_a_cancellation_when_it_is_set_then_the_budget_has_no_time_left() -> None:
    cancellation = Cancellation()
    b = Budget.from_context(FakeContext(100), 30, cancellation)
    assert b.remaining() > 69
    cancellation.cancel("answered")
    assert b.remaining() == 0 and b.expired()
    assert not b.allows(0.0)
    with pytest.raises(BudgetExhausted):
        b.require("database", 0.0)
    with pytest.raises(Cancelled, match="answered"):
        cancellation.raise_if_cancelled()


# --- AWS clients -------------------------------------------------------------------


def test_the_validator_clients_make_one_attempt_whose_worst_case_fits_even_the_shortest_function_timeout() -> None:
    client = aws.client("dynamodb", config=aws.VALIDATOR_CONFIG)
    assert aws.attempts_of(client.meta.config) == 1
    worst = aws.worst_case_seconds(client)
    assert worst == aws.VALIDATOR_CONNECT_TIMEOUT_SECONDS + aws.VALIDATOR_READ_TIMEOUT_SECONDS
    assert worst <= VALIDATOR_MIN_TIMEOUT_SECONDS - budget.RESERVE_SECONDS
    # Even a retry of a hanging call fits a default invocation.
    assert aws.CALL_ATTEMPTS * worst <= VALIDATOR_DEFAULT_TIMEOUT_SECONDS - budget.RESERVE_SECONDS


def test_the_custom_resource_config_would_never_fit_a_validator_budget_which_is_why_the_validator_has_its_own() -> None:
    worst = aws.worst_case_seconds(aws.client("ssm"))
    assert worst == aws.MAX_ATTEMPTS * (aws.CONNECT_TIMEOUT_SECONDS + aws.READ_TIMEOUT_SECONDS) + aws.BOTOCORE_MAX_BACKOFF_SECONDS
    assert worst > VALIDATOR_DEFAULT_TIMEOUT_SECONDS


class FlakyClient:
    """Quacks like a botocore client: meta.config, and one operation."""

    def __init__(self, failures: list[Exception], clock: FakeClock, seconds_per_call: float) -> None:
        self.meta = aws.client("s3", config=aws.VALIDATOR_CONFIG).meta
        self.failures = failures
        self.clock = clock
        self.seconds = seconds_per_call
        self.calls = 0

    def put_object(self, **params):
        self.calls += 1
        self.clock.sleep(self.seconds)
        if self.failures:
            raise self.failures.pop(0)
        return {"ETag": "x"}


TIMEOUT = ReadTimeoutError(endpoint_url="http://127.0.0.1:1/")


@pytest.mark.parametrize(
    ("function_left", "failures", "calls", "outcome"),
    [
        pytest.param(10.0, [TIMEOUT], 2, "ok", id="a timeout, and room for one retry: retried"),
        pytest.param(10.0, [TIMEOUT, TIMEOUT], 2, ReadTimeoutError, id="retried once only"),
        pytest.param(6.5, [TIMEOUT], 1, ReadTimeoutError, id="no room left for the retry's worst case: the error, at once"),
        pytest.param(10.0, [ConnectTimeoutError(endpoint_url="x")], 2, "ok", id="connect timeout retried"),
        pytest.param(3.9, [], 0, BudgetExhausted, id="the first attempt does not fit: not started"),
    ],
)
def test_aws_call_retries_a_transient_failure_only_when_the_retry_fits_too(function_left, failures, calls, outcome) -> None:
    clock = FakeClock()
    b = Budget.from_context(FakeContext(function_left, clock=clock))
    client = FlakyClient(list(failures), clock, seconds_per_call=aws.worst_case_seconds(aws.client("s3", config=aws.VALIDATOR_CONFIG)))
    if outcome == "ok":
        assert aws.call(b, "s3", client, "put_object", Bucket="b") == {"ETag": "x"}
    else:
        with pytest.raises(outcome):
            aws.call(b, "s3", client, "put_object", Bucket="b")
    assert client.calls == calls
    assert b.remaining() >= 0, "the function would have timed out"


def test_given_a_health_cutoff_passed_during_the_first_attempt_then_aws_call_does_not_retry() -> None:
    clock = FakeClock()
    b = Budget.from_context(FakeContext(10, clock=clock)).with_cutoff(2.5, clock)
    client = FlakyClient([TIMEOUT], clock, seconds_per_call=aws.worst_case_seconds(aws.client("s3", config=aws.VALIDATOR_CONFIG)))
    with pytest.raises(ReadTimeoutError):
        aws.call(b, "s3", client, "put_object", Bucket="b")
    assert client.calls == 1
