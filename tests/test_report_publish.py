"""The report as an office publishes it (issue 13): named periods, the comparison with the
previous period, units ranked, the method named, the official document's parts, no program
names, the group rows' counts, and no section heading left alone at the foot of a page."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pandas as pd
import pytest

from forms.errors import BadInput
from pipeline.outputs.report import build_report, write_report
from pipeline.outputs.settings import Document, Signer
from pipeline.outputs.tally import Units

try:
    from tests.test_report import pages_frame
    from tests.test_tally_support import known_frame, mini_form
except ImportError:
    from test_report import pages_frame
    from test_tally_support import known_frame, mini_form

pytestmark = pytest.mark.slow  # reports rendered to PDF and HTML

TODAY = dt.date(2026, 11, 23)
NO_COMMENTS = pd.DataFrame(columns=["serial", "question", "text", "confidence", "crop", "flagged"])
DOCUMENT = Document(office="Sở Tư pháp", number="125/BC-STP", place="Ninh Bình",
                    recipients=("UBND tỉnh (để báo cáo)", "Lưu: VT, VP"),
                    signer=Signer("KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC", "Nguyễn Văn An"),
                    authority="UBND tỉnh Ninh Bình", date=dt.date(2026, 12, 2))


def _report(**options):
    return build_report(mini_form(), known_frame(), pages_frame(), NO_COMMENTS, today=TODAY,
                        **options)


def _pdf_text(path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_period_names():
    assert _report(period="2026").period == "Năm 2026"
    assert _report(period="2026-H2").period == "6 tháng cuối năm 2026"
    assert _report(period="2026-H1").period == "6 tháng đầu năm 2026"
    assert _report(date_from="2026-01-01", date_to="2026-12-31").period == "Năm 2026"
    assert _report(date_from="2026-07-01", date_to="2026-09-30").period == "Quý III/2026"
    assert _report(date_from="2026-07-02", date_to="2026-09-30").period.startswith("Từ ngày 02/07")
    with pytest.raises(BadInput):
        _report(period="2026-H1", date_from="2026-01-01")


def test_previous_period_is_compared_by_default_when_it_has_ballots():
    q4 = _report(period="2026-Q4")
    assert q4.comparison is not None and q4.comparison.period == "Quý III/2026"
    q3 = _report(period="2026-Q3")
    assert q4.comparison.rate("all") == pytest.approx(q3.overall.rate)
    assert q4.comparison.rows["all"].valid == q3.overall.valid
    assert q4.comparison.sheets == 4  # 1001-1004 (1005 was rejected)
    assert q3.comparison is None  # Q2 has no ballot: nothing to compare with
    with pytest.raises(BadInput, match="no ballot"):
        _report(period="2026-Q4", compare="2025-Q4")


def test_units_are_ranked_by_rate_with_their_ballots():
    content = _report(units=Units("question", "linh_vuc", (("ho_tich", "Phòng Hộ tịch"),),
                                  "Lĩnh vực"))
    lines = content.units.lines
    ranked = [u for u in lines if u.rank is not None]
    assert [u.rank for u in ranked] == list(range(1, len(ranked) + 1))
    rates = [u.rate for u in ranked if u.rate is not None]
    assert rates == sorted(rates, reverse=True)
    assert {u.label for u in ranked} >= {"Phòng Hộ tịch", "Đất đai"}
    assert sum(u.sheets for u in lines) == 7
    assert content.units.title == "Kết quả theo lĩnh vực"
    assert content.units.chart_png.startswith(b"\x89PNG")
    assert _report(by="batch").units.title == "Kết quả theo đợt quét"


def test_the_method_note_names_the_method():
    sipas = _report(method="sipas")
    assert any("SIPAS" in p and "trung bình cộng" in p for p in sipas.method)
    pooled = _report(method="pooled")
    assert any("cộng dồn" in p for p in pooled.method)
    assert sipas.overall.rate != pooled.overall.rate


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_official_document_in_pdf_and_html_without_program_names(tmp_path):
    content = _report(period="2026-Q4", document=DOCUMENT,
                      proposals=("Bố trí thêm ghế ngồi chờ.", "- Niêm yết lại thủ tục."),
                      units=Units("question", "linh_vuc"))
    pdf = _pdf_text(write_report(content, tmp_path / "r.pdf"))
    html = write_report(content, tmp_path / "r.html").read_text(encoding="utf-8")
    visible = re.sub(r"<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", html)
    for text in (pdf, visible):
        for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                         "Số: 125/BC-STP", "Ninh Bình, ngày 02 tháng 12 năm 2026", "BÁO CÁO",
                         "SỞ TƯ PHÁP", "UBND TỈNH NINH BÌNH", "Nơi nhận:",
                         "UBND tỉnh (để báo cáo);", "Lưu: VT, VP.", "PHÓ GIÁM ĐỐC",
                         "Nguyễn Văn An", "Đề xuất, kiến nghị", "Bố trí thêm ghế ngồi chờ.",
                         "Quý III/2026", "Kết quả theo đơn vị"):
            assert expected in text, expected
        assert not re.search(r"\bphieu\b|Tesseract|phieu review", text, re.I)
    plain = _pdf_text(write_report(_report(quarter="2026-Q3"), tmp_path / "plain.pdf"))
    assert "CỘNG HÒA" not in plain and "Nơi nhận" not in plain
    assert not re.search(r"\bphieu\b|Tesseract", plain, re.I)


def _last_lines(path) -> list[str]:
    """The last line of text of each page, above the running footer."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    out = []
    for page in range(1, pages + 1):
        lines = [ln.strip() for ln in _pdf_text(path, page).splitlines() if ln.strip()]
        out.append([ln for ln in lines
                    if not ln.startswith("Kết quả khảo sát mức độ hài lòng —")][-1])
    return out


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize("options", [
    {}, {"quarter": "2026-Q3"}, {"period": "2026-Q4", "document": DOCUMENT},
    {"period": "2026", "by": "linh_vuc"},
], ids=["plain", "quarter", "official", "units"])
def test_no_section_heading_ends_a_page(tmp_path, options):
    # Before the fix the plain report left "III. Kết quả theo từng nhóm tiêu chí" alone at
    # the foot of page 1, and the official one "IV. Thông tin khác" at the foot of page 2.
    path = write_report(_report(**options), tmp_path / "r.pdf")
    for page, last in enumerate(_last_lines(path), start=1):
        assert not re.match(r"^[IVX]+\.\s", last), (page, last)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_group_rows_have_their_counts(tmp_path):
    content = _report(quarter="2026-Q3", units=Units("question", "linh_vuc"))
    path = write_report(content, tmp_path / "r.pdf")
    text = _pdf_text(path)
    group = content.groups[0]
    row = next(line for line in text.splitlines() if line.strip().startswith("Cả nhóm"))
    numbers = re.findall(r"\d+(?:,\d+)?%?", row)
    expected = [str(n) for n in group.level_totals()] + [str(group.no_answer_total()),
                                                         str(group.to_review_total())]
    assert numbers[:len(expected)] == expected
