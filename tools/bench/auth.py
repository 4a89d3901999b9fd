#!/usr/bin/python3
"""auth-server benchmarks, each against a reference measured in the same run:

- authenticated GET /api/auth/me (JWT verification + live-session lookup) as a ratio of
  GET /health on the same binary, with HS256 tokens and with ES256/RS256 tokens
  (JWT_PRIVATE_KEY_FILE from `openssl genpkey`);
- logins per second at the configured Argon2id cost, as a ratio of the Argon2id hashes per
  second the reference `argon2` CLI (Debian package argon2) computes with the same
  parameters, one process per core, just before.

The /health and /me runs alternate (--rounds times each) and each figure is the mean of its
rounds, so a change in machine load during the run weighs on both sides alike.

Usage: tools/bench/auth.py [--bin build/bin] [--duration 5] [--rounds 3] [--connections 32]
"""
import argparse
import concurrent.futures
import os
import re
import signal
import subprocess
import tempfile
import time

import requests

from benchlib import cpu_seconds, free_port, wrk

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "correct horse battery staple"
UNLIMITED = "100000000/min"


class AuthServer:
    def __init__(self, binary, data_dir, extra_env=None):
        self.port = free_port()
        env = dict(os.environ, DATA_DIR=data_dir, AUTH_PORT=str(self.port), LOG_LEVEL="warn",
                   AUTH_RATE_LIMIT=UNLIMITED, AUTH_LOGIN_LIMIT=UNLIMITED, AUTH_REGISTER_LIMIT=UNLIMITED,
                   **(extra_env or {}))
        self.proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(500):  # bounded: about 10 s
            try:
                if requests.get(self.base + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("auth-server did not start")

    def register(self, email):
        r = requests.post(self.base + "/api/auth/register", json={"email": email, "name": "Bench", "password": PASSWORD},
                          timeout=10)
        r.raise_for_status()
        return r.json()["data"]["token"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def argon2_reference(runs_per_core):
    """Argon2id hashes per second of the `argon2` CLI at m=19456 KiB, t=2, p=1, all cores busy."""
    def worker(i):
        seconds = []
        for k in range(runs_per_core):
            out = subprocess.run(["argon2", f"benchsalt{i:04d}{k:04d}", "-id", "-t", "2", "-k", "19456", "-p", "1",
                                  "-l", "32"], input=PASSWORD.encode(), check=True, capture_output=True).stdout
            seconds.append(float(re.search(rb"([\d.]+) seconds", out).group(1)))
        return runs_per_core / sum(seconds)
    cores = os.cpu_count() or 1
    with concurrent.futures.ThreadPoolExecutor(cores) as pool:
        return sum(pool.map(worker, range(cores)))



def measured(pid, run):
    """Runs run() (a wrk call) and adds the server's CPU microseconds per request."""
    before = cpu_seconds(pid)
    result = run()
    requests_done = result["rps"] * result["seconds"]
    result["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(requests_done, 1)
    return result


def mean_of(runs):
    return {k: sum(r[k] for r in runs) / len(runs) for k in ("rps", "p50", "p99", "cpu_us")} | {
        "non2xx": sum(r["non2xx"] for r in runs)}


def row(name, r, ref):
    return (f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} | "
            f"{r['rps'] / ref['rps']:.2f} | {r['cpu_us']:.1f} | {r['cpu_us'] / ref['cpu_us']:.2f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--login-connections", type=int, default=8)
    args = ap.parse_args()
    binary = os.path.join(args.bin, "auth-server")
    d, c = args.duration, args.connections
    me_rows, login = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for alg, keygen in (("HS256", None), ("ES256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                            ("RS256", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])):
            data = os.path.join(tmp, alg)
            os.mkdir(data)
            env = {}
            if keygen:
                key = os.path.join(tmp, f"{alg}.pem")
                subprocess.run(["openssl", "genpkey", *keygen, "-out", key], check=True, capture_output=True)
                env["JWT_PRIVATE_KEY_FILE"] = key
            server = AuthServer(binary, data, env)
            try:
                token = server.register(f"bench-{alg.lower()}@example.com")
                healths, mes = [], []
                for _ in range(args.rounds):
                    pid = server.proc.pid
                    healths.append(measured(pid, lambda: wrk(server.base + "/health", d, connections=c) | {"seconds": d}))
                    mes.append(measured(pid, lambda: wrk(server.base + "/api/auth/me", d,
                                                         os.path.join(HERE, "lua", "auth_me.lua"),
                                                         {"ACCESS_TOKEN": token}, connections=c) | {"seconds": d}))
                health, me = mean_of(healths), mean_of(mes)
                me_rows.append((alg, health, me))
                if alg == "HS256":
                    reference = argon2_reference(runs_per_core=10)
                    login = wrk(server.base + "/api/auth/login", d * args.rounds,
                                os.path.join(HERE, "lua", "auth_login.lua"),
                                {"LOGIN_EMAIL": "bench-hs256@example.com", "LOGIN_PASSWORD": PASSWORD},
                                connections=args.login_connections)
            finally:
                server.stop()

    print("## auth-server, wrk -t2\n")
    print(f"Authenticated `GET /api/auth/me` against `GET /health` on the same server ({c} connections, "
          f"{args.rounds} alternating rounds of {d} s each, means):\n")
    print("| tokens | request | req/s | p50 (ms) | p99 (ms) | non-2xx | ratio to /health | server CPU (us/req) "
          "| CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for alg, health, me in me_rows:
        print(row(f"{alg} | GET /health (reference)", health, health))
        print(row(f"{alg} | GET /api/auth/me", me, health))
    print(f"\nLogins (`POST /api/auth/login`, Argon2id m=19456 KiB t=2 p=1, {args.login_connections} connections, "
          f"{d * args.rounds} s) "
          f"against the `argon2` CLI's hash rate with the same parameters on all {os.cpu_count()} cores:\n")
    print("| what | per second | p50 (ms) | p99 (ms) | non-2xx | ratio to argon2 CLI |")
    print("|---|---|---|---|---|---|")
    print(f"| argon2 CLI hashes (reference) | {reference:.1f} | | | | 1.00 |")
    print(f"| logins | {login['rps']:.1f} | {login['p50']:.2f} | {login['p99']:.2f} | {login['non2xx']} | "
          f"{login['rps'] / reference:.2f} |")


if __name__ == "__main__":
    main()
