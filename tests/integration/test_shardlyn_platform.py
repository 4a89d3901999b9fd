"""shardlyn-api password reset by mail, User, Admin, Settings, Webhook Token, Support and System
Endpoints, and durability of acknowledged writes across kill -9.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_platform.py
"""
import csv
import hashlib
import hmac
import io
import re
import subprocess
import threading
import time
import uuid

from shardlyn_helpers import (PASSWORD, SHARDLYN_ENV, bearer, bootstrap, expect, expect_error, login, outbox,
                              register, shardlyn, unique_email, wait_for_mail)  # noqa: F401

FREE_PLAN = "00000000-0000-4000-8000-000000000001"


def reset_token_from(message):
    body = message.get_content()
    match = re.search(r"reset-password\?token=([A-Za-z0-9_\-.~]+)", body)
    assert match, body
    return match.group(1)


# --- password reset --------------------------------------------------------------------------


def test_forgot_and_reset_password_through_the_outbox(shardlyn):
    account = register(shardlyn, "reset")
    other_session = login(shardlyn, account.email)
    r = shardlyn.request("POST", "/v1/auth/forgot-password", json={"email": account.email})
    assert expect(r, 202)["message"]
    unknown = shardlyn.request("POST", "/v1/auth/forgot-password", json={"email": unique_email()})
    assert expect(unknown, 202) == r.json()
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/forgot-password", json={"email": "x"}), 400, "email")
    mails = wait_for_mail(shardlyn, account.email, "reset-password")
    assert len(mails) == 1 and mails[0]["Subject"] == "Reset your Shardlyn password"
    token = reset_token_from(mails[0])
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/reset-password",
                                            json={"token": token, "new_password": "short"}), 400, "new_password")
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/reset-password",
                                            json={"token": "wrong-token", "new_password": "a new password"}), 400)
    expect(shardlyn.request("POST", "/v1/auth/reset-password",
                            json={"token": token, "new_password": "a new password"}), 200)
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/reset-password",
                                            json={"token": token, "new_password": "third password"}), 400)
    # Every session ended; the new password works, the old one does not.
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(other_session["access_token"])), 401)
    expect_error(shardlyn, account.get("/v1/users/me"), 401)
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/login",
                                            json={"email": account.email, "password": PASSWORD}), 401)
    login(shardlyn, account.email, "a new password")


def test_a_reset_unlocks_a_locked_account(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOCKOUT_THRESHOLD": "2",
                                         "SHARDLYN_LOCKOUT_SECONDS": "3600"})
    bootstrap(server)
    account = register(server, "unlock")
    for _ in range(2):
        server.request("POST", "/v1/auth/login", json={"email": account.email, "password": "bad-password"})
    # locked: the right password gets the wrong-password answer
    expect_error(server, server.request("POST", "/v1/auth/login", json={"email": account.email,
                                                                        "password": PASSWORD}), 401)
    expect(server.request("POST", "/v1/auth/forgot-password", json={"email": account.email}), 202)
    token = reset_token_from(wait_for_mail(server, account.email, "reset-password")[-1])
    expect(server.request("POST", "/v1/auth/reset-password", json={"token": token, "new_password": "fresh password"}),
           200)
    login(server, account.email, "fresh password")


# --- users (admin) ---------------------------------------------------------------------------


def test_user_administration(shardlyn):
    admin = shardlyn.admin
    email = unique_email("made")
    made = expect(admin.post("/v1/users", {"email": email, "password": PASSWORD, "name": "Made"}), 201)
    assert made["email"] == email and made["is_admin"] is False
    expect_error(shardlyn, admin.post("/v1/users", {"email": email, "password": PASSWORD}), 409)
    expect_error(shardlyn, admin.post("/v1/users", {"email": unique_email(), "password": "short"}), 400, "password")
    assert expect(admin.get(f"/v1/users/{made['id']}"), 200)["email"] == email
    expect_error(shardlyn, admin.get(f"/v1/users/{uuid.uuid4()}"), 404)
    page = expect(admin.get("/v1/users", params={"search": "made-", "per_page": 1}), 200)
    assert page["per_page"] == 1 and page["total"] >= 1 and len(page["items"]) == 1
    expect_error(shardlyn, admin.get("/v1/users", params={"per_page": "zero"}), 400, "per_page")
    assert expect(admin.get("/v1/admin/users", params={"search": email}), 200)["items"][0]["id"] == made["id"]
    login(shardlyn, email)
    expect(admin.delete(f"/v1/users/{made['id']}"), 204)
    expect_error(shardlyn, admin.delete(f"/v1/users/{made['id']}"), 404)
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/login", json={"email": email, "password": PASSWORD}),
                 401)
    expect_error(shardlyn, admin.delete(f"/v1/users/{admin.id}"), 409)
    user = register(shardlyn, "notadmin")
    expect_error(shardlyn, user.get("/v1/users"), 403)


