"""The instance console and logs through the agent tunnel, end to end: the real shardlyn-api and
the real shardlyn-agent (process driver), an instance that prints `Server ready` and then echoes
its input. Over the console WebSocket (python3-websockets) a command is echoed back with its
seq; a reconnect replays what was missed; a viewer without instances.console, a bad frame, the
read-only logs socket and another organisation are refused with error frames (or 404 at the
upgrade); a flood is throttled with a notice; the token's end is announced; history pages by
seq, download streams, clear empties; `kill -9` of the agent leaves the instance running and the
console works again once the tunnel is back; the tunnel statistics show it; after an API
restart the journal starts again from the agent's ring. A caller holds at
most SHARDLYN_CONSOLE_MAX_PER_CALLER sockets, and upgrades are rate-limited per caller.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_console.py
"""
from __future__ import annotations

import functools
import json
import signal
import time

import jwt
import pytest

from agent_helpers import kill_supervisors, wait_for
from console_client import ConsoleClient, refused_status
from shardlyn_helpers import JWT_SECRET, SHARDLYN_ENV, bearer, bootstrap, expect, expect_error, register

eventually = functools.partial(wait_for, timeout=30.0, step=0.1)
SCRIPT = ('echo Server ready; '
          'while read line; do '
          'if [ "$line" = flood ]; then i=0; while [ $i -lt 3000 ]; do echo "flood $i"; i=$((i+1)); done; continue; fi; '
          'if [ "$line" = big ]; then s=x; while [ ${#s} -lt 8000 ]; do s="$s$s"; done; '
          'i=0; while [ $i -lt 600 ]; do echo "big $i $s"; i=$((i+1)); done; continue; fi; '
          'if [ "$line" = burst ]; then seq -f "burst %.0f" 1 300000; continue; fi; '
          'echo "echo: $line"; done')
ECHO = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "console-echo"},
        "spec": {"command": ["/bin/sh", "-c", SCRIPT], "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}},
                 "stopTimeout": "5s", "startup": {"done": ["Server ready"], "timeout": "20s"},
                 "restartPolicy": {"mode": "never"}}}


def start_agent(w, env):
    return w.launch("shardlyn-agent", data_dir=w.agent_data, env={"AGENT_DRIVER": "process",
                                                                    "SHARDLYN_API_URL": w.server.base_url, **env})


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    w = type("World", (), {})()
    w.launch = module_launch
    w.api_env = {**SHARDLYN_ENV, "SHARDLYN_CONSOLE_MAX_PER_CALLER": "4", "SHARDLYN_CONSOLE_RATE_LIMIT": "1000/min:1000"}
    w.server = module_launch("shardlyn-api", env=w.api_env)
    w.admin = bootstrap(w.server)
    w.alice = register(w.server, "alice")
    w.bob = register(w.server, "bob")
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "console-node"}), 201)["token"]
    w.agent_data = tmp_path_factory.mktemp("agent")
    w.agent = start_agent(w, {"SHARDLYN_REGISTER_TOKEN": token})
    assert eventually(lambda: (w.agent_data / "credentials.json").exists()), w.agent.log_text()[-3000:]
    w.node = json.loads((w.agent_data / "credentials.json").read_text())["node_id"]
    assert eventually(lambda: expect(w.alice.get(f"/v1/nodes/{w.node}"), 200)["status"] == "healthy")
    workload = expect(w.alice.post("/v1/workloads", ECHO), 201)["id"]
    w.instance = expect(w.alice.post("/v1/instances", {"workload_id": workload, "name": "echo", "node_id": w.node}),
                        201)["id"]
    expect(w.alice.post(f"/v1/instances/{w.instance}/start"), 202)
    assert eventually(lambda: state(w) == "running"), w.agent.log_text()[-3000:]
    w.console = f"/v1/instances/{w.instance}/console"
    w.logs = f"/v1/instances/{w.instance}/logs"
    yield w
    kill_supervisors(w.agent_data)  # instances outlive agents by design


def state(w):
    return expect(w.alice.get(f"/v1/instances/{w.instance}"), 200)["state"]


def viewer(w, headers=None, path=None):
    c = ConsoleClient(w.server, path or w.console, {**(headers or w.alice.headers)})
    assert c.event("auth success")["args"] == []
    return c


def echo_of(c, text):
    return c.until(lambda f: f["event"] == "console output" and f["args"] == [f"echo: {text}"])


