"""Spec: a card number anywhere in a POST /transactions body but cardNumber
(any value, any key, any depth, a JSON number, any way of writing it) is
refused with a 400 that names the field but not its content, before any
dependency is called; and no 400 echoes what the client sent or grows
without bound. Generated bodies (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap import card, validation
from test_card_numbers import ascii_digits, luhn_complete, pans, written
from validator_harness import NOW, ValidatorHarness, transaction_body

KNOWN = [f for f in validation.FIELDS if f != "cardNumber"]


@pytest.fixture
def h(stub) -> ValidatorHarness:
    return ValidatorHarness(stub)


def json_values(max_leaves: int = 6):
    leaves = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12)
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=max_leaves
    )


@st.composite
def bodies_with_a_pan(draw) -> tuple[str, str, str]:
    """(raw JSON body, the PAN in ASCII, the field the error must name)."""
    pan = draw(pans(min_length=card.EMBEDDED_PAN_MIN_LENGTH))
    text = draw(written(pan))  # json.dumps keeps its \\u escapes as text
    body = transaction_body()
    where = draw(st.sampled_from(["known", "unknown", "nested", "key", "nested key", "number"]))
    filler = draw(st.text(alphabet=" :#=/é", max_size=3))
    if where == "known":
        field = draw(st.sampled_from(KNOWN))
        body[field] = draw(st.sampled_from(["", "m-", "id "])) + text + filler
        named = field
    elif where == "unknown":
        body["notes"] = f"card {text}{filler}"
        named = "body"
    elif where == "nested":
        body["meta"] = {"a": [draw(json_values()), {"deep": [f"x{filler}{text}"]}]}
        named = "body"
    elif where == "key":
        body[f"{text}{filler}"] = draw(json_values())
        named = "body"
    elif where == "nested key":
        body["meta"] = {"list": [{f"k {text}": 1}]}
        named = "body"
    else:
        field = draw(st.sampled_from(["merchantId", "amount", "extra"]))
        pan = luhn_complete([4] + [int(d) for d in pan[1:-1]])  # a JSON number has no leading zero
        # The token as sent: an integer, a fraction, or an exponent with the same value.
        token = draw(st.sampled_from([pan, pan + ".0", f"{pan[0]}.{pan[1:]}e{len(pan) - 1}", f"{pan[0]}.{pan[1:]}E+{len(pan) - 1}"]))
        body[field] = token
        named = field if field in validation.FIELDS else "body"
    numbers = {field} if where == "number" else set()
    order = draw(st.permutations(list(body)))
    raw = "{" + ",".join(f"{json.dumps(k)}:{body[k] if k in numbers else json.dumps(body[k])}" for k in order) + "}"
    return raw, pan, named


@settings(max_examples=60)
@given(bodies_with_a_pan())
def test_given_a_pan_anywhere_but_card_number_then_400_names_the_field_echoes_nothing_and_calls_nothing(h, capsys, case) -> None:
    raw, pan, named = case
    capsys.readouterr()
    status, payload, result = h.post(raw)
    logs = capsys.readouterr().out

    assert status == 400, payload
    refusals = [e for e in payload["errors"] if e["code"] == validation.CARD_NUMBER_ELSEWHERE]
    assert refusals and refusals[0]["field"] == named
    for text in (result["body"], logs):
        assert pan not in ascii_digits(text)
        assert card.find_card_numbers(text, card.SCRUB_MIN_LENGTH) == []
    assert h.calls() == [] and h.db.connects == 0


client_words = st.text(alphabet="QWXZqwxz", min_size=10, max_size=20).map(lambda w: "zq" + w)


@settings(max_examples=40)
@given(st.lists(st.tuples(client_words, client_words), min_size=1, max_size=40, unique_by=lambda p: p[0]), st.booleans())
def test_given_any_unknown_keys_and_values_then_400_echoes_none_of_them_and_stays_small(h, pairs, duplicate) -> None:
    body = transaction_body(cardNumber="4111111111111112")
    for key, value in pairs:
        body[key] = value
    raw = json.dumps(body)
    if duplicate:
        raw = raw[:-1] + f",{json.dumps(pairs[0][0])}:1}}"
    status, payload, result = h.post(raw)
    assert status == 400
    for key, value in pairs:
        assert key not in result["body"] and value not in result["body"]
    assert len(payload["errors"]) <= validation.MAX_ERRORS
    assert len(json.dumps(payload["errors"]).encode()) <= validation.MAX_ERRORS_BYTES
    if not duplicate and len(pairs) + 1 > validation.MAX_ERRORS:
        assert payload["errors"][-1]["code"] == "too_many_errors"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"merchantId": "4111111111111111"}, "merchantId", id="merchantId is a PAN (passes its pattern)"),
        pytest.param({"merchantId": "m-4111-1111-1111-1111"}, "merchantId", id="PAN with dashes inside merchantId"),
        pytest.param({"transactionId": "4111111111111111"}, "transactionId", id="transactionId"),
        pytest.param({"amount": "4111111111111111"}, "amount", id="amount"),
        pytest.param({"4111111111111111": "x"}, "body", id="a key"),
    ],
)
def test_given_a_pan_in_an_identifier_then_it_is_refused_before_it_reaches_aurora_dynamodb_or_s3(h, overrides, field) -> None:
    status, payload, result = h.post(transaction_body(**overrides))
    assert status == 400
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, validation.CARD_NUMBER_ELSEWHERE)]
    assert "4111" not in result["body"]
    assert h.calls() == [] and h.db.transactions == {}


ACCOUNT_LIKE = luhn_complete([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])  # 12 digits, Luhn-valid


@pytest.mark.parametrize(
    "merchant_id",
    [ACCOUNT_LIKE, f"acct-{ACCOUNT_LIKE}", "890c2110-7387-4134-93fc-5aa5c6f274a3"],
    ids=["12-digit Luhn-valid id (an AWS account ID's length)", "such an id inside an id", "a UUID with a Luhn-valid digit stretch"],
)
def test_given_an_identifier_that_only_looks_like_a_pan_then_it_is_accepted(merchant_id) -> None:
    assert card.luhn_valid(ACCOUNT_LIKE)
    result = validation.validate_transaction(transaction_body(merchantId=merchant_id), NOW, validation.Limits(Decimal("10000"), 300))
    assert result.ok, result.errors


def test_a_body_nested_as_deep_as_json_allows_is_checked_without_recursion() -> None:
    deep = "[" * 900 + '"4111111111111111"' + "]" * 900
    data, errors = validation.decode_body('{"extra":' + deep + "}", False)
    assert errors == [] and validation.holds_card_number(data)
