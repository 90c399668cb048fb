"""Spec: the approval rules (pure, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tap.decision import APPROVED, DECLINED, Merchant, decide, utc_day_bounds
from tap.validation import Transaction

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def txn(amount: str = "40.00", currency: str = "USD") -> Transaction:
    return Transaction("3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f", Decimal(amount), currency, "************1111", "m-1", NOW)


ACTIVE = Merchant("m-1", "ACTIVE", "USD", Decimal("100.00"))


@pytest.mark.parametrize(
    ("merchant", "approved_today", "transaction", "decision", "codes"),
    [
        pytest.param(ACTIVE, "0", txn(), APPROVED, [], id="active merchant, room under the limit"),
        pytest.param(ACTIVE, "60.00", txn("40.00"), APPROVED, [], id="reaching the limit exactly is allowed"),
        pytest.param(ACTIVE, "60.01", txn("40.00"), DECLINED, ["DAILY_LIMIT_EXCEEDED"], id="one cent over the limit"),
        pytest.param(ACTIVE, "0", txn("100.01"), DECLINED, ["DAILY_LIMIT_EXCEEDED"], id="single amount over the limit"),
        pytest.param(None, "0", txn(), DECLINED, ["MERCHANT_NOT_FOUND"], id="unknown merchant"),
        pytest.param(
            Merchant("m-1", "SUSPENDED", "USD", Decimal("100")), "0", txn(), DECLINED, ["MERCHANT_NOT_ACTIVE"], id="suspended"
        ),
        pytest.param(Merchant("m-1", "CLOSED", "USD", Decimal("100")), "0", txn(), DECLINED, ["MERCHANT_NOT_ACTIVE"], id="closed"),
        pytest.param(ACTIVE, "0", txn(currency="EUR"), DECLINED, ["CURRENCY_NOT_ACCEPTED"], id="other currency"),
        pytest.param(
            Merchant("m-1", "SUSPENDED", "USD", Decimal("10")),
            "0",
            txn("40.00"),
            DECLINED,
            ["MERCHANT_NOT_ACTIVE", "DAILY_LIMIT_EXCEEDED"],
            id="every reason is listed",
        ),
        pytest.param(Merchant("m-1", "ACTIVE", "USD", Decimal("0")), "0", txn("0.01"), DECLINED, ["DAILY_LIMIT_EXCEEDED"], id="zero limit"),
    ],
)
def test_decision_table(merchant, approved_today, transaction, decision, codes) -> None:
    result = decide(transaction, merchant, Decimal(approved_today), NOW)
    assert result.decision == decision
    assert [r.code for r in result.reasons] == codes
    assert result.to_dict()["transactionId"] == transaction.transaction_id


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC), dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2)),
        (dt.datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=dt.UTC), dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2)),
        # 01:30 at +02:00 is still the previous UTC day
        (
            dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2024, 4, 30),
            dt.datetime(2024, 5, 1),
        ),
    ],
)
def test_the_daily_limit_counts_utc_calendar_days(moment, start, end) -> None:
    assert utc_day_bounds(moment) == (start, end)
