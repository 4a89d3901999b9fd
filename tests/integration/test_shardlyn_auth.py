"""shardlyn-api Auth and MFA Endpoints, driven with requests, PyJWT and pyotp: bootstrap once,
registration, login, refresh rotation with reuse detection, lockout, rate limits, the TOTP
challenge, password changes and GitHub OAuth against a local stand-in server.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_auth.py
"""
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from contextlib import closing

import jwt
import pyotp
import pytest
import requests
from timing_helpers import compare

from conftest import binary
from shardlyn_helpers import (JWT_SECRET, PASSWORD, SHARDLYN_ENV, Account, GitHubStandIn, bearer, bootstrap, expect,
                              expect_error, login, mailed_token, outbox, register, shardlyn, unique_email,
                              verify_address, wait_for_mail)  # noqa: F401 (fixture)


def post(server, path, body, **kw):
    return server.request("POST", path, json=body, **kw)


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_creates_the_first_admin_once(launch):
    server = launch("shardlyn-api", env=SHARDLYN_ENV)
    assert expect(server.get("/v1/auth/bootstrap/status"), 200) == {"needs_bootstrap": True}
    expect_error(server, post(server, "/v1/auth/bootstrap", {"email": "nope", "password": PASSWORD, "name": "A"}),
                 400, "email")
    expect_error(server, post(server, "/v1/auth/bootstrap", {"email": "a@example.com", "password": PASSWORD,
                                                             "name": ""}), 400, "name")
    # The name is optional, as for registration (default: the address's local part).
    user = expect(post(server, "/v1/auth/bootstrap", {"email": "Admin@Example.com", "password": PASSWORD}), 201)
    assert user["is_admin"] is True and user["email"] == "admin@example.com" and user["name"] == "admin"
    assert user["email_verified"] is True  # the operator's address
    assert expect(server.get("/v1/auth/bootstrap/status"), 200) == {"needs_bootstrap": False}
    expect_error(server, post(server, "/v1/auth/bootstrap", {"email": "b@example.com", "password": PASSWORD,
                                                             "name": "B"}), 409)
    # The admin signs in and owns an organisation of their own.
    admin = Account(server, "admin@example.com", PASSWORD, login(server, "admin@example.com"))
    assert expect(admin.get("/v1/admin/metrics"), 200)["platform_admins"] == 1


def test_concurrent_bootstraps_create_exactly_one_admin(launch):
    server = launch("shardlyn-api", env=SHARDLYN_ENV)
    results = []

    def attempt(i):
        r = post(server, "/v1/auth/bootstrap", {"email": f"a{i}@example.com", "password": PASSWORD, "name": "A"})
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 5


# --- register and login ----------------------------------------------------------------------


def test_registering_a_taken_address_answers_like_a_new_one(shardlyn):
    """Registration does not tell which addresses have an account: a taken address gets the
    same status, headers and shape (an id naming no account), after the same hash; nothing
    changes, and the address's owner is mailed instead."""
    owner = register(shardlyn, "taken")
    new = post(shardlyn, "/v1/auth/register", {"email": unique_email("fresh"), "password": PASSWORD, "name": "N"})
    taken = post(shardlyn, "/v1/auth/register", {"email": owner.email, "password": "another password", "name": "N"})
    assert new.status_code == taken.status_code == 201
    a, b = new.json(), taken.json()
    assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}
    assert {k: v for k, v in a.items() if k not in ("id", "email", "created_at")} == \
           {k: v for k, v in b.items() if k not in ("id", "email", "created_at")}
    assert b["id"] != owner.id and b["email"] == owner.email
    strip = lambda r: sorted(k.lower() for k in r.headers)
    assert strip(new) == strip(taken)
    assert wait_for_mail(shardlyn, owner.email, "register-existing")
    login(shardlyn, owner.email)  # unchanged
    expect_error(shardlyn, post(shardlyn, "/v1/auth/login", {"email": owner.email, "password": "another password"}),
                 401)
    expect_error(shardlyn, shardlyn.admin.get(f"/v1/users/{b['id']}"), 404)