def test_a_command_is_echoed_with_its_seq(world):
    c = viewer(world)
    assert c.event("status")["args"] == ["running"]
    c.send("send command", "hello")
    echo = echo_of(c, "hello")
    assert isinstance(echo["seq"], int) and echo["seq"] >= 2
    # The ring holds the start of the run too: `Server ready` came before, with a lower seq.
    c.send("send logs", 0)
    ready = c.until(lambda f: f["event"] == "console output" and f["args"] == ["Server ready"])
    assert ready["seq"] < echo["seq"]
    c.close()


def test_reconnect_replays_what_was_missed(world):
    c = viewer(world)
    c.send("send command", "before")
    seen = echo_of(c, "before")["seq"]
    c.close()
    other = viewer(world)
    other.send("send command", "while away")
    missed = echo_of(other, "while away")["seq"]
    other.close()
    back = viewer(world)
    back.send("send logs", seen)
    replayed = echo_of(back, "while away")
    assert replayed["seq"] == missed > seen
    back.close()


def test_first_frame_auth_and_its_refusals(world):
    c = ConsoleClient(world.server, world.console)
    c.send("send command", "too early")
    assert c.error("send command")["code"] == "not_authenticated"
    c.send("auth", "not-a-token")
    assert c.error("auth")["code"] == "unauthorized"
    c.send("auth", world.alice.access)
    c.event("auth success")
    assert c.event("status")["args"] == ["running"]
    c.send("send command", "by frame")
    echo_of(c, "by frame")
    c.close()


def test_another_organisation_is_404_at_the_upgrade_and_by_frame(world):
    assert refused_status(world.server, world.console, world.bob.headers) == 404
    assert refused_status(world.server, world.logs, world.bob.headers) == 404
    assert refused_status(world.server, world.console, bearer("garbage")) == 401
    c = ConsoleClient(world.server, world.console)
    c.send("auth", world.bob.access)
    assert c.error("auth")["code"] == "not_found"
    assert c.closed()


def test_a_viewer_without_console_or_power_gets_error_frames(world):
    token = world.alice.api_token(permissions=["instances.logs"])["token"]
    assert refused_status(world.server, world.console, bearer(world.alice.api_token(permissions=[])["token"])) == 403
    c = viewer(world, bearer(token))
    c.send("send command", "forbidden")
    err = c.error("send command")
    assert err["code"] == "forbidden" and "instances.console" in err["message"]
    c.send("set state", "stop")
    err = c.error("set state")
    assert err["code"] == "forbidden" and "instances.power" in err["message"]
    c.close()
    assert state(world) == "running"


def test_a_caller_holds_a_bounded_number_of_sockets(world):
    token = world.alice.api_token()["token"]  # counted apart from alice's own sessions
    held = [viewer(world, bearer(token), path=world.console if i % 2 else world.logs) for i in range(4)]
    assert refused_status(world.server, world.console, bearer(token)) == 429
    late = ConsoleClient(world.server, world.console)
    late.send("auth", token)
    assert late.error("auth")["code"] == "rate_limited"
    assert late.closed()
    held.pop().close()

    def fifth():
        try:
            return viewer(world, bearer(token))
        except Exception:  # the server has not seen the close yet
            return None
    extra = wait_for(fifth, timeout=10.0, step=0.2)
    assert extra
    for c in [*held, extra]:
        c.close()


def test_bad_frames_are_answered_never_silenced(world):
    c = viewer(world)
    c.send_raw("not json")
    assert c.error("")["code"] == "bad_frame"
    c.send_raw(json.dumps({"args": []}))
    assert c.error("")["code"] == "bad_frame"
    c.send("launch rockets")
    assert c.error("launch rockets")["code"] == "unknown_event"
    c.send("send command")
    assert c.error("send command")["code"] == "bad_frame"
    c.send("send command", "two\nlines")
    assert c.error("send command")["code"] == "bad_frame"
    c.send("set state", "explode")
    assert c.error("set state")["code"] == "bad_frame"
    c.send("send logs", -1)
    assert c.error("send logs")["code"] == "bad_frame"
    c.send("auth")
    assert c.error("auth")["code"] == "bad_frame"
    c.close()


