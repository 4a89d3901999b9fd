"""shardlyn-api's cloud credentials: secret fields per provider validated and sealed (never in
a response, the database in clear, or the log), one default per provider, and `verify` against
local stand-ins that check each request as the provider documents it (Hetzner Cloud
GET /servers with a Bearer token, Cloudflare GET /user/tokens/verify, Steam's keyed Web API,
Google's OAuth token endpoint with an RS256 JWT bearer assertion) and answer as the provider
would, including refusals, 429/5xx (retried), slowness (504) and an unreachable host (502).

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_credentials.py
"""
import json
import socket
import sqlite3
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shardlyn_helpers import SHARDLYN_ENV, expect, expect_error, register

HETZNER_TOKEN = "hcloud-secret-token-AAAA1111"
CF_TOKEN = "cf-secret-token-BBBB2222"
CF_DISABLED = "cf-disabled-token-CCCC3333"
STEAM_KEY = "0123456789ABCDEF0123456789ABCDEF"
GCP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
GCP_PEM = GCP_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
OTHER_PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
SECRETS = [HETZNER_TOKEN, CF_TOKEN, CF_DISABLED, STEAM_KEY, "BEGIN PRIVATE KEY", "AWSSECRETKEY0000"]


class Provider(BaseHTTPRequestHandler):
    """The four APIs under /hetzner, /cloudflare, /steam and /gcp, checked as documented."""

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def scripted(self):
        """A queued failure for this call, if the test queued one."""
        st = self.server.state
        st["calls"].append((self.command, self.path, dict(self.headers)))
        if st["delay"]:
            time.sleep(st["delay"])
        if st["script"]:
            status, headers = st["script"].pop(0)
            self.answer(status, {"error": {"code": "unavailable", "message": "try again"}}, headers)
            return True
        return False

    def do_GET(self):
        if self.scripted():
            return
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        if url.path == "/hetzner/v1/servers":
            assert query == {"per_page": ["1"]}
            if auth != f"Bearer {HETZNER_TOKEN}":
                return self.answer(401, {"error": {"code": "unauthorized", "message": "unable to authenticate"}})
            return self.answer(200, {"servers": [], "meta": {"pagination": {"page": 1, "per_page": 1,
                                                                          "total_entries": 0}}})
        if url.path == "/cloudflare/user/tokens/verify":
            if auth == f"Bearer {CF_TOKEN}":
                return self.answer(200, {"success": True, "errors": [], "messages": [],
                                         "result": {"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}})
            if auth == f"Bearer {CF_DISABLED}":
                return self.answer(200, {"success": True, "errors": [], "messages": [],
                                         "result": {"id": "ed17574386854bf78a67040be0a770b1", "status": "disabled"}})
            return self.answer(401, {"success": False, "errors": [{"code": 1000, "message": "Invalid API Token"}],
                                     "messages": [], "result": None})
        if url.path == "/steam/ISteamUser/GetPlayerSummaries/v2/":
            assert query["steamids"] == ["76561197960435530"]
            if query.get("key") != [STEAM_KEY]:
                return self.answer(403, "<html><head><title>Forbidden</title></head><body>Forbidden</body></html>")
            return self.answer(200, {"response": {"players": []}})
        self.answer(404, {"error": "no such route"})

    def do_POST(self):
        if self.scripted():
            return
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.path != "/gcp/token":
            return self.answer(404, {"error": "no such route"})
        assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(body)
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        try:
            claims = jwt.decode(form["assertion"][0], GCP_KEY.public_key(), algorithms=["RS256"],
                                audience=self.server.state["token_url"])
            assert jwt.get_unverified_header(form["assertion"][0])["alg"] == "RS256"
            assert claims["iss"] == "shardlyn@project.iam.gserviceaccount.com"
            assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
            assert claims["exp"] - claims["iat"] == 3600
        except jwt.InvalidTokenError:
            return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        self.answer(200, {"access_token": "ya29.c.stand-in", "expires_in": 3599, "token_type": "Bearer"})


@pytest.fixture(scope="module")
def provider():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    httpd.daemon_threads = True
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.state = {"calls": [], "script": [], "delay": 0, "token_url": f"{base}/gcp/token"}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.base = base
    yield httpd
    httpd.shutdown()


@pytest.fixture(scope="module")
def world(module_launch, provider):
    env = {**SHARDLYN_ENV, "HETZNER_API_URL": f"{provider.base}/hetzner/v1",
           "CLOUDFLARE_API_URL": f"{provider.base}/cloudflare", "STEAM_API_URL": f"{provider.base}/steam",
           "GCP_TOKEN_URL": f"{provider.base}/gcp/token", "SHARDLYN_PROVIDER_TIMEOUT_MS": "700",
           "SHARDLYN_PROVIDER_ATTEMPTS": "3", "SHARDLYN_PROVIDER_BACKOFF_MS": "50"}
    server = module_launch("shardlyn-api", env=env)
    w = type("World", (), {})()
    w.server, w.provider = server, provider
    w.alice = register(server, "alice")
    w.bob = register(server, "bob")
    w.texts = []  # every response body, checked for secrets at the end
    return w


def call(w, method, path, body=None, client=None):
    client = client or w.alice
    r = client.request(method, path, **({"json": body} if body is not None else {}))
    w.texts.append(r.text)
    return r


def create(w, provider, name, secrets, **extra):
    return expect(call(w, "POST", "/v1/credentials", {"provider": provider, "name": name, "secrets": secrets, **extra}),
                  201)


def service_account(pem=GCP_PEM, token_uri=None, w=None):
    return json.dumps({"type": "service_account", "project_id": "project", "private_key_id": "k1",
                       "private_key": pem, "client_email": "shardlyn@project.iam.gserviceaccount.com",
                       "client_id": "1", "token_uri": token_uri or w.provider.state["token_url"]})


def test_create_validates_fields_per_provider(world):
    w = world
    cases = [({"provider": "digitalocean", "name": "x", "secrets": {"api_token": "t"}}, "provider"),
             ({"provider": "hetzner", "secrets": {"api_token": "t"}}, "name"),
             ({"provider": "hetzner", "name": "x"}, "secrets"),
             ({"provider": "hetzner", "name": "x", "secrets": "t"}, "secrets"),
             ({"provider": "hetzner", "name": "x", "secrets": {}}, "secrets.api_token"),
             ({"provider": "hetzner", "name": "x", "secrets": {"api_token": "t", "region": "fsn1"}}, "secrets.region"),
             ({"provider": "hetzner", "name": "x", "secrets": {"api_token": 5}}, "secrets.api_token"),
             ({"provider": "aws", "name": "x", "secrets": {"access_key_id": "AKIA"}}, "secrets.secret_access_key"),
             ({"provider": "oci", "name": "x", "secrets": {"tenancy_ocid": "t"}}, "secrets."),
             ({"provider": "gcp", "name": "x", "secrets": {"service_account_json": "{not json"}}, "service_account_json"),
             ({"provider": "gcp", "name": "x", "secrets": {"service_account_json": '{"type": "user"}'}}, "service_account"),
             ({"provider": "steam", "name": "x", "secrets": {"api_key": "k"}, "extra": 1}, "extra")]
    for body, named in cases:
        expect_error(w.server, call(w, "POST", "/v1/credentials", body), 400, named)


def test_secrets_are_sealed_and_never_shown(world):
    w = world
    c = create(w, "hetzner", "main", {"api_token": HETZNER_TOKEN})
    assert c["hint"] == "****" + HETZNER_TOKEN[-4:] and c["is_default"] is True
    assert set(c) == {"id", "provider", "name", "hint", "is_default", "created_by", "created_at", "updated_at",
                      "verified_at", "verified", "verify_message"}
    aws = create(w, "aws", "aws", {"access_key_id": "AKIAEXAMPLE00001234", "secret_access_key": "AWSSECRETKEY0000",
                                   "region": "eu-west-1"})
    assert aws["hint"] == "****1234"
    expect_error(w.server, call(w, "POST", "/v1/credentials", {"provider": "steam", "name": "main",
                                                                 "secrets": {"api_key": STEAM_KEY}}), 409, "name")
    db = sqlite3.connect(w.server.data_dir / "shardlyn.db")
    stored = " ".join(r[0] for r in db.execute("SELECT sealed_secret || hint FROM credentials"))
    assert HETZNER_TOKEN not in stored and "AWSSECRETKEY0000" not in stored
    got = expect(call(w, "GET", f"/v1/credentials/{c['id']}"), 200)
    assert got == c
    listed = expect(call(w, "GET", "/v1/credentials?provider=hetzner"), 200)
    assert [x["id"] for x in listed["items"]] == [c["id"]]
    expect_error(w.server, call(w, "GET", "/v1/credentials?provider=nope"), 400, "provider")


def test_one_default_per_provider(world):
    w = world
    first = create(w, "cloudflare", "cf-one", {"api_token": CF_TOKEN})
    second = create(w, "cloudflare", "cf-two", {"api_token": CF_DISABLED})
    assert first["is_default"] and not second["is_default"]
    assert expect(call(w, "POST", f"/v1/credentials/{second['id']}/default"), 200)["is_default"] is True
    assert expect(call(w, "GET", f"/v1/credentials/{first['id']}"), 200)["is_default"] is False
    third = create(w, "cloudflare", "cf-three", {"api_token": CF_TOKEN}, is_default=True)
    defaults = [x["id"] for x in expect(call(w, "GET", "/v1/credentials?provider=cloudflare"), 200)["items"]
                if x["is_default"]]
    assert defaults == [third["id"]]


def test_update_delete_and_other_organisations(world):
    w = world
    c = create(w, "steam", "steam", {"api_key": "WRONGKEY0000"})
    expect_error(w.server, call(w, "PUT", f"/v1/credentials/{c['id']}", {"secrets": {"api_token": "x"}}), 400,
                 "secrets.api_token")
    updated = expect(call(w, "PUT", f"/v1/credentials/{c['id']}", {"name": "steam-main",
                                                                     "secrets": {"api_key": STEAM_KEY}}), 200)
    assert updated["name"] == "steam-main" and updated["hint"] == "****" + STEAM_KEY[-4:]
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/default"), ("POST", "/verify")):
        body = {"name": "stolen"} if method == "PUT" else ({} if method == "POST" else None)
        expect_error(w.server, call(w, method, f"/v1/credentials/{c['id']}{path}", body, client=w.bob), 404)
    expect_error(w.server, call(w, "GET", "/v1/credentials/not-a-uuid"), 404)
    doomed = create(w, "steam", "doomed", {"api_key": STEAM_KEY})
    assert call(w, "DELETE", f"/v1/credentials/{doomed['id']}").status_code == 204
    expect_error(w.server, call(w, "GET", f"/v1/credentials/{doomed['id']}"), 404)
    expect_error(w.server, call(w, "DELETE", f"/v1/credentials/{doomed['id']}"), 404)


def verify(w, cred, status=200):
    r = call(w, "POST", f"/v1/credentials/{cred['id']}/verify", {})
    return expect(r, status) if status == 200 else expect_error(w.server, r, status)


def by_name(w, name):
    return next(x for x in expect(call(w, "GET", "/v1/credentials"), 200)["items"] if x["name"] == name)


def test_verify_each_provider(world):
    w = world
    w.provider.state["calls"].clear()
    ok = verify(w, by_name(w, "main"))
    assert ok["valid"] is True and ok["verified"] is True and ok["verified_at"]
    method, path, headers = w.provider.state["calls"][-1]
    assert (method, path, headers["Authorization"]) == ("GET", "/hetzner/v1/servers?per_page=1",
                                                          f"Bearer {HETZNER_TOKEN}")
    bad = create(w, "hetzner", "bad-hetzner", {"api_token": "wrong-token-0000"})
    refused = verify(w, bad)
    assert refused["valid"] is False and "401" in refused["message"]
    assert expect(call(w, "GET", f"/v1/credentials/{bad['id']}"), 200)["verified"] is False
    assert verify(w, by_name(w, "cf-one"))["valid"] is True
    disabled = verify(w, by_name(w, "cf-two"))
    assert disabled["valid"] is False and "disabled" in disabled["message"]
    assert verify(w, create(w, "cloudflare", "cf-bad", {"api_token": "nope-0000"}))["valid"] is False
    assert verify(w, by_name(w, "steam-main"))["valid"] is True
    assert verify(w, create(w, "steam", "steam-bad", {"api_key": "BADKEY000000"}))["valid"] is False
    gcp = create(w, "gcp", "gcp", {"service_account_json": service_account(w=w)})
    assert gcp["hint"] == "shardlyn@project.iam.gserviceaccount.com"
    assert verify(w, gcp)["valid"] is True
    wrong_key = create(w, "gcp", "gcp-wrong", {"service_account_json": service_account(OTHER_PEM, w=w)})
    refused = verify(w, wrong_key)
    assert refused["valid"] is False and "invalid_grant" in refused["message"]
    elsewhere = create(w, "gcp", "gcp-elsewhere",
                       {"service_account_json": service_account(token_uri="http://169.254.169.254/token", w=w)})
    expect_error(w.server, call(w, "POST", f"/v1/credentials/{elsewhere['id']}/verify", {}), 400, "GCP_TOKEN_URL")
    for name in ("aws",):
        assert "Signature V4" in verify(w, by_name(w, name), 501)
    oci = create(w, "oci", "oci", {"tenancy_ocid": "ocid1.tenancy.oc1..a", "user_ocid": "ocid1.user.oc1..b",
                                   "fingerprint": "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34",
                                   "private_key": OTHER_PEM, "region": "eu-frankfurt-1"})
    assert "OCI" in verify(w, oci, 501)


def test_verify_retries_then_fails_clearly(world):
    w = world
    main = by_name(w, "main")
    st = w.provider.state
    st["calls"].clear()
    st["script"] = [(503, ()), (429, (("Retry-After", "1"),))]
    assert verify(w, main)["valid"] is True
    assert len(st["calls"]) == 3  # two failures tried again, then the answer
    st["calls"].clear()
    st["script"] = [(500, ())] * 3
    assert "500 after 3 tries" in verify(w, main, 502)
    assert len(st["calls"]) == 3
    st["script"] = []
    st["delay"] = 1.0  # beyond SHARDLYN_PROVIDER_TIMEOUT_MS=700
    try:
        assert "in time" in verify(w, main, 504)
    finally:
        st["delay"] = 0


def test_unreachable_provider_is_502(module_launch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    server = module_launch("shardlyn-api", env={**SHARDLYN_ENV, "HETZNER_API_URL": f"http://127.0.0.1:{dead}/v1",
                                                "SHARDLYN_PROVIDER_BACKOFF_MS": "10"})
    alice = register(server, "carol")
    c = expect(alice.post("/v1/credentials", {"provider": "hetzner", "name": "h", "secrets": {"api_token": "tok-1234"}}),
               201)
    expect_error(server, alice.post(f"/v1/credentials/{c['id']}/verify", {}), 502, "unreachable")


def test_no_secret_in_any_response_or_the_log(world):
    w = world
    assert w.texts
    log = w.server.log_path.read_text()
    for secret in SECRETS:
        for text in w.texts:
            assert secret not in text
        assert secret not in log
