"""The idempotency fingerprint: what binds a transactionId to the request
that first used it (pure).

A reused transactionId is a replay only when the request is the same; a
different request with the same id is a conflict (409), as payment APIs
answer. "The same" is decided on two parts, stored next to the decision in
Aurora (transactions.request_fingerprint, card_fingerprint) and in the
DynamoDB session item (requestFingerprint, cardFingerprint):

* request: SHA-256 over the canonical JSON of transactionId, amount (in the
  currency's minor units, so "25" and "25.00" are one amount), currency,
  merchantId and the masked card (length and last four digits). Nothing in
  it is secret, and Aurora holds every input in clear, so it can also be
  recomputed for rows recorded before the column existed.
* card: "<key id>:" + HMAC-SHA256(key, context + transactionId + PAN), only
  when the key is configured (an SSM SecureString, see tap/db_settings.py). Keyed,
  because an unkeyed hash of a PAN next to its last four digits is brute
  forced in seconds; with the transactionId, so that one card's digests do
  not link its transactions. When either side has no card part (no key at
  the time) or they were made with different keys (rotation), only the
  request part, which includes the masked card, is compared.

Not in it: the client's timestamp. It must be within CLOCK_SKEW_SECONDS of
the server's clock, so a retry later than that has to carry a new one; with
the timestamp in the fingerprint such a retry could never replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from decimal import Decimal

from tap.validation import CURRENCY_EXPONENTS, Transaction

REQUEST_CONTEXT = "tap.request-fingerprint.v1"
CARD_CONTEXT = b"tap.card-fingerprint.v1"
KEY_ID_CONTEXT = b"tap.fingerprint-key-id.v1\0"
MIN_KEY_BYTES = 32


@dataclass(frozen=True)
class FingerprintKey:
    secret: bytes = field(repr=False)

    @classmethod
    def from_parameter(cls, value: str) -> FingerprintKey:
        secret = value.strip().encode("utf-8")
        if len(secret) < MIN_KEY_BYTES:
            raise ValueError(f"the fingerprint key must have at least {MIN_KEY_BYTES} bytes")
        return cls(secret)

    @property
    def key_id(self) -> str:
        """Names the key in stored digests, so that a rotation is recognised."""
        return hashlib.sha256(KEY_ID_CONTEXT + self.secret).hexdigest()[:8]


@dataclass(frozen=True)
class Fingerprint:
    request: str
    card: str | None = None

    def key_id(self) -> str | None:
        return self.card.split(":", 1)[0] if self.card else None


def canonical_amount(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(Decimal(1).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))))


def request_fingerprint(txn: Transaction) -> str:
    canonical = {
        "context": REQUEST_CONTEXT,
        "transactionId": txn.transaction_id.lower(),
        "amount": canonical_amount(txn.amount, txn.currency),
        "currency": txn.currency,
        "merchantId": txn.merchant_id,
        "cardMasked": txn.card_masked,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def of(txn: Transaction, key: FingerprintKey | None) -> Fingerprint:
    card = None
    if key is not None and txn.sealed_pan is not None:
        context = CARD_CONTEXT + b"\0" + txn.transaction_id.lower().encode("ascii")
        card = f"{key.key_id}:{txn.sealed_pan.keyed_digest(key.secret, context)}"
    return Fingerprint(request=request_fingerprint(txn), card=card)


def same_request(stored: Fingerprint, incoming: Fingerprint) -> bool:
    if not hmac.compare_digest(stored.request, incoming.request):
        return False
    if stored.card is None or incoming.card is None or stored.key_id() != incoming.key_id():
        return True
    return hmac.compare_digest(stored.card, incoming.card)
