"""auth-server billing: plans, status, checkout and cancellation through the billing provider's
HTTP API (a local python HTTP server started here records what it receives), and the
provider's signed webhooks changing subscriptions and tiers, once per event id.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_billing.py
"""
import concurrent.futures
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from auth_helpers import AUTH_ENV, PASSWORD, bearer, error_of, execute, ok_data, post, query, register

SECRET = "whsec-" + "k" * 40
API_KEY = "provider-api-key-123"
TIERS = ["community", "solo", "pro", "business", "enterprise"]


class Provider:
    """A billing provider stand-in: records every request, answers what the test set."""

    def __init__(self):
        self.received = []
        self.status = 200
        self.body = None  # bytes; None = a checkout URL built from the request
        self.delay = 0.0  # seconds before answering
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                outer.received.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                time.sleep(outer.delay)
                body = outer.body
                if body is None:
                    reference = json.loads(raw).get("reference", "none")
                    body = json.dumps({"url": f"https://pay.example.com/checkout/{reference}"}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def provider():
    p = Provider()
    yield p
    p.close()


@pytest.fixture(scope="module")
def server(module_launch, provider):
    return module_launch("auth-server", env={**AUTH_ENV, "BILLING_WEBHOOK_SECRET": SECRET,
                                             "BILLING_CHECKOUT_URL": provider.url + "/v1/checkouts",
                                             "AUTH_BILLING_CANCEL_URL": provider.url + "/v1/cancellations",
                                             "AUTH_BILLING_API_KEY": API_KEY, "AUTH_BILLING_SWEEP_INTERVAL_S": "1",
                                             "PANGUARD_BASE_URL": "https://app.panguard.test"})


@pytest.fixture(autouse=True)
def reset_provider(provider):
    provider.received.clear()
    provider.status = 200
    provider.body = None
    provider.delay = 0.0


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_days(days: float) -> str:
    return rfc3339(datetime.now(timezone.utc) + timedelta(days=days))


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook(server, event, signature=None, raw: bytes | None = None, headers=None):
    body = raw if raw is not None else json.dumps(event).encode()
    h = {"Content-Type": "application/json"}
    if signature is not False:
        h["X-Signature"] = sign(body) if signature is None else signature
    h.update(headers or {})
    return server.request("POST", "/api/billing/webhook", data=body, headers=h)


def event(kind, sub_id, **data):
    return {"id": "evt_" + uuid.uuid4().hex, "type": kind, "createdAt": rfc3339(datetime.now(timezone.utc)),
            "data": {"subscriptionId": sub_id, **data}}


def status_of(server, token):
    return ok_data(server.get("/api/billing/status", headers=bearer(token)))


def tier_of(server, user_id):
    return query(server, "SELECT tier FROM users WHERE id = ?", user_id)[0]["tier"]


def audit(server, user_id, action):
    return [json.loads(r["detail"]) | {"actor": r["actor_id"]} for r in
            query(server, "SELECT detail, actor_id FROM audit_log WHERE user_id = ? AND action = ? ORDER BY seq",
                  user_id, action)]


def subscribe(server, user, tier="pro", days=30):
    sub_id = "sub_" + uuid.uuid4().hex[:16]
    e = event("subscription.created", sub_id, userId=user["user"]["id"], tier=tier, status="active",
              currentPeriodEnd=in_days(days))
    assert ok_data(webhook(server, e))["applied"] is True
    return sub_id


def test_plans_are_public(server):
    data = ok_data(server.get("/api/billing/plans"))
    assert [p["tier"] for p in data["plans"]] == TIERS
    by_tier = {p["tier"]: p for p in data["plans"]}
    assert by_tier["community"]["monthlyPriceCents"] == 0 and by_tier["community"]["selfService"] is False
    assert by_tier["enterprise"]["monthlyPriceCents"] is None and by_tier["enterprise"]["selfService"] is False
    assert all(by_tier[t]["selfService"] for t in ("solo", "pro", "business"))
    for meter in ("endpoints", "threatLookupsPerDay", "apiCallsPerDay", "sessions"):
        limits = [by_tier[t]["limits"][meter] for t in TIERS]
        assert limits[-1] is None  # enterprise: unlimited
        assert limits[:-1] == sorted(limits[:-1]) and len(set(limits[:-1])) == 4, (meter, limits)
    prices = [by_tier[t]["monthlyPriceCents"] for t in TIERS[:-1]]
    assert prices == sorted(prices)


def test_status_of_a_new_account(server):
    reg = register(server)
    assert status_of(server, reg["token"]) == {"tier": "community", "planExpiresAt": None, "subscription": None}
    error_of(server, server.get("/api/billing/status"), 401)


def test_checkout_calls_the_provider(server, provider):
    reg = register(server)
    data = ok_data(post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]))
    [call] = provider.received
    assert call["path"] == "/v1/checkouts"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["Authorization"] == f"Bearer {API_KEY}"
    sent = json.loads(call["body"])
    assert sent["tier"] == "pro" and sent["userId"] == reg["user"]["id"] and sent["email"] == reg["user"]["email"]
    assert sent["reference"].startswith("chk_") and call["headers"]["Idempotency-Key"] == sent["reference"]
    assert sent["successUrl"] == "https://app.panguard.test/billing?checkout=success"
    assert sent["cancelUrl"] == "https://app.panguard.test/billing?checkout=cancelled"
    assert data == {"url": f"https://pay.example.com/checkout/{sent['reference']}"}
    [entry] = audit(server, reg["user"]["id"], "billing.checkout_started")
    assert entry["tier"] == "pro" and entry["reference"] == sent["reference"]
    # the checkout alone changes nothing: the provider's webhook does
    assert tier_of(server, reg["user"]["id"]) == "community"


