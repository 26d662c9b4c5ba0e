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
    crop.save(tmp_path / "crop-1003.png")
    return pd.DataFrame({
        "serial": ["1001", "1004", "1002", "1005", "1003"],
        "question": ["y_kien"] * 5,
        "text": ["Cán bộ tận tình", "Chờ <b>quá</b> lâu", "", "Phiếu bị loại", "tôi r›phí"],
        "confidence": [97.0, 41.0, 0.0, 90.0, 87.9],
        "crop": ["", "crop-1004.png", "gone.png", "", "crop-1003.png"],
        "flagged": [False, False, True, False, False],
        # 1004: a clerk typed it (OCR had 41); 1003: unflagged but under the threshold
        "shown_as": ["ocr", "person", "image", "ocr", "image"],
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
    by_serial = {c.serial: c for c in content.comments}
    assert sorted(by_serial) == ["1001", "1002", "1003", "1004"]  # 1005 rejected
    assert by_serial["1001"].shown_as == "ocr" and by_serial["1001"].crop_png is None
    # typed by a clerk: printed as text, no image, no word of doubt
    assert by_serial["1004"].shown_as == "person" and by_serial["1004"].text == "Chờ <b>quá</b> lâu"
    assert by_serial["1004"].crop_png is None
    assert by_serial["1003"].text == "" and by_serial["1003"].crop_png.startswith(b"\x89PNG")
    assert by_serial["1002"].crop_missing
    # topics: the mini form has none, so text goes to "other", images to "image only"
    assert [(t.label, t.count) for t in content.comment_topics] == [
        ("Ý kiến khác", 2), ("Chưa chép thành chữ, in ảnh chữ viết tay", 2)]
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
    assert "r›phí" not in html and "chưa chắc chắn" not in html
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
                     "Phương pháp", "Ý kiến khác", "cán bộ chép lại"):
        assert expected in text, expected
    assert "r›phí" not in text and "chưa chắc chắn" not in text
    assert f"{content.overall.rate:.1f}%".replace(".", ",") in text


def test_the_closing_line_never_stands_alone_on_a_page(comments, tmp_path):
    # The demo's report once ended on a page holding only "… · Lập ngày …".
    from reportlab.platypus import KeepTogether, Paragraph

    from pipeline.outputs.report.pdf import _method, _styles

    content = build_report(mini_form(), known_frame(), pages_frame(), comments, base_dir=tmp_path, today=TODAY)
    last = _method(content, _styles())[-1]
    assert isinstance(last, KeepTogether)
    kept = [f for f in last._content if isinstance(f, Paragraph)]
    assert len(kept) == 2 and "Lập ngày" in kept[-1].text


def test_bad_output_and_options(tmp_path, comments):
    content = build_report(mini_form(), known_frame(), pages_frame(), comments, today=TODAY)
    with pytest.raises(BadInput, match=r"\.docx"):
        write_report(content, tmp_path / "report.docx")
    with pytest.raises(BadInput, match="does not exist"):
        write_report(content, tmp_path / "nowhere" / "report.html")
    with pytest.raises(BadInput, match="cannot be combined"):
        build_report(mini_form(), known_frame(), pages_frame(), comments,
                     quarter="2026-Q3", date_from="2026-07-01")


def test_no_comment_under_the_threshold_is_printed_without_a_person(tmp_path):
    """Every combination of confidence around the flagging threshold, junk or words,
    flagged or not, with and without a person's decision: text reaches the report only
    when a person typed it, or OCR is sure by the threshold that decides flagging."""
    from omr.thresholds import DEFAULT_THRESHOLDS
    from pipeline.outputs.comments import shown_as

    limit = DEFAULT_THRESHOLDS.ocr_min_confidence
    rows = []
    serial = 1001
    for confidence in (0.0, 50.0, limit - 5, limit - 0.1, limit, limit + 0.1, 99.0):
        for text in ("Nhà vệ sinh bẩn", "|", "tôi r›phí"):
            for flagged in (False, True):
                for person in (None, "answered", "no_answer", "invalid"):
                    typed = f"Đã chép {serial}" if person == "answered" else ""
                    read = f"{text} {serial}"  # each row's text its own ("| 1007" is junk too)
                    rows.append({
                        "serial": str(1001 + (serial % 4)), "question": "y_kien",
                        "text": typed or read, "confidence": confidence, "crop": "",
                        "flagged": flagged and person is None,
                        "shown_as": shown_as(person, typed or read, confidence,
                                             flagged and person is None).value,
                        "case": (confidence, text, flagged, person),
                    })
                    serial += 1
    frame = pd.DataFrame(rows)
    for legacy in (False, True):  # with the export's `shown_as`, and an older frame without
        given = frame.drop(columns=["shown_as"]) if legacy else frame
        content = build_report(mini_form(), known_frame(), pages_frame(), given,
                               quarter="2026-Q3", base_dir=tmp_path, today=TODAY)
        printed = {item.text for item in content.comments if item.text}
        for row in rows:
            confidence, text, flagged, person = row["case"]
            if legacy:  # no person's decision known: the reading alone
                sure = (confidence >= limit and not row["text"].startswith("|")
                        and not row["flagged"])
            else:
                sure = person == "answered" or (
                    confidence >= limit and text != "|" and not flagged and person is None)
            assert (row["text"] in printed) == sure, (legacy, row["case"])
