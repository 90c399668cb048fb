"""Waits for the secondary region's prerequisites (Custom::CrossRegionPrerequisites).

The primary region's root stack only. The audit bucket replicates into the
secondary region's bucket, re-encrypted there with a KMS key behind an
alias, and the DynamoDB global table's replica there is encrypted with
another key behind an alias. S3 refuses a replication rule whose
destination bucket does not exist or is not versioned
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html),
but a missing replica key fails silently, object by object
(failure reason DstKmsKeyNotFound:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-failure-codes.html),
so the bucket and every key are checked here. Both regions are created at
the same time, so this resource waits, polling, until they exist.

Create/Update: poll every 10 s until the bucket exists with versioning
Enabled (s3:GetBucketVersioning) and every alias resolves to a key in state
Enabled (kms:DescribeKey with the alias), or until MaxWaitSeconds (capped by
the function's remaining time) have passed. SUCCESS returns the bucket's
ARN and every key's ARN as attributes; FAILED names everything still
missing and why. What is ready once is not checked again.

Delete: SUCCESS at once (nothing was created).

ResourceProperties (strings, as CloudFormation sends them):
  Region          the secondary region's code
  Bucket          the replication destination bucket's name
  Keys            map: attribute name -> KMS alias name (alias/...)
  MaxWaitSeconds  whole number 0..900: how long to wait
Attributes (Fn::GetAtt): BucketArn, and one per Keys entry (the key's ARN).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tap import aws, cfn, properties
from tap.budget import Budget
from tap.cfn import Outcome
from tap.errors import UserFacingError
from tap.jsonlog import get_logger
from tap.lambda_context import LambdaContext
from tap.properties import InvalidProperties
from tap.transient import aws_error_code

logger = get_logger("prerequisites")

# Function timeout (and the resource's ServiceTimeout) is 360 s, MaxWaitSeconds
# 300. The timer answers FAILED 15 s before the end. Polls start until 40 s
# before the end: one poll is at most three calls of ~7 s each (tap.aws's
# client timeouts, for a region that does not answer), so even the last one
# ends before the timer and the answer comes from the handler.
TIMEOUT_MARGIN_SECONDS = 15.0
WORK_MARGIN_SECONDS = 40.0
POLL_INTERVAL_SECONDS = 10.0
MAX_WAIT_SECONDS = 900  # Lambda's longest timeout

BUCKET_ARN_ATTRIBUTE = "BucketArn"
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
ALIAS_PATTERN = re.compile(r"alias/[A-Za-z0-9/_-]{1,250}")
ATTRIBUTE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,254}")
STACK_ARN_PATTERN = re.compile(r"arn:(aws[a-z-]*):cloudformation:[^:]*:([0-9]{12}):stack/.+")

VERSIONING_ENABLED = "Enabled"
KEY_ENABLED = "Enabled"


class NotReady(UserFacingError):
    pass


@dataclass(frozen=True)
class Properties:
    region: str
    bucket: str
    keys: tuple[tuple[str, str], ...]  # (attribute name, alias name), in the template's order
    max_wait_seconds: int

    @classmethod
    def parse(cls, props: Mapping[str, Any] | None) -> Properties:
        props = props or {}
        region = properties.region(props, "Region", required=True)
        bucket = properties.scalar(props.get("Bucket"))
        if not BUCKET_NAME_PATTERN.fullmatch(bucket):
            raise InvalidProperties(f"Bucket must be an S3 bucket name (3-63 of a-z 0-9 . -), got {props.get('Bucket')!r}")
        raw_keys = props.get("Keys")
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise InvalidProperties(f"Keys must be a non-empty map of attribute name to KMS alias name, got {raw_keys!r}")
        keys = []
        for attribute, alias in raw_keys.items():
            if not ATTRIBUTE_PATTERN.fullmatch(str(attribute)) or attribute == BUCKET_ARN_ATTRIBUTE:
                raise InvalidProperties(
                    f"Keys: {attribute!r} is not a usable attribute name (letters and digits, not {BUCKET_ARN_ATTRIBUTE})"
                )
            if not ALIAS_PATTERN.fullmatch(properties.scalar(alias)):
                raise InvalidProperties(f"Keys: {attribute} must name a KMS alias (alias/...), got {alias!r}")
            keys.append((str(attribute), str(alias)))
        max_wait = properties.whole_number(props, "MaxWaitSeconds", MAX_WAIT_SECONDS)
        return cls(region=region, bucket=bucket, keys=tuple(keys), max_wait_seconds=max_wait)


@dataclass(frozen=True)
class StackArn:
    partition: str  # aws, aws-cn, aws-us-gov ...
    account: str


def parse_stack_arn(stack_id: str) -> StackArn:
    """The partition and account of the stack's ARN."""
    match = STACK_ARN_PATTERN.fullmatch(stack_id)
    if not match:
        raise UserFacingError(f"StackId {stack_id!r} is not a CloudFormation stack ARN")
    return StackArn(partition=match.group(1), account=match.group(2))


def _s3_in(region: str) -> aws.Client:
    return aws.client("s3", region)


def _kms_in(region: str) -> aws.Client:
    return aws.client("kms", region)


@dataclass
class Dependencies:
    # Clients for the secondary region; tap.aws builds one per region, once per container.
    s3_in: Callable[[str], aws.Client] = _s3_in
    kms_in: Callable[[str], aws.Client] = _kms_in
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    poll_interval: float = POLL_INTERVAL_SECONDS

    @classmethod
    def default(cls) -> Dependencies:
        return cls()


