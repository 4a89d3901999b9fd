"""auth-server accounts: registration, login, email verification, me, sessions, logout and
password change, driven over HTTP with the database and outbox inspected directly.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_accounts.py
"""
import concurrent.futures
import re
import statistics
import time

import pytest
import requests

from auth_helpers import (AUTH_ENV, PASSWORD, awaited_mails, bearer, error_of, execute, login, mailed_token, mails, ok_data, post,
                          query, register, unique_email, verification_token)
from conftest import assert_error_style

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env=AUTH_ENV)


def check_user(user, email_addr, name):
    assert set(user) == {"id", "email", "name", "role", "tier", "emailVerified", "twoFactorEnabled", "createdAt"}
    assert user["twoFactorEnabled"] is False
    assert re.fullmatch(r"usr_[0-9a-f]{24}", user["id"])
    assert user["email"] == email_addr.lower()
    assert user["name"] == name
    assert user["role"] == "user" and user["tier"] == "community"
    assert user["emailVerified"] is False
    assert RFC3339.fullmatch(user["createdAt"])


# --- registration -----------------------------------------------------------------------------


def test_register_creates_account_session_and_verification_mail(server):
    addr = unique_email("Reg").replace("reg", "Reg")
    # An unknown field is refused by name (and nothing is created), not ignored.
    bad = post(server, "/api/auth/register", {"email": addr, "name": "Ada", "password": PASSWORD,
                                              "unknownField": [1, 2]})
    assert bad.status_code == 400 and "'unknownField'" in bad.json()["error"]
    r = post(server, "/api/auth/register", {"email": addr, "name": "  Ada Lovelace ", "password": PASSWORD})
    data = ok_data(r, 201)
    assert set(data) == {"user", "token", "refreshToken", "expiresAt"}
    check_user(data["user"], addr, "Ada Lovelace")
    assert RFC3339.fullmatch(data["expiresAt"])
    assert r.headers["Content-Type"] == "application/json"

    rows = query(server, "SELECT * FROM users WHERE id = ?", data["user"]["id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["email"] == addr.lower()
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in row["password_hash"]
    sessions = query(server, "SELECT * FROM sessions WHERE user_id = ?", row["id"])
    assert len(sessions) == 1
    # only a SHA-256 of the refresh token is stored
    assert data["refreshToken"] not in sessions[0]["refresh_hash"]
    assert re.fullmatch(r"[0-9a-f]{64}", sessions[0]["refresh_hash"])
    import hashlib
    assert sessions[0]["refresh_hash"] == hashlib.sha256(data["refreshToken"].encode()).hexdigest()
    assert re.fullmatch(r"ses_[0-9a-f]{24}", sessions[0]["id"])

    [mail] = mails(server, to=addr.lower(), kind="verify-email")
    assert "verify" in mail["Subject"].lower()
    assert mail["From"] and mail["Date"] and mail["Message-ID"]
    assert "Ada Lovelace" in mail.get_content()
    audit = query(server, "SELECT action FROM audit_log WHERE user_id = ?", row["id"])
    assert [a["action"] for a in audit] == ["user.registered"]


def test_ids_are_opaque_not_sequential(server):
    a = register(server)["user"]["id"]
    b = register(server)["user"]["id"]
    assert a != b
    assert abs(int(a[4:], 16) - int(b[4:], 16)) > 1000


def test_register_duplicate_email_is_generic_and_changes_nothing(server):
    addr = unique_email("dup")
    first = register(server, addr, name="Original")
    before = query(server, "SELECT * FROM users WHERE email = ?", addr)[0]
    r = post(server, "/api/auth/register", {"email": addr.upper(), "name": "Intruder", "password": "other password"})
    data = ok_data(r, 200)
    assert set(data) == {"message"}
    assert "token" not in r.text and first["user"]["id"] not in r.text
    after = query(server, "SELECT * FROM users WHERE email = ?", addr)
    assert len(after) == 1 and dict(after[0]) == dict(before)
    assert len(query(server, "SELECT id FROM sessions WHERE user_id = ?", before["id"])) == 1
    # the owner is told; no second verification mail
    assert len(mails(server, to=addr, kind="account-exists")) == 1
    assert len(mails(server, to=addr, kind="verify-email")) == 1
    # the original password still works, the attempted one does not
    ok_data(login(server, addr))
    error_of(server, login(server, addr, "other password"), 401, "invalid_credentials")


@pytest.mark.parametrize("body,field", [
    ({"name": "N", "password": PASSWORD}, "email"),
    ({"email": 42, "name": "N", "password": PASSWORD}, "email"),
    ({"email": "", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "not-an-email", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "a@b", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "a b@example.com", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "a@@example.com", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "x" * 250 + "@example.com", "name": "N", "password": PASSWORD}, "email"),
    ({"email": "ok@example.com", "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": None, "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": "   ", "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": "x" * 101, "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": "bad\nname", "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": "bad\u0085name", "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": ["N"], "password": PASSWORD}, "name"),
    ({"email": "ok@example.com", "name": "N"}, "password"),
    ({"email": "ok@example.com", "name": "N", "password": "short12"}, "password"),
    ({"email": "ok@example.com", "name": "N", "password": "p" * 129}, "password"),
    ({"email": "ok@example.com", "name": "N", "password": 12345678}, "password"),
    ({"email": "ok@example.com", "name": "N", "password": "nul\u0000byte-pass"}, "password"),
])
def test_register_validation(server, body, field):
    r = post(server, "/api/auth/register", body)
    err = error_of(server, r, 400, "validation_error")
    assert err["error"].startswith(f"'{field}' "), err
    assert not query(server, "SELECT id FROM users WHERE email = 'ok@example.com'")


def test_register_limits_accept_edges(server):
    name = "n" * 100
    data = register(server, name=name, password="p" * 128)
    assert data["user"]["name"] == name
    data = register(server, name="é" * 100, password="ü" * 8)  # characters, not bytes
    assert data["user"]["name"] == "é" * 100


def test_register_body_errors(server):
    r = server.request("POST", "/api/auth/register", data="{}", headers={"Content-Type": "text/plain"})
    error_of(server, r, 415)
    r = server.request("POST", "/api/auth/register", data='{"email": ', headers={"Content-Type": "application/json"})
    error_of(server, r, 400)
    r = server.request("POST", "/api/auth/register", data='[1]', headers={"Content-Type": "application/json"})
    error_of(server, r, 400)


# --- login -------------------------------------------------------------------------------------


def test_login_creates_a_new_session(server):
    addr = unique_email("login")
    reg = register(server, addr)
    data = ok_data(login(server, addr.upper()))
    assert set(data) == {"user", "token", "refreshToken", "expiresAt"}
    assert data["user"] == reg["user"]
    assert data["refreshToken"] != reg["refreshToken"]
    assert len(query(server, "SELECT id FROM sessions WHERE user_id = ?", reg["user"]["id"])) == 2
    actions = [a["action"] for a in query(server, "SELECT action FROM audit_log WHERE user_id = ? ORDER BY seq",
                                          reg["user"]["id"])]
    assert actions == ["user.registered", "login.succeeded"]


def test_login_wrong_password_and_unknown_email_look_the_same(server):
    addr = unique_email("same")
    uid = register(server, addr)["user"]["id"]
    wrong = login(server, addr, "wrong password!")
    unknown = login(server, unique_email("nobody"), "wrong password!")
    a = error_of(server, wrong, 401, "invalid_credentials")
    b = error_of(server, unknown, 401, "invalid_credentials")
    assert a == b
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
    failed = query(server, "SELECT user_id, detail FROM audit_log WHERE action = 'login.failed' AND user_id = ?", uid)
    assert len(failed) == 1


def test_login_timing_unknown_email_runs_the_hash(server):
    """An unknown email is checked against a dummy hash: no fast path that reveals existence."""
    addr = unique_email("timing")
    register(server, addr)

    def timed(e):
        t0 = time.perf_counter()
        r = login(server, e, "wrong password!")
        assert r.status_code == 401
        return time.perf_counter() - t0

    known, unknown = [], []
    for _ in range(7):  # interleaved, so background load hits both alike
        execute(server, "UPDATE users SET failed_logins = 0 WHERE email = ?", addr)  # stay below the lockout
        known.append(timed(addr))
        unknown.append(timed(unique_email("ghost")))
    known, unknown = statistics.median(known), statistics.median(unknown)
    # the Argon2id verification dominates both; a missing hash would be >10x faster
    assert unknown > known * 0.33, (known, unknown)
    assert known > unknown * 0.33, (known, unknown)


def test_a_burst_of_logins_does_not_stall_other_requests(server):
    """Password hashing runs on the worker pool: while 16 logins are being hashed, cheap requests
    (health, an authenticated /me) are answered before the logins are done. Ordering of
    completions is compared, not durations."""
    addr = unique_email("burst")
    token = register(server, addr)["token"]
    done = {}

    def do_login(i):
        with requests.Session() as s:
            r = s.post(server.url("/api/auth/login"), json={"email": addr, "password": PASSWORD}, timeout=60)
        done[f"login{i}"] = time.monotonic()
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        logins = [pool.submit(do_login, i) for i in range(16)]
        time.sleep(0.05)  # the logins are in the server's hands
        with requests.Session() as s:
            for i in range(3):
                assert s.get(server.url("/health"), timeout=60).status_code == 200
                assert s.get(server.url("/api/auth/me"), headers=bearer(token), timeout=60).status_code == 200
        cheap_done = time.monotonic()
        assert [f.result() for f in logins] == [200] * 16
    later = sum(1 for t in done.values() if t > cheap_done)
    assert later >= 8, f"only {later} of 16 logins were still running when six cheap requests had been answered"


@pytest.mark.parametrize("body,field", [
    ({"password": PASSWORD}, "email"),
    ({"email": 7, "password": PASSWORD}, "email"),
    ({"email": "a@example.com"}, "password"),
    ({"email": "a@example.com", "password": ""}, "password"),
    ({"email": "a@example.com", "password": "p" * 129}, "password"),
    ({"email": "a@example.com", "password": True}, "password"),
])
def test_login_validation(server, body, field):
    err = error_of(server, post(server, "/api/auth/login", body), 400, "validation_error")
    assert err["error"].startswith(f"'{field}' ")


def test_login_suspended_account_is_403(server):
    addr = unique_email("susp")
    reg = register(server, addr)
    execute(server, "UPDATE users SET suspended = 1 WHERE id = ?", reg["user"]["id"])
    error_of(server, login(server, addr), 403, "account_suspended")
    assert [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ? AND action LIKE "
                                               "'login.%'", reg["user"]["id"])] == ["login.suspended"]
    # the wrong password still gets the generic 401 (suspension is only shown to the owner)
    error_of(server, login(server, addr, "not the password"), 401, "invalid_credentials")
    # existing access tokens stop working too, and refresh is refused
    error_of(server, server.get("/api/auth/me", headers=bearer(reg["token"])), 403, "account_suspended")
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}), 401)
    execute(server, "UPDATE users SET suspended = 0 WHERE id = ?", reg["user"]["id"])
    ok_data(login(server, addr))