def test_suspend_and_unsuspend(shardlyn):
    admin, user = shardlyn.admin, register(shardlyn, "susp")
    token = user.api_token()
    suspended = expect(admin.post(f"/v1/admin/users/{user.id}/suspend"), 200)
    assert suspended["suspended"] is True
    expect_error(shardlyn, user.get("/v1/users/me"), 401)  # sessions ended
    expect_error(shardlyn, shardlyn.get("/v1/settings", headers=bearer(token["token"])), 403, "suspended")
    expect_error(shardlyn, shardlyn.request("POST", "/v1/auth/login",
                                            json={"email": user.email, "password": PASSWORD}), 403, "suspended")
    expect(admin.post(f"/v1/admin/users/{user.id}/unsuspend"), 200)
    login(shardlyn, user.email)
    expect(shardlyn.get("/v1/settings", headers=bearer(token["token"])), 200)
    expect_error(shardlyn, admin.post(f"/v1/admin/users/{uuid.uuid4()}/suspend"), 404)
    expect_error(shardlyn, admin.post(f"/v1/admin/users/{admin.id}/suspend"), 409)


# --- admin -----------------------------------------------------------------------------------


def test_admin_metrics_and_organisations(shardlyn):
    admin = shardlyn.admin
    user = register(shardlyn, "metric")
    metrics = expect(admin.get("/v1/admin/metrics"), 200)
    assert metrics["users"] >= 2 and metrics["organizations"] >= 2 and metrics["live_sessions"] >= 2
    orgs = expect(admin.get("/v1/admin/organizations", params={"per_page": 200}), 200)
    assert user.org in [o["id"] for o in orgs["items"]] and orgs["total"] >= 2
    detail = expect(admin.get(f"/v1/admin/organizations/{user.org}"), 200)
    assert detail["members"] == [{"user_id": user.id, "email": user.email, "name": "metric", "role": "owner"}]
    expect_error(shardlyn, admin.get(f"/v1/admin/organizations/{uuid.uuid4()}"), 404)


def test_plans_and_subscriptions(shardlyn):
    admin = shardlyn.admin
    plans = expect(admin.get("/v1/admin/plans"), 200)["items"]
    assert any(p["id"] == FREE_PLAN and p["name"] == "free" for p in plans)
    name = f"pro-{uuid.uuid4().hex[:6]}"
    plan = expect(admin.post("/v1/admin/plans", {"name": name, "price_cents": 1900, "currency": "eur",
                                                 "max_nodes": 5, "max_instances": 50, "max_memory_mb": 65536}), 201)
    expect_error(shardlyn, admin.post("/v1/admin/plans", {"name": name, "price_cents": 1, "max_nodes": 1,
                                                          "max_instances": 1, "max_memory_mb": 1}), 409)
    expect_error(shardlyn, admin.post("/v1/admin/plans", {"name": "neg", "price_cents": -1, "max_nodes": 1,
                                                          "max_instances": 1, "max_memory_mb": 1}), 400, "price_cents")
    updated = expect(admin.put(f"/v1/admin/plans/{plan['id']}", {"price_cents": 2900}), 200)
    assert updated["price_cents"] == 2900 and updated["name"] == name
    expect_error(shardlyn, admin.put(f"/v1/admin/plans/{plan['id']}", {}), 400)
    expect_error(shardlyn, admin.put(f"/v1/admin/plans/{uuid.uuid4()}", {"price_cents": 1}), 404)
    expect_error(shardlyn, admin.delete(f"/v1/admin/plans/{FREE_PLAN}"), 409)

    user = register(shardlyn, "subs")
    subs = expect(admin.get("/v1/admin/subscriptions", params={"per_page": 200}), 200)["items"]
    mine = next(s for s in subs if s["organization_id"] == user.org)
    assert mine["plan_id"] == FREE_PLAN and mine["status"] == "active"
    changed = expect(admin.put(f"/v1/admin/subscriptions/{mine['id']}", {"plan_id": plan["id"],
                                                                         "status": "trialing"}), 200)
    assert changed["plan_name"] == name and changed["status"] == "trialing"
    expect_error(shardlyn, admin.put(f"/v1/admin/subscriptions/{mine['id']}", {"status": "gone"}), 400, "status")
    expect_error(shardlyn, admin.put(f"/v1/admin/subscriptions/{mine['id']}", {"plan_id": str(uuid.uuid4())}), 400)
    expect_error(shardlyn, admin.put(f"/v1/admin/subscriptions/{uuid.uuid4()}", {"status": "active"}), 404)
    expect_error(shardlyn, admin.delete(f"/v1/admin/plans/{plan['id']}"), 409)
    expect(admin.put(f"/v1/admin/subscriptions/{mine['id']}", {"plan_id": FREE_PLAN}), 200)
    expect(admin.delete(f"/v1/admin/plans/{plan['id']}"), 204)
    expect_error(shardlyn, admin.delete(f"/v1/admin/plans/{plan['id']}"), 404)


