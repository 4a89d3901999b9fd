"""auth-server TOTP two-factor: setup, confirmation, login with TOTP and backup codes (each
usable once), disabling, status; codes generated independently with pyotp and oathtool.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_totp.py
"""
import base64
import re
import subprocess
import time
import urllib.parse

import pyotp
import pytest

from auth_helpers import (AUTH_ENV, PASSWORD, bearer, error_of, login, mails, ok_data, post, query, register, unique_email)


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env=AUTH_ENV)


def setup_totp(server, reg, password=PASSWORD):
    return post(server, "/api/auth/totp/setup", {"password": password}, token=reg["token"])


def status(server, reg):
    return ok_data(server.get("/api/auth/totp/status", headers=bearer(reg["token"])))


def enabled_account(server):
    """A registered account with two-factor on: (registration, email, pyotp.TOTP, backup codes)."""
    addr = unique_email("2fa")
    reg = register(server, addr)
    data = ok_data(setup_totp(server, reg))
    totp = pyotp.TOTP(data["secret"])
    totp.confirmed_with = totp.now()
    ok_data(post(server, "/api/auth/totp/verify", {"code": totp.confirmed_with}, token=reg["token"]))
    return reg, addr, totp, data["backupCodes"]


def login_2fa(server, addr, **factor):
    return post(server, "/api/auth/login", {"email": addr, "password": PASSWORD, **factor})


def test_setup_returns_secret_uri_and_backup_codes(server):
    addr = unique_email("setup")
    reg = register(server, addr)
    assert status(server, reg) == {"enabled": False, "backupCodesRemaining": 0}
    error_of(server, setup_totp(server, reg, "wrong password"), 401, "invalid_credentials")
    error_of(server, post(server, "/api/auth/totp/setup", {}, token=reg["token"]), 400, "validation_error")
    error_of(server, post(server, "/api/auth/totp/setup", {"password": PASSWORD}), 401, "unauthorized")
    data = ok_data(setup_totp(server, reg))
    assert set(data) == {"secret", "otpauthUri", "backupCodes"}
    raw = base64.b32decode(data["secret"] + "=" * (-len(data["secret"]) % 8))
    assert len(raw) == 20
    uri = urllib.parse.urlparse(data["otpauthUri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert urllib.parse.unquote(uri.path) == f"/Panguard:{addr}"
    params = dict(urllib.parse.parse_qsl(uri.query))
    assert params["secret"] == data["secret"] and params["issuer"] == "Panguard"
    assert pyotp.parse_uri(data["otpauthUri"]).secret == data["secret"]
    codes = data["backupCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", c) for c in codes)
    # still off until a code confirms it
    assert status(server, reg)["enabled"] is False
    assert ok_data(login(server, addr))["token"]
    # stored sealed: neither the raw secret nor the codes appear in the database
    [row] = query(server, "SELECT secret_sealed, enabled FROM totp WHERE user_id = ?", reg["user"]["id"])
    assert row["enabled"] == 0
    assert raw not in row["secret_sealed"] and data["secret"].encode() not in row["secret_sealed"]
    assert len(row["secret_sealed"]) == 12 + 20 + 16
    hashes = [r["code_hash"] for r in query(server, "SELECT code_hash FROM backup_codes WHERE user_id = ?",
                                            reg["user"]["id"])]
    assert len(hashes) == 10
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in hashes)


def test_verify_enables_and_matches_oathtool(server):
    reg = register(server)
    data = ok_data(setup_totp(server, reg))
    totp = pyotp.TOTP(data["secret"])
    oath = subprocess.run(["oathtool", "--totp", "-b", data["secret"]], capture_output=True, text=True, check=True)
    assert oath.stdout.strip() == totp.now() or oath.stdout.strip() == totp.at(time.time() - 1)
    wrong = wrong_code(totp)
    error_of(server, post(server, "/api/auth/totp/verify", {"code": wrong}, token=reg["token"]), 400, "invalid_code")
    error_of(server, post(server, "/api/auth/totp/verify", {"code": 123456}, token=reg["token"]), 400,
             "validation_error")
    error_of(server, post(server, "/api/auth/totp/verify", {"code": "abcdef"}, token=reg["token"]), 400, "invalid_code")
    ok_data(post(server, "/api/auth/totp/verify", {"code": oath.stdout.strip()}, token=reg["token"]))
    assert status(server, reg) == {"enabled": True, "backupCodesRemaining": 10}
    me = ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))
    assert me["user"]["twoFactorEnabled"] is True
    # already on: setup and verify are conflicts
    error_of(server, setup_totp(server, reg), 409, "conflict")
    error_of(server, post(server, "/api/auth/totp/verify", {"code": totp.now()}, token=reg["token"]), 409)
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ?", reg["user"]["id"])]
    assert "totp.enabled" in actions


