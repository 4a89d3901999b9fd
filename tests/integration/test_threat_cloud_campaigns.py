"""threat-cloud campaigns: the correlation job (ip_cluster, pattern_cluster, dormancy, the
schedule), manual campaigns, listing, detail, stats, IoC lookups, errors and scopes."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_error_style
from threat_cloud_helpers import (ADMIN, RELAXED, assert_validation, auth, create_key, iso, lookup, post_threats,
                                  threat_event)

ENV = {**RELAXED, "TC_ANONYMIZE_UPLOADS": "false", "TC_CORRELATION_INTERVAL_S": "3600"}
NOW = datetime.now(timezone.utc).replace(microsecond=0)
T0 = (NOW - timedelta(hours=10)).replace(minute=0, second=0)
ID = re.compile(r"^C-\d{8}-[0-9a-f]{8}$")


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=ENV)


def correlate(server, headers=ADMIN) -> dict:
    r = server.request("POST", "/api/admin/correlate", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def campaign(server, cid) -> dict:
    r = server.get(f"/api/campaigns/{cid}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def at(minutes: int) -> str:
    return iso(T0 + timedelta(minutes=minutes))


@pytest.fixture(scope="module")
def clusters(tc):
    """Events that form one ip_cluster and one pattern_cluster, correlated once."""
    ip_events = [threat_event(attackSourceIP="192.0.2.10", timestamp=at(m), severity=s)
                 for m, s in [(0, "low"), (10, "critical"), (50, "medium"), (100, "low"), (300, "high")]]
    ip_events.append(threat_event(attackSourceIP="192.0.2.11", timestamp=at(0)))
    ip_events.append(threat_event(attackSourceIP="192.0.2.11", timestamp=at(90)))
    pattern = [threat_event(attackSourceIP=f"198.51.100.{i}", attackType="sql_injection",
                            mitreTechnique=["T1190", "T1059.007"], timestamp=at(i * 7), severity="high")
               for i in range(1, 6)]
    xss = [threat_event(attackSourceIP=f"203.0.113.{i}", attackType="xss", mitreTechnique="T1189", timestamp=at(i))
           for i in range(1, 5)]
    ids = post_threats(tc, {"events": ip_events + pattern + xss}, expect=201).json()["data"]["ids"]
    result = correlate(tc)
    return {"result": result, "ip_ids": ids[:7], "pattern_ids": ids[7:12], "xss_ids": ids[12:]}


def test_correlation_finds_ip_and_pattern_clusters(tc, clusters):
    result = clusters["result"]
    assert result["created"] == 2 and result["extended"] == 0
    assert result["eventsCorrelated"] == 4 + 5 and result["dormant"] == 0
    assert all(ID.match(c) for c in result["campaignIds"])
    assert all(c[2:10] == datetime.now(timezone.utc).strftime("%Y%m%d") for c in result["campaignIds"])
    listed = tc.get("/api/campaigns", headers=ADMIN).json()["data"]
    by_kind = {c["kind"]: c for c in listed}
    ip = by_kind["ip_cluster"]
    assert ip["eventCount"] == 4 and ip["uniqueSources"] == 1 and ip["iocCount"] == 1
    assert ip["severity"] == "critical" and ip["status"] == "active" and ip["createdBy"].startswith("boot_")
    assert ip["firstSeen"] == at(0) and ip["lastSeen"] == at(100)
    assert ip["attackTypes"] == ["brute_force"] and ip["techniques"] == ["T1110"]
    assert ip["name"] == "brute_force from 192.0.2.10"
    pattern = by_kind["pattern_cluster"]
    assert pattern["eventCount"] == 5 and pattern["uniqueSources"] == 5 and pattern["severity"] == "high"
    assert pattern["techniques"] == ["T1059.007", "T1190"] and pattern["attackTypes"] == ["sql_injection"]
    assert pattern["name"] == "sql_injection (T1059.007, T1190) from 5 sources"

    detail = campaign(tc, ip["id"])
    assert detail["campaign"]["id"] == ip["id"]
    assert [e["timestamp"] for e in detail["events"]] == [at(100), at(50), at(10), at(0)]
    assert all(e["campaignId"] == ip["id"] for e in detail["events"])
    assert [(i["value"], i["events"]) for i in detail["iocs"]] == [("192.0.2.10", 4)]
    assert detail["timeline"]["granularity"] == "hour"
    assert [(p["time"], p["events"]) for p in detail["timeline"]["points"]] == [
        (at(0), 3), (at(60), 1)]

    # the IoC lookup names its campaign and events
    found = lookup(tc, "192.0.2.10")
    assert [c["id"] for c in found["campaigns"]] == [ip["id"]]
    assert found["relatedThreatsTotal"] == 5
    assert lookup(tc, "192.0.2.11")["campaigns"] == []

    # running again changes nothing
    again = correlate(tc)
    assert again["created"] == 0 and again["eventsCorrelated"] == 0


def test_later_events_extend_the_active_cluster(tc, clusters):
    ip_id = next(c for c in clusters["result"]["campaignIds"] if campaign(tc, c)["campaign"]["kind"] == "ip_cluster")
    post_threats(tc, threat_event(attackSourceIP="192.0.2.10", timestamp=at(140)), expect=201)
    result = correlate(tc)
    assert result["created"] == 0 and result["extended"] == 1 and result["eventsCorrelated"] == 1
    assert result["campaignIds"] == [ip_id]
    c = campaign(tc, ip_id)["campaign"]
    assert c["eventCount"] == 5 and c["lastSeen"] == at(140)


def test_manual_campaigns(tc, clusters):
    xss = clusters["xss_ids"]
    r = tc.request("POST", "/api/campaigns", json={"name": "XSS wave", "description": "seen on\nfour sites",
                                                    "severity": "high", "eventIds": xss}, headers=ADMIN)
    assert r.status_code == 201, r.text
    c = r.json()["data"]
    assert ID.match(c["id"]) and c["kind"] == "manual" and c["status"] == "active" and c["severity"] == "high"
    assert c["eventCount"] == 4 and c["uniqueSources"] == 4 and c["description"] == "seen on\nfour sites"
    assert c["firstSeen"] == at(1) and c["lastSeen"] == at(4)

    empty = tc.request("POST", "/api/campaigns", json={"name": "Watching"}, headers=ADMIN).json()["data"]
    assert empty["eventCount"] == 0 and empty["firstSeen"] is None and empty["severity"] == "medium"

    # an event already in a campaign, an unknown event
    r = tc.request("POST", "/api/campaigns", json={"name": "again", "eventIds": [xss[0]]}, headers=ADMIN)
    assert r.status_code == 409
    assert_error_style(tc, r.json())
    r = tc.request("POST", "/api/campaigns", json={"name": "x", "eventIds": ["evt_0000000000000000"]}, headers=ADMIN)
    assert r.status_code == 404
    assert tc.get("/api/campaigns", params={"kind": "manual"}, headers=ADMIN).json()["pagination"]["total"] == 2

    for status in ["dormant", "resolved", "false_positive", "active"]:
        r = tc.request("PATCH", f"/api/campaigns/{empty['id']}", json={"status": status}, headers=ADMIN)
        assert r.status_code == 200 and r.json()["data"]["status"] == status
    r = tc.request("PATCH", f"/api/campaigns/{empty['id']}",
                   json={"name": "Renamed", "severity": "low", "addEventIds": clusters["ip_ids"][5:7]}, headers=ADMIN)
    assert r.status_code == 200
    c = r.json()["data"]
    assert c["name"] == "Renamed" and c["eventCount"] == 2 and c["severity"] == "medium"  # highest seen
    r = tc.request("PATCH", f"/api/campaigns/{empty['id']}", json={"addEventIds": [xss[1]]}, headers=ADMIN)
    assert r.status_code == 409

    for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": "x", "severity": "huge"}, "severity"),
                        ({"name": "x", "status": "closed"}, "status"), ({"name": "x", "eventIds": "evt"}, "eventIds"),
                        ({"name": "x", "eventIds": ["e"] * 1001}, "eventIds")]:
        assert_validation(tc.request("POST", "/api/campaigns", json=body, headers=ADMIN), field)
    for body, field in [({}, "status"), ({"status": "closed"}, "status"), ({"name": "a\u0000"}, "name")]:
        assert_validation(tc.request("PATCH", f"/api/campaigns/{empty['id']}", json=body, headers=ADMIN), field)
    r = tc.request("PATCH", "/api/campaigns/C-20260101-00000000", json={"status": "resolved"}, headers=ADMIN)
    assert r.status_code == 404
    r = tc.get("/api/campaigns/C-20260101-00000000", headers=ADMIN)
    assert r.status_code == 404
    assert_error_style(tc, r.json())
    entries = tc.get("/api/audit-log", params={"entityId": empty["id"]}, headers=ADMIN).json()["data"]
    assert entries[-1]["action"] == "campaign.create" and entries[0]["action"] == "campaign.update"


def test_list_filters_and_pagination(tc, clusters):
    all_ = tc.get("/api/campaigns", params={"limit": 500}, headers=ADMIN).json()
    assert all_["pagination"]["limit"] == 200
    total = all_["pagination"]["total"]
    page = tc.get("/api/campaigns", params={"limit": 1, "page": 2}, headers=ADMIN).json()
    assert page["pagination"] == {"total": total, "page": 2, "limit": 1, "pages": total}
    assert page["data"][0]["id"] == all_["data"][1]["id"]
    assert all(c["kind"] == "pattern_cluster"
               for c in tc.get("/api/campaigns", params={"kind": "pattern_cluster"}, headers=ADMIN).json()["data"])
    active = tc.get("/api/campaigns", params={"status": "active"}, headers=ADMIN).json()["data"]
    assert active and all(c["status"] == "active" for c in active)
    assert tc.get("/api/campaigns", params={"severity": "critical"}, headers=ADMIN).json()["pagination"]["total"] == 1
    recent = tc.get("/api/campaigns", params={"since": at(120)}, headers=ADMIN).json()["data"]
    assert [c["kind"] for c in recent] == ["ip_cluster"]  # the only one last seen after at(120)
    for params, field in [({"status": "closed"}, "status"), ({"kind": "x"}, "kind"), ({"since": "then"}, "since"),
                          ({"limit": 0}, "limit"), ({"page": "x"}, "page")]:
        assert_validation(tc.get("/api/campaigns", params=params, headers=ADMIN), field)


def test_stats(tc, clusters):
    r = tc.get("/api/campaigns/stats", headers=ADMIN)
    assert r.status_code == 200
    s = r.json()["data"]
    assert s["byKind"]["ip_cluster"] == 1 and s["byKind"]["pattern_cluster"] == 1
    assert s["total"] == sum(s["byKind"].values()) == sum(s["byStatus"].values()) == sum(s["bySeverity"].values())
    assert s["events"]["correlated"] >= 9 and s["events"]["uncorrelated"] >= 1
    assert s["createdLast24h"] == s["total"]
    assert {"attackType": "sql_injection", "events": 5} in s["topAttackTypes"]
    assert tc.get("/api/stats", headers=ADMIN).json()["data"]["threats"]["activeCampaigns"] >= 2


def test_scopes(tc, clusters):
    read = auth(create_key(tc, ["read"])["key"])
    write = auth(create_key(tc, ["write"])["key"])
    cid = clusters["result"]["campaignIds"][0]
    assert tc.get("/api/campaigns", headers=read).status_code == 200
    assert tc.get(f"/api/campaigns/{cid}", headers=read).status_code == 200
    assert tc.get("/api/campaigns/stats", headers=read).status_code == 200
    assert tc.request("POST", "/api/campaigns", json={"name": "x"}, headers=read).status_code == 403
    assert tc.request("PATCH", f"/api/campaigns/{cid}", json={"status": "resolved"}, headers=read).status_code == 403
    assert tc.request("POST", "/api/campaigns", json={"name": "by writer"}, headers=write).status_code == 201
    assert tc.request("POST", "/api/admin/correlate", headers=write).status_code == 403
    for method, path in [("GET", "/api/campaigns"), ("GET", f"/api/campaigns/{cid}"), ("GET", "/api/campaigns/stats"),
                         ("POST", "/api/campaigns"), ("PATCH", f"/api/campaigns/{cid}"),
                         ("POST", "/api/admin/correlate")]:
        r = tc.request(method, path, json={})
        assert r.status_code == 401, (method, path)


def test_old_clusters_go_dormant(launch):
    server = launch("threat-cloud", env={**ENV, "TC_CAMPAIGN_DORMANT_DAYS": "7"})
    old = NOW - timedelta(days=10)
    post_threats(server, {"events": [threat_event(attackSourceIP="192.0.2.77", timestamp=iso(old + timedelta(minutes=m)))
                                     for m in (0, 5, 20)]}, expect=201)
    result = correlate(server)
    assert result["created"] == 1 and result["dormant"] == 1
    [c] = server.get("/api/campaigns", headers=ADMIN).json()["data"]
    assert c["status"] == "dormant" and c["kind"] == "ip_cluster"


def test_the_job_runs_on_its_schedule(launch):
    server = launch("threat-cloud", env={**ENV, "TC_CORRELATION_INTERVAL_S": "1"})
    post_threats(server, {"events": [threat_event(attackSourceIP="192.0.2.79", timestamp=at(m)) for m in (0, 1, 2)]},
                 expect=201)
    deadline = time.monotonic() + 15
    listed = []
    while time.monotonic() < deadline and not listed:
        listed = server.get("/api/campaigns", headers=ADMIN).json()["data"]
        time.sleep(0.2)
    assert [c["kind"] for c in listed] == ["ip_cluster"]
    assert listed[0]["createdBy"] == "system"
    metrics = server.get("/metrics").text.splitlines()
    assert "threat_cloud_correlation_events_total 3" in metrics
    entries = server.get("/api/audit-log", params={"action": "campaign.correlate"}, headers=ADMIN).json()["data"]
    assert entries and entries[-1]["actor"] == "system"
