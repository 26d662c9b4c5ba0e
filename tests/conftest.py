"""Shared helpers: run `phieu` in-process or as a subprocess (as OCRmyPDF's tests do)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PHIEU = Path(sys.executable).parent / "phieu"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_phieu(capsys, monkeypatch):
    """Run `phieu ARGS...` in this process (optionally in folder `cwd`); returns a `Run`."""
    from cli import main

    def run(*args: str, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def phieu_process():
    """Start `phieu ARGS...` as a subprocess (stdout/stderr piped, text); returns the Popen.
    Processes still running at the end of the test are killed."""
    started: list[subprocess.Popen] = []

    def start(*args: str, cwd: Path) -> subprocess.Popen:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([str(PHIEU), *map(str, args)], cwd=cwd, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- PostgreSQL store (issue 7) -------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole session (`tests/postgres_support.py`)."""
    from postgres_support import PostgresServer

    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_args(request) -> tuple[str, ...]:
    """`phieu init` arguments choosing the store: () for the default SQLite file, or
    `--store URL` of a fresh PostgreSQL database. Tests using it run once on each."""
    if request.param == "sqlite":
        return ()
    server = request.getfixturevalue("postgres_server")
    return ("--store", server.new_database(f"t_{uuid.uuid4().hex}"))
