#!/usr/bin/python3
"""SSH certificates signed per second by shardlyn-api (POST /v1/ssh/certificate, each one a
database write with its audit entry), against two references measured in the same run: the same
binary's GET /health (an empty request's cost) and the `ssh-keygen -s` CLI signing the same key
with an ed25519 CA (one process per certificate, as a script would call it).

Usage: tools/bench/shardlyn_ssh_ca.py [--bin build/bin] [--count 400] [--threads 4]
"""
import argparse
import concurrent.futures
import os
import subprocess
import tempfile
import time

import requests
from shardlyn_auth import start


def rate(count, threads, one):
    """Calls of `one` per second, `count` calls over `threads` threads."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for ok in pool.map(lambda _: one(), range(count)):
            assert ok
    return count / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(os.path.join(args.bin, "shardlyn-api"), tmp)
        try:
            body = {"email": "bench@example.com", "password": "bench password", "name": "Bench"}
            requests.post(base + "/v1/auth/bootstrap", json=body).raise_for_status()
            access = requests.post(base + "/v1/auth/login", json={"email": body["email"],
                                                                 "password": body["password"]}).json()["access_token"]
            auth = {"Authorization": f"Bearer {access}"}
            requests.post(base + "/v1/ssh/ca/keys", headers=auth).raise_for_status()
            key = os.path.join(tmp, "user")
            ca = os.path.join(tmp, "ca")
            for path in (key, ca):
                subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", path], check=True)
            pub = open(key + ".pub").read().strip()
            session = requests.Session()
            sign_body = {"public_key": pub, "principals": ["bench"], "validity_hours": 1}
            health = rate(args.count, args.threads, lambda: session.get(base + "/health").ok)
            api = rate(args.count, args.threads,
                       lambda: session.post(base + "/v1/ssh/certificate", json=sign_body, headers=auth).ok)
            cli_count = max(1, args.count // 4)
            cli = rate(cli_count, args.threads, lambda: subprocess.run(
                ["ssh-keygen", "-q", "-s", ca, "-I", "bench", "-n", "bench", "-V", "+1h", "-O", "clear",
                 "-O", "permit-pty", key + ".pub"], capture_output=True).returncode == 0)
        finally:
            proc.terminate()
            proc.wait()
    print(f"{'case':<40} {'per second':>12} {'vs /health':>11}")
    for name, value in (("GET /health (empty request)", health), ("POST /v1/ssh/certificate", api),
                        ("ssh-keygen -s (CLI, one process each)", cli)):
        print(f"{name:<40} {value:>12.0f} {value / health:>10.2f}x")


if __name__ == "__main__":
    main()
