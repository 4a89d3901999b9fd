"""Manager threat events: idempotent batch ingestion, correlation across agents, escalation to
critical on 3+ agents, listing with filters, summary, validation, durability."""
import functools
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import RELAXED_LIMITS, kill_9_during_writes
import pg_helpers
from pg_helpers import server_rows

FLEET = "t" * 40


def auth(token=FLEET):
    return {"Authorization": f"Bearer {token}"}


def ts(offset_s=0):
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(event_id, severity="medium", category="brute_force", metadata=None, offset_s=0, conclusion="malicious"):
    return {"event": {"id": event_id, "timestamp": ts(offset_s), "source": "ssh", "severity": severity,
                      "category": category, "description": "failed logins", "raw": {"line": "Failed password"},
                      "host": "web-1", "metadata": metadata or {}},
            "verdict": {"conclusion": conclusion, "confidence": 90, "action": "block"}}


@pytest.fixture(scope="module")
def manager(module_launch):
    return module_launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET,
                                             MANAGER_CORRELATION_WINDOW_S="300"))


_names = iter(range(1_000_000))


def new_agent(manager, name):
    name = f"{name}-{next(_names)}"
    r = manager.request("POST", "/api/agents/register", headers=auth(),
                        json={"hostname": name, "os": "linux", "arch": "x86_64", "version": "1.0"})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def send(manager, agent, threats, token=None):
    return manager.request("POST", f"/api/agents/{agent['agentId']}/events",
                           json={"threats": threats, "reportedAt": ts()}, headers=auth(token or agent["agentToken"]))


def test_ingestion_is_idempotent_by_event_id(manager):
    a = new_agent(manager, "idem")
    r = send(manager, a, [report("e-1"), report("e-2")])
    assert r.status_code == 201, r.text  # created (seed 000); a pure retry below is 200
    body = r.json()["data"]
    assert body["accepted"] == 2 and body["duplicates"] == 0
    t = body["threats"][0]
    assert t["id"].startswith("th-") and t["agentId"] == a["agentId"] and t["eventId"] == "e-1"
    assert t["verdict"] == {"conclusion": "malicious", "confidence": 90, "action": "block"}
    assert t["raw"] == {"line": "Failed password"}  # an object comes back as the object sent
    again = send(manager, a, [report("e-1"), report("e-3")])
    assert again.status_code == 201
    again = again.json()["data"]
    assert again["accepted"] == 1 and again["duplicates"] == 1
    retry = send(manager, a, [report("e-1")])
    assert retry.status_code == 200 and retry.json()["data"]["accepted"] == 0
    stored = manager.get(f"/api/threats/{t['id']}", headers=auth()).json()["data"]
    assert stored["raw"] == {"line": "Failed password"}
    texts = send(manager, a, [dict(report("e-raw-text"), event=dict(report("e-raw-text")["event"], raw="plain line"))])
    assert texts.json()["data"]["threats"][0]["raw"] == "plain line"
    r = manager.get(f"/api/threats?agentId={a['agentId']}", headers=auth())
    assert r.json()["pagination"]["total"] == 4  # e-1, e-2, e-3 and the plain-text one


def test_correlation_and_escalation_on_three_agents(manager):
    agents = [new_agent(manager, f"corr-{i}") for i in range(3)]
    ip_keys = ["sourceIP", "src_ip", "attacker_ip"]
    ids = []
    for i, a in enumerate(agents):
        data = send(manager, a, [report(f"c-{i}", severity="low", metadata={ip_keys[i]: "198.51.100.23"})]).json()["data"]
        ids.append(data["threats"][0]["id"])
        if i == 0:
            assert data["threats"][0]["correlatedWith"] == []
        if i == 1:
            assert data["threats"][0]["correlatedWith"] == [ids[0]]
            assert data["threats"][0]["severity"] == "low"  # two agents: linked, not escalated
    third = manager.get(f"/api/threats/{ids[2]}", headers=auth()).json()["data"]
    assert sorted(third["correlatedWith"]) == sorted(ids[:2])
    for tid in ids:
        t = manager.get(f"/api/threats/{tid}", headers=auth()).json()["data"]
        assert t["severity"] == "critical" and t["originalSeverity"] == "low" and t["sourceIp"] == "198.51.100.23"