def test_forgot_password_takes_the_same_time_for_unknown_addresses(shardlyn):
    """Both branches record the request and answer; the lookup and the mail come after the
    answer. Over 30 interleaved tries each, the unknown address is not systematically faster
    (the old 0.6 ms against 1.8 ms never overlapped); the account still gets every link."""
    account = register(shardlyn, "timing")
    session = requests.Session()  # one connection: no setup time in the figures
    send = lambda who: lambda: session.post(shardlyn.url("/v1/auth/forgot-password"), json={"email": who})
    answers, unknown_faster = compare(send(unique_email("ghost")), send(account.email))
    assert len(answers) == 1, answers
    assert unknown_faster < 0.85, unknown_faster
    assert len(wait_for_mail(shardlyn, account.email, "reset-password", 30)) == 30
    assert db_rows(shardlyn, "SELECT COUNT(*) FROM reset_requests") == [(0,)]  # all handled


def test_register_and_login_return_the_seed_shapes(shardlyn):
    email = unique_email("reg")
    user = expect(post(shardlyn, "/v1/auth/register", {"email": email, "password": PASSWORD}), 201)
    assert user["email"] == email and user["is_admin"] is False and user["mfa_enabled"] is False
    assert user["email_verified"] is False
    expect_error(shardlyn, post(shardlyn, "/v1/auth/register", {"email": unique_email(), "password": "short"}), 400,
                 "password")
    r = shardlyn.request("POST", "/v1/auth/register", data="{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415

    tokens = login(shardlyn, email)
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["expires_in"] == 900 and tokens["token_type"] == "Bearer"
    claims = jwt.decode(tokens["access_token"], JWT_SECRET, algorithms=["HS256"], issuer="shardlyn")
    assert claims["sub"] == user["id"] and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    me = expect(shardlyn.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)
    assert me["id"] == user["id"] and len(me["organizations"]) == 1 and me["organizations"][0]["role"] == "owner"


def test_login_errors(shardlyn):
    account = register(shardlyn, "login")
    expect_error(shardlyn, post(shardlyn, "/v1/auth/login", {"email": account.email, "password": "wrong-password"}),
                 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/login", {"email": unique_email(), "password": PASSWORD}), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/login", {"email": account.email}), 400, "password")
    r = post(shardlyn, "/v1/auth/login", {"email": account.email, "password": "wrong-password"})
    assert r.headers.get("WWW-Authenticate") == "Bearer"


def test_tokens_forged_or_expired_are_401(shardlyn):
    account = register(shardlyn, "forge")
    claims = jwt.decode(account.access, JWT_SECRET, algorithms=["HS256"], issuer="shardlyn")
    expired = jwt.encode({**claims, "iat": claims["iat"] - 2000, "exp": claims["iat"] - 1000}, JWT_SECRET,
                         algorithm="HS256")
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(expired)), 401)
    forged = jwt.encode(claims, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(forged)), 401)
    expect_error(shardlyn, shardlyn.get("/v1/users/me"), 401)


def test_lockout_after_repeated_failures(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOCKOUT_THRESHOLD": "3",
                                         "SHARDLYN_LOCKOUT_SECONDS": "3600"})
    admin = bootstrap(server)
    account = register(server, "locked")
    for _ in range(3):
        expect_error(server, post(server, "/v1/auth/login", {"email": account.email, "password": "bad-password"}), 401)
    # Locked: even the right password gets the wrong-password answer, and the lock holds.
    r = post(server, "/v1/auth/login", {"email": account.email, "password": PASSWORD})
    assert expect_error(server, r, 401) == "invalid email or password"
    assert "Retry-After" not in r.headers
    locked_until = db_row(server, "SELECT locked_until FROM users WHERE email = ?", account.email)[0]
    assert 3500 <= locked_until - time.time() <= 3600
    # The owner was told once, with the end of the lock.
    [mail] = [m for m in outbox(server, account.email) if m["X-Shardlyn-Mail"] == "account-locked"]
    text = mail.get_content()
    assert "locked after 3 failed sign-ins until " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(locked_until)) in text
    assert "reset your password" in text
    actions = [row[0] for row in db_rows(server, "SELECT action FROM audit_log ORDER BY seq")]
    assert actions.count("auth.account_locked") == 1 and actions[-1] == "auth.login_locked"
    # Other accounts are unaffected.
    login(server, admin.email)