@dataclass(frozen=True)
class Finding:
    """One prerequisite: its ARN when ready, else why not."""

    arn: str = ""
    missing: str = ""


def _cannot_check(what: str, e: BaseException) -> Finding:
    if isinstance(e, ClientError):
        error = e.response.get("Error", {})
        detail = f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
        logger.warning("prerequisite cannot be checked", extra={"what": what, "error": detail})
    elif isinstance(e, BotoCoreError):
        detail = f"{type(e).__name__}: {e}"
        logger.warning("prerequisite cannot be checked", extra={"what": what, "error": detail})
    else:
        detail = f"{type(e).__name__}: {e}"
        logger.exception("prerequisite cannot be checked", extra={"what": what})
    return Finding(missing=f"{what} cannot be checked ({detail})")


def check_bucket(region: str, bucket: str, stack: StackArn, deps: Dependencies) -> Finding:
    what = f"bucket {bucket}"
    try:
        # Both regions' stacks are in the StackSet's one account: a bucket of that name owned
        # by anyone else is not the replica bucket (S3 answers 403 for a different owner).
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
        answer = deps.s3_in(region).get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=stack.account)
        status = answer.get("Status") if isinstance(answer, dict) else None
    except ClientError as e:
        if aws_error_code(e) == "NoSuchBucket":
            return Finding(missing=f"{what} does not exist")
        return _cannot_check(what, e)
    except Exception as e:
        return _cannot_check(what, e)
    if status != VERSIONING_ENABLED:
        # No Status at all: versioning was never enabled on the bucket.
        return Finding(missing=f"{what} versioning not enabled (status: {status or 'never enabled'})")
    return Finding(arn=f"arn:{stack.partition}:s3:::{bucket}")


def check_key(region: str, alias: str, deps: Dependencies) -> Finding:
    what = f"key alias {alias}"
    try:
        answer = deps.kms_in(region).describe_key(KeyId=alias)
    except ClientError as e:
        if aws_error_code(e) == "NotFoundException":
            return Finding(missing=f"{what} not found")
        return _cannot_check(what, e)
    except Exception as e:
        return _cannot_check(what, e)
    metadata = answer.get("KeyMetadata") if isinstance(answer, dict) else None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("Arn"), str):
        logger.warning("malformed DescribeKey answer", extra={"what": what, "answer": str(answer)[:200]})
        return Finding(missing=f"{what} cannot be checked (DescribeKey answered without KeyMetadata.Arn)")
    state, arn = metadata.get("KeyState"), metadata["Arn"]
    if state != KEY_ENABLED:
        return Finding(missing=f"{what} is {state or 'in an unknown state'}, not {KEY_ENABLED}")
    return Finding(arn=str(arn))


def _polls(n: int) -> str:
    return f"{n} poll" if n == 1 else f"{n} polls"


def wait_until_ready(props: Properties, stack: StackArn, budget: Budget, deps: Dependencies) -> Outcome:
    wait = min(float(props.max_wait_seconds), max(0.0, budget.remaining()))
    if wait < props.max_wait_seconds:
        logger.warning(
            "wait shortened to fit the function's remaining time",
            extra={"requested_s": props.max_wait_seconds, "granted_s": wait},
        )
    start = deps.monotonic()
    end = start + wait
    ready: dict[str, str] = {}  # attribute -> ARN
    missing: dict[str, str] = {}  # attribute -> why not
    polls = 0
    while True:
        polls += 1
        for attribute, alias in ((BUCKET_ARN_ATTRIBUTE, ""), *props.keys):
            if attribute in ready:
                continue
            finding = check_key(props.region, alias, deps) if alias else check_bucket(props.region, props.bucket, stack, deps)
            if finding.arn:
                ready[attribute] = finding.arn
                missing.pop(attribute, None)
            else:
                missing[attribute] = finding.missing
        elapsed = int(deps.monotonic() - start)
        if not missing:
            keys = ", ".join(alias for _, alias in props.keys)
            return Outcome(
                data=ready,
                reason=f"secondary region {props.region} ready after {elapsed} s ({_polls(polls)}):"
                f" bucket {props.bucket} versioned, keys {keys} enabled",
            )
        logger.info("secondary region not ready yet", extra={"poll": polls, "missing": list(missing.values())})
        left = end - deps.monotonic()
        if left <= 0 or budget.expired():
            break
        deps.sleep(min(deps.poll_interval, left))
    raise NotReady(f"secondary region {props.region} not ready after {elapsed} s: " + "; ".join(missing.values()))


def on_create_or_update(event: Mapping[str, Any], context: LambdaContext, deps: Dependencies) -> Outcome:
    props = Properties.parse(event.get("ResourceProperties"))
    stack = parse_stack_arn(str(event.get("StackId", "")))
    return wait_until_ready(props, stack, Budget.from_context(context, WORK_MARGIN_SECONDS), deps)


# A lambda: Dependencies.default is looked up at first use, so a test that replaces it is honoured.
RESOURCE = cfn.Resource(
    default_dependencies=lambda: Dependencies.default(),
    on_create_or_update=on_create_or_update,
    timeout_margin_seconds=TIMEOUT_MARGIN_SECONDS,
)
