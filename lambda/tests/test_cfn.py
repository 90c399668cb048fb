"""Spec: the custom-resource lifecycle (tap/cfn.py) always answers CloudFormation
once, with a well-formed body, in time."""

from __future__ import annotations

import importlib
import json
import threading
import time
import urllib.error

import pytest

from support import RESPONSE_URL, FakeContext, assert_well_formed, cfn_event
from tap import cfn, cfn_response
from tap.errors import UserFacingError


def ok_handler(event, context) -> cfn.Outcome:
    return cfn.Outcome(data={"Answer": "42"}, reason="all good")


def run(event, context, *, create=ok_handler, update=ok_handler, delete=ok_handler, margin=5.0):
    return cfn.run(event, context, create=create, update=update, delete=delete, timeout_margin_seconds=margin)


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_given_a_successful_handler_then_one_success_response_is_put(cfn_responses, request_type) -> None:
    event = cfn_event(request_type, {"Key": "value"})
    body = run(event, FakeContext(60))
    (request,) = cfn_responses.requests
    assert request["method"] == "PUT" and request["url"] == RESPONSE_URL
    # Pre-signed URL: signed without a content type.
    assert request["headers"]["content-type"] == ""
    assert request["headers"]["content-length"] == str(len(request["raw"]))
    assert request["body"] == body
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and body["Data"] == {"Answer": "42"} and body["Reason"] == "all good"


def test_given_a_create_then_the_physical_id_is_derived_stably_from_stack_and_logical_id(cfn_responses) -> None:
    first = run(cfn_event("Create", {}), FakeContext(60))
    second = run(cfn_event("Create", {}), FakeContext(60))
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert first["PhysicalResourceId"].startswith("Resource-")
    other = run(cfn_event("Create", {}, LogicalResourceId="Other"), FakeContext(60))
    assert other["PhysicalResourceId"] != first["PhysicalResourceId"]


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_given_an_update_or_delete_then_the_physical_id_of_the_event_is_kept_even_on_failure(cfn_responses, request_type) -> None:
    def boom(event, context):
        raise RuntimeError("boom")

    event = cfn_event(request_type, {}, physical_id="keep-me-123")
    body = run(event, FakeContext(60), update=boom, delete=boom)
    assert body["PhysicalResourceId"] == "keep-me-123" and body["Status"] == "FAILED"


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("kaboom"),
        KeyError("missing"),
        ValueError(""),
        UserFacingError("a clear reason"),
    ],
    ids=["RuntimeError", "KeyError", "empty message", "user-facing"],
)
def test_given_a_handler_that_raises_then_failed_carries_the_reason(cfn_responses, failure) -> None:
    def raising(event, context):
        raise failure

    event = cfn_event("Create", {})
    body = run(event, FakeContext(60), create=raising)
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert "log stream" in body["Reason"]
    if isinstance(failure, UserFacingError):
        assert body["Reason"].startswith("a clear reason")
    else:
        assert body["Reason"].startswith(type(failure).__name__)
    assert len(cfn_responses.requests) == 1


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda e: e.update(RequestType="Explode"), id="unknown RequestType"),
        pytest.param(lambda e: e.pop("RequestType"), id="no RequestType"),
    ],
)
def test_given_a_strange_event_then_failed_is_still_answered(cfn_responses, mutation) -> None:
    event = cfn_event("Create", {})
    mutation(event)
    body = run(event, FakeContext(60))
    assert body["Status"] == "FAILED" and "RequestType" in body["Reason"]


def test_given_a_handler_returning_the_wrong_type_then_failed(cfn_responses) -> None:
    body = run(cfn_event("Create", {}), FakeContext(60), create=lambda e, c: {"not": "an Outcome"})
    assert body["Status"] == "FAILED" and "Outcome" in body["Reason"]


def test_given_no_response_url_then_the_invocation_errors_instead_of_pretending(cfn_responses) -> None:
    event = cfn_event("Create", {})
    del event["ResponseURL"]
    with pytest.raises(ValueError, match="ResponseURL"):
        run(event, FakeContext(60))
    assert cfn_responses.requests == []


def test_given_a_handler_that_hangs_then_the_timer_answers_failed_before_the_timeout(cfn_responses) -> None:
    release = threading.Event()

    def hangs(event, context):
        release.wait(10)
        return cfn.Outcome(reason="too late")

    event = cfn_event("Update", {})
    context = FakeContext(1.3)  # margin 1.0 -> the timer fires after ~0.3 s
    started = time.monotonic()
    worker = threading.Thread(target=lambda: run(event, context, update=hangs, margin=1.0))
    worker.start()
    assert cfn_responses.delivered.wait(5), "no response before the function timeout"
    elapsed = time.monotonic() - started
    assert elapsed < 1.3, f"answered after {elapsed:.2f}s, past the function timeout"
    release.set()
    worker.join(5)
    (body,) = cfn_responses.bodies  # the late handler result is not sent
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "time out" in body["Reason"]


