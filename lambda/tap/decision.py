"""Pure approval rules: a validated transaction, the merchant's row and the
merchant's approved total for the day in, a decision with reasons out."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal

from tap.validation import Transaction

APPROVED = "APPROVED"
DECLINED = "DECLINED"

MERCHANT_ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    status: str
    currency: str
    daily_limit: Decimal


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Decision:
    transaction_id: str
    decision: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    decided_at: _dt.datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "transactionId": self.transaction_id,
            "decision": self.decision,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def utc_day_bounds(moment: _dt.datetime) -> tuple[_dt.datetime, _dt.datetime]:
    """[start, end) of the UTC calendar day containing ``moment`` (naive UTC, as stored)."""
    utc = moment.astimezone(_dt.UTC).replace(tzinfo=None)
    start = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + _dt.timedelta(days=1)


def decide(
    txn: Transaction,
    merchant: Merchant | None,
    approved_today: Decimal,
    decided_at: _dt.datetime,
) -> Decision:
    """All applicable decline reasons are listed, not just the first."""
    reasons: list[Reason] = []
    if merchant is None:
        reasons.append(Reason("MERCHANT_NOT_FOUND", "merchant is not registered"))
    else:
        if merchant.status != MERCHANT_ACTIVE:
            reasons.append(Reason("MERCHANT_NOT_ACTIVE", f"merchant status is {merchant.status}"))
        if merchant.currency != txn.currency:
            # Daily limits are kept in the merchant's settlement currency;
            # without FX rates another currency cannot be counted against it.
            reasons.append(Reason("CURRENCY_NOT_ACCEPTED", f"merchant settles in {merchant.currency} only"))
        elif approved_today + txn.amount > merchant.daily_limit:
            reasons.append(Reason("DAILY_LIMIT_EXCEEDED", "amount would exceed the merchant's daily limit"))
    return Decision(
        transaction_id=txn.transaction_id,
        decision=DECLINED if reasons else APPROVED,
        reasons=tuple(reasons),
        decided_at=decided_at,
    )
