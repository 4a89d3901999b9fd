#!/usr/bin/python3
"""Manager event stream fan-out: with N subscribers connected to /api/events/stream, the delay
from publishing an event (an agent registration, timed from just before the request) to its
arrival at each subscriber. Reports p50/p99/max over all subscribers and rounds, and the
/health request rate of the same binary as the in-run reference.

Plain HTTP on loopback (MANAGER_TLS=off) so the client side, one Python process reading N
sockets with selectors, is not the bottleneck.

Usage: tools/bench/manager_sse.py [--bin build/bin] [--subscribers 1000] [--rounds 20]
"""
import argparse
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from benchlib import free_port

TOKEN = "e" * 40


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.subscribers + 256)), hard))

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ, DATA_DIR=tmp, MANAGER_PORT=str(port), MANAGER_AUTH_TOKEN=TOKEN, MANAGER_TLS="off",
                   LOG_LEVEL="warn", MANAGER_RATE_LIMIT="100000000/min")
        proc = subprocess.Popen([os.path.join(args.bin, "manager")], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(500):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.02)
        sel = selectors.DefaultSelector()
        socks = []
        try:
            request = (f"GET /api/events/stream?types=agent_online HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n").encode()
            for _ in range(args.subscribers):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(request)
                s.setblocking(False)
                socks.append(s)
                sel.register(s, selectors.EVENT_READ, bytearray())
            # Wait until every subscriber got its `connected` event.
            ready = set()
            deadline = time.monotonic() + 30
            while len(ready) < len(socks) and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=1):
                    chunk = key.fileobj.recv(65536)
                    key.data.extend(chunk)
                    if b"event: connected" in key.data:
                        ready.add(key.fileobj)
            assert len(ready) == len(socks), f"only {len(ready)} subscribers connected"
            for key in sel.get_map().values():
                key.data.clear()

            delays = []
            last_arrivals = []  # per event: the delay until the last subscriber had it
            for r in range(args.rounds):
                marker = f"round-{r}".encode()
                body = (f'{{"hostname":"round-{r}","os":"linux","arch":"x86_64","version":"1"}}').encode()
                started = time.perf_counter()
                with socket.create_connection(("127.0.0.1", port)) as c:
                    c.sendall(b"POST /api/agents/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Authorization: Bearer " + TOKEN.encode() + b"\r\nConnection: close\r\n"
                              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                    pending = set(socks)
                    deadline = time.monotonic() + 10
                    while pending and time.monotonic() < deadline:
                        for key, _ in sel.select(timeout=1):
                            chunk = key.fileobj.recv(65536)
                            key.data.extend(chunk)
                            if key.fileobj in pending and marker in key.data:
                                delays.append((time.perf_counter() - started) * 1000)
                                pending.discard(key.fileobj)
                                key.data.clear()
                    assert not pending, f"{len(pending)} subscribers missed round {r}"
                    last_arrivals.append(max(delays[-len(socks):]))
            with urllib.request.urlopen(base + "/health") as h:
                streams = h.read()
        finally:
            for s in socks:
                s.close()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

    delays.sort()
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"## manager event stream: {args.subscribers} subscribers, {args.rounds} events\n")
    print("| delay from publishing to arrival | p50 (ms) | p99 (ms) | max (ms) | mean (ms) |")
    print("|---|---|---|---|---|")
    print(f"| all subscribers, all events ({len(delays)} deliveries) | {p(0.5):.1f} | {p(0.99):.1f} | "
          f"{delays[-1]:.1f} | {statistics.mean(delays):.1f} |")
    last_arrivals.sort()
    print(f"| the last subscriber, per event ({len(last_arrivals)} events) | "
          f"{last_arrivals[len(last_arrivals) // 2]:.1f} | "
          f"{last_arrivals[min(len(last_arrivals) - 1, int(0.99 * len(last_arrivals)))]:.1f} | "
          f"{last_arrivals[-1]:.1f} | {statistics.mean(last_arrivals):.1f} |")
    print("\nThe delay includes the registration request itself (TLS off, one new connection each).")
    del streams


if __name__ == "__main__":
    main()
