"""threat-cloud POST /api/admin/backup: online backups, retention, 501 when not configured."""
from __future__ import annotations

import sqlite3
import time

import pytest

from threat_cloud_helpers import ADMIN, RELAXED, auth, create_key, upload


def test_backup_not_configured_is_501(launch):
    server = launch("threat-cloud", env=RELAXED)
    r = server.request("POST", "/api/admin/backup", headers=ADMIN)
    assert r.status_code == 501 and "TC_BACKUP_DIR" in r.json()["error"]


@pytest.mark.sqlite_only
def test_backup_writes_a_consistent_copy_and_keeps_the_newest(launch):
    server = launch("threat-cloud", env={**RELAXED, "TC_BACKUP_DIR": "backups", "TC_BACKUP_KEEP": "2"})
    upload(server, {"iocs": [{"value": f"192.0.2.{i}"} for i in range(1, 11)]})
    names = []
    for _ in range(3):
        r = server.request("POST", "/api/admin/backup", headers=ADMIN)
        assert r.status_code == 201, r.text
        data = r.json()["data"]
        assert data["file"].startswith("threat-cloud-") and data["bytes"] > 0 and data["createdAt"].endswith("Z")
        names.append(data["file"])
        time.sleep(1.05)  # file names have whole seconds
    backup_dir = server.data_dir / "backups"
    kept = sorted(p.name for p in backup_dir.iterdir() if p.suffix == ".db")
    assert kept == names[1:]
    db = sqlite3.connect(backup_dir / names[-1])
    try:
        assert db.execute("SELECT count(*) FROM iocs").fetchone()[0] == 10
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    entries = server.get("/api/audit-log", params={"action": "admin.backup"}, headers=ADMIN).json()["data"]
    assert [e["entityId"] for e in entries] == names[::-1]
    write = create_key(server, ["write"])["key"]
    assert server.request("POST", "/api/admin/backup", headers=auth(write)).status_code == 403
