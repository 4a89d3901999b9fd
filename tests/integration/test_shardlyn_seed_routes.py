"""shardlyn-api against the API reference (seed 002) for the groups of issue 6: every route of
Auth, MFA, Users, API Tokens, Organizations, Permissions, Settings, Webhook Tokens, Admin,
Support, System and Health is served, documented in /v1/openapi.json with a guard matching its
badge (Public, JWT - which may also accept API tokens - or Admin), and the request and response
fields the reference shows are in the document and in real answers.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_seed_routes.py
"""
from collections import Counter

from shardlyn_helpers import SHARDLYN_ENV, bearer, expect, register, shardlyn  # noqa: F401

SEED_ROUTES = [
    ("Auth", "POST", "/v1/auth/login", "public"),
    ("Auth", "POST", "/v1/auth/register", "public"),
    ("Auth", "POST", "/v1/auth/refresh", "public"),
    ("Auth", "POST", "/v1/auth/forgot-password", "public"),
    ("Auth", "POST", "/v1/auth/reset-password", "public"),
    ("Auth", "GET", "/v1/auth/github", "public"),
    ("Auth", "GET", "/v1/auth/github/callback", "public"),
    ("Auth", "GET", "/v1/auth/bootstrap/status", "public"),
    ("Auth", "POST", "/v1/auth/bootstrap", "public"),
    ("MFA", "GET", "/v1/auth/mfa/status", "jwt"),
    ("MFA", "POST", "/v1/auth/mfa/enroll", "jwt"),
    ("MFA", "POST", "/v1/auth/mfa/verify", "jwt"),
    ("MFA", "POST", "/v1/auth/mfa/disable", "jwt"),
    ("MFA", "POST", "/v1/auth/mfa/challenge", "public"),
    ("Users", "GET", "/v1/users/me", "jwt"),
    ("Users", "POST", "/v1/users/me/password", "jwt"),
    ("Users", "GET", "/v1/users", "admin"),
    ("Users", "POST", "/v1/users", "admin"),
    ("Users", "GET", "/v1/users/{id}", "admin"),
    ("Users", "DELETE", "/v1/users/{id}", "admin"),
    ("API Tokens", "GET", "/v1/api-tokens", "jwt"),
    ("API Tokens", "POST", "/v1/api-tokens", "jwt"),
    ("API Tokens", "DELETE", "/v1/api-tokens/{id}", "jwt"),
    ("Organizations", "GET", "/v1/organizations", "jwt"),
    ("Organizations", "POST", "/v1/organizations", "jwt"),
    ("Organizations", "GET", "/v1/organizations/{orgId}", "jwt"),
    ("Organizations", "PUT", "/v1/organizations/{orgId}", "jwt"),
    ("Organizations", "DELETE", "/v1/organizations/{orgId}", "jwt"),
    ("Organizations", "GET", "/v1/organizations/{orgId}/members", "jwt"),
    ("Organizations", "POST", "/v1/organizations/{orgId}/members/invite", "jwt"),
    ("Organizations", "DELETE", "/v1/organizations/{orgId}/members/{userId}", "jwt"),
    ("Organizations", "PUT", "/v1/organizations/{orgId}/members/{userId}/role", "jwt"),
    ("Organizations", "GET", "/v1/organizations/{orgId}/members/{userId}/permissions", "jwt"),
    ("Organizations", "POST", "/v1/organizations/{orgId}/members/{userId}/permissions", "jwt"),
    ("Organizations", "DELETE", "/v1/organizations/{orgId}/members/{userId}/permissions/{key}", "jwt"),
    ("Organizations", "GET", "/v1/organizations/{orgId}/invites", "jwt"),
    ("Organizations", "DELETE", "/v1/organizations/{orgId}/invites/{inviteId}", "jwt"),
    ("Organizations", "POST", "/v1/invites/{token}/accept", "jwt"),
    ("Webhook Tokens", "GET", "/v1/webhook-tokens", "jwt"),
    ("Webhook Tokens", "POST", "/v1/webhook-tokens", "jwt"),
    ("Webhook Tokens", "DELETE", "/v1/webhook-tokens/{id}", "jwt"),
    ("Settings", "GET", "/v1/settings", "jwt"),
    ("Settings", "PUT", "/v1/settings", "jwt"),
    ("Settings", "POST", "/v1/settings/ssh-keys", "jwt"),
    ("Settings", "DELETE", "/v1/settings/ssh-keys/{name}", "jwt"),
    ("Settings", "POST", "/v1/settings/ssh-keys/{name}/default", "jwt"),
    ("Permissions", "GET", "/v1/permissions", "jwt"),
    ("Admin", "GET", "/v1/admin/metrics", "admin"),
    ("Admin", "GET", "/v1/admin/organizations", "admin"),
    ("Admin", "GET", "/v1/admin/organizations/{id}", "admin"),
    ("Admin", "GET", "/v1/admin/plans", "admin"),
    ("Admin", "POST", "/v1/admin/plans", "admin"),
    ("Admin", "PUT", "/v1/admin/plans/{id}", "admin"),
    ("Admin", "DELETE", "/v1/admin/plans/{id}", "admin"),
    ("Admin", "GET", "/v1/admin/subscriptions", "admin"),
    ("Admin", "PUT", "/v1/admin/subscriptions/{id}", "admin"),
    ("Admin", "GET", "/v1/admin/audit-logs", "admin"),
    ("Admin", "GET", "/v1/admin/audit-logs/export", "admin"),
    ("Admin", "GET", "/v1/admin/users", "admin"),
    ("Admin", "POST", "/v1/admin/users/{id}/suspend", "admin"),
    ("Admin", "POST", "/v1/admin/users/{id}/unsuspend", "admin"),
    ("Admin", "GET", "/v1/admin/settings/logs", "admin"),
    ("Admin", "PUT", "/v1/admin/settings/logs", "admin"),
    ("Support", "POST", "/v1/support/messages", "jwt"),
    ("Support", "GET", "/v1/support/helpscout/signature", "jwt"),
    ("System", "GET", "/v1/system/backup-config", "admin"),
    ("Health", "GET", "/health", "public"),
    ("Health", "GET", "/health/live", "public"),
    ("Health", "GET", "/health/ready", "public"),
    ("Health", "GET", "/health/detailed", "public"),
    ("Health", "GET", "/ready", "public"),
]

