"""GET /health: dependency checks under one short, total time budget.

Whoever probes health (a canary, a load test, an operator) needs an answer
in time whatever is down. The checks run in worker threads and the answer
is built when all are done or the health budget has run out, whichever
comes first; a check still running then, or one that finished after it, is
reported "unavailable" with reason "timeout". The bound holds even for AWS
calls, whose client timeouts cannot be cut per call (see tap/aws.py).

Each check gets the invocation's budget with a cutoff at the answer: a call
starts only when its worst case fits the invocation (tap/budget.py), and
none starts once the answer is out. A check left running thus ends before
the invocation would have, holds no lock anyone waits for (TTLCache loads
without one) and shares no connection with later invocations (the database
check opens its own, ConnectionProvider.probe).
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tap.budget import Budget
from tap.errors import BudgetExhausted, DependencyError
from tap.jsonlog import get_logger

logger = get_logger("health")

# Well under API Gateway's 30 s and the function's timeout, and long enough
# for a cold start's SSM, Secrets Manager and TLS handshakes.
HEALTH_BUDGET_SECONDS = 2.5


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Budget], object]


# Checks of one chain run one after the other in one thread; once one is not
# ok the rest are skipped (no database check without database settings).
Chain = Sequence[Check]
Spawn = Callable[[Callable[[], None]], None]


def in_daemon_thread(fn: Callable[[], None]) -> None:
    """Daemon: a check stuck on a hanging dependency must not keep the
    process alive. Copied context: its log lines keep the request id."""
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(fn,), name="tap-health-check", daemon=True).start()


def _run_one(check: Check, budget: Budget, clock: Callable[[], float], answer_at: float) -> dict[str, Any]:
    started = clock()
    status: dict[str, Any]
    try:
        check.run(budget)
        status = {"status": "ok"}
    except BudgetExhausted as e:
        status = {"status": "unavailable", "dependency": e.dependency, "reason": "timeout"}
    except DependencyError as e:
        status = {"status": "unavailable", "dependency": e.dependency}
    except Exception:
        # A health probe must answer, whatever broke; the trace goes to the log.
        logger.exception("health check raised", extra={"check": check.name})
        status = {"status": "unavailable"}
    if status["status"] == "ok" and clock() > answer_at:
        # It answered, but later than the probe may wait: as good as down.
        status = {"status": "unavailable", "reason": "timeout"}
    status["latencyMs"] = round((clock() - started) * 1000, 1)
    return status


def run_checks(
    chains: Sequence[Chain],
    budget: Budget,
    answer_within: float,
    clock: Callable[[], float],
    spawn: Spawn = in_daemon_thread,
) -> dict[str, dict[str, Any]]:
    """Status of every check by name, within ``answer_within`` seconds or
    what ``budget`` has left, whichever is less (see the module docstring)."""
    started = clock()
    answer_at = started + max(0.0, min(answer_within, budget.remaining()))
    check_budget = budget.with_cutoff(answer_at - started, clock)
    results: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def run_chain(chain: Chain, done: threading.Event) -> None:
        try:
            for index, check in enumerate(chain):
                status = _run_one(check, check_budget, clock, answer_at)
                with lock:
                    results[check.name] = status
                    if status["status"] != "ok":
                        for later in chain[index + 1 :]:
                            results[later.name] = {"status": "skipped", "reason": f"{check.name} is not ok"}
                        return
        finally:
            done.set()

    finished = []
    for chain in chains:
        done = threading.Event()
        finished.append(done)
        spawn(functools.partial(run_chain, chain, done))
    for done in finished:
        done.wait(timeout=max(0.0, answer_at - clock()))

    with lock:
        snapshot = dict(results)
    report: dict[str, dict[str, Any]] = {}
    for chain in chains:
        unfinished: str | None = None
        for check in chain:
            if check.name in snapshot:
                report[check.name] = snapshot[check.name]
            elif unfinished is None:
                unfinished = check.name
                report[check.name] = {
                    "status": "unavailable",
                    "reason": "timeout",
                    "latencyMs": round((clock() - started) * 1000, 1),
                }
            else:
                report[check.name] = {"status": "skipped", "reason": f"{unfinished} did not finish in time"}
    return report
