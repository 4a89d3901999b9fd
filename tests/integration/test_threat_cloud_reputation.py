"""threat-cloud reputation job, the service-wide per-IP limit, and large streamed feeds."""
from __future__ import annotations

import time

import requests

from threat_cloud_helpers import ADMIN, RELAXED, SECOND_ADMIN_KEY, auth, upload


def wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return check()


def reputation(server, value):
    return server.get(f"/api/iocs/{value}", headers=ADMIN).json()["data"]["ioc"]["reputation"]


def iso(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def test_reputation_job_recomputes_from_evidence(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_REPUTATION_INTERVAL_S": "1"})
    upload(server, {"iocs": [
        {"value": "192.0.2.81", "reputation": 10, "threatType": "botnet_cc", "confidence": 90},
        {"value": "192.0.2.82", "reputation": 10, "threatType": "botnet_cc", "confidence": 90,
         "firstSeen": iso(70 * 86400), "lastSeen": iso(60 * 86400)},
        {"value": "192.0.2.83", "reputation": 99, "threatType": "unknown", "confidence": 50},
    ]})
    # 100 * (0.40 + 0.27 + 0.15 * (1 - e^-0.25) + 0.05) = 75; two half-lives later 19; unknown 43
    assert wait_for(lambda: reputation(server, "192.0.2.81") == 75), reputation(server, "192.0.2.81")
    assert wait_for(lambda: reputation(server, "192.0.2.82") == 19)
    assert wait_for(lambda: reputation(server, "192.0.2.83") == 43)
    # more reports from more sources raise it; a false positive halves it
    for source in ("honeypot-a", "honeypot-b", "partner"):
        r = server.request("POST", "/api/sightings", headers=ADMIN, json={"value": "192.0.2.81", "source": source})
        assert r.status_code == 201, r.text
    assert wait_for(lambda: reputation(server, "192.0.2.81") > 80), reputation(server, "192.0.2.81")
    high = reputation(server, "192.0.2.81")
    r = server.request("POST", "/api/sightings", headers=ADMIN,
                       json={"value": "192.0.2.81", "source": "analyst", "type": "false_positive"})
    assert r.status_code == 201
    assert wait_for(lambda: reputation(server, "192.0.2.81") <= high // 2 + 1), reputation(server, "192.0.2.81")
    # the feed follows the recomputed reputation
    lines = server.get("/api/feeds/ip-blocklist", headers=ADMIN).text.splitlines()
    assert "192.0.2.83" not in lines and "192.0.2.82" not in lines


def test_service_wide_limit_stops_key_guessing(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_RATE_LIMIT": "5/min"})
    for i in range(5):
        r = server.get("/api/iocs", headers=auth(f"tck_{i:016x}.guess"))
        assert r.status_code == 401, r.text
    r = server.get("/api/iocs", headers=auth("tck_0000000000000009.guess"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["code"] == "rate_limited"
    # a valid key from the same address is limited too; health checks are not
    assert server.get("/api/iocs", headers=ADMIN).status_code == 429
    assert server.get("/health").status_code == 200
    assert server.get("/taxii2/", headers=ADMIN).status_code == 429


def test_default_service_limit_is_documented(launch):
    server = launch("threat-cloud", env={k: v for k, v in RELAXED.items() if k != "TC_RATE_LIMIT"})
    r = server.get("/api/iocs", headers=ADMIN)
    assert r.status_code == 200
    assert "TC_RATE_LIMIT" in server.log_text() and "3000/min" in server.log_text()


def test_public_reads_serve_feeds_and_lookups_without_a_key(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_PUBLIC_READS": "true"})
    upload(server, {"iocs": [{"value": "192.0.2.90", "reputation": 90},
                             {"value": "192.0.2.91", "reputation": 90, "tlp": "amber"}]})
    assert server.get("/api/iocs/192.0.2.90").json()["data"]["found"] is True
    for path in ("/api/feeds/ip-blocklist", "/api/feeds/iocs", "/api/feeds/stix", "/api/feeds/agent-update"):
        r = server.get(path)
        assert r.status_code == 200, (path, r.text)
        assert "192.0.2.90" in r.text and "192.0.2.91" not in r.text, path
    assert server.get("/api/rules").status_code == 401  # not a public read
    assert server.request("POST", "/api/iocs", json={"value": "192.0.2.92"}).status_code == 401
    # a wrong key is refused even with public reads
    assert server.get("/api/feeds/ip-blocklist", headers=auth("tck_0000000000000000.x")).status_code == 401


def test_large_feeds_stream_completely(launch):
    server = launch("threat-cloud", env=RELAXED)
    total = 30_000
    for start in range(0, total, 1000):
        batch = [{"value": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", "reputation": 80}
                 for i in range(start, start + 1000)]
        upload(server, {"iocs": batch})
    with requests.get(server.url("/api/feeds/ip-blocklist"), headers=ADMIN, stream=True, timeout=60) as r:
        assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in r.headers
        chunks = list(r.iter_content(chunk_size=None))
    text = b"".join(chunks).decode()
    assert len(chunks) > 1
    lines = text.splitlines()
    assert f"# Entries: {total}" in lines
    entries = [line for line in lines if not line.startswith("#")]
    assert len(entries) == total and len(set(entries)) == total and entries == sorted(entries)
    feed = server.get("/api/feeds/iocs", headers=ADMIN).json()["data"]
    assert feed["totalEntries"] == total == len(feed["entries"])
    csv_rows = server.get("/api/feeds/iocs", headers=ADMIN, params={"format": "csv"}).text.splitlines()
    assert len(csv_rows) == total + 1
    # a client that leaves mid-stream does not stop the server from serving the next one
    with requests.get(server.url("/api/feeds/stix"), headers=ADMIN, stream=True, timeout=60) as r:
        next(r.iter_content(chunk_size=1024))
    assert server.get("/api/feeds/ip-blocklist", headers=ADMIN, params={"minReputation": 81}).status_code == 200
    assert server.get("/health").status_code == 200


def test_feed_streams_are_bounded(launch):
    """A client that stops reading keeps its snapshot; beyond TC_FEED_STREAMS feeds answer 503."""
    import socket
    server = launch("threat-cloud", env={**RELAXED, "TC_FEED_STREAMS": "1"})
    for start in range(0, 30_000, 1000):
        upload(server, {"iocs": [{"value": f"10.1.{i // 256}.{i % 256}", "reputation": 80,
                                  "tags": ["padding-to-make-the-feed-large"] * 3, "threatType": "scanner"}
                                 for i in range(start, start + 1000)]})
    stalled = socket.create_connection(("127.0.0.1", server.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /api/feeds/iocs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + ADMIN["Authorization"].split()[1].encode() + b"\r\n\r\n")
    try:
        assert stalled.recv(1024).startswith(b"HTTP/1.1 200")
        r = wait_for(lambda: (lambda x: x if x.status_code == 503 else None)(
            server.get("/api/feeds/ip-blocklist", headers=ADMIN)), timeout=10)
        assert r is not None and r.status_code == 503, r
        assert r.json()["ok"] is False
    finally:
        stalled.close()
    # the stalled stream's snapshot is released once its client is gone
    assert wait_for(lambda: server.get("/api/feeds/ip-blocklist", headers=ADMIN).status_code == 200)


def _stall(server, forwarded_for=None, key=None, path="/api/feeds/iocs"):
    """A client that asks for a large feed and stops reading: it keeps its feed slot."""
    import socket
    s = socket.create_connection(("127.0.0.1", server.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\n"
    if forwarded_for:
        head += f"X-Forwarded-For: {forwarded_for}\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    s.sendall((head + "\r\n").encode())
    status = s.recv(1024)
    assert status.startswith(b"HTTP/1.1 200"), status[:200]
    return s


def test_feed_slots_are_shared_per_client_and_kept_for_keys(launch):
    """One anonymous client holding its most feeds cannot lock out others; anonymous clients
    together cannot take the share kept for API-key holders."""
    env = {k: v for k, v in RELAXED.items() if k != "TC_PUBLIC_READS"}  # community reads open (default)
    server = launch("threat-cloud", env={**env, "TRUST_PROXY": "1", "TC_FEED_STREAMS": "5",
                                         "TC_FEED_STREAMS_PER_CLIENT": "2", "TC_FEED_STREAMS_KEYED": "2"})
    for start in range(0, 30_000, 1000):
        upload(server, {"iocs": [{"value": f"10.2.{i // 256}.{i % 256}", "reputation": 80,
                                  "tags": ["padding-to-make-the-feed-large"] * 3, "threatType": "scanner"}
                                 for i in range(start, start + 1000)]})

    def feed(forwarded_for=None, headers=None):
        h = dict(headers or {})
        if forwarded_for:
            h["X-Forwarded-For"] = forwarded_for
        return server.get("/api/feeds/ip-blocklist", headers=h, params={"minReputation": 81})

    held = [_stall(server, "198.51.100.1"), _stall(server, "198.51.100.1")]
    try:
        r = feed("198.51.100.1")
        assert r.status_code == 503 and "this client" in r.json()["error"] and r.headers["Retry-After"] == "5"
        assert feed("198.51.100.2").status_code == 200  # another client is served
        assert feed(headers=ADMIN).status_code == 200
        # A second anonymous client takes the last anonymous slot; the keyed share stays free.
        held.append(_stall(server, "198.51.100.2"))
        r = feed("198.51.100.3")
        assert r.status_code == 503 and "API key" in r.json()["error"]
        held.append(_stall(server, key=ADMIN["Authorization"].split()[1]))
        assert feed(headers=ADMIN).status_code == 200  # the keyed share still has a slot
        r = feed(headers={"Authorization": f"Bearer {SECOND_ADMIN_KEY}"})
        assert r.status_code == 200
    finally:
        for s in held:
            s.close()
    # slots come back once their clients are gone
    assert wait_for(lambda: feed("198.51.100.1").status_code == 200)
    assert wait_for(lambda: feed("198.51.100.3").status_code == 200)
