"""Three threat-cloud replicas on one PostgreSQL behind nginx (Debian's nginx) as the load
balancer: writers upload through the balancer and retry what was not acknowledged; `kill -9` of
the replica leading the jobs in the middle loses no acknowledged write (every acknowledged IoC
is in PostgreSQL, read with psql), the balancer goes on with the two others, and the jobs move
to one of them within 10 s."""
from __future__ import annotations

import subprocess
import threading
import time
import uuid

import pytest
import requests

import pg_helpers
from conftest import free_port
from test_pg_replicas import TC_ENV, metric, wait_for
from threat_cloud_helpers import ADMIN


def start_nginx(workdir, upstreams):
    port = free_port()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in upstreams)
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
daemon off;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  upstream tc {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://tc;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
    }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_for(lambda: _answers(url), 10):
        proc.kill()
        pytest.fail("nginx did not start: " + (workdir / "error.log").read_text())
    return proc, url


def _answers(url):
    try:
        return requests.get(url + "/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_kill_9_behind_the_balancer_loses_no_acknowledged_write(launch, tmp_path):
    cluster = pg_helpers.cluster()
    name = "b" + uuid.uuid4().hex[:12]
    cluster.psql(f'CREATE DATABASE "{name}"')
    env = {**TC_ENV, "DATABASE_URL": cluster.url(name)}
    replicas = [launch("threat-cloud", env=env) for _ in range(3)]
    leader = wait_for(lambda: [r for r in replicas if metric(r, "threat_cloud_job_leader") == 1], 10)[0]
    nginx, url = start_nginx(tmp_path, [r.port for r in replicas])
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()
    failures = {"retried": 0}

    def writer(n):
        batch = 0
        with requests.Session() as s:
            while not stop.is_set():
                batch += 1
                values = [f"w{n}-b{batch}-{i}.balanced.example" for i in range(20)]
                for _ in range(20):  # a batch is retried until acknowledged (the upsert makes it safe)
                    try:
                        r = s.post(url + "/api/iocs", json={"iocs": [{"value": v} for v in values]}, headers=ADMIN,
                                   timeout=10)
                        if r.status_code in (200, 201):
                            with lock:
                                acknowledged.extend(values)
                            break
                    except requests.RequestException:
                        pass
                    failures["retried"] += 1
                    time.sleep(0.1)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    try:
        for t in threads:
            t.start()
        assert wait_for(lambda: len(acknowledged) >= 400, 20)
        leader.process.kill()  # kill -9 of the job leader in the middle of the load
        leader.process.wait(timeout=10)
        at_kill = len(acknowledged)
        assert wait_for(lambda: len(acknowledged) >= at_kill + 400, 20), "the balancer did not go on"
        survivors = [r for r in replicas if r is not leader]
        assert wait_for(lambda: sum(metric(r, "threat_cloud_job_leader") for r in survivors) == 1, 10)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        nginx.terminate()
        nginx.wait(timeout=10)
    stored = set(cluster.psql("SELECT normalized_value FROM iocs", name).splitlines())
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged IoCs missing from PostgreSQL"
    assert len(acknowledged) >= 800
