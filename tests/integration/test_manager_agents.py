"""Manager agents over TLS (verified against the generated certificate): registration,
per-agent tokens, heartbeats, metrics history, listing with filters, deregistration."""
import functools
import threading
import time

import pytest
import requests

from conftest import RELAXED_LIMITS, assert_error_style, kill_9_during_writes
from pg_helpers import server_rows

FLEET = "f" * 40


@pytest.fixture(scope="module")
def manager(module_launch):
    # Thresholds far beyond any test's duration: a slow machine cannot age an agent by accident;
    # the status test ages one by moving its last heartbeat back.
    return module_launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_STALE_AFTER_S="60",
                                             MANAGER_OFFLINE_AFTER_S="600"))


def fleet(token=FLEET):
    return {"Authorization": f"Bearer {token}"}


def register(manager, **fields):
    body = {"hostname": "web-1", "os": "linux", "arch": "x86_64", "version": "1.2.0"}
    body.update(fields)
    return manager.request("POST", "/api/agents/register", json=body, headers=fleet())


HEARTBEAT = {"timestamp": "2026-11-22T10:00:00Z", "cpuUsage": 12.5, "memUsage": 40, "activeMonitors": 3,
             "threatCount": 1, "eventsProcessed": 1200, "mode": "protection", "uptime": 3600}


def test_register_returns_agent_and_token(manager):
    r = register(manager, hostname="reg-1", ip="10.0.0.7", tags=["prod", "web"], endpoint="https://10.0.0.7:9000")
    assert r.status_code == 201, r.text
    a = r.json()["data"]
    assert a["agentId"].startswith("ag-") and len(a["agentId"]) == 15
    assert a["platform"] == {"os": "linux", "arch": "x86_64", "ip": "10.0.0.7"}
    assert a["tags"] == ["prod", "web"] and a["status"] == "online" and a["agentToken"].startswith("agt_")
    # Only a hash of the token is stored.
    [(stored,)] = server_rows(manager, "SELECT token_hash FROM agents WHERE id = ?", a["agentId"])
    assert a["agentToken"] not in stored and len(stored) == 64


def test_reregistration_is_idempotent_and_rotates_the_token(manager):
    first = register(manager, hostname="same-host", machineId="m-123").json()["data"]
    again = register(manager, hostname="renamed", machineId="m-123")
    assert again.status_code == 200
    second = again.json()["data"]
    assert second["agentId"] == first["agentId"] and second["hostname"] == "renamed"
    assert second["agentToken"] != first["agentToken"]
    url = f"/api/agents/{first['agentId']}"
    assert manager.get(url, headers=fleet(first["agentToken"])).status_code == 401
    assert manager.get(url, headers=fleet(second["agentToken"])).status_code == 200
    # Without machineId the identity is hostname + os + arch.
    x = register(manager, hostname="plain").json()["data"]
    y = register(manager, hostname="plain").json()["data"]
    z = register(manager, hostname="plain", arch="arm64").json()["data"]
    assert x["agentId"] == y["agentId"] != z["agentId"]