def test_the_logs_socket_is_read_only(world):
    c = viewer(world, path=world.logs)
    c.send("send command", "nope")
    assert c.error("send command")["code"] == "read_only"
    c.send("set state", "stop")
    assert c.error("set state")["code"] == "read_only"
    watcher = viewer(world)
    watcher.send("send command", "seen by logs")
    echo_of(c, "seen by logs")  # the logs socket streams the same output
    c.close()
    watcher.close()


def test_stats_are_a_real_object(world):
    c = viewer(world)

    def stats_frame():
        c.send("send stats")
        frame = c.until(lambda f: f["event"] == "stats" or (f["event"] == "error" and f["args"][0]["code"] == "no_stats"))
        return frame if frame["event"] == "stats" else None

    frame = wait_for(stats_frame, timeout=30.0, step=0.5)
    assert frame, c.seen[-5:]
    payload = frame["args"][0]
    assert payload["instance_id"] == world.instance and payload["state"] == "running"
    assert isinstance(payload["stats"], dict) and payload["stats"]["pids"] >= 1
    c.close()


def test_a_flood_is_throttled_with_a_notice_and_other_viewers_go_on(world):
    slow = viewer(world)   # never reads until the end
    c = viewer(world)
    c.send("send command", "flood")
    notice = c.event("throttled", timeout=30)
    assert notice["args"] == ["console output"]
    # The instance was not held back: the whole flood reached the journal, and it still echoes
    # (live once this viewer has caught up; a line that came while it was throttled is dropped
    # for it, so ask again, a bounded number of times).
    c.send("send command", "after the flood")
    for attempt in range(6):
        try:
            after = c.until(lambda f: f["event"] == "console output" and
                            f["args"][0].startswith("echo: after the flood"), timeout=5)
            break
        except AssertionError:
            c.send("send command", f"after the flood {attempt}")
    else:
        raise AssertionError("no echo after the flood")
    lines, since = [], max(0, after["seq"] - 4000)
    for _ in range(10):  # pages of 1,000 up to the echo
        page = expect(world.alice.get(f"/v1/instances/{world.instance}/logs/history",
                                      params={"since": since, "limit": 1000}), 200)["items"]
        lines += [item["line"] for item in page]
        if not page or page[-1]["seq"] >= after["seq"]:
            break
        since = page[-1]["seq"]
    assert lines.index("flood 2999") < lines.index("echo: after the flood")
    assert all(f"flood {i}" in lines for i in range(3000))
    slow.event("throttled", timeout=30)
    slow.close()
    c.close()


def test_token_expiring_then_expired(world):
    claims = jwt.decode(world.alice.access, JWT_SECRET, algorithms=["HS256"], issuer="shardlyn")
    short = jwt.encode({**claims, "exp": int(time.time()) + 3}, JWT_SECRET, algorithm="HS256")
    c = viewer(world, bearer(short))
    c.event("token expiring", timeout=10)
    c.event("token expired", timeout=15)
    c.send("send command", "after expiry")
    assert c.error("send command")["code"] == "token_expired"
    c.send("auth", world.alice.access)  # a fresh token resumes
    c.event("auth success")
    c.send("send command", "renewed")
    echo_of(c, "renewed")
    c.close()


def test_history_download_and_clear(world):
    c = viewer(world)
    c.send("send command", "for the record")
    mark = echo_of(c, "for the record")["seq"]
    c.close()
    base = f"/v1/instances/{world.instance}"
    first = expect(world.alice.get(f"{base}/logs/history", params={"limit": 1}), 200)
    assert len(first["items"]) == 1 and first["next_since"] == first["items"][0]["seq"]
    page = expect(world.alice.get(f"{base}/logs/history", params={"since": mark - 1}), 200)
    assert page["items"][0] == {"seq": mark, "line": "echo: for the record"} and page["next_since"] is None
    expect_error(world.server, world.alice.get(f"{base}/logs/history", params={"limit": "many"}), 400, "limit")
    r = world.server.request("GET", f"{base}/logs/download", headers=world.alice.headers)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "Server ready\n" in r.text and "echo: for the record\n" in r.text
    assert f'{world.instance}.log' in r.headers["Content-Disposition"]
    expect_error(world.server, world.bob.get(f"{base}/logs/history"), 404)
    expect_error(world.server, world.server.request("DELETE", f"{base}/logs/clear", headers=world.alice.headers), 403)
    cleared = expect(world.server.request("DELETE", f"{base}/logs/clear", headers=world.admin.headers), 200)
    assert cleared["cleared_through_seq"] >= mark
    assert expect(world.alice.get(f"{base}/logs/history"), 200)["items"] == []
    c = viewer(world)
    c.send("send command", "after clear")
    assert echo_of(c, "after clear")["seq"] > cleared["cleared_through_seq"]  # seqs go on
    c.close()
    install = expect(world.alice.get(f"{base}/install-logs"), 200)
    assert install["succeeded"] is None and install["lines"] == []


