"""Pure validation of a POST /transactions body.

No I/O and no clock of its own (``now`` is a parameter) so the whole table of
good and bad inputs can be tested, and benchmarked, in-process.

Error responses never echo what the client sent, neither values nor keys: a
mistyped card number must not end up in a 400 body, a log line or an API
Gateway access log, and a key can be a card number too. A field is named only
when it is one of FIELDS (our names); anything else is "body", with its
position. The list is capped (MAX_ERRORS, MAX_ERRORS_BYTES).

A card number (tap/card.py: a Luhn-valid run of 13-19 digits, however
written) anywhere but in cardNumber, in any value or key at any depth, is
refused with code card_number_not_allowed: otherwise a PAN pasted into
merchantId would be stored in Aurora, DynamoDB and the audit record.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tap import card

# ISO 4217 code -> number of minor-unit digits (the "exponent").
# An allow-list, not the whole standard: only currencies the platform settles.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2,
    "BHD": 3,
    "CAD": 2,
    "CHF": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "JPY": 0,
    "KWD": 3,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "USD": 2,
}

MAX_BODY_BYTES = 16 * 1024
# A 400 lists every problem, but a hostile body must not make it large.
MAX_ERRORS = 10
MAX_ERRORS_BYTES = 4096
CARD_NUMBER_ELSEWHERE = "card_number_not_allowed"
# Every pattern is applied with fullmatch: with re.match, "$" also matches
# before a trailing newline, so "12.34\n" or "<uuid>\n" would pass (and
# Decimal() would even strip the newline and accept the amount).
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Plain decimal: no sign, no exponent, no thousands separators, no leading zeros.
AMOUNT_PATTERN = re.compile(r"(0|[1-9][0-9]{0,14})(\.([0-9]{1,4}))?")
MERCHANT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,63}")
CARD_DIGITS_PATTERN = re.compile(r"[0-9]+")
# RFC 3339 date-time; the explicit offset is required so "local time" can't sneak in.
TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")

FIELDS = ("transactionId", "amount", "currency", "cardNumber", "merchantId", "timestamp")


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Limits:
    max_amount: Decimal
    clock_skew_seconds: int


@dataclass(frozen=True)
class Transaction:
    """A validated transaction. Holds the masked card, and the PAN only
    sealed (card.SealedPan: no repr, no pickling, only a keyed digest) for
    the idempotency fingerprint; None for one read back from the database."""

    transaction_id: str
    amount: Decimal
    currency: str
    card_masked: str
    merchant_id: str
    timestamp: _dt.datetime
    sealed_pan: card.SealedPan | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:  # keep reprs short and obviously PAN-free
        return f"Transaction({self.transaction_id}, {self.merchant_id}, {self.amount} {self.currency})"


@dataclass
class ValidationResult:
    transaction: Transaction | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.transaction is not None and not self.errors


class _DuplicateKey(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep the last value; two "amount" keys are an attack or a bug.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _field_name(key: str) -> str:
    """How an error names a field: ours verbatim, the client's never."""
    return key if key in FIELDS else "body"


def decode_body(body: object, is_base64: bool) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """API Gateway body -> JSON object, or a body-level error."""
    if body is None or body == "" or body == b"":
        return None, [FieldError("body", "required", "request body is required")]
    if not isinstance(body, (str, bytes)):
        # API Gateway always sends a string; anything else is not its event.
        return None, [FieldError("body", "invalid_type", "the event's body is not a string")]
    raw = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else body
    if is_base64:
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None, [FieldError("body", "invalid_encoding", "body is not valid base64")]
    if len(raw) > MAX_BODY_BYTES:
        return None, [FieldError("body", "too_large", f"body must be at most {MAX_BODY_BYTES} bytes")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [FieldError("body", "invalid_encoding", "body must be UTF-8")]
    try:
        # Decimal keeps a number's digits exactly as sent, for the card-number check.
        parsed = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant, parse_float=Decimal
        )
    except _DuplicateKey as e:
        return None, [FieldError(_field_name(str(e)), "duplicate", "a field appears more than once")]
    except (ValueError, RecursionError):
        return None, [FieldError("body", "invalid_json", "body is not valid JSON")]
    if not isinstance(parsed, dict):
        return None, [FieldError("body", "invalid_type", "body must be a JSON object")]
    return parsed, []


