"""`phieu init / scan / status / export` on printed (blank) forms: every page accounted
for, nothing counted twice, bad input reported and the batch goes on, and a scan killed
mid-batch finishes when run again."""
from __future__ import annotations

import csv
import signal
import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from reportlab.pdfgen import canvas

from forms.library import load_form
from forms.render import render_page_images, render_pdf

pytestmark = pytest.mark.slow  # real scans in worker processes


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """Blank printed sheets: mot-cua serials 1..3 and 3..4 (serial 3 twice), LONG_BOX sheets
    for the interrupt test, a sipas sheet (unknown to a mot-cua-only survey)."""
    root = tmp_path_factory.mktemp("printed")
    mot_cua, sipas = load_form("mot-cua"), load_form("sipas")
    render_pdf(mot_cua, root / "a.pdf", copies=3, first_serial=1)
    render_pdf(mot_cua, root / "b.pdf", copies=2, first_serial=3)
    render_pdf(mot_cua, root / "long.pdf", copies=LONG_BOX, first_serial=1000)
    render_pdf(sipas, root / "sipas.pdf", copies=1, first_serial=50)
    page = render_page_images(mot_cua, 150, serial=77)[0]
    cv2.imwrite(str(root / "sheet77.jpg"), page, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return root


def bad_inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    c = canvas.Canvas(str(folder / "locked.pdf"), encrypt="mat-khau")
    c.drawString(100, 700, "bí mật")
    c.showPage()
    c.save()
    (folder / "notes.png").write_text("đây là ghi chú, không phải ảnh", encoding="utf-8")
    rng = np.random.default_rng(3)  # "a photo of something else": shapes on a gradient
    photo = np.tile(np.linspace(60, 200, 900, dtype=np.uint8), (700, 1))
    for _ in range(25):
        x, y = rng.integers(0, 850), rng.integers(0, 650)
        cv2.circle(photo, (int(x), int(y)), int(rng.integers(5, 60)), int(rng.integers(0, 255)), -1)
    cv2.imwrite(str(folder / "photo.jpg"), photo)


@pytest.fixture
def survey(tmp_path, run_phieu) -> Path:
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    return ws


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_scanner_streak_is_taken_out_and_the_clerk_told_to_clean_the_glass(survey, printed, tmp_path,
                                                                            run_phieu):
    """A sheet with a dark line down the whole scan (dust on a feeder's glass) is read, and
    the scan's summary names the streak and what to do; a clean sheet says nothing of it."""
    page = cv2.imread(str(printed / "sheet77.jpg"), cv2.IMREAD_GRAYSCALE).astype(np.int16)
    page[:, 600:602] -= 40
    streaked = tmp_path / "streaked.png"
    cv2.imwrite(str(streaked), np.clip(page, 0, 255).astype(np.uint8))
    run = run_phieu("scan", streaked, cwd=survey)
    assert run.code == 0, run.err
    assert "pages read: 1" in run.out
    assert "a scanner streak down 1 page(s)" in run.out and "clean the scanner's glass" in run.out
    clean = run_phieu("scan", printed / "a.pdf", cwd=survey)
    assert clean.code == 0 and "pages read: 3" in clean.out and "scanner streak" not in clean.out


def test_without_a_workspace_commands_say_what_to_do(tmp_path, run_phieu):
    run = run_phieu("status", cwd=tmp_path)
    assert run.code == 4 and "phieu init" in run.err and str(tmp_path) in run.err
    run = run_phieu("scan", "x.pdf", "--survey", tmp_path)
    assert run.code == 4 and "not a survey workspace" in run.err


def test_scan_counts_each_sheet_once_and_skips_a_file_seen_before(survey, printed, run_phieu):
    run = run_phieu("scan", printed / "a.pdf", printed / "b.pdf", "--jobs", "2", cwd=survey)
    assert run.code == 0, run.err
    assert "pages read: 4" in run.out and "duplicates: 1" in run.out
    assert "sheets read: 4 (needs_review 4)" in run.out  # blank printed forms: blank_ballot
    run_phieu("export", "pages", "-o", survey / "pages.csv")
    pages = read_csv(survey / "pages.csv")
    assert [(Path(p["source"]).name, p["page"], p["status"], p["serial"]) for p in pages] == [
        ("a.pdf", "1", "read", "1"), ("a.pdf", "2", "read", "2"), ("a.pdf", "3", "read", "3"),
        ("b.pdf", "1", "duplicate", "3"), ("b.pdf", "2", "read", "4"),
    ]
    run_phieu("export", "responses", "-o", survey / "responses.csv")
    responses = read_csv(survey / "responses.csv")
    assert [r["serial"] for r in responses] == ["1", "2", "3", "4"]
    by_serial = {r["serial"]: r for r in responses}
    assert by_serial["3"]["status"] == "needs_review"  # duplicate: a person decides

    again = run_phieu("scan", printed / "a.pdf", cwd=survey)
    assert again.code == 0 and "already scanned" in again.err and "pages read: 0" in again.out
    copy = survey / "a-copy.pdf"  # the same content under another name, in one command
    copy.write_bytes((printed / "a.pdf").read_bytes())
    twice = run_phieu("scan", copy, printed / "a.pdf", cwd=survey)
    assert "already scanned" in twice.err and "pages read: 0" in twice.out
    fresh = survey.parent / "fresh"
    run_phieu("init", fresh, "--form", "mot-cua")
    both = run_phieu("scan", printed / "a.pdf", copy, cwd=fresh)
    assert "same content as" in both.err and "pages read: 3" in both.out
    status = run_phieu("status", cwd=survey)
    assert "duplicate: 1" in status.out and "blank_ballot: 4" in status.out


def test_bad_input_gets_one_line_each_and_the_batch_goes_on(survey, printed, tmp_path, run_phieu):
    bad_inputs(tmp_path / "bad")
    run = run_phieu("scan", tmp_path / "bad", printed / "sipas.pdf", printed / "sheet77.jpg",
                    cwd=survey)
    assert run.code == 0, run.err
    run_phieu("export", "pages", "-o", survey / "pages.xlsx")
    pages = pd.read_excel(survey / "pages.xlsx", dtype=str).fillna("")
    reasons = {(Path(s).name, int(p)): (st, r) for s, p, st, r in
               zip(pages.source, pages.page, pages.status, pages.reason)}
    assert reasons == {
        ("corrupt.pdf", 1): ("failed", "corrupt_pdf"),
        ("empty.pdf", 1): ("failed", "empty_file"),
        ("locked.pdf", 1): ("failed", "encrypted_pdf"),
        ("notes.png", 1): ("failed", "not_an_image"),
        ("photo.jpg", 1): ("failed", "no_markers"),
        ("sipas.pdf", 1): ("failed", "unknown_form"),
        ("sipas.pdf", 2): ("failed", "unknown_form"),
        ("sheet77.jpg", 1): ("read", ""),
    }
    assert "pages not read: 7" in run.out
    lines = run.err.splitlines()
    for name in ("empty.pdf", "corrupt.pdf", "locked.pdf", "notes.png", "photo.jpg", "sipas.pdf"):
        # one clear line each (two for sipas.pdf's two pages), as the file is met
        assert sum(name in line for line in lines) == (2 if name == "sipas.pdf" else 1), name
    status = run_phieu("status", cwd=survey).out
    assert "unreadable: 5" in status and "unknown_form: 2" in status


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is pending


def _stored_pages(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("select count(*) from pages").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


# The interrupted box is long enough (~8 s of reading on one worker) that a test process
# starved of CPU for a few seconds on a loaded machine still stops the scan mid-batch;
# with 24 sheets it sometimes found all 24 stored.
LONG_BOX = 64


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_scan_stopped_mid_batch_finishes_when_run_again(survey, printed, run_phieu,
                                                          phieu_process, how):
    box = printed / "long.pdf"
    proc = phieu_process("scan", box, "--jobs", "1", cwd=survey)
    deadline = time.monotonic() + 120
    while _stored_pages(survey / "survey.sqlite") < 4:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the scan stored nothing in 120 s"
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert workers, "the scan should read in a worker process"
    proc.send_signal(how)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):  # no orphan left reading or waiting
        assert time.monotonic() < deadline, f"workers {workers} outlived the scan"
        time.sleep(0.1)
    stored = _stored_pages(survey / "survey.sqlite")
    assert 4 <= stored < LONG_BOX, "the scan was not stopped mid-batch"
    if how == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in proc.stderr.read()
    status = run_phieu("status", cwd=survey).out
    assert "files not finished" in status and str(box) in status
    # Counting before the scan is finished is not silent: the export and tally say so.
    for args in (("export", "responses", "-o", survey / "early.csv"), ("tally",)):
        early = run_phieu(*args, cwd=survey)
        assert early.code == 0 and "not finished" in early.err and box.name in early.err

    run = run_phieu("scan", box, cwd=survey)
    assert run.code == 0, run.err
    assert "resuming" in run.err and f"pages read: {LONG_BOX - stored}" in run.out
    run_phieu("export", "pages", "-o", survey / "pages.csv")
    pages = read_csv(survey / "pages.csv")
    assert [int(p["page"]) for p in pages] == list(range(1, LONG_BOX + 1))
    assert [int(p["serial"]) for p in pages] == list(range(1000, 1000 + LONG_BOX))
    assert {p["status"] for p in pages} == {"read"}
    run = run_phieu("export", "responses", "-o", survey / "responses.csv")
    assert "not finished" not in run.err
    assert [int(r["serial"]) for r in read_csv(survey / "responses.csv")] == list(range(1000, 1000 + LONG_BOX))
    images = sorted((survey / "images").rglob("*.jpg"))
    assert len(images) == LONG_BOX and not list((survey / "images").rglob("*.tmp"))


def test_workspace_errors_name_the_remedy(tmp_path, run_phieu):
    ws = tmp_path / "ws"
    assert run_phieu("init", ws).code == 0  # every shipped form
    again = run_phieu("init", ws)
    assert again.code == 4 and "already exists" in again.err
    several = run_phieu("export", "responses", "-o", tmp_path / "r.csv", cwd=ws)
    assert several.code == 2 and "--form" in several.err and "mot-cua" in several.err
    unknown = run_phieu("export", "responses", "--form", "khong-co", "-o", tmp_path / "r.csv")
    assert unknown.code == 2 and "khong-co" in unknown.err
    ok = run_phieu("export", "responses", "--form", "sipas", "-o", tmp_path / "r.csv")
    assert ok.code == 0 and read_csv(tmp_path / "r.csv") == []
    nowhere = run_phieu("export", "pages", "-o", tmp_path / "missing" / "p.csv")
    assert nowhere.code == 2 and "does not exist" in nowhere.err
    bad_form = run_phieu("init", tmp_path / "ws2", "--form", "khong-co")
    assert bad_form.code == 2 and "khong-co" in bad_form.err


def test_two_versions_of_a_form_with_the_same_serials_are_different_ballots(tmp_path, run_phieu):
    """Version 2 printed from serial 1 again: its sheets are not version 1's duplicates."""
    v2_yaml = tmp_path / "mot-cua-v2.yaml"
    text = Path(load_form("mot-cua").source).read_text(encoding="utf-8")
    v2_yaml.write_text(text.replace("version: 1", "version: 2", 1), encoding="utf-8")
    v2 = load_form(str(v2_yaml))
    assert v2.id == "mot-cua" and v2.version == 2
    render_pdf(load_form("mot-cua"), tmp_path / "v1.pdf", copies=2, first_serial=1)
    render_pdf(v2, tmp_path / "v2.pdf", copies=2, first_serial=1)
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua", "--form", v2_yaml).code == 0
    run = run_phieu("scan", tmp_path / "v1.pdf", tmp_path / "v2.pdf", cwd=ws)
    assert run.code == 0, run.err
    assert "pages read: 4" in run.out and "duplicate" not in run.out
    rows = sqlite3.connect(ws / "survey.sqlite").execute(
        "SELECT form, version, serial FROM sheets ORDER BY version, serial").fetchall()
    assert rows == [("mot-cua", 1, 1), ("mot-cua", 1, 2), ("mot-cua", 2, 1), ("mot-cua", 2, 2)]
    # Each version is exported on its own; without a version the export says so.
    run = run_phieu("export", "responses", "-o", ws / "r.csv", cwd=ws)
    assert run.code == 2 and "mot-cua@1, mot-cua@2" in run.err
    for version in (1, 2):
        run = run_phieu("export", "responses", "--form", f"mot-cua@{version}", "-o", ws / f"r{version}.csv", cwd=ws)
        assert run.code == 0, run.err
        assert [r["serial"] for r in read_csv(ws / f"r{version}.csv")] == ["1", "2"]
    run = run_phieu("tally", "--form", "mot-cua", cwd=ws)
    assert run.code == 2 and "mot-cua@VERSION" in run.err
