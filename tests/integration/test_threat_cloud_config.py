"""threat-cloud configuration and conventions: TC_HOST, TC_DB_PATH, CORS_ALLOWED_ORIGINS,
TRUST_PROXY, scheduled backups (TC_BACKUP_INTERVAL_S), and the pagination envelope of every list."""
from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from threat_cloud_helpers import ADMIN, RELAXED, SECOND_ADMIN_KEY, assert_validation, auth, create_key, upload


def _health(url: str):
    try:
        r = requests.get(url + "/health", timeout=2)
        return r.status_code == 200 and r.json()["data"]["service"] == "threat-cloud"
    except (requests.RequestException, ValueError, KeyError):
        return False


def test_tc_host_is_the_listening_address(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_HOST": "::1"}, wait=False)
    v6 = f"http://[::1]:{server.port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and server.running() and not _health(v6):
        time.sleep(0.05)
    assert _health(v6), server.log_text()[-2000:]
    r = requests.post(v6 + "/api/iocs", json={"value": "192.0.2.1"}, headers=ADMIN, timeout=10)
    assert r.status_code == 201, r.text
    # the audit log keeps only the /48 of an IPv6 client
    r = requests.get(v6 + "/api/audit-log", params={"action": "ioc.upload"}, headers=ADMIN, timeout=10)
    assert [e["ip"] for e in r.json()["data"]] == ["::"]
    # nothing listens on the IPv4 loopback
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/health", timeout=2)


@pytest.mark.sqlite_only
def test_tc_db_path_places_the_database(launch, tmp_path):
    db_file = tmp_path / "elsewhere" / "intel.db"
    db_file.parent.mkdir()
    env = {**RELAXED, "TC_DB_PATH": str(db_file)}
    server = launch("threat-cloud", env=env)
    upload(server, {"iocs": [{"value": "192.0.2.7"}, {"value": "evil.example"}]})
    assert server.stop() == 0
    assert db_file.exists() and not (server.data_dir / "threat-cloud.db").exists()
    db = sqlite3.connect(db_file)
    try:
        assert db.execute("SELECT count(*) FROM iocs").fetchone()[0] == 2
    finally:
        db.close()
    # a second server on the same file sees the data; a relative path is inside DATA_DIR
    again = launch("threat-cloud", env=env)
    assert again.get("/api/iocs", headers=ADMIN).json()["pagination"]["total"] == 2
    relative = launch("threat-cloud", env={**RELAXED, "TC_DB_PATH": "db/tc.db"})
    assert (relative.data_dir / "db" / "tc.db").exists()
    assert relative.get("/api/iocs", headers=ADMIN).json()["pagination"]["total"] == 0


def test_cors_allow_list(launch):
    server = launch("threat-cloud", env={**RELAXED, "CORS_ALLOWED_ORIGINS": "https://console.example"})
    preflight = {"Origin": "https://console.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "Authorization, Content-Type"}
    # the preflight needs no key
    r = server.request("OPTIONS", "/api/iocs", headers=preflight)
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://console.example"
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    r = server.get("/api/iocs", headers={**ADMIN, "Origin": "https://console.example"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://console.example"
    # an origin outside the list gets no CORS grant
    r = server.request("OPTIONS", "/api/iocs", headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = server.get("/api/iocs", headers={**ADMIN, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def _anonymous_lookups(server, forwarded_for: list[str]) -> list[int]:
    with requests.Session() as s:
        return [s.get(server.url("/api/iocs/192.0.2.1"), headers={"X-Forwarded-For": ip}, timeout=10).status_code
                for ip in forwarded_for]


@pytest.mark.parametrize("trust", ["false", "true"])
def test_trust_proxy_decides_the_client_address(launch, trust):
    server = launch("threat-cloud", env={**RELAXED, "TC_PUBLIC_READS": "true", "TC_READ_RATE_LIMIT": "2/min",
                                         "TRUST_PROXY": trust})
    # anonymous reads are limited per client address
    codes = _anonymous_lookups(server, ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"])
    if trust == "true":
        assert codes == [200, 200, 200, 200]  # one bucket per forwarded address
        assert _anonymous_lookups(server, ["203.0.113.1"]) == [429]
    else:
        assert codes == [200, 200, 429, 429]  # the header is ignored: one bucket for the peer
    # the audit log records the (anonymised) client address
    upload(server, {"value": "192.0.2.99"}, headers={**ADMIN, "X-Forwarded-For": "198.51.100.77"})
    [entry] = server.get("/api/audit-log", params={"action": "ioc.upload"}, headers=ADMIN).json()["data"]
    assert entry["ip"] == ("198.51.100.0" if trust == "true" else "127.0.0.0")


def test_admin_class_has_its_own_limit(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_ADMIN_RATE_LIMIT": "2/min"})
    codes = [server.get("/api/keys", headers=ADMIN).status_code for _ in range(2)]
    r = server.get("/api/audit-log", headers=ADMIN)
    assert codes == [200, 200] and r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1 and r.headers["X-RateLimit-Limit"] == "2"
    # the same key still reads, and another admin key has its own bucket
    assert server.get("/api/iocs", headers=ADMIN).status_code == 200
    assert server.get("/api/keys", headers=auth(SECOND_ADMIN_KEY)).status_code == 200


@pytest.mark.sqlite_only
def test_scheduled_backups(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_BACKUP_DIR": "backups", "TC_BACKUP_INTERVAL_S": "1",
                                         "TC_BACKUP_KEEP": "1000"})
    upload(server, {"iocs": [{"value": f"192.0.2.{i}"} for i in range(1, 6)]})
    entries = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(entries) < 2:
        entries = server.get("/api/audit-log", params={"action": "admin.backup"}, headers=ADMIN).json()["data"]
        time.sleep(0.2)
    assert len(entries) >= 2, "no scheduled backups were made"
    assert all(e["actor"] == "system" for e in entries)
    newest = server.data_dir / "backups" / entries[0]["entityId"]
    db = sqlite3.connect(newest)
    try:
        assert db.execute("SELECT count(*) FROM iocs").fetchone()[0] == 5
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_former_setting_names_still_work_with_a_warning(launch):
    env = {k: v for k, v in RELAXED.items() if k != "TC_READ_RATE_LIMIT"}
    server = launch("threat-cloud", env={**env, "TC_RATE_LIMIT_READ": "2/min", "TC_BACKUP_DIR": "backups",
                                         "TC_BACKUP_INTERVAL": "1", "TC_BACKUP_KEEP": "1000"})
    assert [server.get("/api/iocs", headers=ADMIN).status_code for _ in range(3)] == [200, 200, 429]
    deadline = time.monotonic() + 20
    entries = []
    while time.monotonic() < deadline and not entries:
        entries = server.get("/api/audit-log", params={"action": "admin.backup"}, headers=ADMIN).json()["data"]
        time.sleep(0.2)
    assert entries, "the former TC_BACKUP_INTERVAL was not applied"
    log = server.log_text()
    assert "TC_RATE_LIMIT_READ is deprecated; use TC_READ_RATE_LIMIT" in log
    assert "TC_BACKUP_INTERVAL is deprecated; use TC_BACKUP_INTERVAL_S" in log


@pytest.mark.parametrize("value", ["0", "soon", "-5"])
def test_backup_interval_is_validated(launch, value):
    server = launch("threat-cloud", env={**RELAXED, "TC_BACKUP_DIR": "backups", "TC_BACKUP_INTERVAL_S": value},
                    wait=False)
    assert server.process.wait(timeout=10) == 2
    assert "TC_BACKUP_INTERVAL_S" in server.log_text()


@pytest.fixture(scope="module")
def populated(module_launch):
    server = module_launch("threat-cloud", env=RELAXED)
    ids = upload(server, {"iocs": [{"value": f"198.51.100.{i}", "source": f"feed-{i}"} for i in range(1, 4)]}
                 ).json()["data"]["ids"]
    for _ in range(3):
        assert server.request("POST", "/api/sightings", json={"iocId": ids[0]}, headers=ADMIN).status_code == 201
    for n in range(3):
        create_key(server, ["read"], name=f"reader {n}")
        r = server.request("POST", "/api/rules", headers=ADMIN,
                           json={"ruleId": f"rule-{n}", "ruleContent": f"title: rule {n}\ndetection: {{}}\n",
                                 "source": "sigma"})
        assert r.status_code in (200, 201), r.text
        r = server.request("POST", "/api/campaigns", headers=ADMIN, json={"name": f"campaign {n}"})
        assert r.status_code == 201, r.text
    return server, ids[0]


LISTS = ["/api/iocs", "/api/sightings", "/api/campaigns", "/api/audit-log", "/api/keys", "/api/rules",
         "/api/sources"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_the_pagination_envelope(populated, path):
    server, ioc_id = populated
    extra = {"iocId": ioc_id} if path == "/api/sightings" else {}
    body = server.get(path, params={**extra, "limit": 500}, headers=ADMIN).json()
    assert body["ok"] is True and isinstance(body["data"], list)
    total = body["pagination"]["total"]
    assert total >= 3 and len(body["data"]) == total
    assert body["pagination"] == {"total": total, "page": 1, "limit": 200, "pages": 1}
    page = server.get(path, params={**extra, "limit": 2, "page": 2}, headers=ADMIN).json()
    assert page["pagination"] == {"total": total, "page": 2, "limit": 2, "pages": (total + 1) // 2}
    assert len(page["data"]) == min(2, total - 2)
    assert page["data"] == body["data"][2:4]
    beyond = server.get(path, params={**extra, "page": 99}, headers=ADMIN).json()
    assert beyond["data"] == [] and beyond["pagination"]["total"] == total
    for bad in ({"limit": 0}, {"limit": "ten"}, {"page": 0}, {"page": "x"}):
        name = next(iter(bad))
        assert_validation(server.get(path, params={**extra, **bad}, headers=ADMIN), name)
    # and no key is a 401
    assert server.get(path, params=extra).status_code == 401


def test_list_scopes(populated):
    server, _ = populated
    read = auth(create_key(server, ["read"], name="scope probe")["key"])
    write = auth(create_key(server, ["write"], name="scope probe w")["key"])
    for path in ("/api/iocs", "/api/campaigns", "/api/rules", "/api/sources"):
        assert server.get(path, headers=read).status_code == 200, path
    for path in ("/api/audit-log", "/api/keys"):
        assert server.get(path, headers=read).status_code == 403, path
        assert server.get(path, headers=write).status_code == 403, path


def test_tlp_amber_strict_unescaped_in_a_query_string(launch):
    """A '+' in a query string is a space; "?tlp=amber+strict" typed by hand still means amber+strict."""
    server = launch("threat-cloud", env=RELAXED)
    upload(server, {"iocs": [{"value": "192.0.2.40", "tlp": "amber+strict", "reputation": 90},
                             {"value": "192.0.2.41", "tlp": "amber", "reputation": 90}]})
    for query in ("tlp=amber+strict", "tlp=amber%2Bstrict"):
        r = requests.get(server.url("/api/iocs?" + query), headers=ADMIN, timeout=10)
        assert [i["value"] for i in r.json()["data"]] == ["192.0.2.40"], query
        r = requests.get(server.url("/api/feeds/ip-blocklist?" + query), headers=ADMIN, timeout=10)
        assert r.status_code == 200 and [x for x in r.text.splitlines() if not x.startswith("#")] == ["192.0.2.40"]
    assert_validation(requests.get(server.url("/api/iocs?tlp=amber+lax"), headers=ADMIN, timeout=10), "tlp")


def test_community_reads_are_open_by_default(launch):
    """Seed 001: "No accounts or login required". Without TC_PUBLIC_READS the community reads
    (lookups, feeds, stats, the public queries) answer without a key, TLP clear/green only, under
    the per-IP limit; writes, lists and administration still need a key."""
    env = {k: v for k, v in RELAXED.items() if k != "TC_PUBLIC_READS"}
    server = launch("threat-cloud", env={**env, "TC_READ_RATE_LIMIT": "20/min"})
    upload(server, {"iocs": [{"value": "192.0.2.10", "reputation": 90},
                             {"value": "192.0.2.11", "reputation": 90, "tlp": "amber"}]})
    r = server.get("/api/iocs/192.0.2.10")
    assert r.status_code == 200 and r.json()["data"]["found"] is True
    assert server.get("/api/iocs/192.0.2.11").json()["data"]["found"] is False  # amber stays keyed
    r = server.request("POST", "/api/iocs/lookup", json={"values": ["192.0.2.10", "192.0.2.11"]})
    assert r.status_code == 200
    feed = server.get("/api/feeds/ip-blocklist")
    assert feed.status_code == 200
    assert [v for v in feed.text.splitlines() if not v.startswith("#")] == ["192.0.2.10"]
    for path in ("/api/stats", "/api/feeds/iocs", "/api/feeds/stix", "/api/query/timeseries",
                 "/api/query/trends", "/api/query/mitre-heatmap"):
        assert server.get(path).status_code == 200, path
    for method, path in (("GET", "/api/iocs"), ("POST", "/api/iocs"), ("PATCH", "/api/iocs/192.0.2.10"),
                         ("GET", "/api/audit-log"), ("GET", "/api/keys"), ("POST", "/api/sightings")):
        assert server.request(method, path, json={"value": "192.0.2.12"}).status_code == 401, (method, path)
    # the per-IP limit of the read class holds for anonymous callers
    codes = [server.get("/api/iocs/192.0.2.10").status_code for _ in range(25)]
    assert 429 in codes
    assert server.get("/api/iocs/192.0.2.10", headers=ADMIN).status_code == 200  # a key has its own budget