def test_verify_without_setup_is_a_conflict(server):
    reg = register(server)
    error_of(server, post(server, "/api/auth/totp/verify", {"code": "123456"}, token=reg["token"]), 409, "conflict")


def test_login_requires_the_second_factor(server):
    reg, addr, totp, _ = enabled_account(server)
    sessions_before = len(query(server, "SELECT id FROM sessions WHERE user_id = ?", reg["user"]["id"]))
    r = ok_data(login(server, addr))
    assert r == {"requiresTwoFactor": True}
    assert len(query(server, "SELECT id FROM sessions WHERE user_id = ?", reg["user"]["id"])) == sessions_before
    # the password is still checked first
    error_of(server, post(server, "/api/auth/login", {"email": addr, "password": "wrong password",
                                                      "totpCode": totp.now()}), 401, "invalid_credentials")
    # the code that confirmed setup cannot be used again
    error_of(server, login_2fa(server, addr, totpCode=totp.confirmed_with), 401, "invalid_code")
    # the next step's code works (within the +-1 step window) ... once
    nxt = totp.at(time.time() + 30)
    data = ok_data(login_2fa(server, addr, totpCode=nxt))
    assert data["user"]["twoFactorEnabled"] is True and data["token"]
    error_of(server, login_2fa(server, addr, totpCode=nxt), 401, "invalid_code")
    # an older step is refused after a newer one was used
    error_of(server, login_2fa(server, addr, totpCode=totp.at(time.time() - 30)), 401, "invalid_code")
    error_of(server, login_2fa(server, addr, totpCode=wrong_code(totp)), 401, "invalid_code")
    error_of(server, login_2fa(server, addr, totpCode=12), 400, "validation_error")


def test_backup_codes_are_single_use(server):
    reg, addr, totp, codes = enabled_account(server)
    data = ok_data(login_2fa(server, addr, backupCode=codes[0]))
    assert data["token"]
    error_of(server, login_2fa(server, addr, backupCode=codes[0]), 401, "invalid_code")
    # case and dashes do not matter
    ok_data(login_2fa(server, addr, backupCode=codes[1].upper().replace("-", "")))
    error_of(server, login_2fa(server, addr, backupCode="aaaaa-aaaaa"), 401, "invalid_code")
    assert status(server, reg) == {"enabled": True, "backupCodesRemaining": 8}
    used = query(server, "SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = ? AND used_at IS NOT NULL",
                 reg["user"]["id"])
    assert used[0]["n"] == 2
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ?", reg["user"]["id"])]
    assert actions.count("totp.backup_code_used") == 2


def test_wrong_codes_count_towards_the_lockout(server):
    reg, addr, totp, _ = enabled_account(server)
    for _ in range(5):
        error_of(server, login_2fa(server, addr, totpCode=wrong_code(totp)), 401, "invalid_code")
    # locked: even the right password and code get the wrong-password answer
    error_of(server, login_2fa(server, addr, totpCode=totp.at(time.time() + 30)), 401, "invalid_credentials")
    assert len(mails(server, to=addr, kind="account-locked")) == 1
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ? ORDER BY seq",
                                          reg["user"]["id"])]
    assert actions.count("login.wrong_code") == 5 and actions.count("account.locked") == 1
    assert actions[-1] == "login.locked" and "totp.setup_started" in actions and "totp.enabled" in actions


