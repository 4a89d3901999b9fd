"""shardlyn-api's SSH certificate authority against OpenSSH itself: certificates that
`ssh-keygen -L` reads, a KRL that `ssh-keygen -Q` reads, and a real sshd (Debian
openssh-server on a loopback port, TrustedUserCAKeys from GET /v1/ssh/ca-public-key,
RevokedKeys from GET /v1/ssh/krl) that accepts a signed login, refuses it once revoked,
expired or for another principal, and keeps accepting certificates of a rotated key.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_ssh_ca.py
"""
import base64
import getpass
import hashlib
import hmac
import os
import socket
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shardlyn_helpers import SHARDLYN_ENV, bootstrap, expect, expect_error, register

ENCRYPTION_KEY = "5a" * 32
SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=check)


@pytest.fixture(scope="module")
def world(module_launch, tmp_path_factory):
    server = module_launch("shardlyn-api", env={**SHARDLYN_ENV, "SHARDLYN_ENCRYPTION_KEY": ENCRYPTION_KEY,
                                                "SHARDLYN_SSH_CERT_MAX_HOURS": "12"})
    w = type("World", (), {})()
    w.server = server
    w.admin = bootstrap(server)
    w.alice = register(server, "alice")
    w.bob = register(server, "bob")
    w.dir = tmp_path_factory.mktemp("ssh")
    w.user = getpass.getuser()
    return w


def user_key(w, name, kind="ed25519"):
    path = w.dir / f"{name}_{uuid.uuid4().hex[:6]}"
    run("ssh-keygen", "-q", "-N", "", "-t", kind, "-C", name, "-f", str(path))
    return path


def sign(w, client, key, principals, **extra):
    body = {"public_key": Path(f"{key}.pub").read_text().strip(), "principals": principals, **extra}
    return expect(client.post("/v1/ssh/certificate", body), 200)


def write_cert(key, cert):
    path = Path(f"{key}-cert.pub")
    path.write_text(cert["certificate"] + "\n")
    return path


