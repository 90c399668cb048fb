"""Spec: an idempotency key (transactionId) is bound to its request.

* the same id with the same request replays the recorded decision (200,
  replayed); with a different amount, merchant, card or currency it is a 409
  that says so without echoing anything;
* concurrent requests with one id all get the decision that was recorded,
  or 409 when their body differs from the recorded one: never a decision
  that was not recorded;
* the fingerprint (tap/fingerprint.py) is stored next to the decision in
  Aurora and in the DynamoDB item, and never holds the PAN.

Pure properties with generated transactions, the handler with stubbed AWS,
then real MariaDB with threads and generated bodies."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import FakeContext, MemoryAws
from tap import api, card, db, env, fingerprint
from tap.db_settings import DbSettings
from tap.fingerprint import Fingerprint, FingerprintKey
from tap.migration_files import discover
from tap.migration_runner import apply_migrations
from tap.validation import CURRENCY_EXPONENTS, Limits, validate_transaction
from test_card_numbers import ascii_digits, luhn_complete
from validator_harness import (
    ENVIRON,
    FINGERPRINT_KEY,
    FINGERPRINT_KEY_PARAM,
    NOW,
    SECRET_ARN,
    ValidatorHarness,
    http_event,
    transaction_body,
)

LIMITS = Limits(max_amount=Decimal("10000.00"), clock_skew_seconds=300)
KEY = FingerprintKey.from_parameter(FINGERPRINT_KEY)
CONFLICT = {
    "message": "transactionId was already used for a different request; a new transaction needs a new transactionId",
    "code": "idempotency_key_reused",
}


def validated(body: dict[str, Any]):
    result = validate_transaction(body, NOW, LIMITS)
    assert result.transaction is not None, result.errors
    return result.transaction


pans = (
    st.integers(12, 19).flatmap(lambda n: st.lists(st.integers(0, 9), min_size=n - 2, max_size=n - 2)).map(lambda d: luhn_complete([4, *d]))
)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
currencies = st.sampled_from([c for c, e in CURRENCY_EXPONENTS.items() if e == 2])
merchants = st.from_regex(r"m-[a-z0-9]{3,12}", fullmatch=True)


@st.composite
def bodies(draw) -> dict[str, Any]:
    return transaction_body(
        transactionId=str(draw(st.uuids(version=4))),
        amount=str(draw(amounts)),
        currency=draw(currencies),
        cardNumber=draw(pans),
        merchantId=draw(merchants),
    )


# --- the fingerprint -----------------------------------------------------------------


@settings(max_examples=50)
@given(bodies(), st.integers(-290, 290), st.booleans())
def test_given_the_same_request_written_differently_then_the_fingerprint_is_the_same(body, skew, upper) -> None:
    """Amount "25", "25.0" and "25.00" are one amount; the timestamp and the
    id's letter case are not part of the request."""
    amount = body["amount"]
    again = dict(body, amount=amount.rstrip("0").rstrip(".") if "." in amount else amount)  # "20.50" -> "20.5", "20.00" -> "20"
    again["timestamp"] = (NOW + dt.timedelta(seconds=skew)).isoformat()
    again["transactionId"] = body["transactionId"].upper() if upper else body["transactionId"]
    assert fingerprint.of(validated(body), KEY) == fingerprint.of(validated(again), KEY)


changes = st.sampled_from(["amount", "merchantId", "currency", "card", "last four"])


def same_mask_other_card(pan: str) -> str:
    """Another Luhn-valid number of the same length and last four digits
    (two leading digits changed: one alone cannot keep the check digit)."""
    for first in range(10):
        for second in range(10):
            candidate = f"{first}{second}{pan[2:]}"
            if candidate != pan and card.luhn_valid(candidate):
                return candidate
    raise AssertionError("unreachable")


