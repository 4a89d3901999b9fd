"""shardlyn-api Backup Configuration Endpoints against the real binary, with s3rver (npm) on
loopback as the S3 store and boto3 as an independent client (s3rver 3 checks the access key
but does not recompute V4 signatures; the signer is checked against AWS's published vectors in
tests/unit/s3): CRUD, the secret never returned and sealed at rest, one active
configuration, s3-buckets listing and creating buckets through the S3 API, and every
documented error (unconfigured, unreachable, refused, bad fields, other organisation).

Run: /usr/bin/python3 -m pytest -q tests/integration/test_shardlyn_backup_config.py
"""
import os
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from conftest import free_port
from shardlyn_helpers import expect, expect_error, register, shardlyn  # noqa: F401 (fixture)

NODE_MODULES = Path(os.environ.get("PLATFORM_NODE_MODULES", Path(__file__).resolve().parents[2] / "tools" / "node_modules"))
S3RVER_KEY = "S3RVER"  # s3rver's built-in account (access key id and secret)


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("s3rver")
    proc = subprocess.Popen([str(NODE_MODULES / ".bin" / "s3rver"), "-d", str(folder), "-a", "127.0.0.1", "-p",
                             str(port), "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("s3rver did not start")
    yield f"http://127.0.0.1:{port}"
    proc.kill()
    proc.wait()


def boto(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=S3RVER_KEY, aws_secret_access_key=S3RVER_KEY,
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def config_body(endpoint, **over):
    body = {"name": "local", "endpoint": endpoint, "region": "us-east-1", "bucket": "shardlyn-backups",
            "access_key_id": S3RVER_KEY, "secret_access_key": S3RVER_KEY, "path_style": True}
    body.update(over)
    return body


def test_unconfigured_answers_clearly(shardlyn, s3rver):
    carol = register(shardlyn, "carol")
    expect_error(shardlyn, carol.get("/v1/backup-config"), 404, "no active backup configuration")
    expect_error(shardlyn, carol.get("/v1/backup-config/s3-buckets"), 409, "no active backup configuration")
    expect_error(shardlyn, carol.post("/v1/backup-config/s3-buckets", {"name": "abc"}), 409, "POST /v1/backup-config")
    assert expect(carol.get("/v1/backup-config/list"), 200)["items"] == []


def test_config_lifecycle_and_buckets(shardlyn, s3rver):
    alice = register(shardlyn, "alice")
    first = expect(alice.post("/v1/backup-config", config_body(s3rver)), 201)
    assert first["active"] is True and first["has_secret"] is True
    assert "secret_access_key" not in first and S3RVER_KEY not in str({k: v for k, v in first.items() if k != "access_key_id"})
    assert first["part_size_mb"] == 8 and first["path_style"] is True

    # the secret is sealed at rest: not in the database file in clear
    db = sqlite3.connect(Path(shardlyn.data_dir) / "shardlyn.db")
    sealed = db.execute("SELECT secret_sealed FROM backup_configs WHERE id = ?", (first["id"],)).fetchone()[0]
    assert S3RVER_KEY.encode() not in sealed and len(sealed) == 12 + len(S3RVER_KEY) + 16

    created = expect(alice.post("/v1/backup-config/s3-buckets", {"name": "shardlyn-backups"}), 201)
    assert created == {"name": "shardlyn-backups", "backup_config_id": first["id"]}
    assert "shardlyn-backups" in [b["Name"] for b in boto(s3rver).list_buckets()["Buckets"]]
    listed = expect(alice.get("/v1/backup-config/s3-buckets"), 200)
    assert "shardlyn-backups" in [b["name"] for b in listed["items"]]
    expect_error(shardlyn, alice.post("/v1/backup-config/s3-buckets", {"name": "shardlyn-backups"}), 409, "exists")
    expect_error(shardlyn, alice.post("/v1/backup-config/s3-buckets", {"name": "Bad_Name"}), 400, "name")

    second = expect(alice.post("/v1/backup-config", config_body(s3rver, name="second", part_size_mb=16)), 201)
    assert second["active"] is False
    assert expect(alice.get("/v1/backup-config"), 200)["id"] == first["id"]
    assert expect(alice.post(f"/v1/backup-config/{second['id']}/activate"), 200)["active"] is True
    assert expect(alice.get("/v1/backup-config"), 200)["id"] == second["id"]
    assert expect(alice.get(f"/v1/backup-config/{first['id']}"), 200)["active"] is False
    items = expect(alice.get("/v1/backup-config/list"), 200)["items"]
    assert [c["id"] for c in items] == [first["id"], second["id"]]  # creation order (rowid within a second)

    # an unknown access key: the store refuses, its S3 error code in the message
    updated = expect(alice.put(f"/v1/backup-config/{first['id']}", {"access_key_id": "NOSUCHKEY", "secret_access_key": "x",
                                                                   "region": "eu-west-1"}), 200)
    assert updated["region"] == "eu-west-1" and updated["bucket"] == "shardlyn-backups"
    assert updated["access_key_id"] == "NOSUCHKEY"
    expect_error(shardlyn, alice.post("/v1/backup-config/s3-buckets", {"name": "refused-bucket", "config_id": first["id"]}),
                 502, "InvalidAccessKeyId")
    # the given configuration rather than the active one
    expect(alice.get(f"/v1/backup-config/s3-buckets?config_id={second['id']}"), 200)

    expect(alice.delete(f"/v1/backup-config/{first['id']}"), 204)
    expect_error(shardlyn, alice.get(f"/v1/backup-config/{first['id']}"), 404)
    expect_error(shardlyn, alice.get("/v1/backup-config/s3-buckets?config_id=9d2f6b1e-0c4a-4e3b-8f7d-1a2b3c4d5e6f"), 404)

    # another organisation sees none of it
    bob = register(shardlyn, "bob")
    expect_error(shardlyn, bob.get(f"/v1/backup-config/{second['id']}"), 404)
    expect_error(shardlyn, bob.post(f"/v1/backup-config/{second['id']}/activate"), 404)


def test_unreachable_endpoint_is_502(shardlyn):
    dave = register(shardlyn, "dave")
    expect(dave.post("/v1/backup-config", config_body(f"http://127.0.0.1:{free_port()}")), 201)
    expect_error(shardlyn, dave.get("/v1/backup-config/s3-buckets"), 502, "unreachable")


def test_bad_fields_are_400(shardlyn, s3rver):
    erin = register(shardlyn, "erin")
    expect_error(shardlyn, erin.post("/v1/backup-config", config_body("ftp://127.0.0.1:1")), 400, "endpoint")
    expect_error(shardlyn, erin.post("/v1/backup-config", config_body(s3rver, bucket="UPPER")), 400, "bucket")
    expect_error(shardlyn, erin.post("/v1/backup-config", config_body(s3rver, part_size_mb=1)), 400, "part_size_mb")
    body = config_body(s3rver)
    del body["secret_access_key"]
    expect_error(shardlyn, erin.post("/v1/backup-config", body), 400, "secret_access_key")
    expect_error(shardlyn, erin.post("/v1/backup-config", config_body(s3rver, extra=1)), 400)
    expect_error(shardlyn, erin.get("/v1/backup-config/not-a-uuid"), 404)
