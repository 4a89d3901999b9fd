"""threat-cloud API keys: bootstrap keys, scoped keys, 401/403, revocation, expiry, per-key
rate limits and public reads, driven over HTTP."""
from __future__ import annotations

import datetime
import time

import pytest
import requests

from conftest import assert_error_style
from pg_helpers import POSTGRES, server_rows
from threat_cloud_helpers import ADMIN, ADMIN_KEY, RELAXED, SECOND_ADMIN_KEY, assert_validation, auth, create_key, upload


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=RELAXED)


def _in(seconds: int) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_401(server, r):
    assert r.status_code == 401, r.text
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert_error_style(server, r.json())
    assert r.json()["code"] == "unauthorized"


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": f"Bearer {ADMIN_KEY}x"},
    {"Authorization": f"Bearer {ADMIN_KEY[:-1]}"},
    {"Authorization": "Bearer tck_000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
])
def test_missing_or_invalid_key_is_401(tc, headers):
    for method, path in [("GET", "/api/iocs"), ("GET", "/api/keys"), ("POST", "/api/iocs/lookup"),
                         ("GET", "/api/iocs/1.2.3.4")]:
        assert_401(tc, tc.request(method, path, headers=headers, json={"values": ["1.2.3.4"]}))


def test_every_bootstrap_key_is_admin(tc):
    for key in (ADMIN_KEY, SECOND_ADMIN_KEY):
        r = tc.get("/api/keys", headers=auth(key))
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"


def test_wrong_secret_for_a_real_key_id_is_401(tc):
    key = create_key(tc, ["read"])
    key_id, secret = key["key"].split(".", 1)
    assert key_id == key["id"]
    wrong = secret[:-2] + ("AA" if secret[-2:] != "AA" else "BB")
    assert_401(tc, tc.get("/api/iocs", headers=auth(f"{key_id}.{wrong}")))
    assert tc.get("/api/iocs", headers=auth(key["key"])).status_code == 200


# --- key management ---------------------------------------------------------------------------


