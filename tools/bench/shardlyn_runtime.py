#!/usr/bin/python3
"""shardlyn-api runtime benchmarks: heartbeats per second from simulated agents (each its own
node and agent token, registered through POST /v1/agent/register), against the same binary's
GET /health as the in-run reference; then, with one real shardlyn-agent on the process driver,
the time from POST /v1/instances/{id}/start to `running` for a trivial workload (a shell that
prints its done line at once), observed by polling GET /v1/instances/{id} every 10 ms.

Usage: tools/bench/shardlyn_runtime.py [--bin build/bin] [--agents 1000] [--duration 5]
       [--rounds 3] [--starts 10]
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import tempfile
import time

import requests
from benchlib import free_port, print_rows, run_rounds
from shardlyn_auth import start

HERE = os.path.dirname(os.path.abspath(__file__))
REGISTER = {"v": 1, "hostname": "sim", "os": "linux", "arch": "x86_64", "cpu_count": 4,
            "memory_bytes": 8 << 30, "disk_bytes": 100 << 30, "agent_version": "bench", "drivers": ["process"]}
TRIVIAL = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "trivial"},
           "spec": {"command": ["/bin/sh", "-c", "echo ready; exec sleep 3600"],
                    "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}},
                    "stopTimeout": "2s", "startup": {"done": ["ready"], "timeout": "20s"},
                    "restartPolicy": {"mode": "never"}}}


def admin(base):
    body = {"email": "bench@example.com", "password": "bench password", "name": "Bench"}
    requests.post(base + "/v1/auth/bootstrap", json=body).raise_for_status()
    access = requests.post(base + "/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access.json()['access_token']}"
    return session


def register_agents(base, session, count):
    def one(i):
        token = session.post(base + "/v1/nodes/register-token", json={"name": f"sim-{i}"}).json()["token"]
        r = requests.post(base + "/v1/agent/register", json=dict(REGISTER, token=token, hostname=f"sim-{i}"))
        r.raise_for_status()
        return r.json()["agent_token"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def wait_state(base, session, iid, state, limit_s=30.0):
    end = time.perf_counter() + limit_s
    while time.perf_counter() < end:
        if session.get(f"{base}/v1/instances/{iid}").json()["state"] == state:
            return time.perf_counter()
        time.sleep(0.01)
    raise SystemExit(f"instance {iid} not {state} within {limit_s} s")


def start_to_running(binary_dir, base, session, tmp, starts):
    token = session.post(base + "/v1/nodes/register-token", json={"name": "real"}).json()["token"]
    data = os.path.join(tmp, "agent")
    env = dict(os.environ, DATA_DIR=data, AGENT_DRIVER="process", SHARDLYN_API_URL=base,
               SHARDLYN_REGISTER_TOKEN=token, LOG_LEVEL="warn", AGENT_METRICS_PORT=str(free_port()))
    agent = subprocess.Popen([os.path.join(binary_dir, "shardlyn-agent")], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(3000):
            if os.path.exists(os.path.join(data, "credentials.json")):
                break
            time.sleep(0.01)
        workload = session.post(base + "/v1/workloads", json=TRIVIAL).json()["id"]
        with open(os.path.join(data, "credentials.json")) as f:
            node = json.load(f)["node_id"]
        iid = session.post(base + "/v1/instances", json={"workload_id": workload, "name": "t", "node_id": node}).json()["id"]
        wait_state(base, session, iid, "stopped")
        times = []
        for _ in range(starts):
            begin = time.perf_counter()
            session.post(f"{base}/v1/instances/{iid}/start").raise_for_status()
            times.append((wait_state(base, session, iid, "running") - begin) * 1000)
            session.post(f"{base}/v1/instances/{iid}/stop").raise_for_status()
            wait_state(base, session, iid, "stopped")
        session.delete(f"{base}/v1/instances/{iid}")
        return times
    finally:
        agent.terminate()
        agent.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--starts", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(os.path.join(args.bin, "shardlyn-api"), tmp,
                           {"SHARDLYN_AGENT_RATE_LIMIT": "100000000/s:100000000", "SHARDLYN_AGENT_API_URL": "http://x"})
        try:
            session = admin(base)
            begin = time.perf_counter()
            tokens = register_agents(base, session, args.agents)
            print(f"{args.agents} simulated agents registered in {time.perf_counter() - begin:.1f} s; "
                  f"{args.rounds} rounds of {args.duration} s per case; medians over the rounds\n")
            agents_file = os.path.join(tmp, "agents.txt")
            with open(agents_file, "w") as f:
                f.write("\n".join(tokens) + "\n")
            print("| what (32 connections) | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health "
                  "| server CPU per request (us) | CPU ratio (/health's CPU / this) |")
            print("|---|---|---|---|---|---|---|---|")
            print_rows(run_rounds(proc.pid, [
                ("GET /health (reference)", {"url": base + "/health"}),
                (f"POST /v1/agent/heartbeat, round-robin over {args.agents} nodes",
                 {"url": base + "/", "script": os.path.join(HERE, "lua", "shardlyn_heartbeats.lua"),
                  "env": {"AGENTS_FILE": agents_file}}),
            ], args.duration, args.rounds))
            times = start_to_running(args.bin, base, session, tmp, args.starts)
            print(f"\nPOST .../start -> running, trivial workload, process driver, {len(times)} starts: "
                  f"median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
