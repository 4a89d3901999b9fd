"""shardlyn-api acting on a node through its agent's tunnel, with the real shardlyn-agent: the
inventory read from the node's /proc and /etc; process kills checked by the agent against its
instances' processes (any other pid needs nodes.terminal); container routes through the docker
driver against Podman's Docker-compatible API (404 on a process-driver node, 409 for an
instance's container); the node terminal over a WebSocket (python3-websockets) running a shell
command, authenticated at the upgrade or by its first frame, every session in the audit log; an
offline node 409; another organisation's node 404; a caller without the permission 403.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_on_node.py
"""
from __future__ import annotations

import functools
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from agent_helpers import kill_supervisors, meminfo_bytes, wait_for
from console_client import ConsoleClient, authenticate_by_frame, refused_status
from podman_helpers import IMAGE, engine, podman  # noqa: F401
from shardlyn_helpers import SHARDLYN_ENV, bearer, expect, expect_error, register, token_client

eventually = functools.partial(wait_for, timeout=30.0, step=0.1)
HOLDER = {  # prints its pid and a child's, then waits: a process instance with a known tree
    "apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "holder"},
    "spec": {"command": ["/bin/sh", "-c", "sleep 300 & echo $! > child.pid; echo $$ > main.pid; echo Server ready; while true; do sleep 1; done"],
             "stopTimeout": "2s", "startup": {"done": ["Server ready"], "timeout": "20s"},
             "restartPolicy": {"mode": "never"}},
}


def start_agent(launch, api, data: Path, token: str, env=None):
    return launch("shardlyn-agent", data_dir=data, env={
        "AGENT_DRIVER": "process", "SHARDLYN_API_URL": api.base_url, "SHARDLYN_REGISTER_TOKEN": token, **(env or {})})


def node_of(data: Path, agent) -> str:
    assert eventually(lambda: (data / "credentials.json").exists()), agent.log_text()[-3000:]
    return json.loads((data / "credentials.json").read_text())["node_id"]


def tunnel_up(owner, node):
    """The node's agent answers through its tunnel (it dials it right after registering)."""
    return eventually(lambda: owner.get(f"/v1/nodes/{node}/inventory/system").status_code == 200)


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    w = type("World", (), {})()
    w.api = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    w.alice, w.bob = register(w.api, "alice"), register(w.api, "bob")
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "proc-1"}), 201)["token"]
    w.data = tmp_path_factory.mktemp("agent")
    w.agent = start_agent(module_launch, w.api, w.data, token)
    w.node = node_of(w.data, w.agent)
    assert tunnel_up(w.alice, w.node), w.agent.log_text()[-3000:]
    yield w
    kill_supervisors(w.data)  # instances outlive agents by design


def test_inventory_sections_are_read_from_the_node(world):
    w = world
    full = expect(w.alice.get(f"/v1/nodes/{w.node}/inventory"), 200)
    assert set(full) == {"system", "network", "disks", "users", "processes", "containers"}
    assert full["system"]["memory_bytes"] == meminfo_bytes("MemTotal")
    assert full["system"]["hostname"] == os.uname().nodename and full["system"]["kernel"] == os.uname().release
    names = Path("/proc/net/dev").read_text().split("\n")[2:]
    assert {i["name"] for i in full["network"]} == {n.split(":")[0].strip() for n in names if ":" in n} - {"lo"}
    assert any(p["pid"] == w.agent.process.pid for p in full["processes"])
    assert any(u["name"] == "root" and u["uid"] == 0 for u in full["users"])
    assert full["disks"][0]["total_bytes"] == os.statvfs(w.data).f_blocks * os.statvfs(w.data).f_frsize
    for section in ("system", "network", "disks", "users", "processes", "containers"):
        one = expect(w.alice.get(f"/v1/nodes/{w.node}/inventory/{section}"), 200)
        assert set(one) == {"node_id", section} and one["node_id"] == w.node
    me = [p for p in expect(w.alice.get(f"/v1/nodes/{w.node}/inventory/processes"), 200)["processes"]
          if p["pid"] == w.agent.process.pid]
    assert me and me[0]["name"] == "shardlyn-agent" and me[0]["rss_bytes"] > 0

    # Another organisation's node is not there; a token without nodes.read may not look.
    expect_error(w.api, w.bob.get(f"/v1/nodes/{w.node}/inventory"), 404)
    reader = token_client(w.api, w.alice.api_token(permissions=["instances.read"])["token"])
    expect_error(w.api, reader.get(f"/v1/nodes/{w.node}/inventory/system"), 403)
    expect_error(w.api, w.api.get(f"/v1/nodes/{w.node}/inventory"), 401)