def test_set_state_goes_through_the_power_path(world):
    c = viewer(world)
    assert c.event("status")["args"] == ["running"]  # the state it joined in
    mark = len(c.seen)
    c.send("set state", "restart")
    # The stop sequence and the new run show on the console, and every state it went through is
    # told, in order, however quickly the next one followed.
    c.until(lambda f: f["event"] == "console output" and f["args"][0].startswith("[shardlyn] stop:"), timeout=30)
    c.until(lambda f: f["event"] == "console output" and f["args"] == ["Server ready"], timeout=30)
    assert eventually(lambda: state(world) == "running")
    told = lambda: [f["args"][0] for f in c.seen[mark:] if f["event"] == "status"]  # noqa: E731
    if "running" not in told():
        c.until(lambda f: f["event"] == "status" and f["args"] == ["running"], timeout=30)
    assert told()[0] == "stopping" and told()[-1] == "running", told()
    c.send("send command", "after restart")
    echo_of(c, "after restart")
    transitions = expect(world.alice.get(f"/v1/instances/{world.instance}"), 200)["transitions"]
    assert any(t["actor"] == f"user:{world.alice.id}" for t in transitions), transitions
    c.close()


def test_install_output_then_the_console(world):
    installer = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "installer"},
                 "spec": {**ECHO["spec"], "install": {"entrypoint": "sh", "script":
                          "echo install begins; sleep 3; echo install step two; sleep 1; echo install done"}}}
    workload = expect(world.alice.post("/v1/workloads", installer), 201)["id"]
    iid = expect(world.alice.post("/v1/instances", {"workload_id": workload, "name": "installed", "node_id": world.node}),
                 201)["id"]
    expect(world.alice.post(f"/v1/instances/{iid}/start"), 202)
    c = viewer(world, path=f"/v1/instances/{iid}/console")
    line = c.until(lambda f: f["event"] == "install output" and f["args"] == ["install step two"], timeout=30)
    assert isinstance(line["seq"], int)
    assert c.until(lambda f: f["event"] == "status" and f["args"] == ["running"], timeout=30)
    c.send("send command", "installed and running")
    echo_of(c, "installed and running")
    logs = expect(world.alice.get(f"/v1/instances/{iid}/install-logs"), 200)
    assert logs["succeeded"] is True and "install step two" in logs["lines"], logs
    # Deleted: its viewers are told and closed.
    expect(world.alice.delete(f"/v1/instances/{iid}"), 202)
    c.until(lambda f: f["event"] == "daemon message" and f["args"] == ["the instance was deleted"], timeout=60)
    assert c.closed()


def test_kill_9_of_the_agent_keeps_the_instance_and_the_console_comes_back(world):
    stats = expect(world.admin.get("/v1/tunnel/stats"), 200)
    assert stats["agents"] == 1 and stats["channels_opened"] >= 1 and stats["bytes_in"] > 0
    agents = expect(world.admin.get("/v1/tunnel/agents"), 200)["items"]
    assert [a["node_id"] for a in agents] == [world.node]
    expect_error(world.server, world.alice.get("/v1/tunnel/stats"), 403)
    c = viewer(world)
    world.agent.process.send_signal(signal.SIGKILL)
    world.agent.process.wait(timeout=10)
    detached = c.event("daemon message", timeout=30)
    assert "tunnel_closed" in detached["args"][0]
    c.send("send command", "while the agent is down")
    assert c.error("send command")["code"] == "node_offline"
    world.agent = start_agent(world, {})
    assert eventually(lambda: expect(world.admin.get("/v1/tunnel/agents"), 200)["total"] == 1)
    assert state(world) == "running"

    def echoed():
        c.send("send command", "back again")
        try:
            return c.until(lambda f: f["event"] == "console output" and f["args"] == ["echo: back again"], timeout=2)
        except AssertionError:
            return None

    assert wait_for(echoed, timeout=30.0, step=0.5), c.seen[-10:]
    assert expect(world.admin.get("/v1/tunnel/stats"), 200)["disconnections"] >= 1
    c.close()