def test_lockout_length_is_read_under_its_current_and_former_name(launch):
    """SHARDLYN_LOCKOUT_S sets the first lock; the former SHARDLYN_LOCKOUT_SECONDS still works,
    with a deprecation warning at start, and --help names it."""
    for name, seconds in (("SHARDLYN_LOCKOUT_S", 1800), ("SHARDLYN_LOCKOUT_SECONDS", 2400)):
        server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOCKOUT_THRESHOLD": "1", name: str(seconds)})
        bootstrap(server)
        account = register(server, "lock-" + name.lower().replace("_", "-"))
        expect_error(server, post(server, "/v1/auth/login", {"email": account.email, "password": "bad-password"}), 401)
        locked_until = db_row(server, "SELECT locked_until FROM users WHERE email = ?", account.email)[0]
        assert seconds - 100 <= locked_until - time.time() <= seconds
        deprecated = "SHARDLYN_LOCKOUT_SECONDS is deprecated; use SHARDLYN_LOCKOUT_S" in server.log_text()
        assert deprecated == (name == "SHARDLYN_LOCKOUT_SECONDS")
    help_text = subprocess.run([str(binary("shardlyn-api")), "--help"], capture_output=True, text=True,
                               timeout=30, check=True).stdout
    assert "SHARDLYN_LOCKOUT_S" in help_text and "(formerly SHARDLYN_LOCKOUT_SECONDS)" in help_text


def db_rows(server, sql, *args):
    with closing(sqlite3.connect(server.data_dir / "shardlyn.db", timeout=10, isolation_level=None)) as db:
        return db.execute(sql, args).fetchall()


def db_row(server, sql, *args):
    return db_rows(server, sql, *args)[0]


