"""auth-server administration: account search and changes (role, tier, suspension, not
oneself), all sessions, the audit trail with filters, statistics; only for role admin.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_admin.py
"""
import time
import uuid

import pytest

from auth_helpers import (AUTH_ENV, bearer, error_of, execute, login, ok_data, post, query, register, unique_email)


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env=AUTH_ENV)


@pytest.fixture(scope="module")
def admin(server):
    reg = register(server, unique_email("admin"), name="The Admin")
    execute(server, "UPDATE users SET role = 'admin' WHERE id = ?", reg["user"]["id"])
    return reg


def get(server, token, path, **params):
    return server.get(path, headers=bearer(token), params=params)


def page_of(r):
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ok", "data", "pagination"}, body
    return body["data"], body["pagination"]


ADMIN_ROUTES = [("GET", "/api/admin/users"), ("GET", "/api/admin/users/usr_x"), ("PATCH", "/api/admin/users/usr_x"),
                ("GET", "/api/admin/sessions"), ("DELETE", "/api/admin/sessions/ses_x"), ("GET", "/api/admin/audit"),
                ("GET", "/api/admin/stats")]


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_admin_routes_need_the_admin_role(server, method, path):
    r = server.request(method, path, json={})
    error_of(server, r, 401, "unauthorized")
    user = register(server)
    r = server.request(method, path, json={"role": "admin"}, headers=bearer(user["token"]))
    error_of(server, r, 403, "forbidden")
    assert query(server, "SELECT role FROM users WHERE id = ?", user["user"]["id"])[0]["role"] == "user"


def test_search_users(server, admin):
    tag = uuid.uuid4().hex[:8]
    made = [register(server, f"find-{tag}-{i}@example.com", name=f"Findable {i}")["user"] for i in range(3)]
    execute(server, "UPDATE users SET tier = 'pro' WHERE id = ?", made[0]["id"])
    execute(server, "UPDATE users SET suspended = 1 WHERE id = ?", made[1]["id"])
    items, pagination = page_of(get(server, admin["token"], "/api/admin/users", q=f"find-{tag}"))
    assert [u["id"] for u in items] == [u["id"] for u in reversed(made)]  # newest first
    assert pagination == {"total": 3, "page": 1, "limit": 50, "pages": 1}
    u = items[-1]
    assert set(u) >= {"id", "email", "name", "role", "tier", "emailVerified", "twoFactorEnabled", "createdAt",
                      "suspended", "failedLogins", "lockedUntil", "updatedAt"}
    assert "password_hash" not in str(items) and "argon2" not in str(items)
    items, _ = page_of(get(server, admin["token"], "/api/admin/users", q=f"find-{tag}", tier="pro"))
    assert [u["id"] for u in items] == [made[0]["id"]]
    items, _ = page_of(get(server, admin["token"], "/api/admin/users", q=f"FIND-{tag}", suspended="true"))
    assert [u["id"] for u in items] == [made[1]["id"]]
    items, p = page_of(get(server, admin["token"], "/api/admin/users", q=f"find-{tag}", limit=2, page=2))
    assert len(items) == 1 and p == {"total": 3, "page": 2, "limit": 2, "pages": 2}
    items, _ = page_of(get(server, admin["token"], "/api/admin/users", role="admin"))
    assert admin["user"]["id"] in [u["id"] for u in items]
    # LIKE wildcards are literal
    items, _ = page_of(get(server, admin["token"], "/api/admin/users", q="%"))
    assert items == []
    for params, name in (({"tier": "gold"}, "tier"), ({"role": "root"}, "role"), ({"suspended": "yes"}, "suspended"),
                         ({"limit": "0"}, "limit"), ({"page": "x"}, "page"), ({"q": "x" * 101}, "q")):
        err = error_of(server, get(server, admin["token"], "/api/admin/users", **params), 400, "validation_error")
        assert name in err["error"]


def test_user_detail(server, admin):
    addr = unique_email("detail")
    reg = register(server, addr)
    login(server, addr, "wrong password")
    d = ok_data(get(server, admin["token"], f"/api/admin/users/{reg['user']['id']}"))
    assert set(d) == {"user", "sessions", "twoFactor", "recentAudit", "subscriptions"}
    assert d["user"]["email"] == addr and d["user"]["failedLogins"] == 1
    assert len(d["sessions"]) == 1 and d["sessions"][0]["userId"] == reg["user"]["id"]
    assert d["twoFactor"] == {"enabled": False, "backupCodesRemaining": 0}
    assert [e["action"] for e in d["recentAudit"]] == ["login.failed", "user.registered"]
    assert d["recentAudit"][0]["detail"] == {"reason": "wrong password"}
    error_of(server, get(server, admin["token"], "/api/admin/users/usr_nope"), 404, "not_found")