def test_agent_token_is_scoped_to_its_own_agent(manager):
    a = register(manager, hostname="scope-a").json()["data"]
    b = register(manager, hostname="scope-b").json()["data"]
    # A valid token on a route it may not use is 403 (seed 000: valid token, insufficient permissions).
    r = manager.request("POST", f"/api/agents/{b['agentId']}/heartbeat", json=HEARTBEAT, headers=fleet(a["agentToken"]))
    assert r.status_code == 403
    assert_error_style(manager, r.json(), 403)
    # An unknown token is 401 with the challenge.
    r = manager.request("POST", f"/api/agents/{b['agentId']}/heartbeat", json=HEARTBEAT, headers=fleet("agt_unknown"))
    assert r.status_code == 401
    assert_error_style(manager, r.json(), 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    # An agent token is not a fleet token.
    assert manager.get("/api/agents", headers=fleet(a["agentToken"])).status_code == 403
    assert manager.request("POST", "/api/agents/register", json={}, headers=fleet(a["agentToken"])).status_code == 403
    assert manager.get("/api/events/stream", headers=fleet(a["agentToken"])).status_code == 403


def test_heartbeat_records_metrics_history(manager):
    a = register(manager, hostname="hb-1").json()["data"]
    token = fleet(a["agentToken"])
    for i in range(3):
        body = dict(HEARTBEAT, cpuUsage=10 + i, version="1.3.0" if i == 2 else None)
        body = {k: v for k, v in body.items() if v is not None}
        r = manager.request("POST", f"/api/agents/{a['agentId']}/heartbeat", json=body, headers=token)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["status"] == "online" and data["mode"] == "protection" and data["policyVersion"] == 0
    assert data["version"] == "1.3.0"
    r = manager.get(f"/api/agents/{a['agentId']}/metrics", headers=token)
    assert r.status_code == 200
    body = r.json()
    assert [s["cpuUsage"] for s in body["data"]] == [10, 11, 12]
    assert body["pagination"] == {"total": 3, "page": 1, "limit": 50, "pages": 1}
    r = manager.get(f"/api/agents/{a['agentId']}/metrics?since=2999-01-01T00:00:00Z", headers=token)
    assert r.json()["data"] == []
    assert manager.get(f"/api/agents/{a['agentId']}/metrics?since=yesterday", headers=token).status_code == 400


@pytest.mark.parametrize("field,value", [
    ("cpuUsage", 101), ("cpuUsage", "high"), ("memUsage", -1), ("activeMonitors", 1.5), ("mode", "sleeping"),
    ("uptime", -3), ("timestamp", "not-a-time"), ("eventsProcessed", None),
])
def test_heartbeat_validation(manager, field, value):
    a = register(manager, hostname="hb-validate").json()["data"]
    body = dict(HEARTBEAT)
    if value is None:
        del body[field]
    else:
        body[field] = value
    r = manager.request("POST", f"/api/agents/{a['agentId']}/heartbeat", json=body, headers=fleet())
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "validation_error" and field in r.json()["error"]


@pytest.mark.parametrize("body,field", [
    ({"os": "linux", "arch": "x86_64", "version": "1"}, "hostname"),
    ({"hostname": "", "os": "linux", "arch": "x86_64", "version": "1"}, "hostname"),
    ({"hostname": "a\u0000b", "os": "linux", "arch": "x86_64", "version": "1"}, "hostname"),
    ({"hostname": "h", "os": "linux", "arch": "x86_64", "version": "1", "tags": "prod"}, "tags"),
    ({"hostname": "h", "os": "linux", "arch": "x86_64", "version": "1", "endpoint": "ftp://x"}, "endpoint"),
    ({"hostname": "h", "os": 7, "arch": "x86_64", "version": "1"}, "os"),
])
def test_registration_validation(manager, body, field):
    r = manager.request("POST", "/api/agents/register", json=body, headers=fleet())
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]


def test_registration_requires_json(manager):
    r = manager.request("POST", "/api/agents/register", data="hostname=x", headers=fleet())
    assert r.status_code == 415


def test_unknown_agent_is_404_for_the_fleet(manager):
    assert manager.get("/api/agents/ag-000000000000", headers=fleet()).status_code == 404
    r = manager.request("POST", "/api/agents/ag-000000000000/heartbeat", json=HEARTBEAT, headers=fleet())
    assert r.status_code == 404
    assert manager.request("DELETE", "/api/agents/ag-000000000000", headers=fleet()).status_code == 404


def test_list_filters_and_pagination(manager):
    a = register(manager, hostname="list-linux", tags=["edge"]).json()["data"]
    register(manager, hostname="list-windows", os="windows")
    r = manager.get("/api/agents?os=windows", headers=fleet())
    assert {x["hostname"] for x in r.json()["data"]} == {"list-windows"}
    r = manager.get("/api/agents?tag=edge", headers=fleet())
    assert [x["agentId"] for x in r.json()["data"]] == [a["agentId"]]
    r = manager.get("/api/agents?search=LIST-", headers=fleet())
    assert len(r.json()["data"]) == 2
    r = manager.get("/api/agents?limit=1&page=2", headers=fleet())
    body = r.json()
    assert len(body["data"]) == 1 and body["pagination"]["limit"] == 1 and body["pagination"]["page"] == 2
    assert manager.get("/api/agents?limit=1000", headers=fleet()).json()["pagination"]["limit"] == 200
    assert manager.get("/api/agents?status=sleepy", headers=fleet()).status_code == 400
    assert manager.get("/api/agents?page=0", headers=fleet()).status_code == 400
    assert manager.get("/api/agents").status_code == 401


def test_status_is_derived_from_heartbeats(manager):
    a = register(manager, hostname="status-1").json()["data"]
    url = f"/api/agents/{a['agentId']}"
    assert manager.get(url, headers=fleet()).json()["data"]["status"] == "online"

    def heard_of_ago(seconds):
        server_rows(manager, "UPDATE agents SET last_heartbeat = ? WHERE id = ?", int(time.time()) - seconds,
                    a["agentId"], write=True)

    def listed(status):
        return {x["agentId"] for x in manager.get(f"/api/agents?status={status}&limit=200", headers=fleet()).json()["data"]}

    # Stale after 60 s without a heartbeat, offline after 600 s (the fixture's settings); the
    # ages chosen lie minutes away from either border, whatever the machine's speed.
    assert a["agentId"] in listed("online")
    heard_of_ago(300)
    assert manager.get(url, headers=fleet()).json()["data"]["status"] == "stale"
    assert a["agentId"] in listed("stale") and a["agentId"] not in listed("online") | listed("offline")
    heard_of_ago(3600)
    assert manager.get(url, headers=fleet()).json()["data"]["status"] == "offline"
    assert a["agentId"] in listed("offline") and a["agentId"] not in listed("stale")
    manager.request("POST", f"{url}/heartbeat", json=HEARTBEAT, headers=fleet(a["agentToken"]))
    assert manager.get(url, headers=fleet()).json()["data"]["status"] == "online"


