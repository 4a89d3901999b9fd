"""shardlyn-api's route table, walked from /v1/openapi.json: every protected route rejects a
missing token (401), an expired access token or an expired or revoked API token (401), a caller
from another organisation (404) and a caller without the route's permission (403). The agent
routes take an agent token only: a user's token there is 401, and an agent token on a user route.
WebSocket routes (those documenting a 101) are walked with a real upgrade whenever the request
carries a credential; an upgrade without one is accepted for the first-frame auth, which
test_shardlyn_console.py covers, so the bare 401 is checked on a plain GET.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_route_guards.py
"""
import time
import uuid

import jwt
import pytest

from shardlyn_helpers import (JWT_SECRET, SHARDLYN_ENV, bearer, bootstrap, expect, expect_error, register,
                              token_client)

FREE_PLAN = "00000000-0000-4000-8000-000000000001"
SSH_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl guard@test")


WORKLOAD = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "guarded"},
            "spec": {"command": ["/bin/sh", "-c", "sleep 60"], "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}}}}


@pytest.fixture(scope="module")
def world(module_launch):
    server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    w = type("World", (), {})()
    w.server = server
    w.admin = bootstrap(server)
    w.alice = register(server, "alice")  # owner of organisation A
    w.bob = register(server, "bob")      # owner of organisation B
    w.carol = register(server, "carol")  # plain member ("user" role) of A
    invite = expect(w.alice.post(f"/v1/organizations/{w.alice.org}/members/invite", {"email": w.carol.email}), 201)
    expect(w.carol.post(f"/v1/invites/{invite['token']}/accept"), 200)
    w.pending_invite = expect(w.alice.post(f"/v1/organizations/{w.alice.org}/members/invite",
                                           {"email": "pending@example.com"}), 201)["id"]
    w.a_token = w.alice.api_token()  # every permission alice holds in A
    w.a_none = w.alice.api_token(permissions=[])
    revoked = w.alice.api_token()
    expect(w.alice.delete(f"/v1/api-tokens/{revoked['id']}"), 204)
    w.a_revoked = revoked
    w.a_expired = w.alice.api_token(expires_in=1)
    w.b_token = w.bob.api_token()
    w.root_none = w.admin.api_token(permissions=[], root=True)
    w.a_node = register_node(server, w.alice)
    heartbeat = {"v": 1, "metrics": {"cpu": {"usage": 0.1, "cores": 1},
                                     "memory": {"total_bytes": 1 << 30, "available_bytes": 1 << 29, "used_bytes": 1 << 29},
                                     "disk": {"path": "/", "total_bytes": 1 << 30, "free_bytes": 1 << 29,
                                              "used_bytes": 1 << 29},
                                     "network": {"rx_bytes": 0, "tx_bytes": 0},
                                     "load": {"one": 0.1, "five": 0.1, "fifteen": 0.1}},
                 "instances": [], "desired_version": 0}
    expect(server.request("POST", "/v1/agent/heartbeat", json=heartbeat, headers={"X-Agent-Token": w.a_node[1]}), 200)
    w.a_workload = expect(w.alice.post("/v1/workloads", WORKLOAD), 201)["id"]
    w.a_instance = expect(w.alice.post("/v1/instances", {"workload_id": w.a_workload, "name": "guarded",
                                                         "node_id": w.a_node[0]}), 201)["id"]
    w.a_deployment = expect(w.alice.post("/v1/deploy", {"template": "mumble-server", "name": "guarded-deploy",
                                                         "node_id": w.a_node[0]}), 201)["id"]
    w.a_webhook = expect(w.alice.post("/v1/webhook-tokens", {"name": "ci"}), 201)["id"]
    expect(w.alice.put(f"/v1/instances/{w.a_instance}/git", {"repository": "https://example.com/guard.git"}), 201)
    # A's backup storage points at a closed loopback port: its S3 calls get past the guard and fail there.
    w.a_backup_config = expect(w.alice.post("/v1/backup-config", {
        "endpoint": "http://127.0.0.1:9", "region": "us-east-1", "bucket": "guarded", "access_key_id": "AKID",
        "secret_access_key": "secret", "path_style": True}), 201)["id"]
    expect(w.alice.post("/v1/settings/ssh-keys", {"name": "deploy", "public_key": SSH_KEY}), 201)
    expect(w.admin.post("/v1/ssh/ca/keys"), 201)
    w.a_certificate = expect(w.alice.post("/v1/ssh/certificate", {"public_key": SSH_KEY, "principals": ["guard"]}),
                             200)["id"]
    w.a_credential = expect(w.alice.post("/v1/credentials", {"provider": "hetzner", "name": "guarded",
                                                              "secrets": {"api_token": "guard-token-0123"}}), 201)["id"]
    claims = jwt.decode(w.alice.access, JWT_SECRET, algorithms=["HS256"], issuer="shardlyn")
    w.expired_jwt = jwt.encode({**claims, "iat": claims["iat"] - 2000, "exp": claims["iat"] - 1000}, JWT_SECRET,
                               algorithm="HS256")
    doc = expect(server.get("/v1/openapi.json"), 200)
    w.operations = [(path, method.upper(), op) for path, item in doc["paths"].items()
                    for method, op in item.items() if isinstance(op, dict) and "x-shardlyn-auth" in op]
    w.sockets = {(method, concrete(w, path)) for path, method, op in w.operations if "101" in op.get("responses", {})}
    # Routes that act on the node through its agent: A's node registered without one (no tunnel).
    w.on_node = {(method, concrete(w, path)) for path, method, op in w.operations
                 if op.get("responses", {}).get("409", {}).get("$ref", "").endswith("/NodeOffline")}
    time.sleep(1.1)  # a_expired (expires_in 1) is past its expiry now
    return w


def register_node(server, owner):
    """A node of the owner's organisation, registered as shardlyn-agent does: (node id, agent token)."""
    token = expect(owner.post("/v1/nodes/register-token", {"name": "guard-node"}), 201)["token"]
    doc = {"v": 1, "token": token, "hostname": "guard-node", "os": "linux", "arch": "x86_64", "cpu_count": 1,
           "memory_bytes": 1 << 30, "disk_bytes": 1 << 30, "agent_version": "0.1.0", "drivers": ["process"]}
    out = expect(server.request("POST", "/v1/agent/register", json=doc), 200)
    return out["node_id"], out["agent_token"]


def concrete(w, path):
    """The template with this world's ids of organisation A filled in."""
    ids = {"orgId": w.alice.org, "userId": w.carol.id, "inviteId": w.pending_invite, "key": "nodes.read",
           "name": "deploy", "token": uuid.uuid4().hex, "containerId": "guard-container", "pid": "4242",
           "category": "game-servers"}
    if path.startswith("/v1/api-tokens/"):
        ids["id"] = w.a_token["id"]
    elif path.startswith("/v1/webhook-tokens/"):
        ids["id"] = w.a_webhook
    elif path.startswith("/v1/nodes/"):
        ids["id"] = w.a_node[0]
    elif path.startswith("/v1/workloads/"):
        ids["id"] = w.a_workload
    elif path.startswith("/v1/backup-config/"):
        ids["id"] = w.a_backup_config
    elif path.startswith("/v1/instances/"):
        ids["id"] = w.a_instance
    elif path.startswith("/v1/credentials/"):
        ids["id"] = w.a_credential
    elif path.startswith("/v1/ssh/certificates/"):
        ids["id"] = w.a_certificate
    elif path.startswith("/v1/deploy/"):
        ids["id"] = w.a_deployment
    elif path.startswith("/v1/admin/organizations/"):
        ids["id"] = w.alice.org
    elif path.startswith("/v1/admin/plans/"):
        ids["id"] = FREE_PLAN
    elif "/users/" in path:
        ids["id"] = w.carol.id
    out = path
    for name in [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]:
        out = out.replace("{" + name + "}", ids.get(name, str(uuid.uuid4())))
    return out


UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def call(w, method, path, headers):
    if (method, path) in w.sockets and ("Authorization" in headers or "X-Agent-Token" in headers):
        headers = {**UPGRADE, **headers}
    kw = {"headers": headers}
    if method in ("POST", "PUT"):
        # A valid workload document, so that a route checking its body first still reaches its guard.
        kw["json"] = WORKLOAD if path.startswith("/v1/workloads") and method == "PUT" else {}
    return w.server.request(method, path, **kw)


def protected(w):
    return [(p, m, op) for p, m, op in w.operations if op["x-shardlyn-auth"] not in ("public", "agent")]


def agent_routes(w):
    return [(p, m, op) for p, m, op in w.operations if op["x-shardlyn-auth"] == "agent"]


def test_the_document_declares_a_guard_on_every_operation(world):
    doc = expect(world.server.get("/v1/openapi.json"), 200)
    for path, item in doc["paths"].items():
        if not path.startswith("/v1/") or path.startswith(("/v1/docs", "/v1/openapi")):
            continue
        for method, op in item.items():
            assert op["x-shardlyn-auth"] in ("public", "jwt", "jwt_or_api_token", "admin", "agent"), (method, path)
            assert op["x-shardlyn-org"] in ("none", "path", "current"), (method, path)
            assert (op["x-shardlyn-auth"] == "public") == (op.get("security") == []), (method, path)
    assert len(protected(world)) >= 50


def test_no_token_is_401(world):
    for path, method, _ in protected(world):
        r = call(world, method, concrete(world, path), {})
        expect_error(world.server, r, 401)
        assert r.headers["WWW-Authenticate"] == "Bearer", (method, path)
        r = call(world, method, concrete(world, path), {"Authorization": "Basic dXNlcjpwdw=="})
        expect_error(world.server, r, 401)


def test_agent_routes_take_only_an_agent_token(world):
    _, agent_token = world.a_node
    assert agent_routes(world)
    for path, method, _ in agent_routes(world):
        url = concrete(world, path)
        for headers in ({}, world.alice.headers, bearer(world.a_token["token"]), {"X-Agent-Token": world.a_token["token"]},
                        {"X-Agent-Token": agent_token[:-2] + "xx"}, bearer(agent_token)):
            expect_error(world.server, call(world, method, url, headers), 401)


def test_an_agent_token_on_a_user_route_is_401(world):
    _, agent_token = world.a_node
    for path, method, _ in protected(world):
        url = concrete(world, path)
        for headers in ({"X-Agent-Token": agent_token}, bearer(agent_token)):
            expect_error(world.server, call(world, method, url, headers), 401)


def test_expired_access_token_is_401(world):
    for path, method, _ in protected(world):
        expect_error(world.server, call(world, method, concrete(world, path), bearer(world.expired_jwt)), 401)


def test_revoked_or_expired_api_token_is_401(world):
    for path, method, _ in protected(world):
        for token in (world.a_revoked["token"], world.a_expired["token"]):
            expect_error(world.server, call(world, method, concrete(world, path), bearer(token)), 401)
        mangled = world.a_token["token"][:-2] + ("AA" if not world.a_token["token"].endswith("AA") else "BB")
        expect_error(world.server, call(world, method, concrete(world, path), bearer(mangled)), 401)


def test_another_organisation_is_404(world):
    checked = 0
    for path, method, op in protected(world):
        scope = op["x-shardlyn-org"]
        if scope == "none":
            continue
        url = concrete(world, path)
        headers = {"X-Organization-Id": world.alice.org} if scope == "current" else {}
        if op["x-shardlyn-auth"] != "jwt_or_api_token" and op["x-shardlyn-auth"] != "jwt":
            continue
        expect_error(world.server, call(world, method, url, {**world.bob.headers, **headers}), 404)
        if op["x-shardlyn-auth"] == "jwt_or_api_token":
            expect_error(world.server, call(world, method, url, {**bearer(world.b_token["token"]), **headers}), 404)
        if scope == "current" and "{" in path and "{category}" not in path:  # a category is no one's
            # Bob in his own organisation, naming a resource of A: not found either.
            expect_error(world.server, call(world, method, url, world.bob.headers), 404)
        checked += 1
    assert checked >= 20
    # Nothing of A was touched by those calls.
    assert len(expect(world.alice.get(f"/v1/organizations/{world.alice.org}/members"), 200)["items"]) == 2
    assert any(t["id"] == world.a_token["id"] and not t["revoked"]
               for t in expect(world.alice.get("/v1/api-tokens"), 200)["items"])


def test_missing_permission_is_403(world):
    checked = 0
    for path, method, op in protected(world):
        auth, permission = op["x-shardlyn-auth"], op["x-shardlyn-permission"]
        url = concrete(world, path)
        if auth == "admin":
            expect_error(world.server, call(world, method, url, world.alice.headers), 403)
            expect_error(world.server, call(world, method, url, bearer(world.root_none["token"])), 403)
            expect_error(world.server, call(world, method, url, bearer(world.a_token["token"])), 403)
            checked += 1
        elif auth == "jwt":
            # User-only routes do not take API tokens, whatever the token may do.
            expect_error(world.server, call(world, method, url, bearer(world.a_token["token"])), 403)
            if permission:
                in_a = {"X-Organization-Id": world.alice.org} if op["x-shardlyn-org"] == "current" else {}
                expect_error(world.server, call(world, method, url, {**world.carol.headers, **in_a}), 403, permission)
            checked += 1
        elif auth == "jwt_or_api_token" and permission:
            expect_error(world.server, call(world, method, url, bearer(world.a_none["token"])), 403, permission)
            checked += 1
    assert checked >= 40


def test_a_permission_override_opens_and_closes_a_route(world):
    org, carol = world.alice.org, world.carol
    in_a = {"X-Organization-Id": org}
    expect_error(world.server, carol.get("/v1/api-tokens", headers=in_a), 403)
    expect(world.alice.post(f"/v1/organizations/{org}/members/{carol.id}/permissions",
                            {"permission": "api_tokens.manage", "granted": True}), 200)
    expect(carol.get("/v1/api-tokens", headers=in_a), 200)
    expect(world.alice.post(f"/v1/organizations/{org}/members/{carol.id}/permissions",
                            {"permission": "settings.read", "granted": False}), 200)
    expect_error(world.server, carol.get("/v1/settings", headers=in_a), 403, "settings.read")
    expect(world.alice.delete(f"/v1/organizations/{org}/members/{carol.id}/permissions/settings.read"), 204)
    expect(world.alice.delete(f"/v1/organizations/{org}/members/{carol.id}/permissions/api_tokens.manage"), 204)
    expect(carol.get("/v1/settings", headers=in_a), 200)
    expect_error(world.server, carol.get("/v1/api-tokens", headers=in_a), 403)
    # Without the header carol acts in her own organisation, where she is the owner.
    expect(carol.get("/v1/api-tokens"), 200)


def test_root_token_reaches_any_organisation_within_its_permissions(world):
    root = world.admin.api_token(permissions=["members.read", "admin.users"], root=True)
    client = token_client(world.server, root["token"], org=world.bob.org)
    members = expect(client.get(f"/v1/organizations/{world.bob.org}/members"), 200)
    assert [m["user_id"] for m in members["items"]] == [world.bob.id]
    expect(client.get("/v1/admin/users"), 200)
    expect_error(world.server, client.get("/v1/admin/metrics"), 403, "admin.metrics")
    expect_error(world.server, client.get("/v1/settings"), 403, "settings.read")
    no_org = token_client(world.server, root["token"])
    expect_error(world.server, no_org.get("/v1/settings"), 400, "X-Organization-Id")
    expect_error(world.server, token_client(world.server, root["token"], org=str(uuid.uuid4())).get("/v1/settings"),
                 404)


def test_the_right_caller_passes_every_guard(world):
    """The counterpart of the rejections above: on every protected GET route the rightful
    caller (A's owner, A's full API token, the platform admin) gets through."""
    checked = 0
    for path, method, op in protected(world):
        if method != "GET":
            continue
        url = concrete(world, path)
        in_a = {"X-Organization-Id": world.alice.org}
        if op["x-shardlyn-auth"] == "admin":
            callers = [world.admin.headers]
        elif op["x-shardlyn-auth"] == "jwt":
            callers = [{**world.alice.headers, **in_a}]
        else:
            callers = [{**world.alice.headers, **in_a}, bearer(world.a_token["token"])]
        for headers in callers:
            r = call(world, "GET", url, headers)
            if ("GET", url) in world.on_node:  # past the guard: the node's agent holds no tunnel
                expect_error(world.server, r, 409, "no tunnel")
                continue
            if url.startswith("/v1/backup-config/s3-buckets"):  # past the guard: A's S3 endpoint is closed
                expect_error(world.server, r, 502, "unreachable")
                continue
            # 501: a route whose feature needs a setting this server lacks (HelpScout); 101: a WebSocket.
            assert r.status_code in ((101,) if ("GET", url) in world.sockets else (200, 501)), (path, r.status_code, r.text)
        checked += 1
    assert checked >= 20
    assert len(world.on_node) == 14  # inventory (7), terminal, container logs and actions (4), process kill


def test_webhook_receivers_take_a_signature_not_a_token(world):
    # Public routes: a user's or an API token opens nothing; an unsigned or mis-signed delivery is 401.
    body = {"ref": "refs/heads/main", "repository": {"clone_url": "https://example.com/none.git"}}
    for path, headers in (("/v1/webhooks/github", {}), ("/v1/webhooks/github", {"X-Hub-Signature-256": "sha256=00"}),
                          ("/v1/webhooks/gitlab", {}), ("/v1/webhooks/gitlab", {"X-Gitlab-Token": "guess"})):
        for credential in ({}, world.alice.headers, bearer(world.a_token["token"])):
            expect_error(world.server, world.server.request("POST", path, json=body, headers={**credential, **headers}), 401)
