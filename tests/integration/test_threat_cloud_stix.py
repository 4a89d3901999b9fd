"""threat-cloud STIX 2.1 bundle (validated against the OASIS schemas) and the TAXII 2.1 server."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE_DIR
from threat_cloud_helpers import ADMIN, RELAXED, auth, create_key, upload

SCHEMAS = SOURCE_DIR.parent / "shared" / "data" / "stix2" / "schemas"
if not SCHEMAS.exists():
    SCHEMAS = Path("/work/shared/data/stix2/schemas")
VALIDATOR = Path(__file__).with_name("stix_validate.py")
TAXII = "application/taxii+json;version=2.1"
COLLECTIONS = "/taxii2/api/collections/"
SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


def schema_errors(document, schema="common/bundle.json", tmp_path=None) -> list[str]:
    """Errors from the OASIS schemas, with jsonschema in this interpreter or another python3."""
    try:
        import jsonschema  # noqa: F401
        import stix_validate
        return stix_validate.errors(SCHEMAS, schema, document)
    except ImportError:
        pass
    candidates = [shutil.which("python3"), os.path.expanduser("~/.pyenv/shims/python3")]
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import jsonschema"], capture_output=True)
        if probe.returncode != 0:
            continue
        path = (tmp_path or Path("/tmp")) / f"stix-{os.getpid()}.json"
        path.write_text(json.dumps(document))
        r = subprocess.run([python, str(VALIDATOR), str(SCHEMAS), schema, str(path)], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode in (0, 1), r.stderr
        return r.stdout.splitlines()
    pytest.skip("no python3 with jsonschema (Debian: python3-jsonschema)")


@pytest.fixture(scope="module")
def tc(module_launch):
    server = module_launch("threat-cloud", env=RELAXED)
    upload(server, {"iocs": [
        {"value": "192.0.2.1", "reputation": 90, "threatType": "botnet_cc", "tags": ["qakbot"], "confidence": 80},
        {"value": "2001:db8::7", "reputation": 85, "tlp": "green"},
        {"value": "evil.example", "reputation": 80, "tlp": "amber"},
        {"value": "http://evil.example/it's", "reputation": 75, "tlp": "red"},
        {"value": SHA256, "reputation": 95, "tlp": "amber+strict"},
        {"value": "d41d8cd98f00b204e9800998ecf8427e", "reputation": 70},
        {"value": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "reputation": 70},
        {"value": "bad@phish.example", "reputation": 72},
        {"value": "CVE-2024-3094", "reputation": 99},
        {"value": "192.0.2.99", "reputation": 20},
    ]})
    return server


def bundle(server, headers=ADMIN, **params):
    return server.get("/api/feeds/stix", headers=headers, params=params)


def indicators(b):
    return [o for o in b["objects"] if o["type"] == "indicator"]


def test_stix_bundle_is_valid_stix_2_1(tc, tmp_path):
    r = bundle(tc)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/stix+json")
    assert r.headers.get("Transfer-Encoding") == "chunked"
    b = r.json()
    assert b["type"] == "bundle" and b["id"].startswith("bundle--")
    assert schema_errors(b, tmp_path=tmp_path) == []
    for o in b["objects"]:
        schema = "sdos/indicator.json" if o["type"] == "indicator" else "common/marking-definition.json"
        assert schema_errors(o, schema, tmp_path) == [], o


def test_stix_indicator_contents(tc):
    b = bundle(tc).json()
    markings = {o["id"]: o for o in b["objects"] if o["type"] == "marking-definition"}
    assert {m["definition"]["tlp"] for m in markings.values()} == {"white", "green", "amber", "red"}
    by_pattern = {i["pattern"]: i for i in indicators(b)}
    assert set(by_pattern) == {
        "[ipv4-addr:value = '192.0.2.1']",
        "[ipv6-addr:value = '2001:db8::7']",
        "[domain-name:value = 'evil.example']",
        "[url:value = 'http://evil.example/it\\'s']",
        f"[file:hashes.'SHA-256' = '{SHA256}']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        "[email-addr:value = 'bad@phish.example']",
    }  # no CVE (no STIX pattern), nothing below minReputation 70
    ip = by_pattern["[ipv4-addr:value = '192.0.2.1']"]
    assert ip["pattern_type"] == "stix" and ip["spec_version"] == "2.1"
    assert ip["valid_from"].endswith("Z") and ip["confidence"] == 80 and ip["labels"] == ["qakbot"]
    assert ip["indicator_types"] == ["malicious-activity"]
    tlp_of = {i["pattern"]: markings[i["object_marking_refs"][0]]["definition"]["tlp"] for i in indicators(b)}
    assert tlp_of["[ipv4-addr:value = '192.0.2.1']"] == "white"  # TLP clear
    assert tlp_of["[domain-name:value = 'evil.example']"] == "amber"
    assert tlp_of[f"[file:hashes.'SHA-256' = '{SHA256}']"] == "amber"  # amber+strict
    assert tlp_of["[url:value = 'http://evil.example/it\\'s']"] == "red"
    # ids are stable across requests, the bundle id is not
    again = bundle(tc).json()
    assert {i["id"] for i in indicators(again)} == {i["id"] for i in indicators(b)}
    assert again["id"] != b["id"]


def test_stix_filters_and_etag(tc):
    only_ip = indicators(bundle(tc, type="ip").json())
    assert {i["pattern"] for i in only_ip} == {"[ipv4-addr:value = '192.0.2.1']", "[ipv6-addr:value = '2001:db8::7']"}
    assert len(indicators(bundle(tc, minReputation=0).json())) == 9
    assert indicators(bundle(tc, tlp="red").json())[0]["pattern"].startswith("[url:")
    r = bundle(tc)
    etag = r.headers["ETag"]
    assert bundle(tc, headers={**ADMIN, "If-None-Match": etag}).status_code == 304
    assert bundle(tc, type="ip").headers["ETag"] != etag
    assert bundle(tc, type="nonsense").status_code == 400
    assert bundle(tc, headers={}).status_code == 401


def taxii(server, path, headers=ADMIN, accept=TAXII, **params):
    h = {**headers}
    if accept:
        h["Accept"] = accept
    return server.get(path, headers=h, params=params)


def assert_taxii_error(r, status):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == TAXII
    body = r.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]


def collection_id(server):
    return taxii(server, COLLECTIONS).json()["collections"][0]["id"]


def test_taxii_discovery_root_and_collections(tc):
    r = taxii(tc, "/taxii2/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.headers["Cache-Control"] == "no-store"  # answered to a key: never kept by a cache
    d = r.json()
    assert d["api_roots"] == ["/taxii2/api/"] and d["default"] == "/taxii2/api/"
    root = taxii(tc, "/taxii2/api/").json()
    assert root["versions"] == [TAXII]
    cols = taxii(tc, COLLECTIONS).json()["collections"]
    assert len(cols) == 1 and cols[0]["can_read"] is True and cols[0]["can_write"] is False
    assert cols[0]["media_types"] == ["application/stix+json;version=2.1"]
    one = taxii(tc, f"{COLLECTIONS}{cols[0]['id']}/").json()
    assert one == cols[0]
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}no-such-collection/"), 404)
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}no-such-collection/objects/"), 404)


def test_taxii_objects_pagination(tc, tmp_path):
    cid = collection_id(tc)
    r = taxii(tc, f"{COLLECTIONS}{cid}/objects/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.headers["Cache-Control"] == "no-store" and int(r.headers["X-RateLimit-Limit"]) > 0
    env = r.json()
    objects = env["objects"]
    # every active IoC of a type STIX can express, whatever its reputation
    assert len(objects) == 9 and env["more"] is False
    for o in objects:
        assert schema_errors(o, "sdos/indicator.json", tmp_path) == [], o
    assert r.headers["X-TAXII-Date-Added-First"].endswith("Z")
    seen = []
    page = taxii(tc, f"{COLLECTIONS}{cid}/objects/", limit=4).json()
    while True:
        seen += [o["id"] for o in page["objects"]]
        if not page["more"]:
            break
        assert len(page["objects"]) == 4
        page = taxii(tc, f"{COLLECTIONS}{cid}/objects/", limit=4, next=page["next"]).json()
    assert sorted(seen) == sorted(o["id"] for o in objects) and len(seen) == len(set(seen))
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}{cid}/objects/", next="zz"), 400)
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}{cid}/objects/", limit=0), 400)
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}{cid}/objects/", added_after="yesterday"), 400)


def test_taxii_filters_and_object(tc):
    cid = collection_id(tc)
    objects = taxii(tc, f"{COLLECTIONS}{cid}/objects/").json()["objects"]
    first = objects[0]
    r = taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[id]": first["id"]}).json()
    assert [o["id"] for o in r["objects"]] == [first["id"]]
    assert "objects" not in taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[type]": "malware"}).json()
    assert len(taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[type]": "malware,indicator"}).json()["objects"]) == 9
    assert "objects" not in taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[spec_version]": "2.0"}).json()
    assert len(taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[version]": "last"}).json()["objects"]) == 9
    by_version = taxii(tc, f"{COLLECTIONS}{cid}/objects/", **{"match[version]": first["modified"]}).json()
    assert first["id"] in [o["id"] for o in by_version["objects"]]
    assert "objects" not in taxii(tc, f"{COLLECTIONS}{cid}/objects/", added_after="2100-01-01T00:00:00Z").json()
    later = taxii(tc, f"{COLLECTIONS}{cid}/objects/", added_after="2000-01-01T00:00:00.123Z").json()
    assert len(later["objects"]) == 9
    one = taxii(tc, f"{COLLECTIONS}{cid}/objects/{first['id']}/").json()
    assert one["objects"] == [first]
    assert_taxii_error(taxii(tc, f"{COLLECTIONS}{cid}/objects/indicator--00000000-0000-4000-8000-000000000000/"), 404)
    manifest_response = taxii(tc, f"{COLLECTIONS}{cid}/manifest/")
    assert manifest_response.headers["Cache-Control"] == "no-store"
    manifest = manifest_response.json()
    assert {m["id"] for m in manifest["objects"]} == {o["id"] for o in objects}
    m = manifest["objects"][0]
    assert set(m) == {"id", "date_added", "version", "media_type"}
    assert m["media_type"] == "application/stix+json;version=2.1"


def test_taxii_sees_changes_after_added_after(tc):
    cid = collection_id(tc)
    last = taxii(tc, f"{COLLECTIONS}{cid}/objects/").headers["X-TAXII-Date-Added-Last"]
    import time
    time.sleep(1.1)  # timestamps have whole seconds
    upload(tc, {"value": "198.51.100.55", "reputation": 90})
    newer = taxii(tc, f"{COLLECTIONS}{cid}/objects/", added_after=last).json()["objects"]
    assert [o["pattern"] for o in newer] == ["[ipv4-addr:value = '198.51.100.55']"]
    # a revoked IoC leaves the collection
    ioc = tc.get("/api/iocs/198.51.100.55", headers=ADMIN).json()["data"]["ioc"]
    assert tc.request("PATCH", f"/api/iocs/{ioc['id']}", headers=ADMIN, json={"status": "revoked"}).status_code == 200
    assert "objects" not in taxii(tc, f"{COLLECTIONS}{cid}/objects/", added_after=last).json()


def test_taxii_auth_accept_and_errors(tc):
    assert_taxii_error(taxii(tc, "/taxii2/", headers={}), 401)
    assert_taxii_error(taxii(tc, "/taxii2/", headers=auth("tck_nope.nope")), 401)
    read = create_key(tc, ["read"])["key"]
    keyed = taxii(tc, f"{COLLECTIONS}{collection_id(tc)}/", headers=auth(read))
    assert keyed.status_code == 200 and keyed.headers["Cache-Control"] == "no-store"
    assert taxii(tc, "/taxii2/", headers=auth(read)).status_code == 200
    # the route's query parameters are checked by the pipeline, answered as a TAXII error
    assert_taxii_error(taxii(tc, COLLECTIONS, search="x"), 400)
    assert taxii(tc, "/taxii2/", accept=None).status_code == 200
    assert taxii(tc, "/taxii2/", accept="*/*").status_code == 200
    assert taxii(tc, "/taxii2/", accept="application/taxii+json").status_code == 200
    assert_taxii_error(taxii(tc, "/taxii2/", accept="application/json"), 406)
    assert_taxii_error(taxii(tc, "/taxii2/", accept="application/taxii+json;version=2.0"), 406)


def test_taxii_rate_limit_and_public_reads(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_READ_RATE_LIMIT": "2/min", "TC_PUBLIC_READS": "true"})
    upload(server, {"iocs": [{"value": "192.0.2.60", "reputation": 90, "tlp": "clear"},
                             {"value": "192.0.2.61", "reputation": 90, "tlp": "amber"}]})
    cid = taxii(server, COLLECTIONS, headers={}).json()["collections"][0]["id"]
    anonymous = taxii(server, f"{COLLECTIONS}{cid}/objects/", headers={})
    assert [o["pattern"] for o in anonymous.json()["objects"]] == ["[ipv4-addr:value = '192.0.2.60']"]
    r = taxii(server, "/taxii2/", headers={})
    assert_taxii_error(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # a key has buckets of its own, and sees every TLP
    assert len(taxii(server, f"{COLLECTIONS}{cid}/objects/").json()["objects"]) == 2
