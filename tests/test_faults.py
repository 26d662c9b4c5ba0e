"""Fault injection: a process killed (or out of disk) at every point where it writes,
then run again, gives what a clean run gives — nothing lost, nothing doubled.

Faults are injected by the test hook `PHIEU_FAULT` (forms/durable.py): `POINT@N` stops
the process with `os._exit` (no clean-up: as `kill -9` or a power cut would) the N-th
time it reaches POINT; `POINT@N:enospc` raises "no space left on device" there.
Points: `scan.register.commit` (a new file's row, before its commit), `image.write`
(each page image and crop, before its rename), `scan.page.commit` (each page's
transaction, before its commit), `scan.page.committed` (just after), `scan.end.commit`
(the end-of-scan check and the files marked complete, before its commit),
`store.migration` (after each migration step, inside the one transaction),
`store.migrate.commit`, `output.replace` (each output file, before its rename).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PHIEU

from forms import durable
from forms.durable import FAULT_ENV, FAULT_EXIT_CODE, FaultInjected
from forms.library import load_form
from forms.render import render_pdf
from pipeline.scan.driver import scan
from pipeline.store.database import head_revision, open_store
from pipeline.store.survey import find_survey, init_survey

pytestmark = pytest.mark.slow  # scans killed and run again


def phieu(*args: object, cwd: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    """`phieu ARGS` in its own process (to be killed for real at `fault`)."""
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run([str(PHIEU), *map(str, args)], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=600)


@pytest.fixture
def fault(monkeypatch):
    """Arm the fault hook in this process: `fault("scan.page.commit@2:raise")`;
    `fault(None)` disarms it. Counts start afresh each time."""
    def arm(spec: str | None) -> None:
        durable._REACHED.clear()
        if spec:
            monkeypatch.setenv(FAULT_ENV, spec)
        else:
            monkeypatch.delenv(FAULT_ENV, raising=False)
    yield arm
    durable._REACHED.clear()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Two sipas sheets (2 pages each) in one PDF with the last page removed — sheet 2
    lacks its page 2 — and an empty file."""
    root = tmp_path_factory.mktemp("inputs")
    render_pdf(load_form("sipas"), root / "full.pdf", copies=2, first_serial=1)
    for n in (1, 2, 3):
        subprocess.run(["pdfseparate", "-f", str(n), "-l", str(n), root / "full.pdf",
                        root / f"p{n}.pdf"], check=True)
    (root / "box").mkdir()
    subprocess.run(["pdfunite", root / "p1.pdf", root / "p2.pdf", root / "p3.pdf",
                    root / "box" / "batch.pdf"], check=True)
    (root / "box" / "empty.jpg").write_bytes(b"")
    return root / "box"


