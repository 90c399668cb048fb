"""Spec: the pure validation of POST /transactions bodies."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from tap import card
from tap.validation import MAX_BODY_BYTES, Limits, decode_body, validate_body, validate_transaction

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
LIMITS = Limits(max_amount=Decimal("10000.00"), clock_skew_seconds=300)
TXN_ID = "3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f"


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "transactionId": TXN_ID,
        "amount": "125.50",
        "currency": "USD",
        "cardNumber": "4111111111111111",
        "merchantId": "merchant-001",
        "timestamp": "2024-05-01T11:59:30Z",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()
# ASCII digit -> its fullwidth form (U+FF10..U+FF19): digits a person may paste, not ASCII.
FULLWIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


GOOD = [
    pytest.param({}, id="typical USD purchase"),
    pytest.param({"amount": "0.01"}, id="smallest positive amount"),
    pytest.param({"amount": "10000.00"}, id="exactly the configured maximum"),
    pytest.param({"amount": "7"}, id="whole amount without decimals"),
    pytest.param({"amount": "7.5"}, id="fewer decimals than the currency allows"),
    pytest.param({"currency": "JPY", "amount": "1500"}, id="JPY has no minor units"),
    pytest.param({"currency": "KWD", "amount": "12.345"}, id="KWD has three minor-unit digits"),
    pytest.param({"cardNumber": "5555555555554444"}, id="Mastercard test PAN"),
    pytest.param({"cardNumber": "378282246310005"}, id="15-digit Amex test PAN"),
    pytest.param({"cardNumber": "4222222222222"}, id="13-digit Visa"),
    pytest.param({"cardNumber": "6011000990139424"}, id="Discover"),
    pytest.param({"cardNumber": "4000000000000000006"}, id="19-digit PAN"),
    pytest.param({"transactionId": TXN_ID.upper()}, id="upper-case UUID is normalised"),
    pytest.param({"merchantId": "ABC"}, id="shortest merchant id"),
    pytest.param({"merchantId": "m_" + "x" * 62}, id="longest merchant id"),
    pytest.param({"timestamp": "2024-05-01T12:05:00Z"}, id="skew exactly at the limit (future)"),
    pytest.param({"timestamp": "2024-05-01T11:55:00.000000Z"}, id="skew exactly at the limit (past, micros)"),
    pytest.param({"timestamp": "2024-05-01T14:00:00+02:00"}, id="offset timestamp"),
]


@pytest.mark.parametrize("overrides", GOOD)
def test_given_a_valid_body_when_validated_then_a_transaction_without_the_pan_comes_out(overrides: dict[str, Any]) -> None:
    data = body(**overrides)
    result = validate_transaction(data, NOW, LIMITS)
    assert result.ok, result.errors
    txn = result.transaction
    assert txn is not None
    assert txn.transaction_id == data["transactionId"].lower()
    assert txn.amount == Decimal(data["amount"])
    assert txn.currency == data["currency"]
    assert txn.card_masked.endswith(data["cardNumber"][-4:])
    assert data["cardNumber"] not in repr(txn) and data["cardNumber"] not in str(vars(txn))
    assert txn.timestamp.tzinfo is not None


BAD = [
    # (overrides, expected field, expected code)
    ({"transactionId": _DROP}, "transactionId", "required"),
    ({"transactionId": None}, "transactionId", "required"),
    ({"transactionId": 42}, "transactionId", "invalid_type"),
    ({"transactionId": "not-a-uuid"}, "transactionId", "invalid_format"),
    ({"transactionId": "{" + TXN_ID + "}"}, "transactionId", "invalid_format"),
    ({"transactionId": TXN_ID.replace("-", "")}, "transactionId", "invalid_format"),
    ({"transactionId": TXN_ID + "\n"}, "transactionId", "invalid_format"),
    ({"amount": _DROP}, "amount", "required"),
    ({"amount": 125.5}, "amount", "invalid_type"),
    ({"amount": "0"}, "amount", "not_positive"),
    ({"amount": "0.00"}, "amount", "not_positive"),
    ({"amount": "-5.00"}, "amount", "invalid_format"),
    ({"amount": "+5.00"}, "amount", "invalid_format"),
    ({"amount": "1e3"}, "amount", "invalid_format"),
    ({"amount": "1,000.00"}, "amount", "invalid_format"),
    ({"amount": "007.00"}, "amount", "invalid_format"),
    ({"amount": " 5.00"}, "amount", "invalid_format"),
    ({"amount": "NaN"}, "amount", "invalid_format"),
    ({"amount": "5."}, "amount", "invalid_format"),
    ({"amount": "12.34\n"}, "amount", "invalid_format"),
    ({"amount": "10000.01"}, "amount", "too_large"),
    ({"amount": "999999999999999"}, "amount", "too_large"),
    ({"amount": "12.345"}, "amount", "invalid_minor_units"),
    ({"currency": "JPY", "amount": "100.5"}, "amount", "invalid_minor_units"),
    ({"currency": "JPY", "amount": "100.0"}, "amount", "invalid_minor_units"),
    ({"currency": "KWD", "amount": "1.2345"}, "amount", "invalid_minor_units"),
    ({"currency": _DROP}, "currency", "required"),
    ({"currency": "usd"}, "currency", "unsupported"),
    ({"currency": "XXX"}, "currency", "unsupported"),
    ({"currency": "US"}, "currency", "unsupported"),
    ({"currency": ["USD"]}, "currency", "invalid_type"),
    ({"cardNumber": _DROP}, "cardNumber", "required"),
    ({"cardNumber": 4111111111111111}, "cardNumber", "invalid_type"),
    ({"cardNumber": "4111111111111112"}, "cardNumber", "invalid_checksum"),
    ({"cardNumber": "4111 1111 1111 1111"}, "cardNumber", "invalid_format"),
    ({"cardNumber": "4111-1111-1111-1111"}, "cardNumber", "invalid_format"),
    ({"cardNumber": "41111111111"}, "cardNumber", "invalid_length"),
    ({"cardNumber": "41111111111111111111"}, "cardNumber", "invalid_length"),
    ({"cardNumber": "4111111111111111".translate(FULLWIDTH_DIGITS)}, "cardNumber", "invalid_format"),
    ({"cardNumber": ""}, "cardNumber", "invalid_format"),
    ({"cardNumber": "4111111111111111\n"}, "cardNumber", "invalid_format"),
    ({"merchantId": _DROP}, "merchantId", "required"),
    ({"merchantId": "ab"}, "merchantId", "invalid_format"),
    ({"merchantId": "-abc"}, "merchantId", "invalid_format"),
    ({"merchantId": "m" * 65}, "merchantId", "invalid_format"),
    ({"merchantId": "shop 1"}, "merchantId", "invalid_format"),
    ({"merchantId": "m-123\n"}, "merchantId", "invalid_format"),
    ({"merchantId": "shop';DROP TABLE merchants;--"}, "merchantId", "invalid_format"),
    ({"timestamp": _DROP}, "timestamp", "required"),
    ({"timestamp": 1714564800}, "timestamp", "invalid_type"),
    ({"timestamp": "2024-05-01T11:59:30"}, "timestamp", "invalid_format"),
    ({"timestamp": "2024-05-01 11:59:30Z"}, "timestamp", "invalid_format"),
    ({"timestamp": "yesterday"}, "timestamp", "invalid_format"),
    ({"timestamp": "2024-05-01T11:59:30Z\n"}, "timestamp", "invalid_format"),
    ({"timestamp": "2024-02-30T12:00:00Z"}, "timestamp", "invalid_value"),
    ({"timestamp": "2024-05-01T12:05:01Z"}, "timestamp", "clock_skew"),
    ({"timestamp": "2024-05-01T11:54:59Z"}, "timestamp", "clock_skew"),
    ({"timestamp": "2023-05-01T12:00:00Z"}, "timestamp", "clock_skew"),
    ({"cvv": "123"}, "body", "unexpected"),  # the client's key is never echoed
]


@pytest.mark.parametrize(("overrides", "field", "code"), BAD, ids=[f"{f}:{c}:{i}" for i, (_, f, c) in enumerate(BAD)])
def test_given_one_bad_field_when_validated_then_exactly_that_error_is_reported(
    overrides: dict[str, Any], field: str, code: str
) -> None:
    result = validate_transaction(body(**overrides), NOW, LIMITS)
    assert not result.ok
    assert [(e.field, e.code) for e in result.errors] == [(field, code)]


def test_given_every_field_wrong_when_validated_then_every_error_is_reported_at_once() -> None:
    data = {
        "transactionId": "nope",
        "amount": "-1",
        "currency": "ABC",
        "cardNumber": "1234567890123",
        "merchantId": "!",
        "timestamp": "soon",
        "extra": True,
    }
    result = validate_transaction(data, NOW, LIMITS)
    assert {e.field for e in result.errors} == {
        "transactionId",
        "amount",
        "currency",
        "cardNumber",
        "merchantId",
        "timestamp",
        "body",
    }


def test_given_an_empty_object_then_every_field_is_reported_required() -> None:
    result = validate_transaction({}, NOW, LIMITS)
    assert sorted((e.field, e.code) for e in result.errors) == sorted(
        (f, "required") for f in ("transactionId", "amount", "currency", "cardNumber", "merchantId", "timestamp")
    )


@pytest.mark.parametrize(
    ("raw", "is_b64", "field", "code"),
    [
        pytest.param(None, False, "body", "required", id="no body"),
        pytest.param("", False, "body", "required", id="empty body"),
        pytest.param("{", False, "body", "invalid_json", id="truncated JSON"),
        pytest.param("[1,2]", False, "body", "invalid_type", id="array instead of object"),
        pytest.param('"str"', False, "body", "invalid_type", id="string instead of object"),
        pytest.param('{"amount": NaN}', False, "body", "invalid_json", id="NaN is not JSON"),
        pytest.param('{"amount":"1","amount":"2"}', False, "amount", "duplicate", id="duplicate key"),
        pytest.param("!!!not base64!!!", True, "body", "invalid_encoding", id="bad base64"),
        pytest.param(base64.b64encode(b"\xff\xfe{}").decode(), True, "body", "invalid_encoding", id="not UTF-8"),
        pytest.param("[" * 100000 + "]" * 100000, False, "body", "too_large", id="oversized body"),
        pytest.param("[" * 5000 + "]" * 5000, False, "body", "invalid_json", id="deep nesting is rejected, not a crash"),
    ],
)
def test_given_a_malformed_body_then_a_body_level_error_is_reported(raw: Any, is_b64: bool, field: str, code: str) -> None:
    result = validate_body(raw, is_b64, NOW, LIMITS)
    assert not result.ok
    assert [(e.field, e.code) for e in result.errors] == [(field, code)]


def test_given_a_base64_encoded_body_when_decoded_then_it_validates() -> None:
    raw = base64.b64encode(json.dumps(body()).encode()).decode()
    assert validate_body(raw, True, NOW, LIMITS).ok


def test_given_a_body_just_under_the_size_limit_then_it_is_parsed() -> None:
    padded = json.dumps(body(merchantId="m" * 10)) + " " * (MAX_BODY_BYTES - 200)
    data, errors = decode_body(padded, False)
    assert errors == [] and data is not None


def test_given_any_invalid_card_then_the_error_message_never_echoes_it() -> None:
    for pan in ("4111111111111112", "4111 1111 1111 1111", "411111111111111111111"):
        result = validate_transaction(body(cardNumber=pan), NOW, LIMITS)
        assert pan not in json.dumps([e.to_dict() for e in result.errors])


def test_given_a_naive_now_then_validation_refuses_to_guess_the_timezone() -> None:
    with pytest.raises(ValueError):
        validate_transaction(body(), NOW.replace(tzinfo=None), LIMITS)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("4012888888881881", True),
        ("5105105105105100", True),
        ("378734493671000", True),
        ("79927398713", True),
        ("79927398710", False),
        ("4111111111111112", False),
        ("", False),
        ("41111x1111111111", False),
        ("٤١١١١١١١١١١١١١١١", False),
    ],
)
def test_luhn_table(digits: str, valid: bool) -> None:
    assert card.luhn_valid(digits) is valid


def test_masking_keeps_only_the_last_four_digits() -> None:
    assert card.mask("4111111111111111") == "************1111"
    assert card.mask("123") == "***"
