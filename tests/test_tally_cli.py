"""`phieu tally`, `phieu export tally` and `phieu report` wiring, on an empty survey (fast);
the same commands on a scanned box are in test_tally_box.py."""
from __future__ import annotations

import csv

import openpyxl
import pytest

from pipeline.outputs.tally import INDEX_COLUMNS, TALLY_COLUMNS


@pytest.fixture
def survey(tmp_path, run_phieu):
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    return ws


def header(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} must start with a UTF-8 BOM"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return tuple(next(csv.reader(fh)))


def test_tally_on_an_empty_survey_prints_tables(survey, run_phieu):
    run = run_phieu("tally", cwd=survey)
    assert run.code == 0, run.err
    assert "0 phiếu được tính" in run.out and "Chỉ số hài lòng" in run.out
    assert "tạm tính" not in run.out


def test_export_tally_writes_csv_pair_and_xlsx(survey, run_phieu):
    run = run_phieu("export", "tally", "--survey", survey, "-o", survey / "ket-qua.csv")
    assert run.code == 0, run.err
    assert header(survey / "ket-qua.csv") == TALLY_COLUMNS
    assert header(survey / "ket-qua-index.csv") == INDEX_COLUMNS
    run = run_phieu("tally", "--survey", survey, "--period", "month", "-o", survey / "t.xlsx")
    assert run.code == 0, run.err
    book = openpyxl.load_workbook(survey / "t.xlsx")
    assert book.sheetnames == ["tally", "index", "ghi_chu"]
    assert tuple(c.value for c in book["index"][1]) == INDEX_COLUMNS


@pytest.mark.slow
def test_report_on_an_empty_survey(survey, run_phieu):
    run = run_phieu("report", "--survey", survey, "--quarter", "2026-Q3", "-o", survey / "r.html")
    assert run.code == 0, run.err
    html = (survey / "r.html").read_text(encoding="utf-8")
    assert "Quý III/2026" in html and "SỞ TƯ PHÁP" in html


@pytest.mark.parametrize("args, words", [
    (["--by", "nope"], "no such question"),
    (["--by", "y_kien"], "text question"),
    (["--by", "batch", "--period", "month"], "cannot be combined"),
    (["--from", "2026-09-01", "--to", "2026-07-01"], "after"),
    (["-o", "t.docx"], ".csv or .xlsx"),
], ids=["unknown-question", "text-question", "batch-and-period", "from-after-to", "docx-output"])
def test_bad_options_are_one_line_errors(survey, run_phieu, args, words):
    run = run_phieu("tally", *args, cwd=survey)
    assert run.code == 2 and words in run.err
    assert len(run.err.strip().splitlines()) == 1
