"""auth-server GDPR: consent records, the data export (a JSON attachment), and account
erasure in one transaction with audit entries kept without personal data.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_gdpr.py
"""
import hashlib
import hmac
import json
import re
import uuid
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from auth_helpers import (AUTH_ENV, PASSWORD, awaited_mails, bearer, db, error_of, execute, login, mails, ok_data,
                          post, query, register, unique_email)

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env=AUTH_ENV)


def put_consents(server, token, body):
    return server.request("PUT", "/api/auth/consents", json=body, headers=bearer(token))


def delete_account(server, token, password=PASSWORD):
    return server.request("DELETE", "/api/auth/delete-account", json={"password": password}, headers=bearer(token))


def test_consents(server):
    reg = register(server)
    empty = ok_data(server.get("/api/auth/consents", headers=bearer(reg["token"])))
    assert empty == {"termsVersion": None, "termsAcceptedAt": None, "marketing": False, "marketingUpdatedAt": None}
    bad = put_consents(server, reg["token"], {"termsVersion": "2026-01", "unknown": 1})
    assert bad.status_code == 400 and "'unknown'" in bad.json()["error"]  # refused, not ignored
    c = ok_data(put_consents(server, reg["token"], {"termsVersion": "2026-01"}))
    assert c["termsVersion"] == "2026-01" and RFC3339.fullmatch(c["termsAcceptedAt"])
    assert c["marketing"] is False and c["marketingUpdatedAt"] is None
    c = ok_data(put_consents(server, reg["token"], {"marketing": True}))
    assert c["marketing"] is True and RFC3339.fullmatch(c["marketingUpdatedAt"]) and c["termsVersion"] == "2026-01"
    assert ok_data(server.get("/api/auth/consents", headers=bearer(reg["token"]))) == c
    for body in ({}, {"marketing": "yes"}, {"termsVersion": ""}, {"termsVersion": "x" * 33}, {"termsVersion": 3}):
        error_of(server, put_consents(server, reg["token"], body), 400, "validation_error")
    rows = query(server, "SELECT detail FROM audit_log WHERE user_id = ? AND action = 'consent.changed' ORDER BY seq",
                 reg["user"]["id"])
    assert [r["detail"] for r in rows] == ['{"termsVersion":"2026-01"}', '{"marketing":true}']
    error_of(server, server.get("/api/auth/consents"), 401)


def test_export(server):
    addr = unique_email("export")
    reg = register(server, addr, name="Exporter")
    ok_data(login(server, addr))
    ok_data(post(server, "/api/auth/logout", token=reg["token"]))
    other = ok_data(login(server, addr))
    ok_data(put_consents(server, other["token"], {"termsVersion": "v1", "marketing": True}))
    r = server.get("/api/auth/export-data", headers=bearer(other["token"]))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Disposition"] == f'attachment; filename="panguard-export-{reg["user"]["id"]}.json"'
    assert r.headers["Cache-Control"] == "no-store"
    data = r.json()
    assert "ok" not in data  # a file, not the envelope
    assert set(data) == {"exportedAt", "profile", "sessions", "twoFactor", "consents", "subscriptions", "usage",
                         "auditEntries"}
    assert data["profile"]["email"] == addr and data["profile"]["name"] == "Exporter"
    assert len(data["sessions"]) == 3
    assert sum(1 for s in data["sessions"] if s["revokedAt"]) == 1
    assert data["consents"]["termsVersion"] == "v1" and data["consents"]["marketing"] is True
    assert data["twoFactor"] == {"enabled": False, "backupCodesRemaining": 0}
    assert data["subscriptions"] == [] and data["usage"] == []
    actions = [e["action"] for e in data["auditEntries"]]
    assert actions[:2] == ["user.registered", "login.succeeded"] and "session.logout" in actions
    # no credentials, hashes or secrets
    text = r.text
    assert "argon2" not in text and reg["refreshToken"] not in text and "refresh_hash" not in text
    [row] = query(server, "SELECT refresh_hash FROM sessions WHERE id = (SELECT id FROM sessions WHERE user_id = ? "
                          "LIMIT 1)", reg["user"]["id"])
    assert row["refresh_hash"] not in text
    assert query(server, "SELECT COUNT(*) AS n FROM audit_log WHERE user_id = ? AND action = 'data.exported'",
                 reg["user"]["id"])[0]["n"] == 1


