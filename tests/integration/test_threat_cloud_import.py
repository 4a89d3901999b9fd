"""threat-cloud importers (`threat-cloud import`), sources and the redistribution flag."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

import pg_helpers

from conftest import binary, SOURCE_DIR
from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload

DATA = Path(__file__).with_name("data") / "feeds"
EXAMPLES = SOURCE_DIR.parent / "shared" / "data" / "stix2" / "examples"
if not EXAMPLES.exists():
    EXAMPLES = Path("/work/shared/data/stix2/examples")


def run_import(db: Path, fmt: str, file: Path, *extra, expect=0) -> dict:
    """Imports into the SQLite file `db`, or on PostgreSQL runs into the database of its folder
    (the one a server on that DATA_DIR uses), through DATABASE_URL."""
    target, env = ["--db", str(db)], {"PATH": "/usr/bin:/bin"}
    if pg_helpers.POSTGRES:
        cluster = pg_helpers.cluster()
        target, env["DATABASE_URL"] = [], cluster.url(cluster.database_for(db.parent))
    r = subprocess.run([str(binary("threat-cloud")), "import", "--format", fmt, str(file), *target, *extra],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == expect, (r.stdout, r.stderr)
    return json.loads(r.stdout) if expect == 0 else {"stderr": r.stderr}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, module_launch):
    """Every sample imported into one database, then a server on it."""
    data_dir = tmp_path_factory.mktemp("tc_import")
    db = data_dir / "threat-cloud.db"
    reports = {
        "feodo": run_import(db, "feodo", DATA / "feodo_ipblocklist.csv"),
        "urlhaus-csv": run_import(db, "urlhaus-csv", DATA / "urlhaus.csv"),
        "urlhaus-text": run_import(db, "urlhaus-text", DATA / "urlhaus.txt"),
        "threatfox": run_import(db, "threatfox", DATA / "threatfox.csv"),
        "spamhaus-drop": run_import(db, "spamhaus-drop", DATA / "drop.txt"),
        "ipsum": run_import(db, "ipsum", DATA / "ipsum.txt"),
        "plain": run_import(db, "plain", DATA / "plain.txt", "--source", "customer list", "--reliability", "D",
                            "--licence", "internal", "--redistribution", "no", "--tlp", "amber"),
    }
    server = module_launch("threat-cloud", env=RELAXED, data_dir=data_dir)
    return server, reports, db


def lookup(server, value):
    r = server.get(f"/api/iocs/{quote(value, safe='')}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_import_reports_counts_and_errors(imported):
    _, reports, _ = imported
    expected = {  # (imported, malformed)
        "feodo": (3, 2), "urlhaus-csv": (2, 1), "urlhaus-text": (2, 1), "threatfox": (3, 1),
        "spamhaus-drop": (3, 1), "ipsum": (3, 1), "plain": (4, 1),
    }
    for fmt, (ok, bad) in expected.items():
        r = reports[fmt]
        assert (r["imported"], r["malformed"]) == (ok, bad), (fmt, r)
        assert len(r["errors"]) == bad and all(e.startswith("line ") for e in r["errors"]), r
        assert r["created"] + r["updated"] == ok
    assert reports["feodo"]["source"] == "abuse.ch Feodo Tracker" and reports["feodo"]["licence"] == "CC0-1.0"
    assert reports["spamhaus-drop"]["redistribution"] is False
    assert "line 13:" in reports["feodo"]["errors"][0] and "not-an-ip" in reports["feodo"]["errors"][0]
    # urlhaus text and csv share a URL: the second import updates it
    assert reports["urlhaus-text"]["updated"] == 1


def test_imported_iocs_carry_source_and_fields(imported):
    server, _, _ = imported
    feodo = lookup(server, "192.0.2.10")["ioc"]
    assert feodo["source"] == "abuse.ch Feodo Tracker" and feodo["sourceReliability"] == "B"
    assert feodo["threatType"] == "botnet_cc" and feodo["tags"] == ["qakbot"]
    assert feodo["firstSeen"] == "2026-10-01T07:44:46Z" and feodo["reputation"] == 95
    tf = lookup(server, "c2.bad-actor.example")["ioc"]
    assert tf["confidence"] == 75 and "cobalt strike" in tf["tags"] and tf["source"] == "abuse.ch ThreatFox"
    assert lookup(server, "203.0.113.9")["found"] is True  # ip:port stored as the address
    drop = lookup(server, "5.134.128.0/19")["ioc"]
    assert drop["type"] == "ip" and drop["tags"] == ["sbl270738"] and drop["sourceReliability"] == "A"
    ipsum = lookup(server, "192.0.2.200")["ioc"]
    assert ipsum["reputation"] == 100 and ipsum["tags"] == ["blacklists:9"]
    plain = lookup(server, "phish.example.com")["ioc"]
    assert plain["source"] == "customer list" and plain["sourceReliability"] == "D" and plain["tlp"] == "amber"
    url = lookup(server, "https://bad.example.net/payload/loader.exe")["ioc"]
    assert url["threatType"] == "malware_download" and "agenttesla" in url["tags"]


def blocklist(server, kind, headers=ADMIN, **params):
    r = server.get(f"/api/feeds/{kind}-blocklist", headers=headers, params={"minReputation": 0, **params})
    assert r.status_code == 200, r.text
    return [line for line in r.text.splitlines() if line and not line.startswith("#")]


def test_sources_and_redistribution(imported):
    server, _, _ = imported
    sources = {s["name"]: s for s in server.get("/api/sources", headers=ADMIN).json()["data"]}
    assert sources["Spamhaus DROP"]["redistribution"] is False and sources["Spamhaus DROP"]["iocs"] == 3
    assert sources["customer list"]["licence"] == "internal"
    assert sources["abuse.ch Feodo Tracker"]["redistribution"] is True
    ips = blocklist(server, "ip")
    assert "192.0.2.10" in ips and "192.0.2.200" in ips
    assert "1.10.16.0/20" not in ips and "192.0.2.150" not in ips  # DROP and the customer list stay in
    assert "phish.example.com" not in blocklist(server, "domain")
    feed = server.get("/api/feeds/iocs", headers=ADMIN, params={"minReputation": 0}).json()["data"]["entries"]
    assert not {e["value"] for e in feed} & {"1.10.16.0/20", "phish.example.com"}
    stix = server.get("/api/feeds/stix", headers=ADMIN, params={"minReputation": 0}).json()
    assert not any("1.10.16.0" in o.get("pattern", "") for o in stix["objects"])
    # but lookups still answer
    assert lookup(server, "1.10.16.0/20")["found"] is True

    etag = server.get("/api/feeds/ip-blocklist", headers=ADMIN, params={"minReputation": 0}).headers["ETag"]
    r = server.request("PUT", "/api/sources/Spamhaus DROP", headers=ADMIN,
                       json={"reliability": "A", "redistribution": True, "licence": "granted"})
    assert r.status_code == 200 and r.json()["data"]["redistribution"] is True
    assert "1.10.16.0/20" in blocklist(server, "ip")
    r = server.get("/api/feeds/ip-blocklist", headers={**ADMIN, "If-None-Match": etag}, params={"minReputation": 0})
    assert r.status_code == 200  # the source change changed the ETag
    server.request("PUT", "/api/sources/Spamhaus DROP", headers=ADMIN, json={"reliability": "A", "redistribution": False})
    assert "1.10.16.0/20" not in blocklist(server, "ip")
    # a source with no record yet
    r = server.request("PUT", "/api/sources/api", headers=ADMIN, json={"reliability": "C", "redistribution": False})
    assert r.status_code == 200
    upload(server, {"value": "192.0.2.240", "reputation": 90})
    assert "192.0.2.240" not in blocklist(server, "ip")
    audit = server.get("/api/audit-log", headers=ADMIN, params={"action": "source.save"}).json()["data"]
    assert len(audit) == 3


def test_source_errors_and_scopes(imported):
    server, _, _ = imported
    body = {"reliability": "B", "redistribution": True}
    assert_validation(server.request("PUT", "/api/sources/x", headers=ADMIN, json={"redistribution": True}),
                      "reliability")
    assert_validation(server.request("PUT", "/api/sources/x", headers=ADMIN, json={**body, "reliability": "Z"}),
                      "reliability")
    assert_validation(server.request("PUT", "/api/sources/x", headers=ADMIN, json={"reliability": "B"}),
                      "redistribution")
    assert_validation(server.request("PUT", "/api/sources/x", headers=ADMIN, json={**body, "redistribution": "yes"}),
                      "redistribution")
    assert_validation(server.request("PUT", "/api/sources/" + "x" * 129, headers=ADMIN, json=body), "name")
    write = create_key(server, ["write"])["key"]
    read = create_key(server, ["read"])["key"]
    assert server.request("PUT", "/api/sources/x", headers=auth(write), json=body).status_code == 403
    assert server.request("PUT", "/api/sources/x", json=body).status_code == 401
    assert server.get("/api/sources", headers=auth(read)).status_code == 200
    assert server.get("/api/sources").status_code == 401


def test_import_stix_examples(tmp_path):
    db = tmp_path / "tc.db"
    totals = {"imported": 0, "malformed": 0}
    for example in sorted(EXAMPLES.rglob("*.json")):
        r = run_import(db, "stix", example)
        totals["imported"] += r["imported"]
        totals["malformed"] += r["malformed"]
        doc = json.loads(example.read_text())
        assert r["lines"] == len(doc.get("objects", [doc])), example
    assert totals["imported"] > 40  # apt1 and poisonivy carry dozens of domains, addresses and hashes
    # "domain autuo.xicp.net" in poisonivy.json is not a domain name: reported, not fatal
    assert totals["malformed"] >= 1
    r = run_import(db, "stix", EXAMPLES / "indicator-for-c2-ip-address.json")
    assert r["imported"] == 1 and r["updated"] == 1 and r["source"] == "STIX import"


def test_import_stix_round_trip(tmp_path, launch):
    """The service's own STIX feed imports into another database."""
    server = launch("threat-cloud", env=RELAXED)
    upload(server, {"iocs": [{"value": "192.0.2.77", "reputation": 90, "confidence": 88},
                             {"value": "roundtrip.example", "reputation": 90}]})
    bundle = tmp_path / "bundle.json"
    bundle.write_text(server.get("/api/feeds/stix", headers=ADMIN).text)
    r = run_import(tmp_path / "other.db", "stix", bundle)
    assert r["imported"] == 2 and r["malformed"] == 0 and r["skipped"] == 4  # the four TLP markings


