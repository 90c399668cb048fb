"""Spec: prerequisites.handler (Custom::CrossRegionPrerequisites, primary
region only): waits until the secondary region's replication bucket is
versioned and its replica keys are enabled, answers with their ARNs, or
FAILED naming everything still missing, always before the function's
timeout; Delete at once."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import EndpointConnectionError

import prerequisites
from support import FakeClock, FakeContext, answer_of_the_timer, assert_well_formed, cfn_event
from tap import aws
from tap.prerequisites_wait import TIMEOUT_MARGIN_SECONDS, WORK_MARGIN_SECONDS, Dependencies

SECONDARY = "eu-west-1"
ACCOUNT = "123456789012"  # the account of support.STACK_ID: the bucket must be owned by it
BUCKET = "audit-logs-prod-123456789012-eu-west-1"
AUDIT_ALIAS = "alias/tap-audit-logs-prod"
SESSION_ALIAS = "alias/tap-sessions-prod"
KEYS = {"AuditReplicaKeyArn": AUDIT_ALIAS, "SessionReplicaKeyArn": SESSION_ALIAS}
PROPS = {"Region": SECONDARY, "Bucket": BUCKET, "Keys": KEYS, "MaxWaitSeconds": "300"}
FUNCTION_TIMEOUT_SECONDS = 360.0  # the template's Timeout and ServiceTimeout
KEY_IDS = {AUDIT_ALIAS: "1234abcd-12ab-34cd-56ef-1234567890ab", SESSION_ALIAS: "0987dcba-09fe-87dc-65ba-ab0987654321"}


def key_arn(alias: str) -> str:
    return f"arn:aws:kms:{SECONDARY}:123456789012:key/{KEY_IDS[alias]}"


READY_DATA = {
    "BucketArn": f"arn:aws:s3:::{BUCKET}",
    "AuditReplicaKeyArn": key_arn(AUDIT_ALIAS),
    "SessionReplicaKeyArn": key_arn(SESSION_ALIAS),
}


class Secondary:
    """The secondary region as the function sees it: Stubber-wrapped S3 and
    KMS clients registered for eu-west-1 (the default Dependencies find
    them through tap.aws), and a fake clock."""

    def __init__(self, stub=None):
        if stub is not None:
            self.s3, self.s3_stub = stub("s3", SECONDARY)
            self.kms, self.kms_stub = stub("kms", SECONDARY)
        self.clock = FakeClock()
        self.deps = Dependencies(sleep=self.clock.sleep, monotonic=self.clock)
        if stub is None:
            # No client may be asked for (and none is built: that costs time in every test).
            self.deps.s3_in = self.deps.kms_in = no_client
        prerequisites.set_dependencies(self.deps)

    def context(self, remaining: float = FUNCTION_TIMEOUT_SECONDS) -> FakeContext:
        return FakeContext(remaining, clock=self.clock)

    def bucket(self, status: str | None = "Enabled") -> None:
        self.s3_stub.add_response(
            "get_bucket_versioning", {"Status": status} if status else {}, {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT}
        )

    def bucket_error(self, code: str = "NoSuchBucket", http_status_code: int = 404) -> None:
        self.s3_stub.add_client_error(
            "get_bucket_versioning",
            code,
            http_status_code=http_status_code,
            expected_params={"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT},
        )

    def key(self, alias: str, state: str = "Enabled") -> None:
        metadata = {"KeyId": KEY_IDS[alias], "Arn": key_arn(alias), "KeyState": state}
        self.kms_stub.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": alias})

    def key_error(self, alias: str, code: str = "NotFoundException", http_status_code: int = 400) -> None:
        self.kms_stub.add_client_error("describe_key", code, http_status_code=http_status_code, expected_params={"KeyId": alias})

    def ready(self) -> None:
        self.bucket()
        self.key(AUDIT_ALIAS)
        self.key(SESSION_ALIAS)


@pytest.fixture
def sec(stub) -> Secondary:
    return Secondary(stub)


@pytest.fixture
def no_aws() -> Secondary:
    """A secondary region that must not be called at all."""
    return Secondary()


class Raises:
    """A client whose every call raises."""

    def __init__(self, error: BaseException):
        self.error = error
        self.calls = 0

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls += 1
            raise self.error

        return call


def no_client(region: str):
    pytest.fail(f"a client for {region} was asked for")


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_given_everything_exists_then_success_at_once_with_the_arns(sec, cfn_responses, request_type) -> None:
    sec.ready()
    event = cfn_event(request_type, PROPS)

    body = prerequisites.handler(event, sec.context())

    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == READY_DATA
    assert body["Reason"] == (
        f"secondary region {SECONDARY} ready after 0 s (1 poll): bucket {BUCKET} versioned, keys {AUDIT_ALIAS}, {SESSION_ALIAS} enabled"
    )
    assert sec.clock.sleeps == [] and len(cfn_responses.bodies) == 1


def test_given_the_secondary_region_is_still_being_created_then_it_waits_and_checks_only_what_is_not_ready(sec, cfn_responses) -> None:
    # t = 0: nothing yet
    sec.bucket_error("NoSuchBucket")
    sec.key_error(AUDIT_ALIAS)
    sec.key_error(SESSION_ALIAS)
    # t = 10: bucket created but not versioned yet; the audit key exists, still being created
    sec.bucket(None)
    sec.key(AUDIT_ALIAS, "Creating")
    sec.key_error(SESSION_ALIAS)
    # t = 20: bucket and audit key ready
    sec.bucket("Enabled")
    sec.key(AUDIT_ALIAS)
    sec.key_error(SESSION_ALIAS)
    # t = 30: the last one (bucket and audit key not asked for again: the Stubber would refuse)
    sec.key(SESSION_ALIAS)
    event = cfn_event("Create", PROPS)

    body = prerequisites.handler(event, sec.context())

    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == READY_DATA
    assert "ready after 30 s (4 polls)" in body["Reason"]
    assert sec.clock.sleeps == [10, 10, 10]


def test_given_it_never_gets_ready_then_failed_names_everything_missing_before_the_function_times_out(sec, cfn_responses) -> None:
    sec.bucket_error("NoSuchBucket")
    sec.key(AUDIT_ALIAS)
    sec.key_error(SESSION_ALIAS)
    for _ in range(30):  # t = 10, 20, ..., 300
        sec.bucket_error("NoSuchBucket")
        sec.key_error(SESSION_ALIAS)
    context = sec.context()
    event = cfn_event("Create", PROPS)

    body = prerequisites.handler(event, context)

    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert body["Reason"] == (
        f"secondary region {SECONDARY} not ready after 300 s: bucket {BUCKET} does not exist; key alias {SESSION_ALIAS} not found"
        f" (log stream: {context.log_stream_name})"
    )
    assert body["Data"] == {}
    assert sec.clock.sleeps == [10] * 30
    # The handler answered, not the timer: time was left before the timer's margin.
    assert context.get_remaining_time_in_millis() / 1000 > TIMEOUT_MARGIN_SECONDS
    assert len(cfn_responses.bodies) == 1


def test_given_a_wait_longer_than_the_function_has_then_it_stops_in_time_to_answer(sec, cfn_responses) -> None:
    sec.deps.s3_in = lambda region: s3
    s3 = Raises(EndpointConnectionError(endpoint_url=f"https://s3.{SECONDARY}.amazonaws.com/"))
    sec.deps.kms_in = lambda region: kms
    kms = Raises(EndpointConnectionError(endpoint_url=f"https://kms.{SECONDARY}.amazonaws.com/"))
    remaining = FUNCTION_TIMEOUT_SECONDS - 5  # not a multiple of the poll interval: the last wait is shorter
    context = sec.context(remaining)
    event = cfn_event("Update", dict(PROPS, MaxWaitSeconds="900"))

    body = prerequisites.handler(event, context)

    assert body["Status"] == "FAILED"
    waited = remaining - WORK_MARGIN_SECONDS  # 315 s
    assert f"not ready after {int(waited)} s" in body["Reason"]
    assert f"bucket {BUCKET} cannot be checked (EndpointConnectionError" in body["Reason"]
    assert f"key alias {AUDIT_ALIAS} cannot be checked (EndpointConnectionError" in body["Reason"]
    assert f"key alias {SESSION_ALIAS} cannot be checked (EndpointConnectionError" in body["Reason"]
    assert context.get_remaining_time_in_millis() / 1000 >= WORK_MARGIN_SECONDS > TIMEOUT_MARGIN_SECONDS
    assert s3.calls == 33 and sec.clock.sleeps == [10] * 31 + [5]  # t = 0, 10, ..., 310, 315


def test_given_the_secondary_region_hangs_then_the_timer_answers_failed_before_the_timeout(sec, cfn_responses) -> None:
    release = threading.Event()

    class Hangs:
        def get_bucket_versioning(self, **kwargs):
            release.wait(10)
            return {"Status": "Enabled"}

    sec.deps.s3_in = lambda region: Hangs()
    sec.deps.monotonic = __import__("time").monotonic  # real clock: the timer is a real thread
    event = cfn_event("Create", PROPS)
    body = answer_of_the_timer(prerequisites.handler, event, TIMEOUT_MARGIN_SECONDS, release, cfn_responses)
    assert body["Status"] == "FAILED" and "time out" in body["Reason"]


def unreachable_s3(s: Secondary) -> None:
    s.deps.s3_in = lambda region: Raises(EndpointConnectionError(endpoint_url=f"https://s3.{region}.amazonaws.com/"))


@pytest.mark.parametrize(
    ("broken", "arrange", "missing"),
    [
        pytest.param("bucket", lambda s: s.bucket_error("NoSuchBucket", 404), f"bucket {BUCKET} does not exist", id="no bucket"),
        pytest.param(
            "bucket",
            lambda s: s.bucket("Suspended"),
            f"bucket {BUCKET} versioning not enabled (status: Suspended)",
            id="versioning suspended",
        ),
        pytest.param(
            "bucket",
            lambda s: s.bucket(None),
            f"bucket {BUCKET} versioning not enabled (status: never enabled)",
            id="versioning never enabled",
        ),
        pytest.param(
            "bucket",
            lambda s: s.bucket_error("AccessDenied", 403),
            f"bucket {BUCKET} cannot be checked (AccessDenied",
            id="bucket access denied",
        ),
        pytest.param(
            "bucket", unreachable_s3, f"bucket {BUCKET} cannot be checked (EndpointConnectionError: Could not connect", id="S3 no_aws"
        ),
        pytest.param(
            "key", lambda s: s.key_error(SESSION_ALIAS, "NotFoundException"), f"key alias {SESSION_ALIAS} not found", id="no alias"
        ),
        pytest.param(
            "key",
            lambda s: s.key(SESSION_ALIAS, "PendingDeletion"),
            f"key alias {SESSION_ALIAS} is PendingDeletion, not Enabled",
            id="key pending deletion",
        ),
        pytest.param(
            "key", lambda s: s.key(SESSION_ALIAS, "Disabled"), f"key alias {SESSION_ALIAS} is Disabled, not Enabled", id="key disabled"
        ),
        pytest.param(
            "key",
            lambda s: s.key_error(SESSION_ALIAS, "AccessDeniedException"),
            f"key alias {SESSION_ALIAS} cannot be checked (AccessDeniedException",
            id="key access denied",
        ),
        pytest.param(
            "key",
            lambda s: s.key_error(SESSION_ALIAS, "KMSInternalException", 500),
            f"key alias {SESSION_ALIAS} cannot be checked (KMSInternalException",
            id="KMS error",
        ),
    ],
)
def test_each_kind_of_missing_prerequisite_is_named_with_why(sec, cfn_responses, broken, arrange, missing) -> None:
    """GIVEN one prerequisite not ready, the others fine, and no time to wait
    (MaxWaitSeconds 0: one look) THEN FAILED names that one, and only it."""
    if broken == "bucket":
        arrange(sec)
        sec.key(AUDIT_ALIAS)
        sec.key(SESSION_ALIAS)
    else:
        sec.bucket()
        sec.key(AUDIT_ALIAS)
        arrange(sec)
    event = cfn_event("Create", dict(PROPS, MaxWaitSeconds="0"))

    body = prerequisites.handler(event, sec.context())

    assert_well_formed(body, event)
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"secondary region {SECONDARY} not ready after 0 s: {missing}"), body["Reason"]
    assert ";" not in body["Reason"]  # only the one that is missing
    assert sec.clock.sleeps == [] and len(cfn_responses.bodies) == 1


def test_given_a_delete_then_success_at_once_without_any_call(no_aws, cfn_responses) -> None:
    event = cfn_event("Delete", PROPS, physical_id="prerequisites-1")
    body = prerequisites.handler(event, no_aws.context())
    assert_well_formed(body, event)
    assert body["Status"] == "SUCCESS" and no_aws.clock.sleeps == [] and len(cfn_responses.bodies) == 1


@pytest.mark.parametrize(
    ("partition", "stack_id"),
    [
        ("aws", "arn:aws:cloudformation:us-east-1:123456789012:stack/tap-prod/11111111-2222-3333-4444-555555555555"),
        ("aws-cn", "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/tap-prod/11111111-2222-3333-4444-555555555555"),
        ("aws-us-gov", "arn:aws-us-gov:cloudformation:us-gov-east-1:123456789012:stack/tap-prod/11111111-2222-3333-4444-555555555555"),
    ],
)
def test_the_bucket_arn_is_in_the_stacks_partition(sec, cfn_responses, partition, stack_id) -> None:
    sec.ready()
    body = prerequisites.handler(cfn_event("Create", PROPS, StackId=stack_id), sec.context())
    assert body["Status"] == "SUCCESS" and body["Data"]["BucketArn"] == f"arn:{partition}:s3:::{BUCKET}"


def test_given_a_stack_id_that_is_not_an_arn_then_failed_without_any_call(no_aws, cfn_responses) -> None:
    body = prerequisites.handler(cfn_event("Create", PROPS, StackId="tap-prod"), no_aws.context())
    assert body["Status"] == "FAILED" and "StackId" in body["Reason"]


def _explodes(region: str):
    raise RuntimeError(f"no client for {region}")


def _bad_sleep(seconds: float) -> None:
    raise RuntimeError("sleep exploded")


class NoMetadata:
    def describe_key(self, **kwargs):
        return {"KeyMetadata": None}


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        pytest.param(
            lambda s: setattr(s.deps, "s3_in", _explodes),
            f"bucket {BUCKET} cannot be checked (RuntimeError: no client for {SECONDARY})",
            id="S3 client cannot be built",
        ),
        pytest.param(
            lambda s: setattr(s.deps, "kms_in", lambda region: Raises(ValueError("kms exploded"))),
            "cannot be checked (ValueError: kms exploded)",
            id="KMS raises a bug",
        ),
    ],
)
def test_given_a_client_raises_something_unexpected_then_it_is_named_and_one_answer_is_sent(
    sec, cfn_responses, capsys, arrange, reason
) -> None:
    arrange(sec)
    if sec.deps.s3_in is not _explodes:
        sec.bucket()
    event = cfn_event("Update", dict(PROPS, MaxWaitSeconds="0"))

    body = prerequisites.handler(event, sec.context())

    (delivered,) = cfn_responses.bodies
    assert delivered == body
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and reason in body["Reason"], body["Reason"]
    assert "Traceback" in capsys.readouterr().out  # a bug is logged with its trace


def test_given_a_malformed_describe_key_answer_then_the_key_cannot_be_checked(sec, cfn_responses) -> None:
    sec.bucket()
    sec.deps.kms_in = lambda region: NoMetadata()
    body = prerequisites.handler(cfn_event("Create", dict(PROPS, MaxWaitSeconds="0")), sec.context())
    assert body["Status"] == "FAILED"
    assert f"key alias {AUDIT_ALIAS} cannot be checked (DescribeKey answered without KeyMetadata.Arn)" in body["Reason"]


def test_given_the_wait_itself_raises_then_failed_is_still_answered_once(sec, cfn_responses) -> None:
    sec.bucket_error("NoSuchBucket")
    sec.key(AUDIT_ALIAS)
    sec.key(SESSION_ALIAS)
    sec.deps.sleep = _bad_sleep
    event = cfn_event("Create", PROPS)
    body = prerequisites.handler(event, sec.context())
    (delivered,) = cfn_responses.bodies
    assert delivered == body
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and "sleep exploded" in body["Reason"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Region": None}, "Region"),
        ({"Region": "Ireland"}, "Region"),
        ({"Region": ["eu-west-1"]}, "Region"),
        ({"Bucket": None}, "Bucket"),
        ({"Bucket": "Audit_Logs"}, "Bucket"),
        ({"Bucket": "ab"}, "Bucket"),
        ({"Bucket": "x" * 64}, "Bucket"),
        ({"Keys": None}, "Keys"),
        ({"Keys": {}}, "Keys"),
        ({"Keys": [SESSION_ALIAS]}, "Keys"),
        ({"Keys": SESSION_ALIAS}, "Keys"),
        ({"Keys": {"Session-Key": SESSION_ALIAS}}, "Keys: 'Session-Key'"),
        ({"Keys": {"BucketArn": SESSION_ALIAS}}, "Keys: 'BucketArn'"),
        ({"Keys": {"SessionReplicaKeyArn": "tap-sessions-prod"}}, "Keys: SessionReplicaKeyArn"),
        ({"Keys": {"SessionReplicaKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/tap-sessions-prod"}}, "Keys: SessionReplicaKeyArn"),
        ({"Keys": {"SessionReplicaKeyArn": ["alias/x"]}}, "Keys: SessionReplicaKeyArn"),
        ({"MaxWaitSeconds": None}, "MaxWaitSeconds"),
        ({"MaxWaitSeconds": "-1"}, "MaxWaitSeconds"),
        ({"MaxWaitSeconds": "300.5"}, "MaxWaitSeconds"),
        ({"MaxWaitSeconds": "901"}, "MaxWaitSeconds"),
        ({"MaxWaitSeconds": True}, "MaxWaitSeconds"),
    ],
)
@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_given_invalid_properties_then_failed_names_the_property_without_any_call(
    no_aws, cfn_responses, request_type, change, message
) -> None:
    props = {k: v for k, v in {**PROPS, **change}.items() if v is not None}
    event = cfn_event(request_type, props)
    body = prerequisites.handler(event, no_aws.context())
    assert_well_formed(body, event)
    assert body["Status"] == "FAILED" and message in body["Reason"], body["Reason"]


def test_the_secondary_regions_clients_are_built_once_for_that_region_with_short_timeouts() -> None:
    deps = Dependencies()
    for build in (deps.s3_in, deps.kms_in):
        client = build(SECONDARY)
        assert build(SECONDARY) is client and client.meta.region_name == SECONDARY
        assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (2, 3)
        assert client.meta.config.retries == {"total_max_attempts": 2, "mode": "standard"}


def test_a_last_poll_that_hangs_on_every_call_still_ends_before_the_timer() -> None:
    """A poll starts only while more than WORK_MARGIN_SECONDS are left; at
    worst it is one call per prerequisite, each hanging until tap.aws's
    timeouts on every attempt (with standard mode's backoff under 1 s)."""
    worst_call = aws.MAX_ATTEMPTS * max(aws.CONNECT_TIMEOUT_SECONDS, aws.READ_TIMEOUT_SECONDS) + (aws.MAX_ATTEMPTS - 1)
    calls_per_poll = 1 + len(KEYS)
    assert calls_per_poll * worst_call <= WORK_MARGIN_SECONDS - TIMEOUT_MARGIN_SECONDS
