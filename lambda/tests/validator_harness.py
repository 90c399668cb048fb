"""Wires the real validator (tap.api.build_app) to Stubber-wrapped AWS clients
and the in-memory FakeMySQL, and records every parameter sent to AWS."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.stub import ANY

import validator
from support import FakeClock, FakeContext, FakeMySQL
from tap import api, env

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap-db-test-AbCdEf"
PAN = "4111111111111111"
FINGERPRINT_KEY_PARAM = "/tap/test/db/request-fingerprint-key"
FINGERPRINT_KEY = "k" * 48  # an SSM SecureString in production

ENVIRON = {
    env.TAP_ENVIRONMENT_SUFFIX: "test",
    env.DB_WRITER_ENDPOINT_PARAM: "/tap/test/db/writer-endpoint",
    env.DB_READER_ENDPOINT_PARAM: "/tap/test/db/reader-endpoint",
    env.DB_PORT_PARAM: "/tap/test/db/port",
    env.DB_SECRET_ARN_PARAM: "/tap/test/db/secret-arn",
    env.DB_NAME: "tap",
    env.SESSION_TABLE_NAME: "sessions-test",
    env.AUDIT_BUCKET_NAME: "audit-logs-test",
    env.MAX_AMOUNT: "10000.00",
    env.CLOCK_SKEW_SECONDS: "300",
    env.CONFIG_TTL_SECONDS: "300",
    env.LOG_LEVEL: "DEBUG",
}


def transaction_body(**overrides: Any) -> dict[str, Any]:
    data = {
        "transactionId": str(uuid.uuid4()),
        "amount": "25.00",
        "currency": "USD",
        "cardNumber": PAN,
        "merchantId": "merchant-001",
        "timestamp": "2024-05-01T11:59:58Z",
    }
    data.update(overrides)
    return data


def http_event(method: str, path: str, body: Any = None, *, base64: bool = False, route_key: str | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": route_key if route_key is not None else f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
            "requestId": "req-1",
            "stage": "$default",
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": base64,
    }


class ValidatorHarness:
    """Every invocation gets a fresh FakeContext of ``timeout_seconds`` on the
    harness's FakeClock (``monotonic``), so time passes only when a test
    says so (``monotonic.sleep``, or a slow stub from ``slow_call``)."""

    def __init__(
        self,
        stub: Any,
        *,
        environ: dict[str, str] | None = None,
        merchants: dict | None = None,
        connect: Any = None,
        timeout_seconds: float = 10.0,
    ):
        self.environ = dict(ENVIRON, **(environ or {}))
        self.ssm, self.ssm_stub = stub("ssm")
        self.secrets, self.secrets_stub = stub("secretsmanager")
        self.ddb, self.ddb_stub = stub("dynamodb")
        self.s3, self.s3_stub = stub("s3")
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self._on_call: dict[tuple[str, str], Callable[[], None]] = {}
        for name, client in (("ssm", self.ssm), ("secretsmanager", self.secrets), ("dynamodb", self.ddb), ("s3", self.s3)):
            # provide-client-params comes before the Stubber looks at the call.
            client.meta.events.register("provide-client-params.*.*", self._recorder(name))
        self.db = FakeMySQL(merchants if merchants is not None else {"merchant-001": ("ACTIVE", "USD", "100.00")})
        self.monotonic = FakeClock()
        self.app = api.build_app(
            self.environ,
            connect_fn=connect or self.db.connect,
            clock=lambda: NOW,
            monotonic=self.monotonic,
        )
        validator.set_app(self.app)
        self.timeout_seconds = timeout_seconds
        self.context = FakeContext(timeout_seconds, clock=self.monotonic)

    def _recorder(self, service: str):
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.sent.append((service, model.name, copy.deepcopy(params)))
            action = self._on_call.get((service, model.name))
            if action is not None:
                action()

        return record

    def on_call(self, service: str, operation: str, action: Callable[[], None]) -> None:
        """``action`` runs whenever ``service`` ``operation`` is called, before
        the Stubber answers: it may move the fake clock (a slow call), block
        (a hanging one) or raise (what botocore raises once its timeouts are
        spent; then no response need be queued)."""
        self._on_call[(service, operation)] = action

    def slow_call(self, service: str, operation: str, seconds: float, error: BaseException | None = None) -> None:
        """Every ``operation`` call takes ``seconds`` on the fake clock, then
        is answered by the Stubber or raises ``error``."""

        def take_time() -> None:
            self.monotonic.sleep(seconds)
            if error is not None:
                raise error

        self.on_call(service, operation, take_time)

    def calls(self, service: str | None = None) -> list[str]:
        return [f"{s}.{op}" for s, op, _ in self.sent if service in (None, s)]

    # --- expectations -------------------------------------------------------
    def expect_config(
        self, password: str = "pw", *, secret_error: str | None = None, fingerprint_key: str | None = FINGERPRINT_KEY
    ) -> None:
        self.expect_parameters(fingerprint_key)
        if secret_error:
            self.secrets_stub.add_client_error("get_secret_value", secret_error, http_status_code=500)
            return
        self.expect_secret(password)

    def expect_parameters(self, fingerprint_key: str | None = FINGERPRINT_KEY) -> None:
        e = self.environ
        parameters = [
            {"Name": e[env.DB_WRITER_ENDPOINT_PARAM], "Type": "String", "Value": "writer.example.internal", "Version": 1},
            {"Name": e[env.DB_PORT_PARAM], "Type": "String", "Value": "3306", "Version": 1},
            {"Name": e[env.DB_SECRET_ARN_PARAM], "Type": "String", "Value": SECRET_ARN, "Version": 1},
        ]
        answer: dict[str, Any] = {"Parameters": parameters}
        if fingerprint_key is None:
            answer["InvalidParameters"] = [FINGERPRINT_KEY_PARAM]
        else:
            parameters.append({"Name": FINGERPRINT_KEY_PARAM, "Type": "SecureString", "Value": fingerprint_key, "Version": 1})
        self.ssm_stub.add_response(
            "get_parameters",
            answer,
            {
                "Names": [e[env.DB_WRITER_ENDPOINT_PARAM], e[env.DB_PORT_PARAM], e[env.DB_SECRET_ARN_PARAM], FINGERPRINT_KEY_PARAM],
                "WithDecryption": True,
            },
        )

    def expect_secret(self, password: str = "pw") -> None:
        self.secrets_stub.add_response(
            "get_secret_value",
            {"ARN": SECRET_ARN, "Name": "db", "SecretString": json.dumps({"username": "tap", "password": password})},
            {"SecretId": SECRET_ARN},
        )

    def expect_session_miss(self, txn_id: str) -> None:
        self.ddb_stub.add_response(
            "get_item",
            {},
            {"TableName": "sessions-test", "Key": {"sessionId": {"S": f"txn#{txn_id}"}}, "ConsistentRead": True},
        )

    def expect_session_hit(self, txn_id: str, decision: str = "APPROVED", reasons: list | None = None, body: dict | None = None) -> None:
        """An item as the validator writes it, for ``body`` (the request first
        recorded); without ``body``, an item from before fingerprints existed."""
        item = self.session_item(txn_id, decision, reasons)
        if body is not None:
            item["requestFingerprint"] = {"S": self.fingerprint_of(body).request}
        self.ddb_stub.add_response(
            "get_item",
            {"Item": item},
            {"TableName": "sessions-test", "Key": {"sessionId": {"S": f"txn#{txn_id}"}}, "ConsistentRead": True},
        )

    @staticmethod
    def session_item(txn_id: str, decision: str = "APPROVED", reasons: list | None = None) -> dict[str, Any]:
        return {
            "sessionId": {"S": f"txn#{txn_id}"},
            "decision": {"S": decision},
            "reasons": {"S": json.dumps(reasons or [])},
            "decidedAt": {"S": NOW.isoformat()},
            "expiresAt": {"N": "1715000000"},
        }

    def fingerprint_of(self, body: dict[str, Any], key: str | None = None) -> Any:
        from tap import fingerprint
        from tap.validation import validate_transaction

        result = validate_transaction(body, NOW, self.app.limits)
        assert result.transaction is not None, result.errors
        return fingerprint.of(result.transaction, fingerprint.FingerprintKey.from_parameter(key) if key else None)

    def expect_audit(self, txn_id: str) -> None:
        self.s3_stub.add_response(
            "put_object",
            {"ETag": '"abc"'},
            {
                "Bucket": "audit-logs-test",
                "Key": f"audit/2024/05/01/{txn_id}.json",
                "Body": ANY,
                "ContentType": "application/json",
            },
        )

    def expect_session_put(self, txn_id: str) -> None:
        self.ddb_stub.add_response(
            "put_item",
            {},
            {
                "TableName": "sessions-test",
                "Item": ANY,
                "ConditionExpression": "attribute_not_exists(sessionId)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )

    def expect_new_transaction(self, txn_id: str) -> None:
        self.expect_session_miss(txn_id)
        self.expect_audit(txn_id)
        self.expect_session_put(txn_id)

    # --- calls ----------------------------------------------------------------
    def invoke(self, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
        self.context = FakeContext(self.timeout_seconds, clock=self.monotonic)
        result = validator.handler(event, self.context)
        return result["statusCode"], json.loads(result["body"]), result

    def post(self, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
        return self.invoke(http_event("POST", "/transactions", body, **kwargs))

    def audit_records(self) -> list[dict[str, Any]]:
        return [json.loads(p["Body"]) for s, op, p in self.sent if op == "PutObject"]

    def session_items(self) -> list[dict[str, Any]]:
        return [p["Item"] for s, op, p in self.sent if op == "PutItem"]


class FakeAws:
    """The validator's real boto3 clients (its Config, hence its worst cases),
    answered in process on a FakeClock according to ``plan``: step ->
    ("ok", 0) | ("slow", seconds) | ("hang", 0), a step being "service.Operation",
    "database.connect" or "database.query". A hanging call costs its client's
    connect + read timeouts and then raises what botocore or pymysql raise."""

    CANNED: ClassVar[dict[str, dict[str, Any]]] = {
        "GetParameters": {
            "Parameters": [
                {"Name": ENVIRON[env.DB_WRITER_ENDPOINT_PARAM], "Type": "String", "Value": "writer.example.internal", "Version": 1},
                {"Name": ENVIRON[env.DB_PORT_PARAM], "Type": "String", "Value": "3306", "Version": 1},
                {"Name": ENVIRON[env.DB_SECRET_ARN_PARAM], "Type": "String", "Value": SECRET_ARN, "Version": 1},
            ]
        },
        "GetSecretValue": {"ARN": SECRET_ARN, "Name": "db", "SecretString": json.dumps({"username": "tap", "password": "pw"})},
        "GetItem": {},
        "PutObject": {"ETag": '"x"'},
        "PutItem": {},
    }

    def __init__(self) -> None:
        import boto3

        from tap import aws

        self.clock = FakeClock()
        self.plan: dict[str, tuple[str, float]] = {}
        self.calls: list[str] = []
        self.clients = {}
        for service in api.VALIDATOR_SERVICES:
            client = boto3.client(service, region_name="us-east-1", config=aws.VALIDATOR_CONFIG)
            client.meta.events.register("before-call.*.*", self._answer)
            self.clients[service] = client
        self.db = FakeMySQL({"merchant-001": ("ACTIVE", "USD", "1000000.00")})
        self.db.fail = self._statement
        self._read_timeout = 0.0

    def _behaviour(self, step: str) -> tuple[str, float]:
        return self.plan.get(step, ("ok", 0.0))

    def _answer(self, model: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import ReadTimeoutError

        step = f"{model.service_model.endpoint_prefix}.{model.name}"
        self.calls.append(step)
        kind, seconds = self._behaviour(step)
        config = self.clients[model.service_model.endpoint_prefix].meta.config
        if kind == "hang":
            self.clock.sleep(config.connect_timeout + config.read_timeout)
            raise ReadTimeoutError(endpoint_url=f"https://{step}.example/")
        self.clock.sleep(min(seconds, config.read_timeout * 0.99))
        return AWSResponse(None, 200, {}, None), copy.deepcopy(self.CANNED[model.name])

    def connect(self, settings: Any, timeouts: Any) -> Any:
        import pymysql

        self.calls.append("database.connect")
        kind, seconds = self._behaviour("database.connect")
        if kind == "hang":
            self.clock.sleep(timeouts.connect + timeouts.read)
            raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server at 'reading initial communication packet'")
        self.clock.sleep(min(seconds, timeouts.read * 0.99))
        self._read_timeout = timeouts.read
        return self.db.connect(settings, timeouts)

    def _statement(self, sql: str) -> Any:
        import pymysql

        self.calls.append("database.query")
        kind, seconds = self._behaviour("database.query")
        if kind == "hang":
            self.clock.sleep(self._read_timeout)
            return pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
        self.clock.sleep(min(seconds, self._read_timeout * 0.99))
        return None

    def app(self, timeout_seconds: float) -> tuple[api.ValidatorApp, FakeClock, Callable[[], FakeContext]]:
        """A new app (a cold container) with every step "ok" until ``plan`` says otherwise."""
        self.plan = {}
        app = api.build_app(ENVIRON, connect_fn=self.connect, clock=lambda: NOW, monotonic=self.clock, clients=self.clients)
        return app, self.clock, lambda: FakeContext(timeout_seconds, clock=self.clock)

    @staticmethod
    def post(app: api.ValidatorApp, context: FakeContext) -> dict[str, Any]:
        return app.handle(http_event("POST", "/transactions", transaction_body(amount="0.01")), context)
