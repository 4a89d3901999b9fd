"""shardlyn-api Organization Endpoints (organisations, members, invites) and the Permissions
Endpoint: roles owner/admin/user, per-member overrides, invites by token with expiry.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_organizations.py
"""
import time
import uuid

from shardlyn_helpers import (SHARDLYN_ENV, bootstrap, expect, expect_error, outbox, register,  # noqa: F401
                              shardlyn, unique_email)


def join(owner, member, role="user"):
    """Invites `member` into owner's organisation with `role` and accepts."""
    invite = expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": member.email,
                                                                                "role": role}), 201)
    expect(member.post(f"/v1/invites/{invite['token']}/accept"), 200)


def test_permission_catalogue(shardlyn):
    user = register(shardlyn, "cat")
    body = expect(user.get("/v1/permissions"), 200)
    keys = [p["key"] for p in body["permissions"]]
    assert len(keys) == len(set(keys))
    for key in ("nodes.read", "nodes.create", "instances.console", "billing.manage", "members.manage",
                "api_tokens.manage", "admin.users"):
        assert key in keys
    assert {g["name"] for g in body["groups"]} >= {"Nodes", "Instances", "Billing", "Organization"}
    assert sorted(k for g in body["groups"] for k in g["permissions"]) == sorted(keys)
    roles = body["roles"]
    assert set(roles) == {"owner", "admin", "user"}
    assert set(roles["user"]) < set(roles["admin"]) < set(roles["owner"])
    assert "organization.delete" in roles["owner"] and "organization.delete" not in roles["admin"]
    platform = {p["key"] for p in body["permissions"] if p["scope"] == "platform"}
    assert platform and not platform & set(roles["owner"])
    expect_error(shardlyn, shardlyn.get("/v1/permissions"), 401)


def test_organisation_crud(shardlyn):
    owner = register(shardlyn, "orgs")
    mine = expect(owner.get("/v1/organizations"), 200)
    assert mine["total"] == 1 and mine["items"][0]["role"] == "owner"
    created = expect(owner.post("/v1/organizations", {"name": "Game Servers Ltd"}), 201)
    assert created["name"] == "Game Servers Ltd" and created["role"] == "owner" and created["member_count"] == 1
    expect_error(shardlyn, owner.post("/v1/organizations", {}), 400, "name")
    expect_error(shardlyn, owner.post("/v1/organizations", {"name": "x" * 101}), 400, "name")
    org = created["id"]
    assert expect(owner.get(f"/v1/organizations/{org}"), 200)["id"] == org
    renamed = expect(owner.put(f"/v1/organizations/{org}", {"name": "Renamed"}), 200)
    assert renamed["name"] == "Renamed"
    expect_error(shardlyn, owner.put(f"/v1/organizations/{org}", {"name": ""}), 400, "name")
    assert expect(owner.get("/v1/organizations"), 200)["total"] == 2
    expect_error(shardlyn, owner.get(f"/v1/organizations/{uuid.uuid4()}"), 404)
    expect_error(shardlyn, owner.get("/v1/organizations/not-a-uuid"), 404)
    expect(owner.delete(f"/v1/organizations/{org}"), 204)
    expect_error(shardlyn, owner.get(f"/v1/organizations/{org}"), 404)


