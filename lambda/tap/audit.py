"""Audit records in S3: one JSON object per decided transaction.

The key is derived from the transaction id and the recorded decision time,
so writing the record again after a retry overwrites it with the same
content instead of creating a second one. The IAM policy allows PutObject
under audit/* only. The record carries the masked card, never the PAN.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws
from tap.budget import Budget
from tap.decision import Decision
from tap.errors import DependencyError
from tap.jsonlog import get_logger
from tap.validation import Transaction

logger = get_logger("audit")

PREFIX = "audit/"


def object_key(transaction_id: str, decided_at: _dt.datetime) -> str:
    day = decided_at.astimezone(_dt.UTC)
    return f"{PREFIX}{day:%Y/%m/%d}/{transaction_id}.json"


def build_record(txn: Transaction, decision: Decision, environment: str, request_id: str | None) -> dict[str, Any]:
    decided_at = decision.decided_at or _dt.datetime.now(_dt.UTC)
    return {
        "schema": "tap.audit.transaction/1",
        "environment": environment,
        "transactionId": txn.transaction_id,
        "merchantId": txn.merchant_id,
        "amount": str(txn.amount),
        "currency": txn.currency,
        "cardMasked": txn.card_masked,
        "clientTimestamp": txn.timestamp.isoformat(),
        "decision": decision.decision,
        "reasons": [r.to_dict() for r in decision.reasons],
        "decidedAt": decided_at.astimezone(_dt.UTC).isoformat(),
        "requestId": request_id,
    }


class AuditWriter:
    def __init__(self, s3: aws.Client, bucket: str, environment: str):
        self._s3 = s3
        self._bucket = bucket
        self._environment = environment

    def write(self, txn: Transaction, decision: Decision, request_id: str | None, budget: Budget) -> str:
        record = build_record(txn, decision, self._environment, request_id)
        key = object_key(txn.transaction_id, _dt.datetime.fromisoformat(record["decidedAt"]))
        try:
            aws.call(
                budget,
                "s3",
                self._s3,
                "put_object",
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(record, separators=(",", ":")).encode("utf-8"),
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as e:
            logger.exception("could not write the audit record")
            raise DependencyError("s3", "could not write the audit record") from e
        return key