def test_create_list_revoke(tc):
    created = create_key(tc, ["write", "read"], name="sensor fleet")
    assert created["id"].startswith("tck_")
    assert created["key"].startswith(created["id"] + ".")
    assert len(created["key"].split(".", 1)[1]) >= 40
    assert created["name"] == "sensor fleet"
    assert sorted(created["scopes"]) == ["read", "write"]
    assert created["status"] == "active" and created["expiresAt"] is None and created["revokedAt"] is None
    assert created["createdAt"].endswith("Z")

    r = tc.get("/api/keys", headers=ADMIN, params={"limit": 200})
    assert r.status_code == 200
    body = r.json()
    assert set(body["pagination"]) == {"total", "page", "limit", "pages"}
    listed = {k["id"]: k for k in body["data"]}
    assert created["id"] in listed
    assert "key" not in listed[created["id"]]
    secret = created["key"].split(".", 1)[1]
    assert secret not in r.text

    r = tc.request("DELETE", f"/api/keys/{created['id']}", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "revoked" and r.json()["data"]["revokedAt"]
    r = tc.get("/api/iocs", headers=auth(created["key"]))
    assert_401(tc, r)
    assert "revoked" in r.json()["error"]
    # revoking twice, or an unknown id, is 404
    assert tc.request("DELETE", f"/api/keys/{created['id']}", headers=ADMIN).status_code == 404
    r = tc.request("DELETE", "/api/keys/tck_ffffffffffff", headers=ADMIN)
    assert r.status_code == 404
    assert_error_style(tc, r.json())
    listed = {k["id"]: k for k in tc.get("/api/keys", headers=ADMIN, params={"limit": 200}).json()["data"]}
    assert listed[created["id"]]["status"] == "revoked"


def test_scopes_are_ordered(tc):
    read = create_key(tc, ["read"])["key"]
    write = create_key(tc, ["write"])["key"]
    admin = create_key(tc, ["admin"])["key"]
    one = {"value": "203.0.113.77"}

    def status(method, path, key, **kw):
        return tc.request(method, path, headers=auth(key), **kw).status_code

    # read: lists and lookups only
    assert status("GET", "/api/iocs", read) == 200
    assert status("GET", "/api/iocs/203.0.113.77", read) == 200
    assert status("POST", "/api/iocs/lookup", read, json={"values": ["x.example"]}) == 200
    r = tc.request("POST", "/api/iocs", headers=auth(read), json=one)
    assert r.status_code == 403 and r.json()["code"] == "forbidden" and "write" in r.json()["error"]
    assert status("GET", "/api/keys", read) == 403
    # write implies read
    assert status("POST", "/api/iocs", write, json=one) in (200, 201)
    assert status("GET", "/api/iocs", write) == 200
    assert status("POST", "/api/keys", write, json={"name": "x", "scopes": ["read"]}) == 403
    assert status("DELETE", "/api/keys/tck_000000000000", write) == 403
    # admin implies everything, and may create keys
    assert status("POST", "/api/iocs", admin, json=one) in (200, 201)
    assert status("GET", "/api/iocs", admin) == 200
    made = create_key(tc, ["read"], headers=auth(admin))
    assert made["createdBy"] == admin.split(".")[0]


def test_expired_key_is_401(tc):
    key = create_key(tc, ["read"], expiresAt=_in(2))
    assert key["expiresAt"].endswith("Z")
    assert tc.get("/api/iocs", headers=auth(key["key"])).status_code == 200
    time.sleep(3.1)
    r = tc.get("/api/iocs", headers=auth(key["key"]))
    assert_401(tc, r)
    assert "expired" in r.json()["error"]
    listed = {k["id"]: k for k in tc.get("/api/keys", headers=ADMIN, params={"limit": 200}).json()["data"]}
    assert listed[key["id"]]["status"] == "expired"


@pytest.mark.parametrize("body,field", [
    ({"scopes": ["read"]}, "name"),
    ({"name": "", "scopes": ["read"]}, "name"),
    ({"name": "x" * 101, "scopes": ["read"]}, "name"),
    ({"name": "bad\nname", "scopes": ["read"]}, "name"),
    ({"name": 5, "scopes": ["read"]}, "name"),
    ({"name": "k"}, "scopes"),
    ({"name": "k", "scopes": []}, "scopes"),
    ({"name": "k", "scopes": "read"}, "scopes"),
    ({"name": "k", "scopes": ["root"]}, "scopes[0]"),
    ({"name": "k", "scopes": ["read", 7]}, "scopes"),
    ({"name": "k", "scopes": ["read", "write", "admin", "read"]}, "scopes"),
    ({"name": "k", "scopes": ["read"], "expiresAt": "tomorrow"}, "expiresAt"),
    ({"name": "k", "scopes": ["read"], "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
])
def test_key_validation(tc, body, field):
    assert_validation(tc.request("POST", "/api/keys", json=body, headers=ADMIN), field)


def test_body_must_be_json(tc):
    r = tc.request("POST", "/api/keys", data="name=x", headers={**ADMIN, "Content-Type": "text/plain"})
    assert r.status_code == 415
    r = tc.request("POST", "/api/keys", data="{bad", headers={**ADMIN, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert_error_style(tc, r.json())


# --- storage ----------------------------------------------------------------------------------


def test_only_digests_are_stored_and_keys_survive_restart(launch):
    server = launch("threat-cloud", env=RELAXED)
    key = create_key(server, ["read"])
    secret = key["key"].split(".", 1)[1]
    data_dir = server.data_dir
    assert server.stop() == 0
    if not POSTGRES:
        raw = b"".join(p.read_bytes() for p in data_dir.rglob("threat-cloud.db*"))
        assert secret.encode() not in raw
        assert ADMIN_KEY.encode() not in raw
    stored = " ".join("|".join(map(str, row)) for row in server_rows(server, "SELECT * FROM api_keys"))
    assert secret not in stored and ADMIN_KEY not in stored
    [(digest,)] = server_rows(server, "SELECT secret_digest FROM api_keys WHERE id = ?", key["id"])
    assert len(digest) == 64 and secret not in digest

    again = launch("threat-cloud", env=RELAXED, data_dir=data_dir)
    assert again.get("/api/iocs", headers=auth(key["key"])).status_code == 200


def test_revocation_by_another_process_counts_from_the_next_request(launch):
    # Stored keys are remembered between requests; a commit by another process (here the sqlite3
    # module or psql, as an operator's shell or the import command would) must still take effect at once.
    server = launch("threat-cloud", env=RELAXED)
    key = create_key(server, ["read"])
    for _ in range(3):
        assert server.get("/api/iocs", headers=auth(key["key"])).status_code == 200
    server_rows(server, "UPDATE api_keys SET revoked_at = '2026-01-01T00:00:00Z' WHERE id = ?", key["id"], write=True)
    r = server.get("/api/iocs", headers=auth(key["key"]))
    assert_401(server, r)
    assert "revoked" in r.json()["error"]
    # and a revocation through the API, after the key was used, from the very next request
    other = create_key(server, ["read"])
    assert server.get("/api/iocs", headers=auth(other["key"])).status_code == 200
    assert server.request("DELETE", f"/api/keys/{other['id']}", headers=ADMIN).status_code == 200
    assert server.get("/api/iocs", headers=auth(other["key"])).status_code == 401


def test_short_bootstrap_key_is_a_config_error(launch):
    server = launch("threat-cloud", env={"TC_API_KEYS": "short"}, wait=False)
    assert server.process.wait(timeout=10) == 2


# --- rate limits ------------------------------------------------------------------------------


def test_rate_limit_is_per_key_and_per_class(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_READ_RATE_LIMIT": "3/min", "TC_WRITE_RATE_LIMIT": "2/min"})
    a = create_key(server, ["write"])["key"]
    b = create_key(server, ["read"])["key"]
    with requests.Session() as s:
        seen = []
        for _ in range(3):
            r = s.get(server.url("/api/iocs"), headers=auth(a), timeout=10)
            assert r.status_code == 200, r.text
            assert r.headers["X-RateLimit-Limit"] == "3"
            seen.append(int(r.headers["X-RateLimit-Remaining"]))
        assert seen == [2, 1, 0]
        r = s.get(server.url("/api/iocs"), headers=auth(a), timeout=10)
        assert r.status_code == 429
        assert_error_style(server, r.json())
        assert r.json()["code"] == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())
        # lookups share the read class
        assert s.get(server.url("/api/iocs/1.2.3.4"), headers=auth(a), timeout=10).status_code == 429
        # another key has its own bucket
        assert s.get(server.url("/api/iocs"), headers=auth(b), timeout=10).status_code == 200
        # the write class is separate
        for _ in range(2):
            r = s.post(server.url("/api/iocs"), json={"value": "198.51.100.1"}, headers=auth(a), timeout=10)
            assert r.status_code in (200, 201), r.text
        r = s.post(server.url("/api/iocs"), json={"value": "198.51.100.1"}, headers=auth(a), timeout=10)
        assert r.status_code == 429 and "Retry-After" in r.headers


def test_rate_limit_setting_is_validated(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_FEED_RATE_LIMIT": "lots"}, wait=False)
    assert server.process.wait(timeout=10) == 2
    assert "TC_FEED_RATE_LIMIT" in server.log_text()


# --- public reads -----------------------------------------------------------------------------


def test_closed_reads_refuse_anonymous_lookups(tc):
    """With TC_PUBLIC_READS=false (the open default is tested on servers of its own) a lookup needs a key."""
    assert_401(tc, tc.get("/api/iocs/1.2.3.4"))
    assert_401(tc, tc.request("POST", "/api/iocs/lookup", json={"values": ["1.2.3.4"]}))


def test_public_reads_allow_anonymous_lookups_only(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_PUBLIC_READS": "true", "TC_READ_RATE_LIMIT": "5/min"})
    upload(server, {"iocs": [{"value": "192.0.2.10", "tlp": "clear", "reputation": 90},
                             {"value": "192.0.2.11", "tlp": "amber", "reputation": 90}]})
    r = server.get("/api/iocs/192.0.2.10")
    assert r.status_code == 200 and r.json()["data"]["found"] is True
    assert "X-RateLimit-Limit" in r.headers
    # TLP amber is not for anonymous eyes
    assert server.get("/api/iocs/192.0.2.11").json()["data"]["found"] is False
    assert server.get("/api/iocs/192.0.2.11", headers=ADMIN).json()["data"]["found"] is True
    r = server.request("POST", "/api/iocs/lookup", json={"values": ["192.0.2.10", "192.0.2.11"]})
    assert [x["found"] for x in r.json()["data"]["results"]] == [True, False]
    # lists, uploads and key management still need a key; a bad key is still refused
    assert_401(server, server.get("/api/iocs"))
    assert_401(server, server.request("POST", "/api/iocs", json={"value": "192.0.2.12"}))
    assert_401(server, server.get("/api/iocs/192.0.2.10", headers=auth("tck_000000000000.nope")))
    # anonymous callers share a per-IP bucket of the read class (3 used above)
    codes = [server.get("/api/iocs/192.0.2.10").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # a key has its own bucket
    assert server.get("/api/iocs/192.0.2.10", headers=ADMIN).status_code == 200
