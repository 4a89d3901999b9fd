"""A throw-away Podman serving the Docker Engine API on a unix socket (no registry: the image is
imported from busybox-static), and a small client of that API for the tests to drive it as a
Docker host would be driven. containers.conf: runc and no default ulimits (crun fails here on
cgroup v1 hybrid and on RLIMIT_NOFILE).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest

from agent_helpers import wait_for

IMAGE = "localhost/busybox:agent-test"


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
    imported = subprocess.run(["podman", *flags, "import", str(d / "image.tar"), IMAGE],
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


