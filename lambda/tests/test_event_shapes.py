"""Spec: whatever the validator is invoked with, it answers with a clean JSON
response (400, 404, 405 or 503 here: never an escaped exception, never a
stack trace, never a 500 for the shape of an event). Hand-picked shapes that
API Gateway would not send, then generated ones (hypothesis)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import validator
from support import FakeContext
from validator_harness import ValidatorHarness, http_event, transaction_body

CLEAN_STATUSES = {400, 404, 405, 503}


def inline(fn) -> None:
    fn()


@pytest.fixture
def h(stub) -> ValidatorHarness:
    harness = ValidatorHarness(stub)
    harness.app.health_spawn = inline  # no threads left behind by generated GET /health
    return harness


def assert_clean(result: Any) -> int:
    assert isinstance(result, dict) and set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert result["headers"]["content-type"] == "application/json"
    assert isinstance(json.loads(result["body"]), dict)
    assert "Traceback" not in result["body"] and 'File "' not in result["body"]
    return result["statusCode"]


def with_(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


POST = http_event("POST", "/transactions", transaction_body())

SHAPES = [
    pytest.param(None, 400, id="None"),
    pytest.param([POST], 400, id="a list"),
    pytest.param("POST /transactions", 400, id="a string"),
    pytest.param(42, 400, id="a number"),
    pytest.param({}, 400, id="an empty object"),
    pytest.param(with_(POST, requestContext="http", routeKey=None), 400, id="string requestContext, no routeKey"),
    pytest.param(with_(POST, requestContext={"http": ["POST"]}, routeKey="$default"), 400, id="http is a list"),
    pytest.param(with_(POST, requestContext={"http": {"path": "/transactions"}}, routeKey="$default"), 400, id="no http method"),
    pytest.param(
        with_(POST, requestContext={"http": {"method": 7, "path": 8}}, routeKey=["x"], rawPath=None), 400, id="method and path not strings"
    ),
    pytest.param(with_(POST, body={"transactionId": "x"}), 400, id="body is an object, not a string"),
    pytest.param(with_(POST, body=12), 400, id="body is a number"),
    pytest.param(with_(POST, body=["a"]), 400, id="body is a list"),
    pytest.param(with_(POST, body="%%%not base64", isBase64Encoded=True), 400, id="base64 flag with invalid base64"),
    pytest.param(with_(POST, body=base64.b64encode(b"\xff\xfe").decode(), isBase64Encoded=True), 400, id="base64 of non-UTF-8"),
    pytest.param(
        with_(POST, body=base64.b64encode(POST["body"].encode()).decode(), isBase64Encoded="true"),
        400,
        id="base64 flag is the string 'true': not a flag, so the body is read as text",
    ),
    pytest.param(with_(POST, body="\ud800"), 400, id="lone surrogate in the body"),
    pytest.param(with_(POST, routeKey="GET /transactions", requestContext=None), 405, id="no requestContext: the method from routeKey"),
    pytest.param(with_(POST, routeKey="POST /nope"), 404, id="unknown route"),
    pytest.param(
        with_(POST, requestContext={"http": {"method": "POST"}, "stage": ["x"]}, routeKey="$default", rawPath="/x"),
        404,
        id="stage not a string",
    ),
]


@pytest.mark.parametrize(("event", "status"), SHAPES)
def test_given_an_event_api_gateway_would_not_send_then_a_clean_json_answer(h, event, status) -> None:
    assert assert_clean(validator.handler(event, FakeContext(10, clock=h.monotonic))) == status
    assert h.calls() == []


def test_given_a_context_without_the_lambda_methods_then_still_a_clean_answer(h) -> None:
    assert assert_clean(validator.handler(POST, object())) == 500  # a bug in the runtime, not in the event


def test_given_building_the_app_fails_unexpectedly_then_a_json_500_not_a_lambda_error(monkeypatch) -> None:
    validator.set_app(None)

    def broken(environ):
        raise RuntimeError("could not load the service model")

    monkeypatch.setattr(validator.api, "build_app", broken)
    assert assert_clean(validator.handler(POST, FakeContext(10))) == 500


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_anything = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8
)
methods = st.sampled_from(["GET", "POST", "PUT", "get", "", "DELETE"]) | json_anything
paths = st.sampled_from(["/transactions", "/health", "/", "", "/prod/health", "/transactions/x"]) | json_anything
http = st.fixed_dictionaries({}, optional={"method": methods, "path": paths}) | json_anything
request_context = (
    st.fixed_dictionaries({}, optional={"http": http, "stage": st.sampled_from(["$default", "prod"]) | json_anything}) | json_anything
)
bodies = st.sampled_from([json.dumps(transaction_body(amount="x")), "", "{}", "[]", "null"]) | json_anything | st.binary(max_size=20)
events = (
    st.fixed_dictionaries(
        {},
        optional={
            "version": st.just("2.0") | json_anything,
            "routeKey": st.sampled_from(["POST /transactions", "GET /health", "$default", "GET"]) | json_anything,
            "rawPath": paths,
            "requestContext": request_context,
            "body": bodies,
            "isBase64Encoded": st.booleans() | json_anything,
            "headers": json_anything,
        },
    )
    | json_anything
)


@settings(max_examples=60)
@given(events)
def test_given_any_generated_event_then_a_clean_json_answer_and_never_a_500(h, event) -> None:
    # Nothing is queued: a call that a generated GET /health makes fails in
    # the Stubber (a BotoCoreError), as an unreachable dependency would.
    status = assert_clean(validator.handler(event, FakeContext(10, clock=h.monotonic)))
    assert status in CLEAN_STATUSES