def test_import_usage_errors(tmp_path):
    db = tmp_path / "tc.db"
    assert "--format is required" in run_import(db, "", DATA / "plain.txt", expect=2)["stderr"]
    assert "unknown format" in run_import(db, "csv", DATA / "plain.txt", expect=2)["stderr"]
    assert "cannot read" in run_import(db, "plain", tmp_path / "missing.txt", expect=1)["stderr"]
    assert "--reliability" in run_import(db, "plain", DATA / "plain.txt", "--reliability", "Q", expect=2)["stderr"]
    assert "--redistribution" in run_import(db, "plain", DATA / "plain.txt", "--redistribution", "maybe",
                                            expect=2)["stderr"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run_import(db, "stix", bad)
    assert r["imported"] == 0 and r["malformed"] == 1


def test_import_while_the_service_runs(launch):
    server = launch("threat-cloud", env=RELAXED)
    upload(server, {"value": "192.0.2.5", "reputation": 90})
    r = run_import(server.data_dir / "threat-cloud.db", "ipsum", DATA / "ipsum.txt")
    assert r["imported"] == 3
    assert lookup(server, "192.0.2.200")["ioc"]["source"] == "ipsum"
    upload(server, {"value": "192.0.2.6", "reputation": 90})  # the service still writes
    lines = server.get("/api/feeds/ip-blocklist", headers=ADMIN).text.splitlines()
    assert {"192.0.2.5", "192.0.2.6", "192.0.2.200"} <= set(lines)
