"""Merchant checks and the transaction record in Aurora MySQL.

The merchant row is locked (SELECT ... FOR UPDATE) while the day's approved
total is summed and the new transaction inserted, so concurrent requests for
one merchant cannot together overspend its daily limit. The transaction id is
the primary key: a repeated id returns the decision recorded the first time,
but only for the same request (tap/fingerprint.py): the fingerprint is stored
in the row, and a different request with that id is a conflict.

Schema versions: the validator's new image runs before the migration that
adds the fingerprint columns (ComputeStack deploys before SchemaMigration),
so a database without them (error 1054) is served with the older statements
for LEGACY_RECHECK_SECONDS; the request part of the fingerprint is then
recomputed from the row's own columns, and only the keyed card part is lost.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import pymysql
from pymysql.constants import ER

from tap import db, fingerprint
from tap.budget import Budget
from tap.decision import Decision, Merchant, Reason, decide, utc_day_bounds
from tap.errors import DependencyError
from tap.fingerprint import Fingerprint
from tap.jsonlog import get_logger
from tap.transient import is_transient_mysql, mysql_error_code
from tap.validation import CURRENCY_EXPONENTS, Transaction

logger = get_logger("store")

ATTEMPTS = 2  # one retry on deadlock / lost connection; the validator has 10 s in all
LEGACY_RECHECK_SECONDS = 60.0


class Connections(Protocol):
    def get(self, budget: Budget) -> db.Connection: ...

    def require_round_trip(self, budget: Budget) -> None: ...

    def probe(self, budget: Budget, sql: str) -> None: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Recorded:
    """The decision and the transaction as first recorded (on a replay, the
    stored transaction, not the retry's payload), with that request's
    fingerprint. ``conflict``: the id was first used for another request,
    and nothing was recorded now."""

    transaction: Transaction
    decision: Decision
    replayed: bool
    fingerprint: Fingerprint
    conflict: bool = False


def _naive_utc(moment: _dt.datetime) -> _dt.datetime:
    return moment.astimezone(_dt.UTC).replace(tzinfo=None)


_COLUMNS = (
    "transaction_id, merchant_id, amount, currency, card_masked, client_timestamp, decision, reasons, decided_at"
)
_SELECT = f"SELECT {_COLUMNS}, request_fingerprint, card_fingerprint FROM transactions WHERE transaction_id = %s"
_SELECT_LEGACY = f"SELECT {_COLUMNS}, NULL, NULL FROM transactions WHERE transaction_id = %s"
_INSERT = (
    f"INSERT INTO transactions ({_COLUMNS}, request_fingerprint, card_fingerprint)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_LEGACY = f"INSERT INTO transactions ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _recorded_from_row(row: db.Row) -> Recorded:
    (txn_id, merchant_id, amount, currency, card_masked, client_ts, decision, reasons_json, decided_at, request_fp, card_fp) = row
    reasons = tuple(Reason(r["code"], r["message"]) for r in json.loads(reasons_json or "[]"))
    utc = _dt.UTC
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
        # A row from before the fingerprint columns: its own columns are the request part's inputs.
        fingerprint=Fingerprint(request=request_fp or fingerprint.request_fingerprint(txn), card=card_fp),
    )


def _judged(existing: Recorded, incoming: Fingerprint) -> Recorded:
    if fingerprint.same_request(existing.fingerprint, incoming):
        return existing
    return dataclasses.replace(existing, conflict=True)


class TransactionStore:
    def __init__(
        self,
        connections: Connections,
        clock: Callable[[], _dt.datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._connections = connections
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._monotonic = monotonic
        self._legacy_until: float | None = None

    def _legacy(self) -> bool:
        return self._legacy_until is not None and self._monotonic() < self._legacy_until

    def record(self, txn: Transaction, incoming: Fingerprint, budget: Budget) -> Recorded:
        attempt = 0
        while True:
            attempt += 1
            conn = self._connections.get(budget)
            try:
                return self._record_once(conn, txn, incoming, lambda: self._connections.require_round_trip(budget))
            except pymysql.MySQLError as e:
                self._connections.discard()
                if mysql_error_code(e) == ER.BAD_FIELD_ERROR and not self._legacy():
                    logger.warning("transactions has no fingerprint columns yet (migration pending); using the older statements")
                    self._legacy_until = self._monotonic() + LEGACY_RECHECK_SECONDS
                    attempt -= 1
                    continue
                if not (is_transient_mysql(e) and attempt < ATTEMPTS):
                    logger.exception("database error while recording a transaction")
                    raise DependencyError("database", "could not record the transaction") from e
                logger.warning("transient database error; retrying", extra={"mysql_error": mysql_error_code(e)})
            except BaseException:
                # Out of budget mid-transaction (or a bug): closing the
                # connection rolls it back; a ROLLBACK round trip might hang.
                self._connections.discard()
                raise

    def _record_once(self, conn: db.Connection, txn: Transaction, incoming: Fingerprint, round_trip: Callable[[], None]) -> Recorded:
        """``round_trip`` runs before every statement: it raises BudgetExhausted
        when the statement's worst case no longer fits."""
        legacy = self._legacy()
        with conn.cursor() as cur:
            round_trip()
            existing = self._fetch(cur, txn.transaction_id, legacy)
            if existing is not None:
                return _judged(existing, incoming)
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
                approved_today = Decimal(db.one_row(cur)[0])
            decision = decide(txn, merchant, approved_today, now)
            values: tuple[Any, ...] = (
                txn.transaction_id,
                txn.merchant_id,
                txn.amount,
                txn.currency,
                txn.card_masked,
                _naive_utc(txn.timestamp),
                decision.decision,
                json.dumps([r.to_dict() for r in decision.reasons]),
                _naive_utc(now),
            )
            try:
                round_trip()
                if legacy:
                    cur.execute(_INSERT_LEGACY, values)
                else:
                    cur.execute(_INSERT, (*values, incoming.request, incoming.card))
            except pymysql.err.IntegrityError as e:
                if mysql_error_code(e) != ER.DUP_ENTRY:
                    raise
                # A concurrent request with the same id won the insert: what
                # it recorded is the answer, ours was never committed.
                round_trip()
                conn.rollback()
                round_trip()
                existing = self._fetch(cur, txn.transaction_id, legacy)
                if existing is None:
                    raise
                return _judged(existing, incoming)
            round_trip()
            conn.commit()
            return Recorded(transaction=txn, decision=decision, replayed=False, fingerprint=incoming)

    @staticmethod
    def _fetch(cur: db.Cursor, transaction_id: str, legacy: bool) -> Recorded | None:
        cur.execute(_SELECT_LEGACY if legacy else _SELECT, (transaction_id,))
        row = cur.fetchone()
        return _recorded_from_row(row) if row else None

    def ping(self, budget: Budget) -> None:
        """GET /health: the database answers and the schema is there."""
        self._connections.probe(budget, "SELECT 1 FROM merchants LIMIT 1")
