"""Cancellation of work that nobody waits for any more.

A custom resource's timer answers CloudFormation shortly before the function
times out (tap/cfn.py); from then on the handler, still running, works for
nobody, and a statement or call it still starts can only do harm. The timer
sets the run's Cancellation first; the work checks it (``raise_if_cancelled``
before every step, or a Budget built with it, tap/budget.py, which then has
no time left).
"""

from __future__ import annotations

import threading

from tap.errors import UserFacingError


class Cancelled(UserFacingError):
    """Raised by work that noticed its run was cancelled; its message never
    reaches CloudFormation (the timer has answered already)."""


class Cancellation:
    """Set once CloudFormation has been answered by the timer (or by anyone
    else than the handler)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str) -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(f"cancelled: {self.reason}")

    def wait(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``; True (at once) when cancelled meanwhile."""
        return self._event.wait(max(0.0, seconds))
