"""Keying in a page the reader could not read (its QR code painted over), from the store,
the command line, the web app and a real browser; and responses.csv telling the whole
truth about a sheet (a whole-sheet flag puts its questions in `flagged`, `sheet_flags`)."""
from __future__ import annotations

import csv
import re
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from forms.layout import layout_form
from forms.library import load_form
from pipeline.outputs.export import pages_frame, responses_csv_frame
from pipeline.outputs.tally import tally
from pipeline.review import (
    ReviewError,
    audit_frame,
    build_form_catalog,
    create_app,
    decide,
    keying,
    undo,
)
from pipeline.review.claims import claim, release
from pipeline.review.items import entry_for_flag, option_keys
from pipeline.review.keying import KeyIn, key_in, page_questions
from pipeline.store import schema
from pipeline.store.database import open_store
from pipeline.store.survey import load_survey, load_survey_forms

try:
    from tests.keying_support import build_keying_box, typed_answers
    from tests.review_support import copy_workspace, review_server, signed_in
except ImportError:  # tests/ itself on sys.path
    from keying_support import build_keying_box, typed_answers
    from review_support import copy_workspace, review_server, signed_in

pytestmark = pytest.mark.slow

# The questions printed on page 2 of the shipped SIPAS form, from its layout.
SIPAS_PAGE2 = [q for q, page in layout_form(load_form("sipas")).question_pages.items() if page == 2]


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return build_keying_box(tmp_path_factory.mktemp("keying-box"))


@pytest.fixture
def ws(box, tmp_path):
    """(survey, store, catalog, forms by id) of a private copy of the scanned workspace."""
    survey = load_survey(copy_workspace(box.workspace, tmp_path / "ws"))
    store = open_store(survey.store_url)
    forms = load_survey_forms(survey)
    yield survey, store, build_form_catalog(forms), {f.id: f for f in forms}
    store.engine.dispose()


def _flag_of(store, path: Path) -> int:
    """The id of the open page flag of the page scanned from `path`."""
    p, src, f = schema.pages, schema.sources, schema.flags
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(f.c.id).join(p, p.c.id == f.c.page_id).join(src, src.c.id == p.c.source_id)
            .where(src.c.path == str(path), f.c.question.is_(None))).scalar_one()


def _forget_reading(store, path: Path) -> None:
    """Make the page scanned from `path` one nothing identified (no QR code, and its print
    lined up with no known page: a corner torn off, say): no form, no machine answers.
    Every answer is then keyed, as before print identification."""
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.begin() as conn:
        page_id = conn.execute(sa.select(p.c.id).join(src, src.c.id == p.c.source_id)
                               .where(src.c.path == str(path))).scalar_one()
        conn.execute(sa.delete(pa).where(pa.c.page_id == page_id))
        conn.execute(sa.update(p).where(p.c.id == page_id).values(
            form=None, version=None, page_number=None))


def _machine(store, path: Path) -> dict[str, tuple[str, str, str]]:
    """question -> (status, value, reasons) the machine read on the page from `path`."""
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.connect() as conn:
        return {r.question: (r.status, r.value, r.reasons) for r in conn.execute(
            sa.select(pa.c.question, pa.c.status, pa.c.value, pa.c.reasons)
            .join(p, p.c.id == pa.c.page_id).join(src, src.c.id == p.c.source_id)
            .where(src.c.path == str(path)))}


def _rows(store, form) -> dict[int, dict]:
    frame = responses_csv_frame(store, form)
    return {int(r["serial"]): r for r in frame.to_dict("records")}


def _page_of(store, path: Path) -> dict:
    frame = pages_frame(store)
    return frame[frame.source == str(path)].iloc[0].to_dict()


def _keyed(box, form, catalog, serial, page, by_key=False) -> dict[str, str]:
    truth = (box.sipas if form.id == "sipas" else box.mot_cua).sheet(serial)
    questions = [q.id for q in page_questions(catalog, form, page)]
    typed = typed_answers(truth, questions)
    if by_key:
        for q in page_questions(catalog, form, page):
            if q.type != "text" and typed[q.id] != "none":
                keys = option_keys(q)
                typed[q.id] = "".join(keys[c] for c in typed[q.id].split("|"))
            elif typed[q.id] == "none":
                typed[q.id] = "0"
    return typed


def _expected(typed: dict[str, str]) -> dict[str, str]:
    return {q: ("" if v == "none" else v) for q, v in typed.items()}


# --- responses.csv tells the whole truth ------------------------------------------------


def test_a_missing_page_puts_its_questions_in_flagged_and_names_the_flag(ws):
    _, store, _, forms = ws
    row = _rows(store, forms["sipas"])[101]
    assert row["status"] == "needs_review" and row["sheet_flags"] == "missing_page"
    flagged = set(row["flagged"].split("|"))
    assert set(SIPAS_PAGE2) <= flagged
    assert all(row[q] == "" for q in SIPAS_PAGE2)
    assert "gioi_tinh" not in flagged and row["gioi_tinh"] != ""  # page 1 was read
    assert list(responses_csv_frame(store, forms["sipas"]).columns[:4]) == [
        "serial", "status", "flagged", "sheet_flags"]


def test_a_responses_csv_read_back_is_tallied_as_the_store(ws, tmp_path):
    _, store, _, forms = ws
    form = forms["sipas"]
    out = tmp_path / "responses.csv"
    responses_csv_frame(store, form).to_csv(out, index=False)
    frame = pd.read_csv(out, dtype=str).fillna("")
    frame["batch"], frame["scanned_at"] = "hop-1", ""
    result = tally(form, frame)
    waiting = {(t.question, t.to_review) for t in result.totals if t.group == "all"}
    assert ("b07", 1) in waiting and ("gioi_tinh", 1) in waiting  # the whole sheet waits


# --- keying in from the store -----------------------------------------------------------


