#!/usr/bin/python3
"""shardlyn-api console benchmarks through the agent tunnel, with one real shardlyn-agent on the
process driver and an instance that echoes its input:
  - round trip: `send command` on the console WebSocket until its `console output` echo arrives
    (API -> tunnel -> agent -> supervisor -> the shell -> back), one command at a time;
  - flood: the instance prints N lines at once while V viewers watch; lines per second the API's
    journal takes (polled through /logs/history), what the viewers got (each is throttled on its
    own), and GET /health latency during the flood against before it.

Usage: tools/bench/shardlyn_console.py [--bin build/bin] [--commands 200] [--viewers 50] [--lines 20000]
"""
import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time

import requests
import websockets
from benchlib import free_port
from shardlyn_auth import start
from shardlyn_runtime import admin, wait_state

SCRIPT = ('echo Server ready; while read line; do case "$line" in '
          'flood*) n=${line#flood }; i=0; while [ $i -lt $n ]; do echo "line $i"; i=$((i+1)); done;; '
          '*) echo "echo: $line";; esac; done')
ECHO = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "bench-echo"},
        "spec": {"command": ["/bin/sh", "-c", SCRIPT], "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}},
                 "stopTimeout": "2s", "startup": {"done": ["Server ready"], "timeout": "20s"},
                 "restartPolicy": {"mode": "never"}}}


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def running_instance(binary_dir, base, session, tmp):
    token = session.post(base + "/v1/nodes/register-token", json={"name": "bench"}).json()["token"]
    data = os.path.join(tmp, "agent")
    env = dict(os.environ, DATA_DIR=data, AGENT_DRIVER="process", SHARDLYN_API_URL=base,
               SHARDLYN_REGISTER_TOKEN=token, LOG_LEVEL="warn", AGENT_METRICS_PORT=str(free_port()))
    agent = subprocess.Popen([os.path.join(binary_dir, "shardlyn-agent")], env=env, stdout=subprocess.DEVNULL)
    for _ in range(3000):
        if os.path.exists(os.path.join(data, "credentials.json")):
            break
        time.sleep(0.01)
    with open(os.path.join(data, "credentials.json")) as f:
        node = json.load(f)["node_id"]
    workload = session.post(base + "/v1/workloads", json=ECHO).json()["id"]
    iid = session.post(base + "/v1/instances", json={"workload_id": workload, "name": "b", "node_id": node}).json()["id"]
    session.post(f"{base}/v1/instances/{iid}/start").raise_for_status()
    wait_state(base, session, iid, "running")
    return agent, iid


async def viewer(url, headers):
    ws = await websockets.connect(url, extra_headers=headers, max_size=None)
    while json.loads(await ws.recv())["event"] != "auth success":
        pass
    return ws


async def round_trips(url, headers, count):
    ws = await viewer(url, headers)
    times = []
    for i in range(count + 1):
        text = f"rt {i}"
        begin = time.perf_counter()
        await ws.send(json.dumps({"event": "send command", "args": [text]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["event"] == "console output" and frame["args"] == [f"echo: {text}"]:
                break
            if frame["event"] == "error":  # the console is attaching: try again
                await asyncio.sleep(0.2)
                begin = time.perf_counter()
                await ws.send(json.dumps({"event": "send command", "args": [text]}))
        if i:  # the first one opens the channel
            times.append((time.perf_counter() - begin) * 1000)
    await ws.close()
    return times


async def count_frames(ws, stop, tally):
    """Counts frames by event until `stop` is set and the socket has been quiet for a second."""
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
        except asyncio.TimeoutError:
            if stop.is_set():
                return
            continue
        except websockets.ConnectionClosed:
            return
        tally[frame["event"]] = tally.get(frame["event"], 0) + 1


def health_latencies(base, seconds, done=None):
    """GET /health one at a time for `seconds`, or until `done` is set."""
    out, end = [], time.perf_counter() + seconds
    with requests.Session() as s:
        while time.perf_counter() < end and not (done and done.is_set()):
            begin = time.perf_counter()
            s.get(base + "/health").raise_for_status()
            out.append((time.perf_counter() - begin) * 1000)
    return out


async def flood(base, session, iid, url, headers, viewers, lines):
    sockets = [await viewer(url, headers) for _ in range(viewers)]
    tallies = [{} for _ in sockets]
    stop = asyncio.Event()
    readers = [asyncio.create_task(count_frames(ws, stop, t)) for ws, t in zip(sockets, tallies)]
    history = f"{base}/v1/instances/{iid}/logs/history"
    start_seq = session.get(history, params={"limit": 1}).json()["last_seq"]
    health, flooded = {}, threading.Event()
    probe = threading.Thread(target=lambda: health.update(during=health_latencies(base, 60, flooded)))
    begin = time.perf_counter()
    probe.start()
    await sockets[0].send(json.dumps({"event": "send command", "args": [f"flood {lines}"]}))
    while session.get(history, params={"limit": 1}).json()["last_seq"] < start_seq + lines:
        await asyncio.sleep(0.02)
    took = time.perf_counter() - begin
    flooded.set()
    await asyncio.to_thread(probe.join)
    stop.set()
    await asyncio.gather(*readers)
    for ws in sockets:
        await ws.close()
    return took, tallies, health["during"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--commands", type=int, default=200)
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--lines", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(os.path.join(args.bin, "shardlyn-api"), tmp,
                           {"SHARDLYN_CONSOLE_RATE_LIMIT": "100000/min:100000", "SHARDLYN_CONSOLE_MAX_PER_CALLER": "1000"})
        agent, iid = None, None
        try:
            session = admin(base)
            agent, iid = running_instance(args.bin, base, session, tmp)
            url = base.replace("http://", "ws://") + f"/v1/instances/{iid}/console"
            headers = {"Authorization": session.headers["Authorization"]}
            times = asyncio.run(round_trips(url, headers, args.commands))
            print(f"console round trip (send command -> echo), {len(times)} commands: "
                  f"p50 {pct(times, 0.5):.2f} ms, p99 {pct(times, 0.99):.2f} ms, max {max(times):.2f} ms")
            before = health_latencies(base, 3)
            took, tallies, during = asyncio.run(flood(base, session, iid, url, headers, args.viewers, args.lines))
            got = [t.get("console output", 0) for t in tallies]
            print(f"flood of {args.lines} lines with {args.viewers} viewers: journal took them in {took:.2f} s "
                  f"({args.lines / took:.0f} lines/s); per viewer {min(got)}..{max(got)} lines shown "
                  f"(median {statistics.median(got):.0f}), {sum(1 for t in tallies if t.get('throttled'))} told "
                  f"'throttled'")
            print(f"GET /health one at a time ({len(during)} during the flood): before p50 {pct(before, 0.5):.2f} ms p99 {pct(before, 0.99):.2f} ms; "
                  f"during the flood p50 {pct(during, 0.5):.2f} ms p99 {pct(during, 0.99):.2f} ms")
        finally:
            if iid:  # instances outlive their agent: stop it first
                session.post(f"{base}/v1/instances/{iid}/kill")
                wait_state(base, session, iid, "stopped")
            if agent:
                agent.terminate()
                agent.wait(timeout=30)
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
