"""The exceptions that cross module boundaries in tap.

* DependencyError: a dependency (SSM, Secrets Manager, the database...) is
  unavailable or misconfigured; the validator answers 503 naming it.
* BudgetExhausted: the invocation's time budget (tap/budget.py) does not
  fit the next call; a DependencyError, so also a 503.
* UserFacingError: a custom resource's expected failure, whose message is
  the whole Reason CloudFormation shows (tap/cfn.py).

Kept apart from the modules that raise them, so that the budget, the
settings cache and the database layer can share them without importing one
another.
"""

from __future__ import annotations

from tap import transient


class UserFacingError(Exception):
    """An expected failure whose message is the whole story (the Reason
    shown in the CloudFormation console), without the exception type."""

    user_facing = True


class DependencyError(Exception):
    """A dependency (SSM, Secrets Manager, the database...) is unavailable or
    misconfigured. ``dependency`` names it for the 503 body and the logs."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency

    @property
    def public_reason(self) -> str:
        """For the 503 body: names the dependency, no internal details."""
        return f"{self.dependency} is unavailable"

    @property
    def transient(self) -> bool:
        """Whether the underlying failure (``raise ... from e``) may go away on retry."""
        cause = self.__cause__
        return cause is not None and transient.is_transient(cause)


class BudgetExhausted(DependencyError):
    """Too little of the invocation's time budget is left to call
    ``dependency`` (see tap/budget.py). Answered 503 like an outage: the call
    would likely have outlived the function, and the client would get a 500."""

    def __init__(self, dependency: str, remaining_seconds: float) -> None:
        super().__init__(dependency, f"time budget exhausted before calling it ({max(0.0, remaining_seconds):.2f} s left)")
        self.remaining_seconds = remaining_seconds

    @property
    def public_reason(self) -> str:
        return f"time budget exhausted before calling {self.dependency}"
