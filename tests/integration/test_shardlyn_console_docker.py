"""The instance console through the agent tunnel with the docker driver, on Podman's
Docker-compatible service (set up as in test_agent_runtime.py): the real shardlyn-api and
shardlyn-agent, a container that prints `Server ready` and echoes its input; the echo comes back
over the console WebSocket with its seq, and again after `kill -9` of the agent (the container
keeps running, the tunnel comes back).

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_console_docker.py
"""
from __future__ import annotations

import functools
import json
import signal

from agent_helpers import wait_for
from console_client import ConsoleClient
from shardlyn_helpers import SHARDLYN_ENV, bootstrap, expect, register
from test_agent_runtime import engine, podman  # noqa: F401 (the fixture)

eventually = functools.partial(wait_for, timeout=60.0, step=0.2)
IMAGE = "localhost/busybox:agent-test"
ECHO = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "docker-echo"},
        "spec": {"image": IMAGE, "command": ["/bin/sh", "-c", "echo Server ready; while read l; do echo \"echo: $l\"; done"],
                 "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}}, "stopTimeout": "2s",
                 "startup": {"done": ["Server ready"], "timeout": "60s"}, "restartPolicy": {"mode": "never"}}}


def echoed(c, text):
    c.send("send command", text)
    try:
        return c.until(lambda f: f["event"] == "console output" and f["args"] == [f"echo: {text}"], timeout=3)
    except AssertionError:
        return None


def test_console_echo_through_the_docker_driver(module_launch, podman, tmp_path):  # noqa: F811
    server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    admin = bootstrap(server)
    alice = register(server, "alice")
    token = expect(alice.post("/v1/nodes/register-token", {"name": "docker-node"}), 201)["token"]
    env = {"AGENT_DRIVER": "docker", "DOCKER_HOST": "unix://" + podman, "SHARDLYN_API_URL": server.base_url}
    agent = module_launch("shardlyn-agent", data_dir=tmp_path, env={**env, "SHARDLYN_REGISTER_TOKEN": token})
    assert eventually(lambda: (tmp_path / "credentials.json").exists()), agent.log_text()[-3000:]
    node = json.loads((tmp_path / "credentials.json").read_text())["node_id"]
    workload = expect(alice.post("/v1/workloads", ECHO), 201)["id"]
    iid = expect(alice.post("/v1/instances", {"workload_id": workload, "name": "dock", "node_id": node}), 201)["id"]
    expect(alice.post(f"/v1/instances/{iid}/start"), 202)
    running = lambda: expect(alice.get(f"/v1/instances/{iid}"), 200)["state"] == "running"  # noqa: E731
    assert eventually(running), agent.log_text()[-3000:]
    c = ConsoleClient(server, f"/v1/instances/{iid}/console", alice.headers)
    c.event("auth success")
    echo = wait_for(lambda: echoed(c, "hello docker"), timeout=30.0, step=0.5)
    assert echo and isinstance(echo["seq"], int), c.seen[-10:]

    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    assert "tunnel_closed" in c.event("daemon message", timeout=30)["args"][0]
    agent = module_launch("shardlyn-agent", data_dir=tmp_path, env=env)
    assert eventually(lambda: expect(admin.get("/v1/tunnel/agents"), 200)["total"] == 1)
    again = wait_for(lambda: echoed(c, "docker again"), timeout=30.0, step=0.5)
    assert again and again["seq"] > echo["seq"], c.seen[-10:]
    assert running()
    status, info = engine(podman, "GET", f"/containers/shardlyn-{iid}/json")
    assert status == 200 and info["State"]["Running"] is True
    c.close()
    expect(alice.post(f"/v1/instances/{iid}/kill"), 202)
