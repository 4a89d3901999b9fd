"""Helpers shared by the shardlyn-api integration tests (test_shardlyn_*.py)."""
from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import RELAXED_LIMITS, assert_error_style

JWT_SECRET = "shardlyn-test-jwt-secret-0123456789abcdef"
# Limits high enough never to interfere; the limits themselves are tested on servers of their own.
SHARDLYN_ENV = {**RELAXED_LIMITS, "SHARDLYN_JWT_SECRET": JWT_SECRET,
                "SHARDLYN_LOGIN_RATE_LIMIT": "100000/min", "SHARDLYN_MFA_RATE_LIMIT": "100000/min",
                "SHARDLYN_SUPPORT_RATE_LIMIT": "100000/min", "SHARDLYN_ORG_INVITE_LIMIT": "100000/h",
                "SHARDLYN_USER_INVITE_LIMIT": "100000/h"}
PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def expect(r, status: int) -> dict | list | None:
    """The JSON body of a response with the expected status (None for 204)."""
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    if status == 204:
        assert r.content == b""
        return None
    return r.json()


def expect_error(server, r, status: int, contains: str | None = None) -> str:
    """The error message of a Bare-style error response with the expected status."""
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    body = r.json()
    assert_error_style(server, body)
    if contains:
        assert contains in body["error"], body
    return body["error"]


class Account:
    """A signed-in user of a running shardlyn-api."""

    def __init__(self, server, email: str, password: str, tokens: dict):
        self.server, self.email, self.password = server, email, password
        self.access, self.refresh = tokens["access_token"], tokens["refresh_token"]
        me = expect(self.get("/v1/users/me"), 200)
        self.id = me["id"]
        self.org = me["organizations"][0]["id"]

    @property
    def headers(self) -> dict:
        return bearer(self.access)

    def request(self, method, path, **kw):
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.server.request(method, path, headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json=body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json=body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def api_token(self, permissions=None, **extra) -> dict:
        body = {"name": f"t-{uuid.uuid4().hex[:6]}", **extra}
        if permissions is not None:
            body["permissions"] = permissions
        return expect(self.post("/v1/api-tokens", body), 201)


def login(server, email: str, password: str = PASSWORD) -> dict:
    return expect(server.request("POST", "/v1/auth/login", json={"email": email, "password": password}), 200)


def register(server, prefix: str = "user", password: str = PASSWORD, verified: bool = True) -> Account:
    """A new account, signed in; with verified, its address confirmed through the mailed link."""
    email = unique_email(prefix)
    expect(server.request("POST", "/v1/auth/register", json={"email": email, "password": password, "name": prefix}),
           201)
    if verified:
        verify_address(server, email)
    return Account(server, email, password, login(server, email, password))


def mailed_token(mail, page: str) -> str:
    """The token of the link to `page` (verify-email, reset-password, invites) in a mail."""
    import re
    match = re.search(page + r"(?:\?token=|/)([A-Za-z0-9_.~-]+)", mail.get_content())
    assert match, mail.get_content()
    return match.group(1)


def verify_address(server, email: str) -> None:
    [mail] = wait_for_mail(server, email, "verify-email")
    expect(server.request("POST", "/v1/auth/verify-email", json={"token": mailed_token(mail, "verify-email")}), 200)


def bootstrap(server, password: str = PASSWORD) -> Account:
    email = unique_email("admin")
    expect(server.request("POST", "/v1/auth/bootstrap",
                          json={"email": email, "password": password, "name": "Admin"}), 201)
    return Account(server, email, password, login(server, email, password))


def token_client(server, token: str, org: str | None = None):
    """A minimal client that authenticates with an API token (optionally naming the organization)."""

    class TokenClient:
        def request(self, method, path, **kw):
            headers = {**bearer(token), **kw.pop("headers", {})}
            if org:
                headers.setdefault("X-Organization-Id", org)
            return server.request(method, path, headers=headers, **kw)

        def get(self, path, **kw):
            return self.request("GET", path, **kw)

        def post(self, path, body=None, **kw):
            return self.request("POST", path, json=body if body is not None else {}, **kw)

    return TokenClient()


@pytest.fixture(scope="module")
def shardlyn(module_launch):
    """One shardlyn-api for the module, relaxed limits, with its first admin bootstrapped."""
    server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    server.admin = bootstrap(server)
    return server


def outbox(server, to: str | None = None) -> list:
    """Messages in DATA_DIR/outbox (oldest first), parsed, optionally only those to one address."""
    import email
    import email.policy
    folder = server.data_dir / "outbox"
    if not folder.exists():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if to is None or msg["To"] == to:
            messages.append(msg)
    return messages


def wait_for_mail(server, to: str, kind: str, count: int = 1, timeout: float = 10.0) -> list:
    """The mails of one kind to one address, once there are `count` of them (some, such as
    password resets, go out just after the answer)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in outbox(server, to) if m["X-Shardlyn-Mail"] == kind]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, [(m["X-Shardlyn-Mail"], m["Subject"]) for m in outbox(server, to)]
            return found
        time.sleep(0.05)


class GitHubStandIn:
    """A local stand-in for GitHub's authorize, token and API endpoints."""

    def __init__(self, email="octo@example.com", github_id=4242, verified=True):
        self.codes = {"good-code": "gho_access_token"}
        self.email, self.github_id, self.verified = email, github_id, verified
        self.token_requests = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                stand_in.token_requests.append(form)
                if self.path != "/login/oauth/access_token" or form.get("client_secret") != ["s3cret"]:
                    return self.reply(401, {"error": "bad_client"})
                token = stand_in.codes.pop(form.get("code", [""])[0], None)
                if not token:
                    return self.reply(200, {"error": "bad_verification_code"})
                self.reply(200, {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})

            def do_GET(self):
                if self.headers.get("Authorization") != "Bearer gho_access_token":
                    return self.reply(401, {"message": "Bad credentials"})
                if self.path == "/api/user":
                    return self.reply(200, {"id": stand_in.github_id, "login": "octocat", "name": "The Octocat",
                                            "email": None})
                if self.path == "/api/user/emails":
                    return self.reply(200, [{"email": "other@example.com", "primary": False, "verified": True},
                                            {"email": stand_in.email, "primary": True,
                                             "verified": stand_in.verified}])
                self.reply(404, {"message": "Not Found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def env(self):
        return {"SHARDLYN_GITHUB_CLIENT_ID": "client-1", "SHARDLYN_GITHUB_CLIENT_SECRET": "s3cret",
                "SHARDLYN_GITHUB_AUTHORIZE_URL": self.base + "/login/oauth/authorize",
                "SHARDLYN_GITHUB_TOKEN_URL": self.base + "/login/oauth/access_token",
                "SHARDLYN_GITHUB_API_URL": self.base + "/api"}

    def close(self):
        self.httpd.shutdown()
