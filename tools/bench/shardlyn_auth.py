#!/usr/bin/python3
"""shardlyn-api authentication cost: the same read (GET /v1/settings) with a JWT access token
and with an API token (whose use is committed to the audit log before the request runs), against
the same binary's GET /health as the in-run reference. The API-token case is measured with the
service's defaults and with WORKER_THREADS=0 (one worker per core: little for group commit to
group).

Besides the throughput ratio, each row shows the server's CPU time per request (user + system,
from /proc/<pid>/stat over the run) and its ratio to /health's: on a shared machine the CPU
figure is the steadier measure of what a request costs the service.

Usage: tools/bench/shardlyn_auth.py [--bin build/bin] [--duration 5] [--rounds 3]
"""
import argparse
import os
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing

import requests
from benchlib import free_port, print_rows, run_rounds


def start(binary, tmp, extra=None):
    port = free_port()
    env = dict(os.environ, DATA_DIR=tmp, SHARDLYN_PORT=str(port), LOG_LEVEL="warn",
               SHARDLYN_RATE_LIMIT="100000000/s:100000000", SHARDLYN_LOGIN_RATE_LIMIT="100000/min")
    env.update(extra or {})
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(500):
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return proc, base
        except requests.RequestException:
            time.sleep(0.02)
    proc.kill()
    raise SystemExit("shardlyn-api did not start")


def credentials(base):
    body = {"email": "bench@example.com", "password": "bench password", "name": "Bench"}
    if requests.get(base + "/v1/auth/bootstrap/status").json()["needs_bootstrap"]:
        requests.post(base + "/v1/auth/bootstrap", json=body).raise_for_status()
    login = {"email": body["email"], "password": body["password"]}
    access = requests.post(base + "/v1/auth/login", json=login).json()["access_token"]
    token = requests.post(base + "/v1/api-tokens", json={"name": "bench"},
                          headers={"Authorization": f"Bearer {access}"}).json()["token"]
    return access, token


def cases_for(base, cases):
    """(name, path, credential) triples as benchlib cases."""
    return [(name, {"url": base + path,
                    "headers": [f"Authorization: Bearer {credential}"] if credential else []})
            for name, path, credential in cases]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.join(args.bin, "shardlyn-api")
    print(f"{args.rounds} rounds of {args.duration} s per case; medians over the rounds\n")
    print("| what (32 connections) | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health "
          "| server CPU per request (us) | CPU ratio (/health's CPU / this) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(binary, tmp)
        try:
            access, token = credentials(base)
            print_rows(run_rounds(proc.pid, cases_for(base, [
                ("GET /health (reference)", "/health", None),
                ("GET /v1/settings, JWT", "/v1/settings", access),
                ("GET /v1/settings, API token (service defaults)", "/v1/settings", token),
            ]), args.duration, args.rounds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        proc, base = start(binary, tmp, {"WORKER_THREADS": "0"})
        try:
            access, token = credentials(base)
            print_rows(run_rounds(proc.pid, cases_for(base, [
                ("GET /health (reference, WORKER_THREADS=0)", "/health", None),
                ("GET /v1/settings, API token, WORKER_THREADS=0 (one per core)", "/v1/settings", token),
            ]), args.duration, args.rounds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        with closing(sqlite3.connect(os.path.join(tmp, "shardlyn.db"))) as db:
            uses = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'api_token.used'").fetchone()[0]
        print(f"\napi_token.used audit entries written: {uses}")


if __name__ == "__main__":
    main()
