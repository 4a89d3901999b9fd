#!/usr/bin/python3
"""shardlyn-api console benchmarks with one real shardlyn-agent (process driver):

- round trip through the tunnel: `send command` on the console WebSocket -> its echo as
  `console output`, one at a time, p50/p99;
- lines per second one instance prints (`seq 1 N` to its stdout) while 50 viewers watch, each
  reading as fast as it can: time from the command to the flood's last line in the API's journal
  (read through /logs/history), how many of the lines the journal kept (a console that falls
  more than 8 MiB behind the program is dropped by the supervisor and reattached from its
  1,000-line ring: the program is never held back, the node's console.log keeps all), and the latency of GET /health measured from another client before
  and during the flood (the API's other requests must not slow down);
- the agent's resident memory with 100 running instances (and the supervisors' sum).

Usage: tools/bench/shardlyn_console.py [--bin build/bin] [--trips 200] [--lines 200000]
       [--viewers 50] [--instances 100] [--printer seq|shell]
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
from benchlib import free_port, rss_mib
from shardlyn_auth import start
from shardlyn_runtime import admin, wait_state

# `flood N`: as fast as the machine prints (seq); `loop N`: a shell loop, the pace of a busy
# server's log (about 30,000 lines/s here).
SCRIPT = ('echo Server ready; while read l; do case "$l" in flood*) seq 1 "${l#flood }";; '
          'loop*) n=${l#loop }; i=1; while [ $i -le $n ]; do echo "$i"; i=$((i+1)); done;; '
          '*) echo "echo: $l";; esac; done')
ECHO = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "echo"},
        "spec": {"command": ["/bin/sh", "-c", SCRIPT], "resources": {"requests": {"cpu": 0.01, "memory": "1Mi"}},
                 "stopTimeout": "2s", "startup": {"done": ["Server ready"], "timeout": "20s"},
                 "restartPolicy": {"mode": "never"}}}
SLEEPER = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "sleeper"},
           "spec": {"command": ["/bin/sh", "-c", "echo up; exec sleep 3600"],
                    "resources": {"requests": {"cpu": 0.01, "memory": "1Mi"}},
                    "stopTimeout": "2s", "startup": {"done": ["up"], "timeout": "60s"},
                    "restartPolicy": {"mode": "never"}}}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def viewer(url, token):
    ws = await websockets.connect(url, extra_headers={"Authorization": f"Bearer {token}"}, max_size=None)
    while json.loads(await ws.recv())["event"] != "auth success":
        pass
    return ws


async def round_trips(url, token, trips):
    ws = await viewer(url, token)
    times = []
    for i in range(trips):
        begin = time.perf_counter()
        await ws.send(json.dumps({"event": "send command", "args": [f"trip {i}"]}))
        while True:
            f = json.loads(await ws.recv())
            if f["event"] == "console output" and f["args"] == [f"echo: trip {i}"]:
                break
        times.append((time.perf_counter() - begin) * 1000)
    await ws.close()
    return times


def health_latencies(base, stop, out):
    session = requests.Session()
    while not stop.is_set():
        begin = time.perf_counter()
        session.get(base + "/health", timeout=5)
        out.append((time.perf_counter() - begin) * 1000)
        time.sleep(0.005)


def last_line(base, session, iid):
    page = session.get(f"{base}/v1/instances/{iid}/logs/history", params={"since": 0, "limit": 1}).json()
    last = page.get("last_seq", 0)
    tail = session.get(f"{base}/v1/instances/{iid}/logs/history", params={"since": max(0, last - 1), "limit": 1}).json()
    return last, (tail["items"][0]["line"] if tail.get("items") else "")


async def drain(ws, counter):
    try:
        while True:
            await ws.recv()
            counter[0] += 1
    except (websockets.ConnectionClosed, asyncio.CancelledError):
        pass


async def flood(base, session, url, token, iid, lines, viewers, printer):
    sockets = [await viewer(url, token) for _ in range(viewers)]
    received = [0]
    readers = [asyncio.create_task(drain(ws, received)) for ws in sockets]
    before = last_line(base, session, iid)[0]
    begin = time.perf_counter()
    command = "flood" if printer == "seq" else "loop"
    await sockets[0].send(json.dumps({"event": "send command", "args": [f"{command} {lines}"]}))
    loop = asyncio.get_running_loop()
    while (await loop.run_in_executor(None, last_line, base, session, iid))[1] != str(lines):
        if time.perf_counter() - begin > 120:
            raise SystemExit(f"the flood's last line did not reach the journal within 120 s: "
                             f"{last_line(base, session, iid)}")
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - begin
    kept = last_line(base, session, iid)[0] - before
    for t in readers:
        t.cancel()
    for ws in sockets:
        await ws.close()
    return seconds, kept, received[0]


def agent_rss(base, session, agent, data, count):
    workload = session.post(base + "/v1/workloads", json=SLEEPER).json()["id"]
    with open(os.path.join(data, "credentials.json")) as f:
        node = json.load(f)["node_id"]
    ids = [session.post(base + "/v1/instances", json={"workload_id": workload, "name": f"s{i}", "node_id": node}).json()["id"]
           for i in range(count)]
    idle = rss_mib(agent.pid)
    for iid in ids:
        wait_state(base, session, iid, "stopped", 60)
        session.post(f"{base}/v1/instances/{iid}/start").raise_for_status()
    for iid in ids:
        wait_state(base, session, iid, "running", 120)
    time.sleep(2)
    supervisors = 0.0
    for state in os.listdir(os.path.join(data, "supervisors")):
        with open(os.path.join(data, "supervisors", state, "state.json")) as f:
            supervisors += rss_mib(json.load(f)["pid"])
    return idle, rss_mib(agent.pid), supervisors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--trips", type=int, default=200)
    ap.add_argument("--lines", type=int, default=200000)
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--printer", choices=["seq", "shell"], default="seq",
                    help="how the flood is printed: seq (as fast as possible) or a shell loop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(os.path.join(args.bin, "shardlyn-api"), tmp, {"SHARDLYN_AGENT_API_URL": "http://x"})
        agent = None
        try:
            session = admin(base)
            token = session.headers["Authorization"].split()[1]
            register = session.post(base + "/v1/nodes/register-token", json={"name": "bench"}).json()["token"]
            data = os.path.join(tmp, "agent")
            env = dict(os.environ, DATA_DIR=data, AGENT_DRIVER="process", SHARDLYN_API_URL=base,
                       SHARDLYN_REGISTER_TOKEN=register, LOG_LEVEL="warn", AGENT_METRICS_PORT=str(free_port()))
            agent = subprocess.Popen([os.path.join(args.bin, "shardlyn-agent")], env=env, stdout=subprocess.DEVNULL)
            for _ in range(3000):
                if os.path.exists(os.path.join(data, "credentials.json")):
                    break
                time.sleep(0.01)
            with open(os.path.join(data, "credentials.json")) as f:
                node = json.load(f)["node_id"]
            workload = session.post(base + "/v1/workloads", json=ECHO).json()["id"]
            iid = session.post(base + "/v1/instances", json={"workload_id": workload, "name": "echo", "node_id": node}).json()["id"]
            session.post(f"{base}/v1/instances/{iid}/start").raise_for_status()
            wait_state(base, session, iid, "running")
            url = base.replace("http://", "ws://") + f"/v1/instances/{iid}/console"

            trips = asyncio.run(round_trips(url, token, args.trips))
            print(f"console round trip (send command -> echo), {len(trips)} in a row: "
                  f"p50 {pct(trips, 50):.1f} ms, p99 {pct(trips, 99):.1f} ms, max {max(trips):.1f} ms")

            idle, during, stop = [], [], threading.Event()
            t = threading.Thread(target=health_latencies, args=(base, stop, idle))
            t.start()
            time.sleep(3)
            stop.set()
            t.join()
            stop.clear()
            t = threading.Thread(target=health_latencies, args=(base, stop, during))
            t.start()
            seconds, kept, frames = asyncio.run(flood(base, session, url, token, iid, args.lines, args.viewers, args.printer))
            stop.set()
            t.join()
            print(f"flood of {args.lines} lines ({args.printer}) with {args.viewers} viewers: the last one in the journal after "
                  f"{seconds:.2f} s ({args.lines / seconds:.0f} lines/s printed); the journal kept {kept} of them; "
                  f"frames the viewers read: {frames} (throttled viewers get a notice, not every line)")
            print(f"GET /health from another client: before p50 {pct(idle, 50):.2f} ms p99 {pct(idle, 99):.2f} ms "
                  f"({len(idle)} requests); during the flood p50 {pct(during, 50):.2f} ms "
                  f"p99 {pct(during, 99):.2f} ms ({len(during)} requests)")

            before, with_instances, supervisors = agent_rss(base, session, agent, data, args.instances)
            print(f"shardlyn-agent RSS: {before:.1f} MiB with 1 instance, {with_instances:.1f} MiB with "
                  f"{args.instances + 1} running; their supervisors {supervisors:.1f} MiB together")
        finally:
            if agent:
                agent.terminate()
                agent.wait(timeout=30)
                for state in os.listdir(os.path.join(tmp, "agent", "supervisors")):
                    try:
                        with open(os.path.join(tmp, "agent", "supervisors", state, "state.json")) as f:
                            os.killpg(json.load(f)["pid"], 9)
                    except (OSError, ValueError, KeyError):
                        pass
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
