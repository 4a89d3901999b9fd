"""Replicas on one PostgreSQL: two threat-cloud processes share a database (DATABASE_URL); what
one writes the other reads, a key revoked through one is refused by the other from the next
request, the scheduled jobs run on one replica only, and they move to the other within seconds
after `kill -9` of the one leading them. Two manager processes share one event stream: an event
published on A reaches a subscriber on B, ids increase across replicas, and Last-Event-ID
replays on either. A throw-away cluster (pg_helpers.py) holds the data."""
from __future__ import annotations

import queue
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

import pg_helpers
from agent_helpers import wait_for
from threat_cloud_helpers import ADMIN, RELAXED, auth, create_key, iso, lookup, post_threats, threat_event, upload

TC_ENV = {**RELAXED, "TC_ANONYMIZE_UPLOADS": "false", "TC_CORRELATION_INTERVAL_S": "1"}


@pytest.fixture
def shared_database():
    cluster = pg_helpers.cluster()
    name = "r" + uuid.uuid4().hex[:12]
    cluster.psql(f'CREATE DATABASE "{name}"')
    return cluster.url(name)


def metric(server, name: str) -> float:
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def events_from(ip: str) -> dict:
    now = datetime.now(timezone.utc)
    return {"events": [threat_event(attackSourceIP=ip, timestamp=iso(now - timedelta(minutes=m))) for m in (1, 2, 3)]}


def test_two_replicas_share_writes_and_revocations(launch, shared_database):
    a = launch("threat-cloud", env={**TC_ENV, "DATABASE_URL": shared_database})
    b = launch("threat-cloud", env={**TC_ENV, "DATABASE_URL": shared_database})
    upload(a, {"value": "replica-a.example", "reputation": 90})
    found = lookup(b, "replica-a.example")
    assert found["found"] is True and found["ioc"]["reputation"] == 90

    key = create_key(a, ["read"])
    for _ in range(3):  # used on B first, so that B has seen (and may remember) it
        assert b.get("/api/iocs", headers=auth(key["key"])).status_code == 200
    assert a.request("DELETE", f"/api/keys/{key['id']}", headers=ADMIN).status_code == 200
    r = b.get("/api/iocs", headers=auth(key["key"]))
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    # and the other way round, with a key created on B
    other = create_key(b, ["read"])
    assert a.get("/api/iocs", headers=auth(other["key"])).status_code == 200
    assert b.request("DELETE", f"/api/keys/{other['id']}", headers=ADMIN).status_code == 200
    assert a.get("/api/iocs", headers=auth(other["key"])).status_code == 401


def test_jobs_run_on_one_replica_and_move_when_it_dies(launch, shared_database):
    a = launch("threat-cloud", env={**TC_ENV, "DATABASE_URL": shared_database})
    b = launch("threat-cloud", env={**TC_ENV, "DATABASE_URL": shared_database})
    leaders = wait_for(lambda: [s for s in (a, b) if metric(s, "threat_cloud_job_leader") == 1], 10)
    assert len(leaders) == 1, "exactly one replica leads the jobs"
    leader, follower = leaders[0], (b if leaders[0] is a else a)
    for _ in range(3):  # stays so
        assert metric(leader, "threat_cloud_job_leader") == 1 and metric(follower, "threat_cloud_job_leader") == 0
        time.sleep(0.5)

    post_threats(follower, events_from("192.0.2.81"), expect=201)
    assert wait_for(lambda: follower.get("/api/campaigns", headers=ADMIN).json()["data"], 15)
    # the leader ran the correlation, the follower did not
    assert metric(leader, "threat_cloud_correlation_events_total") == 3
    assert metric(follower, "threat_cloud_correlation_events_total") == 0

    leader.process.kill()  # kill -9: the session holding the job lock ends with the process
    leader.process.wait(timeout=10)
    started = time.monotonic()
    assert wait_for(lambda: metric(follower, "threat_cloud_job_leader") == 1, 10)
    post_threats(follower, events_from("198.51.100.82"), expect=201)
    assert wait_for(lambda: metric(follower, "threat_cloud_correlation_events_total") == 3, 10)
    assert time.monotonic() - started < 10
    assert len(follower.get("/api/campaigns", headers=ADMIN).json()["data"]) == 2