def test_a_locked_account_answers_like_an_unknown_address(launch):
    """Repeated failures do not tell whether an address has an account: while locked, an
    account answers exactly like an unknown address (right password or not), and both ran the
    password hash (the same order of time as a wrong password on an unlocked account)."""
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOCKOUT_THRESHOLD": "3",
                                         "SHARDLYN_LOCKOUT_SECONDS": "3600"})
    bootstrap(server)
    target, reference, ghost = register(server, "target"), register(server, "reference"), unique_email("ghost")
    for _ in range(3):
        for who in (target.email, ghost):
            expect_error(server, post(server, "/v1/auth/login", {"email": who, "password": "bad-password"}), 401)

    def timed(who, password):
        started = time.perf_counter()
        r = post(server, "/v1/auth/login", {"email": who, "password": password})
        return r, time.perf_counter() - started

    varying = {"date", "x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}
    answers, times = set(), {"locked": [], "locked-right-password": [], "unknown": [], "reference": []}
    for _ in range(5):  # interleaved, so that a burst of machine load hits all kinds alike
        for kind, who, password in (("locked", target.email, "bad-password"),
                                    ("locked-right-password", target.email, PASSWORD),
                                    ("unknown", ghost, "bad-password"),
                                    ("reference", reference.email, "bad-password")):
            r, took = timed(who, password)
            expect_error(server, r, 401)
            answers.add(repr((r.status_code, r.json(),
                              sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() not in varying))))
            times[kind].append(took)
        db_rows(server, "UPDATE users SET failed_logins = 0 WHERE email = ?", reference.email)
    assert len(answers) == 1, answers
    medians = {kind: sorted(t)[len(t) // 2] for kind, t in times.items()}
    assert max(medians.values()) < 10 * min(medians.values()), medians  # same order of magnitude
    # The lock holds; one mail to the owner, none to the unknown address.
    assert db_row(server, "SELECT failed_logins, locked_until > strftime('%s','now') FROM users WHERE email = ?",
                  target.email) == (3, 1)
    assert len([m for m in outbox(server, target.email) if m["X-Shardlyn-Mail"] == "account-locked"]) == 1
    assert outbox(server, ghost) == []


@pytest.fixture
def launch_with_admin(launch):
    def start(env):
        server = launch("shardlyn-api", env=env)
        admin = bootstrap(server)
        server.admin_email = admin.email
        return server
    return start


def test_login_rate_limit_with_headers(launch_with_admin):
    # 4 per hour: the same bucket as 4/min, but no refill while a loaded machine hashes passwords.
    server = launch_with_admin({**SHARDLYN_ENV, "SHARDLYN_LOGIN_RATE_LIMIT": "4/h"})
    # bootstrap + login of the helper used 2 of 4.
    r = post(server, "/v1/auth/login", {"email": "nobody@example.com", "password": "x"})
    assert r.status_code == 401
    assert r.headers["X-RateLimit-Limit"] == "4"
    assert int(r.headers["X-RateLimit-Remaining"]) <= 1
    assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())
    statuses = [post(server, "/v1/auth/login", {"email": "nobody@example.com", "password": "x"}).status_code
                for _ in range(3)]
    assert statuses[-1] == 429
    r = post(server, "/v1/auth/login", {"email": "nobody@example.com", "password": "x"})
    expect_error(server, r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # The general limit's headers are on ordinary responses too.
    assert "X-RateLimit-Limit" in server.get("/v1/auth/bootstrap/status").headers


def test_general_rate_limit_per_second_with_burst(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_RATE_LIMIT": "1/min:5"})
    codes = [server.get("/v1/auth/bootstrap/status").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429


# --- refresh rotation ------------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_family(shardlyn):
    account = register(shardlyn, "refresh")
    first = login(shardlyn, account.email)
    second = expect(post(shardlyn, "/v1/auth/refresh", {"refresh_token": first["refresh_token"]}), 200)
    assert second["expires_in"] == 900 and second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    expect(shardlyn.get("/v1/users/me", headers=bearer(second["access_token"])), 200)
    # Presenting the rotated-away token again: refused, and the whole session ends.
    expect_error(shardlyn, post(shardlyn, "/v1/auth/refresh", {"refresh_token": first["refresh_token"]}), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/refresh", {"refresh_token": second["refresh_token"]}), 401)
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(second["access_token"])), 401)
    # Other sessions of the account live on.
    expect(account.get("/v1/users/me"), 200)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/refresh", {"refresh_token": "not-a-token"}), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/refresh", {}), 400, "refresh_token")


def test_logout_ends_the_session_and_its_refresh_token(shardlyn):
    account = register(shardlyn, "logout")
    other = login(shardlyn, account.email)
    expect(account.post("/v1/auth/logout"), 204)
    expect_error(shardlyn, account.get("/v1/users/me"), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/refresh", {"refresh_token": account.refresh}), 401)
    expect(shardlyn.get("/v1/users/me", headers=bearer(other["access_token"])), 200)


# --- password ------------------------------------------------------------------------------


def test_password_change_ends_other_sessions(shardlyn):
    account = register(shardlyn, "pw")
    other = login(shardlyn, account.email)
    expect_error(shardlyn, account.post("/v1/users/me/password", {"current_password": "wrong-one",
                                                                  "new_password": "another password"}), 401)
    expect_error(shardlyn, account.post("/v1/users/me/password", {"current_password": PASSWORD,
                                                                  "new_password": "short"}), 400, "new_password")
    expect(account.post("/v1/users/me/password", {"current_password": PASSWORD,
                                                  "new_password": "another password"}), 200)
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(other["access_token"])), 401)
    expect(account.get("/v1/users/me"), 200)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}), 401)
    login(shardlyn, account.email, "another password")


# --- MFA -------------------------------------------------------------------------------------


def enable_mfa(account):
    enrolment = expect(account.post("/v1/auth/mfa/enroll"), 200)
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    assert len(enrolment["backup_codes"]) == 10
    totp = pyotp.TOTP(enrolment["secret"])
    assert expect(account.post("/v1/auth/mfa/verify", {"code": totp.now()}), 200) == {"enabled": True}
    return totp, enrolment["backup_codes"]


def next_code(totp):
    """A code of the next time step (codes are single use; +-1 step is accepted)."""
    return totp.at(time.time() + 30)


