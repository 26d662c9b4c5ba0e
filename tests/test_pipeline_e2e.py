"""End to end on generated ballot boxes (fixtures): scan through the CLI, then compare the
store's exports with the generator's truth — every serial read, every page accounted for,
answers equal to the truth wherever nothing was flagged; a two-page form's sheets joined
by serial, with a missing page flagged until it arrives. The first two run on each store:
the default SQLite file and a PostgreSQL database (`store_args` in conftest.py)."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from fixtures.box import make_ballot_box
from omr.thresholds import DEFAULT_THRESHOLDS

pytestmark = pytest.mark.slow  # whole boxes generated and scanned

MOT_CUA_SHEETS = 12
SIPAS_SHEETS = 4


@pytest.fixture(scope="module")
def boxes(tmp_path_factory):
    root = tmp_path_factory.mktemp("boxes")
    mot_cua = make_ballot_box("mot-cua", MOT_CUA_SHEETS, root / "mot-cua", seed=11,
                              formats=("pdf", "tiff", "images"), pages_per_file=4)
    # Feeder scans skewed by at most 1° (seed 17): this box is about joining pages,
    # not about hard captures (the reader's own tests and benchmarks cover those).
    sipas = make_ballot_box("sipas", SIPAS_SHEETS, root / "sipas", seed=17, formats=("images",),
                            first_serial=500, pages_per_file=8, mix={"upside_down": 1.0})
    return root, mot_cua, sipas


def read_csv(path: Path) -> pd.DataFrame:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert frame.to_dict("records") == rows  # pandas and csv read the same table
    return frame


def assert_answers_match_truth(responses: pd.DataFrame, truth) -> int:
    """Every answer not flagged equals the truth; returns how many answers were compared."""
    rows = responses.set_index("serial")
    compared = 0
    for sheet in truth.sheets:
        row = rows.loc[str(sheet.serial)]
        flagged = set(filter(None, row["flagged"].split("|")))
        for q in sheet.questions:
            if q.question in flagged or (row["status"] == "needs_review" and not flagged):
                continue
            cell = row[q.question]
            if q.type == "text":
                assert (cell == "") == (q.text == ""), (sheet.serial, q.question, cell, q.text)
            elif q.answer is not None:
                assert cell == "|".join(q.answer), (sheet.serial, q.question, cell, q.answer)
                compared += 1
    return compared


def test_scan_a_generated_box_and_export_what_the_truth_says(boxes, tmp_path, run_phieu,
                                                             store_args):
    root, truth, _ = boxes
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua", *store_args).code == 0
    run = run_phieu("scan", root / "mot-cua", "--batch", "hom-1", cwd=ws)
    assert run.code == 0, run.err
    assert f"pages read: {len(truth.pages)}" in run.out

    run_phieu("export", "pages", "-o", ws / "pages.csv")
    pages = read_csv(ws / "pages.csv")
    got = [(Path(s).name, int(p)) for s, p in zip(pages.source, pages.page)]
    assert sorted(got) == sorted((p.file, p.index) for p in truth.pages)
    assert set(pages.status) == {"read"}
    expected_serial = {(p.file, p.index): p.serial for p in truth.pages}
    assert all(int(s) == expected_serial[k] for s, k in zip(pages.serial, got))

    run_phieu("export", "responses", "-o", ws / "responses.csv")
    responses = read_csv(ws / "responses.csv")
    assert sorted(map(int, responses.serial)) == [s.serial for s in truth.sheets]
    assert assert_answers_match_truth(responses, truth) > MOT_CUA_SHEETS * 4

    run_phieu("export", "comments", "-o", ws / "comments.csv")
    comments = read_csv(ws / "comments.csv")
    assert list(comments.columns) == ["serial", "question", "text", "confidence", "crop", "flagged",
                                      "shown_as"]
    # published as OCR text only when unflagged and sure by the flagging threshold
    ocr = comments[comments.shown_as == "ocr"]
    assert len(ocr) and (ocr.flagged == "False").all()
    assert (ocr.confidence.astype(float) >= DEFAULT_THRESHOLDS.ocr_min_confidence).all()
    assert (comments[comments.flagged == "True"].shown_as == "image").all()
    written = {s.serial for s in truth.sheets for q in s.questions if q.type == "text" and q.text}
    listed = {int(s) for s in comments.serial}
    unflagged = {int(s) for s, f in zip(comments.serial, comments.flagged) if f == "False"}
    assert written <= listed  # every written comment is listed...
    assert unflagged <= written  # ...and one not written is at least flagged for a person
    assert all(Path(c).is_file() for c in comments.crop)


def test_two_page_sheets_join_by_serial_and_a_missing_page_waits(boxes, tmp_path, run_phieu,
                                                                 phieu_process, store_args):
    root, _, truth = boxes
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "sipas", *store_args).code == 0
    held_back = next(p for p in truth.pages if p.page == 2)
    first = [root / "sipas" / p.file for p in truth.pages if p != held_back]
    proc = phieu_process("scan", *first, "--jobs", "2", cwd=ws)  # one run as a real process
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "missing_page 1" in out

    assert run_phieu("export", "responses", "-o", ws / "r1.csv", cwd=ws).code == 0
    r1 = read_csv(ws / "r1.csv").set_index("serial")
    assert len(r1) == SIPAS_SHEETS
    assert r1.loc[str(held_back.serial), "status"] == "needs_review"

    run = run_phieu("scan", root / "sipas" / held_back.file, cwd=ws)
    assert run.code == 0 and "pages read: 1" in run.out
    run_phieu("export", "responses", "-o", ws / "r2.csv")
    responses = read_csv(ws / "r2.csv")
    assert "missing_page" not in run_phieu("status", cwd=ws).out
    assert assert_answers_match_truth(responses, truth) > SIPAS_SHEETS * 20


def test_the_number_of_workers_does_not_change_a_result(boxes, tmp_path, run_phieu):
    root, _, _ = boxes
    exports = {}
    for jobs in ("1", "2"):
        ws = tmp_path / f"ws{jobs}"
        run_phieu("init", ws, "--form", "mot-cua")
        assert run_phieu("scan", root / "mot-cua", "--jobs", jobs, cwd=ws).code == 0
        for what in ("responses", "pages", "comments"):
            run_phieu("export", what, "-o", ws / f"{what}.csv", cwd=ws)
        exports[jobs] = {
            "responses": read_csv(ws / "responses.csv"),
            "pages": read_csv(ws / "pages.csv"),
            "comments": read_csv(ws / "comments.csv").drop(columns=["crop"]),
        }
    for what, frame in exports["1"].items():
        pd.testing.assert_frame_equal(frame, exports["2"][what], obj=what)
