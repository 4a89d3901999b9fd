"""shardlyn-agent under a control plane: registration with a one-time token (the issued agent
token kept 0600 in DATA_DIR and reused after a restart), heartbeats carrying /proc metrics and
instance states, the desired-state long-poll driving the process driver (start, report running,
stop when removed), the tunnel (console in and out, a PTY terminal, inventory, reconnect after an
API restart), and `kill -9` of the agent leaving the instance running, reattached on the next start.

The API side is agent_api_peer.AgentApiPeer, the protocol peer for agent tests (shardlyn-api's
agent routes do not exist yet).
"""
from __future__ import annotations

import functools
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from agent_api_peer import AgentApiPeer
from agent_helpers import agent_data, meminfo_bytes, peer, wait_for  # noqa: F401 (fixtures)
from conftest import base_env, binary

AGENT = "shardlyn-agent"
eventually = functools.partial(wait_for, timeout=20.0)  # a loaded machine: generous, still bounded
ECHO = ["/bin/sh", "-c", "echo 'Server ready'; while read line; do echo \"echo: $line\"; done"]




def instance(id: str, power: str = "running", command=None) -> dict:
    return {"id": id, "power": power, "workload": {
        "image": "", "command": command or ECHO, "args": [], "env": {"GREETING": "hi"}, "working_dir": "",
        "limits": {"cpu": 0, "memory_bytes": 0, "pids": 0, "open_files": 0},
        "stop": {"command": "", "signal": "SIGTERM", "timeout_ms": 2000},
        "startup": {"done": ["Server ready"], "timeout_ms": 0}, "read_only_root": True}}


def reported(peer: AgentApiPeer, id: str, after: int = 0):
    """The state of instance `id` in the newest heartbeat after the first `after` ones."""
    for hb in reversed(peer.heartbeats[after:]):
        for i in hb["instances"]:
            if i["id"] == id:
                return i
        return None
    return None