def test_mfa_enrolment_and_login_challenge(shardlyn):
    account = register(shardlyn, "mfa")
    assert expect(account.get("/v1/auth/mfa/status"), 200)["enabled"] is False
    expect_error(shardlyn, account.post("/v1/auth/mfa/disable", {"code": "123456"}), 409)
    enrolment = expect(account.post("/v1/auth/mfa/enroll"), 200)
    # A wrong code is 401 here as on the challenge (one rule for every route taking a code).
    expect_error(shardlyn, account.post("/v1/auth/mfa/verify", {"code": "000000"}), 401, "code")
    expect_error(shardlyn, account.post("/v1/auth/mfa/verify", {}), 400, "code")
    totp = pyotp.TOTP(enrolment["secret"])
    expect(account.post("/v1/auth/mfa/verify", {"code": totp.now()}), 200)
    status = expect(account.get("/v1/auth/mfa/status"), 200)
    assert status == {"enabled": True, "backup_codes_remaining": 10}
    expect_error(shardlyn, account.post("/v1/auth/mfa/enroll"), 409)

    r = expect(post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}), 200)
    assert r["mfa_required"] is True and "access_token" not in r and "refresh_token" not in r
    challenge = r["challenge_token"]
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": "000000"}), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": "x.y.z",
                                                                     "code": next_code(totp)}), 401)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge}), 400)
    tokens = expect(post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                              "code": next_code(totp)}), 200)
    assert tokens["expires_in"] == 900 and tokens["token_type"] == "Bearer"
    expect(shardlyn.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)
    # A challenge token is not an access token.
    expect_error(shardlyn, shardlyn.get("/v1/users/me", headers=bearer(challenge)), 401)


def test_mfa_challenge_expires(shardlyn):
    account = register(shardlyn, "mfaexp")
    enable_mfa(account)
    now = int(time.time())
    stale = jwt.encode({"sub": account.id, "typ": "mfa_challenge", "iss": "shardlyn", "iat": now - 400,
                        "exp": now - 100}, JWT_SECRET, algorithm="HS256")
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": stale, "code": "123456"}),
                 401, "challenge")
    fresh = expect(post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}), 200)
    claims = jwt.decode(fresh["challenge_token"], JWT_SECRET, algorithms=["HS256"], issuer="shardlyn")
    assert claims["exp"] - claims["iat"] == 300


def test_backup_code_completes_a_challenge_once_and_disable_needs_a_code(shardlyn):
    account = register(shardlyn, "backup")
    totp, codes = enable_mfa(account)
    challenge = expect(post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}),
                       200)["challenge_token"]
    expect(post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge, "code": codes[0]}), 200)
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": codes[0]}), 401)
    assert expect(account.get("/v1/auth/mfa/status"), 200)["backup_codes_remaining"] == 9
    expect_error(shardlyn, account.post("/v1/auth/mfa/disable", {"code": "000000"}), 401, "invalid code")
    expect_error(shardlyn, account.post("/v1/auth/mfa/disable", {"code": codes[0]}), 401, "invalid code")  # used
    assert expect(account.post("/v1/auth/mfa/disable", {"code": next_code(totp)}), 200) == {"enabled": False}
    tokens = login(shardlyn, account.email)
    assert "access_token" in tokens