# --- email verification ------------------------------------------------------------------------


def test_verify_email_single_use(server):
    addr = unique_email("verify")
    reg = register(server, addr)
    token = verification_token(server, addr)
    assert query(server, "SELECT COUNT(*) AS n FROM mail_tokens WHERE hash = ?", token)[0]["n"] == 0  # hashed
    ok_data(post(server, "/api/auth/verify-email", {"token": token}))
    me = ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))
    assert me["user"]["emailVerified"] is True
    error_of(server, post(server, "/api/auth/verify-email", {"token": token}), 400, "invalid_token")
    assert [a["action"] for a in query(server, "SELECT action FROM audit_log WHERE user_id = ? AND "
                                               "action = 'email.verified'", reg["user"]["id"])] == ["email.verified"]


def test_verify_email_rejects_bad_tokens(server):
    error_of(server, post(server, "/api/auth/verify-email", {"token": "A" * 43}), 400, "invalid_token")
    error_of(server, post(server, "/api/auth/verify-email", {}), 400, "validation_error")
    error_of(server, post(server, "/api/auth/verify-email", {"token": 5}), 400, "validation_error")
    error_of(server, post(server, "/api/auth/verify-email", {"token": "has space"}), 400, "validation_error")
    # an expired token is refused
    addr = unique_email("expired")
    register(server, addr)
    token = verification_token(server, addr)
    import hashlib
    execute(server, "UPDATE mail_tokens SET expires_at = 1 WHERE hash = ?", hashlib.sha256(token.encode()).hexdigest())
    error_of(server, post(server, "/api/auth/verify-email", {"token": token}), 400, "invalid_token")