GROUP_SIZES = {"Auth": 9, "MFA": 5, "Users": 6, "API Tokens": 3, "Organizations": 15, "Permissions": 1,
               "Settings": 5, "Webhook Tokens": 3, "Admin": 16, "Support": 2, "System": 1, "Health": 5}
BADGE_GUARDS = {"public": {"public"}, "jwt": {"jwt", "jwt_or_api_token"}, "admin": {"admin"}}


def resolve(doc, schema):
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def fields(doc, schema):
    """Property names of a schema, through $ref, allOf and oneOf/anyOf."""
    schema = resolve(doc, schema)
    names = set(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            names |= fields(doc, part)
    return names


def request_fields(doc, method, path):
    op = doc["paths"][path][method.lower()]
    return fields(doc, op["requestBody"]["content"]["application/json"]["schema"])


def response_fields(doc, method, path, status):
    op = doc["paths"][path][method.lower()]
    return fields(doc, resolve(doc, op["responses"][status])["content"]["application/json"]["schema"])


def test_every_route_of_the_reference_is_documented_with_its_badge(shardlyn):
    assert Counter(group for group, *_ in SEED_ROUTES) == GROUP_SIZES
    doc = expect(shardlyn.get("/v1/openapi.json"), 200)
    for group, method, path, badge in SEED_ROUTES:
        op = doc["paths"].get(path, {}).get(method.lower())
        assert op is not None, f"{group}: {method} {path} is not documented"
        guard = op.get("x-shardlyn-auth", "public")
        assert guard in BADGE_GUARDS[badge], f"{method} {path}: badge {badge}, documented {guard}"


def test_every_route_of_the_reference_is_served(shardlyn):
    # Without credentials: public routes answer (anything but 401/404/405), the others 401.
    for group, method, path, badge in SEED_ROUTES:
        concrete = (path.replace("{orgId}", "00000000-0000-4000-8000-00000000000a")
                    .replace("{userId}", "00000000-0000-4000-8000-00000000000b")
                    .replace("{inviteId}", "00000000-0000-4000-8000-00000000000c")
                    .replace("{id}", "00000000-0000-4000-8000-00000000000d")
                    .replace("{key}", "nodes.read").replace("{name}", "laptop").replace("{token}", "x" * 43))
        r = shardlyn.request(method, concrete, json={} if method in ("POST", "PUT") else None,
                             allow_redirects=False)
        assert r.status_code != 405, f"{method} {path}"
        if badge == "public":
            assert r.status_code not in (401, 404), f"{method} {path}: {r.status_code}"
        else:
            assert r.status_code == 401, f"{method} {path}: {r.status_code}"


def test_documented_fields_match_the_reference(shardlyn):
    doc = expect(shardlyn.get("/v1/openapi.json"), 200)
    assert {"email", "password"} <= request_fields(doc, "POST", "/v1/auth/login")
    assert {"access_token", "refresh_token", "expires_in", "token_type", "mfa_required",
            "challenge_token"} <= response_fields(doc, "POST", "/v1/auth/login", "200")
    assert {"email", "password"} <= request_fields(doc, "POST", "/v1/auth/register")
    assert {"refresh_token"} <= request_fields(doc, "POST", "/v1/auth/refresh")
    assert {"access_token", "refresh_token", "expires_in", "token_type"} <= response_fields(
        doc, "POST", "/v1/auth/refresh", "200")
    assert {"email"} <= request_fields(doc, "POST", "/v1/auth/forgot-password")
    assert {"token", "new_password"} <= request_fields(doc, "POST", "/v1/auth/reset-password")
    assert {"enabled"} <= response_fields(doc, "GET", "/v1/auth/mfa/status", "200")
    assert {"secret", "otpauth_uri"} <= response_fields(doc, "POST", "/v1/auth/mfa/enroll", "200")
    assert {"name", "expires_in"} <= request_fields(doc, "POST", "/v1/api-tokens")
    assert {"id", "name", "token", "expires_at", "created_at"} <= response_fields(
        doc, "POST", "/v1/api-tokens", "201")


def test_answers_carry_the_reference_fields(shardlyn):
    user = register(shardlyn, "seed")
    login = expect(shardlyn.request("POST", "/v1/auth/login", json={"email": user.email, "password": user.password}),
                   200)
    assert {"access_token", "refresh_token", "expires_in", "token_type"} <= set(login)
    assert login["expires_in"] == 900 and login["token_type"] == "Bearer"
    refreshed = expect(shardlyn.request("POST", "/v1/auth/refresh", json={"refresh_token": login["refresh_token"]}),
                       200)
    assert set(refreshed) == set(login)
    assert expect(user.get("/v1/auth/mfa/status"), 200)["enabled"] is False
    enrolment = expect(user.post("/v1/auth/mfa/enroll"), 200)
    assert {"secret", "otpauth_uri"} <= set(enrolment) and enrolment["otpauth_uri"].startswith("otpauth://totp/")
    created = expect(user.post("/v1/api-tokens", {"name": "github-actions", "expires_in": 2592000},
                               headers=bearer(refreshed["access_token"])), 201)
    assert {"id", "name", "token", "expires_at", "created_at"} <= set(created)
    assert created["name"] == "github-actions" and created["token"].startswith("shardlyn_api_")