def test_no_key_yet_then_generate_once(world):
    w = world
    shown = expect(w.server.get("/v1/ssh/ca-public-key"), 200)
    assert shown == {"public_key": None, "keys": [], "trusted_user_ca_keys": ""}
    key = user_key(w, "early")
    body = {"public_key": Path(f"{key}.pub").read_text().strip(), "principals": [w.user]}
    expect_error(w.server, w.alice.post("/v1/ssh/certificate", body), 409, "no key")
    expect_error(w.server, w.admin.post("/v1/ssh/ca/keys/rotate"), 409, "no active CA key")
    expect_error(w.server, w.alice.post("/v1/ssh/ca/keys"), 403)
    ca = expect(w.admin.post("/v1/ssh/ca/keys"), 201)
    assert ca["active"] and ca["algorithm"] == "ssh-ed25519" and ca["certificates"] == 0
    assert ca["public_key"].startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")
    pub = w.dir / "ca_check.pub"
    pub.write_text(ca["public_key"] + "\n")
    assert ca["fingerprint"] in run("ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)).stdout
    expect_error(w.server, w.admin.post("/v1/ssh/ca/keys"), 409, "rotate")
    shown = expect(w.server.get("/v1/ssh/ca-public-key"), 200)
    assert shown["public_key"] == ca["public_key"]
    assert shown["trusted_user_ca_keys"] == ca["public_key"] + "\n"
    # The private half is sealed at rest: no trace of it in the row.
    db = sqlite3.connect(w.server.data_dir / "shardlyn.db")
    sealed = db.execute("SELECT sealed_seed FROM ssh_ca_keys WHERE id = ?", (ca["id"],)).fetchone()[0]
    assert len(base64.b64decode(sealed)) == 12 + 32 + 16
    assert ca_seed(w, ca["id"]) not in base64.b64decode(sealed)


def test_certificate_fields_read_by_ssh_keygen(world):
    w = world
    for kind in ("ed25519", "ecdsa", "rsa"):
        key = user_key(w, "fields", kind)
        before = int(time.time())
        cert = sign(w, w.alice, key, ["root", "shardlyn"], validity_hours=8)
        after = int(time.time())
        assert set(cert) >= {"certificate", "serial_number", "valid_after", "valid_before", "principals"}
        assert cert["principals"] == ["root", "shardlyn"] and cert["key_id"] == w.alice.email
        out = run("ssh-keygen", "-L", "-f", str(write_cert(key, cert)), check=True).stdout
        assert "-cert-v01@openssh.com user certificate" in out
        assert f'Key ID: "{w.alice.email}"' in out
        assert f"Serial: {cert['serial_number']}" in out
        assert "                root\n                shardlyn\n" in out
        assert "Critical Options: (none)" in out
        for ext in ("permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
                    "permit-user-rc"):
            assert ext in out
        va = int(time.mktime(time.strptime(cert["valid_after"], "%Y-%m-%dT%H:%M:%SZ"))) - time.timezone
        vb = int(time.mktime(time.strptime(cert["valid_before"], "%Y-%m-%dT%H:%M:%SZ"))) - time.timezone
        assert before <= va <= after and vb - va == 8 * 3600
        fp = run("ssh-keygen", "-l", "-E", "sha256", "-f", f"{key}.pub").stdout.split()[1]
        assert cert["key_fingerprint"] == fp


def test_invalid_requests(world):
    w = world
    key = Path(f"{user_key(w, 'bad')}.pub").read_text().strip()
    cases = [({"principals": ["x"]}, "public_key"),
             ({"public_key": "ssh-ed25519 AAAA", "principals": ["x"]}, "public_key"),
             ({"public_key": "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "principals": ["x"]}, "public_key"),
             ({"public_key": key, "principals": []}, "principals"),
             ({"public_key": key}, "principals"),
             ({"public_key": key, "principals": ["a,b"]}, "principals"),
             ({"public_key": key, "principals": ["*"]}, "principals"),
             ({"public_key": key, "principals": [""]}, "principals"),
             ({"public_key": key, "principals": ["x"], "validity_hours": 0}, "validity_hours"),
             ({"public_key": key, "principals": ["x"], "validity_hours": 13}, "at most 12"),
             ({"public_key": key, "principals": ["x"], "validity_hours": "8"}, "validity_hours"),
             ({"public_key": key, "principals": ["x"], "node_id": "nope"}, "node_id"),
             ({"public_key": key, "principals": ["x"], "extra": 1}, "extra")]
    for body, named in cases:
        expect_error(w.server, w.alice.post("/v1/ssh/certificate", body), 400, named)
    # A node id that is no node of the organisation.
    expect_error(w.server, w.alice.post("/v1/ssh/certificate", {"public_key": key, "principals": ["x"],
                                                                 "node_id": str(uuid.uuid4())}), 404)
    r = w.alice.request("POST", "/v1/ssh/certificate", data="x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_list_get_and_other_organisations(world):
    w = world
    key = user_key(w, "listed")
    cert = sign(w, w.alice, key, ["deploy"])
    listed = expect(w.alice.get("/v1/ssh/certificates"), 200)
    assert cert in listed["items"] and listed["total"] == len(listed["items"]) >= 1
    assert expect(w.alice.get(f"/v1/ssh/certificates/{cert['id']}"), 200) == cert
    assert cert["revoked"] is False and cert["revoked_at"] is None
    # Default validity: SHARDLYN_SSH_CERT_DEFAULT_HOURS (8).
    out = run("ssh-keygen", "-L", "-f", str(write_cert(key, cert))).stdout
    assert "Valid: from" in out
    assert expect(w.bob.get("/v1/ssh/certificates"), 200)["items"] == []
    expect_error(w.server, w.bob.get(f"/v1/ssh/certificates/{cert['id']}"), 404)
    expect_error(w.server, w.bob.post(f"/v1/ssh/certificates/{cert['id']}/revoke"), 404)
    expect_error(w.server, w.alice.get("/v1/ssh/certificates/not-a-uuid"), 404)
    expect_error(w.server, w.alice.get(f"/v1/ssh/certificates/{uuid.uuid4()}"), 404)


def test_revoke_publishes_the_krl(world):
    w = world
    key = user_key(w, "revoked")
    cert = sign(w, w.alice, key, ["deploy"])
    cert_path = write_cert(key, cert)
    krl = w.dir / "krl_before"
    krl.write_bytes(w.server.get("/v1/ssh/krl").content)
    assert run("ssh-keygen", "-Q", "-f", str(krl), str(cert_path), check=False).returncode == 0
    revoked = expect(w.alice.post(f"/v1/ssh/certificates/{cert['id']}/revoke"), 200)
    assert revoked["revoked"] is True and revoked["revoked_at"]
    expect_error(w.server, w.alice.post(f"/v1/ssh/certificates/{cert['id']}/revoke"), 409, "revoked already")
    r = w.server.get("/v1/ssh/krl")
    assert r.headers["Content-Type"] == "application/octet-stream"
    krl.write_bytes(r.content)
    checked = run("ssh-keygen", "-Q", "-f", str(krl), str(cert_path), check=False)
    assert checked.returncode != 0 and "REVOKED" in checked.stdout
    listing = run("ssh-keygen", "-Q", "-l", "-f", str(krl)).stdout
    assert f"serial: {cert['serial_number']}" in listing


def ca_seed(w, key_id):
    """The CA's private seed, opened as the service does (to sign an expired certificate with it)."""
    db = sqlite3.connect(w.server.data_dir / "shardlyn.db")
    sealed = base64.b64decode(db.execute("SELECT sealed_seed FROM ssh_ca_keys WHERE id = ?", (key_id,)).fetchone()[0])
    key = hmac.new(bytes.fromhex(ENCRYPTION_KEY), b"shardlyn ssh ca keys", hashlib.sha256).digest()
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], key_id.encode())


class Sshd:
    """sshd on a loopback port trusting the CA keys and KRL files it is given."""

    def __init__(self, directory: Path):
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self.dir = directory
        run("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", str(directory / "host_key"))
        self.ca = directory / "trusted_ca"
        self.krl = directory / "revoked.krl"
        self.port = free_port()
        conf = directory / "sshd_config"
        conf.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {directory / 'host_key'}",
            f"PidFile {directory / 'sshd.pid'}", "AuthorizedKeysFile none", f"TrustedUserCAKeys {self.ca}",
            f"RevokedKeys {self.krl}", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password", "LogLevel VERBOSE", ""]))
        self.log = open(directory / "sshd.log", "w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start: " + (directory / "sshd.log").read_text())

    def refresh(self, server):
        self.ca.write_text(expect(server.get("/v1/ssh/ca-public-key"), 200)["trusted_user_ca_keys"])
        self.krl.write_bytes(server.get("/v1/ssh/krl").content)

    def login(self, user, key, cert):
        return subprocess.run(
            ["ssh", "-F", "/dev/null", "-i", str(key), "-o", f"CertificateFile={cert}", "-o", "IdentitiesOnly=yes",
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "PubkeyAuthentication=yes", "-o", "ConnectTimeout=5", "-p", str(self.port), f"{user}@127.0.0.1",
             "echo signed-in-as-$(id -un)"], capture_output=True, text=True, timeout=30)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture()
def sshd(world, tmp_path):
    d = Sshd(tmp_path)
    yield d
    d.close()


def test_sshd_accepts_then_refuses_revoked_expired_and_wrong_principal(world, sshd):
    w = world
    key = user_key(w, "login")
    cert = sign(w, w.alice, key, [w.user, "other"], validity_hours=1)
    cert_path = write_cert(key, cert)
    sshd.refresh(w.server)
    ok = sshd.login(w.user, key, cert_path)
    assert ok.returncode == 0 and ok.stdout.strip() == f"signed-in-as-{w.user}", ok.stderr
    # No certificate at all: the bare key is not authorised.
    assert sshd.login(w.user, key, w.dir / "missing-cert.pub").returncode == 255
    # A certificate for another principal only.
    wrong_key = user_key(w, "wrong")
    wrong = write_cert(wrong_key, sign(w, w.alice, wrong_key, ["somebody-else"]))
    assert sshd.login(w.user, wrong_key, wrong).returncode == 255
    # Expired: the same CA key (opened from the store) signing a window that is over.
    ca_id = cert["ca_key_id"]
    ca_file = w.dir / "ca_private"
    ca_file.write_bytes(Ed25519PrivateKey.from_private_bytes(ca_seed(w, ca_id)).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    ca_file.chmod(0o600)
    old_key = user_key(w, "expired")
    run("ssh-keygen", "-q", "-s", str(ca_file), "-I", "expired", "-n", w.user, "-z", "77", "-V", "-2h:-1h",
        f"{old_key}.pub")
    assert sshd.login(w.user, old_key, Path(f"{old_key}-cert.pub")).returncode == 255
    fresh_key = user_key(w, "fresh")
    run("ssh-keygen", "-q", "-s", str(ca_file), "-I", "fresh", "-n", w.user, "-z", "78", "-V", "-1m:+1h",
        f"{fresh_key}.pub")
    assert sshd.login(w.user, fresh_key, Path(f"{fresh_key}-cert.pub")).returncode == 0  # the control case
    # Revoked: the KRL names its serial.
    expect(w.alice.post(f"/v1/ssh/certificates/{cert['id']}/revoke"), 200)
    sshd.refresh(w.server)
    refused = sshd.login(w.user, key, cert_path)
    assert refused.returncode == 255
    assert "revoked" in (sshd.dir / "sshd.log").read_text().lower()


def test_rotation_keeps_old_certificates_working(world, sshd):
    w = world
    old_key = user_key(w, "before-rotation")
    old_cert = sign(w, w.alice, old_key, [w.user], validity_hours=2)
    old_path = write_cert(old_key, old_cert)
    previous = expect(w.server.get("/v1/ssh/ca-public-key"), 200)["keys"][0]
    new_ca = expect(w.admin.post("/v1/ssh/ca/keys/rotate"), 201)
    assert new_ca["active"] and new_ca["id"] != previous["id"]
    shown = expect(w.server.get("/v1/ssh/ca-public-key"), 200)
    assert shown["public_key"] == new_ca["public_key"]
    assert [k["id"] for k in shown["keys"]] == [new_ca["id"], previous["id"]]
    retired = shown["keys"][1]
    assert retired["active"] is False and retired["retired_at"]
    assert retired["trusted_until"] >= old_cert["valid_before"]
    new_key = user_key(w, "after-rotation")
    new_cert = sign(w, w.alice, new_key, [w.user])
    assert new_cert["ca_key_id"] == new_ca["id"]
    sshd.refresh(w.server)
    for key, path in ((old_key, old_path), (new_key, write_cert(new_key, new_cert))):
        r = sshd.login(w.user, key, path)
        assert r.returncode == 0, r.stderr
    # Trusting only the new key, the old certificate is refused: the old key's entry is what admits it.
    sshd.ca.write_text(new_ca["public_key"] + "\n")
    assert sshd.login(w.user, old_key, old_path).returncode == 255
    listed = expect(w.admin.get("/v1/ssh/ca/keys"), 200)
    assert [k["id"] for k in listed["items"]][:2] == [new_ca["id"], previous["id"]]
    assert listed["items"][1]["certificates"] >= 1


def test_a_retired_key_without_live_certificates_is_not_trusted(world):
    w = world
    first = expect(w.admin.post("/v1/ssh/ca/keys/rotate"), 201)
    second = expect(w.admin.post("/v1/ssh/ca/keys/rotate"), 201)  # `first` signed nothing
    ids = [k["id"] for k in expect(w.server.get("/v1/ssh/ca-public-key"), 200)["keys"]]
    assert ids[0] == second["id"] and first["id"] not in ids
    expect_error(w.server, w.alice.get("/v1/ssh/ca/keys"), 403)
