"""Three manager replicas on one PostgreSQL behind nginx: agents register, heartbeat and report
threats through the balancer while event-stream subscribers read through it too; `kill -9` of
one replica in the middle. Subscribers whose stream ends reconnect with Last-Event-ID (through
the balancer, so to another replica); at the end every acknowledged threat is in PostgreSQL
(psql), every one acknowledged with 201 was announced to every subscriber exactly once, and each
subscriber's event ids increase without repeats. (A retry answered 200 as a duplicate is not
required to have been announced: see the comment at the check.)"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import pytest
import requests

import pg_helpers
from agent_helpers import wait_for
from test_pg_balanced import start_nginx
from test_pg_replicas import FLEET, MANAGER_ENV

ENV = {**MANAGER_ENV, "MANAGER_AGENT_RATE_LIMIT": "100000/min", "MANAGER_SSE_KEEPALIVE_S": "1"}
FLEET_AUTH = {"Authorization": f"Bearer {FLEET}"}


class Subscriber:
    """An event-stream client on a thread that reconnects with Last-Event-ID when its stream
    ends, at most 20 times: every (id, type, data) in arrival order."""

    def __init__(self, url):
        self.url, self.events, self.connections, self.last_id = url, [], 0, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for _ in range(20):
            if self.stop.is_set():
                return
            headers = dict(FLEET_AUTH)
            if self.last_id is not None:
                headers["Last-Event-ID"] = str(self.last_id)
            try:
                with requests.get(self.url + "/api/events/stream", headers=headers, stream=True,
                                  timeout=(5, 10)) as r:
                    if r.status_code == 200:
                        self.connections += 1
                        self._read(r)
            except requests.RequestException:
                pass  # the replica died under the stream: reconnect
            time.sleep(0.2)

    def _read(self, response):
        event = {}
        for line in response.iter_lines(chunk_size=1, decode_unicode=True):
            if self.stop.is_set():
                return
            if line == "" and event:
                if "id" in event and event.get("event") != "connected":  # (connected repeats the resume point)
                    self.last_id = int(event["id"])
                    self.events.append((self.last_id, event.get("event"), event.get("data")))
                event = {}
            elif line and not line.startswith(":") and ":" in line:
                name, _, value = line.partition(":")
                event[name] = value.strip()

    def announced(self) -> Counter:
        """How often each threat id was announced by threats_reported."""
        return Counter(t for _, kind, data in self.events if kind == "threats_reported"
                       for t in json.loads(data)["threatIds"])


def call(session, method, url, retries=40, **kw):
    """One request through the balancer, retried until a 2xx (the agent's own retry loop)."""
    last = None
    for _ in range(retries):
        try:
            r = session.request(method, url, timeout=10, **kw)
            if 200 <= r.status_code < 300:
                return r
            last = f"{r.status_code} {r.text[:200]}"
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.1)
    raise AssertionError(f"{method} {url} never acknowledged: {last}")


def threat(event_id: str, n: int) -> dict:
    return {"event": {"id": event_id, "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "source": "auth.log", "severity": "high", "category": "brute_force",
                      "description": "failed SSH logins", "metadata": {"sourceIP": f"203.0.113.{n % 250 + 1}"}},
            "verdict": {"conclusion": "malicious", "confidence": 90}}


