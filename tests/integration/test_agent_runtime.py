"""shardlyn-agent on its own: node metrics from /proc (JSON route and Prometheus gauges), the
runtime driver choice (AGENT_DRIVER, DOCKER_HOST) and instances found again at start, with a
process instance left running by an earlier agent (kill -9) and a labelled container on a real
Docker Engine API (Podman's compatible service, image imported from busybox-static).

Then the instance state machine under a control plane (agent_api_peer.AgentApiPeer): a done line
or a tcp health check -> running, startup.timeout -> error with its reason, the stop command ->
SIGTERM -> SIGKILL with every step an event, crash records and the restart policy's backoff, the
install phase and config files, power generations, and kill -9 of the agent with the instance
kept and reported running by the next agent; the same with the docker driver on Podman.

The drivers' full behaviour (console, stop sequence, limits, reattach) is tested against real
processes and the same Podman service in tests/unit/shardlyn-agent/.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from agent_helpers import agent_data, events_of, last_state, meminfo_bytes, peer, wait_for, workload  # noqa: F401
from podman_helpers import engine, podman  # noqa: F401
from conftest import binary, base_env, free_port

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


# --- Docker Engine API: Podman's compatible service (podman_helpers) ----------------------------


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


# --- the instance state machine under a control plane (agent_api_peer) ---------------------------

def running_agent(launch, peer, data=None, env=None):
    full = {"AGENT_DRIVER": "process", "SHARDLYN_API_URL": peer.url}
    full.update(env or {})
    if not (data and (data / "credentials.json").exists()):
        full["SHARDLYN_REGISTER_TOKEN"] = peer.issue_register_token()
    return launch(AGENT, env=full, data_dir=data)


def pid_of(data, id):
    """The workload's pid from its supervisor's state, None while a start replaces it."""
    try:
        return json.loads((data / "supervisors" / id / "state.json").read_text())["pid"]
    except (FileNotFoundError, ValueError):
        return None


def transitions(peer, id):
    return [(e.get("from"), e["to"], e["reason"]) for e in events_of(peer, id)]


def wait_state(peer, id, state, agent, timeout=20.0):
    """Until the heartbeats report `state` and the transition to it came as an event (after them)."""
    assert wait_for(lambda: last_state(peer, id) == state and
                    any(e["to"] == state for e in events_of(peer, id)), timeout=timeout), \
        (last_state(peer, id), transitions(peer, id), agent.log_text()[-3000:])


def test_done_line_makes_it_running_and_config_files_are_written_first(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    root = agent_data / "instances" / "ready-1"
    root.mkdir(parents=True)
    (root / "server.properties").write_text("# kept\nserver-port=1\nmotd=old\n")
    script = "sleep 0.5; echo \"port is $(grep server-port server.properties)\"; echo 'Server ready'; " \
             "while read l; do echo \"echo: $l\"; done"
    peer.set_desired([{"id": "ready-1", "power": "running", "workload": workload(
        ["/bin/sh", "-c", script], config_files=[{"path": "server.properties", "parser": "properties",
                                                  "replace": [{"match": "server-port", "value": "25565"}]}])}])
    wait_state(peer, "ready-1", "running", agent)
    assert (root / "server.properties").read_text() == "# kept\nserver-port=25565\nmotd=old\n"
    ts = transitions(peer, "ready-1")
    assert ts[0][1] == "starting" and ("starting", "running", "done line 'Server ready' seen") in ts, ts
    # The file was rewritten before the command ran.
    logs = (agent_data / "supervisors" / "ready-1" / "console.log").read_text()
    assert "port is server-port=25565" in logs


def test_a_tcp_health_check_makes_it_running(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    port = free_port()
    server = ("import socket,time; time.sleep(0.5); s=socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              f"s.bind(('127.0.0.1', {port})); s.listen(8)\n"
              "while True:\n c,_=s.accept(); c.sendall(c.recv(100)); c.close()")
    peer.set_desired([{"id": "tcp-1", "power": "running", "workload": workload(
        ["python3", "-c", server], done=(),
        healthcheck={"kind": "tcp", "port": port, "interval_ms": 200, "timeout_ms": 500})}])
    wait_state(peer, "tcp-1", "running", agent)
    assert ("starting", "running", f"health check tcp 127.0.0.1:{port} passed") in transitions(peer, "tcp-1")


def test_startup_timeout_is_an_error_with_the_reason_and_the_instance_is_stopped(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    peer.set_desired([{"id": "slow-1", "power": "running", "workload": workload(
        ["/bin/sh", "-c", "echo loading; while true; do sleep 0.1; done"], timeout_ms=1500,
        healthcheck={"kind": "http", "port": free_port(), "path": "/ready", "interval_ms": 300, "timeout_ms": 300})}])
    wait_state(peer, "slow-1", "error", agent)
    error = [t for t in transitions(peer, "slow-1") if t[1] == "error"][0]
    assert error[0] == "starting"
    assert error[2].startswith("startup.timeout: not running after 1500 ms; no done line seen; "
                               "health check http GET 127.0.0.1:"), error
    assert "connect: Connection refused" in error[2]
    assert wait_for(lambda: (agent_data / "supervisors" / "slow-1" / "exit.json").exists(), timeout=15)
    time.sleep(2.5)  # a few reconcile passes: held in error, not started again
    assert last_state(peer, "slow-1") == "error"
    assert agent.log_text().count('"msg":"instance started","instance":"slow-1"') == 1


def test_stop_command_then_sigterm_then_sigkill_every_step_reported(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    stubborn = "trap '' TERM; echo 'Server ready'; while true; do sleep 0.1; done"
    stop = {"command": "quit", "signal": "SIGTERM", "timeout_ms": 600, "kill_after_ms": 600}
    graceful = "echo 'Server ready'; while read l; do [ \"$l\" = quit ] && exit 0; done"
    peer.set_desired([{"id": "stub-1", "power": "running", "workload": workload(["/bin/sh", "-c", stubborn], stop=stop)},
                      {"id": "nice-1", "power": "running", "workload": workload(["/bin/sh", "-c", graceful], stop=stop)}])
    wait_state(peer, "stub-1", "running", agent)
    wait_state(peer, "nice-1", "running", agent)
    peer.set_desired([{"id": "stub-1", "power": "stopped", "workload": workload(["/bin/sh", "-c", stubborn], stop=stop)},
                      {"id": "nice-1", "power": "stopped", "workload": workload(["/bin/sh", "-c", graceful], stop=stop)}])
    wait_state(peer, "stub-1", "stopped", agent)
    wait_state(peer, "nice-1", "stopped", agent)
    steps = [t[2] for t in transitions(peer, "stub-1") if t[0] == "stopping" and t[1] == "stopping"]
    assert steps == ["stop: sent the stop command 'quit'", "stop: still running after 600 ms, sent SIGTERM",
                     "stop: still running 600 ms after SIGTERM, sent SIGKILL"], transitions(peer, "stub-1")
    final = [e for e in events_of(peer, "stub-1") if e["to"] == "stopped"][0]
    assert final["from"] == "stopping" and final["exit_code"] == 137 and final["signal"] == signal.SIGKILL
    nice = transitions(peer, "nice-1")
    assert [t[2] for t in nice if t[1] == "stopping" and t[0] == "stopping"] == ["stop: sent the stop command 'quit'"]
    assert [e for e in events_of(peer, "nice-1") if e["to"] == "stopped"][0]["exit_code"] == 0
    assert not events_of(peer, "stub-1", "crash") and not events_of(peer, "nice-1", "crash")


def test_crash_records_and_the_restart_policy_with_backoff(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    crashing = "echo 'Server ready'; echo 'about to fail'; sleep 0.3; exit 3"
    policy = {"mode": "on-failure", "attempts": 2, "interval_ms": 60000, "delay_ms": 400, "backoff": 2}
    peer.set_desired([{"id": "crash-1", "power": "running",
                       "workload": workload(["/bin/sh", "-c", crashing], restart=policy)}])
    assert wait_for(lambda: len(events_of(peer, "crash-1", "crash")) >= 3, timeout=30), \
        (transitions(peer, "crash-1"), agent.log_text()[-3000:])
    crashes = events_of(peer, "crash-1", "crash")
    assert [c["exit_code"] for c in crashes] == [3, 3, 3]
    assert all(c["to"] == "crashed" and "about to fail" in c["last_lines"] for c in crashes)
    assert crashes[0]["reason"] == "exited with code 3; restart 1 of 2 in 400 ms (restart policy on-failure)"
    assert crashes[1]["reason"] == "exited with code 3; restart 2 of 2 in 800 ms (restart policy on-failure)"
    assert crashes[2]["reason"] == "exited with code 3; restart policy: 2 restarts within 60000 ms used up"
    restarts = [t for t in transitions(peer, "crash-1") if t[0] == "crashed"]
    assert [t[2] for t in restarts] == ["restarted by the restart policy"] * 2, transitions(peer, "crash-1")
    # The budget is spent: it stays crashed, and the agent's journal keeps the restarts it counted.
    time.sleep(2.5)
    assert last_state(peer, "crash-1") == "crashed" and len(events_of(peer, "crash-1", "crash")) == 3
    journal = json.loads((agent_data / "journal" / "crash-1.json").read_text())
    assert len(journal["restarts_unix_ms"]) == 2 and journal["exit_handled"] is True


def test_install_runs_first_with_its_log_reported_and_a_failed_install_holds(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    install = {"image": "", "entrypoint": "sh", "script": "echo fetching; echo v1 > version.txt; echo done installing"}
    peer.set_desired([
        {"id": "inst-1", "power": "running", "workload": workload(
            ["/bin/sh", "-c", "echo \"version $(cat version.txt)\"; echo 'Server ready'; while true; do sleep 1; done"],
            install=install)},
        {"id": "inst-2", "power": "running", "workload": workload(
            ["/bin/sh", "-c", "echo never"], install={"image": "", "entrypoint": "sh", "script": "echo broken; exit 7"})}])
    wait_state(peer, "inst-1", "running", agent)
    wait_state(peer, "inst-2", "install_failed", agent)
    ok = events_of(peer, "inst-1", "install")[0]
    assert ok["install_succeeded"] is True and ok["exit_code"] == 0
    assert "fetching" in ok["last_lines"] and "done installing" in ok["last_lines"]
    assert transitions(peer, "inst-1")[0][1] == "installing"
    assert "version v1" in (agent_data / "supervisors" / "inst-1" / "console.log").read_text()
    bad = events_of(peer, "inst-2", "install")[0]
    assert bad["install_succeeded"] is False and "broken" in bad["last_lines"]
    assert ("installing", "install_failed", "install script exited with code 7") in transitions(peer, "inst-2")
    assert not (agent_data / "instances" / "inst-2" / "version.txt").exists()


def test_kill_9_of_the_agent_keeps_the_instance_and_the_next_agent_reports_it_running(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    echo = "echo 'Server ready'; while read l; do echo \"echo: $l\"; done"
    policy = {"mode": "always", "attempts": 3, "interval_ms": 60000, "delay_ms": 200, "backoff": 2}
    desired = [{"id": "keep-2", "power": "running", "workload": workload(["/bin/sh", "-c", echo], restart=policy)}]
    peer.set_desired(desired)
    wait_state(peer, "keep-2", "running", agent)
    pid = pid_of(agent_data, "keep-2")
    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    os.kill(pid, 0)

    seen = len(peer.heartbeats)
    again = running_agent(launch, peer, agent_data)
    assert wait_for(lambda: any(i["id"] == "keep-2" and i["state"] == "running"
                                for hb in peer.heartbeats[seen:] for i in hb["instances"]), timeout=20)
    # Never reported as anything but running by the new agent, and not started again.
    states = {i["state"] for hb in peer.heartbeats[seen:] for i in hb["instances"] if i["id"] == "keep-2"}
    assert states == {"running"}, states
    assert pid_of(agent_data, "keep-2") == pid
    assert "instance started" not in again.log_text()
    # The reattached instance is still under the restart policy: a crash is recorded and restarted.
    os.killpg(pid, signal.SIGKILL)
    assert wait_for(lambda: events_of(peer, "keep-2", "crash"), timeout=20), again.log_text()[-3000:]
    crash = events_of(peer, "keep-2", "crash")[0]
    assert crash["signal"] == signal.SIGKILL and crash["reason"].startswith("ended by signal 9; restart 1 of 3")
    assert wait_for(lambda: pid_of(agent_data, "keep-2") not in (None, pid), timeout=20)
    wait_state(peer, "keep-2", "running", again)


def test_restart_and_kill_generations(launch, peer, agent_data):
    agent = running_agent(launch, peer, agent_data)
    echo = "echo 'Server ready'; while read l; do echo \"echo: $l\"; done"
    w = workload(["/bin/sh", "-c", echo])
    peer.set_desired([{"id": "gen-1", "power": "running", "workload": w, "restart_generation": 5, "kill_generation": 2}])
    wait_state(peer, "gen-1", "running", agent)
    first = pid_of(agent_data, "gen-1")
    # The generations of the first document are adopted, not acted on; a replay repeats nothing.
    peer.set_desired([{"id": "gen-1", "power": "running", "workload": w, "restart_generation": 5, "kill_generation": 2}])
    time.sleep(2.5)
    assert pid_of(agent_data, "gen-1") == first
    peer.set_desired([{"id": "gen-1", "power": "running", "workload": w, "restart_generation": 6, "kill_generation": 2}])
    assert wait_for(lambda: pid_of(agent_data, "gen-1") not in (None, first), timeout=20)
    wait_state(peer, "gen-1", "running", agent)
    assert any(t[2] == "restart asked" for t in transitions(peer, "gen-1")), transitions(peer, "gen-1")
    peer.set_desired([{"id": "gen-1", "power": "stopped", "workload": w, "restart_generation": 6, "kill_generation": 3}])
    wait_state(peer, "gen-1", "stopped", agent)
    stopped = [e for e in events_of(peer, "gen-1") if e["to"] == "stopped"][-1]
    assert stopped["exit_code"] == 137 and stopped["reason"] == "killed (SIGKILL) as asked"
    assert not events_of(peer, "gen-1", "crash")


def test_docker_driver_on_podman_state_machine_and_reattach(launch, peer, podman, tmp_path):
    data = tmp_path / "agent"
    data.mkdir()
    env = {"AGENT_DRIVER": "docker", "DOCKER_HOST": "unix://" + podman}
    agent = running_agent(launch, peer, data, env)
    image = "localhost/busybox:agent-test"
    stop = {"command": "quit", "signal": "SIGTERM", "timeout_ms": 800, "kill_after_ms": 800}
    echo = "echo \"motd $(cat motd.txt)\"; echo 'Server ready'; " \
           "while read l; do [ \"$l\" = quit ] && exit 0; echo \"echo: $l\"; done"
    stubborn = "trap '' TERM; echo 'Server ready'; while true; do sleep 1; done"
    desired = {
        "dock-1": workload(["/bin/sh", "-c", echo], stop=stop, image=image,
                           install={"image": image, "entrypoint": "sh", "script": "echo unpacking; echo hi > /mnt/server/motd.txt"},
                           config_files=[{"path": "server.properties", "parser": "properties",
                                          "replace": [{"match": "server-port", "value": "27015"}]}]),
        "dock-2": workload(["/bin/sh", "-c", stubborn], stop=stop, image=image),
    }
    peer.set_desired([{"id": k, "power": "running", "workload": w} for k, w in desired.items()])
    wait_state(peer, "dock-1", "running", agent, timeout=60)
    wait_state(peer, "dock-2", "running", agent, timeout=60)
    assert ("starting", "running", "done line 'Server ready' seen") in transitions(peer, "dock-1")
    installed = events_of(peer, "dock-1", "install")[0]
    assert installed["install_succeeded"] is True and "unpacking" in installed["last_lines"]
    assert (data / "instances" / "dock-1" / "server.properties").read_text() == "server-port=27015\n"
    status, info = engine(podman, "GET", "/containers/shardlyn-dock-1/json")
    assert status == 200 and info["Config"]["Labels"]["io.shardlyn.instance"] == "dock-1"
    assert info["HostConfig"]["ReadonlyRootfs"] is True

    # kill -9 of the agent: the containers keep running; the next agent finds them by label.
    agent.process.send_signal(signal.SIGKILL)
    agent.process.wait(timeout=10)
    assert engine(podman, "GET", "/containers/shardlyn-dock-1/json")[1]["State"]["Running"] is True
    seen = len(peer.heartbeats)
    again = running_agent(launch, peer, data, env)
    assert wait_for(lambda: {i["id"]: i["state"] for hb in peer.heartbeats[seen:] for i in hb["instances"]}
                    .get("dock-1") == "running", timeout=30), again.log_text()[-3000:]
    assert "instance started" not in again.log_text()
    t = peer.latest_tunnel()
    t.send({"v": 1, "type": "open", "channel": 7, "kind": "console", "instance_id": "dock-1",
            "since_seq": 0, "cols": 80, "rows": 24, "window_bytes": 65536})
    assert t.next(match=lambda f: f["type"] == "data" and f["args"] == ["motd hi"], timeout=20)
    t.send({"v": 1, "type": "data", "channel": 7, "event": "send command", "args": ["hello"]})
    assert t.next(match=lambda f: f["type"] == "data" and f["args"] == ["echo: hello"], timeout=20)

    # The stop sequence through the engine: the command ends one; the other needs SIGTERM, then SIGKILL.
    peer.set_desired([{"id": k, "power": "stopped", "workload": w} for k, w in desired.items()])
    wait_state(peer, "dock-1", "stopped", again, timeout=30)
    wait_state(peer, "dock-2", "stopped", again, timeout=30)
    steps = [r for f, to, r in transitions(peer, "dock-2") if f == "stopping" and to == "stopping"]
    assert steps == ["stop: sent the stop command 'quit'", "stop: still running after 800 ms, sent SIGTERM",
                     "stop: still running 800 ms after SIGTERM, sent SIGKILL"], transitions(peer, "dock-2")
    assert [e for e in events_of(peer, "dock-2") if e["to"] == "stopped"][-1]["exit_code"] == 137
    assert [e for e in events_of(peer, "dock-1") if e["to"] == "stopped"][-1]["exit_code"] == 0
    peer.set_desired([])
    assert wait_for(lambda: engine(podman, "GET", "/containers/shardlyn-dock-1/json")[0] == 404 and
                    engine(podman, "GET", "/containers/shardlyn-dock-2/json")[0] == 404, timeout=30)