def test_correlation_by_file_hash_and_not_within_one_agent(manager):
    a, b = new_agent(manager, "hash-a"), new_agent(manager, "hash-b")
    h = "D41D8CD98F00B204E9800998ECF8427E"
    first = send(manager, a, [report("h-1", metadata={"md5": h}), report("h-2", metadata={"md5": h})]).json()["data"]
    assert all(t["correlatedWith"] == [] for t in first["threats"])  # same agent: no link
    second = send(manager, b, [report("h-3", metadata={"fileHash": h.lower()})]).json()["data"]["threats"][0]
    assert sorted(second["correlatedWith"]) == sorted(t["id"] for t in first["threats"])
    assert second["fileHash"] == h.lower()


def test_no_correlation_outside_the_window(manager):
    a, b = new_agent(manager, "win-a"), new_agent(manager, "win-b")
    send(manager, a, [report("w-1", metadata={"client_ip": "203.0.113.77"}, offset_s=-3600)])
    t = send(manager, b, [report("w-2", metadata={"client_ip": "203.0.113.77"})]).json()["data"]["threats"][0]
    assert t["correlatedWith"] == []


def test_list_filters_and_summary(manager):
    a = new_agent(manager, "filters")
    send(manager, a, [report("f-1", severity="high", category="malware", conclusion="suspicious"),
                      report("f-2", severity="info", category="scan", offset_s=-7200, conclusion="benign")])
    q = f"/api/threats?agentId={a['agentId']}"
    assert [t["eventId"] for t in manager.get(q + "&severity=high", headers=auth()).json()["data"]] == ["f-1"]
    assert [t["eventId"] for t in manager.get(q + "&category=scan", headers=auth()).json()["data"]] == ["f-2"]
    assert [t["eventId"] for t in manager.get(q + "&conclusion=benign", headers=auth()).json()["data"]] == ["f-2"]
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [t["eventId"] for t in manager.get(q + f"&since={since}", headers=auth()).json()["data"]] == ["f-1"]
    assert [t["eventId"] for t in manager.get(q, headers=auth()).json()["data"]] == ["f-1", "f-2"]  # newest first
    for bad in ["severity=urgent", "since=today", "conclusion=maybe", "limit=0"]:
        assert manager.get(f"/api/threats?{bad}", headers=auth()).status_code == 400, bad

    s = manager.get("/api/threats/summary?period=1h", headers=auth()).json()["data"]
    assert s["period"] == "1h" and s["total"] >= 1 and s["bySeverity"].get("high", 0) >= 1
    assert any(x["agentId"] == a["agentId"] for x in s["topAgents"])
    assert s["correlatedGroups"] >= 2  # the shared IP and the shared hash above
    assert any(x["ip"] == "198.51.100.23" and x["count"] >= 3 for x in s["topSourceIps"])
    assert manager.get("/api/threats/summary?period=2y", headers=auth()).status_code == 400
    assert manager.get("/api/threats/summary").status_code == 401


@pytest.mark.parametrize("mutate,needle", [
    (lambda t: t["event"].pop("id"), "'id' is required"),
    (lambda t: t["event"].update(severity="severe"), "severity"),
    (lambda t: t["event"].update(timestamp="yesterday"), "timestamp"),
    (lambda t: t["verdict"].update(confidence=101), "confidence"),
    (lambda t: t["verdict"].update(conclusion="unsure"), "conclusion"),
    (lambda t: t.pop("verdict"), "verdict"),
    (lambda t: t["event"].update(metadata=[1]), "metadata"),
])
def test_report_validation_names_item_and_field(manager, mutate, needle):
    a = new_agent(manager, "validate")
    bad = report("v-2")
    mutate(bad)
    r = send(manager, a, [report("v-1"), bad])
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("threats[1]") and needle in r.json()["error"]
    # Nothing of a rejected batch is stored.
    assert manager.get(f"/api/threats?agentId={a['agentId']}", headers=auth()).json()["pagination"]["total"] == 0


