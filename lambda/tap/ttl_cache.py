"""One value with a maximum age, loaded on demand (the database settings
from SSM and Secrets Manager, tap/db_settings.py).

No lock is held while the loader runs: a load left running by a request that
has already answered (a GET /health check that outlived its answer, see
tap/health.py) must not make the next request wait for it. Two loads may then
overlap; each caller gets its own result and the cache keeps one of them. In
Lambda a container serves one request at a time, so the cost is at most one
extra lookup, only after such a health check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from tap.budget import Budget

T = TypeVar("T")


class TTLCache(Generic[T]):
    def __init__(
        self,
        loader: Callable[[Budget | None], T],
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        dependency: str,
    ):
        self._loader = loader
        self._ttl = ttl_seconds
        self._clock = clock
        self.dependency = dependency
        self._lock = threading.Lock()  # guards the two fields below, never a load
        self._entry: tuple[T, float] | None = None  # (value, when its load started)
        self._generation = 0

    def get(self, budget: Budget | None = None) -> T:
        with self._lock:
            if self._entry is not None and self._clock() - self._entry[1] < self._ttl:
                return self._entry[0]
            generation = self._generation
        started = self._clock()
        value = self._loader(budget)
        with self._lock:
            # A load that began before an invalidate() may carry the very
            # credentials that were refused: hand it back, do not keep it.
            if generation == self._generation and (self._entry is None or started >= self._entry[1]):
                self._entry = (value, started)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None
