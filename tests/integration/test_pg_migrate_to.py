"""`threat-cloud migrate-to postgres://...` (and `manager migrate-to`): an existing SQLite store moves into an empty
PostgreSQL database; row counts match table by table (sqlite3 module against psql), and a server
started on DATABASE_URL over the same DATA_DIR answers as the SQLite one did, the API keys it
created included (their digests' pepper moves with the data). A second copy is refused."""
from __future__ import annotations

import json
import subprocess
import uuid

import pg_helpers
from conftest import binary
from threat_cloud_helpers import ADMIN, RELAXED, auth, create_key, post_threats, threat_event, upload

ENV = {**RELAXED, "TC_ANONYMIZE_UPLOADS": "false"}
TABLES = ["service_meta", "api_keys", "iocs", "audit_log", "sightings", "campaigns", "threat_events", "sources",
          "rules"]


def migrate_to(data_dir, url, *extra, service="threat-cloud"):
    return subprocess.run([str(binary(service)), "migrate-to", url, *extra], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(data_dir)})


def stop_and_count(server, tables) -> dict:
    """Stops the SQLite server; its rows per table."""
    assert server.stop() == 0
    return {t: int(pg_helpers.server_rows(server, f"SELECT count(*) FROM {t}")[0][0]) for t in tables}


def empty_database() -> str:
    cluster = pg_helpers.cluster()
    name = "m" + uuid.uuid4().hex[:12]
    cluster.psql(f'CREATE DATABASE "{name}"')
    return name


def fill(server) -> dict:
    """Some of everything; returns a read key and what the API answers about it."""
    key = create_key(server, ["read"], name="kept key")
    ids = upload(server, {"iocs": [{"value": f"192.0.2.{n}", "reputation": 60 + n} for n in range(1, 40)]
                          + [{"value": "moved.example", "tags": ["c2"], "reputation": 95}]}).json()["data"]["ids"]
    post_threats(server, {"events": [threat_event(attackSourceIP="198.51.100.9", sigmaRuleMatched=f"rule-{n}") for n in range(3)]
                          + [threat_event(attackSourceIP="198.51.100.10", attackType="port_scan")]}, expect=201)
    assert server.request("POST", "/api/sightings", headers=ADMIN,
                          json={"iocId": ids[-1], "type": "positive", "source": "probe"}).status_code == 201
    assert server.request("POST", "/api/rules", headers=ADMIN,
                          json={"ruleId": "r-1", "ruleContent": "title: t\ndetection: {}", "source": "sigma"}
                          ).status_code == 201
    assert server.request("POST", "/api/admin/correlate", headers=ADMIN).status_code == 200
    return key


def answers(server, key) -> dict:
    read = auth(key["key"])
    return {
        "iocs": server.get("/api/iocs", params={"limit": 100, "sort": "value"}, headers=read).json(),
        "lookup": server.get("/api/iocs/moved.example", headers=read).json()["data"],
        "campaigns": server.get("/api/campaigns", headers=ADMIN).json()["data"],
        "rules": server.get("/api/rules", headers=ADMIN).json()["data"],
        "keys": server.get("/api/keys", headers=ADMIN).json()["data"],
        "blocklist": server.get("/api/feeds/ip-blocklist", params={"minReputation": 0}, headers=read).text
        .split("\n", 3)[-1],
    }


def test_sqlite_store_moves_to_postgres(launch):
    sqlite_server = launch("threat-cloud", env={**ENV, "DATABASE_URL": ""})
    assert "DATABASE_URL" not in sqlite_server.env or not sqlite_server.env["DATABASE_URL"]
    key = fill(sqlite_server)
    before = answers(sqlite_server, key)
    data_dir = sqlite_server.data_dir
    counts = stop_and_count(sqlite_server, TABLES)
    assert counts["iocs"] == 42 and counts["threat_events"] == 4 and counts["campaigns"] == 1

    cluster, name = pg_helpers.cluster(), empty_database()
    r = migrate_to(data_dir, cluster.url(name))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["copied"] == counts
    for table, rows in counts.items():
        assert int(cluster.psql(f"SELECT count(*) FROM {table}", name)) == rows, table

    pg_server = launch("threat-cloud", env={**ENV, "DATABASE_URL": cluster.url(name)}, data_dir=data_dir)
    after = answers(pg_server, key)
    assert after == before
    # the copied identity counters go on after the copied rows
    post_threats(pg_server, threat_event(attackSourceIP="203.0.113.50"), expect=201)
    assert pg_server.get("/api/audit-log", headers=ADMIN).json()["pagination"]["total"] > counts["audit_log"]

    again = migrate_to(data_dir, cluster.url(name))
    assert again.returncode == 1 and "not empty" in again.stderr
    assert int(cluster.psql("SELECT count(*) FROM iocs", name)) == 43


