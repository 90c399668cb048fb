"""Spec: validator.handler behind API Gateway (HTTP API v2), with stubbed AWS
and an in-memory database."""

from __future__ import annotations

import json

import pymysql
import pytest

import validator
from support import FakeContext
from tap import api, db, env
from tap.db_settings import DbSettings
from tap.errors import DependencyError
from validator_harness import NOW, PAN, ValidatorHarness, http_event, transaction_body


@pytest.fixture
def h(stub) -> ValidatorHarness:
    return ValidatorHarness(stub)


def test_given_a_valid_new_transaction_then_it_is_approved_recorded_audited_and_remembered(h, capsys) -> None:
    body = transaction_body()
    txn_id = body["transactionId"]
    h.expect_config()
    h.expect_new_transaction(txn_id)

    status, payload, raw = h.post(body)

    assert status == 200, payload
    assert payload == {"transactionId": txn_id, "decision": "APPROVED", "reasons": [], "replayed": False}
    assert raw["headers"]["content-type"] == "application/json"
    assert h.calls() == [
        "dynamodb.GetItem",
        "ssm.GetParameters",
        "secretsmanager.GetSecretValue",
        "s3.PutObject",
        "dynamodb.PutItem",
    ]
    row = h.db.transactions[txn_id]
    assert row[4] == "************1111"
    (audit,) = h.audit_records()
    assert audit["transactionId"] == txn_id and audit["decision"] == "APPROVED" and audit["cardMasked"].endswith("1111")
    assert audit["environment"] == "test" and audit["requestId"] == h.context.aws_request_id
    (item,) = h.session_items()
    assert item["sessionId"] == {"S": f"txn#{txn_id}"}
    assert item["decision"] == {"S": "APPROVED"}
    assert int(item["expiresAt"]["N"]) > NOW.timestamp()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    decided = [record for record in lines if record["message"] == "transaction decided"]
    assert decided and decided[0]["transaction_id"] == txn_id and decided[0]["request_id"] == h.context.aws_request_id


def test_given_a_merchant_over_its_limit_then_the_answer_is_200_declined_with_reasons(h) -> None:
    body = transaction_body(amount="150.00")
    h.expect_config()
    h.expect_new_transaction(body["transactionId"])
    status, payload, _ = h.post(body)
    assert status == 200
    assert payload["decision"] == "DECLINED"
    assert [r["code"] for r in payload["reasons"]] == ["DAILY_LIMIT_EXCEEDED"]


def test_given_a_transaction_id_already_in_the_session_table_then_the_first_decision_returns_without_db_or_audit(h) -> None:
    body = transaction_body()
    h.expect_session_hit(body["transactionId"], "DECLINED", [{"code": "MERCHANT_NOT_ACTIVE", "message": "m"}], body=body)
    status, payload, _ = h.post(body)
    assert status == 200
    assert payload["decision"] == "DECLINED" and payload["replayed"] is True
    assert h.calls() == ["dynamodb.GetItem"]
    assert h.db.connects == 0


def test_given_a_retry_after_the_session_write_failed_then_aurora_answers_with_the_first_decision(h) -> None:
    body = transaction_body()
    txn_id = body["transactionId"]
    h.expect_config()
    h.expect_session_miss(txn_id)
    h.expect_audit(txn_id)
    h.ddb_stub.add_client_error("put_item", "ProvisionedThroughputExceededException", http_status_code=400)
    status, first, _ = h.post(body)
    assert status == 503 and first["dependency"] == "dynamodb"

    h.expect_new_transaction(txn_id)
    status, payload, _ = h.post(body)
    assert status == 200 and payload["decision"] == "APPROVED" and payload["replayed"] is True
    audits = h.audit_records()
    assert len(audits) == 2 and audits[0] == {**audits[1], "requestId": audits[0]["requestId"]}
    item = h.session_items()[-1]
    assert item["requestFingerprint"]["S"] == h.fingerprint_of(body).request
    assert item["cardFingerprint"]["S"] == h.fingerprint_of(body, key="k" * 48).card


