"""Structured JSON logging, one object per line (CloudWatch Logs Insights can
query the fields directly), modelled on powertools-lambda-python's Logger.

Card numbers must never reach the logs. The code never logs request bodies;
as a second line of defence every formatted line is scrubbed of digit runs
that look like a payment card number: as many digits as validation accepts
(tap/card.py, PAN_MIN_LENGTH..PAN_MAX_LENGTH) and passing the Luhn check.
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

# Digits optionally separated by single spaces or dashes, as people type PANs.
# The bounds come from card.py, so the scrubber covers exactly the lengths
# validation accepts and the two cannot drift apart.
_PAN_CANDIDATE = re.compile(rf"(?<!\d)(?:\d[ -]?){{{PAN_MIN_LENGTH - 1},{PAN_MAX_LENGTH - 1}}}\d(?!\d)")

# Attributes every LogRecord has; anything else came in through ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "tap_log_context", default=MappingProxyType({})
)


def redact_pans(text: str) -> str:
    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if luhn_valid(digits):
            return "[REDACTED-PAN]"
        return match.group(0)

    return _PAN_CANDIDATE.sub(_mask, text)


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
        return redact_pans(json.dumps(entry, default=str, separators=(",", ":")))


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
