"""auth-server tokens: the HS256 access token (decoded independently with PyJWT), what the
verifier refuses (alg none, forged, algorithm switch, wrong issuer, expired, revoked session,
deleted user) and refresh-token rotation with reuse detection.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_tokens.py
"""
import base64
import hashlib
import json
import time

import jwt
import pytest

from auth_helpers import (AUTH_ENV, bearer, error_of, execute, login, ok_data, post, query, register, jwt_secret,
                          unique_email)


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch("auth-server", env=AUTH_ENV)


def b64(obj) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_for(server, reg):
    return jwt.decode(reg["token"], jwt_secret(server), algorithms=["HS256"], issuer="panguard-auth")


def me_status(server, token):
    return server.get("/api/auth/me", headers=bearer(token))


def test_access_token_claims(server):
    reg = register(server)
    header = jwt.get_unverified_header(reg["token"])
    assert header["alg"] == "HS256" and header.get("typ") == "JWT"
    claims = claims_for(server, reg)
    assert set(claims) >= {"iss", "sub", "sid", "role", "tier", "iat", "exp"}
    assert claims["iss"] == "panguard-auth"
    assert claims["sub"] == reg["user"]["id"]
    assert claims["role"] == "user" and claims["tier"] == "community"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"])) == reg["expiresAt"]
    [session] = query(server, "SELECT id FROM sessions WHERE user_id = ?", reg["user"]["id"])
    assert claims["sid"] == session["id"]


def test_token_signed_by_us_with_pyjwt_is_accepted(server):
    """An independent signer with the same secret and claims produces a token the server accepts."""
    reg = register(server)
    claims = claims_for(server, reg)
    now = int(time.time())
    claims.update(iat=now, exp=now + 60)
    token = jwt.encode(claims, jwt_secret(server), algorithm="HS256")
    ok_data(me_status(server, token))


def refused(server, token):
    r = me_status(server, token)
    error_of(server, r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_alg_none_is_refused(server):
    reg = register(server)
    claims = claims_for(server, reg)
    for alg in ("none", "None", "NONE"):
        refused(server, b64({"alg": alg, "typ": "JWT"}) + "." + b64(claims) + ".")
        refused(server, b64({"alg": alg, "typ": "JWT"}) + "." + b64(claims) + ".c2ln")


def test_forged_and_switched_algorithms_are_refused(server):
    reg = register(server)
    claims = claims_for(server, reg)
    secret = jwt_secret(server)
    refused(server, jwt.encode(claims, "another secret that is long enough to be valid!", algorithm="HS256"))
    refused(server, jwt.encode(claims, secret, algorithm="HS512"))
    refused(server, jwt.encode(claims, secret, algorithm="HS384"))
    # a changed claim breaks the signature
    head, _, sig = reg["token"].split(".")
    tampered = dict(claims, role="admin")
    refused(server, head + "." + b64(tampered) + "." + sig)
    # wrong issuer, missing exp, missing sid/sub, correctly signed
    refused(server, jwt.encode(dict(claims, iss="someone-else"), secret, algorithm="HS256"))
    refused(server, jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256"))
    refused(server, jwt.encode({k: v for k, v in claims.items() if k != "sid"}, secret, algorithm="HS256"))
    refused(server, jwt.encode({k: v for k, v in claims.items() if k != "sub"}, secret, algorithm="HS256"))
    # a valid token for one user with another user's session id
    other = claims_for(server, register(server))
    refused(server, jwt.encode(dict(claims, sid=other["sid"]), secret, algorithm="HS256"))
    ok_data(me_status(server, reg["token"]))  # the original still works


def test_expired_token_is_refused(server):
    reg = register(server)
    claims = claims_for(server, reg)
    now = int(time.time())
    secret = jwt_secret(server)
    refused(server, jwt.encode(dict(claims, iat=now - 2000, exp=now - 1000), secret, algorithm="HS256"))
    refused(server, jwt.encode(dict(claims, nbf=now + 3600), secret, algorithm="HS256"))


def test_nbf_and_exp_are_checked_with_a_small_leeway(server):
    """Clock skew of a few seconds is tolerated (30 s leeway); more is not. iss is required."""
    reg = register(server)
    claims = claims_for(server, reg)
    now = int(time.time())
    secret = jwt_secret(server)

    def token(**changes):
        return jwt.encode(dict(claims, **changes), secret, algorithm="HS256")

    ok_data(me_status(server, token(iat=now, nbf=now + 10, exp=now + 600)))  # not before, within the leeway
    ok_data(me_status(server, token(iat=now - 900, exp=now - 10)))  # just expired, within the leeway
    refused(server, token(iat=now, nbf=now + 120, exp=now + 600))
    refused(server, token(iat=now - 900, exp=now - 120))
    refused(server, token(nbf="soon"))
    refused(server, jwt.encode({k: v for k, v in claims.items() if k != "iss"}, secret, algorithm="HS256"))
    # a token refused as not yet valid is refused again on a repeat (nothing remembered it)
    early = token(iat=now, nbf=now + 120, exp=now + 600)
    refused(server, early)
    refused(server, early)


def test_revoked_session_fails_at_once(server):
    reg = register(server)
    ok_data(me_status(server, reg["token"]))
    execute(server, "UPDATE sessions SET revoked_at = strftime('%s','now') WHERE user_id = ?", reg["user"]["id"])
    refused(server, reg["token"])


def test_expired_session_is_refused(server):
    reg = register(server)
    ok_data(me_status(server, reg["token"]))  # remembered from here on: the change must still count
    execute(server, "UPDATE sessions SET expires_at = 1 WHERE user_id = ?", reg["user"]["id"])
    refused(server, reg["token"])
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}), 401, "invalid_token")


