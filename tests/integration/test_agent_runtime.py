"""shardlyn-agent on its own: node metrics from /proc (JSON route and Prometheus gauges), the
runtime driver choice (AGENT_DRIVER, DOCKER_HOST) and instances found again at start, with a
process instance left running by an earlier agent (kill -9) and a labelled container on a real
Docker Engine API (Podman's compatible service, image imported from busybox-static).

The drivers' full behaviour (console, stop sequence, limits, reattach) is tested against real
processes and the same Podman service in tests/unit/shardlyn-agent/.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from agent_helpers import meminfo_bytes, wait_for
from conftest import binary, base_env

AGENT = "shardlyn-agent"


def gauge(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return float(m.group(1))




def test_node_metrics_json_matches_the_kernel(launch):
    agent = launch(AGENT, env={"AGENT_DRIVER": "process"})
    r = agent.get("/v1/node/metrics")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["memory"]["total_bytes"] == meminfo_bytes("MemTotal")
    assert 0 < m["memory"]["available_bytes"] <= m["memory"]["total_bytes"]
    assert m["memory"]["used_bytes"] == m["memory"]["total_bytes"] - m["memory"]["available_bytes"]
    assert m["cpu"]["cores"] == len([l for l in Path("/proc/stat").read_text().splitlines()
                                     if re.match(r"cpu\d+ ", l)])
    assert 0.0 <= m["cpu"]["usage"] <= 1.0
    st = os.statvfs(agent.data_dir)
    assert m["disk"]["path"] == str(agent.data_dir)
    assert m["disk"]["total_bytes"] == st.f_blocks * st.f_frsize
    assert m["load"]["one"] >= 0 and m["load"]["fifteen"] >= 0
    names = [i["name"] for i in m["network"]["interfaces"]]
    assert "lo" not in names
    assert m["network"]["rx_bytes"] == sum(i["rx_bytes"] for i in m["network"]["interfaces"])
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["sampled_at"])


def test_node_gauges_and_the_driver_on_metrics(launch):
    agent = launch(AGENT, env={"AGENT_DRIVER": "process"})
    text = agent.get("/metrics").text
    assert gauge(text, "shardlyn_agent_node_memory_total_bytes") == meminfo_bytes("MemTotal")
    assert gauge(text, "shardlyn_agent_node_disk_total_bytes") > 0
    assert 0 <= gauge(text, "shardlyn_agent_node_cpu_usage_ratio") <= 1
    assert gauge(text, "shardlyn_agent_node_network_receive_bytes") >= 0
    assert 'shardlyn_agent_runtime_driver{driver="process"} 1' in text
    assert gauge(text, "shardlyn_agent_instances_running") == 0


@pytest.mark.parametrize("env, message", [
    ({"AGENT_DRIVER": "kubernetes"}, "AGENT_DRIVER: must be auto, process or docker"),
    ({"DOCKER_HOST": "tcp://127.0.0.1:2375"}, "DOCKER_HOST: only unix://"),
    ({"AGENT_DRIVER": "docker", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "does not answer"),
])
def test_bad_runtime_settings_refuse_to_start(tmp_path, env, message):
    full = base_env(tmp_path)
    full.update({"AGENT_METRICS_PORT": "0", **env})
    p = subprocess.run([str(binary(AGENT))], env=full, capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stdout + p.stderr


def test_auto_falls_back_to_process_when_docker_does_not_answer(launch):
    agent = launch(AGENT, env={"AGENT_DRIVER": "auto", "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert 'shardlyn_agent_runtime_driver{driver="process"} 1' in agent.get("/metrics").text
    assert "docker not available" in agent.log_text()


def start_supervised(data_dir: Path, instance: str, script: str) -> None:
    """What an earlier agent left behind: a supervisor (the agent binary's supervise mode, in its
    own session) running an instance's command."""
    state = data_dir / "supervisors" / instance
    root = data_dir / "instances" / instance
    state.mkdir(parents=True)
    root.mkdir(parents=True)
    workload = {"instance_id": instance, "image": "", "command": ["sh", "-c", script], "args": [], "env": {},
                "working_dir": "", "read_only_root": True,
                "limits": {"cpu": 0, "memory_bytes": 0, "pids": 0, "open_files": 0},
                "stop": {"command": "", "signal": 15, "timeout_ms": 2000, "kill_after_ms": 1000}}
    (state / "workload.json").write_text(json.dumps(workload))
    subprocess.Popen([str(binary(AGENT)), "supervise", str(state), str(root)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: (state / "state.json").exists()), "the supervisor did not start"


def test_agent_killed_and_restarted_finds_its_process_instance_running(launch, tmp_path):
    data = tmp_path / "agent"
    data.mkdir()
    start_supervised(data, "inst-1", "echo 'Server ready'; while true; do sleep 1; done")
    state = json.loads((data / "supervisors" / "inst-1" / "state.json").read_text())
    agent = launch(AGENT, env={"AGENT_DRIVER": "process"}, data_dir=data)
    assert gauge(agent.get("/metrics").text, "shardlyn_agent_instances_running") == 1
    assert '"instance":"inst-1"' in agent.log_text()
    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    os.kill(state["pid"], 0)  # the instance outlived the agent
    again = launch(AGENT, env={"AGENT_DRIVER": "process"}, data_dir=data)
    assert gauge(again.get("/metrics").text, "shardlyn_agent_instances_running") == 1
    os.killpg(state["pid"], signal.SIGKILL)
    assert wait_for(lambda: (data / "supervisors" / "inst-1" / "exit.json").exists())
    exit_record = json.loads((data / "supervisors" / "inst-1" / "exit.json").read_text())
    assert exit_record["signal"] == signal.SIGKILL and exit_record["stop_requested"] is False
    assert gauge(again.get("/metrics").text, "shardlyn_agent_instances_running") == 0


# --- Docker Engine API: Podman's compatible service ----------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("docker", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def engine(sock: str, method: str, target: str, body=None):
    c = UnixHTTPConnection(sock)
    c.request(method, "/v1.41" + target, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data and data[:1] in b"[{" else data)


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    if not shutil.which("podman") or not shutil.which("runc"):
        pytest.skip("podman or runc is not installed (tools/bootstrap-deps.sh installs them)")
    if not Path("/bin/busybox").exists():
        pytest.skip("/bin/busybox is missing (Debian package busybox-static)")
    d = tmp_path_factory.mktemp("podman")
    (d / "containers.conf").write_text('[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n')
    env = dict(os.environ, CONTAINERS_CONF=str(d / "containers.conf"))
    flags = ["--root", str(d / "storage"), "--runroot", str(d / "run"), "--storage-driver", "vfs",
             "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    rootfs = d / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "tmp").mkdir()
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("sh", "sleep", "echo"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    with tarfile.open(d / "image.tar", "w") as tar:
        tar.add(rootfs, arcname=".")
    imported = subprocess.run(["podman", *flags, "import", str(d / "image.tar"), "localhost/busybox:agent-test"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    sock = str(d / "api.sock")
    log = open(d / "service.log", "wb")
    service = subprocess.Popen(["podman", *flags, "system", "service", "--time=0", "unix://" + sock],
                               env=env, stdout=log, stderr=subprocess.STDOUT)

    def answers():
        try:
            return engine(sock, "GET", "/_ping")[0] == 200
        except OSError:
            return False
    assert wait_for(answers, timeout=20), (d / "service.log").read_text()[-2000:]
    yield sock
    subprocess.run(["podman", *flags, "rm", "-af", "-t", "0"], env=env, capture_output=True, timeout=120)
    service.terminate()
    service.wait(timeout=30)
    log.close()


def test_auto_picks_docker_and_finds_labelled_containers_again(launch, podman):
    status, created = engine(podman, "POST", "/containers/create?name=shardlyn-found-1", {
        "Image": "localhost/busybox:agent-test", "Cmd": ["/bin/sh", "-c", "while true; do sleep 1; done"],
        "Labels": {"io.shardlyn.instance": "found-1"}, "HostConfig": {"ReadonlyRootfs": True}})
    assert status == 201, created
    assert engine(podman, "POST", f"/containers/{created['Id']}/start")[0] == 204
    # A container the agent does not own (no label) is left alone.
    status, other = engine(podman, "POST", "/containers/create?name=unrelated", {
        "Image": "localhost/busybox:agent-test", "Cmd": ["/bin/sleep", "1000"]})
    assert status == 201
    assert engine(podman, "POST", f"/containers/{other['Id']}/start")[0] == 204

    agent = launch(AGENT, env={"AGENT_DRIVER": "auto", "DOCKER_HOST": "unix://" + podman})
    text = agent.get("/metrics").text
    assert 'shardlyn_agent_runtime_driver{driver="docker"} 1' in text
    assert gauge(text, "shardlyn_agent_instances_running") == 1
    assert '"instance":"found-1"' in agent.log_text()
    # kill -9 and start again: the container kept running and is found again.
    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    assert engine(podman, "GET", f"/containers/{created['Id']}/json")[1]["State"]["Running"] is True
    again = launch(AGENT, env={"AGENT_DRIVER": "docker", "DOCKER_HOST": "unix://" + podman}, data_dir=agent.data_dir)
    assert gauge(again.get("/metrics").text, "shardlyn_agent_instances_running") == 1
    engine(podman, "DELETE", f"/containers/{created['Id']}?force=1")
    engine(podman, "DELETE", f"/containers/{other['Id']}?force=1")
    assert gauge(again.get("/metrics").text, "shardlyn_agent_instances_running") == 0