@settings(max_examples=80)
@given(bodies(), changes, st.data())
def test_given_any_change_of_amount_merchant_currency_or_card_then_it_is_not_the_same_request(body, change, data) -> None:
    other = dict(body)
    if change == "amount":
        other["amount"] = str(Decimal(body["amount"]) + Decimal("0.01") * data.draw(st.integers(1, 1000)))
    elif change == "merchantId":
        other["merchantId"] = body["merchantId"] + data.draw(st.sampled_from(["x", "-2", "_"]))
    elif change == "currency":
        other["currency"] = data.draw(currencies.filter(lambda c: c != body["currency"]))
    elif change == "card":
        other["cardNumber"] = same_mask_other_card(body["cardNumber"])
    else:
        pan = body["cardNumber"]
        other["cardNumber"] = luhn_complete([int(x) for x in pan[:-2]] + [(int(pan[-2]) + 1) % 10])
    first, second = fingerprint.of(validated(body), KEY), fingerprint.of(validated(other), KEY)
    assert not fingerprint.same_request(first, second)
    if change == "card":
        # Without the key only the masked card is compared: documented.
        assert card.mask(other["cardNumber"]) == card.mask(body["cardNumber"])
        assert fingerprint.same_request(fingerprint.of(validated(body), None), fingerprint.of(validated(other), None))


@settings(max_examples=50)
@given(bodies())
def test_a_fingerprint_never_holds_the_pan_in_any_form(body) -> None:
    fp = fingerprint.of(validated(body), KEY)
    for part in (fp.request, fp.card or ""):
        assert body["cardNumber"] not in ascii_digits(part) and body["cardNumber"][:-4] not in part
    assert fp.card is not None and fp.card.startswith(KEY.key_id + ":")


def test_given_two_keys_then_digests_differ_and_a_rotation_compares_the_request_part_only() -> None:
    txn = validated(transaction_body())
    other_key = FingerprintKey.from_parameter("r" * 40)
    old, new = fingerprint.of(txn, KEY), fingerprint.of(txn, other_key)
    assert old.card != new.card and old.key_id() != new.key_id()
    assert fingerprint.same_request(old, new)
    assert not fingerprint.same_request(old, Fingerprint(request="0" * 64, card=new.card))


@pytest.mark.parametrize("value", ["", "short", " " * 40 + "x"])
def test_a_fingerprint_key_shorter_than_32_bytes_is_refused(value) -> None:
    with pytest.raises(ValueError):
        FingerprintKey.from_parameter(value)


# --- the handler, AWS stubbed -----------------------------------------------------------------

CHANGED = [
    pytest.param({"amount": "99.00"}, id="amount"),
    pytest.param({"merchantId": "merchant-002"}, id="merchant"),
    pytest.param({"currency": "EUR"}, id="currency"),
    pytest.param({"cardNumber": "5555555555554444"}, id="card (other last four)"),
    pytest.param({"cardNumber": "4012888888881881"}, id="card (same length, other digits)"),
]


@pytest.fixture
def h(stub) -> ValidatorHarness:
    return ValidatorHarness(stub)


@pytest.mark.parametrize("change", CHANGED)
def test_given_a_session_item_for_the_id_and_a_changed_body_then_409_without_echo_and_nothing_recorded(h, change) -> None:
    first = transaction_body()
    fp = h.fingerprint_of(first, key=FINGERPRINT_KEY)
    item = h.session_item(first["transactionId"])
    item["requestFingerprint"] = {"S": fp.request}
    item["cardFingerprint"] = {"S": fp.card}
    h.ddb_stub.add_response("get_item", {"Item": item})
    h.expect_config()  # the card part needs the key

    status, payload, result = h.post(dict(first, **change))

    assert (status, payload) == (409, CONFLICT)
    for value in change.values():
        assert value not in result["body"]
    assert h.db.connects == 0 and h.audit_records() == []


@pytest.mark.parametrize("change", CHANGED)
def test_given_a_row_for_the_id_but_no_session_item_then_aurora_tells_the_change_and_answers_409(h, change) -> None:
    first = transaction_body()
    h.expect_config()
    h.expect_new_transaction(first["transactionId"])
    assert h.post(first)[0] == 200
    h.expect_session_miss(first["transactionId"])  # e.g. the session write had failed

    status, payload, _ = h.post(dict(first, **change))

    assert (status, payload) == (409, CONFLICT)
    assert len(h.db.transactions) == 1 and len(h.audit_records()) == 1


def test_given_the_same_body_again_then_the_recorded_decision_is_replayed(h) -> None:
    first = transaction_body(amount="150.00")  # over merchant-001's limit: DECLINED
    h.expect_config()
    h.expect_new_transaction(first["transactionId"])
    status, original, _ = h.post(first)
    (item,) = h.session_items()
    h.ddb_stub.add_response("get_item", {"Item": item})
    retry = dict(first, timestamp="2024-05-01T12:01:00Z", amount="150")  # a later retry, the amount written shorter
    status, payload, _ = h.post(retry)
    assert status == 200 and payload == {**original, "replayed": True} and original["decision"] == "DECLINED"