def test_a_challenge_token_completes_one_login_only(shardlyn):
    account = register(shardlyn, "mfaonce")
    totp, codes = enable_mfa(account)
    challenge = expect(post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}),
                       200)["challenge_token"]
    # A wrong code does not use the challenge up.
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": "000000"}), 401, "invalid code")
    expect(post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge, "code": next_code(totp)}), 200)
    # Valid codes (an unused backup code, a fresh TOTP code) cannot reuse the challenge.
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": codes[1]}), 401, "already used")
    expect_error(shardlyn, post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": totp.now()}), 401, "already used")
    assert expect(account.get("/v1/auth/mfa/status"), 200)["backup_codes_remaining"] == 10
    # A new login gets a new challenge that works.
    again = expect(post(shardlyn, "/v1/auth/login", {"email": account.email, "password": PASSWORD}),
                   200)["challenge_token"]
    assert again != challenge
    expect(post(shardlyn, "/v1/auth/mfa/challenge", {"challenge_token": again, "code": codes[1]}), 200)


def test_mfa_challenge_is_limited_to_5_per_minute(launch_with_admin):
    server = launch_with_admin({**SHARDLYN_ENV, "SHARDLYN_MFA_RATE_LIMIT": "5/min"})
    statuses = [post(server, "/v1/auth/mfa/challenge", {"challenge_token": "a.b.c", "code": "123456"}).status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    r = post(server, "/v1/auth/mfa/challenge", {"challenge_token": "a.b.c", "code": "123456"})
    expect_error(server, r, 429)
    assert r.headers["X-RateLimit-Limit"] == "5"


def test_mfa_codes_verified_with_oathtool(shardlyn):
    import base64
    import subprocess
    account = register(shardlyn, "oath")
    enrolment = expect(account.post("/v1/auth/mfa/enroll"), 200)
    code = subprocess.run(["oathtool", "--totp", "-b", enrolment["secret"]], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert len(base64.b32decode(enrolment["secret"] + "=" * (-len(enrolment["secret"]) % 8))) >= 10
    expect(account.post("/v1/auth/mfa/verify", {"code": code}), 200)


# --- GitHub OAuth ----------------------------------------------------------------------------


@pytest.fixture
def github():
    stand_in = GitHubStandIn()
    yield stand_in
    stand_in.close()


def test_github_oauth_flow(launch, github):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, **github.env()})
    browser = requests.Session()
    r = browser.get(server.url("/v1/auth/github"), allow_redirects=False)
    assert r.status_code == 302
    location = urllib.parse.urlparse(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == github.base + "/login/oauth/authorize"
    query = urllib.parse.parse_qs(location.query)
    assert query["client_id"] == ["client-1"] and query["state"][0]
    state = query["state"][0]
    assert "shardlyn_oauth_state" in browser.cookies.get_dict()

    # A state that is not ours, or ours without the browser's cookie, is refused.
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                     params={"code": "good-code", "state": "forged.state.value"}), 400, "state")
    expect_error(server, server.get("/v1/auth/github/callback", params={"code": "good-code", "state": state}), 400,
                 "state")
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"), params={"state": state}), 400, "code")
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                     params={"error": "access_denied", "state": state}), 401)
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                     params={"code": "unknown-code", "state": state}), 401)
    # That attempt spent the state: a state works once, even when the sign-in failed.
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                     params={"code": "good-code", "state": state}), 400, "used")
    state = start_github(server, browser)

    tokens = expect(browser.get(server.url("/v1/auth/github/callback"), params={"code": "good-code",
                                                                                "state": state}), 200)
    assert tokens["expires_in"] == 900 and tokens["token_type"] == "Bearer"
    me = expect(server.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)
    assert me["email"] == "octo@example.com" and me["github_linked"] is True and me["name"] == "The Octocat"
    assert me["email_verified"] is True  # GitHub verified it
    assert github.token_requests[-1]["client_id"] == ["client-1"]
    # The state was spent with the cookie: replaying it fails.
    github.codes["second-code"] = "gho_access_token"
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                     params={"code": "second-code", "state": state}), 400, "state")
    # Signing in again (a new flow) finds the same account through the GitHub id.
    state = urllib.parse.parse_qs(urllib.parse.urlparse(
        browser.get(server.url("/v1/auth/github"), allow_redirects=False).headers["Location"]).query)["state"][0]
    again = expect(browser.get(server.url("/v1/auth/github/callback"), params={"code": "second-code",
                                                                               "state": state}), 200)
    assert expect(server.get("/v1/users/me", headers=bearer(again["access_token"])), 200)["id"] == me["id"]


def start_github(server, browser) -> str:
    """Starts a GitHub sign-in in the browser session; the state it got."""
    location = browser.get(server.url("/v1/auth/github"), allow_redirects=False).headers["Location"]
    return urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["state"][0]


def github_callback(server, github, code="good-code"):
    """A whole GitHub sign-in in a fresh browser: the callback's response."""
    github.codes[code] = "gho_access_token"
    browser = requests.Session()
    state = start_github(server, browser)
    return browser.get(server.url("/v1/auth/github/callback"), params={"code": code, "state": state})


