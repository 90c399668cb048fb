"""Hardening benchmark: card numbers nowhere, idempotency bound, time budget
under faults. Never leaves the machine: AWS is answered in process or by
loopback fault servers (lambda/tests/faults.py), the database is a local
MariaDB/MySQL when one is reachable (the tests' TAP_TEST_DB_* settings) and
the in-memory double otherwise (said so in the output).

1. Generated requests (seeded): valid ones, and ones with a card number
   written any way (scripts, separators, JSON escapes) in any other field,
   key or nesting. Every response, log line, database row, session item
   and audit object is then searched for those card numbers.
2. Reused transaction ids with a changed body: each must be a 409.
3. The fault matrix (each dependency hanging, blackholed, slow, alone and in
   pairs, cold and warm, after /health) against a 10 s function: the worst
   answer time.

Usage:
    python3 lambda/hardening_bench.py [--requests 400] [--seed 7] [--no-faults] [--json]

--json prints exactly one JSON object; the exit status is 1 when a card
number was found or an answer came after the function timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import unicodedata
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]

# No real credentials, config or endpoint: every call is answered on this machine.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LOG_LEVEL": "INFO",
    }
)

import pymysql  # noqa: E402

import faults  # noqa: E402
from support import FakeContext, FakeMySQL, MemoryAws  # noqa: E402
from tap import api, card, db, env  # noqa: E402
from tap.db_settings import DbSettings  # noqa: E402
from tap.migration_files import discover  # noqa: E402
from tap.migration_runner import apply_migrations  # noqa: E402
from validator_harness import ENVIRON, FINGERPRINT_KEY, FINGERPRINT_KEY_PARAM, NOW, SECRET_ARN, http_event, transaction_body  # noqa: E402

FUNCTION_TIMEOUT_SECONDS = 10.0
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0xFF10, 0x1D7CE]
SEPARATORS = [" ", "-", "\u00a0", "\u2009", "\u2013", "\u200b", "\n"]
MERCHANTS = [f"bench-{i:02d}" for i in range(8)]


def luhn_pan(rng: random.Random, length: int) -> str:
    digits = [rng.choice("3456")] + [str(rng.randrange(10)) for _ in range(length - 2)]
    for check in "0123456789":
        if card.luhn_valid("".join(digits) + check):
            return "".join(digits) + check
    raise AssertionError("unreachable")


def written(rng: random.Random, pan: str) -> str:
    out = []
    for index, digit in enumerate(pan):
        if index and rng.random() < 0.25:
            out.append(rng.choice(SEPARATORS) * rng.randint(1, 2))
        char = chr(rng.choice(DIGIT_ZEROS) + int(digit))
        out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF and rng.random() < 0.15 else char)
    return "".join(out)


def misplaced(rng: random.Random, pan: str) -> str:
    """A raw JSON body with ``pan`` somewhere it does not belong."""
    body: dict[str, Any] = transaction_body(
        transactionId=str(uuid.UUID(int=rng.getrandbits(128), version=4)), merchantId=rng.choice(MERCHANTS)
    )
    text = written(rng, pan)
    where = rng.choice(["merchantId", "transactionId", "amount", "timestamp", "notes", "nested", "key", "number"])
    if where in ("merchantId", "transactionId", "amount", "timestamp"):
        body[where] = rng.choice(["", "x-", "id "]) + text
    elif where == "notes":
        body["notes"] = f"card {text}"
    elif where == "nested":
        body["meta"] = {"a": [1, {"b": [f"pan:{text}"]}]}
    elif where == "key":
        body[f"k {text}"] = True
    else:
        raw = json.dumps(body)
        return raw[:-1] + f', "extra": {pan}}}'
    return json.dumps(body)


def ascii_digits(text: str) -> str:
    decoded, _, _ = card._decoded(text)
    return "".join(str(unicodedata.decimal(c)) for c in decoded if c.isdecimal())


class Database:
    """A fresh database on the local server, or the in-memory double."""

    def __init__(self) -> None:
        self.params = {
            "host": os.environ.get("TAP_TEST_DB_HOST", "127.0.0.1"),
            "port": int(os.environ.get("TAP_TEST_DB_PORT", "3306")),
            "user": os.environ.get("TAP_TEST_DB_USER", "tap"),
            "password": os.environ.get("TAP_TEST_DB_PASSWORD", "tap"),
        }
        self.name = f"{os.environ.get('TAP_TEST_DB_NAME', 'tap_test')}_bench_{uuid.uuid4().hex[:8]}"
        self.fake: FakeMySQL | None = None
        self.reason = ""
        try:
            pymysql.connect(connect_timeout=2, **self.params).close()
        except pymysql.MySQLError as e:
            self.reason = f"no database at {self.params['host']}:{self.params['port']} ({e.args[-1] if e.args else e})"
            self.fake = FakeMySQL({m: ("ACTIVE", "USD", "1000000.00") for m in MERCHANTS})
            return
        self.settings = DbSettings(self.params["host"], self.params["port"], self.params["user"], self.params["password"], self.name)
        conn = db.connect(self.settings, tls=None, database=None)
        try:
            apply_migrations(conn, discover(), database=self.name, lock_timeout_seconds=10)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES (%s, 'Bench', 'USD', 1000000)",
                    [(m,) for m in [*MERCHANTS, "merchant-001"]],
                )
        finally:
            conn.close()

    @property
    def label(self) -> str:
        return f"MariaDB/MySQL at {self.params['host']}:{self.params['port']}" if self.fake is None else f"in-memory double: {self.reason}"

    def connect(self, settings: Any, timeouts: Any) -> Any:
        if self.fake is not None:
            return self.fake.connect(settings, timeouts)
        return db.connect(settings, tls=None, timeouts=timeouts, lock_wait_timeout=3)

    def dump(self) -> str:
        if self.fake is not None:
            return repr(self.fake.transactions) + repr(self.fake.executed)
        conn = db.connect(self.settings, tls=None)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW TABLES")
                rows = []
                for (table,) in cur.fetchall():
                    cur.execute(f"SELECT * FROM `{table}`")
                    rows.extend(cur.fetchall())
                return repr(rows)
        finally:
            conn.close()

    def drop(self) -> None:
        if self.fake is None:
            conn = db.connect(self.settings, tls=None, database=None)
            try:
                with conn.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            finally:
                conn.close()


def card_number_run(database: Database, requests: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    host, port = (database.params["host"], database.params["port"]) if database.fake is None else ("127.0.0.1", 3306)
    memory = MemoryAws(
        {
            ENVIRON[env.DB_WRITER_ENDPOINT_PARAM]: host,
            ENVIRON[env.DB_PORT_PARAM]: str(port),
            ENVIRON[env.DB_SECRET_ARN_PARAM]: SECRET_ARN,
            FINGERPRINT_KEY_PARAM: FINGERPRINT_KEY,
        },
        {"username": database.params["user"], "password": database.params["password"]},
    )
    app = api.build_app(
        dict(ENVIRON, **{env.DB_NAME: database.name}), connect_fn=database.connect, clock=lambda: NOW, clients=memory.clients
    )
    pans: list[str] = []
    responses: list[str] = []
    statuses: dict[int, int] = {}
    reused = conflicts = 0
    logs = io.StringIO()
    with contextlib.redirect_stdout(logs):
        for i in range(requests):
            pan = luhn_pan(rng, rng.randint(card.EMBEDDED_PAN_MIN_LENGTH, card.PAN_MAX_LENGTH))
            pans.append(pan)
            if i % 2:
                raw = misplaced(rng, pan)
            else:
                body = transaction_body(
                    transactionId=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    merchantId=rng.choice(MERCHANTS),
                    cardNumber=pan,
                    amount=f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}",
                )
                raw = json.dumps(body)
            result = app.handle(http_event("POST", "/transactions", raw), FakeContext(FUNCTION_TIMEOUT_SECONDS))
            statuses[result["statusCode"]] = statuses.get(result["statusCode"], 0) + 1
            responses.append(result["body"])
            if i % 2 == 0 and result["statusCode"] == 200:
                changed = dict(body, amount=f"{rng.randint(501, 900)}.00")
                again = app.handle(http_event("POST", "/transactions", changed), FakeContext(FUNCTION_TIMEOUT_SECONDS))
                reused += 1
                conflicts += again["statusCode"] == 409
                responses.append(again["body"])
    outputs = {
        "responses": "\n".join(responses),
        "logs": logs.getvalue(),
        "database rows": database.dump(),
        "session items": json.dumps(memory.items),
        "audit objects": "\n".join(b.decode("utf-8") for b in memory.objects.values()),
    }
    found: dict[str, int] = {}
    for where, text in outputs.items():
        digits = ascii_digits(text)
        found[where] = sum(1 for pan in pans if pan in digits) + len(card.find_card_numbers(text, card.EMBEDDED_PAN_MIN_LENGTH))
    return {
        "inputs_tried": requests,
        "statuses": statuses,
        "card_numbers_found": sum(found.values()),
        "card_numbers_found_by_place": found,
        "reused_ids_with_changed_body": reused,
        "answered_409": conflicts,
    }


def fault_run(database: Database) -> dict[str, Any]:
    matrix = faults.fault_matrix()
    skipped = []
    if database.fake is not None:
        # A slow or stalling database is a proxy in front of a real server.
        skipped = [s.name for s in matrix if s.faults.get("database") == "slow" or (s.warm and s.faults.get("database") == "hang")]
        matrix = [s for s in matrix if s.name not in skipped]
    scenarios = faults.run_fault_matrix(
        matrix, ok_connect=database.connect, database=database.name, function_timeout=FUNCTION_TIMEOUT_SECONDS
    )
    errors = [f"{s.name}: {s.error!r}" for s in scenarios if s.error is not None]
    worst = max(scenarios, key=lambda s: s.seconds)
    return {
        "fault_scenarios": len(scenarios),
        "worst_answer_seconds": round(worst.seconds, 2),
        "worst_scenario": worst.name,
        "function_timeout_seconds": FUNCTION_TIMEOUT_SECONDS,
        "answers_after_timeout": sum(1 for s in scenarios if s.seconds >= FUNCTION_TIMEOUT_SECONDS),
        "scenario_errors": errors,
        "scenarios_skipped_without_database": skipped,
        "scenarios": [(s.name, s.status, round(s.seconds, 2)) for s in sorted(scenarios, key=lambda s: -s.seconds)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="generated POST /transactions requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-faults", action="store_true", help="skip the fault matrix (about one function timeout)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    args = parser.parse_args(argv)

    with contextlib.redirect_stdout(io.StringIO()):  # the functions' own log lines
        database = Database()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result: dict[str, Any] = {"database": database.label, **card_number_run(database, args.requests, args.seed)}
            if not args.no_faults:
                result.update(fault_run(database))
    finally:
        database.drop()
    failed = (
        result["card_numbers_found"] > 0
        or result["answered_409"] < result["reused_ids_with_changed_body"]
        or result.get("answers_after_timeout", 0) > 0
        or result.get("scenario_errors")
    )
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "scenarios"}))
        return 1 if failed else 0
    print(f"database: {result['database']}")
    print(f"inputs generated and tried: {result['inputs_tried']} (statuses {result['statuses']})")
    print(f"card numbers found in responses, logs, DB rows, session items, audit objects: {result['card_numbers_found']}")
    for where, count in result["card_numbers_found_by_place"].items():
        print(f"  {where}: {count}")
    print(f"reused transaction ids with a changed body answered 409: {result['answered_409']}/{result['reused_ids_with_changed_body']}")
    if "fault_scenarios" in result:
        print(
            f"worst validator answer under faults: {result['worst_answer_seconds']:.2f} s ({result['worst_scenario']})"
            f" vs function timeout {result['function_timeout_seconds']:g} s, over {result['fault_scenarios']} scenarios"
        )
        for name, status, seconds in result["scenarios"]:
            print(f"  {seconds:5.2f} s  {status}  {name}")
        if result["scenarios_skipped_without_database"]:
            print(f"  skipped without a database: {', '.join(result['scenarios_skipped_without_database'])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
