#!/usr/bin/python3
"""Instructions per request of the manager's hot paths under callgrind (noise-free on a shared
machine): GET /health (the reference), heartbeats over AGENTS agents and threat batches of 100.

The manager runs under `valgrind --tool=callgrind` with plain HTTP; each path gets warm-up
requests, then `callgrind_control -z`, N requests on one keep-alive connection, and
`callgrind_control -d`; the dump's instruction total divided by N is printed per path. The
dumps stay in --out for callgrind_annotate.

Usage: tools/bench/manager_callgrind.py [--bin build/bin] [--agents 200] [--requests 1000]
       [--batches 40] [--out DIR]
"""
import argparse
import glob
import os
import re
import signal
import subprocess
import tempfile
import time

import requests
from benchlib import free_port

TOKEN = "b" * 40
HEARTBEAT = {"cpuUsage": 12.5, "memUsage": 40, "activeMonitors": 3, "threatCount": 0, "eventsProcessed": 10,
             "mode": "protection", "uptime": 3600}


def batch(tag, n):
    return {"threats": [{"event": {"id": f"cg-{tag}-{i}", "timestamp": "2026-11-22T12:00:00Z", "source": "bench",
                                   "severity": "medium", "category": "scan", "description": "bench",
                                   "metadata": {"sourceIP": f"198.51.100.{i % 250}"}},
                         "verdict": {"conclusion": "suspicious", "confidence": 60}} for i in range(n)]}


def measure(pid, out_dir, label, count, send):
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    for i in range(count):
        send(i)
    before = set(glob.glob(os.path.join(out_dir, "callgrind.out.*")))
    subprocess.run(["callgrind_control", "-d", label, str(pid)], check=True, capture_output=True)
    time.sleep(1)
    dumps = sorted(set(glob.glob(os.path.join(out_dir, "callgrind.out.*"))) - before)
    total = 0
    for d in dumps:  # one file per thread
        with open(d) as f:
            for line in f:
                m = re.match(r"(?:summary|totals): (\d+)", line)
                if m:
                    total += int(m.group(1))
                    break
    return total / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out_dir = args.out or tempfile.mkdtemp(prefix="manager-callgrind-")
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ, DATA_DIR=tmp, MANAGER_PORT=str(port), MANAGER_AUTH_TOKEN=TOKEN, LOG_LEVEL="warn",
                   MANAGER_TLS="off", MANAGER_RATE_LIMIT="100000000/min", MANAGER_AGENT_RATE_LIMIT="100000000/min",
                   WORKER_THREADS="4", HTTP_THREADS="1")
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                                 f"--callgrind-out-file={out_dir}/callgrind.out.%p",
                                 os.path.join(args.bin, "manager")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        try:
            for _ in range(3000):  # valgrind takes a while to load the binary
                try:
                    if s.get(base + "/health", timeout=5).ok:
                        break
                except requests.RequestException:
                    if proc.poll() is not None:
                        raise SystemExit("the manager exited under valgrind")
                    time.sleep(0.1)
            agents = []
            for i in range(args.agents):
                d = s.post(base + "/api/agents/register", json={"hostname": f"cg-{i}", "os": "linux",
                                                                "arch": "x86_64", "version": "1.0",
                                                                "machineId": f"m-{i}"}).json()["data"]
                agents.append((d["agentId"], d["agentToken"]))
            agent_session = requests.Session()

            def heartbeat(i):
                agent_id, token = agents[i % len(agents)]
                r = agent_session.post(f"{base}/api/agents/{agent_id}/heartbeat", json=HEARTBEAT,
                                       headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text

            def events(i, tag="m"):
                agent_id, token = agents[0]
                r = agent_session.post(f"{base}/api/agents/{agent_id}/events", json=batch(f"{tag}{i}", 100),
                                       headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 201, r.text

            for i in range(200):
                s.get(base + "/health")
                heartbeat(i)
            for i in range(5):
                events(i, "w")
            rows = [("GET /health", measure(proc.pid, out_dir, "health", args.requests,
                                            lambda i: s.get(base + "/health"))),
                    (f"heartbeat ({args.agents} agents)", measure(proc.pid, out_dir, "heartbeat", args.requests,
                                                                  heartbeat)),
                    ("threat batch of 100", measure(proc.pid, out_dir, "events", args.batches, events))]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    print("| request | instructions per request |")
    print("|---|---|")
    for label, n in rows:
        print(f"| {label} | {n:,.0f} |")
    print(f"\ncallgrind dumps: {out_dir}")


if __name__ == "__main__":
    main()