def test_github_links_an_existing_account_only_when_its_password_holder_confirms(launch, github):
    """Keycloak's first-broker-login: a GitHub identity whose verified address has an account is
    linked only after that account's password confirms, and only to a verified address."""
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, **github.env()})
    bootstrap(server)
    expect(post(server, "/v1/auth/register", {"email": "octo@example.com", "password": PASSWORD}), 201)
    offered = expect(github_callback(server, github), 200)
    assert offered["link_required"] is True and "access_token" not in offered and offered["expires_in"] == 600
    assert wait_for_mail(server, "octo@example.com", "github-link")
    # Nothing is linked yet: the next GitHub sign-in asks again.
    assert expect(github_callback(server, github), 200)["link_required"] is True
    link = lambda token, password: post(server, "/v1/auth/github/link", {"link_token": token, "password": password})
    expect_error(server, link(offered["link_token"], "wrong-password"), 401)
    # The address was never verified (pre-registration takeover): no link, even with the password.
    expect_error(server, link(offered["link_token"], PASSWORD), 409, "verified")
    verify_address(server, "octo@example.com")
    tokens = expect(link(offered["link_token"], PASSWORD), 200)
    me = expect(server.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)
    assert me["email"] == "octo@example.com" and me["github_linked"] is True
    expect_error(server, link(offered["link_token"], PASSWORD), 401, "used")
    expect_error(server, link("x.y.z", PASSWORD), 401)
    # From now on GitHub signs in straight away.
    assert "access_token" in expect(github_callback(server, github), 200)


def test_a_pre_registered_address_is_not_taken_over_through_github(launch, github):
    """Someone registers the address before its owner arrives through GitHub: the owner's
    GitHub sign-in does not open that account, the squatter's password is not linked, and the
    owner takes the account over by the reset mail (which proves the address and ends the
    squatter's sessions and API tokens)."""
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, **github.env()})
    bootstrap(server)
    expect(post(server, "/v1/auth/register", {"email": "octo@example.com", "password": PASSWORD}), 201)
    squatter = Account(server, "octo@example.com", PASSWORD, login(server, "octo@example.com"))
    token = squatter.api_token(permissions=["settings.read"])["token"]
    offered = expect(github_callback(server, github), 200)
    assert offered["link_required"] is True
    expect_error(server, post(server, "/v1/auth/github/link", {"link_token": offered["link_token"],
                                                               "password": PASSWORD}), 409)
    # The owner of the address resets the password through the mailed link.
    expect(post(server, "/v1/auth/forgot-password", {"email": "octo@example.com"}), 202)
    [mail] = wait_for_mail(server, "octo@example.com", "reset-password")
    expect(post(server, "/v1/auth/reset-password", {"token": mailed_token(mail, "reset-password"),
                                                    "new_password": "the owner's password"}), 200)
    expect_error(server, squatter.get("/v1/users/me"), 401)
    expect_error(server, server.get("/v1/settings", headers=bearer(token)), 401)
    expect_error(server, post(server, "/v1/auth/login", {"email": "octo@example.com", "password": PASSWORD}), 401)
    offered = expect(github_callback(server, github), 200)
    tokens = expect(post(server, "/v1/auth/github/link", {"link_token": offered["link_token"],
                                                          "password": "the owner's password"}), 200)
    assert expect(server.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)["github_linked"] is True


def test_github_sign_in_ends_at_the_same_second_factor(launch, github):
    """With TOTP on, GitHub sign-in answers like a password login: a challenge, no tokens."""
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, **github.env()})
    bootstrap(server)
    first = expect(github_callback(server, github), 200)
    account = Account(server, "octo@example.com", "", first)
    totp, _ = enable_mfa(account)
    r = expect(github_callback(server, github), 200)
    assert r["mfa_required"] is True and "access_token" not in r and "refresh_token" not in r
    expect_error(server, post(server, "/v1/auth/mfa/challenge", {"challenge_token": r["challenge_token"],
                                                                 "code": "000000"}), 401, "invalid code")
    tokens = expect(post(server, "/v1/auth/mfa/challenge", {"challenge_token": r["challenge_token"],
                                                            "code": next_code(totp)}), 200)
    assert expect(server.get("/v1/users/me", headers=bearer(tokens["access_token"])), 200)["id"] == account.id