def test_deleted_user_is_refused(server):
    reg = register(server)
    ok_data(me_status(server, reg["token"]))
    execute(server, "DELETE FROM users WHERE id = ?", reg["user"]["id"])
    refused(server, reg["token"])
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}), 401)


# --- refresh -----------------------------------------------------------------------------------


def test_refresh_rotates(server):
    reg = register(server)
    sid = claims_for(server, reg)["sid"]
    time.sleep(1.1)  # a new iat, so the new access token differs
    r1 = ok_data(post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}))
    assert set(r1) == {"user", "token", "refreshToken", "expiresAt"}
    assert r1["user"] == reg["user"]
    assert r1["refreshToken"] != reg["refreshToken"] and r1["token"] != reg["token"]
    new_claims = claims_for(server, r1)
    assert new_claims["sid"] == sid  # same session
    assert new_claims["exp"] - new_claims["iat"] == 900
    [row] = query(server, "SELECT refresh_hash FROM sessions WHERE id = ?", sid)
    assert row["refresh_hash"] == hashlib.sha256(r1["refreshToken"].encode()).hexdigest()
    ok_data(me_status(server, r1["token"]))
    r2 = ok_data(post(server, "/api/auth/refresh", {"refreshToken": r1["refreshToken"]}))
    assert r2["refreshToken"] not in (r1["refreshToken"], reg["refreshToken"])
    ok_data(me_status(server, r2["token"]))


def test_refresh_reuse_revokes_the_session(server):
    addr = unique_email("reuse")
    reg = register(server, addr)
    other = ok_data(login(server, addr))  # a second session stays untouched
    r1 = ok_data(post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}))
    # the old token again: refused, and the whole session is revoked
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}), 401, "invalid_token")
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": r1["refreshToken"]}), 401, "invalid_token")
    refused(server, r1["token"])
    refused(server, reg["token"])
    ok_data(me_status(server, other["token"]))
    ok_data(post(server, "/api/auth/refresh", {"refreshToken": other["refreshToken"]}))
    audit = query(server, "SELECT detail FROM audit_log WHERE action = 'session.refresh_reuse' AND user_id = ?",
                  reg["user"]["id"])
    assert len(audit) == 1
    [row] = query(server, "SELECT revoked_at, revoke_reason FROM sessions WHERE id = ?", claims_for(server, reg)["sid"])
    assert row["revoked_at"] and "reuse" in row["revoke_reason"]


def test_refresh_errors(server):
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": "x" * 43}), 401, "invalid_token")
    error_of(server, post(server, "/api/auth/refresh", {}), 400, "validation_error")
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": ["a"]}), 400, "validation_error")
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": "a" * 513}), 400, "validation_error")
    # an access token is not a refresh token
    reg = register(server)
    error_of(server, post(server, "/api/auth/refresh", {"refreshToken": reg["token"]}), 401, "invalid_token")


def test_role_and_tier_come_from_the_account(server):
    reg = register(server)
    execute(server, "UPDATE users SET tier = 'pro' WHERE id = ?", reg["user"]["id"])
    r = ok_data(post(server, "/api/auth/refresh", {"refreshToken": reg["refreshToken"]}))
    assert claims_for(server, r)["tier"] == "pro"
    assert r["user"]["tier"] == "pro"
