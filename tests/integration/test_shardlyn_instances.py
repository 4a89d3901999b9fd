"""shardlyn-api Instance Endpoints with the real shardlyn-agent on the process driver: a node
registered with a one-time token turns healthy; an instance of a workload that prints `Server
ready` and then echoes its input is placed on it by bin-packing, started, reaches `running` when
the line appears, is stopped with its stop command, crashes with a crash record and is restarted
by its policy; restart and kill travel as generations; stats and history from heartbeats; every
documented error, another organisation's instance 404 on every route, 403 without the permission.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_instances.py
"""
from __future__ import annotations

import copy
import functools
import json
import os

import pytest

from agent_helpers import kill_supervisors, wait_for
from shardlyn_helpers import SHARDLYN_ENV, expect, expect_error, register, token_client

eventually = functools.partial(wait_for, timeout=30.0, step=0.1)  # bounded; a loaded machine is slow
SCRIPT = ('echo "hello from $GREETING"; echo Server ready; '
          'while read line; do if [ "$line" = quit ]; then echo bye > stopped-by-command; exit 0; fi; '
          'echo "echo: $line"; done')
ECHO = {
    "apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "echo"},
    "spec": {"command": ["/bin/sh", "-c", SCRIPT],
             "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}},
             "stopTimeout": "5s", "startup": {"done": ["Server ready"], "timeout": "20s"},
             "stop": {"command": "quit"},
             "restartPolicy": {"mode": "never"},
             "variables": [{"name": "Greeting", "env": "GREETING", "default": "world", "rules": "required|string|max:10"}]},
}
CRASHER = {
    "apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "crasher"},
    "spec": {"command": ["/bin/sh", "-c", "echo Server ready; echo about to fail; sleep 1; exit 3"],
             "stopTimeout": "2s", "startup": {"done": ["Server ready"], "timeout": "20s"},
             "restartPolicy": {"mode": "on-failure", "attempts": 2, "interval": "10m", "delay": "1s", "backoff": 1}},
}


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    w = type("World", (), {})()
    w.server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    w.alice = register(w.server, "alice")
    w.bob = register(w.server, "bob")
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "n1"}), 201)["token"]
    w.agent_data = tmp_path_factory.mktemp("agent")
    w.agent = module_launch("shardlyn-agent", data_dir=w.agent_data, env={
        "AGENT_DRIVER": "process", "SHARDLYN_API_URL": w.server.base_url, "SHARDLYN_REGISTER_TOKEN": token,
        "AGENT_DISK_USAGE_INTERVAL_S": "1"})
    creds = eventually(lambda: (w.agent_data / "credentials.json").exists())
    assert creds, w.agent.log_text()[-3000:]
    w.node = json.loads((w.agent_data / "credentials.json").read_text())["node_id"]
    assert eventually(lambda: expect(w.alice.get(f"/v1/nodes/{w.node}"), 200)["status"] == "healthy"), \
        w.agent.log_text()[-3000:]
    w.echo = expect(w.alice.post("/v1/workloads", ECHO), 201)["id"]
    w.crasher = expect(w.alice.post("/v1/workloads", CRASHER), 201)["id"]
    yield w
    kill_supervisors(w.agent_data)  # instances outlive agents by design


def instance(w, iid):
    return expect(w.alice.get(f"/v1/instances/{iid}"), 200)


def state_becomes(w, iid, state):
    return eventually(lambda: instance(w, iid)["state"] == state)


def create(w, name, workload=None, **extra):
    return expect(w.alice.post("/v1/instances", {"workload_id": workload or w.echo, "name": name, **extra}), 201)


def test_an_instance_is_placed_started_running_on_its_done_line_and_stopped_with_its_stop_command(world):
    w = world
    created = create(w, "echo-1", variables={"GREETING": "shardlyn"})
    assert created["node_id"] == w.node  # placed: the only node that fits
    assert created["state"] == "creating" and created["desired_state"] == "stopped"
    started = expect(w.alice.post(f"/v1/instances/{created['id']}/start"), 202)
    assert started["desired_state"] == "running"
    again = expect(w.alice.post(f"/v1/instances/{created['id']}/start"), 202)  # idempotent
    assert again["restart_generation"] == started["restart_generation"]
    assert state_becomes(w, created["id"], "running"), (instance(w, created["id"]), w.agent.log_text()[-3000:])
    shown = instance(w, created["id"])
    moves = [(t["from"], t["to"], t["actor"]) for t in reversed(shown["transitions"])]
    assert (None, "creating", f"user:{w.alice.id}") == moves[0]
    assert any(to == "running" and actor == "agent" for _, to, actor in moves), moves
    root = w.agent_data / "instances" / created["id"]
    assert root.is_dir()

    expect(w.alice.post(f"/v1/instances/{created['id']}/stop"), 202)
    assert state_becomes(w, created["id"], "stopped"), instance(w, created["id"])
    # The stop command reached the program's stdin (it wrote this file and exited 0).
    assert (root / "stopped-by-command").read_text().strip() == "bye"
    stopped = instance(w, created["id"])
    assert stopped["crashes"] == []
    assert stopped["exit_code"] in (0, None)


