"""auth-server asymmetric access tokens: JWT_PRIVATE_KEY_FILE (RSA or EC P-256, generated here
with `openssl genpkey`) switches tokens to RS256/ES256 with a kid, and /.well-known/jwks.json
serves the public key, which PyJWT's PyJWKClient uses to verify them. Algorithm switching (an
HS256 token keyed with the public key), alg none and other keys are refused.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth_jwks.py
"""
import base64
import hashlib
import hmac
import json
import subprocess

import jwt
import pytest

from auth_helpers import AUTH_ENV, bearer, error_of, ok_data, register
from conftest import SERVICES, base_env, binary, free_port

KEYS = {"RS256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "ES256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]}


def genkey(path, options):
    subprocess.run(["openssl", "genpkey", *options, "-out", str(path)], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout"], check=True, capture_output=True).stdout
    return path, pub


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256_with(key: bytes, header: dict, claims: dict) -> str:
    signing_input = b64(header) + "." + b64(claims)
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@pytest.fixture(scope="module", params=list(KEYS))
def keyed(request, module_launch, tmp_path_factory):
    alg = request.param
    path, pub = genkey(tmp_path_factory.mktemp("keys") / "jwt.pem", KEYS[alg])
    server = module_launch("auth-server", env={**AUTH_ENV, "JWT_PRIVATE_KEY_FILE": str(path)})
    return alg, server, pub


def test_tokens_verify_through_the_jwks(keyed):
    alg, server, pub = keyed
    reg = register(server)
    token = reg["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg and header["typ"] == "JWT" and header["kid"]

    r = server.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    [jwk] = r.json()["keys"]
    assert jwk["kid"] == header["kid"] and jwk["alg"] == alg and jwk["use"] == "sig"
    assert jwk["kty"] == ("RSA" if alg == "RS256" else "EC")
    assert "d" not in jwk  # never the private part

    client = jwt.PyJWKClient(server.url("/.well-known/jwks.json"))
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[alg], issuer="panguard-auth")
    assert claims["sub"] == reg["user"]["id"] and claims["sid"].startswith("ses_")
    assert claims["role"] == "user" and claims["tier"] == "community" and claims["exp"] - claims["iat"] == 900
    # and with the public key openssl derived from the key file
    assert jwt.decode(token, pub, algorithms=[alg], issuer="panguard-auth")["sub"] == reg["user"]["id"]
    # the server accepts its own token, and the refreshed one carries the same kid
    assert ok_data(server.get("/api/auth/me", headers=bearer(token)))["user"]["id"] == reg["user"]["id"]
    again = ok_data(server.request("POST", "/api/auth/refresh", json={"refreshToken": reg["refreshToken"]}))
    assert jwt.get_unverified_header(again["token"])["kid"] == header["kid"]


def test_algorithm_switching_is_refused(keyed):
    alg, server, pub = keyed
    reg = register(server)
    claims = jwt.decode(reg["token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(reg["token"])["kid"]
    served = jwt.PyJWK(server.get("/.well-known/jwks.json").json()["keys"][0]).key
    from cryptography.hazmat.primitives import serialization
    served_pem = served.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for key in (pub, served_pem, pub.strip()):
        for header in ({"alg": "HS256", "typ": "JWT"}, {"alg": "HS256", "typ": "JWT", "kid": kid}):
            forged = hs256_with(key, header, claims)
            error_of(server, server.get("/api/auth/me", headers=bearer(forged)), 401)
    for none in ("none", "None"):
        unsigned = b64({"alg": none, "typ": "JWT", "kid": kid}) + "." + b64(claims) + "."
        error_of(server, server.get("/api/auth/me", headers=bearer(unsigned)), 401)
    # the other asymmetric algorithm, and the same algorithm under another key, are refused
    for other_alg, options in KEYS.items():
        other, _ = genkey(server.data_dir / f"other-{other_alg}.pem", options)
        forged = jwt.encode(claims, other.read_bytes(), algorithm=other_alg, headers={"kid": kid})
        error_of(server, server.get("/api/auth/me", headers=bearer(forged)), 401)
    # the genuine token still works
    ok_data(server.get("/api/auth/me", headers=bearer(reg["token"])))


def test_hs256_serves_an_empty_key_set(launch):
    server = launch("auth-server", env=AUTH_ENV)
    r = server.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.json() == {"keys": []}
    assert jwt.get_unverified_header(register(server)["token"])["alg"] == "HS256"


def run_with_key(tmp_path, key_file):
    data = tmp_path / "data"
    env = base_env(data)
    env.update({SERVICES["auth-server"].port_env: str(free_port()), "JWT_PRIVATE_KEY_FILE": str(key_file)})
    proc = subprocess.run([str(binary("auth-server"))], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=20)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("case", ["missing", "rsa1024", "p384", "garbage"])
def test_unusable_key_file_stops_the_server(tmp_path, case):
    key = tmp_path / "key.pem"
    if case == "rsa1024":
        genkey(key, ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"])
    elif case == "p384":
        genkey(key, ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"])
    elif case == "garbage":
        key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    rc, err = run_with_key(tmp_path, key)
    assert rc == 2, err
    assert "JWT_PRIVATE_KEY_FILE" in err or str(key) in err, err
