r"""Structured JSON logging, one object per line (CloudWatch Logs Insights can
query the fields directly), modelled on powertools-lambda-python's Logger.

Card numbers must never reach the logs. The code never logs request bodies;
as a second line of defence every value of a log line (message, fields,
exception text) is scrubbed, before JSON encoding, of card numbers as
tap/card.py finds them (Luhn-valid runs of SCRUB_MIN_LENGTH..PAN_MAX_LENGTH
digits, any Unicode digits, separators, JSON escapes; hex identifiers such as
request IDs left whole).

Scrubbing happens on the values, not on the encoded line, because JSON
escapes glue letters to digits: an "é" followed by a PAN encodes as
``\u00e94111...``, a digit run that starts with the escape's 9 and fails Luhn.

Third-party libraries log what they are given: botocore at DEBUG prints
request parameters and response bodies (the database secret's value among
them). Their loggers are held at WARNING or quieter whatever LOG_LEVEL or the
root logger say, and what they do log goes through the same scrubbing
handler instead of the runtime's plain-text one.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, TextIO

from tap import env
from tap.card import SCRUB_MIN_LENGTH, redact_card_numbers

ROOT_LOGGER_NAME = "tap"
# Never more verbose than WARNING (see the module docstring).
THIRD_PARTY_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "pymysql")
THIRD_PARTY_MOST_VERBOSE = logging.WARNING

# Attributes every LogRecord has; anything else came in through ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "tap_log_context", default=MappingProxyType({})
)


REDACTED_PAN = "[REDACTED-PAN]"


def redact_pans(text: str) -> str:
    return redact_card_numbers(text, REDACTED_PAN, SCRUB_MIN_LENGTH)


def _scrub(value: object) -> object:
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
            "timestamp": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(timespec="milliseconds"),
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


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Resolves sys.stdout at emit time so test capture (capsys) sees the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _level_from_env() -> int:
    name = env.get(env.LOG_LEVEL).upper()
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


class _ThirdPartyFloor(logging.Filter):
    """Drops third-party records below WARNING that a logger of theirs with
    its own, more verbose level (set by whoever) let through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= THIRD_PARTY_MOST_VERBOSE:
            return True
        return not any(record.name == n or record.name.startswith(n + ".") for n in THIRD_PARTY_LOGGERS)


def _handler() -> logging.Handler:
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_ThirdPartyFloor())
    return handler


def setup() -> logging.Logger:
    """Configure the "tap" logger and the third-party ones once per process
    (idempotent; the levels are set again on every call)."""
    level = _level_from_env()
    for name in (ROOT_LOGGER_NAME, *THIRD_PARTY_LOGGERS):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
            logger.addHandler(_handler())
            # The Lambda runtime puts its own plain-text handler on the root
            # logger; propagating would print every line twice, unscrubbed.
            logger.propagate = False
        logger.setLevel(level if name == ROOT_LOGGER_NAME else max(level, THIRD_PARTY_MOST_VERBOSE))
    return logging.getLogger(ROOT_LOGGER_NAME)


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
