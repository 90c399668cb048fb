"""Decisions remembered in the DynamoDB session table, keyed "txn#<id>".

A retry of a transaction id is answered from here without touching Aurora,
when its fingerprint (attributes requestFingerprint, cardFingerprint; see
tap/fingerprint.py) matches; an item without one (written before they
existed) sends the request on to Aurora, which can tell. The write is
conditional (attribute_not_exists) and only ever stores what Aurora
recorded, so the item never disagrees with the row.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws
from tap.budget import Budget
from tap.decision import Decision, Reason
from tap.errors import DependencyError
from tap.fingerprint import Fingerprint
from tap.jsonlog import get_logger
from tap.transient import aws_error_code

if TYPE_CHECKING:
    from tap.store import Recorded

logger = get_logger("idempotency")

KEY_PREFIX = "txn#"
# Retries arrive within minutes; after the TTL the primary key in Aurora
# still prevents a second decision, only the fast path is gone.
RECORD_TTL_SECONDS = 7 * 24 * 3600


def session_id(transaction_id: str) -> str:
    return f"{KEY_PREFIX}{transaction_id}"


@dataclass(frozen=True)
class Stored:
    decision: Decision
    fingerprint: Fingerprint | None


def _fingerprint_from_item(item: dict[str, Any]) -> Fingerprint | None:
    if "requestFingerprint" not in item:
        return None
    card = item.get("cardFingerprint", {}).get("S")
    return Fingerprint(request=item["requestFingerprint"]["S"], card=card)


def _decision_from_item(transaction_id: str, item: dict[str, Any]) -> Decision:
    reasons = tuple(Reason(r["code"], r["message"]) for r in json.loads(item["reasons"]["S"]))
    decided_at = _dt.datetime.fromisoformat(item["decidedAt"]["S"]) if "decidedAt" in item else None
    return Decision(transaction_id=transaction_id, decision=item["decision"]["S"], reasons=reasons, decided_at=decided_at)


class IdempotencyStore:
    def __init__(self, dynamodb: aws.Client, table_name: str):
        self._ddb = dynamodb
        self._table = table_name

    def get(self, transaction_id: str, budget: Budget) -> Stored | None:
        try:
            response = aws.call(
                budget,
                "dynamodb",
                self._ddb,
                "get_item",
                TableName=self._table,
                Key={"sessionId": {"S": session_id(transaction_id)}},
                ConsistentRead=True,
            )
        except (BotoCoreError, ClientError) as e:
            logger.exception("could not read the session table")
            raise DependencyError("dynamodb", "could not read the session table") from e
        item = response.get("Item")
        if not item:
            return None
        return Stored(_decision_from_item(transaction_id, item), _fingerprint_from_item(item))

    def put_first(self, recorded: Recorded, now: _dt.datetime, budget: Budget) -> None:
        """Stores what Aurora recorded unless an item exists (written by a
        concurrent request recording the same row, or by this call's own
        first attempt when only its answer was lost)."""
        decision = recorded.decision
        decided_at = decision.decided_at or now
        item = {
            "sessionId": {"S": session_id(decision.transaction_id)},
            "kind": {"S": "transaction-decision"},
            "decision": {"S": decision.decision},
            "reasons": {"S": json.dumps([r.to_dict() for r in decision.reasons])},
            "merchantId": {"S": recorded.transaction.merchant_id},
            "decidedAt": {"S": decided_at.astimezone(_dt.UTC).isoformat()},
            "expiresAt": {"N": str(int(now.timestamp()) + RECORD_TTL_SECONDS)},
            "requestFingerprint": {"S": recorded.fingerprint.request},
        }
        if recorded.fingerprint.card is not None:
            item["cardFingerprint"] = {"S": recorded.fingerprint.card}
        try:
            aws.call(
                budget,
                "dynamodb",
                self._ddb,
                "put_item",
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(sessionId)",
                # Hands back the winner's item in the error, for the check below.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return
        except (BotoCoreError, ClientError) as e:
            if aws_error_code(e) != "ConditionalCheckFailedException":
                logger.exception("could not write the session table")
                raise DependencyError("dynamodb", "could not write the session table") from e
            existing = e.response.get("Item")
        if existing and existing.get("decision", {}).get("S") != decision.decision:
            # Only a database other than ours (another region's) could have
            # written it; the row we recorded stays the answer.
            logger.warning("session item disagrees with the recorded decision", extra={"decision": decision.decision})

    def probe(self, budget: Budget) -> None:
        """Cheap reachability check for GET /health (a GetItem on a key that never exists)."""
        try:
            aws.call(budget, "dynamodb", self._ddb, "get_item", TableName=self._table, Key={"sessionId": {"S": "health#probe"}})
        except (BotoCoreError, ClientError) as e:
            logger.exception("session table health probe failed")
            raise DependencyError("dynamodb", "session table unreachable") from e