def test_given_two_racing_requests_with_one_id_then_the_one_that_lost_the_session_write_answers_what_aurora_recorded(h) -> None:
    """GIVEN a session item already there when this request, which recorded
    the row, writes it (another region's database disagreeing) THEN the answer
    is the row this database recorded: never a decision that was not recorded."""
    body = transaction_body()
    txn_id = body["transactionId"]
    h.expect_config()
    h.expect_session_miss(txn_id)
    h.expect_audit(txn_id)
    h.ddb_stub.add_client_error(
        "put_item",
        "ConditionalCheckFailedException",
        http_status_code=400,
        modeled_fields={"Item": h.session_item(txn_id, "DECLINED", [{"code": "DAILY_LIMIT_EXCEEDED", "message": "x"}])},
    )
    status, payload, _ = h.post(body)
    assert status == 200
    assert payload["decision"] == h.db.transactions[txn_id][6] == "APPROVED" and payload["replayed"] is False


def test_given_a_malformed_body_then_400_lists_every_field_error_and_nothing_is_called(h) -> None:
    status, payload, _ = h.post({"transactionId": "x", "amount": 1, "currency": "usd", "cardNumber": "4111111111111112"})
    assert status == 400
    fields = {e["field"] for e in payload["errors"]}
    assert fields == {"transactionId", "amount", "currency", "cardNumber", "merchantId", "timestamp"}
    assert h.calls() == []
    assert "4111111111111112" not in json.dumps(payload)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transactionId", "3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f\n"),
        ("merchantId", "m-123\n"),
        ("amount", "12.34\n"),
        ("cardNumber", PAN + "\n"),
        ("timestamp", "2024-05-01T11:59:58Z\n"),
    ],
)
def test_given_a_value_with_a_trailing_newline_then_400_names_the_field_and_nothing_is_called(h, field, value) -> None:
    status, payload, _ = h.post(transaction_body(**{field: value}))
    assert status == 400
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "invalid_format")]
    assert h.calls() == []


@pytest.mark.parametrize(
    ("name", "valid"),
    [("tap", True), ("tap_test_01", True), ("tap\n", False), ("tap;DROP", False), ("", False), ("t" * 65, False)],
)
def test_database_identifiers_are_validated_whole(name, valid) -> None:
    if valid:
        assert db.quote_identifier(name) == f"`{name}`"
    else:
        with pytest.raises(ValueError):
            db.quote_identifier(name)


@pytest.mark.parametrize(
    "raw",
    [None, "", "{not json", "[]", "\x00\x01"],
    ids=["missing", "empty", "broken JSON", "array", "binary"],
)
def test_given_a_body_that_is_not_a_json_object_then_400_without_a_stack_trace(h, raw) -> None:
    status, payload, result = h.post(raw)
    assert status == 400
    assert payload["errors"][0]["field"] == "body"
    assert "Traceback" not in result["body"]


def test_given_a_base64_encoded_body_then_it_is_decoded(h) -> None:
    import base64

    body = transaction_body()
    h.expect_config()
    h.expect_new_transaction(body["transactionId"])
    status, payload, _ = h.post(base64.b64encode(json.dumps(body).encode()).decode(), base64=True)
    assert status == 200, payload


FAILURES = [
    pytest.param("ssm", "ssm", id="SSM down"),
    pytest.param("secretsmanager", "secretsmanager", id="Secrets Manager down"),
    pytest.param("db-connect", "database", id="database unreachable"),
    pytest.param("db-query", "database", id="database query fails"),
    pytest.param("ddb-get", "dynamodb", id="session table read fails"),
    pytest.param("s3", "s3", id="audit bucket write fails"),
    pytest.param("ddb-put", "dynamodb", id="session table write fails"),
]


