"""auth-server transport settings: AUTH_HOST (the listening address), TLS_CERT_FILE/TLS_KEY_FILE
(HTTPS with HSTS, the certificate made here by the openssl CLI and verified by requests) and
CORS preflights on authenticated routes answered without a token.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_transport.py
"""
import socket
import subprocess
import time

import pytest
import requests

from auth_helpers import AUTH_ENV, bearer, ok_data, register


def test_auth_host_sets_the_listening_address(launch):
    server = launch("auth-server", env={**AUTH_ENV, "AUTH_HOST": "::1"}, wait=False)
    url = f"http://[::1]:{server.port}"
    deadline = time.monotonic() + 20
    answer = None
    while answer is None and time.monotonic() < deadline and server.running():
        try:
            answer = requests.get(url + "/health", timeout=2)
        except requests.ConnectionError:
            time.sleep(0.05)
    assert answer is not None and answer.status_code == 200, server.log_text()[-2000:]
    reg = ok_data(requests.post(url + "/api/auth/register", json={"email": "host@example.com", "name": "Host",
                                                                  "password": "correct horse battery"}, timeout=10),
                  201)
    ok_data(requests.get(url + "/api/auth/me", headers=bearer(reg["token"]), timeout=10))
    with pytest.raises(OSError):  # nothing listens on the IPv4 loopback
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return cert, key


def test_tls_from_certificate_files(launch, certificate):
    cert, key = certificate
    server = launch("auth-server", env={**AUTH_ENV, "TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)},
                    scheme="https", ca_file=cert)
    reg = ok_data(server.request("POST", "/api/auth/register", json={"email": "tls@example.com", "name": "TLS",
                                                                     "password": "correct horse battery"}), 201)
    r = server.get("/api/auth/me", headers=bearer(reg["token"]))
    ok_data(r)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers["Cache-Control"] == "no-store"
    # plain HTTP on the TLS port gets no HTTP answer
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5).raise_for_status()
    # a client that does not trust the certificate refuses the connection
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url("/health"), timeout=5, verify=True)


def test_tls_needs_both_files(tmp_path, certificate):
    from test_tls_and_config import config_env, run_binary
    cert, _ = certificate
    rc, out, err = run_binary("auth-server", env=config_env(tmp_path, "auth-server", TLS_CERT_FILE=str(cert)),
                              cwd=tmp_path)
    assert rc == 2 and "TLS_KEY_FILE" in out + err


def test_cors_preflight_on_authenticated_routes(launch):
    server = launch("auth-server", env={**AUTH_ENV, "CORS_ALLOWED_ORIGINS": "https://app.panguard.test"})
    for method, path in (("GET", "/api/auth/me"), ("POST", "/api/auth/login"), ("DELETE", "/api/auth/delete-account")):
        r = server.request("OPTIONS", path, headers={"Origin": "https://app.panguard.test",
                                                     "Access-Control-Request-Method": method,
                                                     "Access-Control-Request-Headers": "Authorization, Content-Type"})
        assert r.status_code == 204, (path, r.status_code, r.text)
        assert r.headers["Access-Control-Allow-Origin"] == "https://app.panguard.test"
        assert method in r.headers["Access-Control-Allow-Methods"]
        r = server.request("OPTIONS", path, headers={"Origin": "https://elsewhere.test",
                                                     "Access-Control-Request-Method": method})
        assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    reg = register(server)
    r = server.get("/api/auth/me", headers={**bearer(reg["token"]), "Origin": "https://app.panguard.test"})
    ok_data(r)
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.panguard.test"
