"""Git deploy end to end: the real shardlyn-api and shardlyn-agent (process driver) and the git
CLI. A bare repository on disk is served by `git daemon` on 127.0.0.1; a push plus a correctly
signed GitHub webhook (X-Hub-Signature-256, HMAC-SHA256 computed here with python's hmac) syncs
the instance's target folder and restarts the instance, and the history shows the commit; a
wrongly signed or unsigned delivery is 401 and changes nothing; GitLab's X-Gitlab-Token likewise;
a ping answers 200 without a sync. Token auth is proven against `git http-backend` behind a
small HTTP server that requires the token. Every documented error of the routes is checked.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_git_deploy.py
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.server
import json
import os
import socket
import subprocess
import threading

import pytest

from agent_helpers import kill_supervisors, wait_for
from shardlyn_helpers import SHARDLYN_ENV, expect, expect_error, register

eventually = functools.partial(wait_for, timeout=30.0, step=0.1)
TOKEN = "glpat-local-test-token"
WORKLOAD = {"apiVersion": "shardlyn/v1", "kind": "Workload", "metadata": {"name": "git-site"},
            "spec": {"command": ["/bin/sh", "-c", "echo Server ready; while read line; do echo \"got: $line\"; done"],
                     "resources": {"requests": {"cpu": 0.1, "memory": "16Mi"}}, "stopTimeout": "2s",
                     "startup": {"done": ["Server ready"], "timeout": "20s"}, "restartPolicy": {"mode": "never"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args, cwd=None):
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def commit_file(work, name, text):
    (work / name).write_text(text)
    git("add", name, cwd=work)
    git("commit", "-qm", f"add {name}", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


class TokenGit(http.server.BaseHTTPRequestHandler):
    """git http-backend as CGI, answering only requests that carry the token."""
    root = ""

    def log_message(self, *args):
        pass

    def handle_one(self):
        want = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {"GIT_PROJECT_ROOT": self.root, "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path, "QUERY_STRING": query,
               "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "PATH": os.environ["PATH"],
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", "")}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = handle_one


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    w = type("World", (), {})()
    repos = tmp_path_factory.mktemp("repos")
    git("init", "-q", "--bare", "-b", "main", str(repos / "site.git"))
    w.work = tmp_path_factory.mktemp("work")
    git("clone", "-q", str(repos / "site.git"), str(w.work))
    w.first = commit_file(w.work, "README.md", "first\n")
    port = free_port()
    w.daemon = subprocess.Popen(["git", "daemon", "--export-all", f"--base-path={repos}", "--listen=127.0.0.1",
                                 f"--port={port}", "--reuseaddr", str(repos)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w.repo_url = f"git://127.0.0.1:{port}/site.git"
    assert eventually(lambda: subprocess.run(["git", "ls-remote", w.repo_url], capture_output=True).returncode == 0)
    TokenGit.root = str(repos)
    w.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenGit)
    threading.Thread(target=w.http.serve_forever, daemon=True).start()
    w.http_url = f"http://127.0.0.1:{w.http.server_address[1]}/site.git"
    w.server = module_launch("shardlyn-api", env=SHARDLYN_ENV)
    w.alice = register(w.server, "alice")
    w.bob = register(w.server, "bob")
    token = expect(w.alice.post("/v1/nodes/register-token", {"name": "git-node"}), 201)["token"]
    w.agent_data = tmp_path_factory.mktemp("agent")
    w.agent = module_launch("shardlyn-agent", data_dir=w.agent_data,
                            env={"AGENT_DRIVER": "process", "SHARDLYN_API_URL": w.server.base_url,
                                 "SHARDLYN_REGISTER_TOKEN": token})
    assert eventually(lambda: (w.agent_data / "credentials.json").exists()), w.agent.log_text()[-3000:]
    w.node = json.loads((w.agent_data / "credentials.json").read_text())["node_id"]
    assert eventually(lambda: expect(w.alice.get(f"/v1/nodes/{w.node}"), 200)["status"] == "healthy")
    workload = expect(w.alice.post("/v1/workloads", WORKLOAD), 201)["id"]
    w.instances = []
    for name in ("site", "other"):
        iid = expect(w.alice.post("/v1/instances", {"workload_id": workload, "name": name, "node_id": w.node}), 201)["id"]
        expect(w.alice.post(f"/v1/instances/{iid}/start"), 202)
        w.instances.append(iid)
    for iid in w.instances:
        assert eventually(lambda: instance(w, iid)["state"] == "running"), w.agent.log_text()[-3000:]
    w.root = w.agent_data / "instances" / w.instances[0]
    yield w
    kill_supervisors(w.agent_data)
    w.daemon.terminate()
    w.daemon.wait()
    w.http.shutdown()


def instance(w, iid):
    return expect(w.alice.get(f"/v1/instances/{iid}"), 200)


def finished(w, iid):
    status = expect(w.alice.get(f"/v1/instances/{iid}/git/status"), 200)
    return status["last_sync"] if status["last_sync"] and status["last_sync"]["state"] != "running" else None


def wait_sync(w, iid):
    assert eventually(lambda: finished(w, iid) is not None), w.agent.log_text()[-3000:]
    return finished(w, iid)


def github(w, body: dict, secret: str | None, event="push", signature=None):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return w.server.request("POST", "/v1/webhooks/github", data=raw, headers=headers)


def push_body(url, ref="refs/heads/main"):
    return {"ref": ref, "repository": {"clone_url": url, "html_url": "https://example.com/site"}}


@pytest.fixture(scope="module")
def configured(world):
    w = world
    r = w.alice.put(f"/v1/instances/{w.instances[0]}/git",
                    {"repository": w.repo_url, "branch": "main", "target_path": "site", "post_sync": "restart"})
    w.config = expect(r, 201)
    w.secret = w.config["webhook_secret"]
    assert w.secret.startswith("shardlyn_git_")
    return w


def test_the_config_is_shown_without_secrets(configured):
    w = configured
    shown = expect(w.alice.get(f"/v1/instances/{w.instances[0]}/git"), 200)
    assert shown["repository"] == w.repo_url and shown["target_path"] == "site" and shown["post_sync"] == "restart"
    assert "webhook_secret" not in shown and shown["credential_set"] is False
    assert expect(w.alice.get(f"/v1/instances/{w.instances[0]}/git/status"), 200)["last_sync"] is None


def test_a_signed_github_push_syncs_and_restarts(configured):
    w = configured
    iid = w.instances[0]
    generation = instance(w, iid)["restart_generation"]
    head = commit_file(w.work, "index.html", "<h1>hello</h1>\n")
    r = github(w, push_body(w.repo_url), w.secret)
    out = expect(r, 202)
    assert [t["instance_id"] for t in out["triggered"]] == [iid]
    sync = wait_sync(w, iid)
    assert sync["state"] == "succeeded", sync
    assert sync["commit"] == head and sync["trigger"] == "github" and sync["post_sync_result"] == "restarted"
    assert (w.root / "site" / "index.html").read_text() == "<h1>hello</h1>\n"
    assert instance(w, iid)["restart_generation"] == generation + 1
    assert eventually(lambda: instance(w, iid)["state"] == "running")
    history = expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)
    assert history["total"] >= 1 and history["items"][0]["commit"] == head


def test_a_wrongly_signed_delivery_is_401_and_changes_nothing(configured):
    w = configured
    iid = w.instances[0]
    before = expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"]
    commit_file(w.work, "evil.txt", "nope\n")
    for r in (github(w, push_body(w.repo_url), "not-the-secret"),
              github(w, push_body(w.repo_url), w.secret, signature="sha256=" + "0" * 64),
              github(w, push_body(w.repo_url), None),
              github(w, push_body(w.repo_url), w.secret, signature="sha1=" + "0" * 40)):
        expect_error(w.server, r, 401)
    assert expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"] == before
    assert not (w.root / "site" / "evil.txt").exists()


def test_a_ping_and_another_branch_do_not_sync(configured):
    w = configured
    iid = w.instances[0]
    before = expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"]
    out = expect(github(w, push_body(w.repo_url), w.secret, event="ping"), 200)
    assert out["ping"] is True and out["triggered"] == []
    out = expect(github(w, push_body(w.repo_url, "refs/heads/dev"), w.secret), 200)
    assert out["triggered"] == [] and "not to main" in out["skipped"][0]
    expect_error(w.server, github(w, push_body(w.repo_url), "x", event="ping"), 401)
    expect_error(w.server, w.server.request("POST", "/v1/webhooks/github", data=b"not json",
                                            headers={"X-Hub-Signature-256": "sha256=00"}), 400)
    assert expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"] == before


def test_gitlab_token_syncs_and_a_wrong_one_is_401(configured):
    w = configured
    iid = w.instances[0]
    head = commit_file(w.work, "gitlab.txt", "from gitlab\n")
    body = {"object_kind": "push", "ref": "refs/heads/main", "project": {"git_http_url": w.repo_url}}
    before = expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"]
    for headers in ({"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": w.secret + "x"}, {"X-Gitlab-Event": "Push Hook"}):
        expect_error(w.server, w.server.request("POST", "/v1/webhooks/gitlab", json=body, headers=headers), 401)
    assert expect(w.alice.get(f"/v1/instances/{iid}/git/history"), 200)["total"] == before
    r = w.server.request("POST", "/v1/webhooks/gitlab", json=body,
                         headers={"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": w.secret})
    assert [t["instance_id"] for t in expect(r, 202)["triggered"]] == [iid]
    sync = wait_sync(w, iid)
    assert sync["state"] == "succeeded" and sync["commit"] == head and sync["trigger"] == "gitlab"
    assert (w.root / "site" / "gitlab.txt").read_text() == "from gitlab\n"


def test_token_auth_against_a_server_that_requires_it(world):
    w = world
    iid = w.instances[1]
    path = f"/v1/instances/{iid}/git"
    expect(w.alice.put(path, {"repository": w.http_url, "auth": "token", "credential": "wrong-token",
                              "post_sync": "command", "post_sync_command": "deployed"}), 201)
    expect(w.alice.post(f"{path}/sync"), 202)
    failed = wait_sync(w, iid)
    assert failed["state"] == "failed" and "git_failed" in failed["error"] and failed["commit"] is None
    assert "wrong-token" not in json.dumps(failed)
    shown = expect(w.alice.put(path, {"repository": w.http_url, "auth": "token", "credential": TOKEN,
                                      "post_sync": "command", "post_sync_command": "deployed"}), 200)
    assert shown["credential_set"] is True and shown["webhook_secret"] is None and TOKEN not in json.dumps(shown)
    synced = expect(w.alice.post(f"{path}/sync"), 202)
    assert synced["state"] == "running"
    expect_error(w.server, w.alice.post(f"{path}/sync"), 409, "running")
    done = wait_sync(w, iid)
    assert done["state"] == "succeeded" and done["commit"] == git("rev-parse", "HEAD", cwd=w.work), done
    assert done["post_sync_result"] == "command sent"
    assert (w.agent_data / "instances" / iid / "README.md").read_text() == "first\n"
    # An update keeping the auth kind keeps the stored token.
    expect(w.alice.put(path, {"repository": w.http_url, "auth": "token"}), 200)
    expect(w.alice.post(f"{path}/sync"), 202)
    assert wait_sync(w, iid)["state"] == "succeeded"
    history = expect(w.alice.get(f"{path}/history", params={"per_page": 1, "page": 2}), 200)
    assert history["total"] == 3 and len(history["items"]) == 1 and history["items"][0]["state"] == "succeeded"


def test_a_symlink_on_the_way_is_refused(world):
    w = world
    iid = w.instances[1]
    root = w.agent_data / "instances" / iid
    (root / "escape").symlink_to("/tmp")
    expect(w.alice.put(f"/v1/instances/{iid}/git", {"repository": w.repo_url, "target_path": "escape/site"}), 200)
    expect(w.alice.post(f"/v1/instances/{iid}/git/sync"), 202)
    sync = wait_sync(w, iid)
    assert sync["state"] == "failed" and "target_not_confined" in sync["error"]


@pytest.mark.parametrize("body,contains", [
    ({}, "repository"),
    ({"repository": "file:///etc"}, "repository"),
    ({"repository": "-uhttps://x"}, "repository"),
    ({"repository": "https://user:pw@example.com/r.git"}, "credential"),
    ({"repository": "https://example.com/r.git", "branch": "a..b"}, "branch"),
    ({"repository": "https://example.com/r.git", "target_path": "../up"}, "target_path"),
    ({"repository": "https://example.com/r.git", "target_path": "/abs"}, "target_path"),
    ({"repository": "https://example.com/r.git", "auth": "token"}, "credential"),
    ({"repository": "https://example.com/r.git", "credential": "x"}, "credential"),
    ({"repository": "https://example.com/r.git", "auth": "password"}, "auth"),
    ({"repository": "https://example.com/r.git", "post_sync": "command"}, "post_sync_command"),
    ({"repository": "https://example.com/r.git", "post_sync_command": "say hi"}, "post_sync_command"),
    ({"repository": "https://example.com/r.git", "post_sync": "command", "post_sync_command": "a\nb"}, "post_sync_command"),
    ({"repository": "https://example.com/r.git", "timeout_s": 0}, "timeout_s"),
    ({"repository": "https://example.com/r.git", "unknown": 1}, "unknown"),
])
def test_bad_configurations_are_400(world, body, contains):
    expect_error(world.server, world.alice.put(f"/v1/instances/{world.instances[1]}/git", body), 400, contains)


def test_not_found_and_conflicts(world):
    w = world
    fresh = expect(w.alice.post("/v1/instances", {"workload_id": instance(w, w.instances[0])["workload_id"],
                                                  "name": "unconfigured", "node_id": w.node}), 201)["id"]
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/sync"), ("GET", "/status"), ("GET", "/history")):
        expect_error(w.server, w.alice.request(method, f"/v1/instances/{fresh}/git{suffix}"), 404, "no git configuration")
    missing = "00000000-0000-4000-8000-000000000000"
    expect_error(w.server, w.alice.get(f"/v1/instances/{missing}/git"), 404)
    expect_error(w.server, w.alice.get("/v1/instances/not-a-uuid/git"), 404)
    expect_error(w.server, w.bob.get(f"/v1/instances/{w.instances[0]}/git"), 404)
    expect_error(w.server, w.alice.get(f"/v1/instances/{w.instances[1]}/git/history", params={"page": 0}), 400)
    expect(w.alice.put(f"/v1/instances/{fresh}/git", {"repository": w.repo_url}), 201)
    expect(w.alice.delete(f"/v1/instances/{fresh}/git"), 204)
    expect_error(w.server, w.alice.get(f"/v1/instances/{fresh}/git"), 404)


def test_a_rotated_secret_replaces_the_old_one(configured):
    w = configured
    iid = w.instances[0]
    rotated = expect(w.alice.put(f"/v1/instances/{iid}/git", {"repository": w.repo_url, "target_path": "site",
                                                              "post_sync": "none", "rotate_webhook_secret": True}), 200)
    new = rotated["webhook_secret"]
    assert new and new != w.secret
    expect_error(w.server, github(w, push_body(w.repo_url), w.secret, event="ping"), 401)
    expect(github(w, push_body(w.repo_url), new, event="ping"), 200)
    w.secret = new


@pytest.fixture
def sshd(tmp_path):
    """sshd on 127.0.0.1 that admits one client key (the one the configuration carries)."""
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("needs openssh-server")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "client")], check=True)
    (tmp_path / "authorized").write_text((tmp_path / "client.pub").read_text())
    os.chmod(tmp_path / "authorized", 0o600)
    port = free_port()
    config = tmp_path / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path / 'host'}\n"
                      f"AuthorizedKeysFile {tmp_path / 'authorized'}\nPidFile {tmp_path / 'pid'}\nStrictModes no\n"
                      "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                      "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    assert wait_for(listening, timeout=10.0)
    yield port, (tmp_path / "client").read_text()
    proc.terminate()
    proc.wait()


def test_ssh_key_auth(world, sshd):
    w = world
    port, key = sshd
    iid = w.instances[1]
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    bare = TokenGit.root + "/site.git"
    url = f"ssh://{user}@127.0.0.1:{port}{bare}"
    path = f"/v1/instances/{iid}/git"
    shown = expect(w.alice.put(path, {"repository": url, "auth": "ssh_key", "credential": key,
                                      "target_path": "by-ssh"}), 200)
    assert shown["auth"] == "ssh_key" and shown["credential_set"] is True and "PRIVATE" not in json.dumps(shown)
    expect(w.alice.post(f"{path}/sync"), 202)
    done = wait_sync(w, iid)
    assert done["state"] == "succeeded", done
    assert (w.agent_data / "instances" / iid / "by-ssh" / "README.md").read_text() == "first\n"
    # No key file is left behind in the temp folder.
    assert not [p for p in os.listdir("/tmp") if p.startswith("shardlyn-git-")]
    # Without the key the same server refuses.
    expect(w.alice.put(path, {"repository": url, "target_path": "by-ssh"}), 200)
    expect(w.alice.post(f"{path}/sync"), 202)
    failed = wait_sync(w, iid)
    assert failed["state"] == "failed" and "git_failed" in failed["error"]
