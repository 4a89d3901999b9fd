"""A throw-away PostgreSQL cluster for the integration tests (not a test module itself).

With PLATFORM_DATABASE=postgres (the *.postgres ctest entries) the services that can run on
PostgreSQL get DATABASE_URL: one database per DATA_DIR (a restart on the same DATA_DIR finds
its data again), in one cluster per test module, started with initdb + pg_ctl on a free
loopback port in a temporary folder and removed at exit. Run as root, the server runs as the
postgres user. psql inspects it.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

POSTGRES = os.environ.get("PLATFORM_DATABASE") == "postgres"
# The services whose DATABASE_URL the harness sets on PostgreSQL runs.
PG_SERVICES = {"threat-cloud", "manager"}
_BIN = Path("/usr/lib/postgresql/15/bin")


def _tool(name: str) -> str:
    return str(_BIN / name) if (_BIN / name).exists() else name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
        self.port = _free_port()
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*self._as, _tool("initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start()
        atexit.register(self.destroy)

    def _ctl(self, *args):
        subprocess.run([*self._as, _tool("pg_ctl"), "-D", str(self.dir / "data"), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start(self):
        self._ctl("-l", str(self.dir / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                  "start")

    def stop(self, mode: str = "fast"):
        self._ctl("-m", mode, "-w", "stop")

    def destroy(self):
        try:
            self.stop("immediate")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", sql],
                             check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def database_for(self, data_dir: Path) -> str:
        """The database of one DATA_DIR, created on first use."""
        name = "d" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            self.psql(f'CREATE DATABASE "{name}"')
        return name


_cluster: PgCluster | None = None


def cluster() -> PgCluster:
    global _cluster
    if _cluster is None:
        _cluster = PgCluster()
    return _cluster


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def server_rows(server, sql: str, *args, write: bool = False) -> list[tuple]:
    """Rows of `sql` (? placeholders) on the server's own store, read by an independent client:
    psql on DATABASE_URL (every value as text), else the sqlite3 module on DATA_DIR's file."""
    url = server.env.get("DATABASE_URL")
    if url:
        parts = sql.split("?")
        text = parts[0] + "".join(_literal(a) + p for a, p in zip(args, parts[1:]))
        out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", url, "-c", text],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return [tuple(line.split("\x1f")) for line in out.splitlines() if line and not write]
    import sqlite3
    path = server.data_dir / (server.spec.database)
    db = sqlite3.connect(path) if write else sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with db:
            return db.execute(sql, args).fetchall()
    finally:
        db.close()