def test_delete_account(server):
    addr = unique_email("erase")
    reg = register(server, addr)
    uid = reg["user"]["id"]
    second = ok_data(login(server, addr))
    ok_data(post(server, "/api/auth/refresh", {"refreshToken": second["refreshToken"]}))  # a retired token
    setup = ok_data(post(server, "/api/auth/totp/setup", {"password": PASSWORD}, token=reg["token"]))
    ok_data(post(server, "/api/auth/totp/verify", {"code": pyotp.TOTP(setup["secret"]).now()}, token=reg["token"]))
    ok_data(put_consents(server, reg["token"], {"termsVersion": "v1"}))
    login(server, addr, "wrong password")

    error_of(server, delete_account(server, reg["token"], "wrong password"), 401, "invalid_credentials")
    error_of(server, server.request("DELETE", "/api/auth/delete-account", json={}, headers=bearer(reg["token"])), 400,
             "validation_error")
    data = ok_data(delete_account(server, reg["token"]))
    assert data["deleted"] is True
    t = data["tables"]
    assert t["users"] == 1 and t["sessions"] == 2 and t["retired_refresh_tokens"] == 1
    assert t["totp"] == 1 and t["backup_codes"] == 10 and t["consents"] == 1 and t["mail_tokens"] == 1
    assert t["audit_log"] >= 5

    for table, column in (("users", "id"), ("sessions", "user_id"), ("totp", "user_id"), ("backup_codes", "user_id"),
                          ("consents", "user_id"), ("mail_tokens", "user_id")):
        assert not query(server, f"SELECT 1 FROM {table} WHERE {column} = ?", uid), table
    # audit entries stay, without personal data
    entries = query(server, "SELECT action, ip, detail FROM audit_log WHERE user_id = ? OR actor_id = ?", uid, uid)
    assert entries and all(e["ip"] == "" and e["detail"] == "{}" for e in entries)
    assert entries[-1]["action"] == "account.deleted"
    assert not query(server, "SELECT 1 FROM audit_log WHERE detail LIKE ?", f"%{addr}%")

    # gone: tokens fail, login fails, the address is free again
    error_of(server, server.get("/api/auth/me", headers=bearer(reg["token"])), 401)
    error_of(server, login(server, addr), 401, "invalid_credentials")
    assert register(server, addr)["user"]["id"] != uid


def test_only_admin_cannot_delete_account(launch):
    server = launch("auth-server", env=AUTH_ENV)
    a = register(server)
    execute(server, "UPDATE users SET role = 'admin' WHERE id = ?", a["user"]["id"])
    error_of(server, delete_account(server, a["token"]), 409, "conflict")
    b = register(server)
    execute(server, "UPDATE users SET role = 'admin' WHERE id = ?", b["user"]["id"])
    ok_data(delete_account(server, a["token"]))
    error_of(server, delete_account(server, b["token"]), 409, "conflict")


WEBHOOK_SECRET = "whsec-" + "g" * 40
USAGE_TOKEN = "usage-service-token-" + "g" * 24


def every_value(server):
    """(table, column, value) for every cell of every table in the database."""
    with closing(db(server)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"users", "sessions", "mail_queue", "billing_events", "usage_counters", "audit_log"} <= set(tables)
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for row in conn.execute(f"SELECT * FROM {table}"):
                yield from ((table, column, value) for column, value in zip(columns, row))


def raw_files(server) -> bytes:
    """The bytes of the database file and its write-ahead log, as a disk image would show them."""
    return b"".join(p.read_bytes() for p in (server.data_dir / "auth.db", server.data_dir / "auth.db-wal")
                    if p.exists())