@pytest.fixture(scope="module")
def blank_ws(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("blank") / "ws"
    init_survey(ws, ["sipas"])
    return ws


@pytest.fixture
def ws(blank_ws, tmp_path) -> Path:
    """A fresh copy of a new sipas workspace (cheaper than `phieu init` each time)."""
    return Path(shutil.copytree(blank_ws, tmp_path / "ws"))


def scan_here(ws: Path, inputs: Path):
    return scan(find_survey(ws), [inputs], jobs=1)


def snapshot(ws: Path) -> dict:
    """The store by natural keys (no row ids): sources, pages, sheets, answers, flags."""
    db = sqlite3.connect(ws / "survey.sqlite")
    q = db.execute
    files = dict(q("select id, path from sources").fetchall())
    sheets = {i: (f, v, s) for i, f, v, s in q("select id, form, version, serial from sheets")}
    pages = {i: (Path(files[s]).name, n) for i, s, n in q("select id, source_id, page_index from pages")}
    out = {
        "sources": sorted((Path(p).name, st, n) for p, st, n in
                          q("select path, status, page_count from sources")),
        "pages": sorted((Path(files[s]).name, i, st, r, f, sr, pn, img is not None)
                        for s, i, st, r, f, sr, pn, img in
                        q("select source_id, page_index, status, reason, form, serial, page_number, "
                          "image_path from pages")),
        "sheets": sorted((sheets[i], st) for i, st in q("select id, status from sheets")),
        "answers": sorted((sheets[s], qn, src, v, st) for s, qn, src, v, st in
                          q("select sheet_id, question, source, value, status from answers")),
        "flags": sorted((r, sheets.get(s), pages.get(p), qn or "", st) for r, s, p, qn, st in
                        q("select reason, sheet_id, page_id, question, status from flags")),
        "scores": q("select count(*) from target_scores").fetchone()[0],
    }
    images = [r[0] for r in q("select image_path from pages where image_path is not null")]
    db.close()
    assert all((ws / p).is_file() for p in images), "a page row names an image not on disk"
    return out


@pytest.fixture(scope="module")
def clean(inputs, blank_ws, tmp_path_factory) -> dict:
    ws = Path(shutil.copytree(blank_ws, tmp_path_factory.mktemp("clean") / "ws"))
    scan_here(ws, inputs)
    return snapshot(ws)


def test_the_clean_run_flags_the_missing_page_and_counts_the_empty_file(clean):
    assert ("missing_page", ("sipas", 1, 2), None, "", "open") in clean["flags"]
    assert ("empty.jpg", "complete", 0) in clean["sources"]
    assert all(status == "complete" for _, status, _ in clean["sources"])


# Every point the scan of `inputs` writes at, with how often it reaches it: 2 new files
# registered (the empty one with its failed row), 3 page images, 3 page transactions.
SCAN_POINTS = ([f"scan.register.commit@{n}" for n in (1, 2)]
               + [f"image.write@{n}" for n in (1, 2, 3)]
               + [f"scan.page.commit@{n}" for n in (1, 2, 3)]
               + [f"scan.page.committed@{n}" for n in (1, 2, 3)]
               + ["scan.end.commit@1"])
QUICK = {"scan.register.commit@2", "scan.page.commit@2", "scan.page.committed@3", "scan.end.commit@1"}


@pytest.mark.parametrize("point", [
    pytest.param(f, marks=() if f in QUICK else pytest.mark.slow) for f in SCAN_POINTS])
def test_a_scan_stopped_at_any_write_then_run_again_equals_a_clean_run(inputs, clean, ws, fault, point):
    fault(f"{point}:raise")
    with pytest.raises(FaultInjected):
        scan_here(ws, inputs)
    fault(None)
    scan_here(ws, inputs)
    assert snapshot(ws) == clean


@pytest.mark.slow
@pytest.mark.parametrize("point", ["image.write@2", "scan.page.commit@3", "scan.end.commit@1"])
def test_a_scan_killed_for_real_then_run_again_equals_a_clean_run(inputs, clean, ws, point):
    killed = phieu("scan", inputs, "--jobs", "1", cwd=ws, fault=point)
    assert killed.returncode == FAULT_EXIT_CODE, (point, killed.returncode, killed.stderr)
    rerun = phieu("scan", inputs, "--jobs", "1", cwd=ws)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(ws) == clean
    assert not list((ws / "images").rglob("*.tmp")), "a killed scan's temporary image was left"


def test_killed_before_the_end_check_the_file_stays_unfinished_and_exports_say_so(
        inputs, ws, fault, run_phieu):
    """Issue 12 finding 1: stopped after every page is stored but before the missing-page
    check, the file must not be `complete` (status and exports would then say nothing)."""
    fault("scan.end.commit@1:raise")
    with pytest.raises(FaultInjected):
        scan_here(ws, inputs)
    fault(None)
    status = run_phieu("status", cwd=ws)
    assert "batch.pdf" in status.out, status.out
    export = run_phieu("export", "responses", "-o", ws / "r.csv", cwd=ws)
    assert export.code == 0 and "not finished" in export.err and "batch.pdf" in export.err
    db = sqlite3.connect(ws / "survey.sqlite")
    assert db.execute("select status from sources where path like '%batch.pdf'").fetchone() == ("partial",)


def test_disk_full_while_writing_an_image_stops_with_one_message_and_no_temporary_file(
        inputs, clean, ws, fault, run_phieu):
    fault("image.write@2:enospc")
    full = run_phieu("scan", inputs, "--jobs", "1", cwd=ws)
    assert full.code == 2, full.err
    assert "disk is full" in full.err and "Traceback" not in full.err
    assert not list((ws / "images").rglob("*.tmp"))
    fault(None)
    scan_here(ws, inputs)
    assert snapshot(ws) == clean


# --- first open and migrations -----------------------------------------------------------

def test_init_killed_during_the_first_open_can_be_run_again(tmp_path):
    ws = tmp_path / "ws"
    killed = phieu("init", ws, "--form", "sipas", cwd=tmp_path, fault="store.migration@2")
    assert killed.returncode == FAULT_EXIT_CODE, killed.stderr
    again = phieu("init", ws, "--form", "sipas", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (ws / "survey.yaml").is_file()


@pytest.mark.parametrize("point", ["store.migration@1", "store.migration@4", "store.migrate.commit@1"])
def test_a_first_open_stopped_anywhere_leaves_an_empty_file_the_next_open_fills(tmp_path, fault, point):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    fault(f"{point}:raise")
    with pytest.raises(FaultInjected):
        open_store(url)
    fault(None)
    store = open_store(url)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar_one() == head_revision()


@pytest.mark.parametrize("start", ["0001", "0002", "0003", "0004"])
def test_a_migration_stopped_leaves_the_store_as_it_was_and_the_next_open_upgrades_it(
        tmp_path, fault, start):
    from alembic import command

    from pipeline.store.database import _alembic_config

    path = tmp_path / "old.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), start)
        conn.execute(sa.text("INSERT INTO batches (id, name, created_at) VALUES (1, 'b', '2026-09-01')"))
    engine.dispose()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pipeline.store.database import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    newest_first = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
    steps = newest_first.index(start)  # migrations after `start`
    for step in [*range(1, steps + 1), "commit"]:
        fault(f"store.migration@{step}:raise" if step != "commit" else "store.migrate.commit@1:raise")
        with pytest.raises(FaultInjected):
            open_store(f"sqlite:///{path}", create=False).engine.dispose()
        db = sqlite3.connect(path)
        assert db.execute("select version_num from alembic_version").fetchone() == (start,)
        assert not {r[0] for r in db.execute("select name from sqlite_master")
                    if r[0].startswith("_alembic_tmp") or r[0] == "serial_ranges"}
        db.close()
    fault(None)
    open_store(f"sqlite:///{path}", create=False).engine.dispose()
    db = sqlite3.connect(path)
    assert db.execute("select version_num from alembic_version").fetchone() == (head_revision(),)
    assert db.execute("select name from batches").fetchall() == [("b",)]


# --- output files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scanned(inputs, blank_ws, tmp_path_factory) -> Path:
    ws = Path(shutil.copytree(blank_ws, tmp_path_factory.mktemp("scanned") / "ws"))
    scan_here(ws, inputs)
    return ws


OUTPUTS = {
    "export.csv": (["export", "responses", "-o", "{out}/r.csv"], ["r.csv"]),
    "export.xlsx": (["export", "pages", "-o", "{out}/p.xlsx"], ["p.xlsx"]),
    "tally.csv": (["tally", "-o", "{out}/t.csv"], ["t.csv", "t-index.csv"]),
    "report.html": (["report", "-o", "{out}/r.html"], ["r.html"]),
    "render.pdf": (["forms", "render", "sipas", "--out", "{out}/f.pdf"], ["f.pdf", "f.layout.json"]),
}


def _good_files(run_phieu, scanned: Path, out: Path, name: str) -> tuple[list[str], list[str], dict]:
    args, files = OUTPUTS[name]
    args = [a.format(out=out) for a in args]
    first = run_phieu(*args, cwd=scanned)
    assert first.code == 0, first.err
    for f in files:  # mark the good files, so that a rewrite would show
        assert (out / f).stat().st_size > 0
        (out / f).write_bytes((out / f).read_bytes() + b"\n")
    return args, files, {f: (out / f).read_bytes() for f in files}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow if n == "report.html" else ()) for n in sorted(OUTPUTS)])