def test_stats_and_metrics_history_come_from_heartbeats(world):
    w = world
    iid = create(w, "echo-stats")["id"]
    expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
    assert state_becomes(w, iid, "running")
    assert eventually(lambda: expect(w.alice.get(f"/v1/instances/{iid}/stats"), 200)["stats"] is not None)
    stats = expect(w.alice.get(f"/v1/instances/{iid}/stats"), 200)
    assert stats["state"] == "running" and stats["stats"]["pids"] >= 1 and stats["stats"]["memory_bytes"] > 0
    # The instance root's disk usage, measured by the agent (allocated blocks, like du).
    (w.agent_data / "instances" / iid / "world.dat").write_bytes(os.urandom(256 * 1024))
    assert eventually(lambda: (expect(w.alice.get(f"/v1/instances/{iid}/stats"), 200)["disk_bytes"] or 0) >= 256 * 1024)
    assert expect(w.alice.get(f"/v1/instances/{iid}/stats"), 200)["stats"]["disk_bytes"] >= 256 * 1024
    history = expect(w.alice.get(f"/v1/instances/{iid}/metrics/history"), 200)
    assert history["resolution"] == "raw" and len(history["points"]) >= 1
    assert expect(w.alice.get(f"/v1/instances/{iid}/metrics/history?resolution=5m"), 200)["points"] == []
    expect_error(w.server, w.alice.get(f"/v1/instances/{iid}/metrics/history?from=2026-12-02T00:00:00Z"
                                       "&to=2026-12-01T00:00:00Z"), 400, "from")
    expect_error(w.server, w.alice.get(f"/v1/instances/{iid}/metrics/history?resolution=1h"), 400, "resolution")
    expect(w.alice.post(f"/v1/instances/{iid}/kill"), 202)
    killed = instance(w, iid)
    assert killed["kill_generation"] == 1 and killed["desired_state"] == "stopped"
    assert eventually(lambda: instance(w, iid)["state"] in ("stopped", "crashed"))


def test_restart_bumps_the_generation_once_and_comes_back_running(world):
    w = world
    iid = create(w, "echo-restart")["id"]
    expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
    assert state_becomes(w, iid, "running")
    first = expect(w.alice.post(f"/v1/instances/{iid}/restart"), 202)
    second = expect(w.alice.post(f"/v1/instances/{iid}/restart"), 202)  # coalesced with the first
    assert first["restart_generation"] == second["restart_generation"] == 1
    assert first["state"] == "stopping"
    assert state_becomes(w, iid, "running")
    expect(w.alice.post(f"/v1/instances/{iid}/stop"), 202)
    assert state_becomes(w, iid, "stopped")


def test_a_crash_is_recorded_with_its_exit_code_and_last_lines(world):
    w = world
    iid = create(w, "crash-1", workload=w.crasher)["id"]
    expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
    assert eventually(lambda: instance(w, iid)["crashes"]), (instance(w, iid), w.agent.log_text()[-3000:])
    crash = instance(w, iid)["crashes"][0]
    assert crash["exit_code"] == 3 and crash["oom_killed"] is False
    assert "about to fail" in crash["last_lines"]
    assert any(t["to"] == "crashed" for t in instance(w, iid)["transitions"])


def test_the_restart_policy_restarts_a_crashed_instance_its_attempts_then_gives_up(world):
    w = world
    iid = create(w, "crash-policy", workload=w.crasher)["id"]
    expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
    # One crash and two restarts (attempts: 2), each crashing again: three records, then it stays down.
    assert eventually(lambda: len(instance(w, iid)["crashes"]) >= 3, timeout=60), instance(w, iid)
    assert state_becomes(w, iid, "crashed")
    starts = [t for t in instance(w, iid)["transitions"] if t["to"] == "starting" and t["actor"] == "agent"]
    assert len(starts) >= 2


def test_placement_errors_and_input_errors(world):
    w = world
    big = copy.deepcopy(ECHO)
    big["metadata"]["name"] = "too-big"
    big["spec"]["resources"] = {"requests": {"cpu": 4096, "memory": "64Ti"}}
    big_id = expect(w.alice.post("/v1/workloads", big), 201)["id"]
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": big_id, "name": "huge"}), 409, "no node fits")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x", "node_id": "nope"}), 404)
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": "00000000-0000-4000-8000-000000000000",
                                                          "name": "x"}), 404, "workload")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x",
                                                          "variables": {"GREETING": "far too long here"}}),
                 400, "variables.GREETING")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x",
                                                          "variables": {"OTHER": "1"}}), 400, "OTHER")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x",
                                                          "variables": {"GREETING": 5}}), 400, "variables.GREETING")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x",
                                                          "resources": {"requests": {"memory": "lots"}}}),
                 400, "resources.requests.memory")
    expect_error(w.server, w.alice.post("/v1/instances", {"name": "x"}), 400, "workload_id")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "x", "colour": 1}), 400, "colour")
    named = create(w, "taken")
    expect_error(w.server, w.alice.post("/v1/instances", {"workload_id": w.echo, "name": "taken"}), 409, "exists")
    updated = expect(w.alice.put(f"/v1/instances/{named['id']}", {"variables": {"GREETING": "hey"}}), 200)
    assert updated["variables"] == {"GREETING": "hey"}
    expect_error(w.server, w.alice.put(f"/v1/instances/{named['id']}", {"variables": {"GREETING": "much too long"}}),
                 400, "variables.GREETING")
    # The workload is in use: not deleted, and a change that breaks its instances is refused.
    expect_error(w.server, w.alice.delete(f"/v1/workloads/{w.echo}"), 409, "instance")
    stricter = copy.deepcopy(ECHO)
    stricter["spec"]["variables"][0]["rules"] = "required|string|max:5"  # echo-1 holds "shardlyn"
    expect_error(w.server, w.alice.put(f"/v1/workloads/{w.echo}", stricter), 409, "would no longer resolve")
    deleting = expect(w.alice.delete(f"/v1/instances/{named['id']}"), 202)
    assert deleting["state"] == "deleting" and deleting["desired_state"] == "deleted"
    expect_error(w.server, w.alice.post(f"/v1/instances/{named['id']}/start"), 409, "deleted")
    assert eventually(lambda: w.alice.get(f"/v1/instances/{named['id']}").status_code == 404)
    expect_error(w.server, w.alice.get("/v1/instances/not-an-id"), 404)