def test_a_node_without_its_tunnel_is_409_node_offline(world):
    w = world
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "never-connects"}), 201)["token"]
    doc = {"v": 1, "token": token, "hostname": "peer", "os": "Linux", "arch": "x86_64", "cpu_count": 1,
           "memory_bytes": 1 << 30, "disk_bytes": 1 << 30, "agent_version": "0.1.0", "drivers": ["process"]}
    lonely = expect(w.api.request("POST", "/v1/agent/register", json=doc), 200)["node_id"]
    for path in ("/inventory", "/inventory/users", "/containers/x/logs"):
        expect_error(w.api, w.alice.get(f"/v1/nodes/{lonely}{path}"), 409, "no tunnel")
    expect_error(w.api, w.alice.post(f"/v1/nodes/{lonely}/processes/1234/kill"), 409, "no tunnel")


def test_process_kill_reaches_the_instances_processes_and_others_only_with_nodes_terminal(world):
    w = world
    workload = expect(w.alice.post("/v1/workloads", HOLDER), 201)["id"]
    inst = expect(w.alice.post("/v1/instances", {"workload_id": workload, "name": "holder-1", "node_id": w.node}), 201)
    expect(w.alice.post(f"/v1/instances/{inst['id']}/start"), 202)
    root = w.data / "instances" / inst["id"]
    assert eventually(lambda: expect(w.alice.get(f"/v1/instances/{inst['id']}"), 200)["state"] == "running"), \
        w.agent.log_text()[-3000:]
    child = int((root / "child.pid").read_text())
    # The inventory names the instance each process belongs to, by the rule the kill checks.
    procs = {p["pid"]: p for p in expect(w.alice.get(f"/v1/nodes/{w.node}/inventory/processes"), 200)["processes"]}
    assert procs[child]["instance_id"] == inst["id"]
    assert procs[int((root / "main.pid").read_text())]["instance_id"] == inst["id"]
    assert procs[w.agent.process.pid]["instance_id"] is None
    power = token_client(w.api, w.alice.api_token(permissions=["instances.power"])["token"])

    killed = expect(power.post(f"/v1/nodes/{w.node}/processes/{child}/kill", {"signal": "SIGTERM"}), 200)
    assert killed == {"pid": child, "signal": "SIGTERM", "instance_id": inst["id"]}
    assert eventually(lambda: not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2])

    outsider = subprocess.Popen(["sleep", "300"])
    try:
        refused = expect_error(w.api, power.post(f"/v1/nodes/{w.node}/processes/{outsider.pid}/kill"), 403,
                               "not a process of this node's instances")
        assert "nodes.terminal" in refused
        assert outsider.poll() is None  # refused means untouched
        done = expect(w.alice.post(f"/v1/nodes/{w.node}/processes/{outsider.pid}/kill"), 200)  # the owner holds it
        assert done == {"pid": outsider.pid, "signal": "SIGKILL", "instance_id": None}
        assert outsider.wait(timeout=10) == -signal.SIGKILL
    finally:
        if outsider.poll() is None:
            outsider.kill()

    # The instance's own main process: killed, it is a crash the agent reports.
    main = int((root / "main.pid").read_text())
    expect(power.post(f"/v1/nodes/{w.node}/processes/{main}/kill"), 200)
    assert eventually(lambda: expect(w.alice.get(f"/v1/instances/{inst['id']}"), 200)["state"] == "crashed")

    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/4194000/kill"), 404, "no process")
    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/1/kill"), 409)
    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/{w.agent.process.pid}/kill"), 409)
    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/abc/kill"), 400, "'pid'")
    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/0/kill"), 400, "'pid'")
    expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/processes/{main}/kill", {"signal": "SIGFOO"}), 400, "'signal'")
    expect_error(w.api, w.bob.post(f"/v1/nodes/{w.node}/processes/{main}/kill"), 404)
    reader = token_client(w.api, w.alice.api_token(permissions=["nodes.read"])["token"])
    expect_error(w.api, reader.post(f"/v1/nodes/{w.node}/processes/{main}/kill"), 403)
    assert w.agent.running()


