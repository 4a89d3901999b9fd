#!/usr/bin/python3
"""Manager benchmarks: threat ingestion over TLS (batches of 100), heartbeats from 10,000
simulated agents, and resident memory with 10,000 agents registered. Each run also measures
the same binary's GET /health over TLS as the in-run reference.

Each round measures /health, heartbeats and event batches back to back; the table shows
medians over the rounds, ratios per round against that round's /health, and the server's
CPU time per request.

Usage: tools/bench/manager.py [--bin build/bin] [--agents 10000] [--duration 5] [--rounds 3]
"""
import argparse
import concurrent.futures
import os
import signal
import subprocess
import tempfile
import time

import requests
from benchlib import free_port, print_rows, rss_mib, run_rounds

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "b" * 40


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--agents", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ, DATA_DIR=tmp, MANAGER_PORT=str(port), MANAGER_AUTH_TOKEN=TOKEN, LOG_LEVEL="warn",
                   MANAGER_RATE_LIMIT="100000000/min", MANAGER_AGENT_RATE_LIMIT="100000000/min",
                   MANAGER_MAX_AGENTS=str(args.agents + 10))
        proc = subprocess.Popen([os.path.join(args.bin, "manager")], env=env, stdout=subprocess.DEVNULL)
        base = f"https://127.0.0.1:{port}"
        cert = os.path.join(tmp, "tls", "cert.pem")
        for _ in range(500):
            try:
                if requests.get(base + "/health", verify=cert, timeout=1).ok:
                    break
            except (requests.RequestException, OSError):
                time.sleep(0.02)
        try:
            session = requests.Session()
            session.verify = cert
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            idle = rss_mib(proc.pid)

            def register(i):
                r = session.post(base + "/api/agents/register", verify=cert, json={
                    "hostname": f"sim-{i}", "os": "linux", "arch": "x86_64", "version": "1.0", "machineId": f"m-{i}"})
                d = r.json()["data"]
                return f"{d['agentId']} {d['agentToken']}"
            begin = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                lines = list(pool.map(register, range(args.agents)))
            reg_seconds = time.perf_counter() - begin
            agents_file = os.path.join(tmp, "agents.txt")
            with open(agents_file, "w") as f:
                f.write("\n".join(lines) + "\n")
            time.sleep(1)
            with_agents = rss_mib(proc.pid)

            first_id, first_token = lines[0].split()
            results = run_rounds(proc.pid, [
                ("GET /health (reference, 32 connections)", {"url": base + "/health"}),
                (f"heartbeats, round-robin over {args.agents} agents (32 connections)",
                 {"url": base + "/", "script": os.path.join(HERE, "lua", "manager_heartbeats.lua"),
                  "env": {"AGENTS_FILE": agents_file}}),
                ("threat ingestion, 100 per request (8 connections)",
                 {"url": base + "/", "script": os.path.join(HERE, "lua", "manager_events.lua"),
                  "env": {"AGENT_ID": first_id, "AGENT_TOKEN": first_token}, "connections": 8}),
            ], args.duration, args.rounds)
            after = rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

    print(f"## manager over TLS, wrk -t2, {args.rounds} rounds of {args.duration} s, {args.agents} agents\n")
    print("| what | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health | server CPU per request (us) "
          "| CPU ratio (/health's / this) |")
    print("|---|---|---|---|---|---|---|---|")
    print_rows(results, {"threat ingestion, 100 per request (8 connections)": (100, "events")})
    print(f"\nRegistration of {args.agents} agents with 8 client threads: {reg_seconds:.1f} s "
          f"({args.agents / reg_seconds:.0f}/s). Resident memory: idle {idle:.1f} MiB, with {args.agents} agents "
          f"{with_agents:.1f} MiB, after the load {after:.1f} MiB.")


if __name__ == "__main__":
    main()
