"""threat-cloud blocklist feeds: text/plain with '#' headers, filters, ETag / 304, scopes."""
from __future__ import annotations

import pytest

from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


@pytest.fixture(scope="module")
def tc(module_launch):
    server = module_launch("threat-cloud", env=RELAXED)
    upload(server, {"iocs": [
        {"value": "198.51.100.7:80", "reputation": 90},
        {"value": "192.0.2.1", "reputation": 70, "tlp": "amber"},
        {"value": "192.0.2.2", "reputation": 69},
        {"value": "192.0.2.3", "reputation": 99, "status": "revoked"},
        {"value": "Evil.Example.", "reputation": 80},
        {"value": "HTTP://Evil.Example:80/x", "reputation": 80},
        {"value": MD5.upper(), "reputation": 80},
        {"value": SHA1, "reputation": 85, "tlp": "green"},
    ]})
    return server


def feed(server, name, headers=ADMIN, **params):
    return server.get(f"/api/feeds/{name}-blocklist", headers=headers, params=params)


def entries(r):
    return [line for line in r.text.splitlines() if line and not line.startswith("#")]


def test_ip_blocklist_format(tc):
    r = feed(tc, "ip")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert lines[:len(header)] == header, "header lines come first"
    assert any("IP blocklist" in h for h in header)
    assert any(h.startswith("# Generated: ") and h.endswith("Z") for h in header)
    assert "# Entries: 2" in header
    assert entries(r) == ["192.0.2.1", "198.51.100.7"]  # default minReputation 70, active only, sorted


def test_other_blocklists(tc):
    assert entries(feed(tc, "domain")) == ["evil.example"]
    assert entries(feed(tc, "url")) == ["http://evil.example/x"]
    assert entries(feed(tc, "hash")) == [MD5, SHA1]
    assert entries(feed(tc, "hash", type="hash_sha1")) == [SHA1]


def test_filters(tc):
    assert entries(feed(tc, "ip", minReputation=0)) == ["192.0.2.1", "192.0.2.2", "198.51.100.7"]
    assert entries(feed(tc, "ip", minReputation=91)) == []
    assert "# Entries: 0" in feed(tc, "ip", minReputation=91).text
    assert entries(feed(tc, "ip", tlp="amber")) == ["192.0.2.1"]
    assert_validation(feed(tc, "ip", minReputation=101), "minReputation")
    assert_validation(feed(tc, "ip", minReputation="high"), "minReputation")
    assert_validation(feed(tc, "ip", tlp="white"), "tlp")
    assert_validation(feed(tc, "ip", type="domain"), "type")
    assert_validation(feed(tc, "hash", type="ip"), "type")