def test_roles_decide_what_members_may_do(shardlyn):
    owner, admin, user = register(shardlyn, "own"), register(shardlyn, "adm"), register(shardlyn, "usr")
    join(owner, admin, "admin")
    join(owner, user, "user")
    org = owner.org
    members = expect(owner.get(f"/v1/organizations/{org}/members"), 200)["items"]
    assert {(m["user_id"], m["role"]) for m in members} == {(owner.id, "owner"), (admin.id, "admin"),
                                                            (user.id, "user")}
    # The admin manages members but may not delete the organisation or touch owners.
    expect_error(shardlyn, admin.delete(f"/v1/organizations/{org}"), 403, "organization.delete")
    expect_error(shardlyn, admin.put(f"/v1/organizations/{org}/members/{user.id}/role", {"role": "owner"}), 403)
    expect_error(shardlyn, admin.delete(f"/v1/organizations/{org}/members/{owner.id}"), 403)
    # The user reads but does not manage.
    expect(user.get(f"/v1/organizations/{org}/members"), 200)
    expect_error(shardlyn, user.put(f"/v1/organizations/{org}", {"name": "mine now"}), 403, "organization.update")
    expect_error(shardlyn, user.post(f"/v1/organizations/{org}/members/invite", {"email": unique_email()}), 403)
    # Roles change; bad roles are 400; the last owner stays.
    promoted = expect(admin.put(f"/v1/organizations/{org}/members/{user.id}/role", {"role": "admin"}), 200)
    assert promoted["role"] == "admin" and "members.manage" in promoted["permissions"]
    expect_error(shardlyn, owner.put(f"/v1/organizations/{org}/members/{user.id}/role", {"role": "boss"}), 400,
                 "role")
    expect_error(shardlyn, owner.put(f"/v1/organizations/{org}/members/{owner.id}/role", {"role": "user"}), 409)
    expect_error(shardlyn, owner.delete(f"/v1/organizations/{org}/members/{owner.id}"), 409)
    expect_error(shardlyn, owner.put(f"/v1/organizations/{org}/members/{uuid.uuid4()}/role", {"role": "user"}), 404)
    # A second owner makes demoting the first possible.
    expect(owner.put(f"/v1/organizations/{org}/members/{admin.id}/role", {"role": "owner"}), 200)
    expect(admin.put(f"/v1/organizations/{org}/members/{owner.id}/role", {"role": "user"}), 200)
    # Removing a member ends their access and their API tokens of this organisation.
    token = expect(admin.post("/v1/api-tokens", {"name": "ci"}, headers={"X-Organization-Id": org}), 201)["token"]
    expect(shardlyn.request("GET", "/v1/settings", headers={"Authorization": f"Bearer {token}"}), 200)
    expect(admin.delete(f"/v1/organizations/{org}/members/{user.id}"), 204)
    expect_error(shardlyn, user.get(f"/v1/organizations/{org}"), 404)
    expect_error(shardlyn, admin.delete(f"/v1/organizations/{org}/members/{user.id}"), 404)


def test_permission_overrides(shardlyn):
    owner, member = register(shardlyn, "ovo"), register(shardlyn, "ovm")
    join(owner, member, "user")
    org, base = owner.org, f"/v1/organizations/{owner.org}/members/{member.id}/permissions"
    view = expect(owner.get(base), 200)
    assert view["role"] == "user" and view["overrides"] == [] and "nodes.create" not in view["permissions"]
    granted = expect(owner.post(base, {"permission": "nodes.create", "granted": True}), 200)
    assert "nodes.create" in granted["permissions"]
    assert granted["overrides"] == [{"permission": "nodes.create", "granted": True}]
    denied = expect(owner.post(base, {"permission": "nodes.read", "granted": False}), 200)
    assert "nodes.read" not in denied["permissions"]
    expect_error(shardlyn, owner.post(base, {"permission": "nodes.fly", "granted": True}), 400, "permission")
    expect_error(shardlyn, owner.post(base, {"permission": "admin.users", "granted": True}), 400, "permission")
    expect_error(shardlyn, owner.post(base, {}), 400, "permission")
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/{owner.id}/permissions",
                                      {"permission": "nodes.read", "granted": False}), 409)
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/{uuid.uuid4()}/permissions",
                                      {"permission": "nodes.read", "granted": True}), 404)
    expect(owner.delete(f"{base}/nodes.read"), 204)
    expect_error(shardlyn, owner.delete(f"{base}/nodes.read"), 404)
    expect_error(shardlyn, owner.delete(f"{base}/bogus.key"), 400)
    assert "nodes.read" in expect(owner.get(base), 200)["permissions"]
    # Nobody grants what they do not hold: an admin without billing.manage cannot hand it out.
    admin = register(shardlyn, "ova")
    join(owner, admin, "admin")
    expect_error(shardlyn, admin.post(base, {"permission": "billing.manage", "granted": True}), 403, "billing.manage")


