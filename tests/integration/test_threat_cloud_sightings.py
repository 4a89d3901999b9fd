"""threat-cloud sightings: positive, negative, false_positive and their effect on the IoC."""
from __future__ import annotations

import pytest

from conftest import assert_error_style
from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=RELAXED)


def sight(server, body, headers=ADMIN, status=201):
    r = server.request("POST", "/api/sightings", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def test_effects_on_the_ioc(tc):
    (ioc_id,) = upload(tc, {"value": "sighted.example", "confidence": 50, "lastSeen": "2026-01-01T00:00:00Z"}
                       ).json()["data"]["ids"]
    data = sight(tc, {"iocId": ioc_id, "type": "positive", "source": "edr", "note": "seen on host-7",
                      "observedAt": "2026-02-01T10:00:00Z"})["data"]
    s, ioc = data["sighting"], data["ioc"]
    assert s["id"].startswith("sgt_") and s["iocId"] == ioc_id and s["type"] == "positive"
    assert s["source"] == "edr" and s["note"] == "seen on host-7" and s["observedAt"] == "2026-02-01T10:00:00Z"
    assert ioc["sightings"] == 2 and ioc["confidence"] == 55 and ioc["lastSeen"] == "2026-02-01T10:00:00Z"

    # by value, default type positive; an older observation does not move lastSeen back
    ioc = sight(tc, {"value": "SIGHTED.example.", "observedAt": "2025-01-01T00:00:00Z"})["data"]["ioc"]
    assert ioc["sightings"] == 3 and ioc["confidence"] == 60 and ioc["lastSeen"] == "2026-02-01T10:00:00Z"

    ioc = sight(tc, {"iocId": ioc_id, "type": "negative"})["data"]["ioc"]
    assert ioc["confidence"] == 55 and ioc["sightings"] == 3 and ioc["status"] == "active"
    ioc = sight(tc, {"iocId": ioc_id, "type": "false_positive"})["data"]["ioc"]
    assert ioc["confidence"] == 35 and ioc["status"] == "under_review"
    for _ in range(3):
        ioc = sight(tc, {"iocId": ioc_id, "type": "false_positive"})["data"]["ioc"]
    assert ioc["confidence"] == 0  # never below 0

    r = tc.get("/api/sightings", params={"iocId": ioc_id, "limit": 2}, headers=ADMIN)
    assert r.status_code == 200
    body = r.json()
    assert body["pagination"] == {"total": 7, "page": 1, "limit": 2, "pages": 4}
    assert [x["type"] for x in body["data"]] == ["false_positive", "false_positive"]  # newest first
    oldest = tc.get("/api/sightings", params={"iocId": ioc_id, "page": 7, "limit": 1}, headers=ADMIN).json()
    assert oldest["data"][0]["source"] == "edr"


def test_positive_sighting_revives_expired(tc):
    (ioc_id,) = upload(tc, {"value": "sleepy.example", "status": "expired"}).json()["data"]["ids"]
    assert sight(tc, {"iocId": ioc_id})["data"]["ioc"]["status"] == "active"


def test_errors(tc):
    (ioc_id,) = upload(tc, {"value": "errors.example"}).json()["data"]["ids"]
    for body, field in [({}, "iocId"), ({"iocId": ioc_id, "value": "errors.example"}, "iocId"),
                        ({"iocId": ioc_id, "type": "maybe"}, "type"), ({"iocId": ioc_id, "source": ""}, "source"),
                        ({"iocId": ioc_id, "observedAt": "noon"}, "observedAt"),
                        ({"value": "not a value"}, "value"), ({"value": "1.2.3.4", "iocType": "domain"}, "value")]:
        assert_validation(tc.request("POST", "/api/sightings", json=body, headers=ADMIN), field)
    r = tc.request("POST", "/api/sightings", json={"iocId": "ioc_0000000000000000"}, headers=ADMIN)
    assert r.status_code == 404
    assert_error_style(tc, r.json())
    assert tc.request("POST", "/api/sightings", json={"value": "unknown-host.example"}, headers=ADMIN).status_code == 404
    assert tc.get("/api/sightings", params={"iocId": "ioc_0000000000000000"}, headers=ADMIN).status_code == 404
    assert_validation(tc.get("/api/sightings", headers=ADMIN), "iocId")
    read = create_key(tc, ["read"])["key"]
    assert tc.request("POST", "/api/sightings", json={"iocId": ioc_id}, headers=auth(read)).status_code == 403
    assert tc.get("/api/sightings", params={"iocId": ioc_id}, headers=auth(read)).status_code == 200
    assert tc.request("POST", "/api/sightings", json={"iocId": ioc_id}).status_code == 401


def test_sightings_are_audited(tc):
    (ioc_id,) = upload(tc, {"value": "audited.example"}).json()["data"]["ids"]
    sid = sight(tc, {"iocId": ioc_id, "type": "negative"})["data"]["sighting"]["id"]
    entries = tc.get("/api/audit-log", params={"action": "ioc.sighting", "entityId": ioc_id}, headers=ADMIN).json()
    assert [e["details"] for e in entries["data"]] == [{"sighting": sid, "kind": "negative"}]