@pytest.mark.parametrize("mutate, unknown", [
    (lambda t: t["event"].update(severty="high"), "threats[1].event.severty"),
    (lambda t: t["verdict"].update(allow=True), "threats[1].verdict.allow"),
    (lambda t: t.update(agent="web-1"), "threats[1].agent"),
])
def test_unknown_nested_members_are_refused_by_path(manager, mutate, unknown):
    """The document closes a report, its event and its verdict (decision 0023): a misspelt name
    inside them is a 400 naming its path, and nothing of the batch is stored. metadata and raw
    stay free-form."""
    a = new_agent(manager, "nested")
    bad = report("n-2", metadata={"anything": {"goes": 1}})
    mutate(bad)
    r = send(manager, a, [report("n-1"), bad])
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "validation_error" and f"unknown field '{unknown}'" in r.json()["error"], r.text
    assert "(accepted: " in r.json()["error"]
    assert manager.get(f"/api/threats?agentId={a['agentId']}", headers=auth()).json()["pagination"]["total"] == 0
    assert send(manager, a, [report("n-3", metadata={"anything": {"goes": 1}})]).status_code == 201


def test_batch_limits(manager):
    a = new_agent(manager, "batch")
    assert send(manager, a, []).status_code == 400
    r = send(manager, a, [report(f"b-{i}") for i in range(1001)])
    assert r.status_code == 400 and "1000" in r.json()["error"]
    r = send(manager, a, [report(f"b-{i}") for i in range(1000)])
    assert r.status_code == 201 and r.json()["data"]["accepted"] == 1000


def test_agent_boundaries(manager):
    a, b = new_agent(manager, "bound-a"), new_agent(manager, "bound-b")
    # A valid agent token where it may not go is 403 (seed 000), an unknown one 401.
    assert send(manager, b, [report("x")], token=a["agentToken"]).status_code == 403
    assert send(manager, b, [report("x")], token="agt_" + "0" * 43).status_code == 401
    r = manager.request("POST", "/api/agents/ag-000000000000/events", json={"threats": [report("x")]}, headers=auth())
    assert r.status_code == 404
    assert manager.get("/api/threats/th-000000000000", headers=auth()).status_code == 404
    assert manager.get("/api/threats", headers=auth(a["agentToken"])).status_code == 403


def test_acknowledged_threats_survive_kill_9(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET))
    agent = new_agent(server, "durable")
    acknowledged, lock = [], threading.Lock()

    def writer(n, stop):
        session = requests.Session()
        for i in range(200):
            if stop.is_set():
                return
            batch = [report(f"k-{n}-{i}-{j}") for j in range(20)]
            try:
                r = session.post(server.url(f"/api/agents/{agent['agentId']}/events"), json={"threats": batch},
                                 headers=auth(agent["agentToken"]), verify=server.verify, timeout=10)
            except requests.RequestException:
                return
            if r.status_code in (200, 201):
                with lock:
                    acknowledged.extend(t["event"]["id"] for t in batch)

    kill_9_during_writes(server, [functools.partial(writer, n) for n in range(4)], acknowledged)
    if not pg_helpers.POSTGRES:
        assert server_rows(server, "PRAGMA integrity_check")[0][0] == "ok"
    stored = {row[0] for row in server_rows(server, "SELECT event_id FROM threats")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events lost"


def test_retention_job_purges_old_threats(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN=FLEET, MANAGER_THREAT_RETENTION_DAYS="1",
                                        MANAGER_RETENTION_SWEEP_S="1"))
    agent = new_agent(server, "retention")
    ids = [t["id"] for t in send(server, agent, [report("old-1"), report("new-1")]).json()["data"]["threats"]]
    server_rows(server, "UPDATE threats SET received_at = received_at - 2 * 86400 WHERE id = ?", ids[0], write=True)
    deadline = time.monotonic() + 30  # the sweep runs every second; a loaded machine may lag
    while time.monotonic() < deadline and server.get(f"/api/threats/{ids[0]}", headers=auth()).status_code == 200:
        time.sleep(0.2)
    assert server.get(f"/api/threats/{ids[0]}", headers=auth()).status_code == 404
    assert server.get(f"/api/threats/{ids[1]}", headers=auth()).status_code == 200
