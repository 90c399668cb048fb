"""Merchant checks and the transaction record in Aurora MySQL.

The merchant row is locked (SELECT ... FOR UPDATE) while the day's approved
total is summed and the new transaction inserted, so concurrent requests for
one merchant cannot together overspend its daily limit. The transaction id is
the primary key: a repeated id returns the decision recorded the first time.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import pymysql
from pymysql.constants import ER

from tap import db
from tap.budget import Budget
from tap.config import DependencyError
from tap.decision import Decision, Merchant, Reason, decide, utc_day_bounds
from tap.jsonlog import get_logger
from tap.validation import CURRENCY_EXPONENTS, Transaction

logger = get_logger("store")

ATTEMPTS = 2  # one retry on deadlock / lost connection; the validator has 10 s in all


class Connections(Protocol):
    def get(self, budget: Budget) -> Any: ...

    def require_round_trip(self, budget: Budget) -> None: ...

    def probe(self, budget: Budget, sql: str) -> None: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Recorded:
    """The decision and the transaction as first recorded (on a replay, the
    stored transaction, not the retry's payload)."""

    transaction: Transaction
    decision: Decision
    replayed: bool


def _naive_utc(moment: _dt.datetime) -> _dt.datetime:
    return moment.astimezone(_dt.timezone.utc).replace(tzinfo=None)


_SELECT_RECORDED = (
    "SELECT transaction_id, merchant_id, amount, currency, card_masked, client_timestamp,"
    " decision, reasons, decided_at FROM transactions WHERE transaction_id = %s"
)


def _recorded_from_row(row: tuple[Any, ...]) -> Recorded:
    (txn_id, merchant_id, amount, currency, card_masked, client_ts, decision, reasons_json, decided_at) = row
    reasons = tuple(Reason(r["code"], r["message"]) for r in json.loads(reasons_json or "[]"))
    utc = _dt.timezone.utc
    txn = Transaction(
        transaction_id=txn_id,
        # DECIMAL(19,4) reads back as 60.0000; show it in the currency's minor units.
        amount=Decimal(amount).quantize(Decimal(1).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))),
        currency=currency,
        card_masked=card_masked,
        merchant_id=merchant_id,
        timestamp=client_ts.replace(tzinfo=utc),
    )
    return Recorded(
        transaction=txn,
        decision=Decision(transaction_id=txn_id, decision=decision, reasons=reasons, decided_at=decided_at.replace(tzinfo=utc)),
        replayed=True,
    )


class TransactionStore:
    def __init__(self, connections: Connections, clock: Callable[[], _dt.datetime] | None = None):
        self._connections = connections
        self._clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))

    def record(self, txn: Transaction, budget: Budget) -> Recorded:
        attempt = 0
        while True:
            attempt += 1
            conn = self._connections.get(budget)
            try:
                return self._record_once(conn, txn, lambda: self._connections.require_round_trip(budget))
            except pymysql.MySQLError as e:
                self._connections.discard()
                if not (db.is_transient(e) and attempt < ATTEMPTS):
                    logger.exception("database error while recording a transaction")
                    raise DependencyError("database", "could not record the transaction") from e
                logger.warning("transient database error; retrying", extra={"mysql_error": db.error_code(e)})
            except BaseException:
                # Out of budget mid-transaction (or a bug): closing the
                # connection rolls it back; a ROLLBACK round trip might hang.
                self._connections.discard()
                raise

    def _record_once(self, conn: Any, txn: Transaction, round_trip: Callable[[], None]) -> Recorded:
        """``round_trip`` runs before every statement: it raises BudgetExhausted
        when the statement's worst case no longer fits."""
        with conn.cursor() as cur:
            round_trip()
            existing = self._fetch(cur, txn.transaction_id)
            if existing is not None:
                return existing
            round_trip()
            conn.begin()
            round_trip()
            cur.execute(
                "SELECT merchant_id, status, currency, daily_limit FROM merchants WHERE merchant_id = %s FOR UPDATE",
                (txn.merchant_id,),
            )
            row = cur.fetchone()
            merchant = Merchant(row[0], row[1], row[2], Decimal(row[3])) if row else None
            now = self._clock()
            approved_today = Decimal(0)
            if merchant is not None:
                start, end = utc_day_bounds(now)
                round_trip()
                cur.execute(
                    "SELECT COALESCE(SUM(amount), 0) FROM transactions"
                    " WHERE merchant_id = %s AND decision = 'APPROVED' AND decided_at >= %s AND decided_at < %s",
                    (txn.merchant_id, start, end),
                )
                approved_today = Decimal(cur.fetchone()[0])
            decision = decide(txn, merchant, approved_today, now)
            try:
                round_trip()
                cur.execute(
                    "INSERT INTO transactions (transaction_id, merchant_id, amount, currency, card_masked,"
                    " client_timestamp, decision, reasons, decided_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        txn.transaction_id,
                        txn.merchant_id,
                        txn.amount,
                        txn.currency,
                        txn.card_masked,
                        _naive_utc(txn.timestamp),
                        decision.decision,
                        json.dumps([r.to_dict() for r in decision.reasons]),
                        _naive_utc(now),
                    ),
                )
            except pymysql.err.IntegrityError as e:
                if db.error_code(e) != ER.DUP_ENTRY:
                    raise
                # A concurrent request with the same id won the insert.
                round_trip()
                conn.rollback()
                round_trip()
                existing = self._fetch(cur, txn.transaction_id)
                if existing is None:
                    raise
                return existing
            round_trip()
            conn.commit()
            return Recorded(transaction=txn, decision=decision, replayed=False)

    @staticmethod
    def _fetch(cur: Any, transaction_id: str) -> Recorded | None:
        cur.execute(_SELECT_RECORDED, (transaction_id,))
        row = cur.fetchone()
        return _recorded_from_row(row) if row else None

    def ping(self, budget: Budget) -> None:
        """GET /health: the database answers and the schema is there."""
        self._connections.probe(budget, "SELECT 1 FROM merchants LIMIT 1")