# --- me, sessions, logout ----------------------------------------------------------------------


def test_me(server):
    addr = unique_email("me")
    reg = register(server, addr, name="Me Myself")
    r = server.get("/api/auth/me", headers=bearer(reg["token"]))
    data = ok_data(r)
    assert data == {"user": reg["user"]}
    assert r.headers["Cache-Control"] == "no-store"


def sessions_page(server, token, **params):
    """GET /api/auth/sessions: a page of the caller's sessions with the pagination envelope."""
    r = server.get("/api/auth/sessions", headers=bearer(token), params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ok", "data", "pagination"} and body["ok"] is True, body
    return body["data"], body["pagination"]


def test_sessions_are_paginated(server):
    addr = unique_email("sess-page")
    first = register(server, addr)
    for _ in range(4):
        ok_data(login(server, addr))
    items, page = sessions_page(server, first["token"])
    assert len(items) == 5 and page == {"total": 5, "page": 1, "limit": 50, "pages": 1}
    two, page = sessions_page(server, first["token"], limit=2, page=3)
    assert page == {"total": 5, "page": 3, "limit": 2, "pages": 3} and len(two) == 1
    assert two[0]["id"] == items[4]["id"]  # newest first, the same order page by page
    _, page = sessions_page(server, first["token"], limit=500)
    assert page["limit"] == 200
    for bad in ({"limit": 0}, {"page": "x"}):
        error_of(server, server.get("/api/auth/sessions", headers=bearer(first["token"]), params=bad), 400,
                 "validation_error")


def test_sessions_list_marks_current_and_revoke(server):
    addr = unique_email("sess")
    first = register(server, addr)
    second = ok_data(login(server, addr, headers={"User-Agent": "second-device/1.0"}))
    listed = sessions_page(server, second["token"])[0]
    assert len(listed) == 2
    for s in listed:
        assert set(s) == {"id", "ip", "userAgent", "createdAt", "lastUsedAt", "expiresAt", "current"}
        assert s["ip"] == "127.0.0.1"
        for k in ("createdAt", "lastUsedAt", "expiresAt"):
            assert RFC3339.fullmatch(s[k])
    current = [s for s in listed if s["current"]]
    assert len(current) == 1 and current[0]["userAgent"] == "second-device/1.0"
    other = [s for s in listed if not s["current"]][0]

    # another user cannot see or revoke it
    stranger = register(server)
    error_of(server, server.request("DELETE", f"/api/auth/sessions/{other['id']}", headers=bearer(stranger["token"])),
             404)
    error_of(server, server.request("DELETE", "/api/auth/sessions/ses_doesnotexist", headers=bearer(second["token"])),
             404)

    ok_data(server.request("DELETE", f"/api/auth/sessions/{other['id']}", headers=bearer(second["token"])))
    # the revoked session's access token fails at once; its refresh token is refused
    error_of(server, server.get("/api/auth/me", headers=bearer(first["token"])), 401)
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": first["refreshToken"]}), 401)
    listed = sessions_page(server, second["token"])[0]
    assert [s["id"] for s in listed] == [current[0]["id"]]
    error_of(server, server.request("DELETE", f"/api/auth/sessions/{other['id']}", headers=bearer(second["token"])),
             404)
    audit = query(server, "SELECT detail FROM audit_log WHERE action = 'session.revoked' AND user_id = ?",
                  first["user"]["id"])
    assert len(audit) == 1 and other["id"] in audit[0]["detail"]


def test_logout_ends_only_the_current_session(server):
    addr = unique_email("logout")
    a = register(server, addr)
    b = ok_data(login(server, addr))
    ok_data(post(server, "/api/auth/logout", token=a["token"]))
    error_of(server, server.get("/api/auth/me", headers=bearer(a["token"])), 401)
    error_of(server, post(server, "/api/auth/logout", token=a["token"]), 401)
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": a["refreshToken"]}), 401)
    ok_data(server.get("/api/auth/me", headers=bearer(b["token"])))


@pytest.mark.parametrize("method,path", [("GET", "/api/auth/me"), ("PATCH", "/api/auth/me"),
                                         ("GET", "/api/auth/sessions"), ("POST", "/api/auth/logout"),
                                         ("POST", "/api/auth/change-password"), ("DELETE", "/api/auth/sessions/ses_x"),
                                         ("POST", "/api/auth/totp/setup"), ("POST", "/api/auth/totp/verify"),
                                         ("POST", "/api/auth/totp/disable"), ("GET", "/api/auth/totp/status"),
                                         ("GET", "/api/auth/export-data"), ("DELETE", "/api/auth/delete-account"),
                                         ("GET", "/api/auth/consents"), ("PUT", "/api/auth/consents")])
def test_user_routes_need_a_token(server, method, path):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer not.a.jwt"}):
        r = server.request(method, path, headers=headers, json={})
        error_of(server, r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"] == "Bearer"


# --- change password ---------------------------------------------------------------------------


def test_change_password_ends_other_sessions(server):
    addr = unique_email("chpw")
    a = register(server, addr)
    b = ok_data(login(server, addr))
    new = "a brand new password"
    err = error_of(server, post(server, "/api/auth/change-password",
                                {"currentPassword": "wrong password", "newPassword": new}, token=a["token"]),
                   401, "invalid_credentials")
    assert "current password" in err["error"]
    error_of(server, post(server, "/api/auth/change-password", {"currentPassword": PASSWORD, "newPassword": "short"},
                          token=a["token"]), 400, "validation_error")
    error_of(server, post(server, "/api/auth/change-password", {"newPassword": new}, token=a["token"]), 400,
             "validation_error")
    ok_data(post(server, "/api/auth/change-password", {"currentPassword": PASSWORD, "newPassword": new},
                 token=a["token"]))
    ok_data(server.get("/api/auth/me", headers=bearer(a["token"])))  # the current session stays
    error_of(server, server.get("/api/auth/me", headers=bearer(b["token"])), 401)  # the other one ended
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": b["refreshToken"]}), 401)
    error_of(server, login(server, addr, PASSWORD), 401, "invalid_credentials")
    ok_data(login(server, addr, new))
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ?", a["user"]["id"])]
    assert "password.changed" in actions


def test_error_responses_keep_the_envelope(server):
    r = server.request("PUT", "/api/auth/login", json={})
    assert r.status_code == 405
    assert_error_style(server, r.json())


# --- profile update (PATCH /api/auth/me) -------------------------------------------------------


def patch_me(server, token, body):
    return server.request("PATCH", "/api/auth/me", json=body, headers=bearer(token))


def test_update_name(server):
    reg = register(server, name="Old Name")
    data = ok_data(patch_me(server, reg["token"], {"name": " New Name "}))
    assert data["user"]["name"] == "New Name"
    assert ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))["user"]["name"] == "New Name"
    err = error_of(server, patch_me(server, reg["token"], {"name": "x" * 101}), 400, "validation_error")
    assert err["error"].startswith("'name' ")
    error_of(server, patch_me(server, reg["token"], {}), 400, "validation_error")
    error_of(server, patch_me(server, reg["token"], {"name": 5}), 400, "validation_error")
    error_of(server, patch_me(server, reg["token"], {"name": "bad\u0000name"}), 400, "validation_error")
    ok_data(patch_me(server, reg["token"], {"name": "New Name"}))  # unchanged: no second entry
    rows = query(server, "SELECT detail FROM audit_log WHERE user_id = ? AND action = 'profile.name_changed'",
                 reg["user"]["id"])
    assert [r["detail"] for r in rows] == ["{}"]  # the trail records the change, not the names
    error_of(server, patch_me(server, "not-a-token", {"name": "X"}), 401)


