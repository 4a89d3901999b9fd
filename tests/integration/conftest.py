"""Shared fixtures for the integration tests that drive the real service binaries.

`launch(name, env=..., args=...)` starts a binary on 127.0.0.1 with a free port and a
temporary DATA_DIR, waits (bounded) until GET /health answers and returns a `Server`. On
teardown every server still running gets SIGTERM and must exit by itself within a bounded
time; if it has to be killed with SIGKILL the test fails.

Binaries come from $PLATFORM_BIN_DIR (set by CTest), default /work/main/build/bin.
"""
from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

import pg_helpers

BIN_DIR = Path(os.environ.get("PLATFORM_BIN_DIR") or "/work/main/build/bin")
SOURCE_DIR = Path(os.environ.get("PLATFORM_SOURCE_DIR") or Path(__file__).resolve().parents[2])

# IP-to-country ranges (tor-geoipdb's data files, unpacked by tools/bootstrap-deps.sh).
GEOIP_FILES = (SOURCE_DIR / "tools" / "geoip" / "geoip", SOURCE_DIR / "tools" / "geoip" / "geoip6")

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 15.0  # SHUTDOWN_GRACE_S defaults to 10


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port_env: str
    metrics_prefix: str
    style: str  # "envelope" (Panguard) or "bare" (Shardlyn)
    database: str
    docs_path: str = "/docs"
    openapi_json: str = "/openapi.json"
    openapi_yaml: str | None = None


SERVICES = {
    "auth-server": ServiceSpec("auth-server", "AUTH_PORT", "auth_server", "envelope", "auth.db"),
    "manager": ServiceSpec("manager", "MANAGER_PORT", "manager", "envelope", "manager.db"),
    "threat-cloud": ServiceSpec("threat-cloud", "TC_PORT", "threat_cloud", "envelope", "threat-cloud.db"),
    "shardlyn-api": ServiceSpec("shardlyn-api", "SHARDLYN_PORT", "shardlyn", "bare", "shardlyn.db",
                                docs_path="/v1/docs", openapi_json="/v1/openapi.json",
                                openapi_yaml="/v1/openapi.yaml"),
    "shardlyn-agent": ServiceSpec("shardlyn-agent", "AGENT_METRICS_PORT", "shardlyn_agent", "bare", "agent.db"),
}
ALL_SERVICES = list(SERVICES)

# For servers shared by many tests: service-wide rate limits high enough never to interfere
# (the defaults are tested on servers of their own).
RELAXED_LIMITS = {"AUTH_RATE_LIMIT": "100000/min", "MANAGER_RATE_LIMIT": "100000/min",
                  "MANAGER_AGENT_RATE_LIMIT": "100000/min",
                  "SHARDLYN_RATE_LIMIT": "10000/s", "TC_RATE_LIMIT": "100000/min"}


def binary(name: str) -> Path:
    path = BIN_DIR / name
    if not path.exists():
        pytest.fail(f"binary {path} not found (build with ninja -C build, or set PLATFORM_BIN_DIR)")
    return path


def free_port() -> int:
    """A port that was free a moment ago: bind to 0 on 127.0.0.1, read it, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(data_dir: Path) -> dict:
    """A clean environment: nothing from the caller's shell leaks into a service's config."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    env["DATA_DIR"] = str(data_dir)
    env.setdefault("PATH", "/usr/bin:/bin")
    if GEOIP_FILES[0].exists():  # threat-cloud's IP ranges, unpacked by tools/bootstrap-deps.sh
        env["TC_GEOIP_FILE"] = ",".join(str(f) for f in GEOIP_FILES)
    return env


