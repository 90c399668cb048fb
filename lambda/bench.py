"""Validator benchmark: in-process validation throughput and AWS calls per
warm invocation. Never touches the network: AWS answers come from an
in-process hook, the database is the in-memory double from tests/support.py.

Usage:
    python3 lambda/bench.py [--seconds 2.0] [--warm-invocations 200] [--json]

--json prints exactly one JSON object:
    {"validations_per_second": <float>, "aws_calls_per_warm_invocation": <float>}
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]

# No real credentials, config or endpoint: every call is answered in-process.
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
        "LOG_LEVEL": "WARNING",
    }
)

import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from support import FakeContext, FakeMySQL  # noqa: E402
from tap import api, aws, env  # noqa: E402
from tap.validation import Limits, validate_body  # noqa: E402

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf"
ENVIRON = {
    env.TAP_ENVIRONMENT_SUFFIX: "bench",
    env.DB_WRITER_ENDPOINT_PARAM: "/tap/bench/db/writer-endpoint",
    env.DB_READER_ENDPOINT_PARAM: "/tap/bench/db/reader-endpoint",
    env.DB_PORT_PARAM: "/tap/bench/db/port",
    env.DB_SECRET_ARN_PARAM: "/tap/bench/db/secret-arn",
    env.DB_NAME: "tap",
    env.SESSION_TABLE_NAME: "sessions-bench",
    env.AUDIT_BUCKET_NAME: "audit-logs-bench",
}
PANS = ["4111111111111111", "5555555555554444", "378282246310005", "6011000990139424"]


def body(i: int) -> str:
    return json.dumps(
        {
            "transactionId": str(uuid.UUID(int=i + 1, version=4)),
            "amount": f"{(i % 500) + 1}.{i % 100:02d}",
            "currency": "USD",
            "cardNumber": PANS[i % len(PANS)],
            "merchantId": f"merchant-{i % 50:03d}",
            "timestamp": "2024-05-01T11:59:30Z",
        }
    )


def validations_per_second(seconds: float) -> float:
    limits = Limits(max_amount=Decimal("10000.00"), clock_skew_seconds=300)
    bodies = [body(i) for i in range(1000)]
    for raw in bodies[:100]:  # warm-up
        assert validate_body(raw, False, NOW, limits).ok
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for raw in bodies:
            validate_body(raw, False, NOW, limits)
        done += len(bodies)
        if time.perf_counter() >= deadline:
            break
    return done / (time.perf_counter() - started)


CANNED: dict[str, dict[str, Any]] = {
    "GetParameters": {
        "Parameters": [
            {"Name": ENVIRON[env.DB_WRITER_ENDPOINT_PARAM], "Type": "String", "Value": "writer.bench.internal", "Version": 1},
            {"Name": ENVIRON[env.DB_PORT_PARAM], "Type": "String", "Value": "3306", "Version": 1},
            {"Name": ENVIRON[env.DB_SECRET_ARN_PARAM], "Type": "String", "Value": SECRET_ARN, "Version": 1},
        ]
    },
    "GetSecretValue": {"ARN": SECRET_ARN, "Name": "bench", "SecretString": json.dumps({"username": "u", "password": "p"})},
    "GetItem": {},
    "PutObject": {"ETag": '"bench"'},
    "PutItem": {},
}


class CountingAws:
    """Answers every call in-process (like botocore's Stubber) and counts them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        for service in api.VALIDATOR_SERVICES:
            client = boto3.client(service, region_name="us-east-1", config=aws.VALIDATOR_CONFIG)
            client.meta.events.register("before-call.*.*", self._answer)
            aws.override(service, client)

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.calls[model.name] += 1
        return AWSResponse(None, 200, {}, None), dict(CANNED[model.name])


def aws_calls_per_warm_invocation(warm_invocations: int) -> tuple[float, Counter[str]]:
    counter = CountingAws()
    counter.install()
    merchants = {f"merchant-{i:03d}": ("ACTIVE", "USD", "1000000.00") for i in range(50)}
    app = api.build_app(ENVIRON, connect_fn=FakeMySQL(merchants).connect, clock=lambda: NOW)

    def invoke(i: int) -> None:
        event = {
            "version": "2.0",
            "routeKey": "POST /transactions",
            "rawPath": "/transactions",
            "requestContext": {"http": {"method": "POST", "path": "/transactions"}},
            "body": body(i),
            "isBase64Encoded": False,
        }
        # A fresh context per invocation, as in Lambda: each has its own time budget.
        result = app.handle(event, FakeContext(10))
        if result["statusCode"] != 200:
            raise RuntimeError(f"benchmark invocation failed: {result}")

    invoke(0)  # cold: also reads SSM and Secrets Manager
    counter.calls.clear()
    for i in range(1, warm_invocations + 1):
        invoke(i)
    return sum(counter.calls.values()) / warm_invocations, counter.calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to run the validation loop")
    parser.add_argument("--warm-invocations", type=int, default=200, help="warm handler invocations to count AWS calls over")
    parser.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    args = parser.parse_args(argv)

    with contextlib.redirect_stdout(io.StringIO()):  # keep stray log lines out of --json output
        rate = validations_per_second(args.seconds)
        per_warm, breakdown = aws_calls_per_warm_invocation(args.warm_invocations)

    if args.json:
        print(json.dumps({"validations_per_second": round(rate, 1), "aws_calls_per_warm_invocation": per_warm}))
        return 0
    print(f"validator in-process throughput (pure validation path): {rate:,.0f} validations/s")
    print(f"AWS calls per warm invocation: {per_warm:g}")
    per_op = ", ".join(f"{op} {n / args.warm_invocations:g}" for op, n in sorted(breakdown.items()))
    print(f"  per operation: {per_op} (SSM and Secrets Manager: 0, served from the cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
