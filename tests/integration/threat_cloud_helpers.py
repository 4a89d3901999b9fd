"""Helpers shared by the threat-cloud integration tests (not a test module itself)."""
from __future__ import annotations

ADMIN_KEY = "tc-bootstrap-admin-key-0123456789abcdefghijkl"
SECOND_ADMIN_KEY = "tc-bootstrap-admin-key-second-zyxwvutsrqponml"

# Limits high enough never to interfere; rate-limit tests start servers of their own.
RELAXED = {
    "TC_API_KEYS": f"{ADMIN_KEY},{SECOND_ADMIN_KEY}",
    "TC_RATE_LIMIT_READ": "100000/min",
    "TC_RATE_LIMIT_WRITE": "100000/min",
    "TC_RATE_LIMIT_FEED": "100000/min",
    "TC_RATE_LIMIT_ADMIN": "100000/min",
    "TC_RATE_LIMIT": "100000/min",
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
