"""threat-cloud detection rules (/api/rules) and the agent-update feed."""
from __future__ import annotations

import time

import pytest

from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, upload

SIGMA = """title: Suspicious PowerShell download
id: 3b6ab547-8ec2-4991-b9c2-2b06702a48d7
status: experimental
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\\\powershell.exe'
    CommandLine|contains: 'DownloadString'
  condition: selection
level: high
"""
ATR = """title: Prompt injection via hidden instructions
id: ATR-2026-0001
detection:
  conditions:
    - field: user_input
      operator: regex
      value: '(?i)ignore (all )?previous instructions'
"""


@pytest.fixture(scope="module")
def tc(module_launch):
    return module_launch("threat-cloud", env=RELAXED)


def post_rules(server, body, headers=ADMIN):
    return server.request("POST", "/api/rules", json=body, headers=headers)


def test_upload_list_and_replace_rules(tc):
    r = post_rules(tc, {"ruleId": "sigma-ps-download", "ruleContent": SIGMA, "source": "sigma"})
    assert r.status_code == 201, r.text
    assert r.json()["data"] == {"created": 1, "updated": 0, "ids": ["sigma-ps-download"]}
    r = post_rules(tc, {"rules": [{"ruleId": "ATR-2026-0001", "ruleContent": ATR, "source": "atr"},
                                  {"ruleId": "sigma-ps-download", "ruleContent": SIGMA + "# v2\n", "source": "sigma"}]})
    assert r.status_code == 201 and r.json()["data"]["created"] == 1 and r.json()["data"]["updated"] == 1
    r = post_rules(tc, {"ruleId": "sigma-ps-download", "ruleContent": SIGMA, "source": "sigma"})
    assert r.status_code == 200 and r.json()["data"]["updated"] == 1
    listed = tc.get("/api/rules", headers=ADMIN)
    assert listed.status_code == 200
    body = listed.json()
    assert [x["ruleId"] for x in body["data"]] == ["ATR-2026-0001", "sigma-ps-download"]
    assert body["pagination"]["total"] == 2
    rule = body["data"][1]
    assert rule["ruleContent"] == SIGMA and rule["source"] == "sigma" and rule["updatedAt"].endswith("Z")
    only_atr = tc.get("/api/rules", headers=ADMIN, params={"source": "atr"}).json()["data"]
    assert [x["ruleId"] for x in only_atr] == ["ATR-2026-0001"]
    assert tc.get("/api/rules", headers=ADMIN, params={"since": "2100-01-01T00:00:00Z"}).json()["data"] == []
    assert tc.get("/api/rules", headers=ADMIN, params={"limit": 500}).json()["pagination"]["limit"] == 200
    # the upload is audited
    log = tc.get("/api/audit-log", headers=ADMIN, params={"action": "rule.upload"}).json()["data"]
    assert len(log) == 3


