#!/usr/bin/python3
"""Manager benchmarks: threat ingestion over TLS (batches of 100), heartbeats from 10,000
simulated agents, and resident memory with 10,000 agents registered. Each run also measures
the same binary's GET /health over TLS as the in-run reference.

Usage: tools/bench/manager.py [--bin build/bin] [--agents 10000] [--duration 10]
"""
import argparse
import concurrent.futures
import os
import signal
import subprocess
import tempfile
import time

import requests
from benchlib import free_port, rss_mib, wrk

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "b" * 40


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--agents", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=10)
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

            health = wrk(base + "/health", args.duration)
            beats = wrk(base + "/", args.duration, os.path.join(HERE, "lua", "manager_heartbeats.lua"),
                        {"AGENTS_FILE": agents_file})
            first_id, first_token = lines[0].split()
            events = wrk(base + "/", args.duration, os.path.join(HERE, "lua", "manager_events.lua"),
                         {"AGENT_ID": first_id, "AGENT_TOKEN": first_token}, connections=8)
            after = rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

    print(f"## manager over TLS, wrk -t2, {args.duration} s each, {args.agents} agents registered\n")
    print("| what | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health |")
    print("|---|---|---|---|---|---|")
    print(f"| GET /health (reference, 32 connections) | {health['rps']:.0f} req/s | {health['p50']:.2f} | "
          f"{health['p99']:.2f} | {health['non2xx']} | 1.00 |")
    print(f"| heartbeats, round-robin over {args.agents} agents (32 connections) | {beats['rps']:.0f} req/s | "
          f"{beats['p50']:.2f} | {beats['p99']:.2f} | {beats['non2xx']} | {beats['rps'] / health['rps']:.2f} |")
    print(f"| threat ingestion, 100 per request (8 connections) | {events['rps'] * 100:.0f} events/s "
          f"({events['rps']:.0f} req/s) | {events['p50']:.2f} | {events['p99']:.2f} | {events['non2xx']} | "
          f"{events['rps'] / health['rps']:.2f} |")
    print(f"\nRegistration of {args.agents} agents with 8 client threads: {reg_seconds:.1f} s "
          f"({args.agents / reg_seconds:.0f}/s). Resident memory: idle {idle:.1f} MiB, with {args.agents} agents "
          f"{with_agents:.1f} MiB, after the load {after:.1f} MiB.")


if __name__ == "__main__":
    main()
