"""TLS on the manager (self-signed certificate generated into DATA_DIR/tls, verified with the
standard library, requests and curl) and configuration handling of the binaries: flags,
--help/--version, invalid settings (exit code 2), generated development secrets.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_tls_and_config.py
"""
import hashlib
import re
import signal
import socket
import ssl
import stat
import subprocess
import time

import pytest
import requests

from conftest import ALL_SERVICES, SERVICES, base_env, binary, free_port, raw

TOKEN = "t" * 40  # a MANAGER_AUTH_TOKEN of acceptable length


def run_binary(name, args=(), env=None, cwd=None, timeout=20):
    """Runs a binary expected to exit by itself; returns (returncode, stdout, stderr)."""
    proc = subprocess.Popen([str(binary(name)), *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"{name} {list(args)} did not exit within {timeout} s; stdout:\n{out[-2000:]}\nstderr:\n{err[-2000:]}")
    return proc.returncode, out, err


def config_env(tmp_path, name, **extra):
    data = tmp_path / "data"
    env = base_env(data)
    env[SERVICES[name].port_env] = str(free_port())
    env.update(extra)
    return env


def peer_fingerprint(port, cafile):
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest(), tls.version()


# --- TLS (manager) -----------------------------------------------------------------------------


def test_manager_serves_https_with_generated_certificate(launch):
    server = launch("manager")
    assert server.scheme == "https"
    cert, key = server.data_dir / "tls" / "cert.pem", server.data_dir / "tls" / "key.pem"
    assert cert.exists() and key.exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "BEGIN CERTIFICATE" in cert.read_text()

    r = requests.get(server.url("/health"), verify=str(cert), timeout=10)
    assert r.status_code == 200
    assert r.json()["data"]["service"] == "manager"
    hsts = r.headers["Strict-Transport-Security"]
    m = re.match(r"max-age=(\d+)", hsts)
    assert m and int(m.group(1)) >= 31536000, hsts

    # curl, an independent TLS stack configuration, with the certificate as its only CA
    out = subprocess.run(["curl", "-sS", "--cacert", str(cert), "-o", "/dev/null", "-w", "%{http_code}",
                          server.url("/health/ready")], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "200"

    # the certificate also names localhost
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")

    # and an unrelated CA bundle does not trust it (the test really verifies)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url("/health"), timeout=10, verify=True)

    log = server.log_text()
    assert "generated a self-signed TLS certificate" in log


def test_plain_http_to_tls_port_fails(launch):
    server = launch("manager")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/health", timeout=10)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        try:
            while len(got) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert not got.startswith(b"HTTP/"), got[:100]
    # the server is unaffected
    assert server.get("/health").status_code == 200


def test_certificate_reused_across_restart(launch):
    first = launch("manager")
    fp1, _ = peer_fingerprint(first.port, first.cert_path)
    pem1 = first.cert_path.read_bytes()
    assert first.stop() == 0
    second = launch("manager", data_dir=first.data_dir)
    fp2, _ = peer_fingerprint(second.port, second.cert_path)
    assert fp1 == fp2
    assert second.cert_path.read_bytes() == pem1
    assert "generated a self-signed TLS certificate" not in second.log_text()


def test_tls_handshake_timeout(launch):
    # A client that connects and never starts the handshake is dropped after the header timeout.
    server = launch("manager", env={"HTTP_HEADER_TIMEOUT_S": "2"})
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        t0 = time.monotonic()
        try:
            data = s.recv(1024)
        except ConnectionResetError:
            data = b""
        assert data == b""
        assert 1.0 <= time.monotonic() - t0 <= 6.0
    assert server.get("/health").status_code == 200


def test_tls_keep_alive_and_graceful_shutdown(launch):
    server = launch("manager")
    conn = raw(server)
    for _ in range(3):
        conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.header("Strict-Transport-Security")
    t0 = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert conn.closed_by_peer(timeout=5), "idle TLS connection not closed after SIGTERM"
    conn.close()
    assert server.process.wait(timeout=15) == 0
    assert time.monotonic() - t0 < 8


def test_hsts_on_protocol_errors_over_tls(launch):
    server = launch("manager")
    r = server.get("/health", headers={"X-Big": "a" * 20000})
    assert r.status_code == 431
    assert "Strict-Transport-Security" in r.headers


def test_manager_tls_off_serves_plain_http(launch):
    server = launch("manager", env={"MANAGER_TLS": "off"})
    assert server.scheme == "http"
    r = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=10)
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers
    assert not (server.data_dir / "tls").exists()
    assert "TLS is off" in server.log_text()


def test_manager_tls_files_mode(launch, tmp_path):
    # Reuse a generated pair as "files": the server presents exactly that certificate.
    seed = launch("manager")
    cert, key = seed.cert_path, seed.data_dir / "tls" / "key.pem"
    fp_seed, _ = peer_fingerprint(seed.port, cert)
    seed.stop()
    data = tmp_path / "files-mode"
    data.mkdir()
    server = launch("manager", data_dir=data,
                    env={"MANAGER_TLS": "files", "MANAGER_TLS_CERT": str(cert), "MANAGER_TLS_KEY": str(key)},
                    scheme="https", ca_file=cert)
    fp, _ = peer_fingerprint(server.port, cert)
    assert fp == fp_seed


def test_manager_refuses_public_bind_without_token(tmp_path):
    env = config_env(tmp_path, "manager", MANAGER_HOST="0.0.0.0")
    rc, out, err = run_binary("manager", env=env, cwd=tmp_path)
    assert rc == 2
    assert "MANAGER_AUTH_TOKEN" in err
    rc, out, err = run_binary("manager", env=dict(env, MANAGER_AUTH_TOKEN="short"), cwd=tmp_path)
    assert rc == 2
    assert "MANAGER_AUTH_TOKEN" in err and "32" in err


def test_manager_production_needs_token(tmp_path):
    env = config_env(tmp_path, "manager", APP_ENV="production")
    rc, out, err = run_binary("manager", env=env, cwd=tmp_path)
    assert rc == 2
    assert "MANAGER_AUTH_TOKEN" in err


def test_manager_public_bind_with_token_starts(launch):
    server = launch("manager", env={"MANAGER_HOST": "0.0.0.0", "MANAGER_AUTH_TOKEN": TOKEN})
    r = server.get("/health")
    assert r.status_code == 200
    # the token is never written to the log
    assert TOKEN not in server.log_text()


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_help_lists_settings(tmp_path, name):
    rc, out, err = run_binary(name, ["--help"], env=config_env(tmp_path, name), cwd=tmp_path)
    assert rc == 0, err
    for env_name in (SERVICES[name].port_env, "DATA_DIR", "APP_ENV", "LOG_LEVEL", "HTTP_MAX_HEADER_BYTES",
                     "HTTP_MAX_BODY_BYTES", "HTTP_HEADER_TIMEOUT_S", "SHUTDOWN_GRACE_S", "CORS_ALLOWED_ORIGINS",
                     "TRUST_PROXY", "STATIC_RATE_LIMIT"):
        assert env_name in out, f"--help does not mention {env_name}"
    assert "--version" in out
    assert not (tmp_path / "data").exists(), "--help must not create DATA_DIR"


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_version(tmp_path, name):
    rc, out, err = run_binary(name, ["--version"], env=config_env(tmp_path, name), cwd=tmp_path)
    assert rc == 0, err
    assert re.fullmatch(rf"{re.escape(name)} \d+\.\d+\.\d+\S*\n", out), out


def test_unknown_flag_exits_2(tmp_path):
    rc, out, err = run_binary("auth-server", ["--no-such-flag"], env=config_env(tmp_path, "auth-server"),
                              cwd=tmp_path)
    assert rc == 2
    assert "--no-such-flag" in err
    assert "unknown option" in err


BAD_SETTINGS = {
    "rate_limit": ({"AUTH_RATE_LIMIT": "banana"}, "AUTH_RATE_LIMIT"),
    "app_env": ({"APP_ENV": "staging"}, "APP_ENV"),
    "log_level": ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    "trust_proxy": ({"TRUST_PROXY": "maybe"}, "TRUST_PROXY"),
    "trust_proxy_cidr": ({"TRUST_PROXY": "10.0.0.0/33"}, "TRUST_PROXY"),
    "static_limit": ({"STATIC_RATE_LIMIT": "lots"}, "STATIC_RATE_LIMIT"),
    "header_bytes": ({"HTTP_MAX_HEADER_BYTES": "lots"}, "HTTP_MAX_HEADER_BYTES"),
    "port_range": ({"AUTH_PORT": "70000"}, "AUTH_PORT"),
    "short_jwt": ({"JWT_SECRET": "tooshort"}, "JWT_SECRET"),
    "bad_totp_key": ({"TOTP_ENCRYPTION_KEY": "zz" * 32}, "TOTP_ENCRYPTION_KEY"),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_invalid_setting_exits_2(tmp_path, case):
    settings, named = BAD_SETTINGS[case]
    rc, out, err = run_binary("auth-server", env=config_env(tmp_path, "auth-server", **settings), cwd=tmp_path)
    assert rc == 2, (out[-1000:], err[-1000:])
    assert named in err


def test_invalid_setting_as_flag_exits_2(tmp_path):
    rc, out, err = run_binary("auth-server", ["--auth-rate-limit", "banana"],
                              env=config_env(tmp_path, "auth-server"), cwd=tmp_path)
    assert rc == 2
    assert "AUTH_RATE_LIMIT" in err


def test_positional_argument_exits_2(tmp_path):
    rc, out, err = run_binary("shardlyn-api", ["serve"], env=config_env(tmp_path, "shardlyn-api"), cwd=tmp_path)
    assert rc == 2
    assert "serve" in err


def test_production_without_jwt_secret_exits_2(tmp_path):
    env = config_env(tmp_path, "auth-server", APP_ENV="production")
    rc, out, err = run_binary("auth-server", env=env, cwd=tmp_path)
    assert rc == 2
    assert "JWT_SECRET" in err
    assert not (tmp_path / "data" / "secrets").exists(), "production must not generate secrets"
    env["JWT_SECRET"] = "j" * 48
    rc, out, err = run_binary("auth-server", env=env, cwd=tmp_path)
    assert rc == 2
    assert "TOTP_ENCRYPTION_KEY" in err


def test_production_with_secrets_starts_and_masks_them(launch):
    jwt_secret = "production-signing-secret-" + "s" * 30
    totp_key = "ab" * 32
    server = launch("auth-server", env={"APP_ENV": "production", "JWT_SECRET": jwt_secret,
                                        "TOTP_ENCRYPTION_KEY": totp_key})
    assert server.get("/health").status_code == 200
    log = server.log_text()
    assert jwt_secret not in log and totp_key not in log
    assert not (server.data_dir / "secrets").exists()


def test_development_secret_generated_once(launch):
    first = launch("auth-server", env={"APP_ENV": "development"})
    secret_file = first.data_dir / "secrets" / "JWT_SECRET"
    assert secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700
    value = secret_file.read_text().strip()
    assert len(value) >= 32
    assert value not in first.log_text()
    assert first.stop() == 0
    second = launch("auth-server", data_dir=first.data_dir)
    assert secret_file.read_text().strip() == value
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert second.get("/health").status_code == 200


def test_port_flag_overrides_environment(launch):
    env_port, flag_port = free_port(), free_port()
    while flag_port == env_port:
        flag_port = free_port()
    server = launch("auth-server", env={"AUTH_PORT": str(env_port)}, args=["--auth-port", str(flag_port)],
                    port=flag_port)
    assert server.get("/health").status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{env_port}/health", timeout=5)
    assert f"127.0.0.1:{flag_port}" in server.log_text()


def test_port_flag_with_equals_sign(launch):
    flag_port = free_port()
    server = launch("shardlyn-api", env={"SHARDLYN_PORT": "1"}, args=[f"--shardlyn-port={flag_port}"],
                    port=flag_port)
    assert server.get("/health").status_code == 200


def test_port_in_use_exits_1(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        env = config_env(tmp_path, "threat-cloud", TC_PORT=str(port))
        rc, out, err = run_binary("threat-cloud", env=env, cwd=tmp_path)
    assert rc == 1
    assert "cannot listen" in out + err


# --- database file modes -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auth-server", "shardlyn-api"])
def test_database_files_are_private(launch, name):
    # Created 0600 whatever the umask (the test runner's is usually 022, which gave 0644).
    server = launch(name)
    assert server.get("/health/ready").status_code == 200
    db = server.data_dir / SERVICES[name].database
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert db.exists()
