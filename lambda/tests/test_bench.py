"""Spec: bench.py reports throughput and warm-container AWS calls, and its
--json output is one machine-readable object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench.py"


def test_bench_json_prints_exactly_one_object_with_the_two_numbers() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--seconds", "0.2", "--warm-invocations", "20"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole stdout is one JSON document
    assert set(result) == {"validations_per_second", "aws_calls_per_warm_invocation"}
    assert result["validations_per_second"] > 100
    # DynamoDB GetItem + S3 PutObject + DynamoDB PutItem; no SSM / Secrets Manager once warm.
    assert result["aws_calls_per_warm_invocation"] == 3.0


def test_bench_human_output_names_the_metrics() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.1", "--warm-invocations", "5"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "validations/s" in proc.stdout and "AWS calls per warm invocation: 3" in proc.stdout


HARDENING = Path(__file__).resolve().parent.parent / "hardening_bench.py"


def test_hardening_bench_json_reports_no_card_number_anywhere_and_every_reused_id_refused() -> None:
    """The card-number and idempotency half (the fault half is
    test_fault_injection.py's, run in full by `npm run bench`)."""
    proc = subprocess.run(
        [sys.executable, str(HARDENING), "--json", "--requests", "20", "--no-faults"], capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result = json.loads(proc.stdout)
    assert result["inputs_tried"] == 20 and result["statuses"] == {"200": 10, "400": 10}
    assert result["card_numbers_found"] == 0
    assert result["answered_409"] == result["reused_ids_with_changed_body"] == 10
    assert result["database"].startswith(("MariaDB", "in-memory double: no database"))
