"""The protocol peer for the agent tests: a small server on 127.0.0.1 that speaks the API side of
the agent <-> API protocol (../shared/spec/shardlyn-runtime.md, "Agent <-> API"; message shapes of
libs/agentproto) until shardlyn-api has its node routes.

- POST /v1/agent/register: a one-time register token -> {node_id, agent_token, heartbeat_interval_s}
- POST /v1/agent/heartbeat, POST /v1/agent/events (X-Agent-Token, else 401)
- GET /v1/agent/desired?since=V: long-poll (held up to `hold_s`), 304 when nothing newer
- GET /v1/agent/tunnel: the WebSocket (RFC 6455 framing by python3-websockets' sans-I/O
  ServerConnection over http.server's socket); the test opens channels and sends requests.

Everything it receives is recorded for the test to inspect, and every document the agent sends,
like every one the peer answers with, is checked against proto-schemas/agent/v1.schema.json
(python3-jsonschema); what does not conform lands in `violations`.
"""
from __future__ import annotations

import json
import queue
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jsonschema
from websockets.frames import Opcode
from websockets.server import ServerConnection


SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "proto-schemas" / "agent" / "v1.schema.json").read_text())
VIOLATIONS: list[str] = []


def check(document, definition: str):
    """Records (in VIOLATIONS) a document that does not conform to the protocol's schema."""
    schema = {"$ref": f"#/$defs/{definition}", "$defs": SCHEMA["$defs"]}
    for error in jsonschema.Draft202012Validator(schema).iter_errors(document):
        VIOLATIONS.append(f"{definition} at /{'/'.join(map(str, error.absolute_path))}: {error.message}")


