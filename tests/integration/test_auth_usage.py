"""auth-server usage meters: reports from other services (POST /api/usage/report with the
usage service token) and the auth-server's own live sessions, against the tier's quotas.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_usage.py
"""
import re
from datetime import datetime, timedelta, timezone

import pytest

from auth_helpers import AUTH_ENV, PASSWORD, bearer, error_of, execute, login, ok_data, post, query, register

SERVICE_TOKEN = "usage-service-token-" + "u" * 24
METERS = ["endpoints", "threatLookups", "apiCalls", "sessions"]


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env={**AUTH_ENV, "AUTH_USAGE_SERVICE_TOKEN": SERVICE_TOKEN})


def report(server, body, token=SERVICE_TOKEN):
    return post(server, "/api/usage/report", body, token=token)


def meters(server, token):
    data = ok_data(server.get("/api/usage", headers=bearer(token)))
    return data["tier"], {m["name"]: m for m in data["meters"]}


def plan_limits(server, tier):
    plans = ok_data(server.get("/api/billing/plans"))["plans"]
    return next(p["limits"] for p in plans if p["tier"] == tier)


def test_a_new_account(server):
    reg = register(server)
    tier, m = meters(server, reg["token"])
    limits = plan_limits(server, "community")
    assert tier == "community" and list(m) == METERS
    assert m["endpoints"] == {"name": "endpoints", "period": "current", "used": 0, "limit": limits["endpoints"],
                              "remaining": limits["endpoints"], "overQuota": False}
    assert m["threatLookups"]["limit"] == limits["threatLookupsPerDay"] and m["threatLookups"]["period"] == "day"
    assert m["apiCalls"]["limit"] == limits["apiCallsPerDay"]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    assert m["threatLookups"]["resetsAt"] == tomorrow and m["apiCalls"]["resetsAt"] == tomorrow
    assert "resetsAt" not in m["endpoints"] and "resetsAt" not in m["sessions"]
    assert m["sessions"]["used"] == 1 and m["sessions"]["limit"] == limits["sessions"]
    error_of(server, server.get("/api/usage"), 401)


def test_sessions_are_counted_from_live_sessions(server):
    reg = register(server)
    others = [ok_data(login(server, reg["user"]["email"])) for _ in range(2)]
    assert meters(server, reg["token"])[1]["sessions"]["used"] == 3
    ok_data(post(server, "/api/auth/logout", token=others[0]["token"]))
    assert meters(server, reg["token"])[1]["sessions"]["used"] == 2


def test_reports_count(server):
    reg = register(server)
    uid = reg["user"]["id"]
    limit = plan_limits(server, "community")["threatLookupsPerDay"]
    m = ok_data(report(server, {"userId": uid, "meter": "threatLookups", "increment": 400}))["meter"]
    assert m["used"] == 400 and m["remaining"] == limit - 400 and m["overQuota"] is False
    ok_data(report(server, {"userId": uid, "meter": "threatLookups", "increment": 1}))
    m = ok_data(report(server, {"userId": uid, "meter": "threatLookups", "increment": limit}))["meter"]
    assert m["used"] == limit + 401 and m["remaining"] == 0 and m["overQuota"] is True
    ok_data(report(server, {"userId": uid, "meter": "apiCalls", "increment": 7}))
    # endpoints is a level: the latest report wins
    ok_data(report(server, {"userId": uid, "meter": "endpoints", "value": 5}))
    m = ok_data(report(server, {"userId": uid, "meter": "endpoints", "value": 2}))["meter"]
    assert m["used"] == 2 and m["overQuota"] is False
    _, got = meters(server, reg["token"])
    assert got["threatLookups"]["used"] == limit + 401 and got["threatLookups"]["overQuota"] is True
    assert got["apiCalls"]["used"] == 7 and got["endpoints"]["used"] == 2
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    rows = {(r["meter"], r["period"]): r["value"] for r in
            query(server, "SELECT meter, period, value FROM usage_counters WHERE user_id = ?", uid)}
    assert rows == {("threatLookups", today): limit + 401, ("apiCalls", today): 7, ("endpoints", ""): 2}
    # another account's meters are its own
    other = register(server)
    assert meters(server, other["token"])[1]["threatLookups"]["used"] == 0


def test_yesterdays_count_is_not_today(server):
    reg = register(server)
    uid = reg["user"]["id"]
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d")
    execute(server, "INSERT INTO usage_counters (user_id, meter, period, value, updated_at) VALUES (?, ?, ?, ?, 0)",
            uid, "apiCalls", yesterday, 999)
    assert meters(server, reg["token"])[1]["apiCalls"]["used"] == 0