def test_keying_the_missing_page_counts_the_sheet_and_undo_restores_it(ws, box):
    survey, store, catalog, forms = ws
    form = forms["sipas"]
    flag = _flag_of(store, box.files["page2"])
    typed = _keyed(box, form, catalog, 101, 2)
    record = key_in(store.engine, catalog, flag, KeyIn("sipas", "101", typed, page=2),
                    reviewer="Lê Thị Hoa", based_on=0)
    assert record.action == "key_in" and "b07=" in record.value and "101" in record.value
    row = _rows(store, form)[101]
    assert row["status"] == "reviewed" and row["flagged"] == "" and row["sheet_flags"] == ""
    assert {q: row[q] for q in SIPAS_PAGE2} == _expected(typed)
    page = _page_of(store, box.files["page2"])
    assert (page["status"], page["reason"], page["serial"], page["form"]) == (
        "read", "keyed", 101, "sipas")
    counts = {t.question: t for t in tally(form, responses_frame_of(store, form)).totals}
    assert counts["b07"].to_review == 0 and counts["b07"].valid + counts["b07"].no_answer == 1
    audit = audit_frame(store)
    keyed = audit[audit.action == "key_in"].iloc[0]
    assert keyed["reviewer"] == "Lê Thị Hoa" and keyed["serial"] == 101
    assert all(f"{q}=" in keyed["value"] for q in SIPAS_PAGE2)

    undone = undo(store.engine, flag, reviewer="Lê Thị Hoa", based_on=1)
    assert _listed(undone.after_text, keying.TAKEN_WORDS) == set(SIPAS_PAGE2)  # said in the audit
    row = _rows(store, form)[101]
    assert row["status"] == "needs_review" and row["sheet_flags"] == "missing_page"
    assert all(row[q] == "" for q in SIPAS_PAGE2)
    assert _page_of(store, box.files["page2"])["status"] == "failed"
    with store.engine.connect() as conn:
        assert entry_for_flag(conn, flag).open


def responses_frame_of(store, form):
    from pipeline.outputs.export import responses_frame

    return responses_frame(store, form)


def test_keying_a_page_of_a_sheet_never_read_creates_the_sheet(ws, box, tmp_path):
    survey, store, catalog, forms = ws
    form = forms["mot-cua"]
    assert 3 not in _rows(store, form)
    typed = _keyed(box, form, catalog, 3, 1) | {"y_kien": "Thủ tục nhanh, cán bộ vui vẻ."}
    key_in(store.engine, catalog, _flag_of(store, box.files["new"]),
           KeyIn("mot-cua", " 3 ", typed), reviewer="An", based_on=0)
    row = _rows(store, form)[3]
    assert row["status"] == "reviewed" and row["flagged"] == "" and row["sheet_flags"] == ""
    assert {q: row[q] for q in typed} == _expected(typed)
    from pipeline.outputs.export import comments_frame

    comments = comments_frame(store)
    assert "Thủ tục nhanh, cán bộ vui vẻ." in set(comments[comments.serial == 3].text)

    flag = _flag_of(store, box.files["new"])
    with pytest.raises(ReviewError, match="keyed in"):  # its answers would stay counted
        decide(store.engine, catalog, flag, action="reject_page", value="", reviewer="An",
               based_on=1)
    undo(store.engine, flag, reviewer="An", based_on=1)
    assert 3 not in _rows(store, form)
    s = schema.sheets
    with store.engine.connect() as conn:  # the sheet the key-in made is gone with it
        assert conn.execute(sa.select(sa.func.count()).select_from(s).where(
            s.c.form == "mot-cua", s.c.serial == 3)).scalar_one() == 0
    assert 3 not in set(comments_frame(store).serial)
    assert _page_of(store, box.files["new"])["status"] == "failed"


def test_a_keyed_copy_of_a_counted_page_is_a_flagged_duplicate_never_counted_twice(ws, box):
    _, store, catalog, forms = ws
    form = forms["mot-cua"]
    before = _rows(store, form)
    typed = {q: "none" for q in _keyed(box, form, catalog, 1, 1)}
    flag = _flag_of(store, box.files["copy"])
    key_in(store.engine, catalog, flag, KeyIn("mot-cua", "1", typed), reviewer="An",
           based_on=0)
    after = _rows(store, form)
    assert len(after) == len(before)
    row = after[1]
    assert row["status"] == "needs_review" and row["sheet_flags"] == "duplicate"
    questions = [q.id for q in form.questions()]
    assert row["flagged"] == "|".join(questions)
    assert {q: row[q] for q in questions} == {q: before[1][q] for q in questions}  # not keyed over
    page = _page_of(store, box.files["copy"])
    assert (page["status"], page["serial"]) == ("duplicate", 1)

    # Undone, it is an unreadable page again, and can be keyed as the sheet it really is.
    undo(store.engine, flag, reviewer="An", based_on=1)
    assert _rows(store, form)[1]["sheet_flags"] == ""
    typed = _keyed(box, form, catalog, 3, 1)
    key_in(store.engine, catalog, flag, KeyIn("mot-cua", "3", typed), reviewer="An",
           based_on=2)
    assert _rows(store, form)[3]["status"] == "reviewed"


def test_keying_refuses_what_does_not_fit(ws, box):
    _, store, catalog, forms = ws
    flag = _flag_of(store, box.files["new"])
    good = _keyed(box, forms["mot-cua"], catalog, 3, 1)

    def refused(keyed: KeyIn, match: str) -> None:
        with pytest.raises(ReviewError, match=match):
            key_in(store.engine, catalog, flag, keyed, reviewer="An", based_on=0)

    refused(KeyIn("khong-co", "3", good), "khong-co")
    refused(KeyIn("sipas", "3", good, page=3), "no page 3")
    refused(KeyIn("sipas", "3", good), "2 pages")
    refused(KeyIn("mot-cua", "abc", good), "abc")
    refused(KeyIn("mot-cua", "3", good | {"thai_do": ""}), "thai_do")
    refused(KeyIn("mot-cua", "3", good | {"thai_do": "9"}), "'9'")
    refused(KeyIn("mot-cua", "3", good | {"thai_do": "1|2"}), "one answer")
    refused(KeyIn("mot-cua", "3", good | {"b07": "1"}), "b07")
    assert 3 not in _rows(store, forms["mot-cua"])  # nothing half-written
    key_in(store.engine, catalog, flag, KeyIn("mot-cua", "3", good), reviewer="An", based_on=0)
    refused(KeyIn("mot-cua", "3", good), "version 0")  # stale: someone keyed it
    with pytest.raises(ReviewError, match="already"):
        key_in(store.engine, catalog, flag, KeyIn("mot-cua", "3", good), reviewer="An",
               based_on=1)