def test_checkout_input_and_provider_failures(server, provider):
    reg = register(server)
    for body in ({}, {"tier": "community"}, {"tier": "enterprise"}, {"tier": "gold"}, {"tier": 3}):
        err = error_of(server, post(server, "/api/billing/checkout", body, token=reg["token"]), 400, "validation_error")
        assert "tier" in err["error"]
    error_of(server, server.request("POST", "/api/billing/checkout", data="tier=pro", headers=bearer(reg["token"])),
             415)
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}), 401)
    assert provider.received == []

    provider.status = 500
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 502, "bad_gateway")
    provider.status = 200
    provider.body = b"<html>not json</html>"
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 502, "bad_gateway")
    provider.body = b'{"url": "javascript:alert(1)"}'
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 502, "bad_gateway")
    provider.body = b'{"id": "cs_1"}'
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 502, "bad_gateway")
    assert len(provider.received) == 4
    assert audit(server, reg["user"]["id"], "billing.checkout_started") == []

    # already on that plan: 409 without calling the provider; another plan is fine
    subscribe(server, reg, "pro")
    provider.received.clear()
    provider.body = None
    error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 409, "conflict")
    assert provider.received == []
    ok_data(post(server, "/api/billing/checkout", {"tier": "business"}, token=reg["token"]))


