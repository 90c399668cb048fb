"""Spec: the card number (PAN) never appears in logs, responses, the audit
record, DynamoDB or MySQL, only its masked form. (The MySQL half, against a
real database, is in test_db_integration.py.)"""

from __future__ import annotations

import json
import logging

import pymysql
import pytest

from tap import card
from tap.jsonlog import JsonFormatter, bound, get_logger, redact_pans
from validator_harness import ValidatorHarness, transaction_body

PANS = ["4111111111111111", "5555555555554444", "378282246310005", "6011000990139424"]


def spaced(pan: str) -> str:
    return " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))


def assert_pan_absent(pan: str, *haystacks: str) -> None:
    for text in haystacks:
        assert pan not in text
        assert spaced(pan) not in text


@pytest.mark.parametrize("pan", PANS)
def test_given_an_approved_transaction_then_the_pan_is_nowhere_but_the_mask_is(stub, capsys, pan) -> None:
    h = ValidatorHarness(stub)
    body = transaction_body(cardNumber=pan)
    h.expect_config()
    h.expect_new_transaction(body["transactionId"])
    status, _payload, result = h.post(body)
    assert status == 200
    logs = capsys.readouterr().out
    sent_to_aws = json.dumps([p for _, _, p in h.sent], default=lambda b: b.decode() if isinstance(b, bytes) else str(b))
    sent_to_db = repr(h.db.executed) + repr(h.db.transactions)
    assert_pan_absent(pan, logs, result["body"], sent_to_aws, sent_to_db)
    assert h.audit_records()[0]["cardMasked"] == "*" * (len(pan) - 4) + pan[-4:]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(transaction_body(cardNumber="4111111111111112"), id="Luhn failure"),
        pytest.param(transaction_body(cardNumber=spaced(PANS[0])), id="PAN with spaces"),
        pytest.param(transaction_body(merchantId=PANS[0] + "!"), id="PAN pasted into merchantId"),
        pytest.param(transaction_body(notes=f"card {PANS[0]}"), id="PAN in an unexpected field"),
        pytest.param(transaction_body(amount=PANS[0]), id="PAN pasted into amount"),
        pytest.param(transaction_body(cardNumber=PANS[0], timestamp="garbage"), id="valid PAN, other field bad"),
    ],
)
def test_given_a_rejected_request_then_no_pan_is_echoed_or_logged(stub, capsys, body) -> None:
    h = ValidatorHarness(stub)
    status, _payload, result = h.post(body)
    assert status == 400
    logs = capsys.readouterr().out
    for pan in (PANS[0], "4111111111111112"):
        assert_pan_absent(pan, logs, result["body"])


def test_given_a_dependency_failure_then_the_logged_trace_has_no_pan(stub, capsys) -> None:
    def connect(settings, timeouts):
        raise pymysql.err.OperationalError(2003, f"weird driver message quoting {PANS[0]}")

    h = ValidatorHarness(stub, connect=connect)
    body = transaction_body()
    h.expect_session_miss(body["transactionId"])
    h.expect_config()
    status, _, result = h.post(body)
    assert status == 503
    logs = capsys.readouterr().out
    assert "Traceback" in logs and "[REDACTED-PAN]" in logs
    assert_pan_absent(PANS[0], logs, result["body"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 used", "card [REDACTED-PAN] used"),
        ("card 4111 1111 1111 1111 used", "card [REDACTED-PAN] used"),
        ("card 4111-1111-1111-1111", "card [REDACTED-PAN]"),
        ("order 4111111111111112 is not a PAN", "order 4111111111111112 is not a PAN"),
        ("amount 12345 and id 42", "amount 12345 and id 42"),
        ("uuid 3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f", "uuid 3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f"),
        # A request ID whose inner digits 2110-7387-4134-93 pass Luhn: it once
        # came out as 890c[REDACTED-PAN]fc-... and broke log correlation.
        ("request 890c2110-7387-4134-93fc-5aa5c6f274a3", "request 890c2110-7387-4134-93fc-5aa5c6f274a3"),
        ("trace Root=1-5759e988-bd862e3fe1be46a994272793", "trace Root=1-5759e988-bd862e3fe1be46a994272793"),
        ("sha256 ab4111111111111111ab", "sha256 ab4111111111111111ab"),
        ("card:4111111111111111,", "card:[REDACTED-PAN],"),
        ("card=4111-1111-1111-1111-", "card=[REDACTED-PAN]-"),
        ("pan4111111111111111", "pan[REDACTED-PAN]"),
        ("txn#4111111111111111", "txn#[REDACTED-PAN]"),
    ],
)
def test_the_log_formatter_redacts_luhn_valid_digit_runs(text, expected) -> None:
    assert redact_pans(text) == expected


