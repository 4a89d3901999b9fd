#!/usr/bin/python3
"""Threat Cloud single threat uploads: POST /api/threats with one new event per request (the
shape the Panguard TypeScript server is measured with), each committed durably before its 201,
against the same binary's GET /health in alternating rounds; medians, ratios per round, and the
server's CPU time per request.

Usage: tools/bench/tc_uploads.py [--bin build/bin] [--duration 5] [--rounds 3] [--connections 64]
"""
import os
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing

import requests
from benchlib import free_port, print_rows, run_rounds, wrk_arguments

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "tc-bench-admin-key-0123456789abcdefghijklmnop"


def main():
    args = wrk_arguments()
    limit = "100000000/min"
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ, DATA_DIR=tmp, TC_PORT=str(port), TC_API_KEYS=KEY, LOG_LEVEL="warn",
                   TC_RATE_LIMIT=limit,
                   # the current names and the former ones, so binaries from before the rename measure alike
                   **{name: limit for c in ("READ", "WRITE", "FEED") for name in (f"TC_{c}_RATE_LIMIT", f"TC_RATE_LIMIT_{c}")})
        proc = subprocess.Popen([os.path.join(args.bin, "threat-cloud")], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(500):
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except (requests.RequestException, OSError):
                time.sleep(0.02)
        try:
            c = args.connections
            results = run_rounds(proc.pid, [
                (f"GET /health (reference, {c} connections)", {"url": base + "/health", "connections": c}),
                (f"POST /api/threats, one event per request ({c} connections)",
                 {"url": base + "/", "script": os.path.join(HERE, "lua", "tc_upload.lua"), "env": {"TC_KEY": KEY},
                  "connections": c}),
            ], args.duration, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        with closing(sqlite3.connect(os.path.join(tmp, "threat-cloud.db"))) as db:
            stored = db.execute("SELECT count(*) FROM threat_events").fetchone()[0]
    print(f"## threat-cloud single uploads, wrk -t2, {args.rounds} rounds of {args.duration} s\n")
    print("| what | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health | server CPU per request (us) "
          "| CPU ratio (/health's / this) |")
    print("|---|---|---|---|---|---|---|---|")
    print_rows(results)
    print(f"\nEvents stored after the run: {stored}")


if __name__ == "__main__":
    main()
