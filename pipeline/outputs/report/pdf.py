"""The report as an A4 PDF, laid out with reportlab platypus from the same `ReportContent`
as the HTML. Text is set in DejaVu Sans (the TTF bundled with matplotlib), embedded, so
Vietnamese diacritics print and can be searched and copied."""
from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pipeline.outputs.report import official
from pipeline.outputs.report.charts import font_path
from pipeline.outputs.report.content import (
    COMMENT_SOURCE,
    COMMENTS_NOTE,
    ReportContent,
    format_count,
    format_mean,
    format_percent,
    numbered,
)

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
BLUE = colors.HexColor("#2b6cb0")
GREY = colors.HexColor("#edf2f7")
CROP_DPI = 150  # crops are shown at this resolution at most (about their size on paper)


def _register_fonts() -> None:
    # Registration is idempotent; reportlab keeps its own registry keyed by name.
    registered = pdfmetrics.getRegisteredFontNames()
    for name, bold in ((FONT, False), (FONT_BOLD, True)):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(font_path(bold))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "body": base,
        "small": ParagraphStyle("small", base, fontSize=8, leading=10, spaceAfter=1,
                                textColor=colors.HexColor("#4a5568")),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=10, spaceAfter=0),
        "office": ParagraphStyle("office", base, fontName=FONT_BOLD, alignment=TA_CENTER),
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=15, leading=19,
                                alignment=TA_CENTER, spaceBefore=6),
        "sub": ParagraphStyle("sub", base, fontSize=10.5, leading=14, alignment=TA_CENTER),
        "period": ParagraphStyle("period", base, fontName=FONT_BOLD, fontSize=12, leading=16,
                                 alignment=TA_CENTER, spaceAfter=8),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=12, leading=16,
                             textColor=BLUE, spaceBefore=12, spaceAfter=4, keepWithNext=1),
        "h3": ParagraphStyle("h3", base, fontName=FONT_BOLD, fontSize=10.5, leading=14,
                             spaceBefore=8, spaceAfter=3, keepWithNext=1),
        "warn": ParagraphStyle("warn", base, fontName=FONT_BOLD, backColor=colors.HexColor(
            "#fffbea"), borderColor=colors.HexColor("#d69e2e"), borderWidth=0.8,
            borderPadding=5, spaceBefore=4, spaceAfter=8),
        "justify": ParagraphStyle("justify", base, alignment=TA_JUSTIFY),
        "big": ParagraphStyle("big", base, fontName=FONT_BOLD, fontSize=20, leading=24,
                              textColor=colors.HexColor("#1a365d"), alignment=TA_CENTER),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _image(data: bytes, max_width: float, max_height: float = 200 * mm,
           dpi: float | None = None) -> Image:
    """`data` (PNG) scaled to fit the box; with `dpi`, never larger than that resolution
    gives (a comment crop is shown near its paper size, not blown up to the page width)."""
    with PILImage.open(io.BytesIO(data)) as probe:
        w, h = probe.size
    scale = min(max_width / w, max_height / h)
    if dpi:
        scale = min(scale, 72.0 / dpi)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


