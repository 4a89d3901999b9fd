"""threat-cloud IoCs: upload (upsert, batches, validation), list (pagination, filters, sort),
lookup (single and bulk), patch, and durability across kill -9, driven over HTTP."""
from __future__ import annotations

import itertools
import time
import urllib.parse

import pytest

from conftest import assert_error_style
from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload, write_until_killed

MD5 = "D41D8CD98F00B204E9800998ECF8427E"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=RELAXED)


@pytest.fixture
def fresh(launch):
    return launch("threat-cloud", env=RELAXED)


_counter = itertools.count(1)


def unique_domain(tag="t") -> str:
    return f"{tag}-{next(_counter)}-{time.monotonic_ns()}.example"


def find(server, value, **params):
    r = server.get("/api/iocs/" + urllib.parse.quote(value, safe=""), headers=ADMIN, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def listing(server, **params):
    r = server.get("/api/iocs", headers=ADMIN, params=params)
    assert r.status_code == 200, r.text
    return r.json()


# --- upload and upsert ------------------------------------------------------------------------


def test_single_upload_then_upsert(tc):
    value = unique_domain("Upsert").upper() + "."
    r = upload(tc, {"value": value, "threatType": "c2", "source": "honeypot", "tags": ["a"],
                    "metadata": {"k1": 1}, "firstSeen": "2026-01-02T00:00:00Z", "lastSeen": "2026-01-03T00:00:00Z"})
    assert r.status_code == 201
    assert r.json()["data"]["created"] == 1 and r.json()["data"]["updated"] == 0
    (ioc_id,) = r.json()["data"]["ids"]
    assert ioc_id.startswith("ioc_")

    r = upload(tc, {"value": value.lower().rstrip("."), "tags": ["b", "a"], "metadata": {"k2": "x"},
                    "reputation": 88, "firstSeen": "2026-01-01T00:00:00Z", "lastSeen": "2026-01-02T12:00:00Z"})
    assert r.status_code == 200
    assert r.json()["data"] == {"created": 0, "updated": 1, "ids": [ioc_id]}

    got = find(tc, value)
    assert got["found"] is True
    ioc = got["ioc"]
    assert ioc["id"] == ioc_id
    assert ioc["type"] == "domain"
    assert ioc["value"] == value  # as first submitted
    assert ioc["normalizedValue"] == value.lower().rstrip(".")
    assert ioc["sightings"] == 2
    assert ioc["tags"] == ["a", "b"]
    assert ioc["metadata"] == {"k1": 1, "k2": "x"}
    assert ioc["firstSeen"] == "2026-01-01T00:00:00Z"  # the earliest
    assert ioc["lastSeen"] == "2026-01-03T00:00:00Z"  # the latest
    assert ioc["threatType"] == "c2" and ioc["source"] == "honeypot"  # kept when not resent
    assert ioc["reputation"] == 88  # replaced when sent
    assert ioc["status"] == "active"
    for field in ("sourceReliability", "confidence", "tlp", "mitreTechniques", "createdAt", "updatedAt"):
        assert field in ioc


def test_defaults_and_all_fields(tc):
    value = unique_domain("defaults")
    upload(tc, {"value": value})
    ioc = find(tc, value)["ioc"]
    assert (ioc["threatType"], ioc["source"], ioc["sourceReliability"], ioc["confidence"], ioc["reputation"],
            ioc["tlp"], ioc["status"], ioc["sightings"]) == ("unknown", "api", "F", 50, 50, "clear", "active", 1)
    assert ioc["tags"] == [] and ioc["mitreTechniques"] == [] and ioc["metadata"] == {}
    assert "country" not in ioc and "asn" not in ioc

    value = unique_domain("full")
    upload(tc, {"value": value, "type": "domain", "threatType": "phishing", "source": "feed-x", "sourceReliability": "B",
                "confidence": 75, "reputation": 91, "tlp": "amber+strict", "status": "under_review",
                "tags": ["kit", "kit"], "mitreTechniques": ["t1566", "T1566.002"], "country": "de",
                "asn": "AS64500", "metadata": {"nested": {"a": [1, 2]}}})
    ioc = find(tc, value)["ioc"]
    assert ioc["sourceReliability"] == "B" and ioc["confidence"] == 75 and ioc["reputation"] == 91
    assert ioc["tlp"] == "amber+strict" and ioc["status"] == "under_review"
    assert ioc["tags"] == ["kit"]
    assert ioc["mitreTechniques"] == ["T1566", "T1566.002"]
    assert ioc["country"] == "DE" and ioc["asn"] == 64500
    assert ioc["metadata"] == {"nested": {"a": [1, 2]}}


@pytest.mark.parametrize("first,second,normalized,kind", [
    ("198.51.100.7:8080", "198.51.100.7", "198.51.100.7", "ip"),
    ("[2001:DB8:0:0::7]:443", "2001:db8::7", "2001:db8::7", "ip"),
    ("HTTPS://Evil.Example:443/Login?x=1#top", "https://evil.example/Login?x=1", "https://evil.example/Login?x=1", "url"),
    ("http://evil.example/a/./../%7Ekit/%2fx", "HTTP://EVIL.EXAMPLE/~kit/%2Fx", "http://evil.example/~kit/%2Fx", "url"),
    (MD5, MD5.lower(), MD5.lower(), "hash_md5"),
    (SHA1.upper(), SHA1, SHA1, "hash_sha1"),
    (SHA256, SHA256.lower(), SHA256.lower(), "hash_sha256"),
    ("Phish@Evil.Example", "phish@evil.example", "phish@evil.example", "email"),
    ("cve-2021-44228", "CVE-2021-44228", "CVE-2021-44228", "cve"),
])
def test_normalised_forms_are_one_ioc(fresh, first, second, normalized, kind):
    a = upload(fresh, {"value": first}).json()["data"]
    b = upload(fresh, {"value": second}).json()["data"]
    assert a["created"] == 1 and b["updated"] == 1 and a["ids"] == b["ids"]
    got = find(fresh, second)
    assert got["found"] and got["type"] == kind and got["normalizedValue"] == normalized
    assert got["ioc"]["sightings"] == 2


def test_same_value_as_two_types_is_two_iocs(fresh):
    # "unique by (type, normalized value)": a hash string sent as md5 vs detected differently
    a = upload(fresh, {"value": "evil.example"}).json()["data"]
    b = upload(fresh, {"value": "http://evil.example/"}).json()["data"]
    assert a["created"] == 1 and b["created"] == 1 and a["ids"] != b["ids"]


def test_expired_ioc_revives_on_new_sighting(tc):
    value = unique_domain("revive")
    upload(tc, {"value": value, "status": "expired"})
    assert find(tc, value)["ioc"]["status"] == "expired"
    assert find(tc, value)["verdict"] == "expired"
    upload(tc, {"value": value})
    assert find(tc, value)["ioc"]["status"] == "active"
    # revoked stays revoked: that is a decision, not an age
    upload(tc, {"value": value, "status": "revoked"})
    upload(tc, {"value": value})
    assert find(tc, value)["ioc"]["status"] == "revoked"


def test_batch_of_1000_in_one_request(fresh):
    body = {"iocs": [{"value": f"10.{i // 256}.{i % 256}.1", "reputation": 80} for i in range(1000)]}
    r = upload(fresh, body)
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["created"] == 1000 and data["updated"] == 0 and len(set(data["ids"])) == 1000
    assert listing(fresh, limit=1)["pagination"]["total"] == 1000
    # the same batch again only updates, ids in the same order
    again = upload(fresh, body).json()["data"]
    assert again["created"] == 0 and again["updated"] == 1000 and again["ids"] == data["ids"]
    # duplicates inside one batch: the second is an update of the first
    dup = upload(fresh, {"iocs": [{"value": "dup.example"}, {"value": "DUP.example."}]}).json()["data"]
    assert dup["created"] == 1 and dup["updated"] == 1 and dup["ids"][0] == dup["ids"][1]


def test_batch_limits(tc):
    assert_validation(upload(tc, {"iocs": []}, expect=None), "iocs")
    assert_validation(upload(tc, {"iocs": [{"value": f"10.0.{i // 256}.{i % 256}"} for i in range(1001)]},
                             expect=None), "iocs")
    assert_validation(upload(tc, {"iocs": {"value": "1.2.3.4"}}, expect=None), "iocs")
    assert_validation(upload(tc, {"iocs": ["1.2.3.4"]}, expect=None), "iocs[0]")


def test_batch_is_all_or_nothing(tc):
    values = [unique_domain("atomic") for _ in range(3)]
    body = {"iocs": [{"value": v} for v in values] + [{"value": "not a value"}]}
    assert_validation(upload(tc, body, expect=None), "iocs[3].value")
    for v in values:
        assert find(tc, v)["found"] is False


@pytest.mark.parametrize("ioc,field", [
    ({}, "value"),
    ({"value": ""}, "value"),
    ({"value": 42}, "value"),
    ({"value": "no such thing"}, "value"),
    ({"value": "x" * 3000}, "value"),
    ({"value": "1.2.3.4", "type": "domain"}, "value"),
    ({"value": "1.2.3.4", "type": "ipv4"}, "type"),
    ({"value": "1.2.3.4", "confidence": 101}, "confidence"),
    ({"value": "1.2.3.4", "confidence": "high"}, "confidence"),
    ({"value": "1.2.3.4", "confidence": 50.5}, "confidence"),
    ({"value": "1.2.3.4", "reputation": -1}, "reputation"),
    ({"value": "1.2.3.4", "tlp": "white"}, "tlp"),
    ({"value": "1.2.3.4", "sourceReliability": "G"}, "sourceReliability"),
    ({"value": "1.2.3.4", "status": "deleted"}, "status"),
    ({"value": "1.2.3.4", "threatType": ""}, "threatType"),
    ({"value": "1.2.3.4", "source": "a\u0000b"}, "source"),
    ({"value": "1.2.3.4", "firstSeen": "yesterday"}, "firstSeen"),
    ({"value": "1.2.3.4", "lastSeen": "2026-13-01T00:00:00Z"}, "lastSeen"),
    ({"value": "1.2.3.4", "firstSeen": "2026-02-01T00:00:00Z", "lastSeen": "2026-01-01T00:00:00Z"}, "firstSeen"),
    ({"value": "1.2.3.4", "tags": "a,b"}, "tags"),
    ({"value": "1.2.3.4", "tags": ["x" * 65]}, "tags[0]"),
    ({"value": "1.2.3.4", "tags": [f"t{i}" for i in range(51)]}, "tags"),
    ({"value": "1.2.3.4", "mitreTechniques": ["T12"]}, "mitreTechniques[0]"),
    ({"value": "1.2.3.4", "country": "Germany"}, "country"),
    ({"value": "1.2.3.4", "country": "1A"}, "country"),
    ({"value": "1.2.3.4", "asn": "ASX"}, "asn"),
    ({"value": "1.2.3.4", "asn": 2 ** 40}, "asn"),
    ({"value": "1.2.3.4", "metadata": [1]}, "metadata"),
    ({"value": "1.2.3.4", "metadata": {"blob": "x" * 17000}}, "metadata"),
])
def test_upload_validation_names_the_field(tc, ioc, field):
    assert_validation(upload(tc, ioc, expect=None), field)
    assert_validation(upload(tc, {"iocs": [{"value": "1.2.3.4"}, ioc]}, expect=None), "iocs[1]." + field
                      if not field.startswith("iocs") else field)


def test_upload_needs_json(tc):
    r = tc.request("POST", "/api/iocs", data="1.2.3.4", headers={**ADMIN, "Content-Type": "text/plain"})
    assert r.status_code == 415
    r = tc.request("POST", "/api/iocs", data='{"value": ', headers={**ADMIN, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert_error_style(tc, r.json())
    r = tc.request("POST", "/api/iocs", data="[1]", headers={**ADMIN, "Content-Type": "application/json"})
    assert r.status_code == 400


# --- list: pagination, filters, sort ----------------------------------------------------------


def test_pagination_math_and_limit_clamp(fresh):
    upload(fresh, {"iocs": [{"value": f"p{i}.example"} for i in range(7)]})
    body = listing(fresh, limit=3)
    assert body["pagination"] == {"total": 7, "page": 1, "limit": 3, "pages": 3}
    assert len(body["data"]) == 3
    seen = [i["id"] for p in (1, 2, 3) for i in listing(fresh, limit=3, page=p)["data"]]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert len(listing(fresh, limit=3, page=3)["data"]) == 1
    assert listing(fresh, limit=3, page=4)["data"] == []
    assert listing(fresh)["pagination"]["limit"] == 50
    clamped = listing(fresh, limit=500)
    assert clamped["pagination"]["limit"] == 200 and clamped["pagination"]["pages"] == 1
    for params, field in [({"limit": 0}, "limit"), ({"limit": "ten"}, "limit"), ({"page": 0}, "page"),
                          ({"page": "x"}, "page")]:
        assert_validation(fresh.get("/api/iocs", headers=ADMIN, params=params), field)


def test_filters(fresh):
    upload(fresh, {"iocs": [
        {"value": "203.0.113.1", "source": "honeypot", "reputation": 95, "tags": ["botnet"], "tlp": "green",
         "lastSeen": "2026-03-01T00:00:00Z"},
        {"value": "203.0.113.2", "source": "feed", "reputation": 40, "tags": ["scanner"], "status": "under_review",
         "lastSeen": "2026-01-01T00:00:00Z"},
        {"value": "bad.example", "source": "honeypot", "reputation": 75, "tags": ["botnet", "c2"], "tlp": "red",
         "lastSeen": "2026-02-01T00:00:00Z"},
        {"value": MD5, "source": "sandbox", "reputation": 10, "lastSeen": "2025-12-01T00:00:00Z"},
    ]})

    def values(**params):
        return sorted(i["normalizedValue"] for i in listing(fresh, limit=200, **params)["data"])

    assert values(type="ip") == ["203.0.113.1", "203.0.113.2"]
    assert values(type="hash_md5") == [MD5.lower()]
    assert values(source="honeypot") == ["203.0.113.1", "bad.example"]
    assert values(status="under_review") == ["203.0.113.2"]
    assert values(tag="botnet") == ["203.0.113.1", "bad.example"]
    assert values(tag="c2") == ["bad.example"]
    assert values(tag="bot") == []
    assert values(tlp="red") == ["bad.example"]
    assert values(minReputation=75) == ["203.0.113.1", "bad.example"]
    assert values(maxReputation=40) == ["203.0.113.2", MD5.lower()]
    assert values(minReputation=40, maxReputation=80) == ["203.0.113.2", "bad.example"]
    assert values(since="2026-02-01T00:00:00Z") == ["203.0.113.1", "bad.example"]
    assert values(since="2026-01-31T23:00:00-01:00") == ["203.0.113.1", "bad.example"]
    assert values(search="113") == ["203.0.113.1", "203.0.113.2"]
    assert values(search="BAD.") == ["bad.example"]
    assert values(search="%") == []
    assert values(type="ip", source="honeypot", minReputation=90) == ["203.0.113.1"]
    assert listing(fresh, tag="botnet")["pagination"]["total"] == 2

    def order(sort):
        return [i["normalizedValue"] for i in listing(fresh, sort=sort)["data"]]

    assert order("-reputation") == ["203.0.113.1", "bad.example", "203.0.113.2", MD5.lower()]
    assert order("reputation") == [MD5.lower(), "203.0.113.2", "bad.example", "203.0.113.1"]
    assert order("lastSeen") == [MD5.lower(), "203.0.113.2", "bad.example", "203.0.113.1"]
    assert order("-lastSeen") == order("lastSeen")[::-1]
    assert listing(fresh)["data"][0]["normalizedValue"] == "203.0.113.1"  # default: newest lastSeen first
    assert order("value") == sorted(order("value"))

    for params, field in [({"type": "ipv4"}, "type"), ({"status": "gone"}, "status"), ({"tlp": "white"}, "tlp"),
                          ({"minReputation": 101}, "minReputation"), ({"maxReputation": "x"}, "maxReputation"),
                          ({"minReputation": 80, "maxReputation": 20}, "minReputation"),
                          ({"since": "last week"}, "since"), ({"sort": "colour"}, "sort"),
                          ({"search": "x" * 300}, "search")]:
        assert_validation(fresh.get("/api/iocs", headers=ADMIN, params=params), field)


# --- lookups ----------------------------------------------------------------------------------


def test_lookup_one(tc):
    url = f"http://{unique_domain('lookup')}/path/x?q=1"
    upload(tc, {"value": url, "reputation": 90})
    got = find(tc, url)
    assert got["found"] and got["type"] == "url" and got["verdict"] == "malicious"
    assert find(tc, url.upper().replace("/PATH/X?Q=1", "/path/x?q=1"))["found"]  # host case does not matter
    missing = find(tc, "203.0.113.254")
    assert missing["found"] is False and "ioc" not in missing and missing["verdict"] == "unknown"
    assert find(tc, "203.0.113.254:22", type="ip")["normalizedValue"] == "203.0.113.254"
    assert_validation(tc.get("/api/iocs/not%20an%20ioc", headers=ADMIN), "value")
    assert_validation(tc.get("/api/iocs/1.2.3.4", headers=ADMIN, params={"type": "domain"}), "value")
    assert_validation(tc.get("/api/iocs/1.2.3.4", headers=ADMIN, params={"type": "nope"}), "type")


def test_lookup_bulk_verdicts(fresh):
    upload(fresh, {"iocs": [
        {"value": "192.0.2.1", "reputation": 95, "threatType": "c2"},
        {"value": "192.0.2.2", "reputation": 50},
        {"value": "192.0.2.3", "reputation": 10},
        {"value": "192.0.2.4", "reputation": 99, "status": "revoked"},
        {"value": "192.0.2.5", "reputation": 99, "status": "expired"},
    ]})
    values = ["192.0.2.1:443", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "??", MD5]
    r = fresh.request("POST", "/api/iocs/lookup", json={"values": values}, headers=ADMIN)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["total"] == 8 and data["found"] == 5 and data["malicious"] == 1
    results = data["results"]
    assert [x["value"] for x in results] == values
    assert [x["verdict"] for x in results] == ["malicious", "suspicious", "low_risk", "clean", "expired", "unknown",
                                               "invalid", "unknown"]
    assert results[0]["normalizedValue"] == "192.0.2.1" and results[0]["threatType"] == "c2"
    assert results[0]["id"].startswith("ioc_") and results[0]["reputation"] == 95
    assert results[7]["type"] == "hash_md5"

    many = [f"10.9.{i // 256}.{i % 256}" for i in range(1000)]
    r = fresh.request("POST", "/api/iocs/lookup", json={"values": many}, headers=ADMIN)
    assert r.status_code == 200 and len(r.json()["data"]["results"]) == 1000

    for body, field in [({}, "values"), ({"values": []}, "values"), ({"values": "1.2.3.4"}, "values"),
                        ({"values": many + ["1.1.1.1"]}, "values"), ({"values": ["1.2.3.4", 5]}, "values[1]"),
                        ({"values": [""]}, "values[0]")]:
        assert_validation(fresh.request("POST", "/api/iocs/lookup", json=body, headers=ADMIN), field)


# --- patch ------------------------------------------------------------------------------------


def test_patch(tc):
    value = unique_domain("patch")
    (ioc_id,) = upload(tc, {"value": value, "reputation": 90, "tags": ["old"]}).json()["data"]["ids"]
    r = tc.request("PATCH", f"/api/iocs/{ioc_id}", json={"status": "revoked", "tags": ["new", "new", "x"],
                                                         "tlp": "amber", "confidence": 12}, headers=ADMIN)
    assert r.status_code == 200, r.text
    ioc = r.json()["data"]
    assert ioc["id"] == ioc_id and ioc["status"] == "revoked" and ioc["tags"] == ["new", "x"]
    assert ioc["tlp"] == "amber" and ioc["confidence"] == 12 and ioc["reputation"] == 90
    assert find(tc, value)["verdict"] == "clean"
    r = tc.request("PATCH", f"/api/iocs/{ioc_id}", json={"status": "active"}, headers=ADMIN)
    assert r.json()["data"]["status"] == "active" and r.json()["data"]["tags"] == ["new", "x"]
    assert find(tc, value)["verdict"] == "malicious"
    # under review, then only the TLP changes: the other fields stay
    r = tc.request("PATCH", f"/api/iocs/{ioc_id}", json={"status": "under_review"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["data"]["status"] == "under_review"
    r = tc.request("PATCH", f"/api/iocs/{ioc_id}", json={"tlp": "amber+strict"}, headers=ADMIN)
    ioc = r.json()["data"]
    assert ioc["tlp"] == "amber+strict" and ioc["status"] == "under_review" and ioc["confidence"] == 12
    assert find(tc, value)["ioc"]["status"] == "under_review"

    r = tc.request("PATCH", "/api/iocs/ioc_0000000000000000", json={"status": "active"}, headers=ADMIN)
    assert r.status_code == 404
    assert_error_style(tc, r.json())
    for body, field in [({}, "status"), ({"status": "expired"}, "status"), ({"tlp": "white"}, "tlp"),
                        ({"confidence": 101}, "confidence"), ({"tags": [""]}, "tags[0]"),
                        ({"tags": "x"}, "tags")]:
        assert_validation(tc.request("PATCH", f"/api/iocs/{ioc_id}", json=body, headers=ADMIN), field)
    read = create_key(tc, ["read"])["key"]
    r = tc.request("PATCH", f"/api/iocs/{ioc_id}", json={"status": "active"}, headers=auth(read))
    assert r.status_code == 403


def test_patch_by_value_like_get(tc):
    """PATCH names the IoC the way GET does: by its value (normalised, type auto-detected or
    ?type=); the id keeps working."""
    value = unique_domain("patch-value")
    (ioc_id,) = upload(tc, {"value": value, "reputation": 90}).json()["data"]["ids"]
    r = tc.request("PATCH", f"/api/iocs/{value.upper()}.", json={"status": "revoked"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == ioc_id and find(tc, value)["ioc"]["status"] == "revoked"
    (ip_id,) = upload(tc, {"value": "198.51.100.230", "reputation": 80}).json()["data"]["ids"]
    r = tc.request("PATCH", "/api/iocs/198.51.100.230:8080", json={"tags": ["scanner"]}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["data"]["id"] == ip_id and r.json()["data"]["tags"] == ["scanner"]
    r = tc.request("PATCH", f"/api/iocs/{value}", params={"type": "domain"}, json={"tlp": "green"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["data"]["tlp"] == "green"
    r = tc.request("PATCH", "/api/iocs/" + unique_domain("never-uploaded"), json={"status": "active"}, headers=ADMIN)
    assert r.status_code == 404
    assert_validation(tc.request("PATCH", "/api/iocs/not a value", json={"status": "active"}, headers=ADMIN), "value")
    r = tc.request("PATCH", f"/api/iocs/{value}", params={"type": "ip"}, json={"status": "active"}, headers=ADMIN)
    assert_validation(r, "value")


# --- durability -------------------------------------------------------------------------------


def test_kill_9_during_batch_writes_keeps_every_acknowledged_ioc(launch):
    server = launch("threat-cloud", env=RELAXED)

    def batch(n: int, batch_no: int):
        values = [f"w{n}-b{batch_no}-{i}.durable.example" for i in range(100)]
        return {"iocs": [{"value": v} for v in values]}, values

    acknowledged = write_until_killed(server, "/api/iocs", batch)
    assert len(acknowledged) >= 300, "too few batches were acknowledged before the kill"

    again = launch("threat-cloud", env=RELAXED, data_dir=server.data_dir)
    missing = []
    for i in range(0, len(acknowledged), 1000):
        chunk = acknowledged[i:i + 1000]
        r = again.request("POST", "/api/iocs/lookup", json={"values": chunk}, headers=ADMIN)
        assert r.status_code == 200, r.text
        missing += [x["value"] for x in r.json()["data"]["results"] if not x["found"]]
    assert missing == [], f"{len(missing)} acknowledged IoCs lost, e.g. {missing[:5]}"
    # no partial batch either: the total is a multiple of the batch size
    assert listing(again, limit=1)["pagination"]["total"] % 100 == 0


def test_unseen_iocs_expire(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_IOC_EXPIRE_DAYS": "30"})
    upload(server, {"iocs": [{"value": "old.example", "lastSeen": "2020-01-01T00:00:00Z", "reputation": 90},
                             {"value": "new.example", "reputation": 90}]})
    assert find(server, "old.example")["ioc"]["status"] == "active"
    assert server.stop() == 0
    again = launch("threat-cloud", env={**RELAXED, "TC_IOC_EXPIRE_DAYS": "30"}, data_dir=server.data_dir)
    old = find(again, "old.example")
    assert old["ioc"]["status"] == "expired" and old["verdict"] == "expired"
    assert find(again, "new.example")["ioc"]["status"] == "active"
    r = again.get("/api/feeds/domain-blocklist", headers=ADMIN)
    assert "old.example" not in r.text and "new.example" in r.text


def test_merging_is_bounded(tc):
    value = unique_domain("bounded")
    upload(tc, {"value": value, "tags": [f"a{i}" for i in range(50)]})
    upload(tc, {"value": value, "tags": [f"b{i}" for i in range(50)]})
    r = upload(tc, {"value": value, "tags": ["one-too-many"]}, expect=None)
    assert_validation(r, "tags")
    assert len(find(tc, value)["ioc"]["tags"]) == 100
    for i in range(4):
        upload(tc, {"value": value, "metadata": {f"k{i}": "x" * 15000}})
    assert_validation(upload(tc, {"value": value, "metadata": {"k9": "x" * 15000}}, expect=None), "metadata")
    assert find(tc, value)["ioc"]["sightings"] == 6  # the refused uploads changed nothing


def test_body_limits(tc):
    # uploads take up to 8 MiB, lookups 4 MiB; beyond is 413
    big = {"iocs": [{"value": "1.2.3.4", "metadata": {"pad": "x" * 9000}}] * 1000}
    r = tc.request("POST", "/api/iocs", json=big, headers=ADMIN)
    assert r.status_code == 413
    r = tc.request("POST", "/api/iocs/lookup", json={"values": ["x" * 2000] * 2500}, headers=ADMIN)
    assert r.status_code == 413
    # 1000 IoCs with some metadata fit
    fits = {"iocs": [{"value": f"fit{i}.example", "metadata": {"pad": "x" * 2000}} for i in range(1000)]}
    assert tc.request("POST", "/api/iocs", json=fits, headers=ADMIN).status_code == 201
