"""Spec: card numbers are found (tap/card.py) and scrubbed from every log line
(tap/jsonlog.py) however they are written: any digit script Python's ``\\d``
accepts, separators, JSON escapes, any surrounding text; hex identifiers
stay whole; third-party loggers never print below WARNING.

Generated inputs (hypothesis, derandomized in conftest.py) rather than a few
hand-picked strings: each property names what must hold for every input."""

from __future__ import annotations

import json
import logging
import random
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tap import card
from tap.jsonlog import REDACTED_PAN, get_logger, redact_pans

# Zero of each script whose digits Python's \d and int() accept.
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0xFF10, 0x1D7CE, 0x1D7EC]
SEPARATORS = [" ", "-", "\u00a0", "\u2009", "\u202f", "\u3000", "\u2010", "\u2013", "\u2212", "\uff0d", "\u200b", "\t", "\n"]
# What may stand between a card number and the text around it: anything but
# a digit or a letter (those would fuse with it into another number or word).
BOUNDARIES = [" ", ":", "=", "#", "(", ")", '"', "'", ",", ";", "/", "\\", "\n", "\t", "\u00e9", "\u2028", "[", "]", "{", "}"]


def luhn_complete(prefix: list[int]) -> str:
    for check in range(10):
        if card.luhn_valid("".join(map(str, [*prefix, check]))):
            return "".join(map(str, [*prefix, check]))
    raise AssertionError("unreachable: one check digit always fits")


@st.composite
def pans(draw, min_length: int = card.SCRUB_MIN_LENGTH, max_length: int = card.PAN_MAX_LENGTH) -> str:
    length = draw(st.integers(min_length, max_length))
    digits = draw(st.lists(st.integers(0, 9), min_size=length - 1, max_size=length - 1))
    return luhn_complete(digits)


@st.composite
def written(draw, pan: str) -> str:
    """``pan`` as someone might type, paste or escape it."""
    out: list[str] = []
    for index, digit in enumerate(pan):
        if index and draw(st.integers(0, 3)) == 0:
            out.append("".join(draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3))))
        char = chr(draw(st.sampled_from(DIGIT_ZEROS)) + int(digit))
        if draw(st.integers(0, 5)) == 0:
            # As a JSON escape in the text (a raw body pasted into a message).
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                char = f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
            else:
                char = f"\\u{code:04x}"
        out.append(char)
    return "".join(out)


def ascii_digits(text: str) -> str:
    """Every decimal digit of ``text`` (JSON escapes decoded) as ASCII, in order."""
    decoded, _, _ = card._decoded(text)
    return "".join(str(unicodedata.decimal(c)) for c in decoded if c.isdecimal())


def embedded(draw, pan: str) -> str:
    before = draw(st.text(max_size=40))
    after = draw(st.text(max_size=40))
    return before + draw(st.sampled_from(BOUNDARIES)) + draw(written(pan)) + draw(st.sampled_from(BOUNDARIES)) + after


@st.composite
def texts_with_a_pan(draw) -> tuple[str, str]:
    pan = draw(pans())
    return pan, embedded(draw, pan)


@settings(max_examples=100)
@given(texts_with_a_pan())
@example(("4111111111111111", "card=4111111111111111-abc"))  # the hex exception once looked past the match
@example(("4111111111111111", "4111111111111111 890c2110-7387-4134-93fc-5aa5c6f274a3"))
def test_given_a_pan_written_any_way_inside_any_text_when_scrubbed_then_its_digits_are_gone(case) -> None:
    pan, text = case
    scrubbed = redact_pans(text)
    assert REDACTED_PAN in scrubbed
    assert pan not in ascii_digits(scrubbed.replace(REDACTED_PAN, " "))


@settings(max_examples=100)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.from_regex(r"[0-9 \-a-f]{0,60}", fullmatch=True))
def test_given_any_text_when_scrubbed_then_no_card_number_is_left_and_scrubbing_again_changes_nothing(text) -> None:
    scrubbed = redact_pans(text)
    assert card.find_card_numbers(scrubbed, card.SCRUB_MIN_LENGTH) == []
    assert redact_pans(scrubbed) == scrubbed


@settings(max_examples=100)
@given(st.uuids(), st.sampled_from(["request ", "id=", "req-", "", "txn#"]), st.sampled_from(["", " ok", "-1", ";"]))
def test_given_a_uuid_whatever_its_digits_when_scrubbed_then_it_is_left_whole(value, before, after) -> None:
    text = f"{before}{value}{after}"
    assert redact_pans(text) == text
    assert redact_pans(text.upper()) == text.upper()


@settings(max_examples=100)
@given(st.binary(min_size=4, max_size=12), st.binary(min_size=12, max_size=12))
def test_given_an_xray_trace_id_or_a_hash_when_scrubbed_then_it_is_left_whole(time_part, random_part) -> None:
    trace = f"Root=1-{time_part.hex()[:8].rjust(8, '0')}-{random_part.hex()}"
    digest = (time_part + random_part).hex()
    for text in (trace, f"sha {digest}a"):
        assert redact_pans(text) == text


