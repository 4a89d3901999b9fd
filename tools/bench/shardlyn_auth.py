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
import re
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
from contextlib import closing

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, duration, headers=(), connections=32):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "non2xx": int(bad.group(1)) if bad else 0}


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
    access = requests.post(base + "/v1/auth/login", json=body).json()["access_token"]
    token = requests.post(base + "/v1/api-tokens", json={"name": "bench"},
                          headers={"Authorization": f"Bearer {access}"}).json()["token"]
    return access, token


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(proc, url, duration, headers=()):
    """wrk against url, plus the server's CPU microseconds per request over the run."""
    before = cpu_seconds(proc.pid)
    r = wrk(url, duration, headers)
    r["cpu_us"] = 1e6 * (cpu_seconds(proc.pid) - before) / max(1.0, r["rps"] * duration)
    return r


def run_rounds(proc, base, cases, duration, rounds):
    """Measures every case once per round, the reference (first case) first, so each round's
    ratios compare figures taken within seconds of each other on this shared machine."""
    results = {name: [] for name, _, _ in cases}
    for _ in range(rounds):
        for name, path, credential in cases:
            headers = [f"Authorization: Bearer {credential}"] if credential else []
            results[name].append(measure(proc, base + path, duration, headers))
    return results


def print_rows(results):
    """One row per case: medians over the rounds, ratios taken per round against that round's reference."""
    names = list(results)
    ref = results[names[0]]
    for name in names:
        rs = results[name]
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu_us")}
        ratio = statistics.median(r["rps"] / f["rps"] for r, f in zip(rs, ref))
        cpu_ratio = statistics.median(f["cpu_us"] / r["cpu_us"] for r, f in zip(rs, ref))
        print(f"| {name} | {med['rps']:.0f} req/s | {med['p50']:.2f} | {med['p99']:.2f} | "
              f"{sum(r['non2xx'] for r in rs)} | {ratio:.2f} | {med['cpu_us']:.1f} | {cpu_ratio:.2f} |")


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
            print_rows(run_rounds(proc, base, [
                ("GET /health (reference)", "/health", None),
                ("GET /v1/settings, JWT", "/v1/settings", access),
                ("GET /v1/settings, API token (service defaults)", "/v1/settings", token),
            ], args.duration, args.rounds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        proc, base = start(binary, tmp, {"WORKER_THREADS": "0"})
        try:
            access, token = credentials(base)
            print_rows(run_rounds(proc, base, [
                ("GET /health (reference, WORKER_THREADS=0)", "/health", None),
                ("GET /v1/settings, API token, WORKER_THREADS=0 (one per core)", "/v1/settings", token),
            ], args.duration, args.rounds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        with closing(sqlite3.connect(os.path.join(tmp, "shardlyn.db"))) as db:
            uses = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'api_token.used'").fetchone()[0]
        print(f"\napi_token.used audit entries written: {uses}")


if __name__ == "__main__":
    main()