def test_given_no_fingerprint_key_in_ssm_then_transactions_still_work_and_the_card_is_compared_by_its_mask(h, capsys) -> None:
    first = transaction_body()
    h.expect_config(fingerprint_key=None)
    h.expect_new_transaction(first["transactionId"])
    assert h.post(first)[0] == 200
    (item,) = h.session_items()
    assert "cardFingerprint" not in item and h.db.transactions[first["transactionId"]][-1] is None
    assert "request fingerprint key parameter not found" in capsys.readouterr().out


def test_given_a_malformed_fingerprint_key_then_503_and_the_value_is_never_logged(h, capsys) -> None:
    body = transaction_body()
    h.expect_session_miss(body["transactionId"])
    h.expect_parameters(fingerprint_key="too-short-a-key")  # refused before the secret is read
    status, payload, _ = h.post(body)
    assert status == 503 and payload["dependency"] == "ssm"
    assert "too-short-a-key" not in capsys.readouterr().out


# --- real MariaDB, concurrent requests ------------------------------------------------------------


@pytest.fixture
def live(database_server, fresh_database):
    """A migrated database with merchants, and a factory of validator apps
    (one per thread: one container each) sharing in-memory AWS."""
    settings = DbSettings(
        database_server["host"], database_server["port"], database_server["user"], database_server["password"], fresh_database
    )
    conn = db.connect(settings, tls=None, database=None)
    try:
        apply_migrations(conn, discover(), database=fresh_database, lock_timeout_seconds=10)
        with conn.cursor() as cur:
            for merchant, limit in (("m-one", "100.00"), ("m-two", "100.00"), ("m-big", "1000000.00")):
                cur.execute(
                    "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES (%s, 'M', 'USD', %s)",
                    (merchant, limit),
                )
    finally:
        conn.close()
    memory = MemoryAws(
        {
            ENVIRON[env.DB_WRITER_ENDPOINT_PARAM]: settings.host,
            ENVIRON[env.DB_PORT_PARAM]: str(settings.port),
            ENVIRON[env.DB_SECRET_ARN_PARAM]: SECRET_ARN,
            FINGERPRINT_KEY_PARAM: FINGERPRINT_KEY,
        },
        {"username": settings.username, "password": settings.password},
    )
    environ = dict(ENVIRON, **{env.DB_NAME: fresh_database})

    def new_app() -> api.ValidatorApp:
        return api.build_app(
            environ,
            connect_fn=lambda s, t: db.connect(s, tls=None, timeouts=t, lock_wait_timeout=3),
            clock=lambda: NOW,
            clients=memory.clients,
        )

    def rows() -> list[tuple]:
        c = db.connect(settings, tls=None)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT transaction_id, amount, merchant_id, decision, request_fingerprint, card_fingerprint FROM transactions")
                return list(cur.fetchall())
        finally:
            c.close()

    return new_app, memory, rows