def test_update_email_needs_password_and_reverification(server):
    old = unique_email("old")
    reg = register(server, old)
    ok_data(post(server, "/api/auth/verify-email", {"token": verification_token(server, old)}))
    new = unique_email("new")
    err = error_of(server, patch_me(server, reg["token"], {"email": new}), 400, "validation_error")
    assert "currentPassword" in err["error"]
    error_of(server, patch_me(server, reg["token"], {"email": new, "currentPassword": "wrong password"}), 401,
             "invalid_credentials")
    taken = unique_email("taken")
    register(server, taken)
    error_of(server, patch_me(server, reg["token"], {"email": taken.upper(), "currentPassword": PASSWORD}), 409,
             "conflict")
    error_of(server, patch_me(server, reg["token"], {"email": "bad address", "currentPassword": PASSWORD}), 400,
             "validation_error")
    data = ok_data(patch_me(server, reg["token"], {"email": new, "currentPassword": PASSWORD}))
    assert data["user"]["email"] == new and data["user"]["emailVerified"] is False
    assert len(mails(server, to=old, kind="email-changed")) == 1
    ok_data(post(server, "/api/auth/verify-email", {"token": verification_token(server, new)}))
    assert ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))["user"]["emailVerified"] is True
    error_of(server, login(server, old), 401)
    ok_data(login(server, new))
    # the same address again (any case) is no change and needs no password
    ok_data(patch_me(server, reg["token"], {"email": new.upper(), "name": "Same"}))
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ?", reg["user"]["id"])]
    assert actions.count("email.changed") == 1


