"""Helpers shared by the auth-server integration tests (test_auth_*.py)."""
from __future__ import annotations

import email
import email.policy
import re
import time
import sqlite3
import uuid
from contextlib import closing

from conftest import RELAXED_LIMITS, assert_error_style

# Service-wide and per-endpoint limits high enough never to interfere; the limits themselves
# are tested on servers of their own.
AUTH_ENV = {**RELAXED_LIMITS, "AUTH_REGISTER_LIMIT": "100000/min", "AUTH_LOGIN_LIMIT": "100000/min",
            "AUTH_RESET_LIMIT": "100000/min", "AUTH_TOTP_LIMIT": "100000/min"}
PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ok_data(r, status: int = 200):
    """The envelope payload of a success response with the expected status."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["ok"] is True and set(body) == {"ok", "data"}, body
    return body["data"]


def error_of(server, r, status: int, code: str | None = None) -> dict:
    """The error body, checked for status, envelope style and (optionally) code."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert_error_style(server, body)
    if code:
        assert body["code"] == code, body
    return body


def post(server, path: str, body=None, token: str | None = None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers.update(bearer(token))
    return server.request("POST", path, json=body, headers=headers, **kw)


def register(server, email_addr: str | None = None, name: str = "Test User", password: str = PASSWORD,
             status: int = 201):
    """Registers and returns the SignedIn payload ({user, token, refreshToken, expiresAt})."""
    r = post(server, "/api/auth/register",
             {"email": email_addr or unique_email(), "name": name, "password": password})
    return ok_data(r, status)


def login(server, email_addr: str, password: str = PASSWORD, **kw):
    return post(server, "/api/auth/login", {"email": email_addr, "password": password}, **kw)


def db(server) -> sqlite3.Connection:
    """A connection to the service's database (WAL: safe next to the running server)."""
    conn = sqlite3.connect(str(server.data_dir / "auth.db"), timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def query(server, sql: str, *args) -> list:
    with closing(db(server)) as conn:
        return conn.execute(sql, args).fetchall()


def execute(server, sql: str, *args) -> None:
    with closing(db(server)) as conn:
        conn.execute(sql, args)


def jwt_secret(server) -> str:
    return (server.data_dir / "secrets" / "JWT_SECRET").read_text().strip()


def mails(server, to: str | None = None, kind: str | None = None) -> list:
    """Messages in DATA_DIR/outbox (oldest first), parsed, optionally filtered."""
    outbox = server.data_dir / "outbox"
    out = []
    if not outbox.exists():
        return out
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if to and msg["To"] != to:
            continue
        if kind and msg["X-Panguard-Mail"] != kind:
            continue
        out.append(msg)
    return out


def mailed_token(server, to: str, kind: str, index: int = 0, count: int = 1) -> str:
    """The token in the link of the index-th mail of that kind to `to` (expecting `count` such mails)."""
    found = mails(server, to=to, kind=kind)
    for _ in range(100):  # some mails (password resets) go out just after the answer
        if len(found) >= count:
            break
        time.sleep(0.05)
        found = mails(server, to=to, kind=kind)
    assert len(found) == count, [m["Subject"] for m in mails(server)]
    match = re.search(kind + r"\?token=([A-Za-z0-9_-]+)", found[index].get_content())
    assert match, found[index].get_content()
    return match.group(1)


def verification_token(server, to: str) -> str:
    return mailed_token(server, to, "verify-email")