def post_concurrently(new_app, bodies_: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    apps = [new_app() for _ in bodies_]
    start = threading.Barrier(len(bodies_))
    results: list[Any] = [None] * len(bodies_)

    def run(index: int) -> None:
        start.wait(10)
        result = apps[index].handle(http_event("POST", "/transactions", bodies_[index]), FakeContext(10))
        results[index] = (result["statusCode"], json.loads(result["body"]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies_))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def assert_bound_to_the_recorded_request(bodies_, results, rows) -> None:
    (row,) = rows
    # The recorded request is the one whose fingerprints the row holds (bodies may differ by card alone).
    prints = [fingerprint.of(validated(b), KEY) for b in bodies_]
    recorded = [(b, p) for b, p in zip(bodies_, prints, strict=True) if p.request == row[4] and p.card == row[5]]
    assert recorded, f"the recorded row matches none of the requests: {row}"
    body0, same = recorded[0]
    assert (Decimal(body0["amount"]), body0["merchantId"]) == (row[1], row[2])
    for body, (status, payload) in zip(bodies_, results, strict=True):
        if fingerprint.same_request(same, fingerprint.of(validated(body), KEY)):
            assert status == 200 and payload["decision"] == row[3], (body, payload)
        else:
            assert (status, payload) == (409, CONFLICT), (body, payload)


@pytest.mark.db
def test_given_12_concurrent_requests_with_one_id_and_different_amounts_then_one_is_recorded_and_only_it_is_answered_200(live) -> None:
    new_app, memory, rows = live
    txn_id = str(uuid.uuid4())
    bodies_ = [transaction_body(transactionId=txn_id, merchantId="m-one", amount=f"{10 + i}.00") for i in range(12)]

    results = post_concurrently(new_app, bodies_)

    assert sorted(s for s, _ in results) == [200] + [409] * 11
    assert_bound_to_the_recorded_request(bodies_, results, rows())
    assert len(memory.items) == 1 and len(memory.objects) == 1


@pytest.mark.db
@settings(max_examples=5)
@given(st.data())
def test_given_generated_concurrent_bodies_for_one_id_then_every_answer_is_the_recorded_decision_or_409(live, data) -> None:
    """GIVEN 6 concurrent requests with one id whose bodies are drawn from a
    few variants (so some repeat the same request) THEN exactly one row, each
    request with the recorded body gets its decision (200), every other 409,
    and the fingerprint is in the row and the session item."""
    new_app, memory, rows = live
    txn_id = str(uuid.uuid4())
    variants = data.draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "amount": st.sampled_from(["20.00", "20", "99.99", "150.00"]),
                    "merchantId": st.sampled_from(["m-one", "m-two"]),
                    "cardNumber": st.sampled_from(["4111111111111111", "5555555555554444", "4012888888881881"]),
                }
            ),
            min_size=1,
            max_size=3,
        )
    )
    bodies_ = [transaction_body(transactionId=txn_id, **data.draw(st.sampled_from(variants))) for _ in range(6)]

    results = post_concurrently(new_app, bodies_)

    recorded_rows = [r for r in rows() if r[0] == txn_id]
    assert_bound_to_the_recorded_request(bodies_, results, recorded_rows)
    item = memory.items[f"txn#{txn_id}"]
    assert item["requestFingerprint"]["S"] == recorded_rows[0][4] and item["cardFingerprint"]["S"] == recorded_rows[0][5]
    everything = json.dumps([list(map(str, r)) for r in rows()]) + json.dumps(memory.items) + repr(memory.objects)
    for body in bodies_:
        assert body["cardNumber"] not in everything


@pytest.mark.db
def test_given_a_database_without_the_fingerprint_columns_then_the_validator_works_and_still_detects_a_changed_amount(
    database_server, fresh_database
) -> None:
    """GIVEN the new image running before migration 003 (ComputeStack deploys
    before SchemaMigration) THEN 200 for a new transaction, replay for the
    same request, 409 for a changed amount (recomputed from the row)."""
    settings = DbSettings(
        database_server["host"], database_server["port"], database_server["user"], database_server["password"], fresh_database
    )
    conn = db.connect(settings, tls=None, database=None)
    try:
        apply_migrations(conn, [m for m in discover() if m.version < 3], database=fresh_database, lock_timeout_seconds=10)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('m-one', 'M', 'USD', 100)")
    finally:
        conn.close()
    memory = MemoryAws(
        {
            ENVIRON[env.DB_WRITER_ENDPOINT_PARAM]: settings.host,
            ENVIRON[env.DB_PORT_PARAM]: str(settings.port),
            ENVIRON[env.DB_SECRET_ARN_PARAM]: SECRET_ARN,
        },
        {"username": settings.username, "password": settings.password},
    )
    app = api.build_app(
        dict(ENVIRON, **{env.DB_NAME: fresh_database}),
        connect_fn=lambda s, t: db.connect(s, tls=None, timeouts=t),
        clock=lambda: NOW,
        clients=memory.clients,
    )
    body = transaction_body(merchantId="m-one")

    def post(b):
        memory.items.clear()  # as if every session write had failed: Aurora must answer
        result = app.handle(http_event("POST", "/transactions", b), FakeContext(10))
        return result["statusCode"], json.loads(result["body"])

    assert post(body)[0] == 200
    assert post(body)[1]["replayed"] is True
    assert post(dict(body, amount="26.00")) == (409, CONFLICT)
