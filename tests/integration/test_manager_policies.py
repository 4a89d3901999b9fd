"""Manager policies: per-type rule validation, versions and history, per-agent overrides, and
the version agents see in heartbeat answers."""
import pytest

from conftest import RELAXED_LIMITS

FLEET = "p" * 40
HEARTBEAT = {"cpuUsage": 1, "memUsage": 2, "activeMonitors": 1, "threatCount": 0, "eventsProcessed": 0,
             "mode": "learning", "uptime": 5}


def auth(token=FLEET):
    return {"Authorization": f"Bearer {token}"}


RULES = [
    {"ruleId": "r1", "type": "block_ip", "condition": {"ip": "198.51.100.0/24"}, "action": "block", "severity": "high"},
    {"ruleId": "r2", "type": "alert_threshold", "condition": {"metric": "cpuUsage", "threshold": 90},
     "action": "alert", "severity": "medium", "description": "hot CPU"},
    {"ruleId": "r3", "type": "auto_respond", "condition": {"category": "ransomware", "minConfidence": 80},
     "action": "isolate_host", "severity": "critical", "enabled": False},
    {"ruleId": "r4", "type": "custom", "condition": {"yara": "rule x { condition: true }"}, "action": "scan",
     "severity": "low"},
]


@pytest.fixture(scope="module")
def manager(module_launch):
    return module_launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET))


def agent(manager, name):
    r = manager.request("POST", "/api/agents/register", headers=auth(),
                        json={"hostname": name, "os": "linux", "arch": "x86_64", "version": "1"})
    return r.json()["data"]


def publish(manager, name="baseline", rules=RULES, **extra):
    return manager.request("POST", "/api/policy", json=dict(name=name, rules=rules, **extra), headers=auth())


def test_versions_history_and_heartbeat_version(manager):
    assert manager.get("/api/policy/active", headers=auth()).status_code == 404
    a = agent(manager, "pol-a")
    hb = manager.request("POST", f"/api/agents/{a['agentId']}/heartbeat", json=HEARTBEAT, headers=auth(a["agentToken"]))
    assert hb.json()["data"]["policyVersion"] == 0

    first = publish(manager)
    assert first.status_code == 201, first.text
    p1 = first.json()["data"]
    assert p1["policyId"].startswith("pol-") and len(p1["policyId"]) == 12 and p1["scope"] == "fleet"
    assert [r["ruleId"] for r in p1["rules"]] == ["r1", "r2", "r3", "r4"]
    assert p1["rules"][1]["condition"]["windowSeconds"] == 60 and p1["rules"][0]["enabled"] is True
    assert p1["rules"][2]["enabled"] is False and p1["appliedTo"] >= 1
    p2 = publish(manager, name="tighter", rules=RULES[:1]).json()["data"]
    assert p2["version"] > p1["version"]

    active = manager.get("/api/policy/active", headers=auth()).json()["data"]
    assert active["version"] == p2["version"] and active["name"] == "tighter"
    hist = manager.get("/api/policy/history", headers=auth()).json()
    assert [p["version"] for p in hist["data"]][:2] == [p2["version"], p1["version"]]
    hb = manager.request("POST", f"/api/agents/{a['agentId']}/heartbeat", json=HEARTBEAT, headers=auth(a["agentToken"]))
    assert hb.json()["data"]["policyVersion"] == p2["version"]
    # The agent fetches its policy with its own token.
    mine = manager.get(f"/api/policy/agent/{a['agentId']}", headers=auth(a["agentToken"]))
    assert mine.status_code == 200 and mine.json()["data"]["version"] == p2["version"]


def test_agent_override_and_clear(manager):
    publish(manager)
    a, b = agent(manager, "ovr-a"), agent(manager, "ovr-b")
    r = manager.request("PUT", f"/api/policy/agent/{a['agentId']}", json={"name": "special", "rules": RULES[3:]},
                        headers=auth())
    assert r.status_code == 200, r.text
    override = r.json()["data"]
    assert override["scope"] == "agent" and override["appliedTo"] == 1
    assert manager.get(f"/api/policy/agent/{a['agentId']}", headers=auth()).json()["data"]["version"] == override["version"]
    active = manager.get("/api/policy/active", headers=auth()).json()["data"]
    assert active["version"] != override["version"]  # overrides are not the fleet policy
    assert manager.get(f"/api/policy/agent/{b['agentId']}", headers=auth()).json()["data"]["version"] == active["version"]
    hb = manager.request("POST", f"/api/agents/{a['agentId']}/heartbeat", json=HEARTBEAT, headers=auth(a["agentToken"]))
    assert hb.json()["data"]["policyVersion"] == override["version"]

    assert manager.request("DELETE", f"/api/policy/agent/{a['agentId']}", headers=auth()).status_code == 200
    assert manager.get(f"/api/policy/agent/{a['agentId']}", headers=auth()).json()["data"]["version"] == active["version"]
    assert manager.request("DELETE", f"/api/policy/agent/{a['agentId']}", headers=auth()).status_code == 404
    # Agents may read but not set their own policy.
    r = manager.request("PUT", f"/api/policy/agent/{a['agentId']}", json={"name": "x", "rules": []},
                        headers=auth(a["agentToken"]))
    assert r.status_code == 403  # a valid agent token, but not for this route
    assert manager.request("PUT", "/api/policy/agent/ag-000000000000", json={"name": "x", "rules": []},
                           headers=auth()).status_code == 404


