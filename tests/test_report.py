"""The quarterly report: content figures, the HTML page and the PDF (pdfinfo, pdftotext)."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pandas as pd
import pytest
from PIL import Image, ImageDraw

from forms.errors import BadInput
from pipeline.outputs.report import build_report, write_report

try:  # tests/ as a package (tests/__init__.py) or as a plain folder of modules
    from tests.test_tally_support import known_frame, mini_form
except ImportError:
    from test_tally_support import known_frame, mini_form

TODAY = dt.date(2026, 11, 23)


def pages_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "source": ["hop1.pdf"] * 10, "page": range(1, 11),
        "status": ["read"] * 8 + ["failed", "duplicate"], "form": ["mini"] * 10,
        "serial": [str(s) for s in range(1001, 1009)] + ["", ""],
        "reason": [""] * 8 + ["no_markers", "duplicate"],
    })


@pytest.fixture
def comments(tmp_path) -> pd.DataFrame:
    crop = Image.new("L", (400, 60), 255)
    ImageDraw.Draw(crop).line((10, 30, 390, 35), fill=0, width=4)
    crop.save(tmp_path / "crop-1004.png")
    return pd.DataFrame({
        "serial": ["1001", "1004", "1002", "1005"],
        "question": ["y_kien"] * 4,
        "text": ["Cán bộ tận tình", "Chờ <b>quá</b> lâu", "", "Phiếu bị loại"],
        "confidence": [97.0, 41.0, 0.0, 90.0],
        "crop": ["", "crop-1004.png", "gone.png", ""],
        "flagged": [False, False, True, False],
    })


def test_content_figures(tmp_path, comments):
    content = build_report(mini_form(), known_frame(), pages_frame(), comments,
                           quarter="2026-Q3", base_dir=tmp_path, today=TODAY)
    assert content.period == "Quý III/2026"
    assert "Kết quả khảo sát mức độ hài lòng" in content.title and "Quý III/2026" in content.title
    ballots = {f.label: f.value for f in content.ballots}
    assert ballots["Số phiếu nhận được (đã nhận dạng)"] == 5  # 1001..1005 scanned in Q3
    assert ballots["Số phiếu được tính"] == 4 and ballots["Số phiếu bị loại"] == 1
    assert ballots["— trong đó đã được cán bộ xem lại"] == 1
    assert ballots["— trang không đọc được"] == 1
    # Q3 sheets 1001-1004: tc1 valid 5,3,4 (1003 flagged) -> 2 of 3 satisfied.
    tiep_can = content.groups[0]
    assert tiep_can.lines[0].counts == (0, 0, 1, 1, 1) and tiep_can.lines[0].to_review == 1
    assert [g.label for g in content.groups] == ["Tiếp cận dịch vụ", "Công chức"]
    assert [c.serial for c in content.comments] == ["1001", "1002", "1004"]  # 1005 rejected
    by_serial = {c.serial: c for c in content.comments}
    assert not by_serial["1001"].uncertain and by_serial["1001"].crop_png is None
    assert by_serial["1004"].uncertain and by_serial["1004"].crop_png.startswith(b"\x89PNG")
    assert by_serial["1002"].crop_missing
    assert content.provisional and "tạm tính" in content.provisional


def test_period_from_scan_dates_and_no_provisional_when_done(tmp_path):
    done = known_frame()
    done = done[done["status"].ne("needs_review") & done["scanned_at"].str.startswith("2026-07")]
    content = build_report(mini_form(), done, pages_frame(), pd.DataFrame(
        columns=["serial", "question", "text", "confidence", "crop", "flagged"]), today=TODAY)
    assert content.period == "Quý III/2026"
    assert content.provisional == ""
    assert content.overall.valid == 5 and content.overall.satisfied == 4


def test_html_holds_title_figures_and_escapes_comments(tmp_path, comments):
    content = build_report(mini_form(), known_frame(), pages_frame(), comments,
                           quarter="2026-Q3", base_dir=tmp_path, today=TODAY)
    path = write_report(content, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG" in html and "Quý III/2026" in html
    overall = content.overall
    assert f"{overall.rate:.1f}%".replace(".", ",") in html
    assert "Số liệu tạm tính" in html
    assert "Chờ &lt;b&gt;quá&lt;/b&gt; lâu" in html and "<b>quá</b>" not in html
    assert html.count("data:image/png;base64,") == 1 + len(content.groups) + 1  # + one crop
    assert "UBND xã Thử Nghiệm" in html


def test_pdf_has_pages_and_vietnamese_text(tmp_path, comments):
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    content = build_report(mini_form(), known_frame(), pages_frame(), comments,
                           quarter="2026-Q3", base_dir=tmp_path, today=TODAY)
    path = write_report(content, tmp_path / "report.pdf")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:")).split()[1])
    assert pages >= 2
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG", "Quý III/2026", "Tiếp cận dịch vụ",
                     "Chỉ số hài lòng chung", "Chờ <b>quá</b> lâu", "Số liệu tạm tính",
                     "Phương pháp"):
        assert expected in text, expected
    assert f"{content.overall.rate:.1f}%".replace(".", ",") in text


def test_bad_output_and_options(tmp_path, comments):
    content = build_report(mini_form(), known_frame(), pages_frame(), comments, today=TODAY)
    with pytest.raises(BadInput, match=r"\.docx"):
        write_report(content, tmp_path / "report.docx")
    with pytest.raises(BadInput, match="does not exist"):
        write_report(content, tmp_path / "nowhere" / "report.html")
    with pytest.raises(BadInput, match="cannot be combined"):
        build_report(mini_form(), known_frame(), pages_frame(), comments,
                     quarter="2026-Q3", date_from="2026-07-01")
