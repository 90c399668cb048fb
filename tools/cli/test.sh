#!/usr/bin/env bash
# `npm test`: every check, failing if any fails. The Python checks (ruff, mypy, then pytest; one
# core) run while tsc and eslint (one core) run; jest then takes both cores. On the 2-core CI
# machine this keeps the whole run well under 2 minutes, instead of every step in a row. ruff
# and mypy (cached in lambda/.mypy_cache) take seconds, so they go before pytest in one job.
set -uo pipefail
cd "$(dirname "$0")/../.."

# Each step runs even when an earlier one failed, so one run shows every failure.
python_checks() {
  local status=0
  echo "> python3 -m ruff check lambda"
  python3 -m ruff check lambda || status=1
  echo "> python3 -m mypy --config-file lambda/pyproject.toml"
  python3 -m mypy --config-file lambda/pyproject.toml || status=1
  echo "> python3 -m pytest -q lambda/tests"
  npm run -s test:py || status=1
  return "$status"
}

py_log=$(mktemp)
trap 'rm -f "$py_log"' EXIT
python_checks >"$py_log" 2>&1 &
py_pid=$!

status=0
npm run -s typecheck || status=1
npm run -s lint || status=1

wait "$py_pid"
py_status=$?
cat "$py_log"
[ "$py_status" -eq 0 ] || status=1

npm run -s test:ts || status=1
if [ "$status" -ne 0 ]; then
  echo "npm test: FAILED (see the failing step above)" >&2
fi
exit "$status"
