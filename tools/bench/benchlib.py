"""Shared pieces of the benchmarks: ports, process figures from /proc, and wrk runs."""
from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk_arguments(connections=64):
    """The options of the wrk benchmarks: --bin, --duration, --rounds, --connections."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=connections)
    return ap.parse_args()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, duration, script=None, env=None, connections=32, headers=()):
    """Runs wrk with 2 threads; returns requests/s, p50 and p99 in ms and the non-2xx count."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True,
                         env=dict(os.environ, **(env or {}))).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "non2xx": int(bad.group(1)) if bad else 0}


def measure(pid, url, duration, script=None, env=None, connections=32, headers=()):
    """wrk against url, plus the server's CPU microseconds per request over the run (pid: one
    process, or a list of them whose CPU is added up, e.g. the replicas behind a balancer)."""
    pids = pid if isinstance(pid, list) else [pid]
    before = sum(cpu_seconds(p) for p in pids)
    r = wrk(url, duration, script, env, connections, headers)
    r["cpu_us"] = 1e6 * (sum(cpu_seconds(p) for p in pids) - before) / max(1.0, r["rps"] * duration)
    return r


def run_rounds(pid, cases, duration, rounds):
    """cases: (name, keyword arguments of measure()) pairs, the reference first. Measures every
    case once per round, so each round's ratios compare figures taken within seconds of each
    other on a shared machine."""
    results = {name: [] for name, _ in cases}
    for _ in range(rounds):
        for name, kwargs in cases:
            results[name].append(measure(pid, duration=duration, **kwargs))
    return results


def print_rows(results, per_request=None):
    """One table row per case: medians over the rounds; ratios are taken per round against that
    round's reference (the first case), then the median. per_request: {name: (count, unit)}
    for cases whose requests carry several items (events per batch)."""
    import statistics
    names = list(results)
    ref = results[names[0]]
    for name in names:
        rs = results[name]
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu_us")}
        ratio = statistics.median(r["rps"] / f["rps"] for r, f in zip(rs, ref))
        cpu_ratio = statistics.median(f["cpu_us"] / r["cpu_us"] for r, f in zip(rs, ref))
        count, unit = (per_request or {}).get(name, (1, "req"))
        rate = f"{med['rps'] * count:.0f} {unit}/s" + (f" ({med['rps']:.0f} req/s)" if count != 1 else "")
        print(f"| {name} | {rate} | {med['p50']:.2f} | {med['p99']:.2f} | "
              f"{sum(r['non2xx'] for r in rs)} | {ratio:.2f} | {med['cpu_us']:.1f} | {cpu_ratio:.2f} |")
