#!/usr/bin/python3
"""GET /health of a service against nginx serving the same bytes, measured in the same run.

Starts nginx (Debian's nginx) on 127.0.0.1 with a static file holding exactly the body
the service answers, then runs wrk against both with the same settings and prints req/s,
p50/p99 latency and the ratio. Also measures each binary's start-up time (exec to the first
200 from /health) and idle resident memory.

Usage: tools/bench/http_health.py [--bin build/bin] [--service threat-cloud]
                                  [--connections 64] [--duration 10] [--threads 2]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from benchlib import free_port

PORT_ENV = {
    "auth-server": "AUTH_PORT",
    "manager": "MANAGER_PORT",
    "threat-cloud": "TC_PORT",
    "shardlyn-api": "SHARDLYN_PORT",
    "shardlyn-agent": "AGENT_METRICS_PORT",
}


def start_service(binary, name, data_dir, log_level="info"):
    port = free_port()
    env = dict(os.environ, DATA_DIR=data_dir, LOG_LEVEL=log_level, **{PORT_ENV[name]: str(port)})
    if name == "manager":
        env["MANAGER_TLS"] = "off"
    log = open(os.path.join(data_dir, "service.log"), "ab")
    begin = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/health"
    for _ in range(2000):  # bounded: 20 s at most
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return proc, port, time.perf_counter() - begin
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url, threads, connections, duration):
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "non2xx": int(errors.group(1)) if errors else 0}


def start_nginx(workdir, body, content_type):
    port = free_port()
    root = os.path.join(workdir, "www")
    os.makedirs(root)
    os.chmod(workdir, 0o755)
    with open(os.path.join(root, "health"), "wb") as f:
        f.write(body)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes {os.cpu_count()};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log {workdir}/access.log;
  keepalive_requests 1000000;
  types {{ }}
  default_type {content_type};
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location = /health {{ }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.read() == body:
                    return proc, port
        except OSError:
            time.sleep(0.01)
    proc.kill()
    with open(os.path.join(workdir, "error.log")) as f:
        raise RuntimeError("nginx did not start:\n" + f.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--service", default="threat-cloud")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("wrk and nginx are needed: run tools/bootstrap-deps.sh")

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # nginx workers (user nobody) read the static file
        print("## Start-up time and idle memory\n")
        print("| binary | exec to first 200 from /health (ms) | idle RSS (MiB) |")
        print("|---|---|---|")
        for name in PORT_ENV:
            data = os.path.join(tmp, "startup-" + name)
            os.makedirs(data)
            # First start creates the database and secrets; measure the second, a normal restart.
            proc, _, _ = start_service(os.path.join(args.bin, name), name, data)
            stop(proc)
            proc, _, seconds = start_service(os.path.join(args.bin, name), name, data)
            time.sleep(1.0)
            print(f"| {name} | {seconds * 1000:.0f} | {rss_kib(proc.pid) / 1024:.1f} |")
            stop(proc)

        print(f"\n## GET /health: {args.service} vs nginx, wrk -t{args.threads} -c{args.connections} -d{args.duration}s\n")
        rows = []
        for label, log_level in (("access log on (info)", "info"), ("access log off (warn)", "warn")):
            data = os.path.join(tmp, "svc-" + log_level)
            os.makedirs(data)
            proc, port, _ = start_service(os.path.join(args.bin, args.service), args.service, data, log_level)
            url = f"http://127.0.0.1:{port}/health"
            with urllib.request.urlopen(url) as r:
                body, ctype = r.read(), r.headers["Content-Type"]
            wrk(url, args.threads, 16, 2)  # warm-up
            rows.append((f"{args.service}, {label}", wrk(url, args.threads, args.connections, args.duration)))
            stop(proc)
        ng_dir = os.path.join(tmp, "nginx")
        os.makedirs(ng_dir)
        ng, ng_port = start_nginx(ng_dir, body, ctype)
        ng_url = f"http://127.0.0.1:{ng_port}/health"
        wrk(ng_url, args.threads, 16, 2)
        reference = wrk(ng_url, args.threads, args.connections, args.duration)
        ng.send_signal(signal.SIGQUIT)
        ng.wait(timeout=15)
        rows.append(("nginx (same bytes, access log on)", reference))

        print("| server | req/s | p50 (ms) | p99 (ms) | non-2xx | ratio to nginx |")
        print("|---|---|---|---|---|---|")
        for label, r in rows:
            print(f"| {label} | {r['rps']:.0f} | {r['p50']:.3f} | {r['p99']:.3f} | {r['non2xx']} | "
                  f"{r['rps'] / reference['rps']:.2f} |")


if __name__ == "__main__":
    main()
