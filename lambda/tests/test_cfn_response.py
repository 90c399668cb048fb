"""Spec: the custom-resource response on the wire (tap/cfn_response.py): the PUT
to the pre-signed URL is retried with backoff while time is left, and the body
always fits CloudFormation's 4096 bytes."""

from __future__ import annotations

import urllib.error

import pytest

from support import RESPONSE_URL, ResponseRecorder, assert_well_formed, cfn_event
from tap import cfn_response


def test_send_retries_stop_when_the_function_is_out_of_time() -> None:
    recorder = ResponseRecorder()
    recorder.failures = [urllib.error.URLError("down")] * 10
    sleeps: list[float] = []
    with pytest.raises(cfn_response.ResponseNotDelivered):
        cfn_response.send_response(RESPONSE_URL, {"Status": "FAILED"}, opener=recorder, sleep=sleeps.append, time_left=lambda: 1.2)
    assert len(recorder.requests) == 1 and sleeps == []


def test_send_backs_off_exponentially() -> None:
    recorder = ResponseRecorder()
    recorder.failures = [500, 500, 500]
    sleeps: list[float] = []
    cfn_response.send_response(RESPONSE_URL, {"Status": "SUCCESS"}, opener=recorder, sleep=sleeps.append)
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    "reason",
    ["x" * 10000, "é" * 5000, "\u2028" * 3000, '"\\' * 3000],
    ids=["long ascii", "long non-ascii", "escaped unicode", "quotes and backslashes"],
)
def test_given_a_huge_reason_then_the_body_is_truncated_to_fit_4096_bytes(reason) -> None:
    event = cfn_event("Update", {})
    body = cfn_response.build_response(event, cfn_response.FAILED, reason, {"K": "v"})
    assert_well_formed(body, event)
    assert body["Reason"].endswith("[truncated]")


def test_given_huge_data_then_it_is_dropped_rather_than_breaking_the_response() -> None:
    event = cfn_event("Update", {})
    body = cfn_response.build_response(event, cfn_response.SUCCESS, "ok", {f"K{i}": "v" * 100 for i in range(60)})
    assert_well_formed(body, event)
    assert body["Data"] == {}


def test_an_invalid_status_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        cfn_response.build_response(cfn_event("Create", {}), "MAYBE", "")
