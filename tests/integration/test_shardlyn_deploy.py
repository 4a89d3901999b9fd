"""shardlyn-api Deploy (One-Click) Endpoints with the real shardlyn-agent on the process driver:
the template catalogue by category (the shipped eggs, with variables, ports and requests); a
deployment makes the workload and the instance on the best node, starts it and follows the
instance's state; every documented error leaves nothing behind.

The Minecraft templates are the real Pterodactyl eggs: their install script (`ash`, `curl` to
Mojang) and their `java` cannot run offline on the process driver, so the Minecraft deployment is
followed through GET /v1/deploy/{id} to `failed` with the install's reason. Reaching `running`
needs the game's binaries (a docker node with network access); it is not proven here.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_deploy.py
"""
from __future__ import annotations

import functools
import json
import uuid

import pytest

from agent_helpers import kill_supervisors, wait_for
from shardlyn_helpers import SHARDLYN_ENV, expect, expect_error, register

eventually = functools.partial(wait_for, timeout=60.0, step=0.2)  # bounded; a loaded machine is slow


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    w = type("World", (), {})()
    w.server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    w.alice = register(w.server, "alice")
    w.bob = register(w.server, "bob")
    w.agent_data = None
    w.start_agent = lambda: start_agent(w, module_launch, tmp_path_factory)
    yield w
    if w.agent_data:
        kill_supervisors(w.agent_data)  # instances outlive agents by design


def start_agent(w, module_launch, tmp_path_factory):
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "n1"}), 201)["token"]
    w.agent_data = tmp_path_factory.mktemp("agent")
    w.agent = module_launch("shardlyn-agent", data_dir=w.agent_data, env={
        "AGENT_DRIVER": "process", "SHARDLYN_API_URL": w.server.base_url, "SHARDLYN_REGISTER_TOKEN": token})
    assert eventually(lambda: (w.agent_data / "credentials.json").exists()), w.agent.log_text()[-3000:]
    w.node = json.loads((w.agent_data / "credentials.json").read_text())["node_id"]
    assert eventually(lambda: expect(w.alice.get(f"/v1/nodes/{w.node}"), 200)["status"] == "healthy"), \
        w.agent.log_text()[-3000:]


def workloads_of(w):
    return expect(w.alice.get("/v1/workloads"), 200)["items"]


def test_templates_are_listed_by_category_with_variables_ports_and_requests(world):
    listed = expect(world.alice.get("/v1/templates"), 200)
    by_id = {t["id"]: t for t in listed["items"]}
    assert {"paper", "vanilla-minecraft", "mumble-server", "nodejs-generic", "python-generic"} <= set(by_id)
    assert listed["total"] == len(listed["items"])
    vanilla = by_id["vanilla-minecraft"]
    assert vanilla["category"] == "game-servers"
    jar = next(v for v in vanilla["variables"] if v["env"] == "SERVER_JARFILE")
    assert jar["default"] == "server.jar" and "regex:" in str(jar["rules"])
    assert vanilla["requests"] == {"cpu_millis": 1000, "memory_bytes": 1 << 30, "disk_bytes": 2 << 30}
    assert isinstance(vanilla["ports"], list)
    games = expect(world.alice.get("/v1/templates/game-servers"), 200)["items"]
    assert {t["id"] for t in games} == {"paper", "vanilla-minecraft"}
    assert {t["id"] for t in expect(world.alice.get("/v1/templates/apps"), 200)["items"]} == \
        {"nodejs-generic", "python-generic"}
    assert [t["id"] for t in expect(world.alice.get("/v1/templates/voice-servers"), 200)["items"]] == ["mumble-server"]
    expect_error(world.server, world.alice.get("/v1/templates/databases"), 404, "databases")


def test_without_a_node_nothing_fits_and_nothing_is_left_behind(world):
    r = world.alice.post("/v1/deploy", {"template": "paper", "name": "early"})
    expect_error(world.server, r, 409, "no nodes")
    assert workloads_of(world) == []
    assert expect(world.alice.get("/v1/deploy"), 200)["items"] == []


def test_input_errors_name_what_is_wrong_and_leave_nothing(world):
    if not world.agent_data:
        world.start_agent()
    post = functools.partial(world.alice.post, "/v1/deploy")
    expect_error(world.server, post({"template": "no-such", "name": "x"}), 404, "no-such")
    expect_error(world.server, post({"name": "x"}), 400, "template")
    expect_error(world.server, post({"template": "paper"}), 400, "name")
    expect_error(world.server, post({"template": "paper", "name": "x", "variables": ["a"]}), 400, "variables")
    expect_error(world.server, post({"template": "vanilla-minecraft", "name": "bad-jar",
                                     "variables": {"SERVER_JARFILE": "server.exe"}}), 400, "SERVER_JARFILE")
    expect_error(world.server, post({"template": "paper", "name": "x", "node_id": str(uuid.uuid4())}), 404, "node")
    expect_error(world.server, post({"template": "paper", "name": "x", "extra": 1}), 400, "extra")
    assert workloads_of(world) == []
    expect_error(world.server, world.alice.get(f"/v1/deploy/{uuid.uuid4()}"), 404, "deployment")
    expect_error(world.server, world.alice.get("/v1/deploy/not-a-uuid"), 404, "deployment")


def deployment(w, did, who=None):
    return expect((who or w.alice).get(f"/v1/deploy/{did}"), 200)


def test_a_minecraft_template_is_placed_started_and_followed_to_its_instance_state(world):
    if not world.agent_data:
        world.start_agent()
    made = expect(world.alice.post("/v1/deploy", {"template": "vanilla-minecraft", "name": "survival",
                                                  "variables": {"VANILLA_VERSION": "1.21.1"}}), 201)
    assert made["node_id"] == world.node and made["template"] == "vanilla-minecraft"
    assert made["status"] in ("pending", "starting", "installing")  # start asked: the agent has not answered yet
    instance = expect(world.alice.get(f"/v1/instances/{made['instance_id']}"), 200)
    assert instance["desired_state"] == "running" and instance["variables"]["VANILLA_VERSION"] == "1.21.1"
    workload = expect(world.alice.get(f"/v1/workloads/{made['workload_id']}"), 200)
    assert workload["source"] == "template:vanilla-minecraft" and workload["name"] == "survival"
    # Offline, the egg's install (ash, curl to Mojang) cannot succeed: the deployment says so.
    assert eventually(lambda: deployment(world, made["id"])["status"] == "failed"), deployment(world, made["id"])
    failed = deployment(world, made["id"])
    assert failed["status_reason"], failed
    assert expect(world.alice.get(f"/v1/instances/{made['instance_id']}"), 200)["state"] == "install_failed"
    listed = expect(world.alice.get("/v1/deploy"), 200)
    assert [d["id"] for d in listed["items"]] == [made["id"]] and listed["total"] == 1
    expect_error(world.server, world.alice.post("/v1/deploy", {"template": "paper", "name": "survival"}), 409,
                 "survival")
    # Another organisation sees none of it.
    expect_error(world.server, world.bob.get(f"/v1/deploy/{made['id']}"), 404)
    assert expect(world.bob.get("/v1/deploy"), 200)["items"] == []