def test_deregistered_agent_token_stops_working(manager):
    a = register(manager, hostname="gone").json()["data"]
    url = f"/api/agents/{a['agentId']}"
    r = manager.request("DELETE", url, headers=fleet())
    assert r.status_code == 200 and r.json()["data"] == {"agentId": a["agentId"], "deregistered": True}
    assert manager.request("POST", f"{url}/heartbeat", json=HEARTBEAT, headers=fleet(a["agentToken"])).status_code == 401
    assert manager.get(url, headers=fleet()).status_code == 404


def test_token_changes_count_from_the_next_request_even_when_remembered(manager):
    # Agent tokens are checked from memory once seen: every way a token stops being valid
    # (rotation, deregistration, an edit by another process) must still end it at once.
    def beat(agent, token):
        return manager.request("POST", f"/api/agents/{agent}/heartbeat", json=HEARTBEAT,
                               headers=fleet(token)).status_code

    first = register(manager, hostname="cached", machineId="m-cached").json()["data"]
    agent = first["agentId"]
    assert beat(agent, first["agentToken"]) == 200 and beat(agent, first["agentToken"]) == 200
    second = register(manager, hostname="cached", machineId="m-cached").json()["data"]
    assert beat(agent, first["agentToken"]) == 401
    assert beat(agent, second["agentToken"]) == 200
    server_rows(manager, "UPDATE agents SET token_hash = ? WHERE id = ?", "0" * 64, agent, write=True)
    assert beat(agent, second["agentToken"]) == 401
    third = register(manager, hostname="cached", machineId="m-cached").json()["data"]
    assert beat(agent, third["agentToken"]) == 200
    assert manager.request("DELETE", f"/api/agents/{agent}", headers=fleet()).status_code == 200
    assert beat(agent, third["agentToken"]) == 401


def test_agent_limit_is_409(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_MAX_AGENTS="2"))
    for i in range(2):
        assert register(server, hostname=f"cap-{i}").status_code == 201
    r = register(server, hostname="cap-2")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert register(server, hostname="cap-0").status_code == 200  # re-registration still works


def test_agents_survive_restart(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET))
    a = register(server, hostname="persist").json()["data"]
    assert server.stop() == 0
    again = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET), data_dir=server.data_dir)
    r = again.get(f"/api/agents/{a['agentId']}", headers=fleet(a["agentToken"]))
    assert r.status_code == 200 and r.json()["data"]["hostname"] == "persist"


def test_without_fleet_token_a_generated_one_is_required(launch):
    """No address is trusted: without MANAGER_AUTH_TOKEN one is generated into DATA_DIR/secrets
    (kept across restarts) and every caller, loopback or forwarded, must present it."""
    server = launch("manager", env=dict(RELAXED_LIMITS, TRUST_PROXY="1"))
    body = {"hostname": "lo", "os": "linux", "arch": "x86_64", "version": "1"}
    assert server.request("POST", "/api/agents/register", json=body).status_code == 401  # loopback, no token
    # The spoofing of the attack report: a forwarded loopback address first, the real client last.
    for xff in ("127.0.0.1, 203.0.113.7", "127.0.0.1", "::1", "203.0.113.7, 127.0.0.1"):
        r = server.request("POST", "/api/agents/register", json=body, headers={"X-Forwarded-For": xff})
        assert r.status_code == 401, xff
        assert server.get("/api/agents", headers={"X-Forwarded-For": xff}).status_code == 401, xff
        assert server.get("/api/overview", headers={"X-Forwarded-For": xff}).status_code == 401, xff
    secret = server.data_dir / "secrets" / "MANAGER_AUTH_TOKEN"
    token = secret.read_text().strip()
    assert len(token) >= 32 and (secret.stat().st_mode & 0o777) == 0o600
    assert register(server, hostname="lo").status_code == 401  # not the tests' fleet token either
    r = server.request("POST", "/api/agents/register", json=body, headers=fleet(token))
    assert r.status_code == 201
    # The log offers a dashboard link that signs in with it (in the fragment, never sent to a server).
    assert f"/dashboard#token={token}" in server.log_text()
    assert server.stop() == 0
    again = launch("manager", env=dict(RELAXED_LIMITS), data_dir=server.data_dir)
    assert again.get("/api/agents", headers=fleet(token)).json()["pagination"]["total"] == 1
    # Production still requires the variable.
    prod = launch("manager", env={"APP_ENV": "production", "MANAGER_TLS": "off"}, wait=False)
    assert prod.process.wait(timeout=15) == 2
    assert "MANAGER_AUTH_TOKEN is required" in prod.log_text()


