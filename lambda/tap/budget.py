"""The time an invocation may still spend on its work: the one time-budget
type of the validator and of the custom resources.

A budget is the function's remaining time (``context.get_remaining_time_in_millis()``)
minus a reserve kept for answering, and it can be stopped early:

* The validator (reserve RESERVE_SECONDS, to log, build and return a 503):
  "503 when a dependency is down" only holds if the failure is fast; when a
  call outlives the function's timeout (ValidatorTimeoutSeconds, 10 s by
  default), Lambda kills the invocation and API Gateway answers 500. So a
  dependency call starts only when its worst case fits what is left
  (``require`` raises BudgetExhausted, a DependencyError: the 503 path):

  * an AWS call: (connect + read timeout) x attempts, read from the client's
    Config (tap/aws.py ``worst_case_seconds``);
  * a new database connection: its connect + read timeouts, which are fitted
    to what is left (tap/db.py ``Timeouts.fitted``), and at least
    MIN_DB_CONNECT_SECONDS;
  * a database round trip: the connection's read timeout.

  By induction every call then ends, even against a dependency that never
  answers, before the budget does, whatever came before it: slow answers
  only leave less for the next call, which is then refused instead of
  started. GET /health adds a cutoff (``with_cutoff``): no call starts once
  its answer is out.

* A custom resource (reserve: its work margin, time for the last step and
  the answer to CloudFormation) built with the run's Cancellation
  (tap/cancellation.py): once the timer has answered, nobody waits for the
  work any more, and the budget has no time left (``remaining`` is 0,
  ``expired`` is true, ``require`` raises).

Pure: the remaining time comes from a callable, so tests drive it with a
fake context and clock.
"""

from __future__ import annotations

from collections.abc import Callable

from tap.cancellation import Cancellation
from tap.errors import BudgetExhausted
from tap.lambda_context import LambdaContext

# Kept back from the validator's remaining time to log, build and return the
# 503 (milliseconds of work; the rest absorbs scheduling and a slow log write).
RESERVE_SECONDS = 1.0
# Below this a database connection is not worth opening: its timeouts would
# be cut so short that a healthy but busy server could miss them.
MIN_DB_CONNECT_SECONDS = 0.5


def _never() -> bool:
    return False


class Budget:
    def __init__(self, remaining_seconds: Callable[[], float], stop: Callable[[], bool] = _never) -> None:
        self._remaining = remaining_seconds
        self._stop = stop

    @classmethod
    def from_context(
        cls,
        context: LambdaContext,
        reserve_seconds: float = RESERVE_SECONDS,
        cancellation: Cancellation | None = None,
    ) -> Budget:
        """Follows the Lambda context's clock live, minus ``reserve_seconds``;
        with ``cancellation``, no time at all is left once it is set."""

        def left() -> float:
            return context.get_remaining_time_in_millis() / 1000.0 - reserve_seconds

        if cancellation is None:
            return cls(left)
        return cls(lambda: 0.0 if cancellation.cancelled else left(), lambda: cancellation.cancelled)

    def remaining(self) -> float:
        """Seconds left; negative once the budget is overspent, 0 once cancelled."""
        return self._remaining()

    def expired(self) -> bool:
        """Nothing more should start: no time left, or stopped."""
        return self._stop() or self.remaining() <= 0

    def with_cutoff(self, seconds: float, clock: Callable[[], float]) -> Budget:
        """The same budget, except that no call starts once ``seconds`` (by
        ``clock``) have passed: for GET /health's checks, whose answer does not
        wait longer than that, so a check still running then should stop at
        its next call rather than go on for nobody."""
        end = clock() + seconds
        return Budget(self._remaining, lambda: self._stop() or clock() >= end)

    def allows(self, worst_case_seconds: float) -> bool:
        return not self._stop() and self.remaining() >= worst_case_seconds

    def require(self, dependency: str, worst_case_seconds: float) -> float:
        """Call right before calling ``dependency``: the seconds left, or
        BudgetExhausted when the call's worst case does not fit them."""
        left = self.remaining()
        if not self.allows(worst_case_seconds):
            raise BudgetExhausted(dependency, left)
        return left