def test_email_change_spends_links_sent_to_the_old_address(server):
    """Reset and verification links mailed to the old address stop working once the address
    changes; the new address gets a link of its own."""
    old, new = unique_email("moving"), unique_email("moved")
    reg = register(server, old)
    old_verify = verification_token(server, old)
    ok_data(post(server, "/api/auth/forgot-password", {"email": old}))
    reset_token = mailed_token(server, old, "reset-password")
    ok_data(patch_me(server, reg["token"], {"email": new, "currentPassword": PASSWORD}))
    error_of(server, post(server, "/api/auth/reset-password", {"token": reset_token, "password": "taken over!"}),
             400, "invalid_token")
    error_of(server, post(server, "/api/auth/verify-email", {"token": old_verify}), 400, "invalid_token")
    ok_data(login(server, new))
    ok_data(post(server, "/api/auth/verify-email", {"token": verification_token(server, new)}))
    # every mail about the account is marked with it, the notice to the old address included
    kinds = {r["kind"] for r in query(server, "SELECT kind FROM mail_queue WHERE user_id = ?", reg["user"]["id"])}
    assert kinds == {"verify-email", "reset-password", "email-changed"}


def test_weak_password_hash_is_upgraded_at_login(server):
    """A hash with weaker parameters (made here by the independent argon2 CLI) still verifies and
    is replaced by one with the current parameters."""
    import subprocess
    addr = unique_email("rehash")
    uid = register(server, addr)["user"]["id"]
    weak = subprocess.run(["argon2", "saltsaltsalt1234", "-id", "-t", "1", "-m", "12", "-p", "1", "-e"],
                          input=b"weak password 1", capture_output=True, check=True).stdout.decode().strip()
    assert weak.startswith("$argon2id$v=19$m=4096,t=1,p=1$")
    execute(server, "UPDATE users SET password_hash = ? WHERE id = ?", weak, uid)
    ok_data(login(server, addr, "weak password 1"))
    upgraded = query(server, "SELECT password_hash FROM users WHERE id = ?", uid)[0]["password_hash"]
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    ok_data(login(server, addr, "weak password 1"))
    error_of(server, login(server, addr, PASSWORD), 401, "invalid_credentials")