def test_audit_log_listing_and_export(shardlyn):
    admin = shardlyn.admin
    user = register(shardlyn, "audited")
    shardlyn.request("POST", "/v1/auth/login", json={"email": user.email, "password": "not-the-password"})
    page = expect(admin.get("/v1/admin/audit-logs", params={"action": "auth.login_failed", "per_page": 200}), 200)
    assert any(e["user_id"] == user.id for e in page["items"])
    assert all(e["action"] == "auth.login_failed" for e in page["items"])
    mine = expect(admin.get("/v1/admin/audit-logs", params={"organization_id": user.org}), 200)["items"]
    assert {e["action"] for e in mine} >= {"auth.register"}
    expect_error(shardlyn, admin.get("/v1/admin/audit-logs", params={"from": "yesterday"}), 400, "from")
    r = admin.get("/v1/admin/audit-logs/export", params={"action": "auth.register"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all(row["action"] == "auth.register" for row in rows)
    assert user.id in {row["user_id"] for row in rows}
    as_json = expect(admin.get("/v1/admin/audit-logs/export", params={"format": "json", "action": "auth.register"}),
                     200)
    assert [e["id"] for e in as_json] == [row["id"] for row in rows]
    expect_error(shardlyn, admin.get("/v1/admin/audit-logs/export", params={"format": "xml"}), 400, "format")
    exported = expect(admin.get("/v1/admin/audit-logs", params={"action": "admin.audit_exported"}), 200)
    assert exported["total"] >= 2


def test_log_settings(shardlyn):
    admin = shardlyn.admin
    assert expect(admin.get("/v1/admin/settings/logs"), 200) == {"level": "info"}
    assert expect(admin.put("/v1/admin/settings/logs", {"level": "debug"}), 200) == {"level": "debug"}
    assert expect(admin.get("/v1/admin/settings/logs"), 200) == {"level": "debug"}
    expect_error(shardlyn, admin.put("/v1/admin/settings/logs", {"level": "loud"}), 400, "level")
    expect(admin.put("/v1/admin/settings/logs", {"level": "info"}), 200)


# --- settings, ssh keys, webhook tokens ---------------------------------------------------------


def test_settings_and_ssh_keys(shardlyn, tmp_path):
    owner = register(shardlyn, "settings")
    settings = expect(owner.get("/v1/settings"), 200)
    assert settings["organization_id"] == owner.org and settings["ssh_keys"] == []
    updated = expect(owner.put("/v1/settings", {"default_provider": "hetzner", "default_region": "fsn1"}), 200)
    assert updated["default_provider"] == "hetzner" and updated["default_region"] == "fsn1"
    expect_error(shardlyn, owner.put("/v1/settings", {"default_provider": "azure"}), 400, "default_provider")
    expect_error(shardlyn, owner.put("/v1/settings", {}), 400)
    assert expect(owner.put("/v1/settings", {"default_region": None}), 200)["default_region"] is None

    key_file = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops@test", "-f", str(key_file)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "id_ed25519.pub")],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    key = expect(owner.post("/v1/settings/ssh-keys", {"name": "ops", "public_key": public}), 201)
    assert key["fingerprint"] == fingerprint and key["is_default"] is True
    expect_error(shardlyn, owner.post("/v1/settings/ssh-keys", {"name": "ops", "public_key": public}), 409)
    expect_error(shardlyn, owner.post("/v1/settings/ssh-keys", {"name": "bad", "public_key": "ssh-ed25519 AAAA"}),
                 400, "public_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "second")], check=True)
    second = (tmp_path / "second.pub").read_text().strip()
    assert expect(owner.post("/v1/settings/ssh-keys", {"name": "ci", "public_key": second}), 201)["is_default"] is False
    assert expect(owner.post("/v1/settings/ssh-keys/ci/default"), 200)["is_default"] is True
    keys = {k["name"]: k["is_default"] for k in expect(owner.get("/v1/settings"), 200)["ssh_keys"]}
    assert keys == {"ops": False, "ci": True}
    expect_error(shardlyn, owner.post("/v1/settings/ssh-keys/nope/default"), 404)
    expect(owner.delete("/v1/settings/ssh-keys/ops"), 204)
    expect_error(shardlyn, owner.delete("/v1/settings/ssh-keys/ops"), 404)


def test_webhook_tokens(shardlyn):
    owner = register(shardlyn, "hooks")
    created = expect(owner.post("/v1/webhook-tokens", {"name": "gitlab"}), 201)
    assert created["token"].startswith("shardlyn_whk_") and created["last_four"] == created["token"][-4:]
    expect_error(shardlyn, owner.post("/v1/webhook-tokens", {"name": "gitlab"}), 409)
    expect_error(shardlyn, owner.post("/v1/webhook-tokens", {}), 400, "name")
    listed = expect(owner.get("/v1/webhook-tokens"), 200)["items"]
    assert [t["id"] for t in listed] == [created["id"]] and "token" not in listed[0]
    expect(owner.delete(f"/v1/webhook-tokens/{created['id']}"), 204)
    expect_error(shardlyn, owner.delete(f"/v1/webhook-tokens/{created['id']}"), 404)


# --- support and system ------------------------------------------------------------------------


def test_support_messages_and_helpscout(launch):
    secret = "helpscout-secret-value"
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_HELPSCOUT_SECRET": secret,
                                         "SHARDLYN_SUPPORT_EMAIL": "support@shardlyn.test",
                                         "SHARDLYN_SUPPORT_RATE_LIMIT": "2/h"})
    bootstrap(server)
    user = register(server, "helpme")
    sent = expect(user.post("/v1/support/messages", {"subject": "Server down", "message": "Line one\nline two"}), 201)
    assert sent["mailed"] is True
    mail = outbox(server, "support@shardlyn.test")[-1]
    assert mail["Subject"] == "[Support] Server down" and user.email in mail.get_content()
    expect_error(server, user.post("/v1/support/messages", {"subject": "no body"}), 400, "message")
    expect_error(server, user.post("/v1/support/messages", {"subject": "third", "message": "x"}), 429)
    signature = expect(user.get("/v1/support/helpscout/signature"), 200)
    assert signature["signature"] == hmac.new(secret.encode(), user.id.encode(), hashlib.sha256).hexdigest()


def test_helpscout_without_secret_is_501(shardlyn):
    user = register(shardlyn, "nohs")
    expect_error(shardlyn, user.get("/v1/support/helpscout/signature"), 501, "SHARDLYN_HELPSCOUT_SECRET")
    assert expect(user.post("/v1/support/messages", {"subject": "hi", "message": "hello"}), 201)["mailed"] is False


def test_system_backups(launch, tmp_path):
    backups = tmp_path / "backups"
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_SYSTEM_BACKUP_DIR": str(backups),
                                         "SHARDLYN_SYSTEM_BACKUP_INTERVAL_S": "1", "SHARDLYN_SYSTEM_BACKUP_KEEP": "2"})
    admin = bootstrap(server)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(list(backups.glob("shardlyn-*.db"))) < 2:
        time.sleep(0.2)
    config = expect(admin.get("/v1/system/backup-config"), 200)
    assert config["enabled"] is True and config["directory"] == str(backups) and config["keep"] == 2
    assert 1 <= len(config["backups"]) <= 2 and config["backups"][0]["bytes"] > 0
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(backups / config["backups"][0]["file"])) as db:
        assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
    expect_error(server, register(server, "plain").get("/v1/system/backup-config"), 403)


# --- durability ------------------------------------------------------------------------------


def test_kill_9_during_a_burst_of_writes_loses_nothing_acknowledged(launch):
    server = launch("shardlyn-api", env=SHARDLYN_ENV)
    admin = bootstrap(server)
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        for i in range(200):
            if stop.is_set():
                return
            try:
                r = admin.post("/v1/webhook-tokens", {"name": f"w{n}-{i}"}, timeout=5)
            except Exception:
                return
            if r.status_code == 201:
                with lock:
                    acknowledged.append(r.json()["id"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= 40:
                break
        time.sleep(0.01)
    server.process.kill()
    server.process.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert len(acknowledged) >= 40
    restarted = launch("shardlyn-api", env=SHARDLYN_ENV, data_dir=server.data_dir)
    admin.server = restarted
    fresh = login(restarted, admin.email)
    stored = {t["id"] for t in expect(restarted.get("/v1/webhook-tokens", headers=bearer(fresh["access_token"])),
                                      200)["items"]}
    assert set(acknowledged) <= stored
