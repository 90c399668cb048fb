"""The one place that names the environment variables the functions read.

ComputeStack sets these on the Lambda functions; tests/test_stack_contract.py
checks that every variable ComputeStack sets is one named here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# --- set by ComputeStack -----------------------------------------------------
TAP_ENVIRONMENT_SUFFIX = "TAP_ENVIRONMENT_SUFFIX"
DB_WRITER_ENDPOINT_PARAM = "DB_WRITER_ENDPOINT_PARAM"
DB_READER_ENDPOINT_PARAM = "DB_READER_ENDPOINT_PARAM"
DB_PORT_PARAM = "DB_PORT_PARAM"
DB_SECRET_ARN_PARAM = "DB_SECRET_ARN_PARAM"
DB_NAME = "DB_NAME"
SESSION_TABLE_NAME = "SESSION_TABLE_NAME"
AUDIT_BUCKET_NAME = "AUDIT_BUCKET_NAME"
MAX_AMOUNT = "MAX_AMOUNT"
CLOCK_SKEW_SECONDS = "CLOCK_SKEW_SECONDS"
CONFIG_TTL_SECONDS = "CONFIG_TTL_SECONDS"
LOG_LEVEL = "LOG_LEVEL"

# --- optional overrides (not set by the template) ----------------------------
# Path of the RDS CA bundle baked into the image by the Dockerfile.
DB_CA_BUNDLE = "DB_CA_BUNDLE"
# Set by the Lambda runtime; boto3 reads it too, we only fall back on it.
AWS_REGION = "AWS_REGION"
# SSM SecureString holding the idempotency fingerprint's HMAC key (tap/fingerprint.py).
# Default: /tap/<TAP_ENVIRONMENT_SUFFIX>/db/request-fingerprint-key, under the
# path the functions may already read.
REQUEST_FINGERPRINT_KEY_PARAM = "REQUEST_FINGERPRINT_KEY_PARAM"

COMPUTE_STACK_VARIABLES = (
    TAP_ENVIRONMENT_SUFFIX,
    DB_WRITER_ENDPOINT_PARAM,
    DB_READER_ENDPOINT_PARAM,
    DB_PORT_PARAM,
    DB_SECRET_ARN_PARAM,
    DB_NAME,
    SESSION_TABLE_NAME,
    AUDIT_BUCKET_NAME,
    MAX_AMOUNT,
    CLOCK_SKEW_SECONDS,
    CONFIG_TTL_SECONDS,
    LOG_LEVEL,
)

ALL_VARIABLES = (*COMPUTE_STACK_VARIABLES, DB_CA_BUNDLE, AWS_REGION, REQUEST_FINGERPRINT_KEY_PARAM)

DEFAULTS: Mapping[str, str] = {
    DB_NAME: "tap",
    MAX_AMOUNT: "10000.00",
    CLOCK_SKEW_SECONDS: "300",
    CONFIG_TTL_SECONDS: "300",
    LOG_LEVEL: "INFO",
    DB_CA_BUNDLE: "/opt/rds-ca/global-bundle.pem",
    AWS_REGION: "us-east-1",
}


class ConfigError(Exception):
    """The function's environment is missing or has an invalid setting."""


def get(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Value of ``name`` or its default; raises ConfigError when neither exists.

    An empty string counts as unset: CloudFormation renders an unset optional
    parameter as "" and that must not silently become a real value.
    """
    source = os.environ if environ is None else environ
    value = source.get(name, "")
    if value.strip():
        return value.strip()
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise ConfigError(f"environment variable {name} is not set")


def get_int(name: str, environ: Mapping[str, str] | None = None, *, minimum: int = 0) -> int:
    raw = get(name, environ)
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from e
    if value < minimum:
        raise ConfigError(f"environment variable {name} must be >= {minimum}, got {value}")
    return value