def test_links_in_mails_use_the_configured_base_url(launch):
    server = launch("auth-server", env={**AUTH_ENV, "PANGUARD_BASE_URL": "https://app.panguard.test/"})
    addr = unique_email("links")
    register(server, addr)
    ok_data(post(server, "/api/auth/forgot-password", {"email": addr}))
    for kind, page in (("verify-email", "verify-email"), ("reset-password", "reset-password")):
        token = mailed_token(server, addr, kind)
        [mail] = mails(server, to=addr, kind=kind)
        assert f"https://app.panguard.test/{page}?token={token}" in mail.get_content()


def _open_link(url, mode, password=None, refused=False):
    """Follows a link in headless Chromium the way a person would (tests/integration/js/open_link.cjs)."""
    import json
    import os
    import subprocess
    from conftest import SOURCE_DIR
    env = dict(os.environ, NODE_PATH=str(SOURCE_DIR / "tools" / "node_modules"))
    args = ["node", str(SOURCE_DIR / "tests" / "integration" / "js" / "open_link.cjs"), url, mode]
    if password:
        args.append(password)
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=90, cwd=str(SOURCE_DIR / "tools"))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result.get("ok"), (result, proc.stderr[-2000:])
    # Chromium logs a refused API call (4xx) as a console error; nothing else may appear.
    errors = [e for e in result["errors"] if not (refused and e.startswith("Failed to load resource"))]
    assert errors == [], result
    return result


