#!/usr/bin/python3
"""threat-cloud benchmarks with 1,000,000 IoCs loaded (through `threat-cloud import`): single
lookups per second over HTTP as a ratio of the same binary's GET /health, bulk ingest through
POST /api/iocs (1000 IoCs per request), the time to stream the full IP blocklist with the
server's resident memory sampled meanwhile, and the database size per IoC.

Usage: tools/bench/threat_cloud.py [--bin build/bin] [--count 1000000] [--duration 10]
"""
import argparse
import os
import random
import signal
import subprocess
import tempfile
import threading
import time

import requests
from benchlib import cpu_seconds, free_port, rss_mib, wrk

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "tc-bench-admin-key-0123456789abcdefghijklmnop"


def db_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, f)) for f in os.listdir(data_dir)
               if f.startswith("threat-cloud.db"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10)
    args = ap.parse_args()
    binary = os.path.join(args.bin, "threat-cloud")
    with tempfile.TemporaryDirectory() as tmp:
        # ipsum format: address<TAB>number of lists (1-10, so about 70 % reach reputation 70).
        feed = os.path.join(tmp, "ipsum.txt")
        rng = random.Random(7)
        with open(feed, "w") as f:
            f.write("# generated for the benchmark\n")
            for i in range(args.count):
                f.write(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\t{rng.randint(1, 10)}\n")
        data_dir = os.path.join(tmp, "data")
        os.makedirs(data_dir)
        begin = time.perf_counter()
        out = subprocess.run([binary, "import", "--format", "ipsum", feed, "--db",
                              os.path.join(data_dir, "threat-cloud.db")], check=True, capture_output=True, text=True)
        import_seconds = time.perf_counter() - begin
        assert f'"imported":{args.count}' in out.stdout, out.stdout

        port = free_port()
        limit = "100000000/min"
        env = dict(os.environ, DATA_DIR=data_dir, TC_PORT=str(port), TC_API_KEYS=KEY, LOG_LEVEL="warn",
                   TC_RATE_LIMIT=limit,
                   # the current names and the former ones, so binaries from before the rename measure alike
                   **{name: limit for c in ("READ", "WRITE", "FEED") for name in (f"TC_{c}_RATE_LIMIT", f"TC_RATE_LIMIT_{c}")})
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(500):
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except (requests.RequestException, OSError):
                time.sleep(0.02)
        try:
            size_loaded = db_bytes(data_dir)
            headers = {"Authorization": f"Bearer {KEY}"}
            idle = rss_mib(proc.pid)

            def stream(params):
                samples = [rss_mib(proc.pid)]
                done = threading.Event()

                def sample():
                    while not done.wait(0.02):
                        samples.append(rss_mib(proc.pid))
                t = threading.Thread(target=sample)
                t.start()
                start = time.perf_counter()
                lines = 0
                with requests.get(base + "/api/feeds/ip-blocklist", headers=headers, params=params,
                                  stream=True) as r:
                    r.raise_for_status()
                    for chunk in r.iter_content(chunk_size=None):
                        lines += chunk.count(b"\n")
                seconds = time.perf_counter() - start
                done.set()
                t.join()
                return seconds, lines, samples

            stream({"minReputation": 0})  # warm the page cache
            full_s, full_lines, full_rss = stream({"minReputation": 0})
            default_s, default_lines, default_rss = stream({})

            # Server CPU time per request next to each rate: on a shared machine the rates move
            # with the load, the CPU cost much less.
            def measured(*wrk_args, **wrk_kwargs):
                before = cpu_seconds(proc.pid)
                result = wrk(*wrk_args, **wrk_kwargs)
                result["cpu_us"] = (cpu_seconds(proc.pid) - before) * 1e6 / (result["rps"] * args.duration)
                return result

            health = measured(base + "/health", args.duration)
            lookups = measured(base + "/", args.duration, os.path.join(HERE, "lua", "tc_lookup.lua"),
                               {"TC_KEY": KEY, "TC_COUNT": str(args.count)})
            ingest = measured(base + "/", args.duration, os.path.join(HERE, "lua", "tc_ingest.lua"), {"TC_KEY": KEY},
                              connections=8)
            after = rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        size_after = db_bytes(data_dir)

    print(f"## threat-cloud with {args.count:,} IoCs loaded, wrk -t2, {args.duration} s each\n")
    print(f"Import of {args.count:,} ipsum lines: {import_seconds:.1f} s ({args.count / import_seconds:,.0f} IoCs/s).\n")
    print("| what | rate | p50 (ms) | p99 (ms) | non-2xx | ratio to /health | server CPU per request (us) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| GET /health (reference, 32 connections) | {health['rps']:.0f} req/s | {health['p50']:.2f} | "
          f"{health['p99']:.2f} | {health['non2xx']} | 1.00 | {health['cpu_us']:.1f} |")
    print(f"| GET /api/iocs/<ip>, random loaded addresses (32 connections) | {lookups['rps']:.0f} req/s | "
          f"{lookups['p50']:.2f} | {lookups['p99']:.2f} | {lookups['non2xx']} | {lookups['rps'] / health['rps']:.2f} | "
          f"{lookups['cpu_us']:.1f} |")
    print(f"| POST /api/iocs, 1000 new IoCs per request (8 connections) | {ingest['rps'] * 1000:.0f} IoCs/s "
          f"({ingest['rps']:.1f} req/s) | {ingest['p50']:.2f} | {ingest['p99']:.2f} | {ingest['non2xx']} | "
          f"{ingest['rps'] / health['rps']:.3f} | {ingest['cpu_us']:.0f} |")
    print()
    print("| IP blocklist stream | entries | seconds | server RSS before / peak / after (MiB) |")
    print("|---|---|---|---|")
    for name, s, lines, rss in (("minReputation=0 (all)", full_s, full_lines, full_rss),
                                ("default minReputation=70", default_s, default_lines, default_rss)):
        print(f"| {name} | {lines - 4:,} | {s:.2f} | {rss[0]:.1f} / {max(rss):.1f} / {rss[-1]:.1f} |")
    print()
    print(f"Database: {size_loaded / 2**20:.1f} MiB for {args.count:,} IoCs ({size_loaded / args.count:.0f} bytes per "
          f"IoC); {size_after / 2**20:.1f} MiB after the ingest run. Resident memory: {idle:.1f} MiB after start, "
          f"{after:.1f} MiB after the load.")


if __name__ == "__main__":
    main()
