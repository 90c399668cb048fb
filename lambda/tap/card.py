"""Card number (PAN) helpers. The PAN itself never leaves validation: only the
masked form (last four digits) is kept, logged or stored, plus, for the
idempotency fingerprint, a keyed digest (tap/fingerprint.py, SealedPan below).

An unkeyed hash of the PAN is never stored: the PAN space is small enough
(issuer prefix + Luhn, with the last four digits stored beside it) that it
can be brute forced. The keyed digest needs a key the data stores do not hold.

Lengths, deliberately two ranges:

* ``cardNumber`` accepts PAN_MIN_LENGTH..PAN_MAX_LENGTH (12-19) digits:
  ISO/IEC 7812 allows Maestro numbers of 12.
* Anywhere else in a request a card number is a Luhn-valid run of
  EMBEDDED_PAN_MIN_LENGTH..PAN_MAX_LENGTH (13-19) digits, and the request is
  refused. 12 is left out there on purpose: 12-digit identifiers are common
  (an AWS account ID is one, and one in ten passes Luhn), and refusing a
  payment for one is worse than the Maestro-in-the-wrong-field case it would
  catch.
* The log scrubber covers both (SCRUB_MIN_LENGTH, 12): redacting a
  12-digit identifier in a log line costs little, leaking a PAN does not.

What counts as a run of digits (``find_card_numbers``): any Unicode decimal
digits (Python's ``\\d`` and ``int()`` accept Arabic-Indic, fullwidth... as
digits, and so does a person reading them), with up to three separators
between two digits (any whitespace, zero-width characters, ASCII and Unicode
dashes), also when written as JSON ``\\uXXXX`` escapes. Digits inside a
hexadecimal identifier (a UUID, an X-Ray trace ID, or one word of hex digits
with at least one letter a-f) are not a run: random request IDs hold
Luhn-valid digit stretches one time in ten, and redacting them breaks log
correlation. The price: a PAN fused into a hex word (``ab4111...``) is not
recognised. Only the identifier itself is exempt, never what follows it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import NoReturn

PAN_MIN_LENGTH = 12
PAN_MAX_LENGTH = 19
EMBEDDED_PAN_MIN_LENGTH = 13
SCRUB_MIN_LENGTH = min(PAN_MIN_LENGTH, EMBEDDED_PAN_MIN_LENGTH)

# Whitespace and zero-width characters a pasted number may carry, and dashes.
_SEPARATOR = r"[\s\u00ad\u200b-\u200d\u2060\ufeff\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]"
_MAX_SEPARATORS = 3
_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,{_MAX_SEPARATORS}}}\d)*")
# Necessary for any card number not written with escapes: a run of at least
# SCRUB_MIN_LENGTH digits. Searched first, in C, because nearly every string
# logged or validated has none (timestamps, amounts, most identifiers).
_LONG_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,{_MAX_SEPARATORS}}}\d){{{SCRUB_MIN_LENGTH - 1},}}")
_GROUP = re.compile(r"\d+")
_HEX = "[0-9A-Fa-f]"
# Possessive: a long hex word must not make the engine backtrack through it.
_HEX_ID = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
    rf"|1-{_HEX}{{8}}-{_HEX}{{24}}|(?P<word>{_HEX}++))(?![0-9A-Za-z])"
)
# \uXXXX, with a low surrogate after a high one (digits beyond the BMP).
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})(?:\\u([dD][c-fC-F][0-9A-Fa-f]{2}))?")


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812-1 check digit. ``digits`` must contain only 0-9."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    return _luhn_ok([ord(c) - 48 for c in digits])


def _luhn_ok(values: list[int]) -> bool:
    total = 0
    for index, value in enumerate(reversed(values)):
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask(digits: str) -> str:
    """All but the last four digits replaced by '*' (PCI DSS 3.4 display rule)."""
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def _decoded(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` with JSON \\uXXXX escapes decoded, and for each character of
    the result the start and end offset of what it came from in ``text``."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        for offset in range(position, match.start()):
            chars.append(text[offset])
            starts.append(offset)
            ends.append(offset + 1)
        high, low = int(match.group(1), 16), match.group(2)
        if low is not None and 0xD800 <= high <= 0xDBFF:
            code = 0x10000 + ((high - 0xD800) << 10) + (int(low, 16) - 0xDC00)
            chars.append(chr(code))
        else:
            chars.append(chr(high))
            if low is not None:
                # Not a pair: the second escape stands for itself.
                chars.append(chr(int(low, 16)))
                starts.append(match.start())
                ends.append(match.start() + 6)
                starts.append(match.start() + 6)
                ends.append(match.end())
                position = match.end()
                continue
        starts.append(match.start())
        ends.append(match.end())
        position = match.end()
    for offset in range(position, len(text)):
        chars.append(text[offset])
        starts.append(offset)
        ends.append(offset + 1)
    return "".join(chars), starts, ends


def _spans_in(text: str, min_length: int, max_length: int) -> list[tuple[int, int]]:
    # Blank out hex identifiers first (same length, so offsets hold), so that
    # a run can neither start inside one nor grow into one.
    pieces: list[str] = []
    position = 0
    for match in _HEX_ID.finditer(text):
        word = match.group("word")
        if word is not None and word.isdigit():
            continue  # all digits: not an identifier, possibly a PAN
        pieces.append(text[position : match.start()])
        pieces.append("\0" * (match.end() - match.start()))
        position = match.end()
    pieces.append(text[position:])
    blanked = "".join(pieces)
    if min_length >= SCRUB_MIN_LENGTH and not _LONG_RUN.search(blanked):
        return []
    spans: list[tuple[int, int]] = []
    for run in _RUN.finditer(blanked):
        if run.end() - run.start() < min_length:
            continue  # fewer characters than the digits a card number needs
        groups = [(g.start(), g.end(), [unicodedata.decimal(c) for c in g.group()]) for g in _GROUP.finditer(run.group())]
        # Every stretch of whole groups: "4111 1111 1111 1111 2" holds a PAN
        # although the whole run of 17 digits fails Luhn.
        for first in range(len(groups)):
            values: list[int] = []
            for last in range(first, len(groups)):
                values.extend(groups[last][2])
                if len(values) > max_length:
                    break
                if len(values) >= min_length and _luhn_ok(values):
                    spans.append((run.start() + groups[first][0], run.start() + groups[last][1]))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result


def find_card_numbers(
    text: str, min_length: int = EMBEDDED_PAN_MIN_LENGTH, max_length: int = PAN_MAX_LENGTH
) -> list[tuple[int, int]]:
    """(start, end) offsets in ``text`` of every card number it holds (see the
    module docstring for what counts), merged where they overlap."""
    if "\\u" not in text:
        if min_length >= SCRUB_MIN_LENGTH and not _LONG_RUN.search(text):
            return []
        return _spans_in(text, min_length, max_length)
    decoded, starts, ends = _decoded(text)
    return _merged([(starts[a], ends[b - 1]) for a, b in _spans_in(decoded, min_length, max_length)])


def contains_card_number(text: str, min_length: int = EMBEDDED_PAN_MIN_LENGTH) -> bool:
    return bool(find_card_numbers(text, min_length))


def redact_card_numbers(text: str, replacement: str, min_length: int = SCRUB_MIN_LENGTH) -> str:
    spans = find_card_numbers(text, min_length)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


class SealedPan:
    """A validated PAN, kept only so that a keyed digest can be computed once
    the key is at hand (after validation, see tap/fingerprint.py). It prints
    as a mask, cannot be pickled, and offers nothing but ``keyed_digest``."""

    __slots__ = ("_digits",)

    def __init__(self, digits: str) -> None:
        self._digits = digits

    def keyed_digest(self, key: bytes, context: bytes) -> str:
        """HMAC-SHA256(key, context + NUL + PAN) in hex."""
        return hmac.new(key, context + b"\0" + self._digits.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"SealedPan({mask(self._digits)})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SealedPan is never serialised")