class Tunnel:
    """The API's end of one agent tunnel."""

    def __init__(self, sock: socket.socket, conn: ServerConnection, token: str):
        self.sock, self.conn, self.token = sock, conn, token
        self.frames: "queue.Queue[dict]" = queue.Queue()
        self.lock = threading.Lock()
        self.closed = threading.Event()

    def flush(self):
        for chunk in self.conn.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def send(self, frame: dict):
        with self.lock:
            self.conn.send_text(json.dumps(frame).encode())
            self.flush()

    def next(self, timeout: float = 10.0, match=None) -> dict:
        """The next frame from the agent (the first that `match` accepts)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching tunnel frame from the agent")
            frame = self.frames.get(timeout=left)
            if match is None or match(frame):
                return frame

    def run(self):
        message = b""
        try:
            while not self.closed.is_set():
                data = self.sock.recv(65536)
                with self.lock:
                    if data:
                        self.conn.receive_data(data)
                    else:
                        self.conn.receive_eof()
                    events = self.conn.events_received()
                    self.flush()  # pongs and close replies
                for ev in events:
                    if ev.opcode == Opcode.TEXT:
                        message = ev.data
                    elif ev.opcode == Opcode.CONT:
                        message += ev.data
                    else:
                        continue
                    if ev.fin:  # a message may come in fragments
                        frame = json.loads(message)
                        check(frame, "TunnelFrame")
                        self.frames.put(frame)
                if not data or self.conn.close_code is not None:
                    break
        except OSError:
            pass
        finally:
            self.closed.set()
            try:
                self.sock.close()
            except OSError:
                pass


class AgentApiPeer:
    def __init__(self, port: int = 0, heartbeat_interval_s: int = 1, hold_s: float = 2.0):
        self.register_tokens: set[str] = set()
        self.agent_tokens: dict[str, str] = {}  # token -> node id
        self.registrations: list[dict] = []
        self.heartbeats: list[dict] = []
        self.events: list[dict] = []
        self.polls: list[int] = []
        self.fail_events = 0  # answer the next n event batches with 503 (an API in trouble)
        self.refused_events: list[dict] = []
        self.tunnels: list[Tunnel] = []
        self.heartbeat_interval_s = heartbeat_interval_s
        self.hold_s = hold_s
        self.desired = {"v": 1, "version": 0, "instances": []}
        self.changed = threading.Condition()
        self._port = port
        self.server: ThreadingHTTPServer | None = None

    # --- what the test drives ---------------------------------------------------------------
    def issue_register_token(self) -> str:
        token = "reg_" + secrets.token_urlsafe(16)
        self.register_tokens.add(token)
        return token

    def set_desired(self, instances: list[dict]):
        with self.changed:
            self.desired = {"v": 1, "version": self.desired["version"] + 1, "instances": instances}
            self.changed.notify_all()

    def latest_tunnel(self, timeout: float = 15.0, after: int = 0) -> Tunnel:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = [t for t in self.tunnels[after:] if not t.closed.is_set()]
            if live:
                return live[-1]
            time.sleep(0.05)
        raise TimeoutError("the agent did not open its tunnel")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status: int, body=None, headers=(), schema=None):
                if schema:
                    check(body, schema)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def document(self, schema: str):
                n = int(self.headers.get("Content-Length", "0"))
                doc = json.loads(self.rfile.read(n))
                check(doc, schema)
                return doc

            def node(self):
                return peer.agent_tokens.get(self.headers.get("X-Agent-Token", ""))

            def do_POST(self):
                if self.path == "/v1/agent/register":
                    doc = self.document("RegisterRequest")
                    if doc.get("token") not in peer.register_tokens:
                        return self.reply(401, {"error": "register token unknown, used or expired"})
                    peer.register_tokens.discard(doc["token"])  # single use
                    peer.registrations.append(doc)
                    node_id = "node-" + secrets.token_hex(4)
                    token = "agt_" + secrets.token_urlsafe(24)
                    peer.agent_tokens[token] = node_id
                    return self.reply(200, {"v": 1, "node_id": node_id, "agent_token": token,
                                            "heartbeat_interval_s": peer.heartbeat_interval_s}, schema="RegisterResponse")
                if self.node() is None:
                    return self.reply(401, {"error": "X-Agent-Token missing or not accepted"})
                if self.path == "/v1/agent/heartbeat":
                    peer.heartbeats.append(self.document("Heartbeat"))
                    return self.reply(200, {"v": 1, "desired_version": peer.desired["version"],
                                            "heartbeat_interval_s": peer.heartbeat_interval_s}, schema="HeartbeatResponse")
                if self.path == "/v1/agent/events" and peer.fail_events > 0:
                    peer.fail_events -= 1
                    peer.refused_events.extend(self.document("EventBatch")["events"])
                    return self.reply(503, {"error": "events store unavailable"})
                if self.path == "/v1/agent/events":
                    peer.events.extend(self.document("EventBatch")["events"])
                    return self.reply(204)
                self.reply(404, {"error": "no such route"})

            def do_GET(self):
                url = urlparse(self.path)
                if self.node() is None:
                    return self.reply(401, {"error": "X-Agent-Token missing or not accepted"})
                if url.path == "/v1/agent/desired":
                    since = int(parse_qs(url.query).get("since", ["0"])[0])
                    peer.polls.append(since)
                    with peer.changed:
                        peer.changed.wait_for(lambda: peer.desired["version"] > since, timeout=peer.hold_s)
                        desired = peer.desired
                    if desired["version"] <= since:
                        return self.reply(304, headers=[("ETag", f'"{since}"')])
                    return self.reply(200, desired, headers=[("ETag", f'"{desired["version"]}"')], schema="DesiredState")
                if url.path == "/v1/agent/tunnel":
                    return self.tunnel()
                self.reply(404, {"error": "no such route"})

            def tunnel(self):
                conn = ServerConnection()
                head = self.requestline + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()) + "\r\n"
                conn.receive_data(head.encode("latin-1"))
                request = conn.events_received()[0]
                conn.send_response(conn.accept(request))
                sock = self.connection
                for chunk in conn.data_to_send():
                    sock.sendall(chunk)
                t = Tunnel(sock, conn, self.headers.get("X-Agent-Token", ""))
                peer.tunnels.append(t)
                t.run()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Like an API restart: the listener goes and every tunnel is cut."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for t in self.tunnels:
            t.closed.set()
            try:
                t.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.changed:
            self.changed.notify_all()