def _string_field(data: dict[str, Any], name: str, errors: list[FieldError], refused: AbstractSet[str] = frozenset()) -> str | None:
    if name in refused:
        return None
    if name not in data or data[name] is None:
        errors.append(FieldError(name, "required", f"{name} is required"))
        return None
    value = data[name]
    if not isinstance(value, str):
        errors.append(FieldError(name, "invalid_type", f"{name} must be a string"))
        return None
    return value


def _validate_amount(raw: str, currency: str | None, limits: Limits, errors: list[FieldError]) -> Decimal | None:
    match = AMOUNT_PATTERN.fullmatch(raw)
    if not match:
        errors.append(FieldError("amount", "invalid_format", "amount must be a plain decimal string such as \"12.34\""))
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # unreachable given the pattern, but never trust a regex with money
        errors.append(FieldError("amount", "invalid_format", "amount is not a decimal number"))
        return None
    problems = 0
    if amount <= 0:
        errors.append(FieldError("amount", "not_positive", "amount must be greater than zero"))
        problems += 1
    if amount > limits.max_amount:
        errors.append(FieldError("amount", "too_large", f"amount must not exceed {limits.max_amount}"))
        problems += 1
    fraction = match.group(3) or ""
    if currency in CURRENCY_EXPONENTS:
        exponent = CURRENCY_EXPONENTS[currency]
        if len(fraction) > exponent:
            errors.append(
                FieldError("amount", "invalid_minor_units", f"{currency} allows at most {exponent} decimal places")
            )
            problems += 1
    return None if problems else amount


def _validate_timestamp(raw: str, now: _dt.datetime, limits: Limits, errors: list[FieldError]) -> _dt.datetime | None:
    if not TIMESTAMP_PATTERN.fullmatch(raw):
        errors.append(
            FieldError("timestamp", "invalid_format", "timestamp must be RFC 3339 with an offset, e.g. 2024-01-31T12:00:00Z")
        )
        return None
    try:
        parsed = _dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError("timestamp", "invalid_value", "timestamp is not a real date and time"))
        return None
    skew = abs((parsed - now).total_seconds())
    if skew > limits.clock_skew_seconds:
        errors.append(
            FieldError(
                "timestamp",
                "clock_skew",
                f"timestamp must be within {limits.clock_skew_seconds} seconds of the server clock",
            )
        )
        return None
    return parsed.astimezone(_dt.UTC)


def _number_texts(value: int | Decimal) -> list[str]:
    if isinstance(value, int):
        return [str(value)]
    texts = [str(value)]
    # 4.111111111111111E+15 is the digits 4111111111111111 too; the exponent
    # bound keeps format() from writing out 1E+999999999.
    if value.is_finite() and -30 < value.adjusted() < 30:
        texts.append(format(value, "f"))
    return texts


def _texts(value: object) -> list[str]:
    """Every string, key and number (as text) in ``value``, at any depth.
    Iterative: json.loads accepts nesting nearly as deep as the recursion limit."""
    texts: list[str] = []
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, (int, Decimal)):
            texts.extend(_number_texts(node))
        elif isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return texts


def holds_card_number(value: object) -> bool:
    """Whether ``value`` (parsed JSON) has a card number in any string,
    number or key, at any depth."""
    # NUL is no separator: no run of digits spans two texts.
    return card.contains_card_number("\0".join(_texts(value)))


def _screen_fields(data: dict[str, Any], errors: list[FieldError]) -> set[str]:
    """Errors for card numbers outside cardNumber and for unknown fields;
    returns the known fields not to validate further (they held a card number)."""
    refused: set[str] = set()
    allowed = ", ".join(FIELDS)
    # One scan of everything first: almost every body holds no card number
    # but in cardNumber, and then no field needs a scan of its own.
    suspect = holds_card_number({k: v for k, v in data.items() if k != "cardNumber"})
    for position, (key, value) in enumerate(data.items(), start=1):
        if key == "cardNumber":
            continue
        if not suspect:
            if key not in FIELDS:
                errors.append(FieldError("body", "unexpected", f"field {position} is not allowed; the fields are {allowed}"))
            continue
        if holds_card_number(key):
            errors.append(
                FieldError("body", CARD_NUMBER_ELSEWHERE, f"the name of field {position} holds a card number; send it in cardNumber only")
            )
        elif holds_card_number(value):
            where = key if key in FIELDS else f"field {position}"
            errors.append(FieldError(_field_name(key), CARD_NUMBER_ELSEWHERE, f"{where} holds a card number; send it in cardNumber only"))
            refused.add(key)
        elif key not in FIELDS:
            errors.append(FieldError("body", "unexpected", f"field {position} is not allowed; the fields are {allowed}"))
    return refused


