"""The accuracy benchmark through the CLI (benchmarks/scan_accuracy.py): its comparison
catches each kind of silent error, and a tiny deck runs end to end."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import scan_accuracy  # noqa: E402
from scan_accuracy import Comparison, Exports, totals  # noqa: E402

from fixtures.truth import BoxTruth, PageTruth, QuestionTruth, SheetTruth, TargetTruth  # noqa: E402

pytestmark = pytest.mark.slow  # the benchmark scripts on tiny decks

RESPONSE_COLUMNS = ["serial", "status", "flagged", "linh_vuc", "thoi_gian", "so_lan", "y_kien"]


def _sheet(serial: int, *questions: QuestionTruth, targets=()) -> SheetTruth:
    return SheetTruth(serial, "ballpoint_blue", questions, tuple(targets))


def _box(tmp_path: Path) -> tuple[Path, BoxTruth]:
    s1 = _sheet(
        1,
        QuestionTruth("linh_vuc", "single", ("ho_tich",)),
        QuestionTruth("thoi_gian", "single", ("som", "tre_hen"), ("overvote",)),
        QuestionTruth("so_lan", "single", (), ("marginal",)),
        QuestionTruth("y_kien", "text", text="Tốt lắm"),
        targets=[TargetTruth("so_lan", "2", 1, "dot", "marginal")],
    )
    s2 = _sheet(2, QuestionTruth("linh_vuc", "single", ("khac",)))
    s3 = _sheet(3, QuestionTruth("linh_vuc", "single", ("khac",)))
    pages = tuple(PageTruth("b.pdf", i, i, 1, kind) for i, kind in ((1, "scan"), (2, "phone"), (3, "scan")))
    return tmp_path, BoxTruth("mot-cua", 1, 0, 200, 1, (s1, s2, s3), pages)


def _exports(box: Path, responses: list[list[str]], sheet_flags=None) -> Exports:
    source = str(box / "b.pdf")
    pages = pd.DataFrame(  # page 3 of the file is missing from pages.csv on purpose
        [[source, "1", "read", "mot-cua", "1", ""], [source, "2", "read", "mot-cua", "2", ""]],
        columns=["source", "page", "status", "form", "serial", "reason"])
    frame = pd.DataFrame(responses, columns=RESPONSE_COLUMNS)
    empty = pd.DataFrame(columns=RESPONSE_COLUMNS)
    return Exports({"mot-cua": frame, "sipas": empty}, pages,
                   pd.DataFrame(columns=["serial", "question", "text", "confidence", "crop", "flagged"]),
                   sheet_flags or {})


def test_comparison_counts_each_silent_error_and_nothing_flagged(tmp_path):
    box, truth = _box(tmp_path)
    exports = _exports(box, [
        # wrong unflagged value; overvote flagged; a marginal mark counted as a vote
        ["1", "needs_review", "thoi_gian", "quoc_tich", "", "2", "Tot lam"],
        # wrong value, but the sheet waits for its missing page: not silent
        ["2", "needs_review", "", "", "", "", ""],
        ["9", "counted", "", "khac", "", "", ""],  # a sheet never printed
    ], {("mot-cua", 2): frozenset({"missing_page"})})
    cmp = Comparison()
    cmp.form(box, truth, exports)
    everything = totals(cmp)["all"]
    assert {k: everything[k] for k in scan_accuracy.SILENT_KINDS if everything[k]} == {
        "wrong_value": 2, "page_missing_from_pages_csv": 1, "phantom_sheet": 1}
    assert everything["silent"] == 4
    assert (everything["overvotes"], everything["overvotes_flagged"]) == (1, 1)
    assert (everything["marginal_marks"], everything["marginal_ok"]) == (1, 0)
    assert everything["questions_under_sheet_flag"] == 1
    assert (everything["cer_errors"], everything["cer_chars"]) == (2, 7)  # ố→o, ắ→a
    assert cmp.sheets["mot-cua"]["absent_pages_not_read"] == 1  # sheet 3: its page never came
    cmp.comments_csv(exports, {"mot-cua": truth})  # comments.csv left empty: sheet 1's is missing
    assert cmp.sheets["comments.csv"]["written_not_listed"] == 1


def test_whole_sheet_flag_needs_the_status(tmp_path):
    """A whole-sheet flag covers a question only while the sheet is to review."""
    box, truth = _box(tmp_path)
    exports = _exports(box, [["2", "counted", "", "", "", "", ""]],
                       {("mot-cua", 2): frozenset({"missing_page"})})
    cmp = Comparison()
    cmp.form(box, truth, exports)
    assert cmp.by_kind["phone"]["wrong_value"] == 1


@pytest.mark.slow
def test_tiny_deck_through_the_cli(tmp_path, capsys):
    code = scan_accuracy.main(["--sheets", "2", "--seed", "3", "--cache", str(tmp_path / "decks"),
                               "--json", str(tmp_path / "figures.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "**silent errors** |" in out
    figures = __import__("json").loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    everything = figures["by_capture"]["all"]
    assert everything["pages"] == everything["pages_in_csv"] == 2 + 4  # mot-cua 1 page, sipas 2
    assert everything.get("silent", 0) == 0


def test_readings_diff_tells_a_changed_state_not_a_timing(tmp_path):
    import readings_diff

    old, new = tmp_path / "old", tmp_path / "new"
    for folder, state, seconds in ((old, "empty", "0.5"), (new, "empty", "0.7")):
        folder.mkdir()
        (folder / "targets.csv").write_text(f"batch-001.pdf,1,q1,1,0.0,{state},0.17,0.0\n", encoding="utf-8")
        (folder / "pages.csv").write_text(f"source,page,seconds\n/tmp/phieu-acc-x1/a.pdf,1,{seconds}\n",
                                          encoding="utf-8")
    assert readings_diff.compare_scan(old, new) == 0  # the timing and the survey's folder are not readings
    (new / "targets.csv").write_text("batch-001.pdf,1,q1,1,0.3,marked,0.17,0.0\n", encoding="utf-8")
    assert readings_diff.compare_scan(old, new) == 1
