#!/usr/bin/env python3
"""Instructions per request of threat-cloud's keyed single upload under callgrind (noise-free on
a shared machine), against its `/health`.

threat-cloud runs under `valgrind --tool=callgrind` with plain HTTP and `WORKER_THREADS=4`; each
path gets warm-up requests, then `callgrind_control -z`, N requests on one keep-alive connection
and `callgrind_control -d` (manager_callgrind.measure); the dump's instruction total divided by N
is printed per path. Uploads carry the bootstrap key (`TC_API_KEYS`) or a stored `tck_` key with
the write scope, one new event each.

Run: tools/bench/tc_callgrind.py --bin build/bin [--requests 300]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import requests
from benchlib import free_port
from manager_callgrind import measure

KEY = "tc-bench-admin-key-0123456789abcdefghijklmnop"


def upload(session, base, tag, i, key=KEY):
    body = {"attackSourceIP": f"172.{16 + tag}.{i // 256 % 256}.{i % 256}", "attackType": "brute_force",
            "mitreTechnique": "T1110", "sigmaRuleMatched": "ssh-brute-force",
            "timestamp": f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "region": f"cg-{tag}", "severity": "high"}
    r = session.post(base + "/api/threats", json=body, headers={"Authorization": f"Bearer {key}"})
    if r.status_code >= 300:
        raise SystemExit(f"upload answered {r.status_code}: {r.text}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--out", default=None, help="directory for the callgrind dumps (default: a temporary one)")
    args = ap.parse_args()
    limit = "100000000/min"
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        port = free_port()
        env = dict(os.environ, DATA_DIR=tmp, TC_PORT=str(port), TC_API_KEYS=KEY, LOG_LEVEL="warn",
                   WORKER_THREADS="4", TC_RATE_LIMIT=limit,
                   **{f"TC_{c}_RATE_LIMIT": limit for c in ("READ", "WRITE", "FEED")})
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out.%p",
                                 "--separate-threads=yes", os.path.join(args.bin, "threat-cloud")],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        try:
            for _ in range(600):
                try:
                    if session.get(base + "/health", timeout=2).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            else:
                raise SystemExit("threat-cloud did not start under valgrind")
            for i in range(200):
                session.get(base + "/health")
                upload(session, base, 0, i)
            health = measure(proc.pid, out, "health", args.requests, lambda i: session.get(base + "/health"))
            uploads = measure(proc.pid, out, "upload", args.requests, lambda i: upload(session, base, 1, i))
            stored = session.post(base + "/api/keys", json={"name": "cg", "scopes": ["write"]},
                                  headers={"Authorization": f"Bearer {KEY}"}).json()["data"]["key"]
            for i in range(50):
                upload(session, base, 2, i, stored)
            keyed = measure(proc.pid, out, "stored", args.requests, lambda i: upload(session, base, 3, i, stored))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        print(f"GET /health: {health:,.0f} instructions per request")
        print(f"POST /api/threats (bootstrap key): {uploads:,.0f} instructions per request")
        print(f"POST /api/threats (stored tck_ key, write scope): {keyed:,.0f} instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