def test_invites(shardlyn):
    owner, guest, stranger = register(shardlyn, "invo"), register(shardlyn, "invg"), register(shardlyn, "invs")
    org = owner.org
    invite = expect(owner.post(f"/v1/organizations/{org}/members/invite", {"email": guest.email, "role": "admin"}),
                    201)
    assert invite["email"] == guest.email and invite["role"] == "admin" and len(invite["token"]) >= 40
    mails = [m for m in outbox(shardlyn, guest.email) if m["X-Shardlyn-Mail"] == "invite"]
    assert len(mails) == 1
    assert f"/v1/invites/{invite['token']}/accept" in mails[0].get_content()
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/invite", {"email": guest.email}), 409)
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/invite", {"email": owner.email}), 409)
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/invite", {"email": "not-an-email"}), 400,
                 "email")
    expect_error(shardlyn, owner.post(f"/v1/organizations/{org}/members/invite",
                                      {"email": unique_email(), "role": "owner"}), 400, "role")
    listed = expect(owner.get(f"/v1/organizations/{org}/invites"), 200)["items"]
    assert [i["id"] for i in listed] == [invite["id"]] and "token" not in listed[0]
    expect_error(shardlyn, stranger.post(f"/v1/invites/{invite['token']}/accept"), 403)
    expect_error(shardlyn, guest.post(f"/v1/invites/{uuid.uuid4().hex}/accept"), 404)
    accepted = expect(guest.post(f"/v1/invites/{invite['token']}/accept"), 200)
    assert accepted == {"organization_id": org, "role": "admin"}
    expect_error(shardlyn, guest.post(f"/v1/invites/{invite['token']}/accept"), 404)
    assert expect(guest.get(f"/v1/organizations/{org}"), 200)["role"] == "admin"
    second = expect(owner.post(f"/v1/organizations/{org}/members/invite", {"email": unique_email()}), 201)
    expect(owner.delete(f"/v1/organizations/{org}/invites/{second['id']}"), 204)
    expect_error(shardlyn, owner.delete(f"/v1/organizations/{org}/invites/{second['id']}"), 404)


def test_invites_expire(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_INVITE_TTL_S": "1"})
    bootstrap(server)
    owner, guest = register(server, "exo"), register(server, "exg")
    invite = expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": guest.email}), 201)
    time.sleep(1.5)
    expect_error(server, guest.post(f"/v1/invites/{invite['token']}/accept"), 404, "expired")
    # An expired invite makes room for a new one to the same address.
    expect(owner.post(f"/v1/organizations/{owner.org}/members/invite", {"email": guest.email}), 201)


def test_lists_are_paginated(shardlyn):
    owner = register(shardlyn, "pgo")
    created = [expect(owner.post("/v1/organizations", {"name": f"Paged {i}"}), 201)["id"] for i in range(4)]
    everything = expect(owner.get("/v1/organizations"), 200)
    assert everything["total"] == 5 and everything["page"] == 1 and everything["per_page"] == 50
    assert [o["id"] for o in everything["items"]] == [owner.org] + created  # oldest membership first
    pages = [expect(owner.get("/v1/organizations", params={"per_page": 2, "page": n}), 200) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert all(p["total"] == 5 and p["per_page"] == 2 for p in pages)
    assert [o["id"] for p in pages for o in p["items"]] == [o["id"] for o in everything["items"]]
    capped = expect(owner.get("/v1/organizations", params={"per_page": 500}), 200)
    assert capped["per_page"] == 200 and len(capped["items"]) == 5
    for params, name in (({"per_page": 0}, "per_page"), ({"per_page": "many"}, "per_page"), ({"page": 0}, "page"),
                         ({"page": "x"}, "page")):
        expect_error(shardlyn, owner.get("/v1/organizations", params=params), 400, name)

    # Members: the owner and three who joined, oldest first.
    joined = [register(shardlyn, f"pgm{i}") for i in range(3)]
    for member in joined:
        join(owner, member)
    members = f"/v1/organizations/{owner.org}/members"
    first, second = (expect(owner.get(members, params={"per_page": 3, "page": n}), 200) for n in (1, 2))
    assert first["total"] == second["total"] == 4 and first["page"] == 1 and second["page"] == 2
    assert [m["user_id"] for m in first["items"] + second["items"]] == [owner.id] + [m.id for m in joined]
    assert expect(owner.get(members, params={"per_page": 201}), 200)["per_page"] == 200
    expect_error(shardlyn, owner.get(members, params={"per_page": -1}), 400, "per_page")
    expect_error(shardlyn, owner.get(members, params={"page": "2.5"}), 400, "page")

    # Invites, oldest first.
    invites = f"/v1/organizations/{owner.org}/invites"
    sent = [expect(owner.post(f"{members}/invite", {"email": unique_email("pgi")}), 201)["id"] for _ in range(3)]
    one, two = (expect(owner.get(invites, params={"per_page": 2, "page": n}), 200) for n in (1, 2))
    assert one["total"] == two["total"] == 3 and len(one["items"]) == 2 and len(two["items"]) == 1
    assert [i["id"] for i in one["items"] + two["items"]] == sent
    assert expect(owner.get(invites, params={"page": 9}), 200)["items"] == []
    expect_error(shardlyn, owner.get(invites, params={"per_page": "0"}), 400, "per_page")