@pytest.mark.parametrize(("failure", "dependency"), FAILURES)
def test_given_a_dependency_down_then_503_names_it_without_a_stack_trace(stub, failure, dependency, capsys) -> None:
    def connect(settings, timeouts):
        if failure == "db-connect":
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'writer.example.internal'")
        return h.db.connect(settings, timeouts)

    h = ValidatorHarness(stub, connect=connect)
    if failure == "db-query":
        h.db.fail = lambda sql: pymysql.err.OperationalError(1146, "Table 'tap.merchants' doesn't exist") if "merchants" in sql else None
    body = transaction_body()
    txn_id = body["transactionId"]
    if failure == "ddb-get":
        h.ddb_stub.add_client_error("get_item", "InternalServerError", http_status_code=500)
    else:
        h.expect_session_miss(txn_id)
    if failure == "ssm":
        h.ssm_stub.add_client_error("get_parameters", "InternalServerError", http_status_code=500)
    elif failure == "secretsmanager":
        h.expect_config(secret_error="InternalServiceError")
    elif failure != "ddb-get":
        h.expect_config()
    if failure in ("s3", "ddb-put"):
        if failure == "s3":
            h.s3_stub.add_client_error("put_object", "InternalError", http_status_code=500)
        else:
            h.expect_audit(txn_id)
            h.ddb_stub.add_client_error("put_item", "InternalServerError", http_status_code=500)

    status, payload, result = h.post(body)

    assert status == 503, payload
    assert payload["dependency"] == dependency
    assert payload["reason"] == f"{dependency} is unavailable"
    assert result["headers"]["retry-after"] == "1"
    assert "Traceback" not in result["body"] and "File " not in result["body"]
    logged = capsys.readouterr().out
    assert "Traceback" in logged  # the trace goes to the log instead
    assert PAN not in logged


def test_given_an_unexpected_bug_then_500_without_details(h, monkeypatch) -> None:
    def broken(txn):
        raise RuntimeError("secret internals at /var/task/tap/store.py line 42")

    monkeypatch.setattr(h.app.store, "record", lambda txn, fingerprint, budget: broken(txn))
    body = transaction_body()
    h.expect_session_miss(body["transactionId"])
    h.expect_config()
    status, payload, result = h.post(body)
    assert status == 500
    assert payload == {"message": "internal error"}
    assert "secret internals" not in result["body"]


def test_given_a_warm_container_then_ssm_and_secrets_manager_are_called_exactly_once_across_many_invocations(h) -> None:
    h.expect_config()  # one response each: a second call would raise in the Stubber
    statuses = []
    for i in range(40):
        body = transaction_body(amount="0.01")
        h.expect_new_transaction(body["transactionId"])
        statuses.append(h.post(body)[0])
        if i % 10 == 9:
            # A dropped connection is re-opened from the cached settings.
            h.app.store._connections._conn.close()
    assert statuses == [200] * 40
    assert h.calls("ssm") == ["ssm.GetParameters"]
    assert h.calls("secretsmanager") == ["secretsmanager.GetSecretValue"]
    assert h.db.connects == 4
    per_invocation = [c for c in h.calls() if c.startswith(("dynamodb", "s3"))]
    assert len(per_invocation) == 3 * 40


def test_given_the_cache_max_age_passed_then_a_reconnect_reads_the_settings_again(h) -> None:
    h.expect_config()
    body = transaction_body(amount="0.01")
    h.expect_new_transaction(body["transactionId"])
    assert h.post(body)[0] == 200
    h.monotonic.sleep(301)
    h.app.store._connections._conn.close()
    h.expect_config()
    body = transaction_body(amount="0.01")
    h.expect_new_transaction(body["transactionId"])
    assert h.post(body)[0] == 200
    assert h.calls("ssm") == ["ssm.GetParameters"] * 2


def test_given_the_password_was_rotated_then_access_denied_rereads_the_secret_once(stub) -> None:
    passwords: list[str] = []

    def connect(settings: DbSettings, timeouts: db.Timeouts):
        passwords.append(settings.password)
        if settings.password == "old":
            raise pymysql.err.OperationalError(1045, "Access denied for user 'tap'")
        return h.db.connect(settings, timeouts)

    h = ValidatorHarness(stub, connect=connect)
    h.expect_config(password="old")
    h.expect_config(password="new")
    body = transaction_body()
    h.expect_new_transaction(body["transactionId"])
    assert h.post(body)[0] == 200
    assert passwords == ["old", "new"]


def test_given_health_is_requested_then_each_dependency_is_reported(h) -> None:
    h.expect_config()
    h.ddb_stub.add_response("get_item", {}, {"TableName": "sessions-test", "Key": {"sessionId": {"S": "health#probe"}}})
    status, payload, _ = h.invoke(http_event("GET", "/health"))
    assert status == 200
    assert payload["status"] == "ok"
    assert {k: v["status"] for k, v in payload["checks"].items()} == {"config": "ok", "database": "ok", "sessionTable": "ok"}