def _table(rows: list[list], widths: list[float], *, total_row: bool = False,
           numeric_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("BACKGROUND", (0, 0), (-1, 0), GREY),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#a0aec0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
    ]
    if total_row:
        style += [("FONTNAME", (0, -1), (-1, -1), FONT_BOLD),
                  ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f7fafc"))]
    table.setStyle(TableStyle(style))
    return table


def _header(content: ReportContent, s: dict) -> list[Flowable]:
    if content.document is not None:
        story = official.pdf_heading(content, s, WIDTH)
    else:
        story = [_p(content.office.upper(), s["office"])]
    story += [_p(content.heading, s["title"]), _p(content.subheading, s["sub"]),
              _p(content.period, s["period"])]
    if content.provisional:
        story.append(_p("⚠ " + content.provisional, s["warn"]))
    return story


def _ballots(content: ReportContent, s: dict) -> list[Flowable]:
    rows = []
    for f in content.ballots:
        label = escape(f.label) + (f' <font size="7" color="#4a5568">({escape(f.note)})</font>'
                                   if f.note else "")
        rows.append([Paragraph(label, s["cell"]), format_count(f.value)])
    table = Table(rows, colWidths=[WIDTH - 30 * mm, 30 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#a0aec0")),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return [_p("I. Số phiếu khảo sát", s["h2"]), table]


def _overall(content: ReportContent, s: dict) -> list[Flowable]:
    story: list[Flowable] = [_p("II. Chỉ số hài lòng chung", s["h2"])]
    overall = content.overall
    if overall is None:
        return story + [_p("Mẫu phiếu này không có câu hỏi theo thang đo mức độ hài lòng.",
                           s["body"])]
    figures = Table([
        [_p(format_percent(overall.rate), s["big"]), _p(format_mean(overall.mean), s["big"]),
         _p(format_count(overall.valid), s["big"])],
        [_p("tỷ lệ hài lòng", s["sub"]), _p("điểm trung bình (thang 1–5)", s["sub"]),
         _p("câu trả lời hợp lệ", s["sub"])],
    ], colWidths=[WIDTH / 3] * 3)
    story.append(figures)
    if content.overview_png:
        story.append(_image(content.overview_png, WIDTH, 85 * mm))
    compared = content.comparison
    heads = ["Nhóm tiêu chí", "Hợp lệ", "Hài lòng", "Tỷ lệ", "Điểm TB"]
    if compared:
        heads += [f"Tỷ lệ {compared.period}", "Thay đổi (điểm %)"]
    rows = [[_p(h, s["cell"]) for h in heads]]
    for number, g in enumerate(content.groups, start=1):
        t = g.total
        rows.append([_p(numbered(number, g.label), s["cell"]), format_count(t.valid),
                     format_count(t.satisfied), format_percent(t.rate), format_mean(t.mean)]
                    + official.compared_cells(compared, g.id, t.rate))
    rows.append([_p("Chỉ số hài lòng chung", s["cell"]), format_count(overall.valid),
                 format_count(overall.satisfied), format_percent(overall.rate),
                 format_mean(overall.mean)]
                + official.compared_cells(compared, "all", overall.rate))
    narrow = 19 * mm if compared else 22 * mm
    numbers = len(heads) - 1
    block: list[Flowable] = [_table(rows, [WIDTH - numbers * narrow] + [narrow] * numbers,
                                    total_row=True)]
    if compared:
        block.append(_p(f"So sánh với {compared.period} ({format_count(compared.sheets)} phiếu "
                        "được tính). Thay đổi tính bằng điểm phần trăm.", s["small"]))
    story.append(KeepTogether(block))  # a table of a few rows is not split over two pages
    if content.units is not None:
        story += official.pdf_units(content, s, WIDTH)
    return story


def _groups(content: ReportContent, s: dict) -> list[Flowable]:
    if not content.groups:
        return []
    story: list[Flowable] = []
    heading: list[Flowable] = [_p("III. Kết quả theo từng nhóm tiêu chí", s["h2"])]
    for number, g in enumerate(content.groups, start=1):
        head = [_p("Tiêu chí", s["cell"])] + [_p(level, s["cell"]) for level in g.levels] + [
            _p(h, s["cell"]) for h in ("Không trả lời", "Chờ xem lại", "Tỷ lệ hài lòng",
                                       "Điểm TB")]
        rows = [head]
        for line in g.lines:
            rows.append([_p(line.text, s["cell"])]
                        + [format_count(n) for n in line.counts]
                        + [format_count(line.no_answer), format_count(line.to_review),
                           format_percent(line.rate), format_mean(line.mean)])
        rows.append([_p("Cả nhóm", s["cell"])] + [format_count(n) for n in g.level_totals()]
                    + [format_count(g.no_answer_total()), format_count(g.to_review_total()),
                       format_percent(g.total.rate), format_mean(g.total.mean)])
        numbers = len(g.levels) + 4
        narrow = 14.5 * mm
        table = _table(rows, [WIDTH - numbers * narrow] + [narrow] * numbers, total_row=True)
        # The section heading travels with its first group: keepWithNext alone does not
        # hold a heading to a KeepTogether block, and left it alone at the foot of a page.
        story.append(KeepTogether(heading + [_p(numbered(number, g.label), s["h3"]),
                                             _image(g.chart_png, WIDTH, 95 * mm), table]))
        heading = []
    return story


def _others(content: ReportContent, s: dict) -> list[Flowable]:
    if not content.others:
        return []
    story: list[Flowable] = []
    heading: list[Flowable] = [_p("IV. Thông tin khác", s["h2"])]  # kept with its first table
    for t in content.others:
        rows = [[_p("Lựa chọn", s["cell"]), _p("Số phiếu", s["cell"]), _p("Tỷ lệ", s["cell"])]]
        rows += [[_p(line.label, s["cell"]), format_count(line.count),
                  format_percent(line.percent)] for line in t.lines]
        rows += [[_p("Không trả lời", s["cell"]), format_count(t.no_answer), ""],
                 [_p("Chờ xem lại", s["cell"]), format_count(t.to_review), ""]]
        note = f"Tỷ lệ tính trên {format_count(t.valid)} phiếu trả lời câu này"
        if t.multi:
            note += "; mỗi phiếu có thể chọn nhiều ý nên tổng có thể vượt 100%"
        story.append(KeepTogether(heading + [
            _p(t.text, s["h3"]),
            _table(rows, [WIDTH - 60 * mm, 30 * mm, 30 * mm]),
            _p(note + ".", s["small"]),
        ]))
        heading = []
    return story


def _comments(content: ReportContent, s: dict) -> list[Flowable]:
    story: list[Flowable] = [_p("V. Ý kiến của người dân, tổ chức", s["h2"])]
    if not content.comments:
        return story + [_p("Không có ý kiến viết tay trong kỳ này.", s["body"])]
    story.append(_p(f"{format_count(len(content.comments))} ý kiến. {COMMENTS_NOTE}", s["small"]))
    rows = [[_p("Chủ đề", s["cell"]), _p("Số ý kiến", s["cell"])]]
    rows += [[_p(t.label, s["cell"]), format_count(t.count)] for t in content.comment_topics]
    story.append(_table(rows, [WIDTH - 30 * mm, 30 * mm]))
    topic = None
    for item in content.comments:
        if item.topic != topic:
            topic = item.topic
            count = next((t.count for t in content.comment_topics if t.label == topic), 0)
            story.append(_p(f"{topic} ({format_count(count)})", s["h3"]))
        meta = f"Phiếu số {item.serial} · {item.question} · {COMMENT_SOURCE[item.shown_as]}"
        block: list[Flowable] = [_p(meta, s["small"])]
        if item.text:
            block.append(_p(item.text, s["body"]))
        if item.crop_png:
            block.append(_image(item.crop_png, WIDTH * 0.9, 60 * mm, dpi=CROP_DPI))
        if item.crop_missing:
            block.append(_p("(không tìm thấy ảnh của ý kiến này)", s["small"]))
        block.append(Spacer(1, 4))
        story.append(KeepTogether(block))
    return story


def _method(content: ReportContent, s: dict) -> list[Flowable]:
    story: list[Flowable] = [_p("VI. Phương pháp", s["h2"])]
    story += [_p(p, s["body"]) for p in content.method]
    story += [_p(n, s["small"]) for n in content.notes]
    if content.proposals:
        story.append(_p("VII. Đề xuất, kiến nghị", s["h2"]))
        story += [_p(text, s["body"]) for text in content.proposals]
    if content.document is not None:
        story += official.pdf_signature(content, s, WIDTH)
    else:
        # The line that closes the report goes with the paragraph before it: alone, it
        # filled a page of its own when the method ran to the foot of a page.
        colophon = _p(f"{content.form_title} · Lập ngày {content.generated_on:%d/%m/%Y}", s["small"])
        story.append(KeepTogether([story.pop(), Spacer(1, 10), colophon]))
    return story


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 7.5)
    canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Trang {doc.page}")
    room = A4[0] - 2 * MARGIN - 20 * mm  # leave the page number its place
    title = doc.title
    while title and pdfmetrics.stringWidth(title, FONT, 7.5) > room:
        title = title[:-2] + "…"
    canvas.drawString(MARGIN, 10 * mm, title)
    canvas.restoreState()


def write_pdf(content: ReportContent, path: str | Path) -> None:
    """Lay `content` out on A4 pages and write the PDF to `path`."""
    _register_fonts()
    s = _styles()
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=content.title, author=content.office,
        subject="Kết quả khảo sát mức độ hài lòng", creator=content.office,
    )
    story = (_header(content, s) + _ballots(content, s) + _overall(content, s)
             + _groups(content, s) + _others(content, s) + _comments(content, s)
             + _method(content, s))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
