"""The PDF pieces of a published report (issue 13): the heading of an official document
(office, số/ký hiệu, Quốc hiệu and tiêu ngữ, place and date), the recipients and signer
at its foot, each unit's index ranked, and the comparison cells. Laid out as Nghị định
30/2020/NĐ-CP sets an administrative document: the office on the left, the national
heading on the right, both centred in their column."""
from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, HRFlowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from pipeline.outputs.report.charts import font_path
from pipeline.outputs.report.content import ReportContent, format_count, format_mean, format_percent
from pipeline.outputs.report.publish import Comparison, change, format_change

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
FONT, FONT_BOLD, FONT_ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"
FONT_BOLD_ITALIC = "DejaVuSans-BoldOblique"


def dated(place: str, day: dt.date) -> str:
    """`Ninh Bình, ngày 05 tháng 10 năm 2026` (days and months below 10 with a zero, as
    Nghị định 30/2020 writes them for 1-2)."""
    return f"{place}, ngày {day:%d} tháng {day:%m} năm {day:%Y}"


def _italic_font() -> str:
    for name in (FONT_ITALIC, FONT_BOLD_ITALIC):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(font_path().with_name(f"{name}.ttf"))))
    return FONT_ITALIC


def _styles(s: dict) -> dict[str, ParagraphStyle]:
    base = s["body"]
    centre = ParagraphStyle("o-centre", base, fontSize=9.5, leading=12.5, alignment=TA_CENTER,
                            spaceAfter=0)
    return {
        "centre": centre,
        "bold": ParagraphStyle("o-bold", centre, fontName=FONT_BOLD),
        "italic": ParagraphStyle("o-italic", centre, fontName=_italic_font()),
        "small": ParagraphStyle("o-small", base, fontSize=8, leading=10.5, spaceAfter=0),
        "label": ParagraphStyle("o-label", base, fontName=FONT_BOLD_ITALIC, fontSize=9,
                                leading=11, spaceAfter=1),
        "doc": ParagraphStyle("o-doc", centre, fontName=FONT_BOLD, fontSize=14, leading=18,
                              spaceBefore=10),
    }


def pdf_heading(content: ReportContent, s: dict, width: float) -> list[Flowable]:
    """The two-column heading and the document kind ("BÁO CÁO")."""
    doc, day = content.document, content.document_date
    assert doc is not None and day is not None  # build_report dates every document
    o = _styles(s)
    left: list[Flowable] = []
    if doc.authority:
        left.append(Paragraph(escape(doc.authority.upper()), o["centre"]))
    left.append(Paragraph(escape(doc.office.upper()), o["bold"]))
    left.append(HRFlowable(width="35%", thickness=0.6, color=colors.black, spaceBefore=1,
                           spaceAfter=5, hAlign="CENTER"))
    left.append(Paragraph(f"Số: {escape(doc.number)}", o["centre"]))
    right: list[Flowable] = [
        Paragraph(NATION, o["bold"]),
        Paragraph(MOTTO, o["bold"]),
        HRFlowable(width="52%", thickness=0.6, color=colors.black, spaceBefore=1, spaceAfter=5,
                   hAlign="CENTER"),
        Paragraph(escape(dated(doc.place, day)), o["italic"]),
    ]
    table = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("ALIGN", (0, 0), (-1, -1), "CENTER"),  # the short rules
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [table, Paragraph("BÁO CÁO", o["doc"])]


def pdf_signature(content: ReportContent, s: dict, width: float) -> list[Flowable]:
    """Nơi nhận on the left, the signer on the right, kept together on one page."""
    doc, day = content.document, content.document_date
    assert doc is not None and day is not None  # build_report dates every document
    o = _styles(s)
    recipients: list[Flowable] = [Paragraph("Nơi nhận:", o["label"])]
    last = len(doc.recipients) - 1
    recipients += [Paragraph(f"- {escape(r)}{'.' if i == last else ';'}", o["small"])
                   for i, r in enumerate(doc.recipients)]
    signer: list[Flowable] = [Paragraph(escape(line.strip().upper()), o["bold"])
                              for line in doc.signer.title.splitlines() if line.strip()]
    signer += [Spacer(1, 22 * mm), Paragraph(escape(doc.signer.name), o["bold"])]
    table = Table([[recipients, signer]], colWidths=[width * 0.5, width * 0.5])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 12), KeepTogether([table])]


def compared_cells(compared: Comparison | None, key: str, rate: float | None) -> list[str]:
    """The earlier rate and the change, for a row of the overview table."""
    if compared is None:
        return []
    before = compared.rate(key)
    return [format_percent(before), format_change(change(rate, before))]


def pdf_units(content: ReportContent, s: dict, width: float) -> list[Flowable]:
    """Each unit ranked: a chart and a table (rank, unit, ballots, valid, rate, mean)."""
    units = content.units
    assert units is not None
    compared = content.comparison
    heads = ["Hạng", units.title.removeprefix("Kết quả theo ").capitalize(), "Số phiếu",
             "Hợp lệ", "Tỷ lệ", "Điểm TB"]
    if compared:
        heads += [f"Tỷ lệ {compared.period}", "Thay đổi"]
    cell = s["cell"]
    rows: list[list] = [[Paragraph(escape(h), cell) for h in heads]]
    for line in units.lines:
        row = ["" if line.rank is None else str(line.rank), Paragraph(escape(line.label), cell),
               format_count(line.sheets), format_count(line.valid), format_percent(line.rate),
               format_mean(line.mean)]
        if compared:
            row += [format_percent(line.previous), format_change(change(line.rate, line.previous))]
        rows.append(row)
    narrow = 16 * mm
    numbers = len(heads) - 2
    table = Table(rows, colWidths=[13 * mm, width - 13 * mm - numbers * narrow]
                  + [narrow] * numbers, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#edf2f7")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#a0aec0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
    ]))
    chart = _chart(units.chart_png, width)
    note = Paragraph("Xếp hạng theo tỷ lệ hài lòng chung của từng đơn vị (cùng tỷ lệ thì theo "
                     "điểm trung bình). Phiếu không ghi rõ đơn vị được liệt kê cuối bảng, không "
                     "xếp hạng.", s["small"])
    return [Paragraph(escape(units.title), s["h3"]), chart, table, note]


def _chart(data: bytes, width: float) -> Image:
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as probe:
        w, h = probe.size
    scale = min(width / w, 110 * mm / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)
