"""threat-cloud /api/stats: totals, by type and status, last 24 h, top lists."""
from __future__ import annotations

from threat_cloud_helpers import ADMIN, RELAXED, upload


def test_stats(launch):
    server = launch("threat-cloud", env=RELAXED)
    empty = server.get("/api/stats", headers=ADMIN).json()["data"]
    assert empty["totals"] == {"iocs": 0, "active": 0} and empty["byType"] == {} and empty["topThreatTypes"] == []
    ids = upload(server, {"iocs": [
        {"value": "192.0.2.1", "threatType": "c2", "mitreTechniques": ["T1071"], "country": "DE"},
        {"value": "192.0.2.2", "threatType": "c2", "mitreTechniques": ["T1071", "T1059"], "country": "DE"},
        {"value": "bad.example", "threatType": "phishing", "country": "US", "tlp": "red"},
        {"value": "old.example", "threatType": "spam", "status": "revoked", "lastSeen": "2020-01-01T00:00:00Z"},
    ]}).json()["data"]["ids"]
    r = server.request("POST", "/api/sightings", json={"iocId": ids[0]}, headers=ADMIN)
    assert r.status_code == 201
    s = server.get("/api/stats", headers=ADMIN).json()["data"]
    assert s["generatedAt"].endswith("Z")
    assert s["totals"] == {"iocs": 4, "active": 3}
    assert s["byType"] == {"ip": 2, "domain": 2}
    assert s["byStatus"] == {"active": 3, "revoked": 1}
    assert s["last24h"] == {"newIocs": 4, "seenIocs": 3, "sightings": 1}
    assert s["topThreatTypes"] == [{"threatType": "c2", "count": 2}, {"threatType": "phishing", "count": 1}]
    assert s["topTechniques"] == [{"technique": "T1071", "count": 2}, {"technique": "T1059", "count": 1}]
    assert s["topCountries"] == [{"country": "DE", "count": 2}, {"country": "US", "count": 1}]
    assert server.get("/api/stats").status_code == 401


def test_public_stats_count_only_shareable(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_PUBLIC_READS": "true"})
    upload(server, {"iocs": [{"value": "192.0.2.1"}, {"value": "192.0.2.2", "tlp": "amber"}]})
    assert server.get("/api/stats").json()["data"]["totals"]["iocs"] == 1
    assert server.get("/api/stats", headers=ADMIN).json()["data"]["totals"]["iocs"] == 2
