"""The time one validator invocation may still spend on its dependencies.

"503 when a dependency is down" only holds if the failure is fast: when a
call outlives the function's timeout (ValidatorTimeoutSeconds, 10 s by
default), Lambda kills the invocation and API Gateway answers 500. So the
budget is derived from ``context.get_remaining_time_in_millis()`` minus a
reserve for building and returning the 503, and

* no dependency call starts when less than MIN_CALL_SECONDS of it is left
  (``require`` raises BudgetExhausted, a DependencyError: the 503 path);
* socket timeouts are capped to what is left where the library allows it
  per call or per connection (pymysql, see tap/db.py; not botocore, whose
  clients are module-level: see tap/aws.py for its short fixed timeouts).

Pure: the remaining time comes from a callable, so tests drive it with a
fake context and clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tap.config import BudgetExhausted

# Kept back from the function's remaining time to log, build and return the
# 503 (milliseconds of work; the rest absorbs a call that ends a bit late).
RESERVE_SECONDS = 1.0
# A healthy call takes milliseconds; with less than this left, starting one
# would only trade a 503 now for a timeout (a 500) a moment later.
MIN_CALL_SECONDS = 0.5


class Budget:
    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        self._remaining = remaining_seconds

    @classmethod
    def from_context(cls, context: Any, reserve_seconds: float = RESERVE_SECONDS) -> "Budget":
        """Follows the Lambda context's clock live, minus ``reserve_seconds``."""
        return cls(lambda: context.get_remaining_time_in_millis() / 1000.0 - reserve_seconds)

    def remaining(self) -> float:
        """Seconds left; negative once the budget is overspent."""
        return self._remaining()

    def limited_to(self, seconds: float, clock: Callable[[], float]) -> "Budget":
        """A budget ending ``seconds`` from now (by ``clock``), or earlier if this one does."""
        end = clock() + seconds
        return Budget(lambda: min(self._remaining(), end - clock()))

    def require(self, dependency: str, seconds: float = MIN_CALL_SECONDS) -> float:
        """Call before calling ``dependency``: the seconds left, or BudgetExhausted."""
        left = self.remaining()
        if left < seconds:
            raise BudgetExhausted(dependency, left)
        return left

    def cap(self, seconds: float) -> float:
        """``seconds``, or what is left if that is less (for socket timeouts;
        never below MIN_CALL_SECONDS, which ``require`` has checked)."""
        return min(seconds, max(self.remaining(), MIN_CALL_SECONDS))

    def acquire(self, lock: threading.Lock, dependency: str) -> None:
        """Waits for ``lock`` no longer than the budget lasts; BudgetExhausted
        when it is still held then (by a /health check left running, see
        tap/health.py, that is itself waiting on ``dependency``)."""
        if not lock.acquire(timeout=max(0.0, self.remaining())):
            raise BudgetExhausted(dependency, self.remaining())
