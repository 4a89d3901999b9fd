"""WebSocket echo: messages/s and p50/p99 round trip at 64 connections, libcommon's
WebSocket routes (ws-test-server /ws/echo) against npm ws's echo server measured in the same
run with the same load generator (node ws clients, tools/bench/ws_echo_load.cjs)."""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import cpu_seconds, free_port, rss_mib

HERE = Path(__file__).resolve().parent
NODE_ENV = dict(os.environ, NODE_PATH=str(HERE.parent / "node_modules"))


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def load(port, connections, seconds, size, pid, processes):
    cpu0 = cpu_seconds(pid)
    per = connections // processes
    runs = [subprocess.Popen(["node", str(HERE / "ws_echo_load.cjs"), f"ws://127.0.0.1:{port}/ws/echo", str(per),
                              str(seconds), str(size)], env=NODE_ENV, stdout=subprocess.PIPE, text=True)
            for _ in range(processes)]
    results = [json.loads(r.communicate(timeout=seconds + 60)[0].strip().splitlines()[-1]) for r in runs]
    return {"messages_per_s": sum(r["messages_per_s"] for r in results),
            "p50_ms": max(r["p50_ms"] for r in results), "p99_ms": max(r["p99_ms"] for r in results),
            "errors": sum(r["errors"] for r in results), "server_cpu_s": cpu_seconds(pid) - cpu0,
            "server_rss_mib": rss_mib(pid)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--load-processes", type=int, default=2)
    a = ap.parse_args()
    ours_port, ref_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": os.environ.get("PATH", "/usr/bin"), "DATA_DIR": data, "WS_TEST_PORT": str(ours_port),
               "LOG_LEVEL": "warn", "HTTP_THREADS": "1", "WS_TEST_RATE_LIMIT": "1000000/s"}
        ours = subprocess.Popen([str(Path(a.bin) / "ws-test-server")], env=env, stdout=subprocess.DEVNULL)
        ref = subprocess.Popen(["node", str(HERE / "ws_echo_server.cjs"), str(ref_port)], env=NODE_ENV,
                               stdout=subprocess.DEVNULL)
        try:
            wait_port(ours_port)
            wait_port(ref_port)
            results = {}
            for name, port, proc in (("libcommon", ours_port, ours), ("node ws", ref_port, ref)):
                results[name] = load(port, a.connections, a.seconds, a.size, proc.pid, a.load_processes)
        finally:
            for p in (ours, ref):
                p.terminate()
                p.wait(timeout=20)
    r, n = results["libcommon"], results["node ws"]
    print(f"## WebSocket echo, {a.connections} connections, {a.size}-byte messages, {a.seconds} s, "
          f"{a.load_processes} node ws load processes")
    print("| server | messages/s | p50 ms | p99 ms | errors | server CPU s | server RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, x in results.items():
        print(f"| {name} | {x['messages_per_s']:.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['errors']} | "
              f"{x['server_cpu_s']:.1f} | {x['server_rss_mib']:.1f} |")
    print(f"\nthroughput ratio libcommon / node ws: {r['messages_per_s'] / n['messages_per_s']:.2f}x; "
          f"p99 {r['p99_ms']:.2f} ms vs {n['p99_ms']:.2f} ms; server CPU per message "
          f"{1e6 * r['server_cpu_s'] / max(1, r['messages_per_s'] * a.seconds):.1f} us vs "
          f"{1e6 * n['server_cpu_s'] / max(1, n['messages_per_s'] * a.seconds):.1f} us")


if __name__ == "__main__":
    main()