def test_container_routes_on_a_process_node_are_404(world):
    w = world
    for action in ("start", "stop", "restart", "kill"):
        expect_error(w.api, w.alice.post(f"/v1/nodes/{w.node}/containers/anything/{action}"), 404, "no container engine")
    expect_error(w.api, w.alice.get(f"/v1/nodes/{w.node}/containers/anything/logs"), 404, "no container engine")
    expect_error(w.api, w.bob.post(f"/v1/nodes/{w.node}/containers/anything/start"), 404)
    power = token_client(w.api, w.alice.api_token(permissions=["instances.power", "nodes.read"])["token"])
    expect_error(w.api, power.post(f"/v1/nodes/{w.node}/containers/anything/start"), 403)


def log_lines(response, count, limit=50):
    lines = []
    for raw in response.iter_lines(decode_unicode=True):
        lines.append(raw)
        if len(lines) >= count or len(lines) >= limit:
            break
    return lines


def test_container_routes_through_the_docker_driver_on_podman(world, module_launch, tmp_path_factory, podman):  # noqa: F811
    w = world
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "dock-1"}), 201)["token"]
    data = tmp_path_factory.mktemp("dock-agent")
    agent = start_agent(module_launch, w.api, data, token, {"AGENT_DRIVER": "docker", "DOCKER_HOST": "unix://" + podman})
    node = node_of(data, agent)
    assert tunnel_up(w.alice, node), agent.log_text()[-3000:]
    status, created = engine(podman, "POST", "/containers/create?name=plain-web", {
        "Image": IMAGE, "Cmd": ["/bin/sh", "-c", "echo one; echo two; echo three; while true; do sleep 1; done"]})
    assert status == 201, created
    status, labelled = engine(podman, "POST", "/containers/create?name=shardlyn-other", {
        "Image": IMAGE, "Cmd": ["/bin/sleep", "300"], "Labels": {"io.shardlyn.instance": "other-1"}})
    assert status == 201, labelled
    base = f"/v1/nodes/{node}/containers"

    listed = expect(w.alice.get(f"/v1/nodes/{node}/inventory/containers"), 200)["containers"]
    plain = next(c for c in listed if c["name"] == "plain-web")
    assert plain["id"] == created["Id"] and plain["state"] == "created" and plain["instance_id"] is None
    assert next(c for c in listed if c["name"] == "shardlyn-other")["instance_id"] == "other-1"

    started = expect(w.alice.post(f"{base}/plain-web/start"), 200)
    assert started["state"] == "running" and started["id"] == created["Id"]
    assert engine(podman, "GET", f"/containers/{created['Id']}/json")[1]["State"]["Running"] is True
    assert eventually(lambda: "three" in w.alice.get(f"{base}/plain-web/logs").text)
    assert w.alice.get(f"{base}/plain-web/logs", params={"tail": 2}).text == "two\nthree\n"
    with w.alice.get(f"{base}/{created['Id'][:12]}/logs", params={"follow": "true"}, stream=True, timeout=20) as live:
        assert live.status_code == 200 and live.headers["Content-Type"].startswith("text/plain")
        assert log_lines(live, 3) == ["one", "two", "three"]

    stopped = expect(w.alice.post(f"{base}/plain-web/stop", {"timeout_s": 1}), 200)
    assert stopped["state"] == "exited"
    assert engine(podman, "GET", f"/containers/{created['Id']}/json")[1]["State"]["Running"] is False
    assert expect(w.alice.post(f"{base}/plain-web/restart", {"timeout_s": 1}), 200)["state"] == "running"
    expect(w.alice.post(f"{base}/plain-web/kill", {"signal": "SIGKILL"}), 200)
    assert eventually(lambda: engine(podman, "GET", f"/containers/{created['Id']}/json")[1]["State"]["Status"] == "exited")

    # An instance's container follows its instance; unknown containers and bad ids are refused.
    expect_error(w.api, w.alice.post(f"{base}/shardlyn-other/stop"), 409, "instance other-1")
    assert engine(podman, "GET", f"/containers/{labelled['Id']}/json")[1]["State"]["Status"] == "created"
    expect_error(w.api, w.alice.post(f"{base}/no-such-container/start"), 404, "no container")
    expect_error(w.api, w.alice.get(f"{base}/no-such-container/logs"), 404, "no container")
    expect_error(w.api, w.alice.post(f"{base}/-rm/start"), 400, "'containerId'")
    expect_error(w.api, w.alice.post(f"{base}/plain-web/kill", {"signal": "9"}), 400, "'signal'")
    expect_error(w.api, w.alice.post(f"{base}/plain-web/stop", {"timeout_s": 9999}), 400, "'timeout_s'")
    expect_error(w.api, w.bob.post(f"{base}/plain-web/start"), 404)
    expect_error(w.api, w.bob.get(f"{base}/plain-web/logs"), 404)
    reader = token_client(w.api, w.alice.api_token(permissions=["nodes.read"])["token"])
    expect_error(w.api, reader.post(f"{base}/plain-web/start"), 403)
    expect_error(w.api, reader.get(f"{base}/plain-web/logs"), 403)
    assert requests.get(w.api.url(f"{base}/plain-web/logs"), timeout=10).status_code == 401
    engine(podman, "DELETE", f"/containers/{created['Id']}?force=1")
    engine(podman, "DELETE", f"/containers/{labelled['Id']}?force=1")