# --- a page the machine read by its print: the clerk types the serial ---------------------


def _unsure(store, path: Path) -> list[str]:
    return [q for q, (status, _, _) in _machine(store, path).items() if status == "flagged"]


def _listed(value: str, words: str) -> set[str]:
    """The questions an audit value lists after `words` (up to the next ` | `)."""
    if words not in value:
        return set()
    part = value.split(words + ": ", 1)[1].split(" | ", 1)[0]
    return {q.split(" (", 1)[0] for q in part.split(", ")}


CONFIRMED_WORDS = "máy đọc, người xác nhận / the machine's, confirmed"
UNSURE_WORDS = "máy chưa chắc, người nhập / the machine unsure, keyed"
CHANGED_WORDS = "người sửa máy đọc / keyed over the machine's"


def test_a_page_read_by_its_print_keeps_its_reading_and_counts_for_nothing_until_keyed(ws, box):
    _, store, catalog, forms = ws
    sipas = forms["sipas"]
    page = _page_of(store, box.files["page2"])
    assert (page["status"], page["reason"], page["form"]) == ("failed", "qr_unreadable", "sipas")
    assert pd.isna(page["serial"])  # no serial is made up
    p, src = schema.pages, schema.sources
    with store.engine.connect() as conn:
        registered, sheet = conn.execute(
            sa.select(p.c.image_registered, p.c.sheet_id).join(src, src.c.id == p.c.source_id)
            .where(src.c.path == str(box.files["page2"]))).one()
    assert registered and sheet is None  # crops come from the layout; on no sheet
    read = _machine(store, box.files["page2"])
    assert set(read) == set(SIPAS_PAGE2) and not _unsure(store, box.files["page2"])
    assert {q: value for q, (_, value, _) in read.items()} == _expected(
        _keyed(box, sipas, catalog, 101, 2))  # what the paper says
    row = _rows(store, sipas)[101]  # ...but not counted: the sheet still lacks its page 2
    assert row["sheet_flags"] == "missing_page" and all(row[q] == "" for q in SIPAS_PAGE2)
    counts = {t.question: t for t in tally(sipas, responses_frame_of(store, sipas)).totals}
    assert counts["b07"].to_review == 1 and counts["b07"].valid == 0
    assert 3 not in _rows(store, forms["mot-cua"])  # sheet 3, read only by its print: no row


def test_typing_only_the_serial_counts_the_machines_reading_as_reviewed(ws, box):
    _, store, catalog, forms = ws
    sipas = forms["sipas"]
    flag = _flag_of(store, box.files["page2"])
    record = key_in(store.engine, catalog, flag, KeyIn("", "101", {}), reviewer="Hoa",
                    based_on=0)
    truth = _expected(_keyed(box, sipas, catalog, 101, 2))
    row = _rows(store, sipas)[101]
    assert row["status"] == "reviewed" and row["flagged"] == "" and row["sheet_flags"] == ""
    assert {q: row[q] for q in SIPAS_PAGE2} == truth
    a, s = schema.answers, schema.sheets
    with store.engine.connect() as conn:  # a person's answers, as any key-in
        sources = set(conn.execute(sa.select(a.c.source).join(s, s.c.id == a.c.sheet_id).where(
            s.c.serial == 101, a.c.question.in_(SIPAS_PAGE2))).scalars())
    assert sources == {"person"}
    assert _listed(record.value, CONFIRMED_WORDS) == set(SIPAS_PAGE2)
    assert UNSURE_WORDS not in record.value and CHANGED_WORDS not in record.value
    audit = audit_frame(store)
    keyed = audit[audit.action == "key_in"].iloc[0]
    assert keyed["serial"] == 101 and keyed["reviewer"] == "Hoa"
    assert _listed(keyed["value"], CONFIRMED_WORDS) == set(SIPAS_PAGE2)

    # Undone, the page waits again with its reading; keyed again with one answer changed.
    undo(store.engine, flag, reviewer="Hoa", based_on=1)
    assert _rows(store, sipas)[101]["sheet_flags"] == "missing_page"
    assert set(_machine(store, box.files["page2"])) == set(SIPAS_PAGE2)
    other = "1" if truth["b07"] != "1" else "2"
    record = key_in(store.engine, catalog, flag, KeyIn("sipas", "101", {"b07": other}, page=2),
                    reviewer="Hoa", based_on=2)
    assert _listed(record.value, CHANGED_WORDS) == {"b07"}
    assert f"b07 (máy/machine {truth['b07'] or '-'})" in record.value
    assert _listed(record.value, CONFIRMED_WORDS) == set(SIPAS_PAGE2) - {"b07"}
    assert _rows(store, sipas)[101]["b07"] == other


def test_a_comment_the_machine_read_keeps_its_handwriting_crop_once_keyed(ws, box):
    _, store, catalog, _ = ws
    path = box.files["page2"]
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.begin() as conn:  # as if the citizen had written on page 2
        page_id = conn.execute(sa.select(p.c.id).join(src, src.c.id == p.c.source_id)
                               .where(src.c.path == str(path))).scalar_one()
        conn.execute(sa.update(pa).where(pa.c.page_id == page_id, pa.c.question == "y_kien")
                     .values(status="answered", value="Cán bộ tận tình", confidence=91.0,
                             crop_path="images/s00006/p0001/y_kien.png"))
    record = key_in(store.engine, catalog, _flag_of(store, path), KeyIn("", "101", {}),
                    reviewer="Hoa", based_on=0)
    assert "y_kien" in _listed(record.value, CONFIRMED_WORDS)
    from pipeline.outputs.export import comments_frame

    comments = comments_frame(store)
    row = comments[comments.serial == 101].iloc[0]
    assert row["text"] == "Cán bộ tận tình" and row["shown_as"] == "person"
    assert str(row["crop"]).endswith("images/s00006/p0001/y_kien.png")
    # the machine's reading, confirmed by a person: its OCR confidence kept, not made 100
    assert row["confidence"] == 91.0
    audit = audit_frame(store)
    assert "y_kien" in _listed(audit[audit.action == "key_in"].iloc[0]["value"], CONFIRMED_WORDS)
    from pipeline.outputs.comments import SHOWN_LABELS

    assert "confirmed" in SHOWN_LABELS[row["shown_as"]]  # comments.xlsx's status says so


