"""shardlyn-api's nodes with the real shardlyn-agent (process driver): a one-time register token
registers the agent, its heartbeats turn the node healthy and fill the metrics history, and the
node goes unhealthy then offline when they stop. The token works once; another organisation
sees 404, a caller without the permission 403; an agent token on a user route and a user token
on an agent route are 401; cordon, uncordon, drain and delete act on the stored node.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_nodes.py
"""
from __future__ import annotations

import functools
import json

import pytest

from agent_helpers import meminfo_bytes, wait_for
from shardlyn_helpers import SHARDLYN_ENV, bearer, expect, expect_error, register

eventually = functools.partial(wait_for, timeout=20.0)  # a loaded machine: generous, still bounded
API_ENV = {**SHARDLYN_ENV, "SHARDLYN_HEARTBEAT_INTERVAL_S": "1", "SHARDLYN_NODE_UNHEALTHY_AFTER_S": "3",
           "SHARDLYN_NODE_OFFLINE_AFTER_S": "6"}


@pytest.fixture
def agent_data(tmp_path):
    """The agent's DATA_DIR (these tests start no instance, so nothing outlives the agent)."""
    data = tmp_path / "agent"
    data.mkdir()
    return data


def start_agent(launch, api, data, token=None):
    env = {"AGENT_DRIVER": "process", "SHARDLYN_API_URL": api.base_url + "/"}
    if token:
        env["SHARDLYN_REGISTER_TOKEN"] = token
    return launch("shardlyn-agent", env=env, data_dir=data)


def the_node(owner):
    items = expect(owner.get("/v1/nodes"), 200)["items"]
    return items[0] if items else None


def status_is(owner, node_id, status):
    node = expect(owner.get(f"/v1/nodes/{node_id}"), 200)
    return node if node["status"] == status else None


def register_doc(token):
    return {"v": 1, "token": token, "hostname": "peer", "os": "Linux", "arch": "x86_64", "cpu_count": 1,
            "memory_bytes": 1 << 30, "disk_bytes": 1 << 30, "agent_version": "0.1.0", "drivers": ["process"]}


HEARTBEAT = {"v": 1, "instances": [], "desired_version": 0, "metrics": {
    "cpu": {"usage": 0.5, "cores": 1}, "memory": {"total_bytes": 100, "available_bytes": 60, "used_bytes": 40},
    "disk": {"path": "/", "total_bytes": 100, "free_bytes": 90, "used_bytes": 10},
    "network": {"rx_bytes": 1, "tx_bytes": 2}, "load": {"one": 0.1, "five": 0.1, "fifteen": 0.1}}}


def test_the_agent_registers_heartbeats_and_its_node_turns_healthy_then_offline(launch, agent_data):
    api = launch("shardlyn-api", env=API_ENV)
    alice = register(api, "alice")
    created = expect(alice.post("/v1/nodes/register-token", {"name": "box-1"}), 201)
    assert created["token"] in created["command"] and api.base_url in created["command"]
    agent = start_agent(launch, api, agent_data, created["token"])
    node = eventually(lambda: the_node(alice))
    assert node, agent.log_text()[-2000:]
    assert node["name"] == "box-1" and node["drivers"] == ["process"] and node["os"] == "Linux"
    assert node["memory_bytes"] == meminfo_bytes("MemTotal") and node["cpu_count"] >= 1
    healthy = eventually(lambda: status_is(alice, node["id"], "healthy"))
    assert healthy, agent.log_text()[-2000:]
    assert healthy["schedulable"] and healthy["last_heartbeat_at"]
    assert healthy["metrics"]["memory_total_bytes"] == meminfo_bytes("MemTotal")
    assert 0 <= healthy["metrics"]["cpu_usage"] <= 1
    stored = json.loads((agent_data / "credentials.json").read_text())
    assert stored["node_id"] == node["id"]
    assert eventually(lambda: len(expect(alice.get(f"/v1/nodes/{node['id']}/metrics/history"), 200)["points"]) >= 2)

    # The register token worked once; the agent's own token is for agent routes only.
    expect_error(api, api.request("POST", "/v1/agent/register", json=register_doc(created["token"])), 401)
    agent_headers = {"X-Agent-Token": stored["agent_token"]}
    expect_error(api, api.request("GET", "/v1/nodes", headers=agent_headers), 401)
    expect_error(api, api.request("GET", "/v1/nodes", headers=bearer(stored["agent_token"])), 401)
    expect_error(api, api.request("POST", "/v1/agent/heartbeat", headers=alice.headers, json={"v": 1}), 401)
    expect_error(api, api.request("POST", "/v1/agent/heartbeat", headers=agent_headers, json={**HEARTBEAT, "x": 1}),
                 400, "x")

    # Heartbeats stop: unhealthy, then offline.
    agent.stop()
    assert eventually(lambda: status_is(alice, node["id"], "unhealthy"))
    assert not expect(alice.get(f"/v1/nodes/{node['id']}"), 200)["schedulable"]
    assert eventually(lambda: status_is(alice, node["id"], "offline"))