def test_given_ssm_is_down_then_health_is_503_degraded_and_skips_the_database(h) -> None:
    h.ssm_stub.add_client_error("get_parameters", "InternalServerError", http_status_code=500)
    h.ddb_stub.add_response("get_item", {})
    status, payload, _ = h.invoke(http_event("GET", "/health"))
    assert status == 503
    assert payload["status"] == "degraded"
    assert payload["checks"]["config"]["status"] == "unavailable"
    assert payload["checks"]["database"]["status"] == "skipped"
    assert payload["checks"]["sessionTable"]["status"] == "ok"


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (http_event("GET", "/transactions"), 405),
        (http_event("POST", "/health"), 405),
        (http_event("GET", "/nope"), 404),
        (http_event("GET", "/health", route_key="$default"), 503),
    ],
    ids=["GET transactions", "POST health", "unknown path", "$default route falls back to rawPath"],
)
def test_routing(h, event, status) -> None:
    if status == 503:
        h.ssm_stub.add_client_error("get_parameters", "InternalServerError", http_status_code=500)
        h.ddb_stub.add_client_error("get_item", "InternalServerError", http_status_code=500)
    assert h.invoke(event)[0] == status


def test_given_a_named_stage_then_the_stage_prefix_is_ignored() -> None:
    event = http_event("GET", "/prod/health", route_key="$default")
    event["requestContext"]["stage"] = "prod"
    assert api.route_of(event) == ("GET", "/health")


def test_given_a_misconfigured_function_then_500_and_a_logged_reason(monkeypatch, capsys) -> None:
    for name in env.COMPUTE_STACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    validator.set_app(None)
    result = validator.handler(http_event("GET", "/health"), FakeContext(10))
    assert result["statusCode"] == 500
    assert "is not set" in capsys.readouterr().out


@pytest.mark.parametrize(("raw", "message"), [("abc", "decimal"), ("-1", "positive"), ("0", "positive")])
def test_given_a_bad_max_amount_then_startup_fails_clearly(raw, message) -> None:
    with pytest.raises(env.ConfigError, match=message):
        api.limits_from_env({env.MAX_AMOUNT: raw})


def test_the_production_connection_always_verifies_tls_against_the_ca_bundle(monkeypatch, tmp_path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(env.DB_CA_BUNDLE, str(bundle))
    captured: dict = {}

    class Conn:
        def cursor(self):
            class Cur:
                def __enter__(self):
                    return self

                def __exit__(self, *a):
                    return None

                def execute(self, sql, params=None):
                    captured.setdefault("sql", []).append((sql, params))

            return Cur()

    monkeypatch.setattr(pymysql, "connect", lambda **kw: captured.update(kw) or Conn())
    settings = DbSettings("writer.example.internal", 3306, "tap", "pw", "tap")
    api._default_connect(settings, api.VALIDATOR_DB_TIMEOUTS)
    assert captured["ssl_ca"] == str(bundle)
    assert captured["ssl_verify_cert"] is True and captured["ssl_verify_identity"] is True
    assert captured["database"] == "tap"
    assert captured["sql"] == [("SET SESSION innodb_lock_wait_timeout = %s", (api.DB_LOCK_WAIT_SECONDS,))]


def test_given_the_ca_bundle_is_missing_then_the_connection_is_refused_not_downgraded(monkeypatch) -> None:
    monkeypatch.setenv(env.DB_CA_BUNDLE, "/nonexistent/bundle.pem")
    monkeypatch.setattr(pymysql, "connect", lambda **kw: pytest.fail("must not connect without TLS"))
    with pytest.raises(DependencyError, match="CA bundle"):
        api._default_connect(DbSettings("h", 3306, "u", "p", "tap"), api.VALIDATOR_DB_TIMEOUTS)


def test_tls_cannot_be_switched_off_through_the_environment() -> None:
    # The only way to disable TLS is the explicit tls=None argument used by tests.
    import inspect

    assert inspect.signature(db.connect).parameters["tls"].default is inspect.Parameter.empty
