"""Spec: the invocation's time budget (tap/budget.py) and the AWS client
timeouts it relies on (tap/aws.py)."""

from __future__ import annotations

import threading
import time

import pytest

from support import FakeClock, FakeContext
from tap import aws, budget, db
from tap.budget import Budget
from tap.config import BudgetExhausted, DependencyError, TTLCache

# ComputeStack's ValidatorTimeoutSeconds default.
VALIDATOR_DEFAULT_TIMEOUT_SECONDS = 10


@pytest.mark.parametrize(
    ("function_left", "needed", "allowed"),
    [
        pytest.param(10.0, budget.MIN_CALL_SECONDS, True, id="fresh invocation"),
        pytest.param(budget.RESERVE_SECONDS + budget.MIN_CALL_SECONDS, budget.MIN_CALL_SECONDS, True, id="exactly enough"),
        pytest.param(budget.RESERVE_SECONDS + budget.MIN_CALL_SECONDS - 0.01, budget.MIN_CALL_SECONDS, False, id="just short"),
        pytest.param(budget.RESERVE_SECONDS, budget.MIN_CALL_SECONDS, False, id="only the reserve left"),
        pytest.param(0.0, budget.MIN_CALL_SECONDS, False, id="function out of time"),
        pytest.param(5.0, 4.5, False, id="caller asks for more than is left"),
    ],
)
def test_given_the_time_left_when_a_call_is_about_to_start_then_require_allows_it_or_raises_budget_exhausted(
    function_left, needed, allowed
) -> None:
    b = Budget.from_context(FakeContext(function_left, clock=FakeClock()))
    if allowed:
        assert b.require("dynamodb", needed) == pytest.approx(function_left - budget.RESERVE_SECONDS)
    else:
        with pytest.raises(BudgetExhausted) as caught:
            b.require("dynamodb", needed)
        assert caught.value.dependency == "dynamodb"
        assert "time budget exhausted" in str(caught.value)


def test_given_time_passes_then_the_budget_follows_the_lambda_context() -> None:
    clock = FakeClock()
    b = Budget.from_context(FakeContext(10, clock=clock))
    assert b.remaining() == pytest.approx(9.0)
    clock.sleep(8.4)
    assert b.remaining() == pytest.approx(0.6)
    clock.sleep(0.2)
    with pytest.raises(BudgetExhausted):
        b.require("s3")


@pytest.mark.parametrize(
    ("function_left", "limit", "expected"),
    [
        pytest.param(10.0, 2.5, 2.5, id="the limit is shorter"),
        pytest.param(2.0, 2.5, 1.0, id="the invocation has less (2 s minus the reserve)"),
    ],
)
def test_a_limited_budget_ends_at_whichever_comes_first(function_left, limit, expected) -> None:
    clock = FakeClock()
    limited = Budget.from_context(FakeContext(function_left, clock=clock)).limited_to(limit, clock)
    assert limited.remaining() == pytest.approx(expected)
    clock.sleep(expected)
    assert limited.remaining() == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("left", "wanted", "capped"),
    [(9.0, 4.0, 4.0), (2.5, 4.0, 2.5), (0.1, 4.0, budget.MIN_CALL_SECONDS)],
    ids=["plenty left", "less left than the timeout", "never below the minimum pymysql gets"],
)
def test_timeouts_are_capped_to_what_is_left(left, wanted, capped) -> None:
    b = Budget(lambda: left)
    assert b.cap(wanted) == pytest.approx(capped)
    assert db.Timeouts(connect=wanted, read=wanted, write=wanted).capped(b) == db.Timeouts(capped, capped, capped)


def test_budget_exhausted_is_a_non_transient_dependency_error_with_a_public_reason() -> None:
    error = BudgetExhausted("secretsmanager", -0.3)
    assert isinstance(error, DependencyError) and not error.transient
    assert error.public_reason == "time budget exhausted before calling secretsmanager"
    assert "0.00 s left" in str(error)


def test_given_a_load_in_progress_elsewhere_then_the_cache_is_waited_for_only_as_long_as_the_budget_lasts() -> None:
    loading, release = threading.Event(), threading.Event()

    def slow_loader(_budget):
        loading.set()
        release.wait(5)
        return "settings"

    cache = TTLCache(slow_loader, ttl_seconds=300, dependency="ssm")
    first = threading.Thread(target=cache.get)
    first.start()
    try:
        assert loading.wait(5)
        started = time.monotonic()
        with pytest.raises(BudgetExhausted) as caught:
            cache.get(Budget.from_context(FakeContext(budget.RESERVE_SECONDS + 0.1)))
        assert caught.value.dependency == "ssm"
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        first.join(5)
    assert cache.get(Budget(lambda: 9.0)) == "settings"


def test_the_aws_clients_give_up_on_a_hanging_endpoint_within_the_default_validator_timeout() -> None:
    config = aws.client("dynamodb").meta.config
    assert config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == aws.READ_TIMEOUT_SECONDS
    assert config.retries == {"total_max_attempts": aws.MAX_ATTEMPTS, "mode": "standard"}
    # Every attempt hangs until its timeout, with standard mode's backoff
    # (under 1 s) between attempts: a call that hangs still ends inside the
    # default function's budget, in time for the 503.
    worst_call = aws.MAX_ATTEMPTS * max(aws.CONNECT_TIMEOUT_SECONDS, aws.READ_TIMEOUT_SECONDS) + (aws.MAX_ATTEMPTS - 1)
    assert worst_call < VALIDATOR_DEFAULT_TIMEOUT_SECONDS - budget.RESERVE_SECONDS