def terminal_output(client, wanted: str, timeout: float = 20.0) -> str:
    """Terminal output gathered until `wanted` appears in it."""
    out = ""
    deadline = time.monotonic() + timeout
    while wanted not in out:
        assert time.monotonic() < deadline, f"{wanted!r} not in {out!r}"
        frame = client.until(lambda f: f["event"] in ("terminal output", "terminal closed"), timeout)
        assert frame["event"] == "terminal output", (frame, out)
        out += frame["args"][0]
    return out


def audit_rows(api, node):
    with sqlite3.connect(api.data_dir / "shardlyn.db") as db:
        rows = db.execute("SELECT action, actor_id, org_id, detail FROM audit_log WHERE action LIKE 'node.terminal.%' "
                          "ORDER BY at, rowid").fetchall()
    return [(a, actor, org, json.loads(d)) for a, actor, org, d in rows if json.loads(d).get("node_id") == node]


def test_the_terminal_runs_a_shell_on_the_node_and_every_session_is_audited(world):
    w = world
    path = f"/v1/nodes/{w.node}/terminal?cols=100&rows=30"
    before = len(audit_rows(w.api, w.node))
    term = ConsoleClient(w.api, path, headers=w.alice.headers)
    try:
        term.event("auth success")
        term.send("terminal input", "stty size; echo hi\n")
        out = terminal_output(term, "\nhi")
        assert "30 100" in out, out
        term.send("terminal resize", 0, 10)
        assert term.error("terminal resize")["code"] == "bad_frame"
        term.send("terminal input", "exit\n")
        assert term.event("terminal closed")["args"][0] == "terminal ended"
        assert term.closed()
    finally:
        term.close()
    rows = eventually(lambda: audit_rows(w.api, w.node)[before:] if len(audit_rows(w.api, w.node)) >= before + 2 else None)
    (opened, who, org, start), (closed, who2, _, end) = rows
    assert (opened, closed) == ("node.terminal.opened", "node.terminal.closed")
    assert who == who2 == w.alice.id and org == w.alice.org
    assert start["session_id"] == end["session_id"] and start["cols"] == 100 and start["rows"] == 30
    assert end["reason"] == "terminal ended" and end["input_bytes"] > 0 and end["output_bytes"] > 0

    # Without headers (a browser): the first frame authenticates; frames before it are refused.
    term = ConsoleClient(w.api, f"/v1/nodes/{w.node}/terminal")
    try:
        authenticate_by_frame(term, w.alice.access, "terminal input", "id\n")
        term.send("terminal input", "echo $((6*7))x\n")
        terminal_output(term, "42x")
    finally:
        term.close()  # the viewer leaves: the shell ends and the session's end is recorded
    assert eventually(lambda: audit_rows(w.api, w.node)[-1][0] == "node.terminal.closed" and
                      audit_rows(w.api, w.node)[-1][3]["reason"] == "the viewer left")

    # Another organisation's node is 404 and a caller without nodes.terminal 403, at the upgrade
    # and by the first frame alike; a bad token is 401.
    reader = w.alice.api_token(permissions=["nodes.read"])["token"]
    assert refused_status(w.api, path, w.bob.headers) == 404
    assert refused_status(w.api, path, bearer(reader)) == 403
    assert refused_status(w.api, path, bearer("nope")) == 401
    expect_error(w.api, w.alice.get(path), 426)
    term = ConsoleClient(w.api, path)
    try:
        term.send("auth", reader)
        assert term.error("auth")["code"] == "forbidden"
        term.send("auth", w.bob.access)
        assert term.error("auth")["code"] == "not_found"
        assert term.closed()
    finally:
        term.close()
    assert len(audit_rows(w.api, w.node)) == before + 4  # refused sessions never started
