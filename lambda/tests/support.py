"""Test doubles shared by the suites (and by bench.py): fake Lambda context,
fake clock, a recorder for the CloudFormation response PUT, and in-memory
DB-API connections that understand exactly the SQL tap issues."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pymysql

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/tap-compute-test/11111111-2222-3333-4444-555555555555"
RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned?X-Amz-Signature=abc"


class FakeClock:
    """Monotonic clock that only moves when told (sleep advances it)."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, "negative sleep"
        self.sleeps.append(seconds)
        self.now += seconds


class FakeContext:
    def __init__(self, remaining_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = clock() + remaining_seconds
        self.aws_request_id = str(uuid.uuid4())
        self.log_stream_name = "2024/01/01/[$LATEST]0123456789abcdef"
        self.function_name = "tap-test"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self._clock()) * 1000))


def cfn_event(request_type: str, properties: dict[str, Any], physical_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tap-test",
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Resource",
        "ResourceType": "Custom::Test",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tap-test", **properties},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = physical_id or "Resource-existing-id"
    if request_type == "Update":
        event["OldResourceProperties"] = dict(event["ResourceProperties"])
    event.update(extra)
    return event


class _Reply:
    def __init__(self, status: int):
        self.status = status

    def getcode(self) -> int:
        return self.status

    def __enter__(self) -> _Reply:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class ResponseRecorder:
    """Stands in for urllib.request.urlopen: records PUTs, can fail on cue."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures: list[BaseException | int] = []
        self.lock = threading.Lock()
        self.delivered = threading.Event()

    def __call__(self, request: Any, timeout: float | None = None) -> _Reply:
        with self.lock:
            self.requests.append(
                {
                    "method": request.get_method(),
                    "url": request.full_url,
                    "headers": {k.lower(): v for k, v in request.header_items()},
                    "body": json.loads(request.data.decode("utf-8")),
                    "raw": request.data,
                    "timeout": timeout,
                }
            )
            failure = self.failures.pop(0) if self.failures else None
        if isinstance(failure, BaseException):
            raise failure
        status = failure if isinstance(failure, int) else 200
        if 200 <= status < 300:
            self.delivered.set()
        return _Reply(status)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests]


def assert_well_formed(body: dict[str, Any], event: dict[str, Any]) -> None:
    """The response object CloudFormation requires:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html"""
    for key in ("Status", "Reason", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId"):
        assert key in body, f"response lacks {key}"
    assert body["Status"] in ("SUCCESS", "FAILED")
    assert isinstance(body["Reason"], str) and body["Reason"].strip()
    assert body["StackId"] == event["StackId"]
    assert body["RequestId"] == event["RequestId"]
    assert body["LogicalResourceId"] == event["LogicalResourceId"]
    assert isinstance(body["PhysicalResourceId"], str) and 0 < len(body["PhysicalResourceId"]) <= 1024
    if event.get("PhysicalResourceId"):
        assert body["PhysicalResourceId"] == event["PhysicalResourceId"], "PhysicalResourceId must stay stable"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in body.get("Data", {}).items())
    assert len(json.dumps(body).encode("utf-8")) <= 4096


def answer_of_the_timer(
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    margin_seconds: float,
    release: threading.Event,
    responses: ResponseRecorder,
) -> dict[str, Any]:
    """Runs ``handler`` on a real thread with 0.4 s left before its timeout
    margin, while its dependency hangs until ``release``. THEN the timer has
    answered before the function timeout, once, with a well-formed response;
    that response is returned for the caller's own checks."""
    context = FakeContext(margin_seconds + 0.4)
    worker = threading.Thread(target=handler, args=(event, context))
    worker.start()
    assert responses.delivered.wait(5)
    assert context.get_remaining_time_in_millis() > 0
    release.set()
    worker.join(5)
    (body,) = responses.bodies
    assert_well_formed(body, event)
    return body


# --- in-memory MySQL for the validator's SQL ---------------------------------


class FakeMySQL:
    """Shared state of a fake server; each connect() returns a FakeConnection."""

    def __init__(self, merchants: dict[str, tuple[str, str, str]] | None = None):
        # merchant_id -> (status, currency, daily_limit)
        self.merchants = {k: (s, c, Decimal(limit)) for k, (s, c, limit) in (merchants or {}).items()}
        self.transactions: dict[str, tuple[Any, ...]] = {}
        self.executed: list[tuple[str, Any]] = []
        self.connects = 0
        self.connect_timeouts: list[Any] = []  # the db.Timeouts of every connect()
        self.fail: Callable[[str], BaseException | None] = lambda sql: None
        self.lock = threading.Lock()

    def connect(self, settings: Any = None, timeouts: Any = None) -> FakeConnection:
        with self.lock:
            self.connects += 1
            self.connect_timeouts.append(timeouts)
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, server: FakeMySQL):
        self.server = server
        self.open = True
        self.pending: dict[str, tuple[Any, ...]] = {}

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def ping(self, reconnect: bool = False) -> None:
        if not self.open:
            raise pymysql.err.InterfaceError(0, "")

    def begin(self) -> None:
        self.pending = {}

    def commit(self) -> None:
        self.server.transactions.update(self.pending)
        self.pending = {}

    def rollback(self) -> None:
        self.pending = {}

    def close(self) -> None:
        self.open = False


