"""The transaction validator behind API Gateway (HTTP API, payload format 2.0).

POST /transactions: 400 lists every field error; 200 carries the decision;
a repeated transaction id gets the first decision back for the same request
and 409 for a different one (tap/fingerprint.py); 503 when a
dependency is down, or too slow for the invocation's time budget
(tap/budget.py), so that the client may retry with the same id, safely,
instead of getting API Gateway's 500 for a timed-out function.
GET /health: dependency reachability within HEALTH_BUDGET_SECONDS (tap/health.py).
Responses never contain a stack trace or the card number.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tap import aws, db, env, fingerprint, health
from tap.audit import AuditWriter
from tap.budget import Budget
from tap.db_settings import DbParameterNames, DbSettings, load_db_settings
from tap.errors import DependencyError
from tap.fingerprint import Fingerprint
from tap.idempotency import IdempotencyStore
from tap.jsonlog import bound, get_logger
from tap.store import TransactionStore
from tap.ttl_cache import TTLCache
from tap.validation import Limits, Transaction, validate_body

logger = get_logger("validator")

JSON_HEADERS = {"content-type": "application/json", "cache-control": "no-store"}
# The validator has 10 s; a lock wait longer than this is better answered 503.
DB_LOCK_WAIT_SECONDS = 3
# Read above the lock wait, so that a lock wait ends in the server's clean
# error 1205 rather than in a socket timeout.
VALIDATOR_DB_TIMEOUTS = db.Timeouts(connect=2, read=4, write=4)
VALIDATOR_SERVICES = ("ssm", "secretsmanager", "dynamodb", "s3")


def response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def route_of(event: Mapping[str, Any]) -> tuple[str, str]:
    """(method, path). Prefers routeKey; a $default route falls back to the raw path.

    Reads the event defensively: only API Gateway's payload v2 shape counts,
    anything else (a string requestContext, a list for http...) reads as
    missing, which routes to 400/404, never to an exception."""
    context = _mapping(event.get("requestContext"))
    http = _mapping(context.get("http"))
    method = _text(http.get("method")).upper()
    route_key = _text(event.get("routeKey"))
    if route_key and route_key != "$default" and " " in route_key:
        key_method, key_path = route_key.split(" ", 1)
        return (method or key_method.upper(), key_path)
    path = _text(event.get("rawPath")) or _text(http.get("path"))
    stage = _text(context.get("stage"))
    if stage and stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return method, path


def malformed_event() -> dict[str, Any]:
    """What an invocation that API Gateway would not send gets."""
    return response(400, {"message": "malformed request: not an API Gateway HTTP API (payload 2.0) event"})


@dataclass
class ValidatorApp:
    limits: Limits
    environment: str
    settings: TTLCache[DbSettings]
    store: TransactionStore
    sessions: IdempotencyStore
    audit: AuditWriter
    clock: Callable[[], _dt.datetime]
    monotonic: Callable[[], float] = time.monotonic
    health_budget_seconds: float = health.HEALTH_BUDGET_SECONDS
    health_spawn: health.Spawn = health.in_daemon_thread

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        request_id = getattr(context, "aws_request_id", None)
        if not isinstance(request_id, str):
            request_id = None
        with bound(request_id=request_id):
            if not isinstance(event, Mapping):
                logger.warning("event is not an object", extra={"event_type": type(event).__name__})
                return malformed_event()
            method, path = route_of(event)
            try:
                if not method or not path:
                    logger.warning("event has no HTTP method or path")
                    return malformed_event()
                budget = Budget.from_context(context)
                if path == "/transactions":
                    if method != "POST":
                        return response(405, {"message": "method not allowed"}, {"allow": "POST"})
                    return self.post_transaction(event, request_id, budget)
                if path == "/health":
                    if method != "GET":
                        return response(405, {"message": "method not allowed"}, {"allow": "GET"})
                    return self.health(budget)
                return response(404, {"message": "not found"})
            except Exception:
                # The API boundary: log the trace, never return it.
                logger.exception("unhandled error", extra={"route": f"{method} {path}"[:200]})
                return response(500, {"message": "internal error"})

    def post_transaction(self, event: Mapping[str, Any], request_id: str | None, budget: Budget) -> dict[str, Any]:
        now = self.clock()
        # API Gateway sends a boolean; "false" or 1 is not one.
        result = validate_body(event.get("body"), event.get("isBase64Encoded") is True, now, self.limits)
        if not result.ok:
            logger.info(
                "transaction rejected as malformed",
                extra={"errors": [f"{e.field}:{e.code}" for e in result.errors]},
            )
            return response(400, {"message": "invalid transaction", "errors": [e.to_dict() for e in result.errors]})
        txn = result.transaction
        if txn is None:  # ok implies a transaction; keeps type checkers honest
            raise RuntimeError("validation passed without a transaction")
        with bound(transaction_id=txn.transaction_id, merchant_id=txn.merchant_id):
            try:
                # Every call below checks ``budget`` first (BudgetExhausted is
                # a DependencyError): better a 503 now than a function timeout.
                stored = self.sessions.get(txn.transaction_id, budget)
                if stored is not None and stored.fingerprint is not None:
                    if not fingerprint.same_request(stored.fingerprint, self._fingerprint(txn, stored.fingerprint, budget)):
                        return self._conflict()
                    logger.info("repeated transaction id; returning the first decision", extra={"decision": stored.decision.decision})
                    return response(200, {**stored.decision.to_dict(), "replayed": True})
                recorded = self.store.record(txn, self._fingerprint(txn, None, budget), budget)
                if recorded.conflict:
                    return self._conflict()
                # The audit write comes before the session-table write so that
                # a failure here (503) makes the client retry, and the retry,
                # finding the row in Aurora but not in DynamoDB, writes it again.
                self.audit.write(recorded.transaction, recorded.decision, request_id, budget)
                self.sessions.put_first(recorded, now, budget)
            except DependencyError as e:
                logger.error("dependency unavailable", extra={"dependency": e.dependency, "error": str(e)})
                return response(
                    503,
                    {
                        "message": "a dependency is unavailable, retry with the same transactionId",
                        "dependency": e.dependency,
                        "reason": e.public_reason,
                    },
                    {"retry-after": "1"},
                )
            final = recorded.decision
            # Aurora's primary key decides who was first, not the session item.
            replayed = recorded.replayed
            logger.info(
                "transaction decided",
                extra={
                    "decision": final.decision,
                    "reasons": [r.code for r in final.reasons],
                    "replayed": replayed,
                    "amount": str(txn.amount),
                    "currency": txn.currency,
                },
            )
            return response(200, {**final.to_dict(), "replayed": replayed})

    def _fingerprint(self, txn: Transaction, stored: Fingerprint | None, budget: Budget) -> Fingerprint:
        """This request's fingerprint. The card part needs the key, which comes
        with the database settings: read them (cached) only when the answer
        depends on it, so that a replay of an item without a card part still
        costs one GetItem on a cold container."""
        if stored is not None and stored.card is None:
            return fingerprint.of(txn, None)
        return fingerprint.of(txn, self.settings.get(budget).fingerprint_key)

    @staticmethod
    def _conflict() -> dict[str, Any]:
        logger.warning("transaction id reused for a different request; refused")
        return response(
            409,
            {
                "message": "transactionId was already used for a different request; a new transaction needs a new transactionId",
                "code": "idempotency_key_reused",
            },
        )

    def health(self, budget: Budget) -> dict[str, Any]:
        checks = health.run_checks(
            [
                [health.Check("config", self.settings.get), health.Check("database", self.store.ping)],
                [health.Check("sessionTable", self.sessions.probe)],
            ],
            budget,
            self.health_budget_seconds,
            self.monotonic,
            self.health_spawn,
        )
        healthy = all(c["status"] == "ok" for c in checks.values())
        if not healthy:
            logger.warning("health check failed", extra={"checks": checks})
        return response(200 if healthy else 503, {"status": "ok" if healthy else "degraded", "checks": checks})


def _default_connect(settings: DbSettings, timeouts: db.Timeouts) -> db.Connection:
    return db.connect(
        settings,
        tls=db.TlsConfig.from_env(),
        timeouts=timeouts,
        lock_wait_timeout=DB_LOCK_WAIT_SECONDS,
    )


def limits_from_env(environ: Mapping[str, str]) -> Limits:
    raw = env.get(env.MAX_AMOUNT, environ)
    try:
        max_amount = Decimal(raw)
    except InvalidOperation as e:
        raise env.ConfigError(f"{env.MAX_AMOUNT} must be a decimal string, got {raw!r}") from e
    if not max_amount.is_finite() or max_amount <= 0:
        raise env.ConfigError(f"{env.MAX_AMOUNT} must be positive, got {raw!r}")
    return Limits(max_amount=max_amount, clock_skew_seconds=env.get_int(env.CLOCK_SKEW_SECONDS, environ, minimum=1))


def build_app(
    environ: Mapping[str, str],
    *,
    connect_fn: Callable[[DbSettings, db.Timeouts], db.Connection] | None = None,
    clock: Callable[[], _dt.datetime] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    clients: Mapping[str, aws.Client] | None = None,
) -> ValidatorApp:
    """Wires the app from the environment; ``connect_fn`` defaults to TLS and
    gets VALIDATOR_DB_TIMEOUTS fitted to the invocation's budget; ``clients``
    (service name -> client) defaults to the module-level validator clients."""
    clients = clients or {s: aws.client(s, config=aws.VALIDATOR_CONFIG) for s in VALIDATOR_SERVICES}
    environment = env.get(env.TAP_ENVIRONMENT_SUFFIX, environ)
    names = DbParameterNames(
        endpoint=env.get(env.DB_WRITER_ENDPOINT_PARAM, environ),
        port=env.get(env.DB_PORT_PARAM, environ),
        secret_arn=env.get(env.DB_SECRET_ARN_PARAM, environ),
        fingerprint_key=environ.get(env.REQUEST_FINGERPRINT_KEY_PARAM, "").strip()
        or f"/tap/{environment}/db/request-fingerprint-key",
    )
    database = env.get(env.DB_NAME, environ)
    db.quote_identifier(database)  # fail at start-up, not on the first request
    settings = TTLCache(
        functools.partial(load_db_settings, clients["ssm"], clients["secretsmanager"], names, database),
        ttl_seconds=env.get_int(env.CONFIG_TTL_SECONDS, environ),
        clock=monotonic,
        dependency="ssm",
    )
    clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
    return ValidatorApp(
        limits=limits_from_env(environ),
        environment=environment,
        settings=settings,
        store=TransactionStore(
            db.ConnectionProvider(settings, connect_fn or _default_connect, VALIDATOR_DB_TIMEOUTS),
            clock=clock,
            monotonic=monotonic,
        ),
        sessions=IdempotencyStore(clients["dynamodb"], env.get(env.SESSION_TABLE_NAME, environ)),
        audit=AuditWriter(clients["s3"], env.get(env.AUDIT_BUCKET_NAME, environ), environment),
        clock=clock,
        monotonic=monotonic,
    )
