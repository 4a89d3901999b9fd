#!/usr/bin/python3
"""threat-cloud single uploads (POST /api/threats, one event per request, tc_upload.lua) against
the same binary's GET /health in alternating rounds, on three stores in one run: (a) SQLite in
DATA_DIR, (b) PostgreSQL with one replica, (c) PostgreSQL with three replicas behind nginx.
PostgreSQL is a throw-away cluster (initdb + pg_ctl on a loopback port, the tests' pg_helpers.py);
nginx is Debian's. Medians, ratios per round, and the CPU per request of the threat-cloud
processes (all replicas added up; PostgreSQL's and nginx's own CPU is not counted).

Usage: tools/bench/pg_scale.py [--bin build/bin] [--duration 5] [--rounds 3] [--connections 64]
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

import requests
from benchlib import free_port, print_rows, run_rounds, wrk_arguments

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests" / "integration"))
import pg_helpers  # noqa: E402  (the tests' throw-away cluster)

KEY = "tc-bench-admin-key-0123456789abcdefghijklmnop"
LIMIT = "100000000/min"


def wait_healthy(base):
    for _ in range(500):
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.02)
    raise SystemExit(f"{base} did not answer /health")


def start_threat_cloud(binary, data_dir, database_url=None):
    port = free_port()
    env = dict(os.environ, DATA_DIR=str(data_dir), TC_PORT=str(port), TC_API_KEYS=KEY, LOG_LEVEL="warn",
               TC_RATE_LIMIT=LIMIT, TC_READ_RATE_LIMIT=LIMIT, TC_WRITE_RATE_LIMIT=LIMIT, TC_FEED_RATE_LIMIT=LIMIT)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}")
    return proc, port


def start_nginx(workdir, ports):
    port = free_port()
    upstream = "".join(f"server 127.0.0.1:{p};" for p in ports)
    temp = " ".join(f"{k}_temp_path {workdir}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = Path(workdir) / "nginx.conf"
    conf.write_text(
        f"user root; worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/error.log warn; daemon off;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{ access_log off; {temp} upstream tc {{ {upstream} keepalive 64; }}\n"
        f"  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://tc; proxy_http_version 1.1;\n"
        f"    proxy_set_header Connection \"\"; }} }} }}\n")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}")
    return proc, port


def measure_setup(label, pids, port, args):
    base, c = f"http://127.0.0.1:{port}", args.connections
    return run_rounds(pids, [
        (f"{label}: GET /health (reference, {c} connections)", {"url": base + "/health", "connections": c}),
        (f"{label}: POST /api/threats, one event per request",
         {"url": base + "/", "script": str(HERE / "lua" / "tc_upload.lua"), "env": {"TC_KEY": KEY},
          "connections": c}),
    ], args.duration, args.rounds)


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)


def run_setup(args, tmp, label, replicas, cluster):
    """Starts the replicas (and nginx in front of several), measures, stops; returns the
    results and the number of events stored."""
    binary = os.path.join(args.bin, "threat-cloud")
    url = None
    if cluster:
        name = "bench" + uuid.uuid4().hex[:8]
        cluster.psql(f'CREATE DATABASE "{name}"')
        url = cluster.url(name)
    data_dir = Path(tmp) / label.split(":")[0].replace(" ", "-")
    started = [start_threat_cloud(binary, data_dir / str(n), url) for n in range(replicas)]
    procs = [p for p, _ in started]
    front = started[0][1]
    if replicas > 1:
        (data_dir / "nginx").mkdir(parents=True)
        nginx, front = start_nginx(data_dir / "nginx", [port for _, port in started])
        procs.append(nginx)
    try:
        results = measure_setup(label, [p.pid for p, _ in started], front, args)
    finally:
        stop(procs)
    if cluster:
        return results, int(cluster.psql("SELECT count(*) FROM threat_events", name))
    with closing(sqlite3.connect(data_dir / "0" / "threat-cloud.db")) as db:
        return results, db.execute("SELECT count(*) FROM threat_events").fetchone()[0]


def main():
    args = wrk_arguments()
    if shutil.which("nginx") is None:
        raise SystemExit("nginx missing: run tools/bootstrap-deps.sh")
    cluster = pg_helpers.PgCluster()
    stored = {}
    print(f"## threat-cloud single uploads on SQLite and PostgreSQL, wrk -t2, {args.rounds} rounds of "
          f"{args.duration} s, load average before: {os.getloadavg()[0]:.2f}\n")
    print("| what | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health | threat-cloud CPU per request (us) "
          "| CPU ratio (/health's / this) |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, replicas, pg in (("SQLite, 1 replica", 1, None), ("PostgreSQL, 1 replica", 1, cluster),
                                        ("PostgreSQL, 3 replicas behind nginx", 3, cluster)):
                results, stored[label] = run_setup(args, tmp, label, replicas, pg)
                print_rows(results)
    finally:
        cluster.destroy()
    print("\nEvents stored after each run: " + ", ".join(f"{k}: {v}" for k, v in stored.items()))
    print(f"Load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
