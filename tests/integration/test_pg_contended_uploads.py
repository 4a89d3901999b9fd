"""Concurrent threat-cloud uploads through three replicas on one PostgreSQL behind nginx, all
naming the same attacker network (anonymised to one /16, so every upload sights the same IoC
row, as a community's agents reporting one scanner do): every upload is acknowledged (no 503
"database busy" after exhausted serialization retries), and each acknowledged event is stored
once with the IoC's sighting count matching."""
from __future__ import annotations

import threading
import uuid

import requests

import pg_helpers
from test_pg_balanced import start_nginx
from test_pg_replicas import TC_ENV
from threat_cloud_helpers import ADMIN

WRITERS = 16
UPLOADS = 40


def test_concurrent_uploads_of_one_network_are_all_acknowledged(launch, tmp_path):
    cluster = pg_helpers.cluster()
    name = "u" + uuid.uuid4().hex[:12]
    cluster.psql(f'CREATE DATABASE "{name}"')
    env = {**TC_ENV, "DATABASE_URL": cluster.url(name), "TC_ANONYMIZE_UPLOADS": "true"}
    replicas = [launch("threat-cloud", env=env) for _ in range(3)]
    nginx, url = start_nginx(tmp_path, [r.port for r in replicas])
    statuses, ids, bodies, lock = [], [], [], threading.Lock()

    def writer(n):
        with requests.Session() as s:
            for i in range(UPLOADS):
                body = {"attackSourceIP": f"198.51.{n}.{i + 1}", "attackType": "brute_force",
                        "mitreTechnique": "T1110", "sigmaRuleMatched": "ssh-brute-force",
                        "timestamp": f"2026-01-01T00:{n:02d}:{i:02d}Z",
                        "region": f"contended-{n}", "severity": "high"}
                r = s.post(url + "/api/threats", json=body, headers=ADMIN, timeout=30)
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 201:
                        ids.extend(r.json()["data"]["ids"])
                    else:
                        bodies.append(r.text)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    failed = [s for s in statuses if s != 201]
    assert not failed, f"{len(failed)} of {len(statuses)} uploads not acknowledged: {sorted(set(failed))} {bodies[:1]}"
    assert len(ids) == WRITERS * UPLOADS == len(set(ids))
    stored = int(cluster.psql("SELECT count(*) FROM threat_events", name))
    assert stored == len(ids)
    sightings = cluster.psql("SELECT sightings FROM iocs WHERE normalized_value = '198.51.0.0'", name)
    assert int(sightings) == len(ids)