def test_change_role_tier_and_suspension(server, admin):
    reg = register(server)
    uid = reg["user"]["id"]
    other = ok_data(login(server, reg["user"]["email"]))
    path = f"/api/admin/users/{uid}"
    r = server.request("PATCH", path, json={"tier": "business", "role": "admin"}, headers=bearer(admin["token"]))
    user = ok_data(r)["user"]
    assert user["tier"] == "business" and user["role"] == "admin"
    # the new tier reaches the next access token
    import jwt
    from auth_helpers import jwt_secret
    fresh = ok_data(post(server, "/api/auth/refresh", {"refreshToken": other["refreshToken"]}))
    claims = jwt.decode(fresh["token"], jwt_secret(server), algorithms=["HS256"], issuer="panguard-auth")
    assert claims["tier"] == "business" and claims["role"] == "admin"

    user = ok_data(server.request("PATCH", path, json={"suspended": True, "role": "user"},
                                  headers=bearer(admin["token"])))["user"]
    assert user["suspended"] is True and user["role"] == "user"
    # suspension ends every session
    for token in (reg["token"], fresh["token"]):
        error_of(server, server.get("/api/auth/me", headers=bearer(token)), 401)
    error_of(server, login(server, reg["user"]["email"]), 403, "account_suspended")
    ok_data(server.request("PATCH", path, json={"suspended": False}, headers=bearer(admin["token"])))
    ok_data(login(server, reg["user"]["email"]))

    rows = query(server, "SELECT action, actor_id, detail FROM audit_log WHERE user_id = ? AND action LIKE 'admin.%' "
                         "ORDER BY seq", uid)
    assert [r["action"] for r in rows] == ["admin.role_changed", "admin.tier_changed", "admin.role_changed",
                                           "admin.suspended", "admin.unsuspended"]
    assert {r["actor_id"] for r in rows} == {admin["user"]["id"]}

    for body in ({}, {"tier": "gold"}, {"role": 1}, {"suspended": "yes"}):
        error_of(server, server.request("PATCH", path, json=body, headers=bearer(admin["token"])), 400,
                 "validation_error")
    error_of(server, server.request("PATCH", "/api/admin/users/usr_nope", json={"tier": "pro"},
                                    headers=bearer(admin["token"])), 404)
    # not oneself
    error_of(server, server.request("PATCH", f"/api/admin/users/{admin['user']['id']}", json={"role": "user"},
                                    headers=bearer(admin["token"])), 409, "conflict")


def test_sessions_and_revoke(server, admin):
    reg = register(server)
    uid = reg["user"]["id"]
    items, p = page_of(get(server, admin["token"], "/api/admin/sessions", userId=uid))
    assert p["total"] == 1 and items[0]["userId"] == uid
    sid = items[0]["id"]
    items, p = page_of(get(server, admin["token"], "/api/admin/sessions", limit=1))
    assert len(items) == 1 and p["total"] >= 2
    for path in ("/api/admin/sessions", "/api/admin/users", "/api/admin/audit"):  # above 200: reduced to 200
        _, p = page_of(get(server, admin["token"], path, limit=500))
        assert p["limit"] == 200 and p["page"] == 1, (path, p)
        error_of(server, get(server, admin["token"], path, limit="many"), 400, "validation_error")
    ok_data(server.request("DELETE", f"/api/admin/sessions/{sid}", headers=bearer(admin["token"])))
    error_of(server, server.get("/api/auth/me", headers=bearer(reg["token"])), 401)
    error_of(server, server.request("DELETE", f"/api/admin/sessions/{sid}", headers=bearer(admin["token"])), 404)
    [row] = query(server, "SELECT actor_id FROM audit_log WHERE action = 'session.revoked' AND user_id = ?", uid)
    assert row["actor_id"] == admin["user"]["id"]


def test_audit_filters(server, admin):
    addr = unique_email("audit")
    reg = register(server, addr)
    uid = reg["user"]["id"]
    login(server, addr, "wrong password")
    items, p = page_of(get(server, admin["token"], "/api/admin/audit", userId=uid))
    assert [e["action"] for e in items] == ["login.failed", "user.registered"]
    e = items[0]
    assert set(e) == {"id", "at", "action", "userId", "actorId", "ip", "detail"}
    assert e["id"].startswith("aud_") and e["ip"] == "127.0.0.1" and e["actorId"] == uid
    items, _ = page_of(get(server, admin["token"], "/api/admin/audit", userId=uid, action="user.registered"))
    assert len(items) == 1
    items, _ = page_of(get(server, admin["token"], "/api/admin/audit", actor=uid))
    assert len(items) == 2
    now = time.time()
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
    items, _ = page_of(get(server, admin["token"], "/api/admin/audit", userId=uid, **{"from": future}))
    assert items == []
    items, _ = page_of(get(server, admin["token"], "/api/admin/audit", userId=uid, **{"from": past, "to": future}))
    assert len(items) == 2
    items, _ = page_of(get(server, admin["token"], "/api/admin/audit", userId=uid, to=past))
    assert items == []
    error_of(server, get(server, admin["token"], "/api/admin/audit", **{"from": "yesterday"}), 400, "validation_error")