@settings(max_examples=100)
@given(
    st.integers(card.SCRUB_MIN_LENGTH, card.PAN_MAX_LENGTH).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, 9), min_size=n, max_size=n))
    )
)
def test_given_a_run_that_fails_luhn_then_it_is_left_alone(case) -> None:
    _, digits = case
    number = "".join(map(str, digits))
    if card.luhn_valid(number):
        number = number[:-1] + str((int(number[-1]) + 1) % 10)
    text = f"order {number} shipped"
    assert redact_pans(text) == text


@pytest.mark.parametrize(
    ("length", "found"),
    [(n, card.EMBEDDED_PAN_MIN_LENGTH <= n <= card.PAN_MAX_LENGTH) for n in range(10, 22)],
    ids=lambda v: str(v),
)
def test_the_request_detector_finds_13_to_19_digits_and_the_scrubber_12_to_19(length, found) -> None:
    number = luhn_complete([4] + [1] * (length - 2))
    assert card.contains_card_number(f"x {number} y") is found
    assert (redact_pans(f"x {number} y") != f"x {number} y") is (card.SCRUB_MIN_LENGTH <= length <= card.PAN_MAX_LENGTH)


def test_a_sealed_pan_never_prints_or_pickles_and_its_digest_depends_on_key_and_context() -> None:
    import pickle

    sealed = card.SealedPan("4111111111111111")
    assert "4111111111111111" not in repr(sealed) and repr(sealed).endswith("1111)")
    with pytest.raises(TypeError):
        pickle.dumps(sealed)
    digest = sealed.keyed_digest(b"k" * 32, b"ctx")
    assert len(digest) == 64 and digest != sealed.keyed_digest(b"j" * 32, b"ctx") != sealed.keyed_digest(b"k" * 32, b"other")


# --- log lines --------------------------------------------------------------------


@settings(max_examples=40)
@given(texts_with_a_pan(), st.sampled_from(["message", "field", "nested", "key", "exception"]))
def test_given_a_pan_anywhere_in_a_log_call_then_the_json_line_holds_none(capsys, case, where) -> None:
    pan, text = case
    log = get_logger("test.scrub")
    capsys.readouterr()
    if where == "message":
        log.warning("value %s", text)
    elif where == "field":
        log.warning("value", extra={"detail": text})
    elif where == "nested":
        log.warning("value", extra={"detail": {"a": [1, {"b": text}]}})
    elif where == "key":
        log.warning("value", extra={"detail": {text: 1}})
    else:
        try:
            raise ValueError(text)
        except ValueError:
            log.exception("failed")
    (line,) = capsys.readouterr().out.strip().splitlines()
    values: list[str] = []

    def collect(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                values.append(k)
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)
        elif isinstance(node, str):
            values.append(node)

    collect(json.loads(line))
    for value in [*values, line]:
        assert pan not in ascii_digits(value.replace(REDACTED_PAN, " "))


@pytest.mark.parametrize("log_level", ["DEBUG", "INFO"])
def test_given_debug_everywhere_when_botocore_runs_then_no_third_party_line_below_warning_and_no_secret(
    stub, monkeypatch, capsys, caplog, log_level
) -> None:
    """GIVEN LOG_LEVEL and the root logger at DEBUG, and even a botocore
    child logger set to DEBUG by hand, WHEN a secret is read THEN nothing of
    botocore, urllib3, boto3 or pymysql below WARNING is printed anywhere."""
    from tap import jsonlog

    monkeypatch.setenv("LOG_LEVEL", log_level)
    jsonlog.setup()
    monkeypatch.setattr(logging.getLogger(), "level", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore.hooks").setLevel(logging.DEBUG)
    try:
        client, stubber = stub("secretsmanager")
        secret = f"s3cr3t-{random.Random(7).getrandbits(64):x}"
        stubber.add_response(
            "get_secret_value", {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf", "SecretString": secret}
        )
        assert client.get_secret_value(SecretId="x")["SecretString"] == secret
        for name in jsonlog.THIRD_PARTY_LOGGERS:
            logging.getLogger(f"{name}.child").debug("debug detail %s", secret)
            logging.getLogger(name).info("info detail %s", secret)
        logging.getLogger("botocore").warning("a warning is still shown")
    finally:
        logging.getLogger("botocore.hooks").setLevel(logging.NOTSET)
        monkeypatch.delenv("LOG_LEVEL")
        jsonlog.setup()
    out = capsys.readouterr()
    printed = out.out + out.err + caplog.text
    assert secret not in printed
    records = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    third_party = [r for r in records if r["logger"].split(".")[0] in jsonlog.THIRD_PARTY_LOGGERS]
    assert [(r["logger"], r["level"]) for r in third_party] == [("botocore", "WARNING")]
    for name in jsonlog.THIRD_PARTY_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
