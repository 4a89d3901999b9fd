"""Helpers shared by the threat-cloud integration tests (not a test module itself)."""
from __future__ import annotations

ADMIN_KEY = "tc-bootstrap-admin-key-0123456789abcdefghijkl"
SECOND_ADMIN_KEY = "tc-bootstrap-admin-key-second-zyxwvutsrqponml"

# Limits high enough never to interfere; rate-limit tests start servers of their own.
RELAXED = {
    "TC_API_KEYS": f"{ADMIN_KEY},{SECOND_ADMIN_KEY}",
    "TC_READ_RATE_LIMIT": "100000/min",
    "TC_WRITE_RATE_LIMIT": "100000/min",
    "TC_FEED_RATE_LIMIT": "100000/min",
    "TC_ADMIN_RATE_LIMIT": "100000/min",
    "TC_RATE_LIMIT": "100000/min",
    # Most tests check keyed access; the open default (community reads without a key) is
    # tested on servers of its own.
    "TC_PUBLIC_READS": "false",
}


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


ADMIN = auth(ADMIN_KEY)


def create_key(server, scopes, name="test key", headers=ADMIN, **extra) -> dict:
    r = server.request("POST", "/api/keys", json={"name": name, "scopes": scopes, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def upload(server, body, headers=ADMIN, expect=(200, 201)):
    r = server.request("POST", "/api/iocs", json=body, headers=headers)
    if expect is not None:
        assert r.status_code in ((expect,) if isinstance(expect, int) else expect), r.text
    return r


def assert_validation(r, field: str):
    """A 400 validation error in the envelope whose message names `field`."""
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["ok"] is False and body["code"] == "validation_error", body
    assert field in body["error"], (field, body["error"])


def iso(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def threat_event(**overrides) -> dict:
    """A valid POST /api/threats event (ten minutes ago) with `overrides` applied."""
    from datetime import datetime, timedelta, timezone
    body = {"attackSourceIP": "198.51.100.23", "attackType": "brute_force", "mitreTechnique": "T1110",
            "sigmaRuleMatched": "sshd_brute_force", "timestamp": iso(datetime.now(timezone.utc) - timedelta(minutes=10)),
            "region": "eu-west", "industry": "finance"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_threats(server, body, headers=ADMIN, expect=(200, 201)):
    r = server.request("POST", "/api/threats", json=body, headers=headers)
    if expect is not None:
        assert r.status_code in ((expect,) if isinstance(expect, int) else expect), r.text
    return r


def lookup(server, value, headers=ADMIN) -> dict:
    from urllib.parse import quote
    r = server.get(f"/api/iocs/{quote(value, safe='')}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def write_until_killed(server, path, make_batch, writers=4, target=1500, seconds=20) -> list:
    """Posts batches to `path` from `writers` threads until `target` items are acknowledged (or
    `seconds` pass), then kills the server with SIGKILL. make_batch(writer, batch_no) returns
    (body, items); returns every item of every acknowledged (2xx) batch."""
    import signal
    import threading
    import time

    import requests

    acknowledged: list = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int):
        batch_no = 0
        with requests.Session() as s:
            while not stop.is_set():
                batch_no += 1
                body, items = make_batch(n, batch_no)
                try:
                    r = s.post(server.url(path), json=body, headers=ADMIN, timeout=10)
                except requests.RequestException:
                    return  # the server died under us: this batch was never acknowledged
                if r.status_code in (200, 201):
                    with lock:
                        acknowledged.extend(items)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= target:
                break
        time.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    return acknowledged