def test_quotas_follow_the_tier(server):
    reg = register(server)
    uid = reg["user"]["id"]
    ok_data(report(server, {"userId": uid, "meter": "endpoints", "value": 20}))
    assert meters(server, reg["token"])[1]["endpoints"]["overQuota"] is True
    execute(server, "UPDATE users SET tier = 'pro' WHERE id = ?", uid)
    tier, m = meters(server, reg["token"])
    assert tier == "pro" and m["endpoints"]["limit"] == plan_limits(server, "pro")["endpoints"]
    assert m["endpoints"]["overQuota"] is False
    execute(server, "UPDATE users SET tier = 'enterprise' WHERE id = ?", uid)
    _, m = meters(server, reg["token"])
    assert all(m[name]["limit"] is None and m[name]["remaining"] is None for name in METERS)


def test_report_authentication_and_input(server):
    reg = register(server)
    uid = reg["user"]["id"]
    body = {"userId": uid, "meter": "apiCalls", "increment": 1}
    error_of(server, report(server, body, token=None), 401)
    error_of(server, report(server, body, token=SERVICE_TOKEN + "x"), 401)
    error_of(server, report(server, body, token=reg["token"]), 401)  # a user token is not a service token
    for bad in ({"meter": "apiCalls", "increment": 1}, {"userId": uid, "increment": 1},
                {"userId": uid, "meter": "sessions", "value": 1}, {"userId": uid, "meter": "apiCalls"},
                {"userId": uid, "meter": "apiCalls", "value": 3}, {"userId": uid, "meter": "endpoints", "increment": 1},
                {"userId": uid, "meter": "apiCalls", "increment": 0},
                {"userId": uid, "meter": "apiCalls", "increment": 1_000_001},
                {"userId": uid, "meter": "endpoints", "value": -1},
                {"userId": uid, "meter": "apiCalls", "increment": 1, "value": 1},
                {"userId": uid, "meter": "apiCalls", "increment": "1"}):
        err = error_of(server, report(server, bad), 400, "validation_error")
        assert re.search(r"userId|meter|increment|value", err["error"]), err
    error_of(server, report(server, {"userId": "usr_nobody", "meter": "apiCalls", "increment": 1}), 404)
    r = server.request("POST", "/api/usage/report", data="userId=x", headers=bearer(SERVICE_TOKEN))
    error_of(server, r, 415)
    assert not query(server, "SELECT 1 FROM usage_counters WHERE user_id = ?", uid)


def test_usage_in_export_and_erased(server):
    reg = register(server)
    uid = reg["user"]["id"]
    ok_data(report(server, {"userId": uid, "meter": "threatLookups", "increment": 3}))
    ok_data(report(server, {"userId": uid, "meter": "endpoints", "value": 1}))
    data = server.get("/api/auth/export-data", headers=bearer(reg["token"])).json()
    assert sorted((u["meter"], u["value"]) for u in data["usage"]) == [("endpoints", 1), ("threatLookups", 3)]
    assert [u["period"] for u in data["usage"] if u["meter"] == "endpoints"] == [None]
    r = server.request("DELETE", "/api/auth/delete-account", json={"password": PASSWORD}, headers=bearer(reg["token"]))
    assert ok_data(r)["tables"]["usage_counters"] == 2
    assert not query(server, "SELECT 1 FROM usage_counters WHERE user_id = ?", uid)


def test_reports_need_configuration(launch):
    server = launch("auth-server", env=AUTH_ENV)
    reg = register(server)
    err = error_of(server, report(server, {"userId": reg["user"]["id"], "meter": "apiCalls", "increment": 1}), 501,
                   "not_implemented")
    assert "USAGE_SERVICE_TOKEN" in err["error"]
    ok_data(server.get("/api/usage", headers=bearer(reg["token"])))


def test_the_former_setting_name_still_works_with_a_warning(launch):
    """USAGE_SERVICE_TOKEN was renamed AUTH_USAGE_SERVICE_TOKEN (decision 0020): the old name
    keeps working and the start logs that it is deprecated."""
    old = launch("auth-server", env={**AUTH_ENV, "USAGE_SERVICE_TOKEN": SERVICE_TOKEN})
    reg = register(old)
    ok_data(report(old, {"userId": reg["user"]["id"], "meter": "apiCalls", "increment": 1}))
    log = old.log_text()
    assert "USAGE_SERVICE_TOKEN is deprecated" in log and "AUTH_USAGE_SERVICE_TOKEN" in log