def test_a_comment_a_person_changed_or_typed_is_the_persons_at_full_confidence(ws, box):
    _, store, catalog, _ = ws
    path = box.files["page2"]
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.begin() as conn:
        page_id = conn.execute(sa.select(p.c.id).join(src, src.c.id == p.c.source_id)
                               .where(src.c.path == str(path))).scalar_one()
        conn.execute(sa.update(pa).where(pa.c.page_id == page_id, pa.c.question == "y_kien")
                     .values(status="answered", value="Can bo tan tinh", confidence=88.0))
    key_in(store.engine, catalog, _flag_of(store, path),
           KeyIn("", "101", {"y_kien": "Cán bộ tận tình"}), reviewer="Hoa", based_on=0)
    from pipeline.outputs.export import comments_frame

    comments = comments_frame(store)
    row = comments[comments.serial == 101].iloc[0]
    assert (row["text"], row["shown_as"], row["confidence"]) == ("Cán bộ tận tình", "person", 100.0)


def test_what_the_machine_was_unsure_of_is_left_to_the_clerk_with_its_reason(ws, box):
    _, store, catalog, forms = ws
    form = forms["mot-cua"]
    path = box.files["new"]
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.begin() as conn:  # the reader unsure of thai_do (besides what it was)
        page_id = conn.execute(sa.select(p.c.id).join(src, src.c.id == p.c.source_id)
                               .where(src.c.path == str(path))).scalar_one()
        conn.execute(sa.update(pa).where(pa.c.page_id == page_id, pa.c.question == "thai_do")
                     .values(status="flagged", value="", reasons="marginal"))
    unsure = _unsure(store, path)
    flag = _flag_of(store, path)
    with pytest.raises(ReviewError) as refused:
        key_in(store.engine, catalog, flag, KeyIn("", "3", {}), reviewer="An", based_on=0)
    assert all(q in str(refused.value) for q in unsure)
    assert "thai_do (máy chưa chắc / machine unsure: marginal)" in str(refused.value)
    with pytest.raises(ReviewError, match="thai_do"):  # an empty field is not an answer
        key_in(store.engine, catalog, flag, KeyIn("", "3", {"thai_do": ""}), reviewer="An",
               based_on=0)
    assert 3 not in _rows(store, form)  # nothing half-written
    truth = _keyed(box, form, catalog, 3, 1)
    record = key_in(store.engine, catalog, flag, KeyIn("", "3", {q: truth[q] for q in unsure}),
                    reviewer="An", based_on=0)
    assert _listed(record.value, UNSURE_WORDS) == set(unsure)
    assert "thai_do (marginal)" in record.value
    row = _rows(store, form)[3]
    assert row["status"] == "reviewed" and row["flagged"] == ""
    assert {q: row[q] for q in truth} == _expected(truth)


def test_typing_the_serial_of_a_sheet_counted_already_makes_a_flagged_duplicate(ws, box):
    _, store, catalog, forms = ws
    form = forms["mot-cua"]
    before = _rows(store, form)
    counted = {t.question: t for t in tally(form, responses_frame_of(store, form)).totals}
    path = box.files["copy"]  # sheet 1 again, its QR code painted over: read by its print
    truth = _keyed(box, form, catalog, 1, 1)
    key_in(store.engine, catalog, _flag_of(store, path),
           KeyIn("", "1", {q: truth[q] for q in _unsure(store, path)}), reviewer="An",
           based_on=0)
    after = _rows(store, form)
    assert len(after) == len(before)
    assert after[1]["sheet_flags"] == "duplicate" and after[1]["status"] == "needs_review"
    questions = [q.id for q in form.questions()]
    assert {q: after[1][q] for q in questions} == {q: before[1][q] for q in questions}
    assert _page_of(store, path)["status"] == "duplicate"
    # counted once: nothing the duplicate holds reaches the tally
    again = {t.question: t for t in tally(form, responses_frame_of(store, form)).totals}
    assert again["thai_do"].valid + again["thai_do"].to_review == (
        counted["thai_do"].valid + counted["thai_do"].to_review)


def test_phieu_review_key_with_only_the_serial(ws, box, run_phieu):
    survey, store, _, forms = ws
    flag = _flag_of(store, box.files["page2"])
    done = run_phieu("review", "key", flag, "--serial", "101", "--reviewer", "Hoa",
                     "--survey", survey.root)
    assert done.code == 0, done.err
    assert CONFIRMED_WORDS in done.out
    assert _rows(store, forms["sipas"])[101]["status"] == "reviewed"


def test_the_key_in_form_opens_filled_in_from_the_machines_reading(ws, box):
    _, store, catalog, forms = ws
    sipas = forms["sipas"]
    flag = _flag_of(store, box.files["page2"])
    client, token = _client(ws)
    shown = client.get(f"/item/{flag}").get_data(as_text=True)
    assert 'id="key-machine"' in shown
    assert re.search(r'<option value="sipas@1"\s+selected', shown)
    assert re.search(r'<option value="2"\s+selected', shown)
    keys = _keyed(box, sipas, catalog, 101, 2, by_key=True)
    block = shown.split('data-form="sipas@1" data-page="2"', 1)[1].split("</fieldset>", 1)[0]
    for q in SIPAS_PAGE2:
        if sipas.question(q).type == "text":
            continue
        field = re.search(rf'<input[^>]*name="ans:{q}"[^>]*>', block).group(0)
        assert "prefilled" in field and f'value="{keys[q]}"' in field, field
    # what the browser sends back as filled in: the serial is all that was typed
    fields = dict(re.findall(r'name="(ans:[^"]+)"[^>]*value="([^"]*)"', block))
    fields |= {f"ans:{q}": "" for q in SIPAS_PAGE2 if sipas.question(q).type == "text"}
    data = {"csrf": token, "version": "0", "form": "sipas@1", "page": "2", "serial": "101",
            **fields}
    assert client.post(f"/item/{flag}/key", data=data).status_code == 302
    assert _rows(store, sipas)[101]["status"] == "reviewed"