def supervisor_pid(data: Path, id: str) -> int:
    return json.loads((data / "supervisors" / id / "state.json").read_text())["pid"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (ProcessLookupError, FileNotFoundError):  # gone between the two looks
        return False


def start_agent(launch, peer, data, token=None):
    env = {"AGENT_DRIVER": "process", "SHARDLYN_API_URL": peer.url + "/"}
    if token:
        env["SHARDLYN_REGISTER_TOKEN"] = token
    return launch(AGENT, env=env, data_dir=data)


def test_registers_once_keeps_its_token_0600_and_heartbeats_node_metrics(launch, peer, agent_data):
    token = peer.issue_register_token()
    agent = start_agent(launch, peer, agent_data, token)
    assert eventually(lambda: len(peer.heartbeats) >= 2), agent.log_text()[-2000:]
    reg = peer.registrations[0]
    assert reg["token"] == token and reg["drivers"] == ["process"] and reg["os"] == "Linux"
    assert reg["memory_bytes"] == meminfo_bytes("MemTotal") and reg["cpu_count"] >= 1
    creds = agent_data / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    stored = json.loads(creds.read_text())
    assert peer.agent_tokens[stored["agent_token"]] == stored["node_id"]
    m = peer.heartbeats[-1]["metrics"]
    assert m["memory"]["total_bytes"] == meminfo_bytes("MemTotal")
    assert m["memory"]["used_bytes"] == m["memory"]["total_bytes"] - m["memory"]["available_bytes"]
    assert m["cpu"]["cores"] == len([l for l in Path("/proc/stat").read_text().splitlines() if l[:3] == "cpu" and l[3].isdigit()])
    assert 0 <= m["cpu"]["usage"] <= 1 and m["load"]["one"] >= 0
    assert m["disk"]["path"] == str(agent_data) and m["disk"]["total_bytes"] > 0
    health = agent.get("/health").json()
    assert health["control"]["registered"] is True and health["control"]["node_id"] == stored["node_id"]
    assert 'shardlyn_agent_heartbeats_total{result="ok"}' in agent.get("/metrics").text

    # Restart without the (now used) register token: the stored agent token is reused.
    agent.stop()
    seen = len(peer.heartbeats)
    again = start_agent(launch, peer, agent_data)
    assert eventually(lambda: len(peer.heartbeats) > seen + 1), again.log_text()[-2000:]
    assert len(peer.registrations) == 1


def test_a_used_register_token_is_refused_and_the_agent_keeps_serving(launch, peer, agent_data):
    token = peer.issue_register_token()
    peer.register_tokens.discard(token)  # already used elsewhere
    agent = start_agent(launch, peer, agent_data, token)
    assert eventually(lambda: "registration failed" in agent.log_text())
    assert "register token unknown, used or expired" in agent.log_text()
    assert agent.get("/health").json()["control"]["registered"] is False
    assert not (agent_data / "credentials.json").exists()


def test_first_start_without_a_register_token_is_a_configuration_error(peer, tmp_path):
    env = base_env(tmp_path)
    env.update({"AGENT_METRICS_PORT": "0", "AGENT_DRIVER": "process", "SHARDLYN_API_URL": peer.url})
    p = subprocess.run([str(binary(AGENT))], env=env, capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "SHARDLYN_REGISTER_TOKEN: needed for the first registration" in p.stdout + p.stderr
    env["SHARDLYN_API_URL"] = "ftp://127.0.0.1"
    p = subprocess.run([str(binary(AGENT))], env=env, capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "SHARDLYN_API_URL: must start with http:// or https://" in p.stdout + p.stderr


def test_desired_instance_runs_carries_its_console_and_stops_when_removed(launch, peer, agent_data):
    agent = start_agent(launch, peer, agent_data, peer.issue_register_token())
    tunnel = peer.latest_tunnel()
    assert tunnel.token in peer.agent_tokens  # the tunnel upgrade carried X-Agent-Token
    peer.fail_events = 1  # the first batch is refused: it must come again (with backoff)
    peer.set_desired([instance("echo-1")])
    assert eventually(lambda: (reported(peer, "echo-1") or {}).get("state") == "running"), agent.log_text()[-3000:]
    assert eventually(lambda: peer.refused_events and "kept for the next try" in agent.log_text())
    assert eventually(lambda: all(e in peer.events for e in peer.refused_events)), (peer.refused_events, peer.events)
    pid = supervisor_pid(agent_data, "echo-1")
    assert alive(pid)
    assert eventually(lambda: peer.heartbeats[-1]["desired_version"] == 1)
    assert (agent_data / "instances" / "echo-1").is_dir()

    # Console through the tunnel: replay from seq 0, then a command and its echo.
    tunnel.send({"v": 1, "type": "open", "channel": 1, "kind": "console", "instance_id": "echo-1",
                 "since_seq": 0, "cols": 80, "rows": 24, "window_bytes": 65536})
    first = tunnel.next(match=lambda f: f["type"] == "data" and not f["args"][0].startswith("[shardlyn]"))
    assert first["event"] == "console output" and first["args"] == ["Server ready"] and first["seq"] >= 2
    tunnel.send({"v": 1, "type": "data", "channel": 1, "event": "send command", "args": ["hello"]})
    echo = tunnel.next(match=lambda f: f["type"] == "data" and f["event"] == "console output")
    assert echo["args"] == ["echo: hello"] and echo["seq"] > first["seq"]
    # Refused frames get an explicit error, never silence.
    tunnel.send({"v": 1, "type": "data", "channel": 9, "event": "send command", "args": ["x"]})
    err = tunnel.next(match=lambda f: f.get("event") == "error")
    assert err["args"][0]["code"] == "no_channel"
    tunnel.send({"v": 2, "type": "credit", "channel": 1, "bytes": 1})
    err = tunnel.next(match=lambda f: f.get("event") == "error")
    assert err["args"][0]["code"] == "bad_frame" and "frame.v" in err["args"][0]["message"]
    tunnel.send({"v": 1, "type": "open", "channel": 2, "kind": "console", "instance_id": "nope",
                 "cols": 80, "rows": 24, "window_bytes": 100})
    closed = tunnel.next(match=lambda f: f["type"] == "close" and f["channel"] == 2)
    assert "does not run on this node" in closed["reason"]

    # Inventory on request.
    tunnel.send({"v": 1, "type": "request", "id": "inv-1", "kind": "inventory", "sections": []})
    inv = tunnel.next(match=lambda f: f["type"] == "response")
    assert inv["id"] == "inv-1"
    body = inv["body"]
    assert body["system"]["memory_bytes"] == meminfo_bytes("MemTotal")
    assert any(p["pid"] == pid for p in body["processes"])
    assert {"id": "echo-1", "driver": "process", "state": "running"} in body["containers"]
    assert any(u["name"] == "root" and u["uid"] == 0 for u in body["users"])
    tunnel.send({"v": 1, "type": "request", "id": "inv-2", "kind": "inventory", "sections": ["gpu"]})
    bad = tunnel.next(match=lambda f: f["type"] == "response")
    assert bad["error"]["code"] == "unknown_section" and "gpu" in bad["error"]["message"]

    # A terminal on the node: a shell behind a PTY.
    tunnel.send({"v": 1, "type": "open", "channel": 3, "kind": "terminal", "instance_id": "",
                 "cols": 100, "rows": 30, "window_bytes": 1 << 20})
    tunnel.send({"v": 1, "type": "data", "channel": 3, "event": "terminal input", "args": ["stty size; echo $((6*7))x\n"]})
    out = ""
    deadline = time.monotonic() + 10
    while ("42x" not in out or "30 100" not in out) and time.monotonic() < deadline:
        f = tunnel.next(match=lambda f: f.get("channel") == 3)
        assert f["type"] == "data" and f["event"] == "terminal output", f
        out += f["args"][0]
    assert "42x" in out and "30 100" in out, out
    tunnel.send({"v": 1, "type": "data", "channel": 3, "event": "terminal input", "args": ["exit\n"]})
    assert "terminal ended" in tunnel.next(match=lambda f: f["type"] == "close" and f["channel"] == 3)["reason"]

    # Removed from the desired state: stopped, and reported no more once gone.
    peer.set_desired([])
    assert eventually(lambda: not alive(pid), timeout=20), agent.log_text()[-3000:]
    seen = len(peer.heartbeats)
    assert eventually(lambda: len(peer.heartbeats) > seen and reported(peer, "echo-1", seen) is None)
    kinds = [(e["instance_id"], e.get("from"), e["to"]) for e in peer.events]
    assert ("echo-1", "starting", "running") in kinds or ("echo-1", None, "running") in kinds, kinds
    assert any(e["to"] in ("stopping", "stopped") for e in peer.events), kinds


def test_tunnel_and_heartbeats_come_back_after_the_api_restarts(launch, peer, agent_data):
    agent = start_agent(launch, peer, agent_data, peer.issue_register_token())
    peer.latest_tunnel()
    assert eventually(lambda: peer.heartbeats)
    tokens, port = dict(peer.agent_tokens), peer.port
    peer.stop()
    assert eventually(lambda: "heartbeat failed" in agent.log_text(), timeout=10)
    restarted = AgentApiPeer(port=port)
    restarted.agent_tokens = tokens
    restarted.start()
    try:
        t = restarted.latest_tunnel(timeout=40)
        assert t.token in tokens
        assert eventually(lambda: restarted.heartbeats, timeout=40)
        assert eventually(lambda: agent.get("/health").json()["control"]["tunnel"] == "connected")
        # The new tunnel works: an inventory request is answered.
        t.send({"v": 1, "type": "request", "id": "after", "kind": "inventory", "sections": ["system"]})
        assert t.next(match=lambda f: f["type"] == "response")["body"]["system"]["hostname"]
    finally:
        restarted.stop()


def test_kill_9_leaves_the_instance_running_and_the_next_agent_reattaches(launch, peer, agent_data):
    agent = start_agent(launch, peer, agent_data, peer.issue_register_token())
    peer.set_desired([instance("keep-1")])
    assert eventually(lambda: (reported(peer, "keep-1") or {}).get("state") == "running"), agent.log_text()[-3000:]
    pid = supervisor_pid(agent_data, "keep-1")
    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    time.sleep(0.5)
    assert alive(pid), "the instance died with the agent"

    seen = len(peer.heartbeats)
    again = start_agent(launch, peer, agent_data)
    assert eventually(lambda: (reported(peer, "keep-1", seen) or {}).get("state") == "running"), again.log_text()[-3000:]
    assert supervisor_pid(agent_data, "keep-1") == pid  # reattached, not started again
    assert alive(pid)
    assert '"instance":"keep-1"' in again.log_text() and "instance started" not in again.log_text()
    assert len(peer.registrations) == 1
    # Its console still works through the new agent's tunnel.
    t = peer.latest_tunnel()
    t.send({"v": 1, "type": "open", "channel": 5, "kind": "console", "instance_id": "keep-1",
            "cols": 80, "rows": 24, "window_bytes": 65536})
    time.sleep(0.3)
    t.send({"v": 1, "type": "data", "channel": 5, "event": "send command", "args": ["still here"]})
    assert t.next(match=lambda f: f["type"] == "data" and f["event"] == "console output")["args"] == ["echo: still here"]
    peer.set_desired([instance("keep-1", power="stopped")])
    assert eventually(lambda: not alive(pid), timeout=20)
    assert eventually(lambda: (reported(peer, "keep-1") or {}).get("state") == "stopped")


def test_a_pending_long_poll_does_not_hold_up_a_shutdown(launch, agent_data):
    peer = AgentApiPeer(hold_s=60).start()  # the API holds the poll as long as it may
    try:
        agent = start_agent(launch, peer, agent_data, peer.issue_register_token())
        assert eventually(lambda: peer.polls), agent.log_text()[-2000:]
        time.sleep(0.5)
        started = time.monotonic()
        assert agent.stop(timeout=15) == 0 and not agent.killed
        # Held, the poll would keep the agent 40 s (its 30 s wait + 10 s); the tunnel's close may
        # take up to its 5 s bound.
        assert time.monotonic() - started < 12, "SIGTERM waited for the long-poll"
        assert "desired?since=0: cancelled" in agent.log_text()
    finally:
        peer.stop()
