"""Helpers of the shardlyn-agent tests: bounded waiting, the kernel's own numbers, the protocol
peer and agent data directories as fixtures, and workloads and events in the protocol's shape."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from agent_api_peer import VIOLATIONS, AgentApiPeer


def wait_for(predicate, timeout=10.0, step=0.05):
    """The predicate's first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def kill_supervisors(agent_data: Path) -> None:
    """Instances outlive agents by design: a test kills the process-driver supervisors (and
    their instances) it started under `agent_data`."""
    for state in agent_data.glob("supervisors/*/state.json"):
        try:
            os.killpg(json.loads(state.read_text())["pid"], signal.SIGKILL)
        except (ProcessLookupError, ValueError, KeyError):
            pass


def meminfo_bytes(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(key)


def workload(command, done=("Server ready",), timeout_ms=0, stop=None, restart=None, **extra) -> dict:
    """A resolved workload in the protocol's shape (libs/agentproto), process driver defaults."""
    w = {"image": "", "command": list(command), "args": [], "env": {}, "working_dir": "",
         "limits": {"cpu": 0, "memory_bytes": 0, "pids": 0, "open_files": 0},
         "stop": stop or {"command": "", "signal": "SIGTERM", "timeout_ms": 2000, "kill_after_ms": 1000},
         "startup": {"done": list(done), "timeout_ms": timeout_ms}, "read_only_root": True}
    if restart:
        w["restart"] = restart
    w.update(extra)
    return w


def events_of(peer, instance_id: str, kind: str | None = None) -> list[dict]:
    """The events the agent delivered about one instance (of one kind), in order."""
    return [e for e in list(peer.events) if e["instance_id"] == instance_id and (kind is None or e["kind"] == kind)]


def last_state(peer, instance_id: str) -> str | None:
    """The state of the instance in the newest heartbeat that lists it."""
    for hb in reversed(list(peer.heartbeats)):
        for i in hb["instances"]:
            if i["id"] == instance_id:
                return i["state"]
    return None


@pytest.fixture
def peer():
    """The protocol peer (agent_api_peer), its schema checks asserted at teardown."""
    VIOLATIONS.clear()
    p = AgentApiPeer().start()
    yield p
    p.stop()
    # Both sides' documents conform to proto-schemas/agent/v1.schema.json.
    assert not VIOLATIONS, VIOLATIONS[:10]


@pytest.fixture
def agent_data(tmp_path):
    """A DATA_DIR for agents; the instances they leave running are killed at teardown."""
    data = tmp_path / "agent"
    data.mkdir()
    yield data
    kill_supervisors(data)
