"""Spec: database settings come from SSM + Secrets Manager, cached with a max age."""

from __future__ import annotations

import json

import pytest

from support import FakeClock
from tap import aws, env
from tap.db_settings import DbParameterNames, load_db_settings
from tap.errors import DependencyError
from tap.ttl_cache import TTLCache

NAMES = DbParameterNames("/tap/test/db/writer-endpoint", "/tap/test/db/port", "/tap/test/db/secret-arn")
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap-db-test-AbCdEf"


def ssm_response(endpoint: str = "writer.cluster-abc.us-east-1.rds.amazonaws.com", port: str = "3306") -> dict:
    return {
        "Parameters": [
            {"Name": NAMES.endpoint, "Type": "String", "Value": endpoint, "Version": 1},
            {"Name": NAMES.port, "Type": "String", "Value": port, "Version": 1},
            {"Name": NAMES.secret_arn, "Type": "String", "Value": SECRET_ARN, "Version": 1},
        ],
    }


def secret_response(secret: dict | str) -> dict:
    return {
        "ARN": SECRET_ARN,
        "Name": "tap-db-test",
        "SecretString": secret if isinstance(secret, str) else json.dumps(secret),
    }


def test_given_parameters_and_secret_then_settings_need_exactly_one_call_each(stub) -> None:
    ssm, ssm_stub = stub("ssm")
    sm, sm_stub = stub("secretsmanager")
    ssm_stub.add_response(
        "get_parameters", ssm_response(), {"Names": [NAMES.endpoint, NAMES.port, NAMES.secret_arn], "WithDecryption": True}
    )
    sm_stub.add_response(
        "get_secret_value",
        secret_response({"username": "admin", "password": "s3cr3t!", "host": "ignored", "port": 1}),
        {"SecretId": SECRET_ARN},
    )
    settings = load_db_settings(ssm, sm, NAMES, "tap")
    assert (settings.host, settings.port, settings.username, settings.password, settings.database) == (
        "writer.cluster-abc.us-east-1.rds.amazonaws.com",
        3306,
        "admin",
        "s3cr3t!",
        "tap",
    )
    assert "s3cr3t!" not in repr(settings)


@pytest.mark.parametrize(
    ("ssm_body", "secret", "dependency"),
    [
        pytest.param({"Parameters": [], "InvalidParameters": [NAMES.endpoint]}, None, "ssm", id="parameter missing"),
        pytest.param(ssm_response(port="not-a-port"), None, "ssm", id="port not a number"),
        pytest.param(ssm_response(port="70000"), None, "ssm", id="port out of range"),
        pytest.param(ssm_response(endpoint=" "), None, "ssm", id="blank endpoint"),
        pytest.param(ssm_response(), "not json", "secretsmanager", id="secret not JSON"),
        pytest.param(ssm_response(), {"username": "admin"}, "secretsmanager", id="secret without password"),
    ],
)
def test_given_bad_configuration_then_a_dependency_error_names_the_source(stub, ssm_body, secret, dependency) -> None:
    ssm, ssm_stub = stub("ssm")
    sm, sm_stub = stub("secretsmanager")
    ssm_stub.add_response("get_parameters", ssm_body)
    if secret is not None:
        sm_stub.add_response("get_secret_value", secret_response(secret))
    with pytest.raises(DependencyError) as caught:
        load_db_settings(ssm, sm, NAMES, "tap")
    assert caught.value.dependency == dependency
    assert "admin" not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "transient"),
    [("ThrottlingException", True), ("InternalServerError", True), ("AccessDeniedException", False)],
)
def test_given_an_aws_error_then_it_is_classified_transient_or_not(stub, code, transient) -> None:
    ssm, ssm_stub = stub("ssm")
    sm, _ = stub("secretsmanager")
    ssm_stub.add_client_error("get_parameters", service_error_code=code, http_status_code=400)
    with pytest.raises(DependencyError) as caught:
        load_db_settings(ssm, sm, NAMES, "tap")
    assert caught.value.dependency == "ssm"
    assert caught.value.transient is transient


def test_ttl_cache_loads_once_within_the_max_age_and_again_after_it() -> None:
    clock = FakeClock()
    loads: list[int] = []
    cache = TTLCache(lambda budget: loads.append(1) or len(loads), ttl_seconds=300, clock=clock, dependency="ssm")
    assert [cache.get() for _ in range(50)] == [1] * 50
    clock.sleep(299.9)
    assert cache.get() == 1
    clock.sleep(0.1)
    assert cache.get() == 2
    cache.invalidate()
    assert cache.get() == 3


def test_a_failed_load_is_not_cached() -> None:
    attempts: list[int] = []

    def loader(budget) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise DependencyError("ssm", "down")
        return "ok"

    cache = TTLCache(loader, ttl_seconds=300, dependency="ssm")
    with pytest.raises(DependencyError):
        cache.get()
    assert cache.get() == "ok"


@pytest.mark.parametrize(
    ("environ", "name", "expected"),
    [
        ({}, env.DB_NAME, "tap"),
        ({env.DB_NAME: ""}, env.DB_NAME, "tap"),
        ({env.DB_NAME: " payments "}, env.DB_NAME, "payments"),
        ({}, env.MAX_AMOUNT, "10000.00"),
        ({}, env.CLOCK_SKEW_SECONDS, "300"),
        ({}, env.CONFIG_TTL_SECONDS, "300"),
        ({}, env.LOG_LEVEL, "INFO"),
        ({}, env.DB_CA_BUNDLE, "/opt/rds-ca/global-bundle.pem"),
    ],
)
def test_env_defaults(environ, name, expected) -> None:
    assert env.get(name, environ) == expected


def test_a_required_variable_without_default_is_a_config_error() -> None:
    with pytest.raises(env.ConfigError, match="SESSION_TABLE_NAME"):
        env.get(env.SESSION_TABLE_NAME, {})
    with pytest.raises(env.ConfigError, match="CLOCK_SKEW_SECONDS"):
        env.get_int(env.CLOCK_SKEW_SECONDS, {env.CLOCK_SKEW_SECONDS: "five"})


def test_every_env_name_is_a_constant_equal_to_its_value() -> None:
    for name in env.ALL_VARIABLES:
        assert getattr(env, name) == name


def test_clients_are_created_once_per_container_and_can_be_overridden() -> None:
    first = aws.client("ssm")
    assert aws.client("ssm") is first
    assert first.meta.region_name == "us-east-1"
    marker = object()
    aws.override("ssm", marker)
    assert aws.client("ssm") is marker


def test_clients_are_cached_per_region_and_the_own_region_is_the_default() -> None:
    """GIVEN a function in us-east-1 that also reads eu-west-1
    THEN each region has its own client, with the same short timeouts,
    and naming the own region explicitly gives the default client."""
    own = aws.client("cloudwatch")
    assert aws.client("cloudwatch", "us-east-1") is own
    other = aws.client("cloudwatch", "eu-west-1")
    assert other is not own and aws.client("cloudwatch", "eu-west-1") is other
    assert other.meta.region_name == "eu-west-1"
    assert other.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS
    assert other.meta.config.read_timeout == aws.READ_TIMEOUT_SECONDS
    assert other.meta.config.retries == {"total_max_attempts": aws.MAX_ATTEMPTS, "mode": "standard"}
    marker = object()
    aws.override("cloudwatch", marker, region="eu-west-1")
    assert aws.client("cloudwatch", "eu-west-1") is marker and aws.client("cloudwatch") is own