def test_migrate_to_usage_errors(tmp_path):
    assert migrate_to(tmp_path, "").returncode == 2
    r = migrate_to(tmp_path, "mysql://x")
    assert r.returncode == 2 and "not a postgres:// URL" in r.stderr
    r = migrate_to(tmp_path, pg_helpers.cluster().url())
    assert r.returncode == 1 and "no SQLite store" in r.stderr


MANAGER_FLEET = "m" * 40
MANAGER_ENV = {"MANAGER_AUTH_TOKEN": MANAGER_FLEET, "MANAGER_TLS": "off", "MANAGER_RATE_LIMIT": "100000/min"}
MANAGER_TABLES = ["service_meta", "agents", "agent_metrics", "threats", "threat_links", "policies", "agent_policies"]


def manager_answers(server) -> dict:
    fleet = {"Authorization": f"Bearer {MANAGER_FLEET}"}
    return {path: server.get(path, headers=fleet).json()["data"]
            for path in ("/api/agents?limit=100", "/api/threats?limit=100", "/api/policy/history", "/api/policy/active")}


def test_manager_store_moves_to_postgres(launch):
    sqlite_server = launch("manager", env={**MANAGER_ENV, "DATABASE_URL": ""})
    fleet = {"Authorization": f"Bearer {MANAGER_FLEET}"}
    agents = []
    for name in ("web-1", "web-2"):
        r = sqlite_server.request("POST", "/api/agents/register", headers=fleet,
                                  json={"hostname": name, "os": "linux", "arch": "x86_64", "version": "1"})
        assert r.status_code == 201, r.text
        agents.append(r.json()["data"])
    shared = {"sourceIP": "203.0.113.9"}
    for n, agent in enumerate(agents):  # one source address on two agents: linked threats
        event = {"event": {"id": f"e-{n}", "timestamp": "2026-12-01T10:00:00Z", "source": "ssh", "severity": "high",
                           "category": "brute_force", "description": "failed logins", "metadata": shared},
                 "verdict": {"conclusion": "malicious", "confidence": 90, "action": "block"}}
        r = sqlite_server.request("POST", f"/api/agents/{agent['agentId']}/events", json={"threats": [event]},
                                  headers={"Authorization": f"Bearer {agent['agentToken']}"})
        assert r.status_code == 201, r.text
    assert sqlite_server.request("POST", "/api/policy", headers=fleet, json={"name": "base", "rules": [
        {"ruleId": "r1", "type": "block_ip", "condition": {"ip": "198.51.100.0/24"}, "action": "block",
         "severity": "high"}]}).status_code == 201
    before = manager_answers(sqlite_server)
    data_dir = sqlite_server.data_dir
    counts = stop_and_count(sqlite_server, MANAGER_TABLES)
    assert counts["agents"] == 2 and counts["threats"] == 2 and counts["threat_links"] == 2

    cluster, name = pg_helpers.cluster(), empty_database()
    r = migrate_to(data_dir, cluster.url(name), service="manager")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["copied"] == counts
    pg_server = launch("manager", env={**MANAGER_ENV, "DATABASE_URL": cluster.url(name)}, data_dir=data_dir)
    after = manager_answers(pg_server)
    for listing in ("/api/agents?limit=100",):  # statuses and heartbeat ages move with time
        for row in before[listing] + after[listing]:
            row.pop("status", None)
            row.pop("lastSeenAgoMs", None)
    assert after == before
    agent = agents[0]  # its token (stored as a digest) still works
    beat = pg_server.request("POST", f"/api/agents/{agent['agentId']}/heartbeat",
                             headers={"Authorization": f"Bearer {agent['agentToken']}"},
                             json={"cpuUsage": 1, "memUsage": 2, "activeMonitors": 1, "threatCount": 0,
                                   "eventsProcessed": 1, "mode": "protection", "uptime": 5})
    assert beat.status_code == 200, beat.text