class _FakeCursorBase:
    """DB-API cursor plumbing; subclasses answer ``execute`` by filling ``_rows``."""

    def __init__(self, conn: Any):
        self.conn = conn
        self._rows: list[tuple[Any, ...]] = []

    def __enter__(self) -> _FakeCursorBase:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows


class FakeCursor(_FakeCursorBase):
    def execute(self, sql: str, params: Any = None) -> int:
        server = self.conn.server
        server.executed.append((sql, params))
        failure = server.fail(sql)
        if failure is not None:
            raise failure
        normalized = re.sub(r"\s+", " ", sql).strip()
        self._rows = []
        if normalized.startswith("SELECT transaction_id, merchant_id, amount"):
            row = server.transactions.get(params[0])
            self._rows = [row] if row else []
        elif normalized.startswith("SELECT merchant_id, status, currency, daily_limit FROM merchants"):
            m = server.merchants.get(params[0])
            self._rows = [(params[0], *m)] if m else []
        elif normalized.startswith("SELECT COALESCE(SUM(amount), 0) FROM transactions"):
            merchant_id, start, end = params
            total = sum(
                (Decimal(r[2]) for r in server.transactions.values() if r[1] == merchant_id and r[6] == "APPROVED" and start <= r[8] < end),
                Decimal(0),
            )
            self._rows = [(total,)]
        elif normalized.startswith("INSERT INTO transactions"):
            if params[0] in server.transactions or params[0] in self.conn.pending:
                raise pymysql.err.IntegrityError(1062, "Duplicate entry")
            self.conn.pending[params[0]] = tuple(params)
        elif normalized.startswith("SELECT 1 FROM merchants"):
            self._rows = [(1,)]
        else:
            raise AssertionError(f"FakeMySQL does not understand: {normalized[:80]}")
        return len(self._rows)


# --- in-memory MySQL for the migrator's SQL -----------------------------------


class FakeMigrationServer:
    """Enough of MySQL for apply_migrations: named lock, schema_migrations, any DDL."""

    def __init__(self, applied: list[tuple[int, str, str]] | None = None):
        self.applied = list(applied or [])
        self.executed: list[str] = []
        self.fail: Callable[[str], BaseException | None] = lambda sql: None
        self.lock_result = 1
        self.closed_connections = 0

    def connect(self, settings: Any = None, read_timeout: float | None = None) -> FakeMigrationConnection:
        return FakeMigrationConnection(self)