@pytest.mark.parametrize("rule,needle", [
    ({"type": "block_ip", "condition": {"ip": "999.1.1.1"}, "action": "block"}, "condition.ip"),
    ({"type": "block_ip", "condition": {"ip": "10.0.0.0/33"}, "action": "block"}, "condition.ip"),
    ({"type": "block_ip", "condition": {"ip": "10.0.0.1"}, "action": "alert"}, "action"),
    ({"type": "alert_threshold", "condition": {"metric": "cpu"}, "action": "alert"}, "threshold"),
    ({"type": "alert_threshold", "condition": {"metric": "cpu", "threshold": 1, "windowSeconds": 0},
      "action": "alert"}, "windowSeconds"),
    ({"type": "auto_respond", "condition": {}, "action": "isolate_host"}, "category"),
    ({"type": "auto_respond", "condition": {"category": "x"}, "action": "reboot"}, "action"),
    ({"type": "teleport", "condition": {}, "action": "x"}, "type"),
    ({"type": "custom", "action": "x"}, "condition"),
])
def test_rule_validation(manager, rule, needle):
    rule = dict({"ruleId": "bad", "severity": "low"}, **rule)
    r = publish(manager, rules=[RULES[0], rule])
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("rules[1]") and needle in r.json()["error"]


def test_a_misspelt_rule_member_is_refused_by_path(manager):
    """The document closes a rule (decision 0023): `enable` for `enabled` would have published an
    enabled rule; it is a 400 naming the path, and no version is published."""
    before = manager.get("/api/policy/history", headers=auth())
    assert before.status_code == 200, before.text
    before = before.json()
    r = publish(manager, rules=[RULES[0], dict(RULES[1], enable=False)])
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text
    assert "unknown field 'rules[1].enable'" in r.json()["error"] and "rules[1].enabled" in r.json()["error"]
    assert manager.get("/api/policy/history", headers=auth()).json() == before


def test_policy_body_validation(manager):
    assert publish(manager, name="").status_code == 400
    assert publish(manager, rules="all").status_code == 400
    dup = publish(manager, rules=[RULES[0], dict(RULES[1], ruleId="r1")])
    assert dup.status_code == 400 and "unique" in dup.json()["error"]
    assert manager.request("POST", "/api/policy", json={"name": "x", "rules": []}).status_code == 401


class AgentEndpoint:
    """A stand-in agent push endpoint on 127.0.0.1 that records what it receives."""

    def __init__(self, status=200):
        import http.server
        import threading
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_broadcast_pushes_signed_policy_and_reports_per_agent(launch):
    import hashlib
    import hmac
    import json
    from conftest import free_port

    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET))
    good, failing = AgentEndpoint(200), AgentEndpoint(503)
    try:
        ok_agent = server.request("POST", "/api/agents/register", headers=auth(), json={
            "hostname": "push-ok", "os": "linux", "arch": "x86_64", "version": "1", "endpoint": good.url + "/"}).json()["data"]
        bad_agent = server.request("POST", "/api/agents/register", headers=auth(), json={
            "hostname": "push-503", "os": "linux", "arch": "x86_64", "version": "1", "endpoint": failing.url}).json()["data"]
        gone_agent = server.request("POST", "/api/agents/register", headers=auth(), json={
            "hostname": "push-gone", "os": "linux", "arch": "x86_64", "version": "1",
            "endpoint": f"http://127.0.0.1:{free_port()}"}).json()["data"]
        server.request("POST", "/api/agents/register", headers=auth(), json={
            "hostname": "push-none", "os": "linux", "arch": "x86_64", "version": "1"})  # polls instead

        r = server.request("POST", "/api/policy", headers=auth(), json={"name": "pushed", "rules": RULES, "broadcast": True})
        assert r.status_code == 201, r.text
        data = r.json()["data"]
        report = {x["agentId"]: x for x in data["broadcast"]["results"]}
        assert data["broadcast"]["attempted"] == 3 and data["broadcast"]["succeeded"] == 1
        assert report[ok_agent["agentId"]] == {"agentId": ok_agent["agentId"], "ok": True, "attempts": 1, "status": 200}
        assert report[bad_agent["agentId"]]["status"] == 503 and report[bad_agent["agentId"]]["attempts"] == 2
        assert report[gone_agent["agentId"]]["ok"] is False and "error" in report[gone_agent["agentId"]]
        assert len(failing.received) == 2  # one retry

        path, headers, body = good.received[0]
        assert path == "/api/policy/push"
        pushed = json.loads(body)
        assert pushed["policy"]["version"] == data["version"] and "timestamp" in pushed
        key = hashlib.sha256(ok_agent["agentToken"].encode()).hexdigest().encode()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        assert headers["X-Manager-Signature"] == expected
    finally:
        good.close()
        failing.close()