def test_provider_unreachable(launch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/checkout"
    server = launch("auth-server", env={**AUTH_ENV, "BILLING_CHECKOUT_URL": dead, "AUTH_BILLING_CANCEL_URL": dead})
    reg = register(server)
    err = error_of(server, post(server, "/api/billing/checkout", {"tier": "solo"}, token=reg["token"]), 502)
    assert "unreachable" in err["error"]


def test_provider_timeout_is_504(launch, provider):
    server = launch("auth-server", env={**AUTH_ENV, "BILLING_CHECKOUT_URL": provider.url + "/v1/checkouts",
                                        "AUTH_BILLING_TIMEOUT_S": "1"})
    reg = register(server)
    provider.delay = 8  # far beyond the 1 s timeout, however late the server notices it
    err = error_of(server, post(server, "/api/billing/checkout", {"tier": "solo"}, token=reg["token"]), 504,
                   "gateway_timeout")
    assert "did not answer" in err["error"]
    assert audit(server, reg["user"]["id"], "billing.checkout_started") == []


def test_webhook_size_and_rate_limits(launch):
    server = launch("auth-server", env={**AUTH_ENV, "BILLING_WEBHOOK_SECRET": SECRET, "AUTH_BILLING_WEBHOOK_LIMIT": "3/h"})  # no refill during the test
    big = json.dumps({"id": "evt_big", "type": "subscription.updated", "pad": "x" * 70000}).encode()
    error_of(server, webhook(server, None, raw=big), 413)
    statuses = [webhook(server, event("invoice.upcoming", f"sub_{i}")).status_code for i in range(4)]
    assert statuses[:2] == [200, 200] and statuses[-1] == 429, statuses
    r = webhook(server, event("invoice.upcoming", "sub_x"))
    error_of(server, r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1


def test_unconfigured_billing_is_501(launch):
    server = launch("auth-server", env=AUTH_ENV)
    reg = register(server)
    err = error_of(server, post(server, "/api/billing/checkout", {"tier": "pro"}, token=reg["token"]), 501,
                   "not_implemented")
    assert "BILLING_CHECKOUT_URL" in err["error"]
    err = error_of(server, post(server, "/api/billing/cancel", token=reg["token"]), 501, "not_implemented")
    assert "AUTH_BILLING_CANCEL_URL" in err["error"]
    e = event("subscription.created", "sub_x", userId=reg["user"]["id"], tier="pro")
    err = error_of(server, webhook(server, e), 501, "not_implemented")
    assert "BILLING_WEBHOOK_SECRET" in err["error"]
    assert query(server, "SELECT COUNT(*) AS n FROM subscriptions")[0]["n"] == 0
    # plans and status need no provider
    ok_data(server.get("/api/billing/plans"))
    assert status_of(server, reg["token"])["tier"] == "community"


def test_webhook_signature(server):
    reg = register(server)
    e = event("subscription.created", "sub_sig_" + uuid.uuid4().hex[:8], userId=reg["user"]["id"], tier="pro")
    body = json.dumps(e).encode()
    for signature in (False, "", "00" * 32, sign(body, "another secret"), sign(body + b" "), "zz" + sign(body)[2:]):
        r = webhook(server, e, signature=signature, raw=body)
        error_of(server, r, 401, "invalid_signature")
    assert query(server, "SELECT COUNT(*) AS n FROM billing_events WHERE id = ?", e["id"])[0]["n"] == 0
    assert query(server, "SELECT COUNT(*) AS n FROM subscriptions WHERE user_id = ?", reg["user"]["id"])[0]["n"] == 0
    assert tier_of(server, reg["user"]["id"]) == "community"
    # a body altered after signing is refused too
    tampered = body.replace(b'"pro"', b'"business"')
    error_of(server, webhook(server, e, signature=sign(body), raw=tampered), 401, "invalid_signature")
    # upper-case hex is the same signature
    assert ok_data(webhook(server, e, signature=sign(body).upper(), raw=body))["applied"] is True
    assert tier_of(server, reg["user"]["id"]) == "pro"


def test_webhook_input(server):
    reg = register(server)
    for bad in ({"type": "subscription.created"}, {"id": "", "type": "x"}, {"id": "evt_1"},
                {"id": "evt_2", "type": "subscription.created", "data": []},
                {"id": "evt_3", "type": "subscription.created", "data": {"tier": "gold"}},
                {"id": "evt_4", "type": "subscription.updated", "data": {"status": "frozen"}},
                {"id": "evt_5", "type": "subscription.updated", "data": {"currentPeriodEnd": "tomorrow"}}):
        error_of(server, webhook(server, bad), 400, "validation_error")
    raw = b"not json"
    error_of(server, webhook(server, None, raw=raw), 400)
    r = server.request("POST", "/api/billing/webhook", data=raw, headers={"X-Signature": sign(raw),
                                                                           "Content-Type": "text/plain"})
    error_of(server, r, 415)
    # signed and well formed, but nothing to apply: acknowledged (so the provider stops retrying)
    unknown = event("subscription.updated", "sub_unknown_" + uuid.uuid4().hex[:6], status="active")
    assert ok_data(webhook(server, unknown)) == {"eventId": unknown["id"], "duplicate": False, "applied": False,
                                                 "note": "unknown subscription"}
    sub_id = subscribe(server, reg, "solo")
    other = event("invoice.upcoming", sub_id)
    assert ok_data(webhook(server, other))["note"] == "event type not handled"
    ghost = event("subscription.created", "sub_ghost", userId="usr_000000000000000000000000", tier="pro")
    assert ok_data(webhook(server, ghost))["note"] == "unknown account"
    assert query(server, "SELECT COUNT(*) AS n FROM subscriptions WHERE id = 'sub_ghost'")[0]["n"] == 0


def test_replayed_event_changes_nothing_twice(server):
    reg = register(server)
    uid = reg["user"]["id"]
    sub_id = "sub_" + uuid.uuid4().hex[:16]
    created = event("subscription.created", sub_id, userId=uid, tier="pro", currentPeriodEnd=in_days(30))
    first = ok_data(webhook(server, created))
    assert first == {"eventId": created["id"], "duplicate": False, "applied": True}
    assert tier_of(server, uid) == "pro"
    [change] = audit(server, uid, "billing.tier_changed")
    assert change["from"] == "community" and change["to"] == "pro" and change["eventId"] == created["id"]
    assert change["actor"] == "billing-provider"

    downgrade = event("subscription.updated", sub_id, tier="solo")
    ok_data(webhook(server, downgrade))
    assert tier_of(server, uid) == "solo"
    # the provider retries the old event: acknowledged as a duplicate, the tier stays
    again = ok_data(webhook(server, created))
    assert again == {"eventId": created["id"], "duplicate": True, "applied": False, "note": "event already received"}
    assert tier_of(server, uid) == "solo"
    assert query(server, "SELECT tier FROM subscriptions WHERE id = ?", sub_id)[0]["tier"] == "solo"
    assert len(audit(server, uid, "billing.tier_changed")) == 2
    assert query(server, "SELECT COUNT(*) AS n FROM billing_events WHERE id = ?", created["id"])[0]["n"] == 1


def test_subscription_lifecycle(server, provider):
    reg = register(server)
    uid, token = reg["user"]["id"], reg["token"]
    period_end = in_days(30)
    sub_id = "sub_" + uuid.uuid4().hex[:16]
    ok_data(webhook(server, event("subscription.created", sub_id, userId=uid, tier="business",
                                  currentPeriodEnd=period_end)))
    s = status_of(server, token)
    assert s["tier"] == "business" and s["planExpiresAt"] == period_end
    sub = s["subscription"]
    assert sub["id"] == sub_id and sub["tier"] == "business" and sub["status"] == "active"
    assert sub["currentPeriodEnd"] == period_end and sub["cancelAtPeriodEnd"] is False
    # the access token's claims are not trusted for the tier: /me reads the account
    assert ok_data(server.get("/api/auth/me", headers=bearer(token)))["user"]["tier"] == "business"

    # a failed payment: past due, the tier stays while the provider retries
    ok_data(webhook(server, event("payment.failed", sub_id)))
    s = status_of(server, token)
    assert s["subscription"]["status"] == "past_due" and s["tier"] == "business"
    # paid: active again, with the new period
    next_end = in_days(60)
    ok_data(webhook(server, event("payment.succeeded", sub_id, currentPeriodEnd=next_end)))
    s = status_of(server, token)
    assert s["subscription"]["status"] == "active" and s["planExpiresAt"] == next_end
    # paused: no paid tier while paused
    ok_data(webhook(server, event("subscription.paused", sub_id)))
    s = status_of(server, token)
    assert s["tier"] == "community" and s["subscription"]["status"] == "paused" and s["planExpiresAt"] is None
    ok_data(webhook(server, event("subscription.updated", sub_id, status="active")))
    assert status_of(server, token)["tier"] == "business"

    # the user cancels: the provider is asked, the plan runs to the end of the period
    s = ok_data(post(server, "/api/billing/cancel", token=token))
    [call] = provider.received
    assert call["path"] == "/v1/cancellations" and call["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert json.loads(call["body"]) == {"subscriptionId": sub_id, "userId": uid, "cancelAtPeriodEnd": True}
    assert s["tier"] == "business" and s["subscription"]["cancelAtPeriodEnd"] is True
    assert s["subscription"]["status"] == "active" and s["planExpiresAt"] == next_end
    [requested] = audit(server, uid, "billing.cancel_requested")
    assert requested["subscriptionId"] == sub_id and requested["endsAt"] == next_end
    error_of(server, post(server, "/api/billing/cancel", token=token), 409, "conflict")
    assert len(provider.received) == 1
    # the provider confirms; then the subscription expires
    ok_data(webhook(server, event("subscription.cancelled", sub_id)))
    s = status_of(server, token)
    assert s["subscription"]["status"] == "cancelled" and s["tier"] == "business"
    ok_data(webhook(server, event("subscription.expired", sub_id)))
    s = status_of(server, token)
    assert s["tier"] == "community" and s["subscription"]["status"] == "expired" and s["planExpiresAt"] is None
    changes = [(c["from"], c["to"]) for c in audit(server, uid, "billing.tier_changed")]
    assert changes == [("community", "business"), ("business", "community"), ("community", "business"),
                       ("business", "community")]


def test_cancel_needs_a_running_subscription(server, provider):
    reg = register(server)
    error_of(server, post(server, "/api/billing/cancel", token=reg["token"]), 409, "conflict")
    sub_id = subscribe(server, reg, "solo")
    provider.status = 503
    error_of(server, post(server, "/api/billing/cancel", token=reg["token"]), 502, "bad_gateway")
    # the provider refused: nothing recorded
    assert query(server, "SELECT cancel_at_period_end FROM subscriptions WHERE id = ?", sub_id)[0][0] == 0
    error_of(server, post(server, "/api/billing/cancel"), 401)


def test_cancellation_takes_effect_at_period_end(server):
    """A cancelled subscription keeps its tier until the period ends; the sweep job (every
    second here) then expires it and the account drops to community. The period ends an hour
    away, then is moved into the past: no machine is slow enough to blur the two."""
    reg = register(server)
    uid = reg["user"]["id"]
    sub_id = subscribe(server, reg, "pro")
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    ok_data(webhook(server, event("subscription.cancelled", sub_id, currentPeriodEnd=rfc3339(end))))
    assert tier_of(server, uid) == "pro"
    time.sleep(2.5)  # sweeps ran (on a loaded machine perhaps fewer): the tier stays until the end
    assert tier_of(server, uid) == "pro"
    assert query(server, "SELECT status FROM subscriptions WHERE id = ?", sub_id)[0]["status"] != "expired"
    execute(server, "UPDATE subscriptions SET current_period_end = strftime('%s','now') - 1 WHERE id = ?", sub_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and tier_of(server, uid) != "community":
        time.sleep(0.25)
    assert tier_of(server, uid) == "community"
    assert query(server, "SELECT status FROM subscriptions WHERE id = ?", sub_id)[0]["status"] == "expired"
    [last] = audit(server, uid, "billing.tier_changed")[-1:]
    assert last["from"] == "pro" and last["to"] == "community" and last["subscriptionId"] == sub_id


def test_subscriptions_in_export_and_erased_with_the_account(server):
    reg = register(server)
    uid = reg["user"]["id"]
    sub_id = subscribe(server, reg, "pro")
    payment = event("payment.succeeded", sub_id, currentPeriodEnd=in_days(40))
    ok_data(webhook(server, payment))
    data = server.get("/api/auth/export-data", headers=bearer(reg["token"])).json()
    [sub] = data["subscriptions"]
    assert sub["id"] == sub_id and sub["tier"] == "pro" and sub["status"] == "active"

    r = server.request("DELETE", "/api/auth/delete-account", json={"password": PASSWORD}, headers=bearer(reg["token"]))
    tables = ok_data(r)["tables"]
    assert tables["subscriptions"] == 1 and tables["billing_events"] == 2
    assert not query(server, "SELECT 1 FROM subscriptions WHERE user_id = ? OR id = ?", uid, sub_id)
    assert not query(server, "SELECT 1 FROM billing_events WHERE user_id = ? OR subscription_id = ?", uid, sub_id)
    # the events stay, so a replay after the erasure still changes nothing
    assert ok_data(webhook(server, payment))["duplicate"] is True
    assert not query(server, "SELECT 1 FROM subscriptions WHERE id = ?", sub_id)


def test_admin_sees_subscriptions(server):
    admin = register(server)
    execute(server, "UPDATE users SET role = 'admin' WHERE id = ?", admin["user"]["id"])
    reg = register(server)
    sub_id = subscribe(server, reg, "solo")
    d = ok_data(server.get(f"/api/admin/users/{reg['user']['id']}", headers=bearer(admin["token"])))
    assert [s["id"] for s in d["subscriptions"]] == [sub_id]
    assert d["user"]["tier"] == "solo"


def test_acknowledged_events_survive_kill_9(launch):
    """Webhook events answered 200 during a burst are all applied after a SIGKILL and a restart,
    and a replay of any of them is still recognised."""
    env = {**AUTH_ENV, "BILLING_WEBHOOK_SECRET": SECRET, "AUTH_BILLING_WEBHOOK_LIMIT": "100000/min"}
    server = launch("auth-server", env=env)
    users = [register(server) for _ in range(3)]
    acknowledged = []
    for i in range(60):  # bounded burst
        user = users[i % len(users)]
        e = event("subscription.created", f"sub_k9_{i}", userId=user["user"]["id"], tier="solo",
                  currentPeriodEnd=in_days(30))
        if webhook(server, e).status_code == 200:
            acknowledged.append(e)
    server.process.kill()
    server.process.wait(timeout=10)
    assert len(acknowledged) == 60

    again = launch("auth-server", env=env, data_dir=server.data_dir)
    assert query(again, "PRAGMA integrity_check")[0][0] == "ok"
    stored = {r["id"] for r in query(again, "SELECT id FROM subscriptions WHERE id LIKE 'sub_k9_%'")}
    assert stored == {e["data"]["subscriptionId"] for e in acknowledged}
    assert all(tier_of(again, u["user"]["id"]) == "solo" for u in users)
    assert ok_data(webhook(again, acknowledged[-1]))["duplicate"] is True


def test_concurrent_deliveries_of_one_event_apply_once(server):
    reg = register(server)
    uid = reg["user"]["id"]
    e = event("subscription.created", "sub_" + uuid.uuid4().hex[:16], userId=uid, tier="business",
              currentPeriodEnd=in_days(30))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = [ok_data(r) for r in pool.map(lambda _: webhook(server, e), range(8))]
    assert sum(1 for a in answers if a["applied"]) == 1
    assert sum(1 for a in answers if a["duplicate"]) == 7
    assert len(audit(server, uid, "billing.tier_changed")) == 1 and tier_of(server, uid) == "business"
