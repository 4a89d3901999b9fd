"""shardlyn-agent's node requests under a protocol peer (agent_api_peer.AgentApiPeer), with
nothing of shardlyn-api in between: the agent itself decides which pid a process_kill may reach
(an instance's process group, or anything when the request's scope is `any`; an absent scope
is `instances`), never kills itself or pid 1, answers container requests on a process node with
no_docker, and answers a slow request without holding up the tunnel's other traffic. Every
frame both ways is checked against proto-schemas/agent/v1.schema.json.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_agent_node_requests.py
"""
from __future__ import annotations

import functools
import subprocess

from agent_helpers import agent_data, peer, wait_for, workload  # noqa: F401 (fixtures)

eventually = functools.partial(wait_for, timeout=20.0)
HOLDER = ["/bin/sh", "-c", "sleep 300 & echo $! > child.pid; echo Server ready; while true; do sleep 1; done"]


def ask(tunnel, rid: str, kind: str, **fields) -> dict:
    tunnel.send({"v": 1, "type": "request", "id": rid, "kind": kind, "sections": [], **fields})
    return tunnel.next(match=lambda f: f["type"] == "response" and f["id"] == rid)


def test_the_agent_checks_the_pid_itself_and_refuses_what_is_not_its_own(launch, peer, agent_data):  # noqa: F811
    token = peer.issue_register_token()
    agent = launch("shardlyn-agent", data_dir=agent_data, env={
        "AGENT_DRIVER": "process", "SHARDLYN_API_URL": peer.url + "/", "SHARDLYN_REGISTER_TOKEN": token})
    peer.set_desired([{"id": "holder-1", "power": "running", "workload": workload(HOLDER)}])
    child_file = agent_data / "instances" / "holder-1" / "child.pid"
    assert eventually(lambda: child_file.exists() and child_file.read_text().strip()), agent.log_text()[-3000:]
    tunnel = peer.latest_tunnel()
    child = int(child_file.read_text())

    outsider = subprocess.Popen(["sleep", "300"])
    try:
        # No scope on the wire: only the instances' processes. The outsider is untouched.
        refused = ask(tunnel, "k1", "process_kill", pid=outsider.pid)
        assert refused["error"]["code"] == "not_an_instance_process", refused
        assert ask(tunnel, "k2", "process_kill", pid=outsider.pid, scope="instances")["error"]["code"] == \
            "not_an_instance_process"
        assert outsider.poll() is None
        done = ask(tunnel, "k3", "process_kill", pid=outsider.pid, scope="any", signal="SIGTERM")
        assert done["body"] == {"pid": outsider.pid, "signal": "SIGTERM", "instance_id": None}
        assert outsider.wait(timeout=10) == -15
    finally:
        if outsider.poll() is None:
            outsider.kill()

    mine = ask(tunnel, "k4", "process_kill", pid=child)
    assert mine["body"] == {"pid": child, "signal": "SIGKILL", "instance_id": "holder-1"}
    assert ask(tunnel, "k5", "process_kill", pid=1, scope="any")["error"]["code"] == "protected_process"
    assert ask(tunnel, "k6", "process_kill", pid=agent.process.pid, scope="any")["error"]["code"] == "protected_process"
    assert ask(tunnel, "k7", "process_kill", pid=4194000, scope="any")["error"]["code"] == "process_not_found"

    # A process node has no container engine; a malformed request is refused naming the field.
    assert ask(tunnel, "c1", "container_stop", container_id="web", timeout_s=1)["error"]["code"] == "no_docker"
    tunnel.send({"v": 1, "type": "request", "id": "c2", "kind": "container_start", "sections": [],
                 "container_id": "../etc"})
    bad = tunnel.next(match=lambda f: f.get("event") == "error")
    assert "container_id" in bad["args"][0]["message"]
    tunnel.send({"v": 1, "type": "open", "channel": 7, "kind": "container_logs", "instance_id": "",
                 "cols": 80, "rows": 24, "window_bytes": 4096, "container_id": "web"})
    refusal = tunnel.next(match=lambda f: f.get("channel") == 7)
    assert refusal["event"] == "error" and refusal["args"][0]["code"] == "no_docker", refusal
    assert tunnel.next(match=lambda f: f.get("channel") == 7)["type"] == "close"
    assert agent.running()