def test_disable(server):
    reg, addr, totp, codes = enabled_account(server)
    error_of(server, post(server, "/api/auth/totp/disable", {"password": "wrong password", "code": codes[0]},
                          token=reg["token"]), 401, "invalid_credentials")
    error_of(server, post(server, "/api/auth/totp/disable", {"password": PASSWORD, "code": "aaaaa-aaaaa"},
                          token=reg["token"]), 401, "invalid_code")
    error_of(server, post(server, "/api/auth/totp/disable", {"password": PASSWORD}, token=reg["token"]), 400,
             "validation_error")
    assert status(server, reg)["enabled"] is True
    ok_data(post(server, "/api/auth/totp/disable", {"password": PASSWORD, "code": codes[3]}, token=reg["token"]))
    assert status(server, reg) == {"enabled": False, "backupCodesRemaining": 0}
    assert not query(server, "SELECT * FROM totp WHERE user_id = ?", reg["user"]["id"])
    assert not query(server, "SELECT * FROM backup_codes WHERE user_id = ?", reg["user"]["id"])
    assert "token" in ok_data(login(server, addr))
    error_of(server, post(server, "/api/auth/totp/disable", {"password": PASSWORD, "code": totp.now()},
                          token=reg["token"]), 409, "conflict")
    actions = [r["action"] for r in query(server, "SELECT action FROM audit_log WHERE user_id = ?", reg["user"]["id"])]
    assert "totp.disabled" in actions


def test_disable_with_a_totp_code(server):
    reg, addr, totp, _ = enabled_account(server)
    ok_data(post(server, "/api/auth/totp/disable", {"password": PASSWORD, "code": totp.at(time.time() + 30)},
                 token=reg["token"]))
    assert status(server, reg)["enabled"] is False


def test_setup_again_before_verify_starts_over(server):
    reg = register(server)
    first = ok_data(setup_totp(server, reg))
    second = ok_data(setup_totp(server, reg))
    assert first["secret"] != second["secret"]
    assert not set(first["backupCodes"]) & set(second["backupCodes"])
    error_of(server, post(server, "/api/auth/totp/verify", {"code": pyotp.TOTP(first["secret"]).now()},
                          token=reg["token"]), 400, "invalid_code")
    ok_data(post(server, "/api/auth/totp/verify", {"code": pyotp.TOTP(second["secret"]).now()}, token=reg["token"]))


def wrong_code(totp):
    """A code matching none of the steps the server accepts now."""
    valid = {totp.at(time.time() + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in valid)


def test_totp_attempts_are_limited_per_user(launch):
    env = {**AUTH_ENV}
    del env["AUTH_TOTP_LIMIT"]
    server = launch("auth-server", env=env)
    reg = register(server)
    other = register(server)
    totp = pyotp.TOTP(ok_data(setup_totp(server, reg))["secret"])  # setup counts too: 4 attempts left
    for _ in range(4):
        error_of(server, post(server, "/api/auth/totp/verify", {"code": wrong_code(totp)}, token=reg["token"]), 400,
                 "invalid_code")
    r = post(server, "/api/auth/totp/verify", {"code": totp.now()}, token=reg["token"])
    error_of(server, r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    assert status(server, reg)["enabled"] is False
    # counted per user, not per IP
    error_of(server, post(server, "/api/auth/totp/verify", {"code": "000000"}, token=other["token"]), 409)


def test_secrets_are_sealed_with_the_configured_key(launch):
    """The sealed secret opens with AES-256-GCM under TOTP_ENCRYPTION_KEY (the user id as
    associated data), checked with the independent `cryptography` package; after a restart with
    the same key two-factor logins keep working."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = "0123456789abcdef" * 4
    server = launch("auth-server", env={**AUTH_ENV, "TOTP_ENCRYPTION_KEY": key})
    addr = unique_email("sealed")
    reg = register(server, addr)
    secret = ok_data(setup_totp(server, reg))["secret"]
    totp = pyotp.TOTP(secret)
    ok_data(post(server, "/api/auth/totp/verify", {"code": totp.now()}, token=reg["token"]))
    [row] = query(server, "SELECT secret_sealed FROM totp WHERE user_id = ?", reg["user"]["id"])
    sealed = bytes(row["secret_sealed"])
    nonce, ciphertext = sealed[:12], sealed[12:]
    opened = AESGCM(bytes.fromhex(key)).decrypt(nonce, ciphertext, reg["user"]["id"].encode())
    assert opened == base64.b32decode(secret + "=" * (-len(secret) % 8))
    with pytest.raises(InvalidTag):  # bound to its account
        AESGCM(bytes.fromhex(key)).decrypt(nonce, ciphertext, b"usr_someone_else")
    server.stop()
    again = launch("auth-server", env={**AUTH_ENV, "TOTP_ENCRYPTION_KEY": key}, data_dir=server.data_dir)
    # the next step's code (accepted within +-1 step; the current one was spent on setup)
    ok_data(post(again, "/api/auth/login", {"email": addr, "password": PASSWORD,
                                            "totpCode": totp.at(time.time() + 30)}))
