"""Streamed request bodies (Route::body_sink) on libcommon's test server: an upload of any
size in bounded memory, the route's body limit answered mid-stream, a body into a file."""
from __future__ import annotations

import hashlib
import os
import select
import socket
import threading
import time

import pytest
import requests

import ws_helpers  # registers the test server with the launcher
from ws_helpers import rss_bytes

MiB = 1 << 20
# 256 MiB in `make test`; `make test-large-upload` runs the 1 GiB upload (about 50 s here).
UPLOAD_MIB = int(os.environ.get("STREAMED_UPLOAD_MIB", "256"))


def pattern_blocks(total_mib: int):
    """Deterministic, not compressible-looking 1 MiB blocks."""
    seed = hashlib.sha256(b"block").digest() * (MiB // 32)
    for i in range(total_mib):
        yield i.to_bytes(8, "big") + seed[8:]


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, RuntimeError):
                return
            time.sleep(0.02)


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("ws-test-server")


def test_large_upload_costs_bounded_memory(server):
    # Warm up the paths once so the baseline includes what any request allocates.
    requests.post(server.url("/upload/hash"), data=b"warm-up", timeout=30)
    before = rss_bytes(server.process.pid)
    sampler = RssSampler(server.process.pid)
    sampler.start()
    digest = hashlib.sha256()

    def body():
        for block in pattern_blocks(UPLOAD_MIB):
            digest.update(block)
            yield block

    began = time.monotonic()
    r = requests.post(server.url("/upload/hash"), data=body(), timeout=600)  # chunked
    elapsed = time.monotonic() - began
    sampler.done.set()
    sampler.join()
    assert r.status_code == 200, r.text
    assert r.json() == {"bytes": UPLOAD_MIB * MiB, "sha256": digest.hexdigest()}
    growth = max(sampler.peak, rss_bytes(server.process.pid)) - before
    print(f"{UPLOAD_MIB} MiB streamed in {elapsed:.1f} s; server RSS {before / MiB:.1f} MiB -> peak "
          f"{sampler.peak / MiB:.1f} MiB (growth {growth / MiB:.2f} MiB)")
    assert growth < 16 * MiB


def test_body_limit_answers_413_mid_stream_without_reading_the_rest(server):
    # /upload/small allows 1 MiB; a chunked body (no Content-Length to refuse up front) of up
    # to 256 MiB is sent until the answer arrives.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"POST /upload/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % (64 * 1024) + b"z" * (64 * 1024) + b"\r\n"
    sent = 0
    answer = b""
    for _ in range(4096):  # at most 256 MiB
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(chunk)
        except OSError:
            break  # the server closed its side after answering
        sent += 64 * 1024
    deadline = time.monotonic() + 30
    while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()
    print(f"413 after {sent / MiB:.1f} MiB sent of a body that would have been 256 MiB")
    assert sent < 32 * MiB  # answered near the limit (plus socket buffers), not at the end

    # A declared Content-Length over the limit is refused before any body byte.
    r = requests.post(server.url("/upload/small"), data=b"q" * (MiB + 1), timeout=30)
    assert r.status_code == 413
    # Within the limit the route answers normally, also for an empty body.
    r = requests.post(server.url("/upload/small"), data=b"ok", timeout=30)
    assert r.json() == {"bytes": 2, "sha256": hashlib.sha256(b"ok").hexdigest()}
    r = requests.post(server.url("/upload/small"), data=b"", timeout=30)
    assert r.json()["bytes"] == 0


def test_body_streamed_into_a_file(server):
    data = b"".join(pattern_blocks(8))
    r = requests.put(server.url("/upload/file/blob.bin"), data=data, timeout=60,
                     headers={"Expect": "100-continue"})
    assert r.status_code == 201, r.text
    stored = server.data_dir / "uploads" / "blob.bin"
    assert r.json() == {"bytes": len(data), "path": str(stored)}
    assert stored.read_bytes() == data
    assert not (server.data_dir / "uploads" / "blob.bin.part").exists()
    # A refused upload (bad name) is answered without reading the body, and leaves no file.
    r = requests.put(server.url("/upload/file/.hidden"), data=b"x" * 1000, timeout=30)
    assert r.status_code == 400
    assert r.headers.get("Connection", "").lower() == "close"
    assert not (server.data_dir / "uploads" / ".hidden.part").exists()
