"""`make run-all`'s script: starts every service, prints where each listens and the generated
secrets, serves, refuses a second run-all while it runs, and stops everything cleanly on
Ctrl-C (SIGINT)."""
import os
import re
import signal
import subprocess
import time

import requests

from conftest import BIN_DIR, SOURCE_DIR, free_port

PORTS = ["AUTH_PORT", "MANAGER_PORT", "TC_PORT", "SHARDLYN_PORT", "AGENT_METRICS_PORT"]


def test_run_all_starts_everything_and_stops_on_ctrl_c(tmp_path):
    env = dict(os.environ, RUN_ALL_DATA=str(tmp_path / "data"))
    for var in PORTS:
        env[var] = str(free_port())
    proc = subprocess.Popen([str(SOURCE_DIR / "tools" / "run-all"), str(BIN_DIR)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            break
    out = "".join(lines)
    try:
        assert "Ctrl-C stops everything" in out, out
        for name, var in zip(["auth-server", "manager", "threat-cloud", "shardlyn-api", "shardlyn-agent"], PORTS):
            assert re.search(rf"^{name}\s+https?://127\.0\.0\.1:{env[var]}\s", out, re.M), out
        assert "auth-server/JWT_SECRET" in out and "threat-cloud/TC_API_KEYS" in out

        cert = tmp_path / "data" / "manager" / "tls" / "cert.pem"
        assert requests.get(f"https://127.0.0.1:{env['MANAGER_PORT']}/health", verify=str(cert), timeout=5).ok
        assert requests.get(f"http://127.0.0.1:{env['SHARDLYN_PORT']}/v1/docs", timeout=5).ok
        assert requests.get(f"http://127.0.0.1:{env['AUTH_PORT']}/health/ready", timeout=5).ok

        # A second run-all while this one runs stops at once, starts nothing, and says why:
        # with the same data directory (the lock) and with other data but the same ports.
        for other_data, reason in ((env["RUN_ALL_DATA"], "another run-all is already running"),
                                   (str(tmp_path / "other"), "ports are already in use")):
            second = subprocess.run([str(SOURCE_DIR / "tools" / "run-all"), str(BIN_DIR)],
                                    env=dict(env, RUN_ALL_DATA=other_data), capture_output=True, text=True, timeout=30)
            assert second.returncode == 1, second.stdout + second.stderr
            assert reason in second.stderr, second.stderr
            assert "Ctrl-C stops everything" not in second.stdout
        assert not (tmp_path / "other" / "logs" / "auth-server.log").exists(), "the second run-all started services"
        for var in PORTS:  # the last refusal names every busy port
            assert f":{env[var]}" in second.stderr, second.stderr
        # The first one is untouched.
        assert requests.get(f"http://127.0.0.1:{env['AUTH_PORT']}/health", timeout=5).ok
        assert requests.get(f"http://127.0.0.1:{env['TC_PORT']}/health", timeout=5).ok
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the group
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "all services stopped" in rest
    for name in ["auth-server", "manager", "threat-cloud", "shardlyn-api", "shardlyn-agent"]:
        log = (tmp_path / "data" / "logs" / f"{name}.log").read_text()
        assert '"msg":"stopped"' in log, f"{name} did not stop cleanly:\n{log[-2000:]}"


def test_run_all_without_built_binaries_says_how_to_build(tmp_path):
    env = dict(os.environ, RUN_ALL_DATA=str(tmp_path / "data"))
    out = subprocess.run([str(SOURCE_DIR / "tools" / "run-all"), str(tmp_path / "no-bin")], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "is not built" in out.stderr and "make run-all" in out.stderr, out.stderr