def test_a_replay_larger_than_the_send_queue_pauses_instead_of_closing(world):
    c = viewer(world)
    history = f"/v1/instances/{world.instance}/logs/history"
    last = lambda: expect(world.alice.get(history, params={"limit": 1}), 200)["last_seq"]  # noqa: E731
    start = last()  # before the command: its first lines can reach the journal at once
    c.send("send command", "big")
    assert eventually(lambda: last() >= start + 600), (start, last(), world.agent.log_text()[-1500:])
    c.close()
    slow = viewer(world)  # reads nothing while the replay is queued
    slow.send("send logs", start)
    time.sleep(1)
    paused = slow.until(lambda f: f["event"] == "daemon message" and f["args"][0].startswith("replay paused"))
    after = int(paused["args"][0].split()[4].rstrip(":"))
    assert start < after < start + 600
    slow.send("send logs", after)  # the socket is still open: the rest comes
    rest = slow.until(lambda f: f["event"] == "console output" and f.get("seq") == after + 1)
    assert rest["args"][0].startswith("big ")
    slow.close()


def test_an_api_restart_gets_the_console_back_from_the_agent(world):
    c = viewer(world)
    c.send("send command", "before the restart")
    before = echo_of(c, "before the restart")
    c.close()
    old = world.server
    assert old.stop() == 0
    world.server = world.launch("shardlyn-api", env=world.api_env, data_dir=old.data_dir, port=old.port)
    assert eventually(lambda: expect(world.admin.get("/v1/tunnel/agents"), 200)["total"] == 1)
    assert state(world) == "running"
    # The new journal starts from the agent's ring: what was printed before the restart is there.
    history = lambda: [i["line"] for i in expect(world.alice.get(  # noqa: E731
        f"/v1/instances/{world.instance}/logs/history", params={"limit": 1000}), 200)["items"]]
    assert eventually(lambda: "echo: before the restart" in history()), history()
    c = viewer(world)
    c.send("send command", "after the restart")
    assert echo_of(c, "after the restart")["seq"] > 0
    c.close()
    assert before["seq"] > 0


def test_console_upgrades_are_rate_limited_per_caller(launch):
    server = launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_CONSOLE_RATE_LIMIT": "2/min:2"})
    alice = register(server, "alice")
    path = "/v1/instances/c3a8e2d4-5f61-4b7a-8e90-1d2c3b4a5f6e/console"
    assert [refused_status(server, path, alice.headers) for _ in range(3)] == [404, 404, 429]
    r = server.request("GET", path, headers=alice.headers)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def history_lines(w):
    base, since, out = f"/v1/instances/{w.instance}/logs/history", 0, []
    for _ in range(100):  # bounded: the journal keeps 5,000 lines
        page = expect(w.alice.get(base, params={"since": since, "limit": 1000}), 200)
        out += page["items"]
        if page["next_since"] is None:
            return out
        since = page["next_since"]
    raise AssertionError("history did not end")


def test_lines_lost_in_a_burst_leave_a_notice_with_their_count(world):
    # `seq` prints faster than the tunnel carries: the agent's ring loses the middle of the
    # burst, and the journal says how many lines are missing exactly where they are missing.
    c = viewer(world)
    c.send("send command", "burst")
    c.close()
    assert eventually(lambda: any(i["line"] == "burst 300000" for i in history_lines(world)))
    items = history_lines(world)
    first = next(n for n, i in enumerate(items) if i["line"].startswith("burst ") or i["line"].startswith("[shardlyn]"))
    previous, notices, gaps = None, 0, 0
    for n, item in enumerate(items[first:], start=first):
        line = item["line"]
        if line.startswith("[shardlyn] "):
            notices += 1
            lost = int(line.split()[1])
            before, after = items[n - 1]["line"], items[n + 1]["line"]
            assert before.startswith("burst ") and after.startswith("burst "), (before, line, after)
            assert int(after.split()[1]) - int(before.split()[1]) - 1 == lost, (before, line, after)
            assert "lines of output lost between the node and the API" in line
            continue
        number = int(line.split()[1])
        if previous is not None and number != previous + 1:
            gaps += 1
            assert items[n - 1]["line"].startswith("[shardlyn] "), f"a gap after burst {previous} with no notice"
        previous = number
    assert previous == 300000 and notices == gaps