def test_a_database_restart_answers_503_and_heals(launch, shared_database):
    server = launch("threat-cloud", env={**TC_ENV, "DATABASE_URL": shared_database})
    upload(server, {"value": "before-restart.example"})
    cluster = pg_helpers.cluster()
    cluster.stop()
    try:
        r = server.get("/api/iocs", headers=ADMIN)
        assert r.status_code == 503 and r.headers.get("Retry-After") == "2", r.text
        assert server.get("/health/ready").status_code == 503
        assert upload(server, {"value": "during.example"}, expect=None).status_code == 503
    finally:
        cluster.start()
    assert wait_for(lambda: server.get("/health/ready").status_code == 200, 10)
    assert lookup(server, "before-restart.example")["found"] is True
    upload(server, {"value": "after-restart.example"})
    assert lookup(server, "after-restart.example")["found"] is True


# --- manager: the event stream across replicas --------------------------------------------------

FLEET = "r" * 40
MANAGER_ENV = {"MANAGER_AUTH_TOKEN": FLEET, "MANAGER_TLS": "off", "MANAGER_RATE_LIMIT": "100000/min"}
RULES = [{"ruleId": "r1", "type": "block_ip", "condition": {"ip": "198.51.100.0/24"}, "action": "block",
          "severity": "high"}]


class EventReader:
    """An SSE client on a thread: (id, type, data) of each event, in arrival order."""

    def __init__(self, server, last_event_id=None):
        headers = {"Authorization": f"Bearer {FLEET}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(server.url("/api/events/stream"), headers=headers, stream=True, timeout=30)
        assert self.response.status_code == 200
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event = {}
        try:
            for line in self.response.iter_lines(chunk_size=1, decode_unicode=True):
                if line == "" and event:
                    self.events.put((int(event.get("id", 0)), event.get("event"), event.get("data")))
                    event = {}
                elif line and not line.startswith(":") and ":" in line:
                    name, _, value = line.partition(":")
                    event[name] = value.strip()
        except (requests.RequestException, AttributeError):  # closed by close()
            pass

    def next(self, wanted: str, timeout: float = 15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.events.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item[1] == wanted:
                return item
        raise AssertionError(f"no {wanted} event within {timeout} s")

    def close(self):
        # Shut the socket first: close() alone waits for the reading thread's read to time out.
        try:
            self.response.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.response.close()


def publish_policy(server, name):
    r = server.request("POST", "/api/policy", json={"name": name, "rules": RULES},
                       headers={"Authorization": f"Bearer {FLEET}"})
    assert r.status_code == 201, r.text


def test_manager_events_cross_replicas_in_order_and_replay_anywhere(launch, shared_database):
    a = launch("manager", env={**MANAGER_ENV, "DATABASE_URL": shared_database})
    b = launch("manager", env={**MANAGER_ENV, "DATABASE_URL": shared_database})
    on_b = EventReader(b)
    on_a = EventReader(a)
    try:
        on_b.next("connected")
        on_a.next("connected")
        ids = []
        for n, origin in enumerate([a, b, a, a, b]):
            publish_policy(origin, f"policy-{n}")
        for _ in range(5):
            event_id, _, data = on_b.next("policy_created")
            ids.append(event_id)
            assert on_a.next("policy_created")[0] == event_id  # both replicas send the same ids, in the same order
        assert ids == sorted(ids) and len(set(ids)) == 5
    finally:
        on_b.close()
        on_a.close()
    # a client that saw only the first event reconnects to the other replica and gets the rest
    for server in (a, b):
        replay = EventReader(server, last_event_id=ids[0])
        try:
            replay.next("connected")
            assert [replay.next("policy_created")[0] for _ in range(4)] == ids[1:]
        finally:
            replay.close()
