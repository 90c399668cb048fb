r"""Structured JSON logging, one object per line (CloudWatch Logs Insights can
query the fields directly), modelled on powertools-lambda-python's Logger.

Card numbers must never reach the logs. The code never logs request bodies;
as a second line of defence every value of a log line (message, fields,
exception text) is scrubbed, before JSON encoding, of digit runs that look
like a payment card number: as many digits as validation accepts
(tap/card.py, PAN_MIN_LENGTH..PAN_MAX_LENGTH) and passing the Luhn check.

Scrubbing happens on the values, not on the encoded line, because JSON
escapes glue letters to digits: an "é" followed by a PAN encodes as
``\u00e94111...``, a digit run that starts with the escape's 9 and fails Luhn.

Digits inside a hexadecimal identifier (a UUID, a hash, an X-Ray trace ID: a
word of hex digits joined by dashes with at least one letter a-f) are left
alone. A random request ID such as 890c2110-7387-4134-93fc-5aa5c6f274a3 holds
the digit run 2110-7387-4134-93, which passes Luhn about one time in ten;
redacting it broke log correlation (seen as a flaky CI failure).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from tap import env
from tap.card import PAN_MAX_LENGTH, PAN_MIN_LENGTH, luhn_valid

ROOT_LOGGER_NAME = "tap"

# Two alternatives, tried left to right at each position:
# - hexid: a whole hex word (groups joined by single dashes, at least one
#   letter a-f, not glued to other letters or digits), copied unchanged;
# - pan: digits optionally separated by single spaces or dashes, as people
#   type PANs. The bounds come from card.py, so the scrubber covers exactly
#   the lengths validation accepts and the two cannot drift apart.
_SCRUB = re.compile(
    r"(?P<hexid>(?<![0-9A-Za-z])(?=[0-9A-Fa-f-]*[A-Fa-f])[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)*(?![0-9A-Za-z]))"
    rf"|(?P<pan>(?<!\d)(?:\d[ -]?){{{PAN_MIN_LENGTH - 1},{PAN_MAX_LENGTH - 1}}}\d(?!\d))"
)

# Attributes every LogRecord has; anything else came in through ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "tap_log_context", default=MappingProxyType({})
)


REDACTED_PAN = "[REDACTED-PAN]"


def redact_pans(text: str) -> str:
    def _mask(match: re.Match[str]) -> str:
        if match.group("pan") is not None and luhn_valid(re.sub(r"\D", "", match.group("pan"))):
            return REDACTED_PAN
        return match.group(0)

    return _SCRUB.sub(_mask, text)


def _scrub(value: Any) -> Any:
    """``value`` with every card number redacted, recursively; what json.dumps
    would have turned into text through ``default=str`` is turned into text
    here first, so it is scrubbed too."""
    if isinstance(value, str):
        return redact_pans(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        # A PAN passed as a number would be printed as its digits.
        text = repr(value)
        return value if redact_pans(text) == text else REDACTED_PAN
    if isinstance(value, Mapping):
        return {redact_pans(str(k)): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in value]
    return redact_pans(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _dt.datetime.fromtimestamp(record.created, _dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(_scrub(entry), separators=(",", ":"))


class _StdoutHandler(logging.StreamHandler):
    """Resolves sys.stdout at emit time so test capture (capsys) sees the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401 - logging.StreamHandler API
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _level_from_env() -> int:
    name = env.get(env.LOG_LEVEL).upper()
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


def setup() -> logging.Logger:
    """Configure the "tap" logger once per process (idempotent)."""
    root = logging.getLogger(ROOT_LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in root.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        # The Lambda runtime puts its own plain-text handler on the root
        # logger; propagating would print every line twice.
        root.propagate = False
    root.setLevel(_level_from_env())
    return root


def get_logger(name: str) -> logging.Logger:
    setup()
    return logging.getLogger(f"{ROOT_LOGGER_NAME}.{name}")


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Adds ``fields`` to every log line written inside the block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)