def test_stats(server, admin):
    before = ok_data(get(server, admin["token"], "/api/admin/stats"))
    reg = register(server)
    execute(server, "UPDATE users SET tier = 'solo' WHERE id = ?", reg["user"]["id"])
    after = ok_data(get(server, admin["token"], "/api/admin/stats"))
    assert set(after) == {"users", "signupsPerDay", "activeSessions"}
    assert after["users"]["total"] == before["users"]["total"] + 1
    assert set(after["users"]["byTier"]) == {"community", "solo", "pro", "business", "enterprise"}
    assert after["users"]["byTier"]["solo"] == before["users"]["byTier"]["solo"] + 1
    assert after["users"]["byRole"]["admin"] >= 1
    assert sum(after["users"]["byTier"].values()) == after["users"]["total"]
    assert after["activeSessions"] == before["activeSessions"] + 1
    today = time.strftime("%Y-%m-%d", time.gmtime())
    days = {d["date"]: d["count"] for d in after["signupsPerDay"]}
    assert days[today] >= 1 and sum(days.values()) == after["users"]["total"]


def test_admins_demoting_each_other_at_once_leave_one(launch):
    """The caller's role is read again in the change's own transaction: of two admins demoting
    each other at the same moment, one wins and the other gets 403; never zero admins."""
    import threading
    server = launch("auth-server", env=AUTH_ENV)
    a, b = register(server, unique_email("duel-a")), register(server, unique_email("duel-b"))
    ids = (a["user"]["id"], b["user"]["id"])
    for round_ in range(15):
        execute(server, "UPDATE users SET role = 'admin' WHERE id IN (?, ?)", *ids)
        barrier, results = threading.Barrier(2), {}

        def demote(actor, target):
            barrier.wait()
            results[actor["user"]["id"]] = server.request(
                "PATCH", f"/api/admin/users/{target['user']['id']}", json={"role": "user"},
                headers=bearer(actor["token"])).status_code

        threads = [threading.Thread(target=demote, args=pair) for pair in ((a, b), (b, a))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results.values()) == [200, 403], (round_, results)
        admins = query(server, "SELECT id FROM users WHERE role = 'admin'")
        assert len(admins) == 1, round_
        winner = next(uid for uid, status in results.items() if status == 200)
        assert admins[0]["id"] == winner


def test_bootstrap_admin_setting(launch):
    """AUTH_BOOTSTRAP_ADMIN_EMAIL/PASSWORD create the first administrator (verified address)
    while none exists; later starts change nothing; bad settings stop the start (exit 2)."""
    addr = unique_email("boot")
    env = {**AUTH_ENV, "AUTH_BOOTSTRAP_ADMIN_EMAIL": addr, "AUTH_BOOTSTRAP_ADMIN_PASSWORD": "first admin password"}
    server = launch("auth-server", env=env)
    signed = ok_data(login(server, addr, "first admin password"))
    assert signed["user"]["role"] == "admin" and signed["user"]["emailVerified"] is True
    assert signed["user"]["name"] == "Administrator"
    ok_data(server.get("/api/admin/stats", headers=bearer(signed["token"])))
    assert query(server, "SELECT COUNT(*) AS n FROM users WHERE role = 'admin'")[0]["n"] == 1
    # a restart with other values leaves the existing administrator alone
    assert server.stop() == 0
    again = launch("auth-server", env={**env, "AUTH_BOOTSTRAP_ADMIN_EMAIL": unique_email("boot2"),
                                       "AUTH_BOOTSTRAP_ADMIN_PASSWORD": "another password"}, data_dir=server.data_dir)
    assert query(again, "SELECT COUNT(*) AS n FROM users")[0]["n"] == 1
    ok_data(login(again, addr, "first admin password"))
    # an address someone registered first is never promoted
    fresh = launch("auth-server", env=AUTH_ENV)
    squatter = unique_email("squat")
    register(fresh, squatter)
    assert fresh.stop() == 0
    refused = launch("auth-server", env={**AUTH_ENV, "AUTH_BOOTSTRAP_ADMIN_EMAIL": squatter,
                                         "AUTH_BOOTSTRAP_ADMIN_PASSWORD": "first admin password"},
                     data_dir=fresh.data_dir, wait=False)
    assert refused.process.wait(timeout=20) == 2
    assert "existing account" in refused.log_text()
    for bad in ({"AUTH_BOOTSTRAP_ADMIN_EMAIL": addr},
                {"AUTH_BOOTSTRAP_ADMIN_EMAIL": "not-an-address", "AUTH_BOOTSTRAP_ADMIN_PASSWORD": "long enough pw"},
                {"AUTH_BOOTSTRAP_ADMIN_EMAIL": addr, "AUTH_BOOTSTRAP_ADMIN_PASSWORD": "short"}):
        proc = launch("auth-server", env={**AUTH_ENV, **bad}, wait=False)
        assert proc.process.wait(timeout=20) == 2, bad
        assert "AUTH_BOOTSTRAP_ADMIN" in proc.log_text(), bad
