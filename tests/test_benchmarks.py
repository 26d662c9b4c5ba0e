"""The accuracy benchmark through the CLI (benchmarks/scan_accuracy.py): its comparison
catches each kind of silent error, and a tiny deck runs end to end. And the comparison of
two readers target by target (benchmarks/read_decisions.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import foreign_deck  # noqa: E402
import scan_accuracy  # noqa: E402
from scan_accuracy import Comparison, Exports, totals  # noqa: E402

from fixtures.truth import BoxTruth, PageTruth, QuestionTruth, SheetTruth, TargetTruth  # noqa: E402
from forms import layout_form, layout_json, load_form  # noqa: E402

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


# --- benchmarks/foreign_deck.py: the independent generator's own bookkeeping ----------------


def _layout_file(tmp_path: Path, form_id: str) -> Path:
    form = load_form(form_id)
    path = tmp_path / f"{form_id}.layout.json"
    path.write_text(json.dumps(layout_json(form, layout_form(form), 1)), encoding="utf-8")
    return path


def _near(stroke: foreign_deck.Stroke, target: foreign_deck.Target, reach_mm: float) -> bool:
    return bool(np.hypot(*(stroke.points.mean(axis=0) - [target.cx, target.cy])) <= reach_mm)


@pytest.mark.parametrize("form_id", ["mot-cua", "sipas"])
def test_foreign_deck_truth_follows_what_was_drawn(tmp_path, form_id):
    """Each style's truth is what its strokes say: a clear mark's strokes lie at the truth's
    target; a double mark has strokes at two targets and needs a person; a correction's fill
    lies on another target than the truth; a blank, a dot or a speck is no answer."""
    layout = foreign_deck.read_layout(_layout_file(tmp_path, form_id))
    rng = np.random.default_rng(5)
    pen = foreign_deck.pick_pen(rng)
    seen = set()
    for _ in range(12):
        for per in layout.targets.values():
            for qid, targets in per.items():
                qtype = layout.questions[qid][0]
                d = foreign_deck.style_question(rng, targets, qtype, pen)
                seen.add(d.style)
                by_option = {t.option: t for t in targets}
                if qtype == "multi":
                    codes = [c for c in d.truth.split("|") if c]
                    assert len(codes) == int(d.style.split("_")[1])
                    for code in codes:
                        assert any(_near(s, by_option[code], 7) for _, s in d.strokes)
                    continue
                if d.style in ("blank", "dot_near", "speck_near"):
                    assert d.truth == ""
                    assert len(d.strokes) == (0 if d.style == "blank" else 1)
                    continue
                if d.style == "double":
                    assert d.truth == foreign_deck.NEEDS_PERSON
                    marked = {t.option for t in targets if any(_near(s, t, 8) for _, s in d.strokes)}
                    assert marked == {d.params["option"], d.params["other"]}
                    continue
                assert d.truth == d.params["option"] and d.truth in by_option
                right = by_option[d.truth]
                # every stroke not drawn on the wrong target (a correction's) is at the right one
                wrong = by_option.get(str(d.params.get("other")))
                for role, s in d.strokes:
                    if wrong is not None and _near(s, wrong, 8):
                        assert d.style.startswith("correction")
                        assert role == "fill" or d.style == "correction_crossed"
                    else:
                        assert _near(s, right, 8), (d.style, role)
    expected = set(foreign_deck.BOX_STYLES) | (set(foreign_deck.DIGIT_STYLES) if form_id == "sipas" else set())
    assert expected <= seen


def test_foreign_deck_is_deterministic_and_marks_land_on_paper(tmp_path):
    path = _layout_file(tmp_path, "sipas")
    truths_a, pages_a = foreign_deck.deck_truths(3, 2, path)
    truths_b, pages_b = foreign_deck.deck_truths(3, 2, path)
    assert [t.truth for t in truths_a] == [t.truth for t in truths_b]
    assert all(np.array_equal(pages_a[n], pages_b[n]) for n in pages_a)
    # the last sheet's clear single marks put ink within a circle's reach of their target
    layout = foreign_deck.read_layout(path)
    for t in truths_a[-len(truths_a) // 2:]:
        if t.qtype != "single" or t.truth in ("", foreign_deck.NEEDS_PERSON) or t.style.startswith("correction"):
            continue
        target = next(x for x in layout.targets[t.page][t.question] if x.option == t.truth)
        ppm = foreign_deck.PX_PER_MM
        r = 6.0
        patch = pages_a[t.page][int((target.cy - r) * ppm):int((target.cy + r) * ppm),
                                int((target.cx - r) * ppm):int((target.cx + r) * ppm)]
        assert (patch.mean(axis=2) < 0.8).sum() > 20, (t.question, t.style)


def test_foreign_deck_judge():
    judge, person = foreign_deck.judge, foreign_deck.NEEDS_PERSON
    assert judge("3", "3", False) == "ok"
    assert judge("3", "4", False) == "silent_error"
    assert judge("3", "", False) == "silent_error"  # a mark read as blank
    assert judge("", "2", False) == "silent_error"  # a blank read as a mark
    assert judge("", "", True) == "flagged_clear"
    assert judge("3", "", True) == "flagged_clear"
    assert judge(person, "3", False) == "silent_error"
    assert judge(person, "", False) == "silent_error"
    assert judge(person, "", True) == "person_flagged"
    assert judge("3", None, False) == "not_read"


def test_foreign_deck_mix_draws_only_the_styles_asked(tmp_path):
    mix = foreign_deck.Mix.parse("double=1,circle_loose=2", "felt=1", "phone=1")
    assert mix.digit == {"double": 1.0, "circle_loose": 2.0}
    assert mix.box == {"double": 1.0}  # a shape given none of them keeps its own mix otherwise
    assert mix.pens == {"felt": 1.0} and mix.captures == {"phone": 1.0}
    assert foreign_deck.Mix.parse("box_tick=1", None).digit == foreign_deck.DIGIT_STYLES
    with pytest.raises(ValueError):
        foreign_deck.Mix.parse("circle=1", None)
    truths, _ = foreign_deck.deck_truths(4, 2, _layout_file(tmp_path, "mot-cua"), mix=mix)
    single = [t for t in truths if t.qtype == "single"]
    assert single and all(t.style == "double" and t.truth == foreign_deck.NEEDS_PERSON for t in single)
    assert {t.pen for t in truths} == {"felt"}
    # beside another mark a box is never scribbled over: a felt scribble is the rule's fill
    assert all(t.params["kind"] != "box_scribble" and t.params["kind2"] != "box_scribble" for t in single)


def test_pencil_tone_reads_a_line_on_its_own_footprint():
    """benchmarks/pencil_tone.py: a solid black line reads black over its footprint in either
    generator, and a lighter pen reads lighter (the measure is of the line, not the paper)."""
    import pencil_tone

    rng = np.random.default_rng(3)
    black = foreign_deck.Pen("black", (0.0, 0.0, 0.0), 0.5, 1.0, False, 1.0)
    assert pencil_tone.foreign_grey(black, rng) < 40
    assert pencil_tone.our_grey(pencil_tone.ink.Pen("black", 0, 0.5, 0.0, 0.0), rng) < 40
    light = foreign_deck.Pen("light", (0.0, 0.0, 0.0), 0.5, 0.3, False, 1.0)
    assert 150 < pencil_tone.foreign_grey(light, rng) < 230
    assert 180 < pencil_tone.our_grey(pencil_tone.ink.Pen("grey", 210, 0.5, 0.0, 0.0), rng) < 225
