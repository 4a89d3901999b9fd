"""Manager live events and dashboard, driven by independent clients: node `eventsource` over
TLS (trusting only the generated certificate), and Debian Chromium via playwright-core."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import RELAXED_LIMITS, SOURCE_DIR
from pg_helpers import server_rows

FLEET = "s" * 40
JS = Path(__file__).parent / "js"
NODE_PATH = str(SOURCE_DIR / "tools" / "node_modules")


def auth(token=FLEET):
    return {"Authorization": f"Bearer {token}"}


def node(script, *args, env=None, timeout=60):
    full = dict(os.environ, NODE_PATH=NODE_PATH, **(env or {}))
    return subprocess.Popen(["node", str(JS / script), *map(str, args)], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(SOURCE_DIR / "tools"))


def events_of(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def register(server, name):
    return server.request("POST", "/api/agents/register", headers=auth(),
                          json={"hostname": name, "os": "linux", "arch": "x86_64", "version": "1"}).json()["data"]


@pytest.fixture(scope="module")
def manager(module_launch):
    # The default stale/offline thresholds (minutes): agents of these tests never change status
    # on their own, however slow the machine; the transition test has a server of its own.
    return module_launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_SSE_KEEPALIVE_S="1"))


def wait_for_subscribers(server, n, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.get("/health").json()["data"]["streams"] >= n:
            return
        time.sleep(0.05)
    raise AssertionError("the client did not connect")


def test_eventsource_receives_named_events_with_ids(manager):
    proc = node("sse_client.cjs", manager.url("/api/events/stream"), FLEET, 4, 20,
                env={"NODE_EXTRA_CA_CERTS": str(manager.cert_path)})
    wait_for_subscribers(manager, 1)
    a = register(manager, "sse-a")
    manager.request("POST", f"/api/agents/{a['agentId']}/events", headers=auth(a["agentToken"]),
                    json={"threats": [{"event": {"id": "s-1", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                 "source": "x", "severity": "low", "category": "scan", "description": ""},
                                       "verdict": {"conclusion": "suspicious", "confidence": 50}}]})
    manager.request("POST", "/api/policy", headers=auth(),
                    json={"name": "p", "rules": [{"ruleId": "r", "type": "block_ip", "condition": {"ip": "192.0.2.1"},
                                                  "action": "block", "severity": "high"}]})
    events, err = events_of(proc)
    assert [e["type"] for e in events] == ["connected", "agent_online", "threats_reported", "policy_created"], err
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids[1:])) == 3
    assert events[1]["data"]["agentId"] == a["agentId"]
    assert events[2]["data"]["accepted"] == 1


def test_last_event_id_replays_missed_events_and_types_filter(manager):
    r = requests.get(manager.url("/api/events/stream"), headers=auth(), verify=manager.verify, stream=True, timeout=10)
    assert r.headers["Content-Type"].startswith("text/event-stream")
    first = b""
    for chunk in r.iter_content(chunk_size=None):
        first += chunk
        if b"event: connected" in first and first.endswith(b"\n\n"):
            break
    r.close()
    last_id = [line for line in first.decode().splitlines() if line.startswith("id: ")][-1][4:]
    missed = [register(manager, f"missed-{i}")["agentId"] for i in range(3)]

    proc = node("sse_client.cjs", manager.url("/api/events/stream?types=agent_online"), FLEET, 4, 15, last_id,
                env={"NODE_EXTRA_CA_CERTS": str(manager.cert_path)})
    events, err = events_of(proc)
    assert [e["type"] for e in events] == ["connected", "agent_online", "agent_online", "agent_online"], err
    assert [e["data"]["agentId"] for e in events[1:]] == missed


def test_stream_auth_types_and_keepalive(manager):
    assert requests.get(manager.url("/api/events/stream"), verify=manager.verify, timeout=5).status_code == 401
    r = requests.get(manager.url("/api/events/stream?types=bogus"), headers=auth(), verify=manager.verify, timeout=5)
    assert r.status_code == 400
    # EventSource in browsers cannot send headers: the token may come as a query parameter.
    r = requests.get(manager.url(f"/api/events/stream?token={FLEET}"), verify=manager.verify, stream=True, timeout=10)
    assert r.status_code == 200
    got = b""
    deadline = time.monotonic() + 20  # keep-alives every second; the loop ends at the first
    for chunk in r.iter_content(chunk_size=None):
        got += chunk
        if b": keep-alive" in got or time.monotonic() > deadline:
            break
    r.close()
    assert b"retry: 3000" in got and b": keep-alive" in got


def test_status_transitions_are_announced(launch):
    # Stale after 1 s (the sweep runs every second), offline only after an hour: the stale phase
    # is far longer than any delay of a loaded machine; the test then moves the agent's last
    # heartbeat an hour back to make it go offline.
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_STALE_AFTER_S="1",
                                        MANAGER_OFFLINE_AFTER_S="3600"))
    proc = node("sse_client.cjs", server.url("/api/events/stream?types=agent_stale,agent_offline"), FLEET, 3, 90,
                env={"NODE_EXTRA_CA_CERTS": str(server.cert_path)})
    wait_for_subscribers(server, 1)
    a = register(server, "fading")

    def last_status():
        return server_rows(server, "SELECT last_status FROM agents WHERE id = ?", a["agentId"])[0][0]

    deadline = time.monotonic() + 60
    while last_status() != "stale" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert last_status() == "stale"  # the sweep saw it stale and announced it
    server_rows(server, "UPDATE agents SET last_heartbeat = ? WHERE id = ?", int(time.time()) - 7200, a["agentId"],
                write=True)
    events, err = events_of(proc, timeout=120)
    assert [e["type"] for e in events] == ["connected", "agent_stale", "agent_offline"], (events, err)
    assert all(e["data"]["agentId"] == a["agentId"] for e in events[1:])
    assert events[1]["data"]["previous"] == "online" and events[2]["data"]["previous"] == "stale"


def test_graceful_shutdown_ends_streams(launch):
    # A long grace period: a stream that held the shutdown up would take the whole minute, so
    # ending well inside it (and not being killed) shows the streams were closed at once.
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, SHUTDOWN_GRACE_S="60"))
    r = requests.get(server.url("/api/events/stream"), headers=auth(), verify=server.verify, stream=True, timeout=90)
    body = []
    reader = threading.Thread(target=lambda: body.extend(r.iter_content(chunk_size=None)))
    reader.start()
    wait_for_subscribers(server, 1)
    started = time.monotonic()
    assert server.stop(timeout=90) == 0 and not server.killed
    reader.join(timeout=30)
    assert not reader.is_alive() and time.monotonic() - started < 45
    assert b"stream closed by the server" in b"".join(body)


def test_service_wide_limit_refuses_the_61st_request_per_minute(launch):
    # The default (MANAGER_RATE_LIMIT=60/min) as the headers state it: 60 in the bucket, one used.
    server = launch("manager", env={"MANAGER_AUTH_TOKEN": FLEET})
    r = server.get("/api/agents", headers=auth())
    assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "60"
    assert int(r.headers["X-RateLimit-Remaining"]) == 59
    server.stop()
    # The same 60-request bucket refilling one request a minute, so that a slow machine cannot
    # refill it during the burst: exactly 60 pass, the 61st is refused.
    server = launch("manager", env={"MANAGER_AUTH_TOKEN": FLEET, "MANAGER_RATE_LIMIT": "60/h"})
    statuses = [server.get("/api/agents", headers=auth()).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    r = server.get("/api/agents", headers=auth())
    assert 1 <= int(r.headers["Retry-After"]) <= 60 and r.headers["X-RateLimit-Limit"] == "60"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.json()["code"] == "rate_limited"
    assert server.get("/health").status_code == 200  # probes are never limited


def test_overview(manager):
    o = manager.get("/api/overview", headers=auth()).json()["data"]
    assert o["totalAgents"] == o["onlineAgents"] + o["staleAgents"] + o["offlineAgents"] >= 1
    assert o["agentsByOs"]["linux"] >= 1 and len(o["threatTimeline"]) == 24
    assert o["threatSummary"]["last24h"] >= 1 and o["activePolicyVersion"] >= 1 and o["uptimeMs"] > 0
    assert manager.get("/api/overview").status_code == 401


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is installed by bootstrap-deps")
def test_dashboard_in_headless_chromium(launch, tmp_path):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_TLS="off"))
    a = register(server, "dash-1")
    server.request("POST", f"/api/agents/{a['agentId']}/events", headers=auth(a["agentToken"]),
                   json={"threats": [{"event": {"id": "d-1", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                "source": "x", "severity": "high", "category": "malware", "description": ""},
                                      "verdict": {"conclusion": "malicious", "confidence": 99}}]})
    trigger, done, shot = tmp_path / "trigger", tmp_path / "done.json", tmp_path / "dashboard.png"
    proc = node("dashboard.cjs", server.base_url, FLEET, shot, trigger, done)
    deadline = time.monotonic() + 60
    while not trigger.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if trigger.exists():  # both must appear live, without a reload
        b = register(server, "dash-2")
        server.request("POST", f"/api/agents/{b['agentId']}/events", headers=auth(b["agentToken"]),
                       json={"threats": [{"event": {"id": "d-2", "source": "x", "severity": "critical",
                                                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                    "category": "ransomware", "description": ""},
                                          "verdict": {"conclusion": "malicious", "confidence": 97}}]})
    proc.communicate(timeout=60)
    result = json.loads(done.read_text())
    assert result.get("ok"), result
    assert result["total"] == "1" and result["totalAfter"] == "2"
    assert result["agentRows"] == 1 and result["threatRows"] == 1 and result["chartBars"] == 24
    assert result["threatRowsAfter"] == 2
    assert result["errors"] == []
    assert all(u.startswith(server.base_url) for u in result["requests"]), result["requests"]  # no external assets
    assert shot.stat().st_size > 10_000
    # Kept as a test artefact next to the build.
    artefacts = Path(os.environ.get("PLATFORM_BIN_DIR", SOURCE_DIR / "build" / "bin")).parent / "test-artefacts"
    artefacts.mkdir(parents=True, exist_ok=True)
    (artefacts / "manager-dashboard.png").write_bytes(shot.read_bytes())
    r = server.get("/dashboard")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"] and "<script src=\"/dashboard/dashboard.js\">" in r.text


def test_dashboard_sign_in_link_of_a_generated_token(launch):
    """Without MANAGER_AUTH_TOKEN the log's dashboard link signs in by itself; the token travels
    in the fragment only (never in a request) and leaves the address bar at once."""
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_TLS="off"))
    token = (server.data_dir / "secrets" / "MANAGER_AUTH_TOKEN").read_text().strip()
    link = next(line for line in server.log_text().splitlines() if "/dashboard#token=" in line)
    url = json.loads(link)["url"] if link.startswith("{") else link.split("url=")[1].split()[0]
    assert url.endswith(f"/dashboard#token={token}")
    url = url.replace(url.split("/dashboard")[0], server.base_url)  # the port the test picked
    proc = node("open_link.cjs", url, "dashboard")
    out, err = proc.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    assert result.get("ok"), (result, err)
    assert result["total"] == "0" and result["stored"] == token and result["errors"] == []
    assert "#" not in result["location"]
    assert all(token not in r["url"] and token not in (r["referer"] or "") for r in result["requests"])