class FakeMigrationConnection:
    def __init__(self, server: FakeMigrationServer):
        self.server = server
        self.database: str | None = None

    def cursor(self) -> FakeMigrationCursor:
        return FakeMigrationCursor(self)

    def select_db(self, name: str) -> None:
        self.database = name

    def begin(self) -> None:
        self.server.executed.append("BEGIN")

    def commit(self) -> None:
        self.server.executed.append("COMMIT")

    def rollback(self) -> None:
        self.server.executed.append("ROLLBACK")

    def close(self) -> None:
        self.server.closed_connections += 1


class FakeMigrationCursor(_FakeCursorBase):
    def execute(self, sql: str, params: Any = None) -> int:
        server = self.conn.server
        normalized = re.sub(r"\s+", " ", sql).strip()
        server.executed.append(normalized)
        failure = server.fail(normalized)
        if failure is not None:
            raise failure
        self._rows = []
        if normalized.startswith("SELECT GET_LOCK"):
            self._rows = [(server.lock_result,)]
        elif normalized.startswith("SELECT RELEASE_LOCK"):
            self._rows = [(1,)]
        elif normalized.startswith("SELECT version, filename, checksum FROM schema_migrations"):
            self._rows = sorted(server.applied)
        elif normalized.startswith("INSERT INTO schema_migrations"):
            server.applied.append((params[0], params[1], params[2]))
        return len(self._rows)


# --- in-memory AWS for concurrent invocations ---------------------------------------


class MemoryAws:
    """The validator's four services in memory, thread-safe, with DynamoDB's
    conditional-put semantics: real boto3 clients (the validator's Config)
    whose calls are answered by a before-call hook. For tests that run many
    invocations at once against a real database, where Stubber's one queue
    cannot say which call comes first."""

    def __init__(self, parameters: dict[str, str], secret: dict[str, str]) -> None:
        import boto3

        from tap import aws

        self.parameters = dict(parameters)
        self.secret = dict(secret)
        self.items: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self._local = threading.local()
        self.clients: dict[str, Any] = {}
        for service in ("ssm", "secretsmanager", "dynamodb", "s3"):
            client = boto3.client(service, region_name="us-east-1", config=aws.VALIDATOR_CONFIG)
            client.meta.events.register("provide-client-params.*.*", self._keep_params)
            client.meta.events.register("before-call.*.*", self._answer)
            self.clients[service] = client

    def _keep_params(self, params: Any, **_: Any) -> None:
        # before-call sees the serialised request; the API parameters come first.
        self._local.params = dict(params)

    def _answer(self, model: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        name = model.name
        params = self._local.params
        with self.lock:
            if name == "GetParameters":
                found = [
                    {"Name": n, "Type": "String", "Value": self.parameters[n], "Version": 1}
                    for n in params["Names"]
                    if n in self.parameters
                ]
                return AWSResponse(None, 200, {}, None), {
                    "Parameters": found,
                    "InvalidParameters": [n for n in params["Names"] if n not in self.parameters],
                }
            if name == "GetSecretValue":
                return AWSResponse(None, 200, {}, None), {"ARN": params["SecretId"], "Name": "db", "SecretString": json.dumps(self.secret)}
            if name == "GetItem":
                item = self.items.get(params["Key"]["sessionId"]["S"])
                return AWSResponse(None, 200, {}, None), ({"Item": json.loads(json.dumps(item))} if item else {})
            if name == "PutItem":
                key = params["Item"]["sessionId"]["S"]
                if key in self.items:
                    return AWSResponse(None, 400, {}, None), {
                        "Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"},
                        "Item": json.loads(json.dumps(self.items[key])),
                    }
                self.items[key] = json.loads(json.dumps(params["Item"]))
                return AWSResponse(None, 200, {}, None), {}
            if name == "PutObject":
                body = params["Body"]
                self.objects[params["Key"]] = body if isinstance(body, bytes) else body.read()
                return AWSResponse(None, 200, {}, None), {"ETag": '"m"'}
        raise AssertionError(f"MemoryAws does not answer {name}")
