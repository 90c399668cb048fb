"""Fault-injection servers on loopback, for test_fault_injection.py and
hardening_bench.py. Every server binds 127.0.0.1 only, accepts a bounded
number of connections, and stops by itself after ``lifetime`` seconds at the
latest (a daemon timer), so that a test that forgets to stop one leaves
nothing running.

* HangingServer: accepts, reads, never answers (an overloaded or wedged
  dependency: costs the client its read timeout).
* Blackhole: never accepts; its accept queue is filled at start so that every
  further SYN is dropped (a dead host or a firewall: costs the connect timeout).
* FakeAwsEndpoint: speaks just enough HTTP for the validator's calls (SSM
  GetParameters, Secrets Manager GetSecretValue, DynamoDB GetItem/PutItem,
  S3 PutObject) and answers each scenario's calls ok, slowly or never,
  according to ``modes[(scenario, service)]``. The scenario is found in the
  request itself (table, bucket, parameter and secret names carry it), so
  one endpoint and one client per service serve every scenario at once.
* StallingProxy: forwards TCP to a real server (MariaDB) and can be told to
  delay every chunk or to stop forwarding, for a database that turns slow or
  hangs under an open connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_LIFETIME_SECONDS = 120.0
MAX_CONNECTIONS = 512
SCENARIO = re.compile(r"scn[0-9a-z]{2,12}")


class _Stoppable:
    def __init__(self, lifetime: float) -> None:
        self._stopped = threading.Event()
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    def _start_timer(self) -> None:
        self._timer.start()

    @property
    def stopped(self) -> threading.Event:
        return self._stopped

    def stop(self) -> None:
        self._stopped.set()
        self._timer.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class HangingServer(_Stoppable):
    def __init__(self, lifetime: float = DEFAULT_LIFETIME_SECONDS) -> None:
        super().__init__(lifetime)
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="fault-hang", daemon=True).start()
        self._start_timer()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with self._lock:
                if len(self._sockets) >= MAX_CONNECTIONS:
                    conn.close()
                    continue
                self._sockets.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def stop(self) -> None:
        super().stop()
        with self._lock:
            for conn in self._sockets:
                conn.close()
        self._listener.close()


class Blackhole(_Stoppable):
    def __init__(self, lifetime: float = DEFAULT_LIFETIME_SECONDS) -> None:
        super().__init__(lifetime)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            # Non-blocking: the connect is left pending on purpose, to fill the backlog.
            with contextlib.suppress(BlockingIOError):
                filler.connect((LOOPBACK, self.port))
            self._fillers.append(filler)
        time.sleep(0.05)
        self._start_timer()

    def stop(self) -> None:
        super().stop()
        for filler in self._fillers:
            filler.close()
        self._listener.close()


def probe_blackhole(port: int, timeout: float = 0.3) -> bool:
    """True when a connect to ``port`` times out (the kernel drops the SYN)."""
    with socket.socket() as s:
        s.settimeout(timeout)
        try:
            s.connect((LOOPBACK, port))
        except TimeoutError:
            return True
        except OSError:
            return False
        return False


# --- AWS -----------------------------------------------------------------------------


def _aws_answer(
    endpoint: FakeAwsEndpoint, service: str, target: str, body: dict[str, Any], scenario: str
) -> tuple[int, dict[str, str], bytes]:
    if service == "s3":
        return 200, {"ETag": '"fault"'}, b""
    if target.endswith("GetParameters"):
        names = body.get("Names", [])
        values = {
            "writer-endpoint": LOOPBACK,
            "port": str(endpoint.db_ports.get(scenario, 3306)),
            "secret-arn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{scenario}-AbCdEf",
        }
        params = [
            {"Name": n, "Type": "String", "Value": values[n.rsplit("/", 1)[-1]], "Version": 1}
            for n in names
            if n.rsplit("/", 1)[-1] in values
        ]
        invalid = [n for n in names if n.rsplit("/", 1)[-1] not in values]
        return 200, {}, json.dumps({"Parameters": params, "InvalidParameters": invalid}).encode()
    if target.endswith("GetSecretValue"):
        return 200, {}, json.dumps({"ARN": body["SecretId"], "Name": scenario, "SecretString": endpoint.secret_json}).encode()
    if target.endswith("GetItem"):
        return 200, {}, b"{}"
    if target.endswith("PutItem"):
        return 200, {}, b"{}"
    return 400, {}, json.dumps({"__type": "UnknownOperationException"}).encode()


class FakeAwsEndpoint(_Stoppable):
    """``modes[(scenario, service)]`` is ("ok", 0), ("slow", seconds) or ("hang", 0)."""

    def __init__(self, lifetime: float = DEFAULT_LIFETIME_SECONDS, *, username: str = "tap", password: str = "tap") -> None:
        super().__init__(lifetime)
        self.secret_json = json.dumps({"username": username, "password": password})
        # The database port SSM hands each scenario (the real server, or a fault server).
        self.db_ports: dict[str, int] = {}
        self.modes: dict[tuple[str, str], tuple[str, float]] = {}
        self.requests: list[tuple[str, str, str, bytes]] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self) -> None:
                raw = self._body()
                service = "s3" if self.command == "PUT" else _service_of(self.headers.get("X-Amz-Target", ""))
                found = SCENARIO.search(self.path + raw.decode("utf-8", "replace"))
                scenario = found.group() if found else ""
                with endpoint._lock:
                    endpoint.requests.append((scenario, service, self.headers.get("X-Amz-Target", self.command), raw))
                kind, seconds = endpoint.modes.get((scenario, service), ("ok", 0.0))
                if kind == "hang":
                    endpoint.stopped.wait()
                    self.close_connection = True
                    return
                if kind == "slow":
                    endpoint.stopped.wait(seconds)
                try:
                    body = json.loads(raw or b"{}") if service != "s3" else {}
                except ValueError:
                    body = {}
                status, headers, payload = _aws_answer(endpoint, service, self.headers.get("X-Amz-Target", ""), body, scenario)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _serve
            do_PUT = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Server((LOOPBACK, 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fault-aws", daemon=True).start()
        self._start_timer()

    def stop(self) -> None:
        super().stop()
        self._server.shutdown()
        self._server.server_close()


def _service_of(target: str) -> str:
    if target.startswith("AmazonSSM."):
        return "ssm"
    if target.startswith("secretsmanager."):
        return "secretsmanager"
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    return "unknown"


# --- database ----------------------------------------------------------------------------


class StallingProxy(_Stoppable):
    """TCP proxy to ``target``; ``mode`` is "ok", ("slow", seconds per chunk) or "hang"."""

    def __init__(self, target: tuple[str, int], lifetime: float = DEFAULT_LIFETIME_SECONDS) -> None:
        super().__init__(lifetime)
        self.target = target
        self.mode: Any = "ok"
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()
        self._start_timer()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            with self._lock:
                if len(self._sockets) >= MAX_CONNECTIONS:
                    client.close()
                    server.close()
                    continue
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            while self.mode == "hang" and not self.stopped.is_set():
                self.stopped.wait(0.05)
            if isinstance(self.mode, tuple):
                self.stopped.wait(self.mode[1])
            try:
                sink.sendall(data)
            except OSError:
                return

    def stop(self) -> None:
        super().stop()
        with self._lock:
            for s in self._sockets:
                s.close()
        self._listener.close()


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


# --- the validator under faults ------------------------------------------------------------

# The order in which a new transaction calls its dependencies.
DEPENDENCIES = ("dynamodb", "ssm", "secretsmanager", "database", "s3")
SLOW_AWS_SECONDS = 1.5  # answers, but only within its client's read timeout
SLOW_DB_SECONDS_PER_CHUNK = 0.25


class Scenario:
    def __init__(self, name: str, faults: dict[str, Any], *, warm: bool = False, health_first: bool = False) -> None:
        self.name = name
        self.faults = faults  # dependency -> "hang" | "blackhole" | "slow"
        self.warm = warm
        self.health_first = health_first
        self.id = "scn" + hashlib.sha256(name.encode()).hexdigest()[:8]
        self.status: int | None = None
        self.body: dict[str, Any] = {}
        self.seconds = 0.0
        self.error: BaseException | None = None

    @property
    def expected_status(self) -> int:
        if self.health_first and not self.faults:
            return 200
        reached = [d for d in DEPENDENCIES if not (self.warm and d in ("ssm", "secretsmanager"))]
        return 503 if any(self.faults.get(d) in ("hang", "blackhole") for d in reached) else 200


def fault_matrix() -> list[Scenario]:
    """Each dependency in turn (hanging cold and warm, blackholed cold), each
    pair (one slow then one hanging, both hanging), and a POST right after a
    GET /health whose settings load was left hanging."""
    result: list[Scenario] = []
    for dep in DEPENDENCIES:
        result.append(Scenario(f"{dep} hangs (cold)", {dep: "hang"}))
        result.append(Scenario(f"{dep} hangs (warm)", {dep: "hang"}, warm=True))
        result.append(Scenario(f"{dep} never accepts (cold)", {dep: "blackhole"}))
    for i, first in enumerate(DEPENDENCIES):
        for second in DEPENDENCIES[i + 1 :]:
            result.append(Scenario(f"{first} slow, then {second} hangs", {first: "slow", second: "hang"}))
            result.append(Scenario(f"{first} and {second} hang", {first: "hang", second: "hang"}))
    result.append(Scenario("POST right after a /health whose SSM call hangs", {}, health_first=True))
    return result


def run_fault_matrix(
    scenarios: list[Scenario],
    *,
    ok_connect: Callable[[Any, Any], Any],
    database: str,
    function_timeout: float = 10.0,
    lifetime: float = 90.0,
) -> list[Scenario]:
    """Runs every scenario at once (each in its own thread, a container of
    its own) against the validator with its production clients' Config and
    timeouts, and records each POST's status and answer time in real time."""
    import boto3
    from botocore.config import Config

    import support
    from tap import api, aws, db, env
    from validator_harness import ENVIRON, NOW, http_event, transaction_body

    with FakeAwsEndpoint(lifetime) as endpoint, HangingServer(lifetime) as hanging, Blackhole(lifetime) as blackhole:
        slow_db = StallingProxy((LOOPBACK, 3306), lifetime)
        slow_db.mode = ("slow", SLOW_DB_SECONDS_PER_CHUNK)
        proxies = [slow_db]
        # Many scenarios share a client: a pool big enough that none waits for a connection.
        config = aws.VALIDATOR_CONFIG.merge(Config(max_pool_connections=128, s3={"addressing_style": "path"}))
        clients = {s: boto3.client(s, region_name="us-east-1", config=config, endpoint_url=endpoint.url) for s in api.VALIDATOR_SERVICES}
        dead = {
            s: boto3.client(s, region_name="us-east-1", config=config, endpoint_url=f"http://{LOOPBACK}:{blackhole.port}")
            for s in api.VALIDATOR_SERVICES
        }
        fault_ports = {hanging.port, blackhole.port}

        def connect(settings: Any, timeouts: Any) -> Any:
            if settings.port in fault_ports or settings.port in {p.port for p in proxies}:
                return db.connect(settings, tls=None, timeouts=timeouts, lock_wait_timeout=3)
            return ok_connect(settings, timeouts)

        def prepare(scn: Scenario) -> tuple[Any, Any]:
            environ = dict(ENVIRON)
            for name in (env.DB_WRITER_ENDPOINT_PARAM, env.DB_READER_ENDPOINT_PARAM, env.DB_PORT_PARAM, env.DB_SECRET_ARN_PARAM):
                environ[name] = environ[name].replace("/tap/test/", f"/tap/{scn.id}/")
            environ.update({env.SESSION_TABLE_NAME: f"sessions-{scn.id}", env.AUDIT_BUCKET_NAME: f"audit-{scn.id}", env.DB_NAME: database})
            chosen = {s: (dead[s] if scn.faults.get(s) == "blackhole" else clients[s]) for s in api.VALIDATOR_SERVICES}
            proxy = None
            if scn.faults.get("database") == "hang" and scn.warm:
                proxy = StallingProxy((LOOPBACK, 3306), lifetime)
                proxies.append(proxy)
                endpoint.db_ports[scn.id] = proxy.port
            elif scn.faults.get("database") == "hang":
                endpoint.db_ports[scn.id] = hanging.port
            elif scn.faults.get("database") == "blackhole":
                endpoint.db_ports[scn.id] = blackhole.port
            elif scn.faults.get("database") == "slow":
                endpoint.db_ports[scn.id] = slow_db.port
            app = api.build_app(environ, connect_fn=connect, clock=lambda: NOW, clients=chosen)
            return app, proxy

        def apply_faults(scn: Scenario, proxy: Any) -> None:
            for dep, fault in scn.faults.items():
                if dep != "database" and fault in ("hang", "slow"):
                    endpoint.modes[(scn.id, dep)] = (fault, SLOW_AWS_SECONDS)
            if proxy is not None:
                proxy.mode = "hang"

        def post(app: Any) -> dict[str, Any]:
            body = transaction_body(amount="0.01")
            return app.handle(http_event("POST", "/transactions", body), support.FakeContext(function_timeout))

        prepared = [(scn, *prepare(scn)) for scn in scenarios]
        start = threading.Barrier(len(prepared))

        def run(scn: Scenario, app: Any, proxy: Any) -> None:
            try:
                start.wait(30)
                if scn.warm:
                    warm = post(app)
                    if warm["statusCode"] != 200:
                        raise AssertionError(f"{scn.name}: the warm-up invocation failed: {warm['body']}")
                apply_faults(scn, proxy)
                if scn.health_first:
                    endpoint.modes[(scn.id, "ssm")] = ("hang", 0.0)
                    app.handle(http_event("GET", "/health"), support.FakeContext(function_timeout))
                    endpoint.modes[(scn.id, "ssm")] = ("ok", 0.0)
                result, scn.seconds = timed(lambda: post(app))
                scn.status, scn.body = result["statusCode"], json.loads(result["body"])
            except BaseException as e:  # reported by the caller, per scenario
                scn.error = e

        threads = [threading.Thread(target=run, args=item, name=f"scenario-{item[0].id}") for item in prepared]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(lifetime)
        for proxy in proxies:
            proxy.stop()
    return scenarios