def test_given_the_handler_set_success_as_its_answer_on_timeout_when_the_timer_fires_then_success_with_its_reason(cfn_responses) -> None:
    """GIVEN a handler that knows a FAILED would do harm (the gate during a
    rollback) and says what to answer instead WHEN it hangs THEN the timer
    answers that, once, and still cancels the run."""
    release = threading.Event()
    cancelled: list[bool] = []

    def hangs_after_choosing_success(event, context):
        cfn.current_invocation().answer_on_timeout(cfn_response.SUCCESS, "not failing: possible rollback")
        release.wait(10)
        cancelled.append(cfn.current_cancellation().cancelled)
        return cfn.Outcome(reason="too late")

    event = cfn_event("Update", {})
    worker = threading.Thread(target=lambda: run(event, FakeContext(1.3), update=hangs_after_choosing_success, margin=1.0))
    worker.start()
    assert cfn_responses.delivered.wait(5)
    release.set()
    worker.join(5)
    (body,) = cfn_responses.bodies
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and body["Reason"].startswith("not failing: possible rollback (log stream: ")
    assert cancelled == [True]


def test_the_answer_on_timeout_is_per_invocation_and_starts_as_failed() -> None:
    first, second = cfn.Invocation(), cfn.Invocation()
    first.answer_on_timeout(cfn_response.SUCCESS, "fine")
    assert first.timeout_answer == cfn.TimeoutAnswer("SUCCESS", "fine")
    assert second.timeout_answer == cfn.TimeoutAnswer("FAILED", cfn.TIMEOUT_REASON)
    assert cfn.current_invocation().timeout_answer.status == "FAILED", "outside a run: a fresh one"
    with pytest.raises(ValueError, match="MAYBE"):
        first.answer_on_timeout("MAYBE", "")


def test_given_an_already_expired_context_then_the_timer_still_answers(cfn_responses) -> None:
    release = threading.Event()
    event = cfn_event("Create", {})
    worker = threading.Thread(
        target=lambda: run(event, FakeContext(0.5), create=lambda e, c: release.wait(5) and cfn.Outcome(), margin=5.0)
    )
    worker.start()
    assert cfn_responses.delivered.wait(3)
    release.set()
    worker.join(5)
    assert [b["Status"] for b in cfn_responses.bodies] == ["FAILED"]


def test_given_transient_put_failures_then_the_response_is_retried_until_delivered(cfn_responses) -> None:
    cfn_responses.failures = [urllib.error.URLError("connection reset"), 503, TimeoutError("slow")]
    event = cfn_event("Create", {})
    run(event, FakeContext(60))
    assert len(cfn_responses.requests) == 4
    assert len({json.dumps(b, sort_keys=True) for b in cfn_responses.bodies}) == 1


def test_given_the_put_never_succeeds_then_the_invocation_fails_so_lambda_retries(cfn_responses) -> None:
    cfn_responses.failures = [urllib.error.URLError("down")] * 10
    with pytest.raises(cfn_response.ResponseNotDelivered):
        run(cfn_event("Create", {}), FakeContext(60))
    assert len(cfn_responses.requests) == cfn_response.SEND_ATTEMPTS


# --- the one handler factory ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler_module", "resource_module"),
    [("gate", "deploy_gate"), ("migrate", "migrate_resource"), ("prerequisites", "prerequisites_wait")],
)
def test_every_custom_resource_handler_is_made_by_the_one_factory_from_its_resource(handler_module, resource_module) -> None:
    handler = importlib.import_module(handler_module)
    resource = importlib.import_module(f"tap.{resource_module}")
    made_by = handler.set_dependencies.__self__
    assert isinstance(made_by, cfn.CustomResourceHandler)
    assert made_by._resource is resource.RESOURCE
    assert callable(handler.handler)


def test_given_a_resource_then_its_dependencies_are_built_once_on_first_use_and_none_restores_the_default(cfn_responses) -> None:
    built: list[str] = []
    seen: list[str] = []

    def build() -> str:
        built.append("default")
        return "default"

    def on_create_or_update(event, context, deps: str) -> cfn.Outcome:
        seen.append(deps)
        return cfn.Outcome()

    handler = cfn.CustomResourceHandler(
        cfn.Resource(
            default_dependencies=build,
            on_create_or_update=on_create_or_update,
            on_delete=lambda e, c: cfn.Outcome(reason="deleted"),
            timeout_margin_seconds=5.0,
        )
    )
    assert built == [], "nothing is built before the first request"
    handler(cfn_event("Create", {}), FakeContext(60))
    handler(cfn_event("Update", {}), FakeContext(60))
    assert built == ["default"] and seen == ["default", "default"]
    handler.set_dependencies("injected")
    handler(cfn_event("Update", {}), FakeContext(60))
    handler.set_dependencies(None)
    handler(cfn_event("Update", {}), FakeContext(60))
    assert seen == ["default", "default", "injected", "default"] and built == ["default", "default"]
    assert handler(cfn_event("Delete", {}), FakeContext(60))["Reason"] == "deleted"