def test_etag_and_if_none_match(tc):
    r = feed(tc, "ip")
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert feed(tc, "ip").headers["ETag"] == etag  # stable although the Generated line changes
    r = feed(tc, "ip", headers={**ADMIN, "If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == etag
    assert feed(tc, "ip", headers={**ADMIN, "If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert feed(tc, "ip", headers={**ADMIN, "If-None-Match": '"other"'}).status_code == 200
    # other filters, other ETag
    assert feed(tc, "ip", minReputation=0).headers["ETag"] != etag
    # a change to the entries changes the ETag
    upload(tc, {"value": "203.0.113.200", "reputation": 75})
    r = feed(tc, "ip", headers={**ADMIN, "If-None-Match": etag})
    assert r.status_code == 200 and "203.0.113.200" in entries(r) and r.headers["ETag"] != etag


def test_feeds_need_a_key_by_default(tc):
    r = feed(tc, "ip", headers={})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    read = create_key(tc, ["read"])["key"]
    assert feed(tc, "ip", headers=auth(read)).status_code == 200


def test_public_feeds_show_only_shareable_tlp(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_PUBLIC_READS": "1", "TC_FEED_RATE_LIMIT": "2/min"})
    upload(server, {"iocs": [{"value": "192.0.2.50", "reputation": 90, "tlp": "clear"},
                             {"value": "192.0.2.51", "reputation": 90, "tlp": "red"}]})
    assert entries(feed(server, "ip", headers={})) == ["192.0.2.50"]
    assert entries(feed(server, "ip")) == ["192.0.2.50", "192.0.2.51"]
    # the feed class limits anonymous callers per IP
    assert feed(server, "ip", headers={}).status_code == 200
    r = feed(server, "ip", headers={})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_json_ioc_feed(tc):
    r = tc.get("/api/feeds/iocs", headers=ADMIN)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    data = r.json()["data"]
    assert data["generatedAt"].endswith("Z")
    values = [(e["type"], e["value"]) for e in data["entries"]]
    assert data["totalEntries"] == len(values)
    assert ("ip", "198.51.100.7") in values and ("domain", "evil.example") in values
    assert ("ip", "192.0.2.2") not in values  # below the default minReputation 70
    assert ("ip", "192.0.2.3") not in values  # revoked
    assert values == sorted(values)
    entry = next(e for e in data["entries"] if e["value"] == "198.51.100.7")
    assert set(entry) == {"type", "value", "threatType", "reputation", "confidence", "tlp", "firstSeen", "lastSeen",
                          "tags"}
    only_hashes = tc.get("/api/feeds/iocs", headers=ADMIN, params={"type": "hash_md5"}).json()["data"]["entries"]
    assert [e["value"] for e in only_hashes] == [MD5]
    assert tc.get("/api/feeds/iocs", headers=ADMIN, params={"since": "2100-01-01T00:00:00Z"}
                  ).json()["data"]["totalEntries"] == 0
    etag = r.headers["ETag"]
    assert tc.get("/api/feeds/iocs", headers={**ADMIN, "If-None-Match": etag}).status_code == 304
    assert_validation(tc.get("/api/feeds/iocs", headers=ADMIN, params={"format": "xml"}), "format")
    assert_validation(tc.get("/api/feeds/iocs", headers=ADMIN, params={"type": "ipv4"}), "type")
    assert_validation(tc.get("/api/feeds/iocs", headers=ADMIN, params={"since": "soon"}), "since")


def test_csv_feed_neutralises_formulas(launch):
    """OWASP CSV injection: a cell or tag starting with =, +, -, @ (or tab, CR) is prefixed with
    an apostrophe so that a spreadsheet shows it as text instead of running it."""
    import csv
    import io
    tc = launch("threat-cloud", env=RELAXED)
    tags = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "plain"]
    upload(tc, {"value": "formula.example", "reputation": 95, "threatType": "=HYPERLINK(\"http://x\")",
                "tags": tags})
    upload(tc, {"value": "safe-formula.example", "reputation": 95, "threatType": "@c2", "tags": ["-x"]})
    r = tc.get("/api/feeds/iocs", headers=ADMIN, params={"format": "csv", "type": "domain"})
    rows = {row[1]: row for row in csv.reader(io.StringIO(r.text))}
    row = rows["formula.example"]
    assert row[2] == "'=HYPERLINK(\"http://x\")"
    assert sorted(row[8].split(";")) == sorted(["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(1)", "plain"])
    assert rows["safe-formula.example"][2] == "'@c2" and rows["safe-formula.example"][8] == "'-x"
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows.values() for cell in row)
    # JSON keeps the values as they are: only the spreadsheet format needs the guard.
    entries = tc.get("/api/feeds/iocs", headers=ADMIN, params={"type": "domain"}).json()["data"]["entries"]
    assert sorted(next(e for e in entries if e["value"] == "formula.example")["tags"]) == sorted(tags)


def test_csv_ioc_feed(tc):
    import csv
    import io
    upload(tc, {"value": "csv.example", "reputation": 95, "threatType": "c2, \"loud\"", "tags": ["a", "b"]})
    r = tc.get("/api/feeds/iocs", headers=ADMIN, params={"format": "csv", "type": "domain"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["type", "value", "threatType", "reputation", "confidence", "tlp", "firstSeen", "lastSeen",
                       "tags"]
    row = next(x for x in rows[1:] if x[1] == "csv.example")
    assert row[0] == "domain" and row[2] == 'c2, "loud"' and row[3] == "95" and row[8] == "a;b"
    etag = r.headers["ETag"]
    assert etag != tc.get("/api/feeds/iocs", headers=ADMIN, params={"type": "domain"}).headers["ETag"]
    r = tc.get("/api/feeds/iocs", headers={**ADMIN, "If-None-Match": etag}, params={"format": "csv", "type": "domain"})
    assert r.status_code == 304
