"""shardlyn-api's authority rule (decision 0010): nobody grants, invites to, lifts a restriction
from, or acts on the member or the tokens of a role or permission they do not hold themselves.

The walk: for each actor (every role, with overrides that grant or deny the keys that manage
members, invites and tokens), in a fresh organisation with an owner, a peer holding keys of its
own (granted and denied), a pending invite and API tokens of the owner and the peer, the actor
tries every organisation-changing route on every target with every role and key. After each
attempt the effective permissions of everyone (read by an independent observer, a root API
token) are compared with those before: the actor never gains, nobody gains what the actor did
not hold, nobody the actor does not cover is touched, an account the actor invites gets no more
than the actor held, and the actor neither sees nor revokes tokens of someone it does not cover.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_authority.py
"""
import uuid

import pytest

from shardlyn_helpers import SHARDLYN_ENV, bootstrap, expect, register, token_client

KEYS = ["members.manage", "members.read", "members.invite", "billing.manage", "organization.delete",
        "api_tokens.manage", "instances.console", "nodes.create"]
PEER_OVERRIDES = [("api_tokens.manage", True), ("nodes.create", True), ("instances.console", False)]
ACTORS = [
    ("owner", []),
    ("admin", []),
    ("admin", [("members.read", False)]),
    ("admin", [("api_tokens.manage", False)]),
    ("user", []),
    ("user", [("members.manage", True)]),
    ("user", [("members.invite", True)]),
    ("user", [("api_tokens.manage", True)]),
    ("user", [("members.manage", True), ("members.read", False)]),
]


@pytest.fixture(scope="module")
def world(module_launch):
    server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    admin = bootstrap(server)
    observer = expect(admin.post("/v1/api-tokens", {"name": "observer", "root": True,
                                                    "permissions": ["members.read"]}), 201)["token"]
    return {"server": server, "observer": observer, "owner": register(server, "o"), "actor": register(server, "a"),
            "peer": register(server, "p"), "second": register(server, "a2")}


class Org:
    """A fresh organisation of `owner` with the actor (role and overrides), a peer, a pending
    invite and API tokens of the owner and the peer."""

    def __init__(self, w, role, overrides):
        self.w = w
        owner, actor, peer = w["owner"], w["actor"], w["peer"]
        self.id = expect(owner.post("/v1/organizations", {"name": f"walk {uuid.uuid4().hex[:6]}"}), 201)["id"]
        self.join(actor, "user" if role == "user" else "admin")
        if role == "owner":
            expect(owner.put(self.path(f"members/{actor.id}/role"), {"role": "owner"}), 200)
        for key, granted in overrides:
            expect(owner.post(self.path(f"members/{actor.id}/permissions"), {"permission": key, "granted": granted}),
                   200)
        self.join(peer, "user")
        for key, granted in PEER_OVERRIDES:
            expect(owner.post(self.path(f"members/{peer.id}/permissions"), {"permission": key, "granted": granted}),
                   200)
        self.invite_id = expect(owner.post(self.path("members/invite"), {"email": f"x-{uuid.uuid4().hex}@example.com",
                                                                          "role": "admin"}), 201)["id"]
        here = {"X-Organization-Id": self.id}
        self.tokens = {who.id: expect(who.post("/v1/api-tokens", {"name": "t"}, headers=here), 201)
                       for who in (owner, peer)}

    def path(self, rest=""):
        return f"/v1/organizations/{self.id}/{rest}".rstrip("/")

    def join(self, member, role):
        invite = expect(self.w["owner"].post(self.path("members/invite"), {"email": member.email, "role": role}), 201)
        expect(member.post(f"/v1/invites/{invite['token']}/accept"), 200)

    def holdings(self) -> dict:
        """Every member's effective permissions, read by the observer (root token)."""
        observer = token_client(self.w["server"], self.w["observer"], org=self.id)
        r = observer.get(self.path("members"), params={"per_page": 200})
        if r.status_code == 404:
            return {}
        ids = [m["user_id"] for m in expect(r, 200)["items"]]
        return {uid: set(expect(observer.get(self.path(f"members/{uid}/permissions")), 200)["permissions"])
                for uid in ids}