def test_agent_record_has_recent_threats_and_policy_version(manager):
    a = register(manager, hostname="detail-1").json()["data"]
    token = fleet(a["agentToken"])
    url = f"/api/agents/{a['agentId']}"
    detail = manager.get(url, headers=token).json()["data"]
    assert detail["recentThreats"] == [] and detail["policyVersion"] == 0
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    threats = [{"event": {"id": f"detail-{i}", "timestamp": stamp, "source": "ssh", "severity": "high",
                          "category": "brute_force", "description": f"attempt {i}"},
                "verdict": {"conclusion": "malicious", "confidence": 80}} for i in range(12)]
    assert manager.request("POST", f"{url}/events", json={"threats": threats}, headers=token).status_code == 201
    policy = {"name": "detail", "rules": [{"ruleId": "r1", "type": "block_ip", "condition": {"ip": "192.0.2.1"},
                                           "action": "block", "severity": "high", "enabled": True}]}
    published = manager.request("POST", "/api/policy", json=policy, headers=fleet())
    assert published.status_code == 201, published.text
    detail = manager.get(url, headers=token).json()["data"]
    assert detail["policyVersion"] == published.json()["data"]["version"]
    beat = manager.request("POST", f"{url}/heartbeat", json=HEARTBEAT, headers=token).json()["data"]
    assert beat["policyVersion"] == detail["policyVersion"]
    recent = detail["recentThreats"]
    assert len(recent) == 10 and all(t["agentId"] == a["agentId"] for t in recent)
    assert {t["eventId"] for t in recent} <= {f"detail-{i}" for i in range(12)}


def test_agent_routes_are_limited_per_agent_not_per_address(launch):
    """Agents behind one address each get MANAGER_AGENT_RATE_LIMIT; the dashboard's files count
    in the static bucket (STATIC_RATE_LIMIT), not against the API's per-IP limit; failed agent authentications still cost the per-IP budget."""
    server = launch("manager", env={"MANAGER_AUTH_TOKEN": FLEET, "MANAGER_RATE_LIMIT": "6/min",
                                    "MANAGER_AGENT_RATE_LIMIT": "3/min"})
    a, b = (register(server, hostname=h).json()["data"] for h in ("lim-a", "lim-b"))  # 2 of the 6 per IP
    for agent in (a, b):
        url = f"/api/agents/{agent['agentId']}/heartbeat"
        for _ in range(3):
            r = server.request("POST", url, json=HEARTBEAT, headers=fleet(agent["agentToken"]))
            assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "3", r.text
        r = server.request("POST", url, json=HEARTBEAT, headers=fleet(agent["agentToken"]))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    for _ in range(10):
        for path in ("/dashboard", "/dashboard/dashboard.js", "/dashboard/dashboard.css"):
            r = server.get(path)
            assert r.status_code == 200 and r.headers.get("X-RateLimit-Limit") != "6"
    r = server.get("/api/agents", headers=fleet())
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "3"
    url = f"/api/agents/{a['agentId']}/heartbeat"
    statuses = [server.request("POST", url, json=HEARTBEAT, headers=fleet("agt_guess")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_acknowledged_heartbeats_survive_kill_9(launch):
    """Every heartbeat answered 200 is in the metrics history after a kill -9 in the middle of a
    burst from several agents (each heartbeat carries a unique uptime to find it by)."""
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET))
    agents = [register(server, hostname=f"beat-{n}").json()["data"] for n in range(4)]
    acknowledged, lock = [], threading.Lock()

    def beater(agent, stop):
        session = requests.Session()
        for i in range(2000):
            if stop.is_set():
                return
            body = dict(HEARTBEAT, uptime=i)
            try:
                r = session.post(server.url(f"/api/agents/{agent['agentId']}/heartbeat"), json=body,
                                 headers=fleet(agent["agentToken"]), verify=server.verify, timeout=10)
            except requests.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acknowledged.append((agent["agentId"], i))

    kill_9_during_writes(server, [functools.partial(beater, a) for a in agents], acknowledged)
    # (psql gives every value as text)
    stored = {(agent, int(uptime)) for agent, uptime in server_rows(server, "SELECT agent_id, uptime FROM agent_metrics")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged heartbeats lost"