def test_rule_validation(tc):
    good = {"ruleId": "r1", "ruleContent": SIGMA, "source": "sigma"}
    assert_validation(post_rules(tc, {**good, "ruleId": ""}), "ruleId")
    assert_validation(post_rules(tc, {**good, "ruleId": "has space"}), "ruleId")
    assert_validation(post_rules(tc, {**good, "ruleId": "x" * 201}), "ruleId")
    assert_validation(post_rules(tc, {**good, "ruleContent": "just text"}), "ruleContent")
    assert_validation(post_rules(tc, {**good, "ruleContent": "detection:" + "x" * 70000}), "ruleContent")
    assert_validation(post_rules(tc, {k: v for k, v in good.items() if k != "source"}), "source")
    assert_validation(post_rules(tc, {"rules": []}), "rules")
    assert_validation(post_rules(tc, {"rules": [good] * 101}), "rules")
    assert_validation(post_rules(tc, {"rules": [good, {**good, "ruleId": "bad id"}]}), "rules[1].ruleId")
    assert_validation(post_rules(tc, {"rules": [good, 5]}), "rules[1]")
    r = tc.request("POST", "/api/rules", data="x", headers={**ADMIN, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert_validation(tc.get("/api/rules", headers=ADMIN, params={"since": "soon"}), "since")
    assert tc.get("/api/rules", headers=ADMIN, params={"source": "r1"}).json()["data"] == []  # nothing stored


def test_rule_scopes(tc):
    read = create_key(tc, ["read"])["key"]
    write = create_key(tc, ["write"])["key"]
    body = {"ruleId": "scoped", "ruleContent": SIGMA, "source": "sigma"}
    assert post_rules(tc, body, headers={}).status_code == 401
    assert post_rules(tc, body, headers=auth(read)).status_code == 403
    assert post_rules(tc, body, headers=auth(write)).status_code == 201
    assert tc.get("/api/rules", headers=auth(read)).status_code == 200
    assert tc.get("/api/rules").status_code == 401


def agent_update(server, headers=ADMIN, **params):
    r = server.get("/api/feeds/agent-update", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_agent_update_full_then_incremental(tc):
    upload(tc, {"iocs": [{"value": "192.0.2.31", "reputation": 90}, {"value": "192.0.2.32", "reputation": 10},
                         {"value": "agent.example", "reputation": 75}]})
    time.sleep(1.1)  # timestamps have whole seconds: these changes lie before generatedAt
    full = agent_update(tc)
    assert full["since"] is None and full["generatedAt"].endswith("Z")
    values = {(i["type"], i["value"]): i for i in full["iocs"]}
    assert ("ip", "192.0.2.31") in values and ("domain", "agent.example") in values
    assert ("ip", "192.0.2.32") not in values  # below minReputation and never added: nothing to do
    assert all(i["action"] == "add" for i in full["iocs"]) and full["totalIocs"] == len(full["iocs"])
    assert {r["ruleId"] for r in full["rules"]} >= {"sigma-ps-download", "ATR-2026-0001"}

    since = full["generatedAt"]
    time.sleep(1.1)  # timestamps have whole seconds
    quiet = agent_update(tc, since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    assert quiet["iocs"] == [] and quiet["rules"] == [] and quiet["totalIocs"] == 0

    ioc = tc.get("/api/iocs/192.0.2.31", headers=ADMIN).json()["data"]["ioc"]
    tc.request("PATCH", f"/api/iocs/{ioc['id']}", headers=ADMIN, json={"status": "revoked"})
    upload(tc, {"value": "192.0.2.33", "reputation": 95})
    post_rules(tc, {"ruleId": "new-rule", "ruleContent": ATR, "source": "atr"})
    later = agent_update(tc, since=since)
    actions = {i["value"]: i["action"] for i in later["iocs"]}
    assert actions == {"192.0.2.31": "remove", "192.0.2.33": "add"}
    assert [r["ruleId"] for r in later["rules"]] == ["new-rule"]
    assert later["since"] == since
    # a higher bar turns the same change into a removal
    assert {i["value"]: i["action"] for i in agent_update(tc, since=since, minReputation=99)["iocs"]}["192.0.2.33"] == \
        "remove"


def test_agent_update_errors_and_scope(tc):
    assert tc.get("/api/feeds/agent-update").status_code == 401
    assert_validation(tc.get("/api/feeds/agent-update", headers=ADMIN, params={"since": "recently"}), "since")
    assert_validation(tc.get("/api/feeds/agent-update", headers=ADMIN, params={"minReputation": 101}),
                      "minReputation")
    read = create_key(tc, ["read"])["key"]
    assert tc.get("/api/feeds/agent-update", headers=auth(read)).status_code == 200


def test_rule_and_agent_update_limits(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_WRITE_RATE_LIMIT": "1/min", "TC_FEED_RATE_LIMIT": "1/min"})
    body = {"ruleId": "limited", "ruleContent": SIGMA, "source": "sigma"}
    assert post_rules(server, body).status_code == 201
    r = post_rules(server, body)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert server.get("/api/feeds/agent-update", headers=ADMIN).status_code == 200
    r = server.get("/api/feeds/agent-update", headers=ADMIN)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert server.get("/api/rules", headers=ADMIN).status_code == 200  # the read class is separate