def attempts(w, owner_keys):
    """Every organisation-changing request the actor can send: (label, send(org), follow-up)."""
    a, o, p, second = w["actor"], w["owner"], w["peer"], w["second"]
    here = lambda org: {"X-Organization-Id": org.id}
    out = [("rename", lambda org: a.put(org.path(), {"name": "renamed"}), None),
           ("delete org", lambda org: a.delete(org.path()), None),
           ("delete invite", lambda org: a.delete(org.path(f"invites/{org.invite_id}")), None)]
    for role in ("admin", "user"):
        out.append((f"invite second account as {role}",
                    lambda org, role=role: a.post(org.path("members/invite"), {"email": second.email, "role": role}),
                    "accept"))
    for name, target in (("actor", a), ("owner", o), ("peer", p)):
        out.append((f"remove {name}", lambda org, t=target: a.delete(org.path(f"members/{t.id}")), None))
        for role in ("owner", "admin", "user"):
            out.append((f"{name} -> {role}",
                        lambda org, t=target, role=role: a.put(org.path(f"members/{t.id}/role"), {"role": role}),
                        None))
    for name, target in (("actor", a), ("peer", p)):
        for key in KEYS:
            for granted in (True, False):
                out.append((f"{'grant' if granted else 'deny'} {key} to {name}",
                            lambda org, t=target, k=key, g=granted: a.post(org.path(f"members/{t.id}/permissions"),
                                                                           {"permission": k, "granted": g}), None))
            out.append((f"drop override {key} of {name}",
                        lambda org, t=target, k=key: a.delete(org.path(f"members/{t.id}/permissions/{k}")), None))
    out.append(("token with the default set",
                lambda org: a.post("/v1/api-tokens", {"name": "mine"}, headers=here(org)), "token"))
    out.append(("token with every owner key",
                lambda org: a.post("/v1/api-tokens", {"name": "big", "permissions": owner_keys}, headers=here(org)),
                "token"))
    for name, creator in (("owner", o), ("peer", p)):
        out.append((f"revoke the token of the {name}",
                    lambda org, c=creator: a.delete(f"/v1/api-tokens/{org.tokens[c.id]['id']}", headers=here(org)),
                    ("revoke", creator.id)))
    return out


def check(w, org, label, r, follow_up, before, after):
    a, second = w["actor"], w["second"]
    mine = before.get(a.id, set())
    assert r.status_code < 500, (label, r.status_code, r.text)
    assert after.get(a.id, set()) <= mine, (label, "the actor gained", after.get(a.id, set()) - mine)
    for uid, now in after.items():
        gained = now - before.get(uid, set())
        assert gained <= mine, (label, uid, "gained what the actor does not hold", gained - mine)
    for uid, had in before.items():
        if uid != a.id and after.get(uid) != had:
            assert had <= mine, (label, uid, "changed although it holds more than the actor", had - mine)
    if follow_up == "accept" and r.status_code == 201:
        expect(second.post(f"/v1/invites/{r.json()['token']}/accept"), 200)
        joined = org.holdings()[second.id]
        assert joined <= mine, (label, "the invited account holds more than the actor", joined - mine)
    if follow_up == "token" and r.status_code == 201:
        assert set(r.json()["permissions"]) <= mine, (label, set(r.json()["permissions"]) - mine)
    if isinstance(follow_up, tuple):
        creator = follow_up[1]
        if r.status_code == 204:
            assert creator == a.id or before.get(creator, set()) <= mine, (label, "revoked a stronger member's token")
        else:
            assert r.status_code in (403, 404), (label, r.status_code)
            usable = token_client(w["server"], org.tokens[creator]["token"]).get("/v1/settings")
            assert usable.status_code in (200, 403, 404), (label, usable.status_code)  # not revoked (401)


