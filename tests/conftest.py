"""Shared helpers: run `phieu` in-process or as a subprocess (as OCRmyPDF's tests do)."""
from __future__ import annotations

import os
import signal
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
        # Ctrl-C as a terminal delivers it: a suite started in the background by a
        # non-interactive shell ignores SIGINT, its children inherit that, and Python
        # then never raises KeyboardInterrupt (the SIGINT tests failed so, and only so).
        proc = subprocess.Popen([str(PHIEU), *map(str, args)], cwd=cwd, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
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


# --- blank cache (issue 16) -------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _private_blank_cache(tmp_path_factory):
    """Tests (and the `phieu` subprocesses they start) keep prepared blanks in a folder of
    their own, not in the user's ~/.cache/phieu: each session starts cold and is alike."""
    previous = os.environ.get("PHIEU_CACHE_DIR")
    os.environ["PHIEU_CACHE_DIR"] = str(tmp_path_factory.mktemp("blank-cache"))
    yield
    if previous is None:
        os.environ.pop("PHIEU_CACHE_DIR", None)
    else:
        os.environ["PHIEU_CACHE_DIR"] = previous


# --- a real browser and a running review server (Playwright tests) ---------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, once per test module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