def test_another_organisation_is_404_and_a_missing_permission_403(launch):
    api = launch("shardlyn-api", env=API_ENV)
    alice, bob = register(api, "alice"), register(api, "bob")
    token = expect(alice.post("/v1/nodes/register-token"), 201)["token"]
    node_id = expect(api.request("POST", "/v1/agent/register", json=register_doc(token)), 200)["node_id"]
    assert expect(bob.get("/v1/nodes"), 200)["items"] == []
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/cordon"), ("POST", "/uncordon"),
                         ("POST", "/drain"), ("GET", "/metrics/history")):
        kw = {"json": {}} if method in ("POST", "PUT") else {}
        expect_error(api, bob.request(method, f"/v1/nodes/{node_id}{path}", **kw), 404)
    provisioned = [("POST", "/power/start"), ("POST", "/power/stop"), ("POST", "/power/reboot"),
                   ("GET", "/power/status"), ("POST", "/resize"), ("GET", "/firewall/rules"),
                   ("POST", "/firewall/rules"), ("DELETE", "/firewall/rules")]
    for method, path in provisioned:
        kw = {"json": {}} if method == "POST" else {}
        expect_error(api, bob.request(method, f"/v1/nodes/{node_id}{path}", **kw), 404)
        # A registered node is no provisioned server: 501 says what is missing.
        expect_error(api, alice.request(method, f"/v1/nodes/{node_id}{path}", **kw), 501, "provision")
    none = alice.api_token(permissions=[])["token"]
    expect_error(api, api.request("GET", "/v1/nodes", headers=bearer(none)), 403, "nodes.read")
    expect_error(api, api.request("POST", "/v1/nodes/register-token", headers=bearer(none), json={}), 403,
                 "nodes.create")
    expect_error(api, api.request("DELETE", f"/v1/nodes/{node_id}", headers=bearer(none)), 403, "nodes.delete")
    expect_error(api, api.request("POST", f"/v1/nodes/{node_id}/power/start", headers=bearer(none), json={}), 403,
                 "nodes.power")
    reader = alice.api_token(permissions=["nodes.read"])["token"]
    expect(api.request("GET", f"/v1/nodes/{node_id}", headers=bearer(reader)), 200)
    expect_error(api, api.request("POST", f"/v1/nodes/{node_id}/cordon", headers=bearer(reader), json={}), 403,
                 "nodes.update")


def test_register_tokens_are_checked_and_the_node_routes_change_the_node(launch):
    api = launch("shardlyn-api", env=API_ENV)
    alice = register(api, "alice")
    expect_error(api, alice.post("/v1/nodes/register-token", {"expires_in": 5}), 400, "expires_in")
    expect_error(api, alice.post("/v1/nodes/register-token", {"nmae": "x"}), 400, "nmae")
    expect_error(api, api.request("POST", "/v1/agent/register", json=register_doc("snr_unknown")), 401)
    expect_error(api, api.request("POST", "/v1/agent/register", json={"v": 1}), 400)
    token = expect(alice.post("/v1/nodes/register-token", {"expires_in": 60}), 201)["token"]
    registered = expect(api.request("POST", "/v1/agent/register", json=register_doc(token)), 200)
    node_id, agent_token = registered["node_id"], registered["agent_token"]
    node = expect(alice.get(f"/v1/nodes/{node_id}"), 200)
    assert node["name"] == "peer" and node["status"] == "offline" and node["last_heartbeat_at"] is None

    updated = expect(alice.put(f"/v1/nodes/{node_id}", {"name": "renamed", "labels": {"zone": "a"}}), 200)
    assert updated["name"] == "renamed" and updated["labels"] == {"zone": "a"}
    expect_error(api, alice.put(f"/v1/nodes/{node_id}", {"labels": {"zone": 1}}), 400, "labels.zone")
    assert expect(alice.post(f"/v1/nodes/{node_id}/cordon"), 200)["cordoned"] is True
    assert expect(alice.post(f"/v1/nodes/{node_id}/uncordon"), 200)["cordoned"] is False
    expect_error(api, alice.post(f"/v1/nodes/{node_id}/drain", {"deadline_s": 0}), 400, "deadline_s")
    drained = expect(alice.post(f"/v1/nodes/{node_id}/drain", {"deadline_s": 60}), 200)
    assert drained["draining"] and drained["cordoned"] and drained["drain_deadline_at"]
    assert drained["stopped_instances"] == [] and not drained["schedulable"]
    undrained = expect(alice.post(f"/v1/nodes/{node_id}/uncordon"), 200)  # ends the drain too
    assert not undrained["draining"] and not undrained["cordoned"] and undrained["drain_deadline_at"] is None
    expect_error(api, alice.get(f"/v1/nodes/{node_id}/metrics/history?from=2030-01-01T00:00:00Z"
                                "&to=2029-01-01T00:00:00Z"), 400, "from")

    expect(api.request("POST", "/v1/agent/heartbeat", headers={"X-Agent-Token": agent_token},
                       json=HEARTBEAT), 200)
    point = expect(alice.get(f"/v1/nodes/{node_id}/metrics/history"), 200)["points"][-1]
    assert point["cpu_usage"] == 0.5 and point["memory_used_bytes"] == 40 and point["tx_bytes"] == 2
    expect(alice.delete(f"/v1/nodes/{node_id}"), 204)
    expect_error(api, alice.get(f"/v1/nodes/{node_id}"), 404)
    # The deleted node's agent token stops working.
    expect_error(api, api.request("POST", "/v1/agent/heartbeat", headers={"X-Agent-Token": agent_token},
                                  json=HEARTBEAT), 401)
