"""shardlyn-api keeps what authentication reads (sessions, users, memberships with overrides,
API tokens) in memory. Each test first makes the same request succeed, so the answer is cached,
then changes the state through the API and checks that the very next request sees the change.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_access_cache.py
"""
from shardlyn_helpers import (SHARDLYN_ENV, bearer, expect, expect_error, register, shardlyn,  # noqa: F401
                              token_client)


def join(owner, member, role="user"):
    invite = expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": member.email,
                                                                                "role": role}), 201)
    expect(member.post(f"/v1/invites/{invite['token']}/accept"), 200)


def test_removed_member_is_refused_at_once(shardlyn):
    owner, member = register(shardlyn, "cmo"), register(shardlyn, "cmm")
    join(owner, member)
    in_org = {"X-Organization-Id": owner.org}
    expect(owner.post(f"/v1/organizations/{owner.org}/members/{member.id}/permissions",
                      {"permission": "api_tokens.manage", "granted": True}), 200)
    token = expect(member.post("/v1/api-tokens", {"name": "m", "permissions": ["settings.read"]}, headers=in_org), 201)
    client = token_client(shardlyn, token["token"])
    for _ in range(2):
        expect(member.get("/v1/settings", headers=in_org), 200)
        expect(member.get(f"/v1/organizations/{owner.org}/members"), 200)
        expect(client.get("/v1/settings"), 200)
    expect(owner.delete(f"/v1/organizations/{owner.org}/members/{member.id}"), 204)
    expect_error(shardlyn, member.get("/v1/settings", headers=in_org), 404)
    expect_error(shardlyn, member.get(f"/v1/organizations/{owner.org}/members"), 404)
    expect_error(shardlyn, client.get("/v1/settings"), 401)
    # Joining again is seen at once too (the refusal was cached).
    join(owner, member)
    expect(member.get("/v1/settings", headers=in_org), 200)


def test_permission_override_and_role_change_apply_at_once(shardlyn):
    owner, member = register(shardlyn, "cpo"), register(shardlyn, "cpm")
    join(owner, member)
    base = f"/v1/organizations/{owner.org}/members/{member.id}/permissions"
    in_org = {"X-Organization-Id": owner.org}
    expect(member.get("/v1/settings", headers=in_org), 200)
    expect(member.get("/v1/settings", headers=in_org), 200)
    expect(owner.post(base, {"permission": "settings.read", "granted": False}), 200)
    expect_error(shardlyn, member.get("/v1/settings", headers=in_org), 403, "settings.read")
    expect(owner.delete(f"{base}/settings.read"), 204)
    expect(member.get("/v1/settings", headers=in_org), 200)
    # A plain user may not manage settings; promotion to admin allows it on the next request.
    changes = {"default_region": "eu-west"}
    expect_error(shardlyn, member.put("/v1/settings", changes, headers=in_org), 403, "settings.manage")
    expect(owner.put(f"/v1/organizations/{owner.org}/members/{member.id}/role", {"role": "admin"}), 200)
    expect(member.put("/v1/settings", changes, headers=in_org), 200)
    expect(owner.put(f"/v1/organizations/{owner.org}/members/{member.id}/role", {"role": "user"}), 200)
    expect_error(shardlyn, member.put("/v1/settings", changes, headers=in_org), 403, "settings.manage")


def test_override_on_token_creator_applies_to_the_next_token_request(shardlyn):
    owner = register(shardlyn, "cto")
    token = owner.api_token(permissions=["settings.read"])
    client = token_client(shardlyn, token["token"])
    expect(client.get("/v1/settings"), 200)
    expect(client.get("/v1/settings"), 200)
    # An owner holds everything and cannot be overridden; demote through a second owner.
    other = register(shardlyn, "cto2")
    join(owner, other, "admin")
    expect(owner.put(f"/v1/organizations/{owner.org}/members/{other.id}/role", {"role": "owner"}), 200)
    expect(other.put(f"/v1/organizations/{owner.org}/members/{owner.id}/role", {"role": "user"}), 200)
    expect(client.get("/v1/settings"), 200)  # a user still reads settings
    expect(other.post(f"/v1/organizations/{owner.org}/members/{owner.id}/permissions",
                      {"permission": "settings.read", "granted": False}), 200)
    expect_error(shardlyn, client.get("/v1/settings"), 403, "settings.read")


def test_suspension_logout_and_revocation_apply_at_once(shardlyn):
    admin, user = shardlyn.admin, register(shardlyn, "csu")
    token = user.api_token()
    client = token_client(shardlyn, token["token"])
    for _ in range(2):
        expect(user.get("/v1/users/me"), 200)
        expect(client.get("/v1/settings"), 200)
    expect(admin.post(f"/v1/admin/users/{user.id}/suspend"), 200)
    expect_error(shardlyn, user.get("/v1/users/me"), 401)
    expect_error(shardlyn, client.get("/v1/settings"), 403, "suspended")
    expect(admin.post(f"/v1/admin/users/{user.id}/unsuspend"), 200)
    expect(client.get("/v1/settings"), 200)
    # Revoking the token refuses the very next request with it.
    fresh = register(shardlyn, "crv")
    revocable = fresh.api_token()
    revocable_client = token_client(shardlyn, revocable["token"])
    expect(revocable_client.get("/v1/settings"), 200)
    expect(fresh.delete(f"/v1/api-tokens/{revocable['id']}"), 204)
    expect_error(shardlyn, revocable_client.get("/v1/settings"), 401, "revoked")
    # Signing out ends the cached session.
    expect(fresh.get("/v1/users/me"), 200)
    expect(fresh.post("/v1/auth/logout"), 204)  # logout takes no body: the session is the bearer token
    expect_error(shardlyn, fresh.get("/v1/users/me"), 401)


def test_deleted_organisation_applies_at_once(shardlyn):
    admin = shardlyn.admin
    owner = register(shardlyn, "cdo")
    org = expect(owner.post("/v1/organizations", {"name": "Short lived"}), 201)["id"]
    root = token_client(shardlyn, admin.api_token(root=True, permissions=["settings.read"])["token"], org)
    member_token = owner.api_token(permissions=["settings.read"])
    for _ in range(2):
        expect(owner.get("/v1/settings", headers={"X-Organization-Id": org}), 200)
        expect(owner.get(f"/v1/organizations/{org}"), 200)
        assert expect(root.get("/v1/settings"), 200)["organization_id"] == org
    expect(owner.delete(f"/v1/organizations/{org}"), 204)
    expect_error(shardlyn, owner.get("/v1/settings", headers={"X-Organization-Id": org}), 404)
    expect_error(shardlyn, owner.get(f"/v1/organizations/{org}"), 404)
    expect_error(shardlyn, root.get("/v1/settings"), 404)
    # The owner's first organisation is untouched.
    expect(token_client(shardlyn, member_token["token"]).get("/v1/settings"), 200)


def test_a_refused_session_stays_refused_and_tokens_are_checked_by_secret(shardlyn):
    user = register(shardlyn, "csec")
    token = user.api_token()
    client = token_client(shardlyn, token["token"])
    expect(client.get("/v1/settings"), 200)
    # Same token id, another secret: refused although the id's record is cached.
    prefix, secret = token["token"][:-43], token["token"][-43:]
    forged = prefix + ("A" if secret[0] != "A" else "B") + secret[1:]
    expect_error(shardlyn, shardlyn.get("/v1/settings", headers=bearer(forged)), 401, "invalid API token")
    expect(client.get("/v1/settings"), 200)
