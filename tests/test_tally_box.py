"""End to end: a generated ballot box, scanned in two batches, reviewed by a "person" who
decides every flag from the truth; the tally must then equal the counts computed from the
truth, exactly, for every question and every grouping. An answer the machine read wrongly
without flagging it would make the two differ: that is the silent wrong count this guards
against."""
from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from forms.library import load_form
from pipeline.outputs.tally import Units, period_value, scan_day, tally

pytestmark = pytest.mark.slow

SHEETS = 24
SEED = 11


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """(form, truth, responses frame, serial -> batch name, workspace) of a scanned box."""
    from fixtures.box import make_ballot_box
    from pipeline.outputs.export import responses_frame
    from pipeline.scan.driver import scan
    from pipeline.store.database import open_store
    from pipeline.store.survey import init_survey

    root = tmp_path_factory.mktemp("box")
    truth = make_ballot_box("mot-cua", SHEETS, root / "box", seed=SEED, mix={"scan": 1.0},
                            pages_per_file=SHEETS // 2)
    survey = init_survey(root / "ws", ["mot-cua"])
    files = sorted((root / "box").glob("batch-*.pdf"))
    assert len(files) == 2
    batch_of_file = {}
    for number, path in enumerate(files, start=1):
        scan(survey, [path], batch=f"hop-{number}", jobs=1)
        batch_of_file[path.name] = f"hop-{number}"
    form = load_form("mot-cua")
    store = open_store(survey.store_url)
    responses = responses_frame(store, form)
    store.engine.dispose()
    batches = {p.serial: batch_of_file[p.file] for p in truth.pages}
    return form, truth, responses, batches, survey.root


def _decided(question, truth_question) -> str:
    """What a careful person records: the clearly marked option(s); two marks on a
    single-choice question are no valid answer."""
    codes = truth_question.expected
    if question.type == "single" and len(codes) > 1:
        return ""
    return "|".join(codes)


def _reviewed(form, truth, responses: pd.DataFrame) -> pd.DataFrame:
    """`responses` after a person decided every open flag from the truth."""
    out = responses.copy()
    for row in out.index:
        status, flagged = out.at[row, "status"], str(out.at[row, "flagged"] or "")
        if status != "needs_review":
            continue
        sheet = truth.sheet(int(out.at[row, "serial"]))
        waiting = set(filter(None, flagged.split("|")))
        # A sheet-level flag (no question named) makes the person check the whole sheet.
        to_decide = waiting or {q.id for q in form.questions() if q.type != "text"}
        for question in form.questions():
            if question.id in to_decide and question.type != "text":
                out.at[row, question.id] = _decided(question, sheet.question(question.id))
        out.at[row, "flagged"] = ""
        out.at[row, "status"] = "reviewed"
    return out


def _truth_counts(form, truth, serials, key) -> Counter:
    """(group, question, option) -> sheets, from the truth alone."""
    counts: Counter = Counter()
    for serial in serials:
        sheet = truth.sheet(serial)
        for group in {"all", key(sheet)}:
            for question in form.questions():
                if question.type == "text":
                    continue
                value = _decided(question, sheet.question(question.id))
                for code in value.split("|") if value else ["no_answer"]:
                    counts[(group, question.id, code)] += 1
    return counts


def _tally_counts(result) -> Counter:
    return Counter({(r.group, r.question, r.option): r.count for r in result.rows if r.count})


def test_most_sheets_were_read(scanned):
    form, truth, responses, *_ = scanned
    # Pages the reader could not register are reported in pages.csv, not tallied; the
    # comparison below is over the sheets that were read. Guard that it covers most.
    assert len(responses) >= SHEETS * 0.75


@pytest.mark.parametrize("grouping", ["all", "linh_vuc", "batch", "month", "unit_question",
                                      "unit_batch", "channel"])
def test_reviewed_tally_equals_the_truth(scanned, grouping):
    form, truth, responses, batches, _ = scanned
    reviewed = _reviewed(form, truth, responses)
    serials = [int(s) for s in reviewed["serial"]]
    if grouping == "all":
        result, key = tally(form, reviewed), (lambda sheet: "all")
    elif grouping == "batch":
        result, key = tally(form, reviewed, by="batch"), (lambda sheet: batches[sheet.serial])
    elif grouping == "unit_question":
        # units named in survey.yaml by the answer to the field question (issue 13)
        units = Units("question", "linh_vuc", (("ho_tich", "Phòng Hộ tịch"),))
        result = tally(form, reviewed, by="unit", units=units)
        assert result.group_label("ho_tich") == "Phòng Hộ tịch"

        def key(sheet):
            return _decided(form.question("linh_vuc"), sheet.question("linh_vuc")) or "no_answer"
    elif grouping == "unit_batch":
        units = Units("batch", names=(("hop-1", "UBND xã A"), ("hop-2", "UBND xã B")))
        result, key = tally(form, reviewed, by="unit", units=units), (
            lambda sheet: batches[sheet.serial])
        assert [g.label for g in result.groups[1:]] == ["UBND xã A", "UBND xã B"]
    elif grouping == "channel":
        result, key = tally(form, reviewed, by="channel"), (lambda sheet: "paper")
    elif grouping == "month":
        months = {int(s): period_value(scan_day(m), "month")
                  for s, m in zip(reviewed["serial"], reviewed["scanned_at"])}
        result, key = tally(form, reviewed, period="month"), (lambda sheet: months[sheet.serial])
    else:
        def key(sheet):
            value = _decided(form.question("linh_vuc"), sheet.question("linh_vuc"))
            return value or "no_answer"
        result = tally(form, reviewed, by="linh_vuc")
    assert not result.provisional
    assert _tally_counts(result) == _truth_counts(form, truth, serials, key)


def test_before_review_the_tally_is_provisional_and_never_counts_a_flagged_answer(scanned):
    form, truth, responses, *_ = scanned
    result = tally(form, responses)
    open_sheets = int((responses["status"] == "needs_review").sum())
    assert bool(result.provisional) == (open_sheets > 0)
    assert result.provisional.sheets_to_review == open_sheets
    # Every count the machine made on its own equals the truth; the rest waits.
    reviewed = tally(form, _reviewed(form, truth, responses))
    for before, after in zip(result.rows, reviewed.rows):
        assert (before.group, before.question, before.option) == (after.group, after.question, after.option)
        if before.option not in ("no_answer", "to_review"):
            assert before.count <= after.count, before


def test_cli_tally_and_report_on_the_scanned_box(scanned, run_phieu, tmp_path):
    import subprocess

    form, truth, responses, _, root = scanned
    run = run_phieu("tally", "--survey", root, "--by", "batch")
    assert run.code == 0, run.err
    assert f"{len(responses)} phiếu được tính" in run.out and "hop-2" in run.out
    open_sheets = int((responses["status"] == "needs_review").sum())
    assert ("Số liệu tạm tính" in run.out) == (open_sheets > 0)
    run = run_phieu("report", "--survey", root, "-o", tmp_path / "r.pdf")
    assert run.code == 0, run.err
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG" in text and "SỞ TƯ PHÁP" in text
    run = run_phieu("report", "--survey", root, "-o", tmp_path / "r.html")
    assert run.code == 0, run.err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Chỉ số hài lòng chung" in html


def test_decisions_recorded_by_review_change_the_tally_to_the_truth(scanned, tmp_path):
    """The same, through the store: every open question flag decided with `phieu review set`'s
    function (`pipeline.review.set_answer`) from the truth; the exported responses then tally
    as the truth (on a copy of the workspace, so the other tests keep theirs)."""
    import shutil

    from pipeline.outputs.export import responses_frame
    from pipeline.outputs.report.source import whole_sheet_flags
    from pipeline.review import build_form_catalog, set_answer
    from pipeline.store.database import open_store
    from pipeline.store.survey import load_survey

    form, truth, responses, _, root = scanned
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    survey = load_survey(copy)
    store = open_store(survey.store_url)
    catalog = build_form_catalog([form])
    before = tally(form, responses_frame(store, form))
    decided = 0
    for serial, flagged in zip(responses["serial"], responses["flagged"]):
        for qid in filter(None, str(flagged or "").split("|")):
            question = form.question(qid)
            if question.type == "text":
                value = truth.sheet(int(serial)).question(qid).text or "none"
            else:
                value = _decided(question, truth.sheet(int(serial)).question(qid)) or "none"
            set_answer(store.engine, catalog, int(serial), qid, value, reviewer="kiểm thử")
            decided += 1
    after_frame = responses_frame(store, form)
    whole = whole_sheet_flags(store, form)
    store.engine.dispose()
    after = tally(form, after_frame, whole_sheet_review=whole)
    if decided:
        assert after.provisional.answers_to_review < before.provisional.answers_to_review
        assert _tally_counts(after) != _tally_counts(before)
    # Sheets whose whole sheet still waits (no question to decide) keep their answers out.
    waiting = {int(s) for s in whole}
    serials = [int(s) for s in after_frame["serial"] if int(s) not in waiting]
    counted = after_frame[~after_frame["serial"].astype(int).isin(waiting)]
    assert _tally_counts(tally(form, counted)) == _truth_counts(
        form, truth, serials, lambda sheet: "all")


def test_two_page_sipas_box_tallies_as_the_truth_by_age_group(tmp_path):
    """SIPAS: two pages per sheet joined by serial, digits circled; by `do_tuoi` as well."""
    from fixtures.box import make_ballot_box
    from pipeline.outputs.export import responses_frame
    from pipeline.scan.driver import scan
    from pipeline.store.database import open_store
    from pipeline.store.survey import init_survey

    truth = make_ballot_box("sipas", 12, tmp_path / "box", seed=4, mix={"scan": 1.0},
                            pages_per_file=24)
    survey = init_survey(tmp_path / "ws", ["sipas"])
    scan(survey, sorted((tmp_path / "box").glob("batch-*.pdf")), batch="hop-1", jobs=1)
    form = load_form("sipas")
    store = open_store(survey.store_url)
    reviewed = _reviewed(form, truth, responses_frame(store, form))
    store.engine.dispose()
    serials = [int(s) for s in reviewed["serial"]]
    assert len(serials) >= 9

    def age(sheet):
        return _decided(form.question("do_tuoi"), sheet.question("do_tuoi")) or "no_answer"

    result = tally(form, reviewed, by="do_tuoi")
    assert _tally_counts(result) == _truth_counts(form, truth, serials, age)
    overall = result.index_row("all", "overall", "all")
    scale = [q for q in form.questions() if q.scale]
    expected_valid = sum(1 for s in serials for q in scale
                         if _decided(q, truth.sheet(s).question(q.id)))
    assert overall.valid == expected_valid