def test_another_organisation_sees_404_and_missing_permissions_are_403(world):
    w = world
    iid = create(w, "private")["id"]
    routes = [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/start"), ("POST", "/stop"), ("POST", "/restart"),
              ("POST", "/kill"), ("GET", "/stats"), ("GET", "/metrics/history")]
    for method, suffix in routes:
        kw = {"json": {}} if method in ("POST", "PUT") else {}
        expect_error(w.server, w.bob.request(method, f"/v1/instances/{iid}{suffix}", **kw), 404)
    assert iid not in [i["id"] for i in expect(w.bob.get("/v1/instances"), 200)["items"]]
    expect_error(w.server, w.bob.post("/v1/instances", {"workload_id": w.echo, "name": "steal"}), 404, "workload")
    reader = token_client(w.server, w.alice.api_token(permissions=["instances.read"])["token"])
    expect(reader.get(f"/v1/instances/{iid}"), 200)
    for action in ("start", "stop", "restart", "kill"):
        expect_error(w.server, reader.post(f"/v1/instances/{iid}/{action}"), 403, "instances.power")
    expect_error(w.server, reader.post("/v1/instances", {"workload_id": w.echo, "name": "r"}), 403, "instances.create")
    expect_error(w.server, w.server.request("GET", f"/v1/instances/{iid}"), 401)


def test_agent_routes_take_only_the_agent_token(world):
    w = world
    for method, path in [("GET", "/v1/agent/desired?since=0"), ("POST", "/v1/agent/events")]:
        expect_error(w.server, w.server.request(method, path, headers=w.alice.headers), 401)
        expect_error(w.server, w.server.request(method, path), 401)
    agent_token = json.loads((w.agent_data / "credentials.json").read_text())["agent_token"]
    h = {"X-Agent-Token": agent_token}
    desired = expect(w.server.request("GET", "/v1/agent/desired", headers=h), 200)
    assert desired["v"] == 1 and all("restart_generation" in i for i in desired["instances"])
    bad = w.server.request("POST", "/v1/agent/events", headers=h, json={"v": 1, "events": [{"kind": "nope"}]})
    assert "events.events[0]" in expect_error(w.server, bad, 400)
    other = expect(w.server.request("POST", "/v1/agent/events", headers=h, json={"v": 1, "events": [
        {"instance_id": "not-here", "kind": "transition", "at": "2026-12-03T07:00:00Z", "to": "running",
         "reason": "", "oom_killed": False, "last_lines": []}]}), 200)
    assert other["recorded"] == 0 and other["refused"] == ["not-here: not an instance of this node"]


STUBBORN = {
    "apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "stubborn"},
    "spec": {"command": ["/bin/sh", "-c", "trap '' TERM; echo Server ready; while true; do sleep 1; done"],
             "stopTimeout": "10m", "startup": {"done": ["Server ready"], "timeout": "20s"},
             "restartPolicy": {"mode": "never"}},
}


def test_a_drain_kills_what_has_not_stopped_by_its_deadline(world):
    # Last in this module: the drain cordons the only node.
    w = world
    workload = expect(w.alice.post("/v1/workloads", STUBBORN), 201)["id"]
    iid = create(w, "stubborn-1", workload=workload)["id"]
    expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
    assert state_becomes(w, iid, "running"), instance(w, iid)
    try:
        drained = expect(w.alice.post(f"/v1/nodes/{w.node}/drain", {"deadline_s": 2}), 200)
        assert iid in drained["stopped_instances"]
        # SIGTERM is ignored and stopTimeout is 10 minutes: only the deadline ends it.
        assert state_becomes(w, iid, "stopped"), (instance(w, iid), w.agent.log_text()[-3000:])
        assert instance(w, iid)["kill_generation"] == 1
    finally:
        expect(w.alice.post(f"/v1/nodes/{w.node}/uncordon"), 200)