def test_erasure_leaves_no_personal_data_anywhere_in_the_database(launch):
    """An account that used every feature (sessions from a proxied address and its own user
    agent, two-factor, consents, a reset link, an email change, a subscription, usage) is
    erased: no cell of any table and no byte of the database file or its log still holds its
    addresses, name, user agent, client address or subscription; only the audit entries keep its id."""
    server = launch("auth-server", env={**AUTH_ENV, "TRUST_PROXY": "true", "BILLING_WEBHOOK_SECRET": WEBHOOK_SECRET,
                                        "AUTH_USAGE_SERVICE_TOKEN": USAGE_TOKEN})
    tag = uuid.uuid4().hex[:10]
    old, new, name = f"first-{tag}@example.com", f"second-{tag}@example.com", f"Zelda Quux {tag}"
    agent, ip = f"ErasureBrowser/{tag}", "198.51.100.23"
    client = {"User-Agent": agent, "X-Forwarded-For": ip}
    reg = ok_data(post(server, "/api/auth/register", {"email": old, "name": name, "password": PASSWORD},
                       headers=dict(client)), 201)
    uid, token = reg["user"]["id"], reg["token"]
    second = ok_data(login(server, old, headers=dict(client)))
    ok_data(post(server, "/api/auth/refresh", {"refreshToken": second["refreshToken"]}, headers=dict(client)))
    error_of(server, login(server, old, "wrong password", headers=dict(client)), 401)
    setup = ok_data(post(server, "/api/auth/totp/setup", {"password": PASSWORD}, token=token, headers=dict(client)))
    ok_data(post(server, "/api/auth/totp/verify", {"code": pyotp.TOTP(setup["secret"]).now()}, token=token))
    ok_data(put_consents(server, token, {"termsVersion": "v1", "marketing": True}))
    ok_data(post(server, "/api/auth/forgot-password", {"email": old}, headers=dict(client)))
    awaited_mails(server, old, "reset-password", 1)  # mailed just after the answer, before the address changes
    ok_data(server.request("PATCH", "/api/auth/me", json={"email": new, "currentPassword": PASSWORD,
                                                          "name": name + " Jr"}, headers={**bearer(token), **client}))
    sub_id = "sub_" + uuid.uuid4().hex[:16]
    period_end = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for kind in ("subscription.created", "payment.succeeded"):
        body = json.dumps({"id": "evt_" + uuid.uuid4().hex, "type": kind, "createdAt": period_end,
                           "data": {"subscriptionId": sub_id, "userId": uid, "tier": "pro", "status": "active",
                                    "currentPeriodEnd": period_end}}).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        ok_data(server.request("POST", "/api/billing/webhook", data=body,
                               headers={"Content-Type": "application/json", "X-Signature": signature}))
    ok_data(post(server, "/api/usage/report", {"userId": uid, "meter": "apiCalls", "increment": 3},
                 token=USAGE_TOKEN))
    assert server.get("/api/auth/export-data", headers={**bearer(token), **client}).status_code == 200

    personal = [old, new, name, agent, ip, sub_id]
    before = {text for _, _, v in every_value(server) for text in personal if isinstance(v, str) and text in v}
    assert before == set(personal)  # the check below can fail: every marker is stored somewhere now
    for table in ("mail_queue", "billing_events", "usage_counters", "subscriptions"):
        assert any(t == table and isinstance(v, str) and (uid in v or old in v or new in v)
                   for t, _, v in every_value(server)), table

    # a reset asked for and not yet handled (as after a crash) holds the address and the client address
    execute(server, "INSERT INTO reset_requests (email, ip, requested_at) VALUES (?, ?, strftime('%s','now'))",
            new, ip)
    data = ok_data(server.request("DELETE", "/api/auth/delete-account", json={"password": PASSWORD},
                                  headers={**bearer(token), **client}))
    t = data["tables"]
    assert t["reset_requests"] == 1
    assert t["mail_queue"] >= 4 and t["subscriptions"] == 1 and t["usage_counters"] == 1
    assert t["billing_events"] == 2

    left = [(table, column, v) for table, column, v in every_value(server) if isinstance(v, str) and
            (any(text in v for text in personal) or
             (uid in v and (table, column) not in {("audit_log", "user_id"), ("audit_log", "actor_id")}))]
    assert left == []
    raw = raw_files(server)
    assert [text for text in personal if text.encode() in raw] == []
    # what stays: the events under the bare id, and the provider's event ids without links
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ? ORDER BY seq", uid)]
    assert actions[0] == "user.registered" and actions[-1] == "account.deleted" and "data.exported" in actions
    assert query(server, "SELECT COUNT(*) AS n FROM billing_events WHERE user_id IS NULL")[0]["n"] == 2


def test_erasure_removes_the_outbox_mails_of_the_account(launch):
    """Development mail (DATA_DIR/outbox/*.eml) to the erased account's addresses, earlier ones
    included, goes with the account; other people's mail stays."""
    server = launch("auth-server", env=AUTH_ENV)
    old, new, other = unique_email("erase-old"), unique_email("erase-new"), unique_email("erase-other")
    reg = register(server, old)  # verification mail to the old address
    register(server, other)
    post(server, "/api/auth/forgot-password", {"email": old})  # reset mail to the old address
    r = server.request("PATCH", "/api/auth/me", json={"email": new, "currentPassword": PASSWORD},
                       headers=bearer(reg["token"]))
    ok_data(r)  # a notice to the old address, a verification to the new one
    outbox = server.data_dir / "outbox"

    def addressed(*addrs):
        return [m for m in mails(server) if m["To"] in addrs]

    assert len(addressed(old)) >= 2 and len(addressed(new)) == 1 and addressed(other)
    before = len(addressed(old, new))
    data = ok_data(delete_account(server, reg["token"]))
    assert data["tables"]["outbox"] == before
    assert addressed(old, new) == []
    assert len(addressed(other)) == 1
    assert not any(old in p.read_text(errors="replace") or new in p.read_text(errors="replace")
                   for p in outbox.glob("*.eml"))