@dataclass
class Server:
    name: str
    spec: ServiceSpec
    port: int
    scheme: str
    process: subprocess.Popen
    data_dir: Path
    log_path: Path
    env: dict
    args: list = field(default_factory=list)
    ca_file: Path | None = None  # what to verify TLS against; default DATA_DIR/tls/cert.pem
    exit_code: int | None = None
    killed: bool = False

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def cert_path(self) -> Path:
        return self.ca_file or self.data_dir / "tls" / "cert.pem"

    @property
    def verify(self):
        """What requests should verify against: the generated certificate for TLS, else True."""
        return str(self.cert_path) if self.scheme == "https" else True

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 10)
        kw.setdefault("verify", self.verify)
        return requests.request(method, self.url(path), **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, then wait (bounded); SIGKILL only if it hangs (recorded in .killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.process.kill()
                self.process.wait(timeout=10)
        self.exit_code = self.process.returncode
        return self.exit_code


class Launcher:
    def __init__(self, tmp_factory):
        self._tmp = tmp_factory
        self.servers: list[Server] = []

    def data_dir(self, name: str) -> Path:
        return self._tmp.mktemp(name.replace("-", "_"))

    def start(self, name: str, env: dict | None = None, args=(), data_dir: Path | None = None,
              port: int | None = None, wait: bool = True, scheme: str | None = None,
              ca_file: Path | None = None, max_open_files: int | None = None) -> Server:
        spec = SERVICES[name]
        data_dir = Path(data_dir) if data_dir else self.data_dir(name)
        last_log = ""
        for attempt in range(3):  # a picked port can be taken by someone else before we bind it
            p = port or free_port()
            full_env = base_env(data_dir)
            full_env[spec.port_env] = str(p)
            if pg_helpers.POSTGRES and name in pg_helpers.PG_SERVICES:
                cluster = pg_helpers.cluster()
                full_env["DATABASE_URL"] = cluster.url(cluster.database_for(data_dir))
            full_env.update(env or {})
            if scheme is None:
                tls = name == "manager" and full_env.get("MANAGER_TLS", "self-signed") != "off"
                use_scheme = "https" if tls else "http"
            else:
                use_scheme = scheme
            log_path = data_dir.parent / f"{data_dir.name}-{name}-{attempt}-{int(time.time() * 1000)}.log"
            preexec = None
            if max_open_files:
                def preexec(n=max_open_files):
                    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([str(binary(name)), *args], env=full_env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        cwd=str(data_dir), preexec_fn=preexec)
            server = Server(name, spec, p, use_scheme, proc, data_dir, log_path, full_env, list(args),
                            ca_file=Path(ca_file) if ca_file else None)
            self.servers.append(server)
            if not wait:
                return server
            if wait_healthy(server):
                return server
            last_log = server.log_text()
            server.stop(timeout=5)
            if "cannot listen" in last_log and port is None:
                continue
            break
        pytest.fail(f"{name} did not answer GET /health within {START_TIMEOUT_S} s; log:\n{last_log[-4000:]}")

    def stop_all(self) -> list[str]:
        problems = []
        for s in self.servers:
            was_running = s.running()
            s.stop()
            if s.killed:
                problems.append(f"{s.name} (port {s.port}) ignored SIGTERM and had to be killed; log tail:\n"
                                f"{s.log_text()[-2000:]}")
            elif was_running and s.exit_code != 0:
                problems.append(f"{s.name} (port {s.port}) exited with {s.exit_code} after SIGTERM; log tail:\n"
                                f"{s.log_text()[-2000:]}")
        self.servers.clear()
        return problems


def wait_healthy(server: Server, timeout: float = START_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            verify = server.verify
            if server.scheme == "https" and not server.cert_path.exists():
                raise requests.ConnectionError("certificate not written yet")
            r = requests.get(server.url("/health"), timeout=2, verify=verify)
            if r.status_code == 200:
                body = r.json()
                body = body.get("data", body)
                # the answer must come from this process, not from whoever else took the port
                if body.get("service") == server.name and server.process.poll() is None:
                    return True
        except (requests.RequestException, ValueError, AttributeError):
            pass
        time.sleep(0.05)
    return False


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: reads or writes the SQLite file directly")


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL runs, tests marked sqlite_only (they read the SQLite file) are skipped."""
    if not pg_helpers.POSTGRES:
        return
    skip = pytest.mark.skip(reason="reads the SQLite file; this run uses PostgreSQL")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def launch(tmp_path_factory):
    """Factory: launch(name, env=None, args=(), data_dir=None) -> Server (function scope)."""
    launcher = Launcher(tmp_path_factory)
    yield launcher.start
    problems = launcher.stop_all()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture(scope="module")
def module_launch(tmp_path_factory):
    """Same as `launch`, but servers live for the whole module (for read-only checks)."""
    launcher = Launcher(tmp_path_factory)
    yield launcher.start
    problems = launcher.stop_all()
    if problems:
        pytest.fail("\n".join(problems))


# ---------------------------------------------------------------------------------------------
# Raw HTTP/1.1 over a socket, for what a high-level client hides (pipelining, framing, closes).


class RawResponse:
    def __init__(self, version: str, status: int, reason: str, headers: list, body: bytes):
        self.version, self.status, self.reason, self.header_list, self.body = version, status, reason, headers, body

    def header(self, name: str):
        for k, v in self.header_list:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<RawResponse {self.version} {self.status} {self.reason} {len(self.body)} bytes>"


class RawConnection:
    def __init__(self, host: str, port: int, timeout: float = 10.0, sock: socket.socket | None = None):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_response(self, head: bool = False) -> RawResponse:
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed before a complete response header; got {self.buf[:200]!r}")
            if len(self.buf) > 1 << 20:
                raise ValueError("response header too large")
        head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version in ("HTTP/1.0", "HTTP/1.1"), f"bad status line {lines[0]!r}"
        status = int(status)
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep and name and name == name.strip(), f"bad header line {line!r}"
            headers.append((name, value.strip()))
        resp = RawResponse(version, status, reason[0] if reason else "", headers, b"")
        if head or 100 <= status < 200 or status in (204, 304):
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    if not self._fill():
                        raise EOFError("connection closed inside a chunked body")
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    if not self._fill():
                        raise EOFError("connection closed inside a chunk")
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
            resp.body = body
        elif cl is not None:
            n = int(cl)
            while len(self.buf) < n:
                if not self._fill():
                    raise EOFError(f"connection closed after {len(self.buf)} of {n} body bytes")
            resp.body, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def closed_by_peer(self, timeout: float = 3.0) -> bool:
        """True when the server closes the connection (EOF, reset or TLS close) within `timeout`
        with no further bytes; False when it stays open that long."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                try:
                    chunk = self.sock.recv(65536)
                except (socket.timeout, TimeoutError):
                    return False
                except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                    return True
                if not chunk:
                    return True
                self.buf += chunk
                raise AssertionError(f"unexpected bytes from server: {chunk[:200]!r}")
        finally:
            try:
                self.sock.settimeout(self.timeout)
            except OSError:
                pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def raw(server: Server, timeout: float = 10.0) -> RawConnection:
    """A raw connection to the server; TLS (verified against its certificate) when it serves https."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if server.scheme == "https":
        ctx = ssl.create_default_context(cafile=str(server.cert_path))
        sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    return RawConnection("127.0.0.1", server.port, timeout=timeout, sock=sock)


def assert_error_style(server_or_spec, body, status=None):
    """The service's error style: Panguard {"ok":false,"error","code"}; Shardlyn {"error"}."""
    spec = server_or_spec.spec if isinstance(server_or_spec, Server) else server_or_spec
    if isinstance(body, (bytes, str)):
        import json
        body = json.loads(body)
    assert isinstance(body, dict), body
    if spec.style == "envelope":
        assert body.get("ok") is False, body
        assert isinstance(body.get("error"), str) and body["error"], body
        assert isinstance(body.get("code"), str) and body["code"], body
        assert set(body) == {"ok", "error", "code"}, body
    else:
        assert isinstance(body.get("error"), str) and body["error"], body
        assert set(body) == {"error"}, body


def kill_9_during_writes(server, writers, acknowledged, enough: int = 400) -> None:
    """Runs `writers` (callables taking a stop Event) on threads, kills the server with SIGKILL
    once `acknowledged` holds `enough` entries (or after 60 s on a loaded machine), and waits for
    the writers and the server to end."""
    import threading
    stop = threading.Event()
    threads = [threading.Thread(target=w, args=(stop,)) for w in writers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(acknowledged) < enough:
        time.sleep(0.01)
    os.kill(server.process.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=20)
    server.process.wait(timeout=10)
    assert len(acknowledged) >= enough
