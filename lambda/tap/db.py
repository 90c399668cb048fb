"""MySQL connections (Aurora MySQL in production, MariaDB in tests).

TLS is a required keyword of ``connect``: the handlers always pass
``TlsConfig(ca_bundle=...)`` (verify the chain against the RDS CA bundle and
the host name), and only tests pass ``tls=None`` explicitly. There is no
environment switch that could turn TLS off in production.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import pymysql
from pymysql.constants import ER

from tap import env
from tap.budget import MIN_DB_CONNECT_SECONDS, Budget
from tap.db_settings import DbSettings
from tap.errors import DependencyError
from tap.jsonlog import get_logger
from tap.transient import mysql_error_code
from tap.ttl_cache import TTLCache

logger = get_logger("db")

# A row as pymysql returns it: the column values, typed by the server.
Row = tuple[Any, ...]


class Cursor(Protocol):
    """What tap uses of a pymysql cursor (PyMySQL ships no types)."""

    def execute(self, query: str, args: object = None) -> object: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> Sequence[Row]: ...

    def __enter__(self) -> Cursor: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> object: ...


class Connection(Protocol):
    """What tap uses of a pymysql connection."""

    def cursor(self) -> Cursor: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def select_db(self, db: str) -> None: ...

    def ping(self, reconnect: bool = ...) -> object: ...

    def close(self) -> None: ...


def one_row(cur: Cursor) -> Row:
    """The row of a query that always returns one (an aggregate, GET_LOCK)."""
    row = cur.fetchone()
    if row is None:
        # Not a MySQLError: a bug, not an outage to retry.
        raise RuntimeError("the query returned no row")
    return row


# fullmatch: "$" with re.match would let "tap\n" through.
DATABASE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class TlsConfig:
    ca_bundle: str

    @classmethod
    def from_env(cls) -> TlsConfig:
        return cls(ca_bundle=env.get(env.DB_CA_BUNDLE))


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3
    read: float = 5
    write: float = 5

    @property
    def connect_worst_case(self) -> float:
        """A server that never accepts costs the connect timeout; one that
        accepts and never greets, the read timeout (pymysql reads the
        handshake under it)."""
        return self.connect + self.read

    def fitted(self, seconds: float) -> Timeouts:
        """These timeouts, scaled down together when need be so that opening
        a connection fits ``seconds``: pymysql fixes them per connection, so
        this is as close to per call as it gets."""
        if self.connect_worst_case <= seconds:
            return self
        factor = max(seconds, 0.0) / self.connect_worst_case
        return Timeouts(connect=self.connect * factor, read=self.read * factor, write=self.write * factor)


DEFAULT_TIMEOUTS = Timeouts()


def quote_identifier(name: str) -> str:
    if not DATABASE_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid database identifier {name!r}")
    return f"`{name}`"


def connect(
    settings: DbSettings,
    *,
    tls: TlsConfig | None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    database: str | bool | None = True,
    autocommit: bool = True,
    lock_wait_timeout: int | None = None,
) -> Connection:
    """Open a connection. ``database=True`` selects ``settings.database``,
    ``None``/``False`` selects none (the migrator creates it first)."""
    kwargs: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "user": settings.username,
        "password": settings.password,
        "charset": "utf8mb4",
        "connect_timeout": timeouts.connect,
        "read_timeout": timeouts.read,
        "write_timeout": timeouts.write,
        "autocommit": autocommit,
        # The daily-limit sum must see rows committed while we waited for the
        # merchant row lock; REPEATABLE READ would read an older snapshot.
        "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "program_name": "tap",
    }
    if database is True:
        kwargs["database"] = settings.database
    elif isinstance(database, str):
        kwargs["database"] = database
    if tls is not None:
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html
        if not os.path.isfile(tls.ca_bundle):
            raise DependencyError("database", f"CA bundle {tls.ca_bundle} is missing from the image")
        kwargs["ssl_ca"] = tls.ca_bundle
        kwargs["ssl_verify_cert"] = True
        kwargs["ssl_verify_identity"] = True
    conn: Connection = pymysql.connect(**kwargs)
    if lock_wait_timeout is not None:
        # InnoDB waits 50 s by default, longer than the validator may run.
        with conn.cursor() as cur:
            cur.execute("SET SESSION innodb_lock_wait_timeout = %s", (int(lock_wait_timeout),))
    return conn


class ConnectionProvider:
    """Keeps one connection per container and reconnects when it died.

    When the password was rotated the cached credentials fail with "access
    denied": the cache is dropped and the connection is tried once more with
    freshly read settings.

    Every step checks the caller's time budget first (tap/budget.py): a new
    connection gets ``timeouts`` fitted to what is left, and a round trip on
    an open one starts only when its read timeout fits (``require_round_trip``).
    The lock is held only within the request that took it (GET /health
    probes on connections of their own).
    """

    def __init__(
        self,
        settings: TTLCache[DbSettings],
        connect_fn: Callable[[DbSettings, Timeouts], Connection],
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ):
        self._settings = settings
        self._connect_fn = connect_fn
        self._timeouts = timeouts
        self._conn: Connection | None = None
        self._conn_timeouts: Timeouts | None = None
        self._lock = threading.Lock()

    def get(self, budget: Budget) -> Connection:
        with self._lock:
            if self._conn is not None and self._conn_timeouts is not None:
                if self._conn_timeouts.read < self._timeouts.fitted(budget.remaining()).read:
                    # Opened with timeouts cut short to fit an earlier, nearly
                    # spent budget; this one allows longer, so start afresh.
                    self._close_quietly()
                else:
                    budget.require("database", self._conn_timeouts.read)
                    try:
                        self._conn.ping(reconnect=False)
                        return self._conn
                    except pymysql.MySQLError:
                        logger.warning("cached database connection is dead; reconnecting")
                        self._close_quietly()
            self._conn, self._conn_timeouts = self._open(budget)
            return self._conn

    def require_round_trip(self, budget: Budget) -> None:
        """Before each statement on the connection ``get`` returned."""
        timeouts = self._conn_timeouts or self._timeouts
        budget.require("database", timeouts.read)

    def probe(self, budget: Budget, sql: str) -> None:
        """Runs ``sql`` on a connection of its own, closed afterwards. For
        GET /health, whose checks run in worker threads that may outlive the
        invocation (tap/health.py): the shared connection must never be used
        by two threads at once."""
        conn, timeouts = self._open(budget)
        try:
            budget.require("database", timeouts.read)
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
        except pymysql.MySQLError as e:
            logger.exception("database health query failed")
            raise DependencyError("database", "health query failed") from e
        finally:
            close_quietly(conn)

    def discard(self) -> None:
        """Forget the connection after an error left it in an unknown state.
        Closing it is enough: the server rolls back what it had open."""
        with self._lock:
            self._close_quietly()

    def _connect(self, budget: Budget) -> tuple[Connection, Timeouts]:
        settings = self._settings.get(budget)
        timeouts = self._timeouts.fitted(budget.remaining())
        budget.require("database", max(MIN_DB_CONNECT_SECONDS, timeouts.connect_worst_case))
        return self._connect_fn(settings, timeouts), timeouts

    def _open(self, budget: Budget) -> tuple[Connection, Timeouts]:
        try:
            return self._connect(budget)
        except (pymysql.MySQLError, OSError) as e:
            if mysql_error_code(e) != ER.ACCESS_DENIED_ERROR:
                logger.exception("could not connect to the database")
                raise DependencyError("database", "could not connect") from e
            logger.warning("database refused the cached credentials; re-reading the secret")
        self._settings.invalidate()
        try:
            return self._connect(budget)
        except (pymysql.MySQLError, OSError) as e:
            logger.exception("could not connect to the database with refreshed credentials")
            raise DependencyError("database", "could not connect") from e

    def _close_quietly(self) -> None:
        conn, self._conn, self._conn_timeouts = self._conn, None, None
        if conn is not None:
            close_quietly(conn)


def close_quietly(conn: Connection) -> None:
    try:
        conn.close()
    except pymysql.MySQLError:
        # Closing a dead socket can fail; the connection is gone either way.
        logger.debug("error while closing a dead connection", exc_info=True)