def luhn_number(length: int) -> str:
    """A Luhn-valid digit string of ``length`` digits (a check digit appended)."""
    body = ("4" + "1234567890" * 2)[: length - 1]
    for check in "0123456789":
        if card.luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


@pytest.mark.parametrize(
    ("length", "redacted"),
    [(n, card.PAN_MIN_LENGTH <= n <= card.PAN_MAX_LENGTH) for n in range(card.PAN_MIN_LENGTH - 1, card.PAN_MAX_LENGTH + 2)],
    ids=lambda v: str(v),
)
def test_given_a_luhn_valid_run_when_logged_then_it_is_redacted_exactly_for_the_lengths_validation_accepts(
    length: int, redacted: bool
) -> None:
    digits = luhn_number(length)
    assert len(digits) == length and card.luhn_valid(digits)
    for written in (digits, spaced(digits)):
        scrubbed = redact_pans(f"card {written} used")
        assert (scrubbed == "card [REDACTED-PAN] used") is redacted, scrubbed


def test_given_a_12_digit_pan_that_validation_accepts_then_the_log_line_does_not_contain_it(capsys) -> None:
    pan = luhn_number(card.PAN_MIN_LENGTH)
    assert card.PAN_MIN_LENGTH == 12
    get_logger("test").warning("oops %s", pan)
    assert pan not in capsys.readouterr().out


def test_a_pan_passed_to_a_logger_by_mistake_is_redacted(capsys) -> None:
    get_logger("test").warning("oops %s", PANS[0], extra={"card": PANS[1]})
    out = capsys.readouterr().out
    assert PANS[0] not in out and PANS[1] not in out
    line = json.loads(out.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "tap.test"


@pytest.mark.parametrize(
    ("prefix", "where"),
    [
        # JSON encodes these as \u00e9, \n, \t: a letter or digit right before the PAN.
        ("\u00e9", "message"),
        ("\n", "message"),
        ("\t", "field"),
        ("", "number field"),
    ],
)
def test_given_a_pan_after_a_character_json_escapes_when_logged_then_it_is_still_redacted(capsys, prefix, where) -> None:
    log = get_logger("test")
    if where == "message":
        log.warning("value %s", prefix + PANS[0])
    elif where == "field":
        log.warning("value", extra={"detail": {"nested": [prefix + PANS[0]]}})
    else:
        log.warning("value", extra={"amount_by_mistake": int(PANS[0])})
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert PANS[0] not in out and PANS[0][1:] not in out
    assert "[REDACTED-PAN]" in out
    json.loads(out)


def test_given_a_request_id_that_contains_a_luhn_valid_run_when_bound_then_it_is_logged_unchanged(capsys) -> None:
    request_id = "890c2110-7387-4134-93fc-5aa5c6f274a3"
    with bound(request_id=request_id):
        get_logger("test").info("transaction decided")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["request_id"] == request_id


def test_log_lines_are_single_json_objects_with_exceptions_included() -> None:
    record = logging.LogRecord("tap.x", logging.ERROR, __file__, 1, "failed %d", (3,), None)
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    parsed = json.loads(line)
    assert parsed["message"] == "failed 3"
    assert parsed["exception_type"] == "ValueError" and "Traceback" in parsed["exception"]
    assert "\n" not in line