class Agent(threading.Thread):
    """Registers, then heartbeats and reports one threat per round until told to stop."""

    def __init__(self, url, n, stop):
        super().__init__(daemon=True)
        self.url, self.n, self.stop = url, n, stop
        self.acknowledged = {}  # event id -> threat id (None: acknowledged as a duplicate of a retry)
        self.agent_id = None

    def run(self):
        with requests.Session() as s:
            reg = call(s, "POST", self.url + "/api/agents/register", headers=FLEET_AUTH,
                       json={"hostname": f"lb-{self.n}", "os": "linux", "arch": "x86_64", "version": "1.0.0"})
            self.agent_id, token = reg.json()["data"]["agentId"], reg.json()["data"]["agentToken"]
            auth = {"Authorization": f"Bearer {token}"}
            for round_ in range(2000):
                if self.stop.is_set():
                    return
                call(s, "POST", f"{self.url}/api/agents/{self.agent_id}/heartbeat", headers=auth,
                     json={"cpuUsage": 5, "memUsage": 20, "activeMonitors": 1, "threatCount": round_,
                           "eventsProcessed": round_, "mode": "protection", "uptime": round_})
                event_id = f"lb-{self.n}-{round_}"
                r = call(s, "POST", f"{self.url}/api/agents/{self.agent_id}/events", headers=auth,
                         json={"threats": [threat(event_id, self.n)]})
                stored = r.json()["data"]["threats"]
                self.acknowledged[event_id] = stored[0]["id"] if stored else None


def total(agents):
    return sum(len(a.acknowledged) for a in agents)


def test_kill_9_behind_the_balancer_keeps_every_stream_whole(launch, tmp_path):
    cluster = pg_helpers.cluster()
    name = "m" + uuid.uuid4().hex[:12]
    cluster.psql(f'CREATE DATABASE "{name}"')
    replicas = [launch("manager", env={**ENV, "DATABASE_URL": cluster.url(name)}) for _ in range(3)]
    nginx, url = start_nginx(tmp_path, [r.port for r in replicas])
    stop = threading.Event()
    # three streams opened one after the other: nginx's round robin puts one on each replica
    subscribers = []
    for _ in range(3):
        subscribers.append(Subscriber(url))
        assert wait_for(lambda: subscribers[-1].connections == 1, 10)
    agents = [Agent(url, n, stop) for n in range(4)]
    try:
        for a in agents:
            a.start()
        assert wait_for(lambda: total(agents) >= 60, 30), "the agents made no progress"
        victim = replicas[1]
        victim.process.kill()  # kill -9 of one replica in the middle of the load
        victim.process.wait(timeout=10)
        at_kill = total(agents)
        assert wait_for(lambda: total(agents) >= at_kill + 60, 30), "the balancer did not go on"
    finally:
        stop.set()
        for a in agents:
            a.join(timeout=30)
    try:
        by_event = {(a.agent_id, e): t for a in agents for e, t in a.acknowledged.items()}
        rows = cluster.psql("SELECT agent_id || ' ' || event_id || ' ' || id FROM threats", name).splitlines()
        stored = {tuple(row.split(" ")[:2]): row.split(" ")[2] for row in rows}
        missing = set(by_event) - set(stored)
        assert not missing, f"{len(missing)} acknowledged threats missing from PostgreSQL"
        # A 201 is sent after the announcement was committed, so its threats must reach every
        # stream. A retry that finds its threat already stored (the replica died between the
        # commit and the answer) is acknowledged with 200 and announces nothing: if that replica
        # died before announcing, no stream ever carries the threat (the announcement is its own
        # transaction after the ingest's). Those are counted (and printed), not required.
        expected = {t for t in by_event.values() if t is not None}
        retried = {stored[key] for key, t in by_event.items() if t is None}
        assert wait_for(lambda: all(expected <= set(s.announced()) for s in subscribers), 20), [
            len(expected - set(s.announced())) for s in subscribers]
        unannounced = retried - set(subscribers[0].announced())
        print(f"{len(by_event)} acknowledged, {len(retried)} as retried duplicates, {len(unannounced)} never announced")
        assert all(retried - set(s.announced()) == unannounced for s in subscribers), "streams disagree"
        assert any(s.connections > 1 for s in subscribers), "no stream was on the killed replica"
        for s in subscribers:
            ids = [event_id for event_id, _, _ in s.events]
            assert ids == sorted(set(ids)), "event ids repeated or out of order"
            seen = s.announced()
            assert all(seen[t] == 1 for t in expected | retried if t not in unannounced), "a threat was announced twice"
    finally:
        for s in subscribers:
            s.stop.set()
        nginx.terminate()
        nginx.wait(timeout=10)
