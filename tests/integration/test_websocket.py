"""WebSocket routes of libcommon, on its test server (tests/support/ws_test_server.cpp),
driven by independent clients: Debian's python3-websockets, node `ws`, and raw frames."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests
import websockets

import ws_helpers  # registers the test server with the launcher
from ws_helpers import RawWebSocket, fast_masked, frame, rss_bytes

NODE_MODULES = os.environ.get("PLATFORM_NODE_MODULES", "")
JS_DIR = os.path.join(os.path.dirname(__file__), "js")


def ws_url(server, path="/ws/echo"):
    return f"{'wss' if server.scheme == 'https' else 'ws'}://127.0.0.1:{server.port}{path}"


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def metric(server, name):
    text = requests.get(server.url("/metrics"), verify=server.verify, timeout=10).text
    m = re.search(rf"^ws_test_{name} (\S+)$", text, re.M)
    return float(m.group(1))


@pytest.fixture(scope="module")
def echo_server(module_launch):
    return module_launch("ws-test-server", env={"WS_TEST_MAX_MESSAGE_BYTES": "65536"})


def test_echo_text_binary_and_fragmented_with_python_websockets(echo_server):
    async def go():
        async with websockets.connect(ws_url(echo_server), max_size=None) as ws:
            await ws.send("héllo wörld")
            assert await ws.recv() == "héllo wörld"
            await ws.send(b"\x00\xff binary")
            got = await ws.recv()
            assert isinstance(got, bytes) and got == b"\x00\xff binary"
            # A message in three fragments comes back whole, as one message.
            await ws.send(["frag", "ment", "ed"])
            assert await ws.recv() == "fragmented"
            await ws.send([b"\x01", b"\x02\x03"])
            assert await ws.recv() == b"\x01\x02\x03"
            pong = await ws.ping(b"probe")
            await asyncio.wait_for(pong, 10)
            await ws.close(1000, "done")
            assert ws.close_code == 1000
    run(go())


def test_echo_with_node_ws(echo_server):
    out = subprocess.run(["node", os.path.join(JS_DIR, "ws_echo_check.cjs"), ws_url(echo_server)],
                         env={**os.environ, "NODE_PATH": NODE_MODULES}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"text": "from node", "binary": [1, 2, 3, 250], "fragmented": "abc",
                      "pong": True, "close_code": 1000}


def test_upgrade_answers_carry_the_pipeline_headers(echo_server):
    raw = RawWebSocket(echo_server.port, headers={"X-Request-Id": "ws-req-1"})
    assert raw.status == 101
    assert "X-Request-Id: ws-req-1" in raw.head
    assert "X-Content-Type-Options: nosniff" in raw.head
    raw.close()
    # A plain GET on a WebSocket route is told to upgrade.
    r = requests.get(echo_server.url("/ws/echo"), timeout=10)
    assert r.status_code == 426
    assert r.headers["Upgrade"] == "websocket"


def test_guard_applies_to_the_upgrade(echo_server):
    async def go():
        with pytest.raises(websockets.InvalidStatusCode) as e:
            async with websockets.connect(ws_url(echo_server, "/ws/private")):
                pass
        assert e.value.status_code == 401
        async with websockets.connect(ws_url(echo_server, "/ws/private"),
                                      extra_headers={"Authorization": "Bearer test-token"}) as ws:
            await ws.send("inside")
            assert await ws.recv() == "inside"
    run(go())


def test_foreign_origin_is_refused_unless_allowed(launch):
    server = launch("ws-test-server", env={"CORS_ALLOWED_ORIGINS": "https://app.example"})

    async def go():
        with pytest.raises(websockets.InvalidStatusCode) as e:
            async with websockets.connect(ws_url(server), origin="https://evil.example"):
                pass
        assert e.value.status_code == 403
        async with websockets.connect(ws_url(server), origin="https://app.example") as ws:
            await ws.send("ok")
            assert await ws.recv() == "ok"
        # The page served by the server itself (same origin) needs no configuration.
        async with websockets.connect(ws_url(server), origin=f"http://127.0.0.1:{server.port}") as ws:
            await ws.send("same")
            assert await ws.recv() == "same"
    run(go())


def test_rate_limit_and_connection_caps_apply_to_upgrades(launch):
    server = launch("ws-test-server", env={"WS_TEST_RATE_LIMIT": "3/min", "WS_TEST_MAX_PER_IP": "2"})

    async def go():
        a = await websockets.connect(ws_url(server))
        b = await websockets.connect(ws_url(server))
        with pytest.raises(websockets.InvalidStatusCode) as e:
            await websockets.connect(ws_url(server))
        assert e.value.status_code == 429  # third from this address: over the per-IP cap
        await a.close()
        await b.close()
        await asyncio.sleep(0.5)
        with pytest.raises(websockets.InvalidStatusCode) as e:
            await websockets.connect(ws_url(server))
        assert e.value.status_code == 429  # fourth upgrade this minute: over the service rate limit (3/min)
        assert e.value.headers.get("Retry-After")
    run(go())
    assert metric(server, "websocket_upgrades_refused") >= 1


def test_close_codes_1000_1007_1009_and_unmasked_frames(echo_server):
    # 1000: the server answers a normal close with the same code.
    raw = RawWebSocket(echo_server.port)
    raw.send(frame(8, (1000).to_bytes(2, "big") + b"bye"))
    assert raw.read_close() == 1000
    raw.close()
    # 1007: a text message that is not UTF-8.
    raw = RawWebSocket(echo_server.port)
    raw.send(frame(1, b"\xc3\x28 invalid"))
    assert raw.read_close() == 1007
    raw.close()
    # 1009: a message over the route's limit (64 KiB here), also when it arrives in fragments.
    raw = RawWebSocket(echo_server.port)
    raw.send(fast_masked(2, b"x" * 70000))
    assert raw.read_close() == 1009
    raw.close()
    raw = RawWebSocket(echo_server.port)
    raw.send(frame(2, b"y" * 40000, fin=False) + frame(0, b"y" * 40000, fin=True))
    assert raw.read_close() == 1009
    raw.close()
    # An unmasked client frame is a protocol error (1002).
    raw = RawWebSocket(echo_server.port)
    raw.send(frame(1, b"naked", mask=False))
    assert raw.read_close() == 1002
    raw.close()

    async def too_big_with_library():
        async with websockets.connect(ws_url(echo_server), max_size=None) as ws:
            await ws.send("z" * 100000)
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1009
    run(too_big_with_library())

    async def handler_close_code():
        async with websockets.connect(ws_url(echo_server, "/ws/control")) as ws:
            await ws.send("close 4321 custom reason")
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 4321 and ws.close_reason == "custom reason"
    run(handler_close_code())


def test_idle_connection_is_pinged_then_closed(launch):
    server = launch("ws-test-server", env={"WS_TEST_IDLE_TIMEOUT_S": "2"})
    raw = RawWebSocket(server.port, timeout=30)
    # A silent peer gets a ping at half the idle timeout...
    op, _ = raw.read_frame()
    assert op == 9
    # ... and, never answering, loses the connection (no close handshake to wait for).
    began = time.monotonic()
    with pytest.raises((ConnectionError, OSError)):
        while time.monotonic() - began < 30:
            raw.read_frame()
    raw.close()

    async def alive():  # a client that answers pings stays connected past the timeout
        async with websockets.connect(ws_url(server)) as ws:
            await asyncio.sleep(5)
            await ws.send("still here")
            assert await ws.recv() == "still here"
    run(alive())


def test_sigterm_closes_websockets_with_1001(launch):
    server = launch("ws-test-server")

    async def go():
        async with websockets.connect(ws_url(server)) as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            server.process.send_signal(signal.SIGTERM)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 20)
            assert ws.close_code == 1001
    run(go())
    assert server.process.wait(timeout=20) == 0


def test_reader_that_never_reads_is_dropped_while_100_others_keep_echoing(launch):
    server = launch("ws-test-server", env={"WS_TEST_SEND_QUEUE_BYTES": "1048576", "WS_TEST_RATE_LIMIT": "100000/s"})
    slow = RawWebSocket(server.port, timeout=60)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stop = threading.Event()

    def flood():  # sends echo requests, never reads the echoes
        payload = fast_masked(2, b"s" * 65536)
        try:
            while not stop.is_set():
                slow.send(payload)
        except OSError:
            pass  # the server dropped us

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()

    async def others():
        conns = [await websockets.connect(ws_url(server)) for _ in range(100)]
        worst = 0.0
        for rnd in range(20):
            async def one(i, ws):
                t = time.monotonic()
                await ws.send(f"{i}-{rnd}")
                assert await asyncio.wait_for(ws.recv(), 10) == f"{i}-{rnd}"  # generous bound
                return time.monotonic() - t
            worst = max(worst, *await asyncio.gather(*(one(i, ws) for i, ws in enumerate(conns))))
        for ws in conns:
            await ws.close()
        return worst

    worst = run(others())
    deadline = time.monotonic() + 30
    while metric(server, "websocket_slow_readers_dropped") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    flooder.join(timeout=30)
    assert metric(server, "websocket_slow_readers_dropped") >= 1
    print(f"worst echo round trip of the 100 clients while the slow reader was being dropped: {worst * 1000:.1f} ms")
    # The slow connection is gone on the server's side (only the closed-by-peer ones remain).
    deadline = time.monotonic() + 30
    while metric(server, "websocket_open_connections") > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(server, "websocket_open_connections") == 0
    slow.close()


def test_1000_concurrent_connections_and_their_memory(launch):
    server = launch("ws-test-server", env={"WS_TEST_RATE_LIMIT": "100000/s"}, max_open_files=4096)
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    before = rss_bytes(server.process.pid)

    async def go():
        conns = []
        for _ in range(10):
            conns += await asyncio.gather(*(websockets.connect(ws_url(server)) for _ in range(100)))
        held = metric(server, "websocket_open_connections")
        during = rss_bytes(server.process.pid)

        async def echo(i, ws):
            await ws.send(f"m{i}")
            assert await asyncio.wait_for(ws.recv(), 30) == f"m{i}"
        await asyncio.gather(*(echo(i, ws) for i, ws in enumerate(conns)))
        after_echo = rss_bytes(server.process.pid)
        await asyncio.gather(*(ws.close() for ws in conns))
        return held, during, after_echo

    held, during, after_echo = run(go(), timeout=300)
    assert held == 1000
    growth = max(during, after_echo) - before
    per_conn = growth / 1000
    print(f"RSS before {before / 2**20:.1f} MiB, with 1000 connections {during / 2**20:.1f} MiB, "
          f"after one echo each {after_echo / 2**20:.1f} MiB: growth {growth / 2**20:.1f} MiB "
          f"({per_conn / 1024:.1f} KiB per connection)")
    assert growth < 200 * 2**20  # a bound far above the measured figure: catches a leak per message


def test_tls_with_certificate_verification(launch):
    server = launch("ws-test-server", env={"WS_TEST_TLS": "true"}, scheme="https")
    cert = str(server.cert_path)

    async def go():
        ctx = ssl.create_default_context(cafile=cert)
        async with websockets.connect(f"wss://localhost:{server.port}/ws/echo", ssl=ctx) as ws:
            await ws.send("secret")
            assert await ws.recv() == "secret"
        with pytest.raises(ssl.SSLCertVerificationError):
            async with websockets.connect(f"wss://localhost:{server.port}/ws/echo", ssl=ssl.create_default_context()):
                pass
    run(go())
    out = subprocess.run(["node", os.path.join(JS_DIR, "ws_echo_check.cjs"), f"wss://localhost:{server.port}/ws/echo",
                          cert], env={**os.environ, "NODE_PATH": NODE_MODULES}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["text"] == "from node"


class ClientProcess:
    """ws-test-client (common::WebSocketClient) with its event lines collected."""

    def __init__(self, *args):
        from conftest import binary
        self.proc = subprocess.Popen([str(binary("ws-test-client")), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(line) for line in list(self.lines)):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


def test_client_reconnects_after_the_server_restarts(launch):
    server = launch("ws-test-server")
    port = server.port
    client = ClientProcess("--url", f"ws://127.0.0.1:{port}/ws/echo", "--send", "hello",
                           "--header", "X-Request-Id:agent-1")
    try:
        assert client.wait_for(lambda l: l == "open 1")
        assert client.wait_for(lambda l: l == "message hello")
        server.stop()
        assert client.wait_for(lambda l: l.startswith("closed 1001"))
        time.sleep(1.0)  # a few failed attempts with backoff while the server is down
        launch("ws-test-server", port=port, data_dir=server.data_dir)
        assert client.wait_for(lambda l: l == "open 2", timeout=30)
        assert sum(1 for l in client.lines if l == "message hello") == 2
        assert any(l.startswith("closed 1006") for l in client.lines)  # the refused attempts
    finally:
        assert client.stop() == 0


def test_client_verifies_tls_against_a_pinned_ca(launch):
    server = launch("ws-test-server", env={"WS_TEST_TLS": "true"}, scheme="https")
    url = f"wss://localhost:{server.port}/ws/echo"
    pinned = ClientProcess("--url", url, "--ca-file", str(server.cert_path), "--send", "over tls")
    unpinned = ClientProcess("--url", url, "--send", "never")
    try:
        assert pinned.wait_for(lambda l: l == "message over tls")
        assert unpinned.wait_for(lambda l: l.startswith("closed 1006") and "verify failed" in l)
        assert not any(l.startswith("open") for l in unpinned.lines)
    finally:
        assert pinned.stop() == 0
        assert unpinned.stop() == 0
