"""Spec: the validator answers before its function timeout whatever hangs,
with real sockets and real time: loopback servers that accept and never
answer, that never accept (blackhole), or that answer slowly stand in front
of each dependency in turn and in pairs (botocore's endpoint_url, the
database address from SSM), cold and warm, and right after a GET /health
that left a settings load hanging. Production Config and timeouts, a 10 s
function. All scenarios run at once (each is its own container), so the
whole matrix takes about one function timeout. The worst answer time is
printed at the end of the run (conftest.py)."""

from __future__ import annotations

import pytest

import faults
from tap import db
from tap.db_settings import DbSettings
from tap.migration_files import discover
from tap.migration_runner import apply_migrations

pytestmark = pytest.mark.db

FUNCTION_TIMEOUT = 10.0


@pytest.fixture
def schema(database_server, fresh_database) -> DbSettings:
    settings = DbSettings(
        database_server["host"], database_server["port"], database_server["user"], database_server["password"], fresh_database
    )
    conn = db.connect(settings, tls=None, database=None)
    try:
        apply_migrations(conn, discover(), database=fresh_database, lock_timeout_seconds=10)
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO merchants (merchant_id, display_name, currency, daily_limit) VALUES ('merchant-001', 'M', 'USD', 1000000)"
            )
    finally:
        conn.close()
    return settings


def test_the_loopback_blackhole_really_drops_connections() -> None:
    with faults.Blackhole(lifetime=10) as hole:
        assert faults.probe_blackhole(hole.port)


def test_given_hanging_blackholed_or_slow_dependencies_alone_and_in_pairs_then_every_answer_comes_before_the_timeout(
    schema, fault_report
) -> None:
    scenarios = faults.run_fault_matrix(
        faults.fault_matrix(),
        ok_connect=lambda settings, timeouts: db.connect(settings, tls=None, timeouts=timeouts, lock_wait_timeout=3),
        database=schema.database,
        function_timeout=FUNCTION_TIMEOUT,
    )
    fault_report.extend(scenarios)
    problems = [f"{s.name}: {s.error!r}" for s in scenarios if s.error is not None]
    assert problems == []
    for s in scenarios:
        assert s.seconds < FUNCTION_TIMEOUT, f"{s.name}: answered after {s.seconds:.2f} s, past the function timeout"
        assert s.status == s.expected_status, f"{s.name}: {s.status} {s.body}"
        if s.status == 503:
            assert s.body["dependency"] in faults.DEPENDENCIES