def test_an_unsure_answer_is_an_empty_field_marked_with_the_reason(ws, box):
    _, store, _, _ = ws
    path = box.files["new"]
    was = _machine(store, path)["thai_do"][1]  # the option it marked: ink seen there
    p, pa, src = schema.pages, schema.page_answers, schema.sources
    with store.engine.begin() as conn:
        page_id = conn.execute(sa.select(p.c.id).join(src, src.c.id == p.c.source_id)
                               .where(src.c.path == str(path))).scalar_one()
        conn.execute(sa.update(pa).where(pa.c.page_id == page_id, pa.c.question == "thai_do")
                     .values(status="flagged", value="", reasons="overvote"))
    client, _ = _client(ws)
    shown = client.get(f"/item/{_flag_of(store, path)}").get_data(as_text=True)
    block = shown.split('data-form="mot-cua@1" data-page="1"', 1)[1].split("</fieldset>", 1)[0]
    field = re.search(r'<input[^>]*name="ans:thai_do"[^>]*>', block).group(0)
    assert "unsure" in field and 'value=""' in field
    note = block.split('name="ans:thai_do"', 1)[1].split("</div>", 1)[0]
    assert "Máy chưa chắc" in note and "Chọn nhiều hơn một" in note
    assert f'máy thấy mực ở: <span class="guess">{was}</span>' in note


# --- the command line -----------------------------------------------------------------------


def test_phieu_review_key(ws, box, run_phieu, tmp_path):
    survey, store, catalog, forms = ws
    form = forms["mot-cua"]
    flag = _flag_of(store, box.files["new"])
    _forget_reading(store, box.files["new"])  # the form to be said, every answer keyed
    typed = _keyed(box, form, catalog, 3, 1)
    args = [f"{q}={v}" for q, v in typed.items()]
    bad = run_phieu("review", "key", flag, "--form", "mot-cua", "--serial", "3",
                    "--reviewer", "Hoa", *args[1:], "--survey", survey.root)
    assert bad.code == 5 and "linh_vuc" in bad.err and len(bad.err.strip().splitlines()) == 1
    several = run_phieu("review", "key", flag, "--serial", "3", "--reviewer", "Hoa", *args,
                        "--survey", survey.root)
    assert several.code == 5 and "--form" in several.err  # two forms: say which
    with store.engine.begin() as conn:  # a clerk has the item open in a browser
        claim(conn, entry_for_flag(conn, flag).subject, "browser:lan", "Lan", seconds=300)
    held = run_phieu("review", "key", flag, "--form", "mot-cua", "--serial", "3",
                     "--reviewer", "Hoa", *args, "--survey", survey.root)
    assert held.code == 7 and "Lan holds item" in held.err and "UTC" in held.err
    assert "--force" not in held.err  # `review key` offers none
    with store.engine.begin() as conn:
        release(conn, "browser:lan")
    done = run_phieu("review", "key", flag, "--form", "mot-cua", "--serial", "3",
                     "--reviewer", "Hoa", *args, "--survey", survey.root)
    assert done.code == 0, done.err
    out = tmp_path / "responses.csv"
    assert run_phieu("export", "responses", "--form", "mot-cua", "-o", out,
                     "--survey", survey.root).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        row = {r["serial"]: r for r in csv.DictReader(fh)}["3"]
    assert row["status"] == "reviewed" and {q: row[q] for q in typed} == _expected(typed)


# --- the web app -----------------------------------------------------------------------------


def _client(ws):
    survey, store, catalog, _ = ws
    return signed_in(create_app(survey, store, catalog), "Mai")


def test_a_sheet_item_shows_the_sheets_pages(ws):
    _, store, _, _ = ws
    f = schema.flags
    with store.engine.connect() as conn:
        missing = conn.execute(sa.select(f.c.id).where(f.c.reason == "missing_page")).scalar_one()
        sheet_page = conn.execute(sa.select(schema.pages.c.id).where(
            schema.pages.c.serial == 101, schema.pages.c.status == "read")).scalar_one()
    client, _ = _client(ws)
    shown = client.get(f"/item/{missing}").get_data(as_text=True)
    assert 'id="sheet-pages"' in shown and f"/image/page/{sheet_page}.jpg" in shown
    assert "Không có ảnh trang" not in shown
    assert client.get(f"/image/page/{sheet_page}.jpg").mimetype == "image/jpeg"


def test_the_web_app_keys_in_a_page_and_keeps_what_was_typed_on_an_error(ws, box, monkeypatch):
    _, store, catalog, forms = ws
    form = forms["mot-cua"]
    flag = _flag_of(store, box.files["new"])
    client, token = _client(ws)

    def laid_out_again(*args: object) -> None:
        raise AssertionError("the key-in form is built once, when the app starts")

    with monkeypatch.context() as m:
        m.setattr(keying, "page_questions", laid_out_again)
        page = client.get(f"/item/{flag}").get_data(as_text=True)
    assert 'id="keyin"' in page and 'id="key-serial"' in page and "/image/page/" in page
    typed = _keyed(box, form, catalog, 3, 1, by_key=True)
    data = {"csrf": token, "version": "0", "form": "mot-cua@1", "page": "1", "serial": "3",
            **{f"ans:{q}": v for q, v in typed.items()}}
    wrong = client.post(f"/item/{flag}/key", data=data | {"ans:thai_do": ""})
    assert wrong.status_code == 400
    shown = wrong.get_data(as_text=True)
    assert "thai_do" in shown and 'value="3"' in shown  # the serial typed is kept
    assert client.post(f"/item/{flag}/key", data=data).status_code == 302
    row = _rows(store, form)[3]
    assert {q: row[q] for q in typed} == _expected(_keyed(box, form, catalog, 3, 1))


