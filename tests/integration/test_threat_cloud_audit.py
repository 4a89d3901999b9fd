"""threat-cloud audit log: key changes and IoC writes recorded, keys redacted, IPs anonymised."""
from __future__ import annotations

import pytest

from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload


@pytest.fixture
def tc(launch):
    return launch("threat-cloud", env=RELAXED)


def audit(server, headers=ADMIN, **params):
    r = server.get("/api/audit-log", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_writes_and_key_changes_are_recorded(tc):
    key = create_key(tc, ["write"], name="uploader")
    secret = key["key"].split(".", 1)[1]
    writer = auth(key["key"])
    (one,) = upload(tc, {"value": "192.0.2.9"}, headers=writer).json()["data"]["ids"]
    upload(tc, {"iocs": [{"value": "192.0.2.9"}, {"value": "evil.example"}]}, headers=writer)
    assert tc.request("PATCH", f"/api/iocs/{one}", json={"status": "revoked"}, headers=writer).status_code == 200
    assert tc.request("DELETE", f"/api/keys/{key['id']}", headers=ADMIN).status_code == 200
    # failed writes leave no trace
    tc.request("POST", "/api/iocs", json={"value": "??"}, headers=ADMIN)

    body = audit(tc)
    entries = body["data"]
    assert body["pagination"]["total"] == 5
    assert [e["action"] for e in entries] == ["key.revoke", "ioc.update", "ioc.upload", "ioc.upload", "key.create"]
    revoke, update, batch, single, create = entries
    assert create["entityType"] == "api_key" and create["entityId"] == key["id"]
    assert create["details"]["key"] == key["id"] + ".***" and create["details"]["name"] == "uploader"
    assert secret not in tc.get("/api/audit-log", headers=ADMIN).text
    assert single["actor"] == key["id"] and single["entityType"] == "ioc" and single["entityId"] == one
    assert single["details"] == {"created": 1, "updated": 0, "ids": [one]}
    assert batch["details"]["created"] == 1 and batch["details"]["updated"] == 1
    assert update["entityId"] == one and update["details"] == {"status": "revoked"}
    assert revoke["entityId"] == key["id"] and revoke["actor"].startswith("boot_")
    for e in entries:
        assert e["ip"] == "127.0.0.0"  # anonymised
        assert e["id"].startswith("aud_") and e["at"].endswith("Z")

    assert [e["action"] for e in audit(tc, action="ioc.upload")["data"]] == ["ioc.upload", "ioc.upload"]
    assert len(audit(tc, entityType="api_key")["data"]) == 2
    assert [e["action"] for e in audit(tc, entityId=one)["data"]] == ["ioc.update", "ioc.upload"]
    assert audit(tc, since="2000-01-01T00:00:00Z")["pagination"]["total"] == 5
    assert audit(tc, since="2100-01-01T00:00:00Z")["data"] == []
    page = audit(tc, limit=2, page=3)
    assert len(page["data"]) == 1 and page["pagination"]["pages"] == 3


def test_audit_log_is_admin_only_and_validated(tc):
    write = create_key(tc, ["write"])["key"]
    assert tc.get("/api/audit-log", headers=auth(write)).status_code == 403
    assert tc.get("/api/audit-log").status_code == 401
    assert_validation(tc.get("/api/audit-log", headers=ADMIN, params={"action": "drop"}), "action")
    assert_validation(tc.get("/api/audit-log", headers=ADMIN, params={"entityType": "user"}), "entityType")
    assert_validation(tc.get("/api/audit-log", headers=ADMIN, params={"since": "now"}), "since")


def test_feed_downloads_are_audited(launch):
    from threat_cloud_helpers import RELAXED as relaxed
    server = launch("threat-cloud", env={**relaxed, "TC_PUBLIC_READS": "true"})
    read = create_key(server, ["read"])["key"]
    r = server.get("/api/feeds/ip-blocklist", headers=auth(read), params={"minReputation": 10})
    assert r.status_code == 200
    assert server.get("/api/feeds/ip-blocklist", headers={**auth(read), "If-None-Match": r.headers["ETag"]},
                      params={"minReputation": 10}).status_code == 304
    assert server.get("/api/feeds/stix").status_code == 200
    assert server.get("/api/feeds/agent-update", headers=auth(read)).status_code == 200
    assert server.get("/taxii2/api/collections/", headers=auth(read)).status_code == 200
    cid = server.get("/taxii2/api/collections/", headers=auth(read)).json()["collections"][0]["id"]
    assert server.get(f"/taxii2/api/collections/{cid}/manifest/", headers=auth(read)).status_code == 200
    log = server.get("/api/audit-log", headers=ADMIN, params={"action": "feed.access"}).json()["data"]
    seen = [(e["entityType"], e["entityId"], e["actor"], e["details"].get("status")) for e in reversed(log)]
    key_id = read.split(".")[0]
    assert seen == [("feed", "ip-blocklist", key_id, 200), ("feed", "ip-blocklist", key_id, 304),
                    ("feed", "stix", "anonymous", 200), ("feed", "agent-update", key_id, None),
                    ("feed", "taxii-manifest", key_id, None)]
    assert all(e["ip"] == "127.0.0.0" for e in log)
    assert "minReputation=10" in log[-1]["details"]["filters"]
    only_feeds = server.get("/api/audit-log", headers=ADMIN, params={"entityType": "feed"}).json()["data"]
    assert len(only_feeds) == 5