def test_an_output_stopped_before_any_rename_keeps_the_previous_files(scanned, tmp_path, fault,
                                                                      run_phieu, name):
    args, files, good = _good_files(run_phieu, scanned, tmp_path, name)
    fault("output.replace@1:raise")
    with pytest.raises(FaultInjected):
        run_phieu(*args, cwd=scanned)
    assert {f: (tmp_path / f).read_bytes() for f in files} == good
    fault("output.replace@1:enospc")
    full = run_phieu(*args, cwd=scanned)
    assert full.code == 2 and "disk is full" in full.err and "Traceback" not in full.err
    assert {f: (tmp_path / f).read_bytes() for f in files} == good
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name], "a temporary file was left"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tally.csv", "render.pdf"])
def test_an_output_killed_for_real_keeps_whole_files(scanned, tmp_path, run_phieu, name):
    args, files, good = _good_files(run_phieu, scanned, tmp_path, name)
    for nth in range(1, len(files) + 1):  # killed before each file's rename
        run = phieu(*args, cwd=scanned, fault=f"output.replace@{nth}")
        assert run.returncode == FAULT_EXIT_CODE, run.stderr
        if nth == 1:
            assert {f: (tmp_path / f).read_bytes() for f in files} == good
        assert all((tmp_path / f).stat().st_size > 0 for f in files)


def test_the_store_full_mid_scan_stops_with_one_message_and_a_rerun_finishes(
        inputs, clean, ws, monkeypatch, run_phieu):
    """SQLite says "database or disk is full" at a page's commit: one plain message (no
    traceback), the pages before it kept, the re-run gives a clean run's store."""
    from pipeline.scan import driver

    real, calls = driver.record_page, []

    def full_at_second(conn, result, **kwargs):
        calls.append(result.task.index)
        if len(calls) == 2:
            raise sa.exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))
        return real(conn, result, **kwargs)

    monkeypatch.setattr(driver, "record_page", full_at_second)
    run = run_phieu("scan", inputs, "--jobs", "1", cwd=ws)
    assert run.code == 4 and "disk is full" in run.err and "Traceback" not in run.err, run.err
    monkeypatch.setattr(driver, "record_page", real)
    scan_here(ws, inputs)
    assert snapshot(ws) == clean