@pytest.mark.parametrize("role,overrides", ACTORS, ids=[f"{r}{''.join('+' + k if g else '-' + k for k, g in o)}"
                                                       for r, o in ACTORS])
def test_no_organisation_change_gives_anyone_more_than_the_actor_holds(world, role, overrides):
    org = Org(world, role, overrides)
    owner_keys = expect(world["owner"].get("/v1/permissions"), 200)["roles"]["owner"]
    tried = succeeded = 0
    for label, send, follow_up in attempts(world, owner_keys):
        before = org.holdings()
        r = send(org)
        after = org.holdings()
        check(world, org, label, r, follow_up, before, after)
        tried += 1
        if r.status_code < 300:
            succeeded += 1
            org = Org(world, role, overrides)  # start the next attempt from the same state
    assert tried > 60
    if role == "owner":
        assert succeeded >= 30  # an owner covers everyone: the walk does change things


@pytest.mark.parametrize("role,overrides", ACTORS[1:], ids=[f"{r}{len(o)}" for r, o in ACTORS[1:]])
def test_tokens_of_stronger_members_are_neither_listed_nor_revocable(world, role, overrides):
    org = Org(world, role, overrides)
    a, o = world["actor"], world["owner"]
    here = {"X-Organization-Id": org.id}
    holdings = org.holdings()
    r = a.get("/v1/api-tokens", headers=here)
    if r.status_code == 200:
        for t in expect(r, 200)["items"]:
            creator = next(uid for uid, tok in org.tokens.items() if tok["id"] == t["id"])
            assert holdings[creator] <= holdings[a.id], t
        assert org.tokens[o.id]["id"] not in {t["id"] for t in r.json()["items"]}
    else:
        assert r.status_code == 403
    assert a.delete(f"/v1/api-tokens/{org.tokens[o.id]['id']}", headers=here).status_code in (403, 404)
    expect(token_client(world["server"], org.tokens[o.id]["token"]).get("/v1/settings"), 200)


def test_the_reported_escalations_are_refused(world):
    """The four from the attack, one by one."""
    o, a, second = world["owner"], world["actor"], world["second"]
    # members.manage on top of "user" does not make its holder admin.
    org = Org(world, "user", [("members.manage", True)])
    r = a.put(org.path(f"members/{a.id}/role"), {"role": "admin"})
    assert r.status_code == 403 and "admin" in r.json()["error"]
    # members.invite does not invite a second account as admin.
    org = Org(world, "user", [("members.invite", True)])
    assert a.post(org.path("members/invite"), {"email": second.email, "role": "admin"}).status_code == 403
    # A denial cannot be lifted by the member it restricts.
    org = Org(world, "admin", [("members.read", False)])
    r = a.delete(org.path(f"members/{a.id}/permissions/members.read"))
    assert r.status_code == 403 and "members.read" in r.json()["error"]
    # An admin does not list or revoke the owner's tokens.
    org = Org(world, "admin", [])
    here = {"X-Organization-Id": org.id}
    listed = {t["id"] for t in expect(a.get("/v1/api-tokens", headers=here), 200)["items"]}
    assert org.tokens[o.id]["id"] not in listed and org.tokens[world["peer"].id]["id"] in listed
    assert a.delete(f"/v1/api-tokens/{org.tokens[o.id]['id']}", headers=here).status_code == 404
    # The owner still acts on everyone's tokens.
    assert o.delete(f"/v1/api-tokens/{org.tokens[world['peer'].id]['id']}", headers=here).status_code == 204


def test_an_invite_lapses_when_its_sender_loses_the_role(world):
    o, a, second = world["owner"], world["actor"], world["second"]
    org = Org(world, "admin", [])
    invite = expect(a.post(org.path("members/invite"), {"email": second.email, "role": "admin"}), 201)
    expect(o.put(org.path(f"members/{a.id}/role"), {"role": "user"}), 200)
    r = second.post(f"/v1/invites/{invite['token']}/accept")
    assert r.status_code == 409 and "lapsed" in r.json()["error"]
    assert second.id not in org.holdings()