# --- a real browser ----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.browser
def test_a_clerk_keys_in_an_unreadable_page_by_keyboard(ws, box, run_phieu, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh)")
    from playwright.sync_api import sync_playwright

    from pipeline.review import make_review_server

    survey, store, catalog, forms = ws
    form = forms["mot-cua"]
    flag = _flag_of(store, box.files["new"])
    _forget_reading(store, box.files["new"])  # every answer typed
    keys = _keyed(box, form, catalog, 3, 1, by_key=True)
    running = make_review_server(survey, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.goto(running.url)
            page.fill("#reviewer-input", "Trần Thị Mai")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.goto(running.url + f"item/{flag}")
            page.wait_for_function("document.getElementById('crop').naturalWidth > 0")
            page.select_option("#key-form", "mot-cua@1")
            page.focus("#key-serial")
            page.keyboard.type("3")
            page.keyboard.press("Enter")  # on to the first question
            questions = [q for q in page_questions(catalog, form, 1)]
            for q in questions:
                if q.type == "text":
                    page.keyboard.type("Rất hài lòng.")
                    break  # the last question: its Enter saves the page
                page.keyboard.type(keys[q.id])
                if q.type == "multi" or len(keys[q.id]) != 1:
                    page.keyboard.press("Enter")  # a single key moves on by itself
            page.screenshot(path="/tmp/review-keyin.png", full_page=True)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert f"/item/{flag}" not in page.url and "Đã lưu quyết định" in page.content()
            chromium.close()
    finally:
        running.shutdown()
        thread.join(timeout=5)

    expected = _expected(_keyed(box, form, catalog, 3, 1)) | {"y_kien": "Rất hài lòng."}
    out = tmp_path / "responses.csv"
    assert run_phieu("export", "responses", "--form", "mot-cua", "-o", out,
                     "--survey", survey.root).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        row = {r["serial"]: r for r in csv.DictReader(fh)}["3"]
    assert row["status"] == "reviewed" and {q: row[q] for q in expected} == expected
    tally_out = tmp_path / "tally.csv"
    assert run_phieu("tally", "--form", "mot-cua", "-o", tally_out,
                     "--survey", survey.root).code == 0
    with open(tally_out, encoding="utf-8-sig", newline="") as fh:
        counts = {(r["question"], r["option"]): int(r["count"]) for r in csv.DictReader(fh)
                  if r["group"] == "all"}
    # Sheets 1 and 2 were read by the machine; sheet 3 is the keyed one.
    rows = _rows(store, form)
    for q in ("thai_do", "cong_khai", "hai_long_chung"):
        code = expected[q] or "no_answer"
        assert counts[(q, code)] == sum(1 for r in rows.values() if (r[q] or "no_answer") == code)
        assert counts.get((q, "to_review"), 0) == 0
    audit = tmp_path / "audit.csv"
    assert run_phieu("export", "audit", "-o", audit, "--survey", survey.root).code == 0
    with open(audit, encoding="utf-8-sig", newline="") as fh:
        decisions = list(csv.DictReader(fh))
    assert len(decisions) == 1 and decisions[0]["action"] == "key_in"
    assert decisions[0]["reviewer"] == "Trần Thị Mai" and decisions[0]["serial"] == "3"
    assert "y_kien=Rất hài lòng." in decisions[0]["value"]
    assert all(f"{q}=" in decisions[0]["value"] for q in expected)


def _item_page(browser, url: str, flag: int):
    """A new browser page signed in as a clerk, on item `flag`, its page image shown."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.fill("#reviewer-input", "Trần Thị Mai")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(url + f"item/{flag}")
    page.wait_for_function("document.getElementById('crop').naturalWidth > 0")
    return page


@pytest.mark.browser
def test_a_clerk_keys_in_a_page_read_by_its_print_by_typing_only_its_serial(ws, box, browser,
                                                                           run_phieu, tmp_path):
    """Sheet 101's page 2, its QR code painted over: the machine read it by its print. The
    clerk opens it, sees the answers filled in beside the page, types 101 and Enter."""
    survey, store, catalog, forms = ws
    sipas = forms["sipas"]
    flag = _flag_of(store, box.files["page2"])
    with review_server(survey) as url:
        page = _item_page(browser, url, flag)
        assert page.is_visible("#key-machine")
        assert page.input_value("#key-form") == "sipas@1" and page.input_value("#key-page") == "2"
        assert page.evaluate("document.activeElement.id") == "key-serial"
        page.keyboard.type("101")
        page.screenshot(path="/tmp/review-keyin-by-print.png", full_page=True)
        with page.expect_navigation():
            page.keyboard.press("Enter")  # nothing left empty: Enter saves the page
        assert f"/item/{flag}" not in page.url and "Đã lưu quyết định" in page.content()
        page.close()

    truth = _expected(_keyed(box, sipas, catalog, 101, 2))
    out = tmp_path / "responses.csv"
    assert run_phieu("export", "responses", "--form", "sipas", "-o", out,
                     "--survey", survey.root).code == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        row = {r["serial"]: r for r in csv.DictReader(fh)}["101"]
    assert row["status"] == "reviewed" and row["sheet_flags"] == "" and row["flagged"] == ""
    assert {q: row[q] for q in SIPAS_PAGE2} == truth
    tally_out = tmp_path / "tally.csv"
    assert run_phieu("tally", "--form", "sipas", "-o", tally_out,
                     "--survey", survey.root).code == 0
    with open(tally_out, encoding="utf-8-sig", newline="") as fh:
        counts = {(r["question"], r["option"]): int(r["count"]) for r in csv.DictReader(fh)
                  if r["group"] == "all"}
    for q in ("b07", "b08", "b22"):  # sheet 101 is the survey's one sipas sheet
        assert counts[(q, truth[q] or "no_answer")] == 1
        assert counts.get((q, "to_review"), 0) == 0
    audit = tmp_path / "audit.csv"
    assert run_phieu("export", "audit", "-o", audit, "--survey", survey.root).code == 0
    with open(audit, encoding="utf-8-sig", newline="") as fh:
        decisions = list(csv.DictReader(fh))
    assert [d["action"] for d in decisions] == ["key_in"]
    assert decisions[0]["reviewer"] == "Trần Thị Mai" and decisions[0]["serial"] == "101"
    assert _listed(decisions[0]["value"], CONFIRMED_WORDS) == set(SIPAS_PAGE2)


def test_a_sure_answer_with_an_option_that_has_no_key_is_not_prefilled():
    """Options past the ninth have no key: a sure answer holding one is left for the
    clerk (its codes shown beside), never prefilled with the options that have keys."""
    from pipeline.review.items import MachineRead
    from pipeline.review.keying import KeyQuestion, _guess

    options = tuple((str(i) if i <= 9 else "", f"o{i}", f"option {i}") for i in range(1, 12))
    question = KeyQuestion("q", "?", "multi", options)
    both = _guess(question, MachineRead("answered", "o3|o11", (), ("o3", "o11"), None, None))
    assert both.value == "" and not both.sure and both.seen == "o3, o11"
    keyed = _guess(question, MachineRead("answered", "o3|o9", (), ("o3", "o9"), None, None))
    assert keyed.value == "39" and keyed.sure


# --- undoing a key-in the copy rule set back ----------------------------------------------


def _page2_again_from_page1s_file(store, box, catalog, unsure: str) -> None:
    """Page 2 of sheet 101 arrives from the file its page 1 came from (the counted copy's
    file), as the machine read it on the keyed page, `unsure` flagged: the copy rule sets
    the keyed page 2 (another file) back to `duplicate` and counts this one."""
    from omr.reading import PageIdentity, PageReading, QuestionReading
    from pipeline.scan.inputs import PageTask
    from pipeline.scan.recorder import record_page
    from pipeline.scan.templates import form_infos
    from pipeline.scan.workers import PageResult
    try:
        from tests.test_store import QUALITY
    except ImportError:  # pragma: no cover - run from tests/
        from test_store import QUALITY  # type: ignore[no-redef]

    read = _machine(store, box.files["page2"])
    questions = tuple(
        QuestionReading(q, "flagged", (), ("marginal",)) if q == unsure
        else QuestionReading(q, status, tuple(value.split("|")) if value else ())
        for q, (status, value, _) in read.items() if q != "y_kien")
    reading = PageReading(PageIdentity("sipas", 1, 2, 101), QUALITY, (), questions, ())
    src = schema.sources
    with store.engine.begin() as conn:
        source_id, batch_id = conn.execute(sa.select(src.c.id, src.c.batch_id).where(
            src.c.path.like("%b1-sipas-p1.png"))).one()
        task = PageTask(source_id, "b1-sipas-p1.png", "image", 2, 200)
        outcome = record_page(conn, PageResult(task, reading, None, None, 0.0, False, (), 0.0),
                              batch_id=batch_id, forms=form_infos(catalog.forms.values()),
                              relative=str, page_path=None, crop_paths={})
    assert outcome.status == "read"


def _person_answers(store, serial: int) -> dict[str, tuple[str, int]]:
    a, s = schema.answers, schema.sheets
    with store.engine.connect() as conn:
        return {q: (v, p) for q, v, p in conn.execute(
            sa.select(a.c.question, a.c.value, a.c.page_id).join(s, s.c.id == a.c.sheet_id)
            .where(s.c.serial == serial, a.c.source == "person"))}


def test_undoing_a_key_in_set_back_by_the_copy_rule_keeps_a_later_persons_answer(ws, box):
    """The keyed page 2 is set back (the counted copy's own page 2 arrived), a person then
    answers b07 on the counted copy; undoing the key-in removes only what it wrote (the
    set-back removed that already) and never that later answer."""
    _, store, catalog, forms = ws
    sipas = forms["sipas"]
    flag = _flag_of(store, box.files["page2"])
    key_in(store.engine, catalog, flag, KeyIn("", "101", {}), reviewer="Hoa", based_on=0)
    _page2_again_from_page1s_file(store, box, catalog, unsure="b07")
    assert _page_of(store, box.files["page2"])["status"] == "duplicate"
    assert _person_answers(store, 101) == {}  # the set-back took the key-in's answers
    f, s = schema.flags, schema.sheets
    with store.engine.connect() as conn:
        b07 = conn.execute(sa.select(f.c.id).join(s, s.c.id == f.c.sheet_id).where(
            s.c.serial == 101, f.c.question == "b07", f.c.status == "open")).scalar_one()
    truth = _expected(_keyed(box, sipas, catalog, 101, 2))
    given = "1" if truth["b07"] != "1" else "2"  # whatever the person read on the paper
    decide(store.engine, catalog, b07, action="answer", value=given, reviewer="Lan", based_on=0)
    later = _person_answers(store, 101)
    assert set(later) == {"b07"}

    record = undo(store.engine, flag, reviewer="Hoa", based_on=1)
    assert _person_answers(store, 101) == later  # the later decision's answer stands
    row = _rows(store, sipas)[101]
    assert row["b07"] == given and row["status"] == "reviewed" and row["sheet_flags"] == ""
    assert {q: row[q] for q in SIPAS_PAGE2 if q != "b07"} == {
        q: truth[q] for q in SIPAS_PAGE2 if q != "b07"}  # the counted copy's reading, once
    assert _page_of(store, box.files["page2"])["status"] == "failed"
    # the audit says what the undo left alone, and why
    assert _listed(record.after_text, keying.TAKEN_WORDS) == set()
    assert _listed(record.after_text, keying.KEPT_WORDS) == {"b07"}
    assert _listed(record.after_text, keying.GONE_WORDS) == set(SIPAS_PAGE2) - {"b07"}
    with store.engine.connect() as conn:  # the page waits to be keyed again, as a page item
        entry = entry_for_flag(conn, flag)
        assert entry.open and "duplicate" not in entry.reasons


def test_undoing_a_key_in_that_made_a_duplicate_keeps_the_persons_answers_on_the_sheet(ws, box):
    """A key-in that found its page counted already wrote no answer: its undo removes none,
    not even the answers a person gave on the counted copy."""
    from pipeline.store.database import open_flag

    _, store, catalog, forms = ws
    p, src, f = schema.pages, schema.sources, schema.flags
    with store.engine.begin() as conn:  # a person decided thai_do on sheet 1 as it was read
        page_id, sheet_id = conn.execute(sa.select(p.c.id, p.c.sheet_id).join(
            src, src.c.id == p.c.source_id).where(src.c.path.like("%a1-sheet1.png"))).one()
        open_flag(conn, reason="marginal", detail="test", sheet_id=sheet_id, page_id=page_id,
                  question="thai_do")
        thai_do = conn.execute(sa.select(f.c.id).where(f.c.question == "thai_do",
                                                       f.c.sheet_id == sheet_id)).scalar_one()
    decide(store.engine, catalog, thai_do, action="answer", value="3", reviewer="Lan",
           based_on=0)
    given = _person_answers(store, 1)
    assert given == {"thai_do": ("3", page_id)}
    flag = _flag_of(store, box.files["copy"])
    key_in(store.engine, catalog, flag, KeyIn("", "1", {q: "none" for q in _unsure(
        store, box.files["copy"])}), reviewer="An", based_on=0)
    assert _page_of(store, box.files["copy"])["status"] == "duplicate"
    undo(store.engine, flag, reviewer="An", based_on=1)
    assert _person_answers(store, 1) == given
    assert _rows(store, forms["mot-cua"])[1]["thai_do"] == "3"


# --- a comment keyed illegible ---------------------------------------------------------------

ILLEGIBLE_SHOWN = keying.ILLEGIBLE_SHOWN


def _illegible_row(store, serial: int, question: str = "y_kien") -> tuple[tuple, str]:
    """((the person's value, status) to `question` of sheet `serial`, how comments.csv
    publishes it)."""
    from pipeline.outputs.export import comments_frame

    a, s = schema.answers, schema.sheets
    with store.engine.connect() as conn:
        person = conn.execute(sa.select(a.c.value, a.c.status).join(s, s.c.id == a.c.sheet_id).where(
            s.c.serial == serial, a.c.question == question, a.c.source == "person")).one()
    comments = comments_frame(store)
    shown = comments[(comments.serial == serial) & (comments.question == question)].shown_as
    return tuple(person), "".join(shown)


def test_a_comment_keyed_illegible_is_recorded_as_the_transcription_review_records_it(ws, box):
    """Illegible is the person's `invalid` answer to the comment, as `Alt+X` in the
    transcription review: the report prints the handwriting's image, never a text."""
    _, store, catalog, forms = ws
    path = box.files["new"]
    flag = _flag_of(store, path)
    unsure = {q: "none" for q in _unsure(store, path)}
    with pytest.raises(ReviewError, match="y_kien"):  # text and illegible: which?
        key_in(store.engine, catalog, flag, KeyIn("", "3", unsure | {"y_kien": "Rất tốt"},
                                                  illegible=frozenset({"y_kien"})),
               reviewer="An", based_on=0)
    with pytest.raises(ReviewError, match="thai_do"):  # a choice is not a comment
        key_in(store.engine, catalog, flag, KeyIn("", "3", unsure, illegible=frozenset({"thai_do"})),
               reviewer="An", based_on=0)
    record = key_in(store.engine, catalog, flag,
                    KeyIn("", "3", unsure, illegible=frozenset({"y_kien"})), reviewer="An",
                    based_on=0)
    assert f"y_kien={ILLEGIBLE_SHOWN}" in record.value
    assert _illegible_row(store, 3) == (("", "invalid"), "image")
    # typed: `x`, as `phieu review set` reads it for a comment, is the same illegible
    undo(store.engine, flag, reviewer="An", based_on=1)
    key_in(store.engine, catalog, flag, KeyIn("", "3", unsure | {"y_kien": "x"}), reviewer="An", based_on=2)
    assert _illegible_row(store, 3) == (("", "invalid"), "image")


def test_the_key_in_form_and_phieu_review_key_offer_illegible_for_a_comment(ws, box, run_phieu):
    survey, store, catalog, forms = ws
    flag = _flag_of(store, box.files["new"])
    client, token = _client(ws)
    shown = client.get(f"/item/{flag}").get_data(as_text=True)
    block = shown.split('data-form="mot-cua@1" data-page="1"', 1)[1].split("</fieldset>", 1)[0]
    assert re.search(r'<input type="checkbox" name="illegible:y_kien"', block)
    assert not re.search(r'name="illegible:thai_do"', block)  # comments only
    fields = dict(re.findall(r'name="(ans:[^"]+)"[^>]*value="([^"]*)"', block))
    keys = _keyed(box, forms["mot-cua"], catalog, 3, 1, by_key=True)
    fields |= {f"ans:{q}": keys[q] for q in _unsure(store, box.files["new"])}  # read off the paper
    data = {"csrf": token, "version": "0", "form": "mot-cua@1", "page": "1", "serial": "3",
            **fields, "illegible:y_kien": "1"}
    r = client.post(f"/item/{flag}/key", data=data)
    assert r.status_code == 302, re.findall(r'class="error[^>]*>([^<]*)', r.get_data(as_text=True))
    assert _illegible_row(store, 3) == (("", "invalid"), "image")

    # the command line: --illegible QUESTION
    flag = _flag_of(store, box.files["page2"])
    done = run_phieu("review", "key", flag, "--serial", "101", "--illegible", "y_kien",
                     "--reviewer", "Hoa", "--survey", survey.root)
    assert done.code == 0, done.err
    assert f"y_kien={ILLEGIBLE_SHOWN}" in done.out
    assert _illegible_row(store, 101) == (("", "invalid"), "image")


@pytest.mark.browser
def test_alt_x_in_a_comment_of_the_key_in_form_marks_it_illegible(ws, box, browser):
    survey, store, _, _ = ws
    flag = _flag_of(store, box.files["page2"])
    comment = 'fieldset[data-form="sipas@1"][data-page="2"] textarea[name="ans:y_kien"]'
    with review_server(survey) as url:
        page = _item_page(browser, url, flag)
        page.keyboard.type("101")
        page.focus(comment)
        page.keyboard.press("Alt+x")
        assert page.is_checked('fieldset[data-page="2"] input[name="illegible:y_kien"]')
        assert page.is_disabled(comment)  # its text is not sent
        with page.expect_navigation():
            page.keyboard.press("Enter")  # nothing left empty: Enter saves the page
        assert f"/item/{flag}" not in page.url and "Đã lưu quyết định" in page.content()
        page.close()
    assert _illegible_row(store, 101) == (("", "invalid"), "image")