def test_concurrent_callbacks_with_one_state_sign_in_once(launch, github):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, **github.env()})
    browser = requests.Session()
    state = start_github(server, browser)
    for i in range(6):
        github.codes[f"code-{i}"] = "gho_access_token"
    cookies = browser.cookies.get_dict()
    results = []

    def attempt(i):
        r = requests.get(server.url("/v1/auth/github/callback"), params={"code": f"code-{i}", "state": state},
                         cookies=cookies)
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [400] * 5, results


def test_github_account_without_a_verified_email_is_refused(launch):
    stand_in = GitHubStandIn(email="unverified@example.com", github_id=777, verified=False)
    try:
        server = launch("shardlyn-api", env={**SHARDLYN_ENV, **stand_in.env()})
        browser = requests.Session()
        state = urllib.parse.parse_qs(urllib.parse.urlparse(
            browser.get(server.url("/v1/auth/github"), allow_redirects=False).headers["Location"]).query)["state"][0]
        expect_error(server, browser.get(server.url("/v1/auth/github/callback"),
                                         params={"code": "good-code", "state": state}), 400, "verified")
        assert expect(server.get("/v1/auth/bootstrap/status"), 200) == {"needs_bootstrap": True}
    finally:
        stand_in.close()


def test_github_upstream_failure_is_502(launch, github):
    env = {**SHARDLYN_ENV, **github.env(), "SHARDLYN_GITHUB_API_URL": github.base + "/missing"}
    server = launch("shardlyn-api", env=env)
    browser = requests.Session()
    state = urllib.parse.parse_qs(urllib.parse.urlparse(
        browser.get(server.url("/v1/auth/github"), allow_redirects=False).headers["Location"]).query)["state"][0]
    expect_error(server, browser.get(server.url("/v1/auth/github/callback"), params={"code": "good-code",
                                                                                     "state": state}), 502)


def test_github_without_configuration_is_501(shardlyn):
    expect_error(shardlyn, shardlyn.get("/v1/auth/github", allow_redirects=False), 501, "SHARDLYN_GITHUB_CLIENT_ID")
    expect_error(shardlyn, shardlyn.get("/v1/auth/github/callback", params={"code": "c", "state": "s"}), 501)


def test_wrong_mfa_codes_lock_the_account(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOCKOUT_THRESHOLD": "3",
                                         "SHARDLYN_LOCKOUT_SECONDS": "3600"})
    bootstrap(server)
    account = register(server, "mfalock")
    totp, _ = enable_mfa(account)
    challenge = expect(post(server, "/v1/auth/login", {"email": account.email, "password": PASSWORD}),
                       200)["challenge_token"]
    for _ in range(3):
        expect_error(server, post(server, "/v1/auth/mfa/challenge", {"challenge_token": challenge,
                                                                     "code": "000000"}), 401)
    # Whoever holds a challenge already proved the password: the lock may be named there.
    r = post(server, "/v1/auth/mfa/challenge", {"challenge_token": challenge, "code": next_code(totp)})
    expect_error(server, r, 429, "locked")
    assert int(r.headers["Retry-After"]) > 0
    assert len([m for m in outbox(server, account.email) if m["X-Shardlyn-Mail"] == "account-locked"]) == 1
    # The password alone does not clear the lock, and gets the wrong-password answer.
    r = post(server, "/v1/auth/login", {"email": account.email, "password": PASSWORD})
    assert expect_error(server, r, 401) == "invalid email or password"


def test_password_changes_are_rate_limited_per_user(launch):
    # 5 per hour: no refill while a loaded machine hashes the passwords of the test.
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_LOGIN_RATE_LIMIT": "5/h"})
    statuses = []
    admin = bootstrap(server)  # bootstrap and login: 2 of the IP's 5
    for _ in range(3):
        statuses.append(admin.post("/v1/users/me/password", {"current_password": "wrong-password",
                                                             "new_password": "whatever password"}).status_code)
    assert statuses == [401, 401, 401]
    # The password route counts per user, apart from the IP's sign-in budget.
    statuses = [admin.post("/v1/users/me/password", {"current_password": "wrong-password",
                                                     "new_password": "whatever password"}).status_code
                for _ in range(3)]
    assert statuses[-1] == 429
    expect_error(server, admin.post("/v1/users/me/password", {"current_password": PASSWORD,
                                                              "new_password": "whatever password"}), 429)
