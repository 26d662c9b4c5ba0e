"""A throwaway PostgreSQL server for the tests, started from Debian's `postgresql` binaries.

`PostgresServer.start()` runs `initdb` and `pg_ctl start` in a new temporary folder on a free
loopback port, with trust authentication (loopback only, a throwaway cluster) and
durability off (fsync, full-page writes: nothing here must survive a crash, and the
tests run several times faster). PostgreSQL refuses to run as root, so as root the
cluster is owned and run by the `postgres` system user the Debian package creates
(through `runuser`), in a folder of its own outside pytest's private tmp folders; as any
other user it runs as that user. `stop()` stops it and deletes the folder. `new_database()` gives
each test its own empty database, so tests never see each other's rows.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"),
               Path("/usr/lib/postgresql/17/bin"))
SERVER_USER = "postgres"  # created by Debian's postgresql-common
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def pg_bin() -> Path:
    """The folder holding `initdb` and `pg_ctl` (Debian's layout)."""
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").is_file():
            return folder
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        f"{', '.join(map(str, PG_BIN_DIRS))} or PATH: run scripts/bootstrap.sh "
        "(it installs Debian's `postgresql` package)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server; `url(db)` is a SQLAlchemy URL (psycopg 3 driver)."""

    folder: Path
    port: int
    as_user: str | None  # the system user running the server when we are root

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb + pg_ctl start in a new temporary folder (owned by the server's user)."""
        binaries = pg_bin()
        as_user = SERVER_USER if os.geteuid() == 0 else None
        folder = Path(tempfile.mkdtemp(prefix="phieu-pg-"))
        if as_user is not None:
            entry = pwd.getpwnam(as_user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        server = cls(folder=folder, port=_free_port(), as_user=as_user)
        data, log = folder / "data", folder / "server.log"
        server._run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "phieu",
                     "-E", "UTF8", "--no-sync", "--no-instructions"])
        options = (f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                   "-c max_connections=100")
        server._run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                     "-t", str(START_TIMEOUT_S), "-o", options, "start"])
        return server

    def _run(self, cmd: list[str]) -> None:
        if self.as_user is not None:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.folder)
        if proc.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                               f"{proc.stderr.strip()}\n{tail}")

    def stop(self) -> None:
        """Stop the server now (`immediate`: its data is thrown away) and delete its folder."""
        try:
            self._run([str(pg_bin() / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                       "immediate", "stop"])
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://phieu@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE `name` (an identifier: letters, digits, _), empty or as a copy
        of the database `template` (whose open connections are closed first, as
        PostgreSQL requires); returns its URL."""
        for ident in (name, template or "x"):
            if not ident.replace("_", "").isalnum():
                raise ValueError(f"not a plain identifier: {ident!r}")
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if template is None:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                else:
                    conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                         " WHERE datname = :db AND pid <> pg_backend_pid()"),
                                 {"db": template})
                    conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            engine.dispose()
        return self.url(name)