def test_mail_links_open_pages_that_do_the_job(launch):
    """By default links point at this server, whose /verify-email and /reset-password pages
    finish the job through the API: followed from the outbox mail in a browser."""
    server = launch("auth-server", env=AUTH_ENV)
    addr = unique_email("pages")
    reg = register(server, addr)
    [mail] = mails(server, to=addr, kind="verify-email")
    link = re.search(r"(http\S+/verify-email\?token=\S+)", mail.get_content()).group(1)
    assert link.startswith(server.base_url + "/verify-email?token=")
    page = server.get("/verify-email")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    result = _open_link(link, "verify")
    assert result["status"] == "done" and "confirmed" in result["text"]
    assert "token=" not in result["location"]  # the token leaves the address bar
    assert all(r["referer"] is None or "token=" not in r["referer"] for r in result["requests"])
    me = ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))
    assert me["user"]["emailVerified"] is True
    # the same link a second time: the page says why it cannot
    again = _open_link(link, "verify", refused=True)
    assert again["status"] == "error" and "used or expired" in again["text"]

    ok_data(post(server, "/api/auth/forgot-password", {"email": addr}))
    [mail] = awaited_mails(server, addr, "reset-password")
    link = re.search(r"(http\S+/reset-password\?token=\S+)", mail.get_content()).group(1)
    result = _open_link(link, "reset", "a brand new password")
    assert result["status"] == "done", result
    ok_data(login(server, addr, "a brand new password"))
    error_of(server, login(server, addr, PASSWORD), 401, "invalid_credentials")
    error_of(server, server.get("/api/auth/me", headers=bearer(reg["token"])), 401)  # every session ended
    assert server.get("/account/account.js").status_code == 200
    assert server.get("/account/account.html").status_code == 404
    # the pages and their files are outside the per-IP limit; the API calls they make are not
    limited = launch("auth-server", env={**AUTH_ENV, "AUTH_RATE_LIMIT": "3/min"})
    for _ in range(10):
        for path in ("/verify-email", "/reset-password", "/account/account.js", "/account/account.css"):
            r = limited.get(path)
            assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers, path
    codes = [post(limited, "/api/auth/verify-email", {"token": "x" * 20}).status_code for _ in range(4)]
    assert codes[-1] == 429
