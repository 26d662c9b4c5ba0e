"""The accuracy benchmark through the CLI (benchmarks/scan_accuracy.py): its comparison
catches each kind of silent error, and a tiny deck runs end to end. And the comparison of
two readers target by target (benchmarks/read_decisions.py)."""
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


def test_read_decisions_tells_a_changed_decision_from_a_changed_raw_score():
    """`read_decisions.py` compares two readers target by target: a target's
    state that differs is a decision; a score that differs under the same
    state is a raw value only; a page read by one and failed by the other is
    a decision."""
    from read_decisions import PageRecord, compare

    def page(state: str, score: str, outcome: str = "read") -> PageRecord:
        return PageRecord(outcome, ("f", 1, 1, 7), (4,), {("q1", "1"): (state, score)},
                          {"q1": ("answered", ("1",), ())}, {"c": (True, 0.0, "")})

    same = compare({"scan/a": page("marked", "0.9")}, {"scan/a": page("marked", "0.9")})[0]
    assert same["decisions differing"] == 0 and same["scan targets"] == 1
    raw = compare({"scan/a": page("marked", "0.9")}, {"scan/a": page("marked", "0.91")})[0]
    assert raw["decisions differing"] == 0 and raw["raw values differing (scores, quality, ink, crops)"] == 1
    state = compare({"scan/a": page("marked", "0.9")}, {"scan/a": page("marginal", "0.9")})[0]
    assert state["decisions differing"] == 1
    failed = compare({"scan/a": page("marked", "0.9")}, {"scan/a": page("marked", "0.9", "bad_geometry")})[0]
    assert failed["decisions differing"] == 1