def limit_errors(errors: list[FieldError]) -> list[FieldError]:
    """At most MAX_ERRORS entries and MAX_ERRORS_BYTES of JSON; when some are
    left out, the last entry says how many."""

    def size(items: list[FieldError]) -> int:
        return len(json.dumps([e.to_dict() for e in items]).encode("utf-8"))

    if len(errors) <= MAX_ERRORS and size(errors) <= MAX_ERRORS_BYTES:
        return errors
    kept = errors[: MAX_ERRORS - 1]
    while True:
        note = FieldError("body", "too_many_errors", f"{len(errors) - len(kept)} more errors not shown")
        if not kept or size([*kept, note]) <= MAX_ERRORS_BYTES:
            return [*kept, note]
        kept = kept[:-1]


def validate_transaction(data: dict[str, Any], now: _dt.datetime, limits: Limits) -> ValidationResult:
    """Every problem is reported at once (up to MAX_ERRORS), so a client fixes its request in one go."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    errors: list[FieldError] = []
    refused = _screen_fields(data, errors)
    data = {k: v for k, v in data.items() if k in FIELDS and k not in refused}

    txn_id = _string_field(data, "transactionId", errors, refused)
    if txn_id is not None and not UUID_PATTERN.fullmatch(txn_id):
        errors.append(FieldError("transactionId", "invalid_format", "transactionId must be a UUID"))
        txn_id = None

    currency = _string_field(data, "currency", errors, refused)
    if currency is not None and currency not in CURRENCY_EXPONENTS:
        errors.append(FieldError("currency", "unsupported", "currency must be an accepted ISO 4217 code"))
        currency = None

    amount_raw = _string_field(data, "amount", errors, refused)
    amount = _validate_amount(amount_raw, currency, limits, errors) if amount_raw is not None else None

    pan = _string_field(data, "cardNumber", errors, refused)
    masked: str | None = None
    sealed: card.SealedPan | None = None
    if pan is not None:
        if not CARD_DIGITS_PATTERN.fullmatch(pan) or not pan.isascii():
            errors.append(FieldError("cardNumber", "invalid_format", "cardNumber must contain digits only"))
        elif not card.PAN_MIN_LENGTH <= len(pan) <= card.PAN_MAX_LENGTH:
            errors.append(
                FieldError(
                    "cardNumber",
                    "invalid_length",
                    f"cardNumber must have {card.PAN_MIN_LENGTH} to {card.PAN_MAX_LENGTH} digits",
                )
            )
        elif not card.luhn_valid(pan):
            errors.append(FieldError("cardNumber", "invalid_checksum", "cardNumber fails the Luhn check"))
        else:
            masked = card.mask(pan)
            sealed = card.SealedPan(pan)
    del pan  # nothing below may see it, but sealed

    merchant_id = _string_field(data, "merchantId", errors, refused)
    if merchant_id is not None and not MERCHANT_ID_PATTERN.fullmatch(merchant_id):
        errors.append(
            FieldError("merchantId", "invalid_format", "merchantId must be 3-64 letters, digits, '_' or '-'")
        )
        merchant_id = None

    ts_raw = _string_field(data, "timestamp", errors, refused)
    timestamp = _validate_timestamp(ts_raw, now, limits, errors) if ts_raw is not None else None

    if errors:
        return ValidationResult(errors=limit_errors(errors))
    if not (txn_id and amount is not None and currency and masked and merchant_id and timestamp):
        raise RuntimeError("validation produced neither errors nor a complete transaction")  # a bug, not bad input
    return ValidationResult(
        transaction=Transaction(
            transaction_id=txn_id.lower(),
            amount=amount,
            currency=currency,
            card_masked=masked,
            merchant_id=merchant_id,
            timestamp=timestamp,
            sealed_pan=sealed,
        )
    )


def validate_body(body: object, is_base64: bool, now: _dt.datetime, limits: Limits) -> ValidationResult:
    data, errors = decode_body(body, is_base64)
    if data is None:
        return ValidationResult(errors=errors)
    return validate_transaction(data, now, limits)
