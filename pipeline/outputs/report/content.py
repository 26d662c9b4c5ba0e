"""The quarterly report: one content model, rendered twice (HTML and PDF).

`build_report` turns the export frames (responses, pages, comments) and the form into a
`ReportContent`: every figure, table row, chart (PNG bytes) and comment the report shows,
already computed. `html` and `pdf` beside it only lay it out, so the two files cannot
disagree; `write.write_report` picks the renderer from the file's suffix.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image

from forms.model import Form, Question
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds
from pipeline.outputs.comments import (
    OTHER_TOPIC,
    UNREAD_TOPIC,
    ShownAs,
    shown_as,
    topic_counts,
    topic_of,
)
from pipeline.outputs.report.publish import (
    METHOD_NAMES,
    METHOD_NOTES,
    Breakdown,
    Comparison,
    breakdown,
    chosen_period,
    comparison,
    period_name,
)
from pipeline.outputs.settings import Document
from pipeline.outputs.tally import (
    ALL_GROUP,
    NO_ANSWER,
    TO_REVIEW,
    IndexRow,
    Method,
    TallyResult,
    Units,
    is_scale_question,
    scale_of,
    scan_day,
    tally,
)
from pipeline.store.vocabulary import Channel, PageStatus, SheetStatus

# How each published comment came to be, as the report says it (no word of doubt on text a
# person typed or confirmed).
COMMENT_SOURCE: dict[str, str] = {
    ShownAs.PERSON: "cán bộ chép lại",
    ShownAs.OCR: "máy đọc",
    ShownAs.IMAGE: "ảnh chữ viết tay (chưa chép thành chữ)",
}
COMMENTS_NOTE = ("Ý kiến được in thành chữ khi cán bộ đã chép lại hoặc máy đọc chắc chắn "
                 "(cùng ngưỡng dùng để đưa ý kiến ra xem lại); các ý kiến khác được in bằng "
                 "ảnh chữ viết tay. Ý kiến được xếp theo chủ đề từ các từ khóa trong mẫu phiếu.")
CROP_MAX_WIDTH = 1000  # px: crops are downscaled so the report stays small
OTHER_GROUP = ""  # scale questions without a criteria group are shown under this id

PAGE_STATUS_LABELS: dict[str, str] = {
    PageStatus.READ: "Trang đọc được",
    PageStatus.FAILED: "Trang không đọc được",
    PageStatus.DUPLICATE: "Trang quét trùng (không tính lại)",
    PageStatus.REJECTED: "Trang bị loại",
}


@dataclass(frozen=True)
class Figure:
    """A labelled number in the ballots box (`note` in small print after it)."""

    label: str
    value: int
    note: str = ""


@dataclass(frozen=True)
class QuestionLine:
    """One scale question in a criteria group's table."""

    id: str
    text: str
    counts: tuple[int, ...]  # per scale level, in scale order
    no_answer: int
    to_review: int
    valid: int
    satisfied: int
    rate: float | None
    mean: float | None


@dataclass(frozen=True)
class GroupSection:
    """A criteria group: its questions, its pooled figures, its chart."""

    id: str
    label: str
    levels: tuple[str, ...]  # the scale's level labels
    lines: tuple[QuestionLine, ...]
    total: IndexRow
    chart_png: bytes

    def level_totals(self) -> tuple[int, ...]:
        """Answers per scale level over the group's questions (the "Cả nhóm" row)."""
        return tuple(sum(line.counts[i] for line in self.lines) for i in range(len(self.levels)))

    def no_answer_total(self) -> int:
        return sum(line.no_answer for line in self.lines)

    def to_review_total(self) -> int:
        return sum(line.to_review for line in self.lines)


@dataclass(frozen=True)
class OptionLine:
    label: str
    count: int
    percent: float | None


@dataclass(frozen=True)
class OptionTable:
    """A question that is not on a scale (lĩnh vực, số lần đi lại, ...): its counts."""

    id: str
    text: str
    multi: bool
    lines: tuple[OptionLine, ...]
    valid: int
    no_answer: int
    to_review: int


@dataclass(frozen=True)
class CommentItem:
    """A written comment as published (`pipeline.outputs.comments.shown_as`): `text` only
    when a person typed or confirmed it or OCR is sure (else ""), `crop_png` the image of
    the handwriting when only the image is published and it exists."""

    serial: str
    question: str
    text: str
    shown_as: str  # "person", "ocr" or "image"
    topic: str
    crop_png: bytes | None = None
    crop_missing: bool = False  # image only, but the crop file could not be read


@dataclass(frozen=True)
class CommentTopicCount:
    """A topic of the form's `comment_topics` (or "other", or "image only") and how many
    of the period's comments fall under it."""

    label: str
    count: int


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows, in reading order."""

    title: str  # "Kết quả khảo sát mức độ hài lòng — <office> — Quý III/2026"
    heading: str  # "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG"
    subheading: str  # "của người dân, tổ chức đối với sự phục vụ của <office>"
    period: str  # "Quý III/2026"
    office: str
    form_title: str
    generated_on: dt.date
    provisional: str  # the provisional warning, empty when every flag is closed
    ballots: tuple[Figure, ...]
    overall: IndexRow | None  # None when the form has no scale question
    overview_png: bytes | None  # rates per criteria group and overall
    groups: tuple[GroupSection, ...]
    others: tuple[OptionTable, ...]
    comments: tuple[CommentItem, ...]  # grouped by topic (form order), then by serial
    method: tuple[str, ...]  # paragraphs
    notes: tuple[str, ...]  # from the tally (undated sheets, duplicate serials, ...)
    comment_topics: tuple[CommentTopicCount, ...] = ()
    method_name: str = ""  # "phương pháp SIPAS ..." (named in the method note)
    comparison: Comparison | None = None  # the earlier period's figures
    units: Breakdown | None = None  # each unit's index, ranked
    document: Document | None = None  # the official document's details, when given
    proposals: tuple[str, ...] = ()  # đề xuất, kiến nghị: paragraphs the office wrote
    document_date: dt.date | None = None  # the date printed under the national motto


def build_report(
    form: Form,
    responses: pd.DataFrame,
    pages: pd.DataFrame,
    comments: pd.DataFrame,
    *,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    quarter: str | None = None,
    base_dir: str | Path = ".",
    office: str | None = None,
    today: dt.date | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    whole_sheet_review: frozenset[str] = frozenset(),
    period: str | None = None,
    compare: str | None = None,
    by: str | None = None,
    units: Units | None = None,
    method: Method = "pooled",
    document: Document | None = None,
    proposals: tuple[str, ...] = (),
) -> ReportContent:
    """Compute the report of `form` from the export frames.

    Parameters
    ----------
    responses, pages, comments
        The frames of `pipeline.outputs.export` (DESIGN.md `responses.csv`, `pages.csv`, and the
        comments frame: serial, question, text, confidence, crop, flagged).
    date_from, date_to, quarter
        Which sheets (by scan date, inclusive). `quarter` (`2026-Q3`) sets both dates and
        cannot be given with them. The period in the title follows from these, or from the
        scan dates of the sheets when none is given.
    base_dir
        The folder relative crop paths are resolved against (the survey workspace).
    office
        The office named in the title (the survey's setting); defaults to the form's.
    today
        The date printed as the report's date (defaults to today).
    thresholds
        The reader's thresholds: a comment's OCR text is printed only when it is sure by
        `ocr_min_confidence`, the threshold that decides flagging (see
        `pipeline.outputs.comments.shown_as`); otherwise the image of the handwriting is.
    whole_sheet_review
        Serials whose whole sheet waits for a person (see `pipeline.outputs.tally.tally`).
    period
        A named period (`2026-Q3`, `2026-H1`, `2026`, `2026-09`): sets both dates.
    compare
        A period to compare with; by default the period before the report's, when the
        report covers a named period and that one has ballots.
    by, units
        Adds each group's index, ranked (`by` as in `tally`: a question, `batch`, `unit`,
        `channel`); with `units` and no `by`, the units are shown.
    method
        `sipas` or `pooled` (see `pipeline.outputs.tally.tally`); the method note names it.
    document, proposals
        The details that make the report an official document, and the office's proposals.
    """
    chosen = chosen_period(period, quarter, date_from, date_to)
    result = tally(form, responses, date_from=chosen.date_from, date_to=chosen.date_to,
                   whole_sheet_review=whole_sheet_review, method=method)
    serials = _tallied_serials(responses, result)
    period_text, period_value_ = period_name(chosen, _scan_days(responses, serials))
    by = by or ("unit" if units else None)
    compared = comparison(form, responses, compare=compare, current=period_value_,
                          method=method, whole_sheet_review=whole_sheet_review,
                          by=by, units=units)
    ranked = None
    if by:
        grouped = tally(form, responses, date_from=chosen.date_from, date_to=chosen.date_to,
                        whole_sheet_review=whole_sheet_review, method=method, by=by,
                        units=units)
        title = grouped.grouping.label.split(" / ")[0].strip().rstrip(":")
        title = title[5:] if title.lower().startswith("theo ") else title
        ranked = breakdown(grouped, title, compared)
    office = (office or form.office).strip() or "cơ quan"
    # A form's office line is often "AGENCY — UNIT" (it heads the printed form); the title
    # and "sự phục vụ của ..." name the agency, the line above them keeps the whole.
    agency = office.split(" — ")[0].strip() or office
    groups = _group_sections(form, result)
    overall = _overall(result)
    comment_items = _comments(form, comments, serials, Path(base_dir), thresholds)
    today = today or dt.date.today()
    return ReportContent(
        title=f"Kết quả khảo sát mức độ hài lòng — {agency} — {period_text}",
        heading="KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG",
        subheading=f"của người dân, tổ chức đối với sự phục vụ của {agency}",
        period=period_text,
        office=office,
        form_title=form.title,
        generated_on=today,
        provisional=_provisional(result),
        ballots=_ballots(result, responses, _pages_of(form, pages), serials),
        overall=overall,
        overview_png=_overview_chart(groups, overall),
        groups=groups,
        others=_other_tables(form, result),
        comments=comment_items,
        method=_method(result, responses, serials),
        notes=result.notes,
        comment_topics=tuple(CommentTopicCount(label, n) for label, n in topic_counts(
            (item.topic for item in comment_items), form.comment_topics)),
        method_name=METHOD_NAMES[method],
        comparison=compared,
        units=ranked,
        document=document,
        proposals=tuple(proposals),
        document_date=(document.date if document and document.date else today),
    )


def _provisional(result: TallyResult) -> str:
    """The provisional warning as published: what waits, without the command to run."""
    if not result.provisional:
        return ""
    return (f"Số liệu tạm tính: còn {result.provisional.answers_to_review} câu trả lời trên "
            f"{result.provisional.sheets_to_review} phiếu đang chờ cán bộ xem lại.")


def _scan_days(responses: pd.DataFrame, serials: frozenset[str]) -> list[dt.date]:
    chosen = responses[responses["serial"].map(_serial_text).isin(serials)]
    return [d for d in chosen["scanned_at"].map(scan_day) if d is not None]


# --- which sheets, which period ------------------------------------------------------


def _serial_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _in_range(responses: pd.DataFrame, result: TallyResult) -> pd.Series:
    """Rows of `responses` inside the tally's date filter (rejected ones included)."""
    if result.date_from is None and result.date_to is None:
        return pd.Series(True, index=responses.index)
    start, end = result.date_from or dt.date.min, result.date_to or dt.date.max

    def inside(value: object) -> bool:
        day = scan_day(value)
        return day is not None and start <= day <= end

    return responses["scanned_at"].map(inside).astype(bool)


def _tallied_serials(responses: pd.DataFrame, result: TallyResult) -> frozenset[str]:
    rows = responses[_in_range(responses, result) & responses["status"].ne(SheetStatus.REJECTED)]
    return frozenset(_serial_text(s) for s in rows["serial"])


# --- figures -------------------------------------------------------------------------


def _ballots(
    result: TallyResult, responses: pd.DataFrame, pages: pd.DataFrame, serials: frozenset[str]
) -> tuple[Figure, ...]:
    in_range = responses[_in_range(responses, result)]
    status = in_range["status"].value_counts()
    filtered = result.date_from is not None or result.date_to is not None
    page_note = "toàn bộ các đợt quét, không lọc theo ngày" if filtered else ""
    figures = [
        Figure("Số phiếu nhận được (đã nhận dạng)", len(in_range)),
        Figure("Số phiếu được tính", len(serials)),
        Figure("— trong đó đã được cán bộ xem lại", int(status.get(SheetStatus.REVIEWED, 0))),
        Figure("— trong đó còn chờ xem lại", int(status.get(SheetStatus.NEEDS_REVIEW, 0)),
               "số liệu tạm tính" if status.get(SheetStatus.NEEDS_REVIEW, 0) else ""),
        *_channel_figures(in_range, serials),
        Figure("Số phiếu bị loại", int(status.get(SheetStatus.REJECTED, 0))),
        Figure("Số trang đã quét", len(pages), page_note),
    ]
    page_status = pages["status"].value_counts() if "status" in pages else pd.Series(dtype=int)
    for code, count in page_status.items():
        if code != PageStatus.READ:
            label = PAGE_STATUS_LABELS.get(str(code), f"Trang có trạng thái {code}")
            figures.append(Figure(f"— {label.lower()}", int(count), page_note))
    return tuple(figures)


def _channel_figures(in_range: pd.DataFrame, serials: frozenset[str]) -> list[Figure]:
    """Counted ballots that did not come on paper, per channel (none when all are paper)."""
    if "channel" not in in_range:
        return []
    counted = in_range[in_range["serial"].map(_serial_text).isin(serials)]
    channels = counted["channel"].fillna(Channel.PAPER).value_counts()
    names: dict[str, str] = {Channel.ONLINE: "trả lời trực tuyến", Channel.KIOSK: "trả lời tại ki-ốt"}
    return [Figure(f"— trong đó {names.get(str(k), str(k))}", int(n))
            for k, n in channels.items() if str(k) != Channel.PAPER]


def _pages_of(form: Form, pages: pd.DataFrame) -> pd.DataFrame:
    """The pages of this form, and the pages no form could be told for (unreadable ones
    cannot be attributed, so every report shows them)."""
    if "form" not in pages:
        return pages
    forms = pages["form"].fillna("").astype(str)
    return pages[forms.isin([form.id, ""])]


def _overall(result: TallyResult) -> IndexRow | None:
    for row in result.index:
        if row.group == ALL_GROUP and row.scope == "overall":
            return row
    return None


def _rows_of(result: TallyResult, question_id: str) -> dict[str, int]:
    return {r.option: r.count for r in result.rows
            if r.group == ALL_GROUP and r.question == question_id}


def _question_line(form: Form, result: TallyResult, question: Question) -> QuestionLine:
    counts = _rows_of(result, question.id)
    index = result.index_row(ALL_GROUP, "question", question.id)
    return QuestionLine(
        id=question.id, text=question.text,
        counts=tuple(counts[o.code] for o in scale_of(form, question).options),
        no_answer=counts[NO_ANSWER], to_review=counts[TO_REVIEW],
        valid=index.valid, satisfied=index.satisfied, rate=index.rate, mean=index.mean,
    )


def _group_sections(form: Form, result: TallyResult) -> tuple[GroupSection, ...]:
    scale_questions = [q for q in form.questions() if is_scale_question(form, q)]
    order = list(form.groups)
    if any(q.group not in form.groups for q in scale_questions):
        order.append(OTHER_GROUP)
    sections = []
    for group_id in order:
        members = [q for q in scale_questions
                   if (q.group if q.group in form.groups else OTHER_GROUP) == group_id]
        if not members:
            continue
        label = form.groups.get(group_id, "Các tiêu chí khác")
        lines = tuple(_question_line(form, result, q) for q in members)
        levels = tuple(o.label for o in scale_of(form, members[0]).options)
        total = (result.index_row(ALL_GROUP, "criteria_group", group_id) if group_id
                 else _pooled(lines, scale_of(form, members[0]).options))
        # matplotlib takes a noticeable time to import; `import pipeline` (every command)
        # should not pay it, only a report that draws.
        from pipeline.outputs.report.charts import distribution_chart

        chart = distribution_chart(
            [line.text for line in lines],
            [[100.0 * c / line.valid if line.valid else 0.0 for c in line.counts]
             for line in lines],
            list(levels), [line.rate for line in lines],
        )
        sections.append(GroupSection(group_id, label, levels, lines, total, chart))
    return tuple(sections)


def _pooled(lines: tuple[QuestionLine, ...], scale_options: tuple) -> IndexRow:
    """The pooled figures of scale questions that have no criteria group, by the rule of
    `pipeline.outputs.tally`: sums of valid and satisfied answers; mean over scored answers."""
    valid = sum(line.valid for line in lines)
    satisfied = sum(line.satisfied for line in lines)
    scored = [(sum(line.counts[i] for line in lines), o.score)
              for i, o in enumerate(scale_options) if o.score is not None]
    answers = sum(n for n, _ in scored)
    mean = sum(n * score for n, score in scored) / answers if answers else None
    return IndexRow(ALL_GROUP, "criteria_group", OTHER_GROUP, valid, satisfied,
                    100.0 * satisfied / valid if valid else None, mean, "Các tiêu chí khác")


def _overview_chart(groups: tuple[GroupSection, ...], overall: IndexRow | None) -> bytes | None:
    if overall is None or not groups:
        return None
    labels = [g.label for g in groups] + ["Chỉ số hài lòng chung"]
    rates = [g.total.rate for g in groups] + [overall.rate]
    from pipeline.outputs.report.charts import rate_chart  # matplotlib: see `_group_sections`

    return rate_chart(labels, rates, "Tỷ lệ hài lòng theo nhóm tiêu chí")


def _other_tables(form: Form, result: TallyResult) -> tuple[OptionTable, ...]:
    tables = []
    for question in form.questions():
        if question.type == "text" or is_scale_question(form, question):
            continue
        options = [r for r in result.rows if r.group == ALL_GROUP and r.question == question.id
                   and r.option not in (NO_ANSWER, TO_REVIEW)]
        total = result.total(ALL_GROUP, question.id)
        tables.append(OptionTable(
            question.id, question.text, question.type == "multi",
            tuple(OptionLine(r.label, r.count, r.percent) for r in options),
            total.valid, total.no_answer, total.to_review,
        ))
    return tuple(tables)


# --- comments ------------------------------------------------------------------------


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "x", "flagged")
    return False if _missing(value) else bool(value)


def _crop_png(path_text: object, base_dir: Path) -> bytes | None:
    if not isinstance(path_text, str) or not path_text.strip():
        return None
    path = Path(path_text)
    path = path if path.is_absolute() else base_dir / path
    try:
        with Image.open(path) as opened:
            image = opened.convert("L")
            if image.width > CROP_MAX_WIDTH:
                height = round(image.height * CROP_MAX_WIDTH / image.width)
                image = image.resize((CROP_MAX_WIDTH, height))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            return buffer.getvalue()
    except (OSError, ValueError):
        return None


def _comments(
    form: Form, comments: pd.DataFrame, serials: frozenset[str], base_dir: Path,
    thresholds: Thresholds,
) -> tuple[CommentItem, ...]:
    # The question as a label in the comment's line ("... (nếu có):" would end in a colon)
    texts = {q.id: q.text.rstrip(" :") for q in form.questions()}
    items = []
    for record in comments.to_dict("records"):
        serial = _serial_text(record.get("serial", ""))
        if serial not in serials or str(record.get("form", form.id)) != form.id:
            continue
        text = "" if _missing(record.get("text")) else str(record.get("text")).strip()
        confidence = record.get("confidence")
        confidence = None if _missing(confidence) else float(confidence)
        flagged = _truthy(record.get("flagged"))
        given = record.get("shown_as")
        if isinstance(given, str) and given:
            shown = ShownAs(given)
        elif not text and not flagged:
            continue  # an older frame (no `shown_as`): an empty, unflagged reading is no comment
        else:
            # An older frame knows no person's decision: the machine's reading alone
            # decides, by the same rule.
            shown = shown_as(None, text, confidence, flagged, thresholds)
        if shown == ShownAs.NONE:
            continue
        published = text if shown in (ShownAs.PERSON, ShownAs.OCR) else ""
        crop = _crop_png(record.get("crop"), base_dir) if shown == ShownAs.IMAGE else None
        items.append(CommentItem(
            serial, texts.get(str(record.get("question")), str(record.get("question"))),
            published, shown.value, topic_of(published, shown, form.comment_topics), crop,
            shown == ShownAs.IMAGE and crop is None,
        ))
    order = {label: i for i, (label, _) in enumerate(topic_counts((), form.comment_topics))}
    order |= {OTHER_TOPIC: len(order), UNREAD_TOPIC: len(order) + 1}
    items.sort(key=lambda item: (order.get(item.topic, len(order)), len(item.serial), item.serial))
    return tuple(items)


# --- method note ---------------------------------------------------------------------


def _method(result: TallyResult, responses: pd.DataFrame, serials: frozenset[str]) -> tuple[str, ...]:
    chosen = responses[responses["serial"].map(_serial_text).isin(serials)]
    reviewed = int(chosen["status"].eq(SheetStatus.REVIEWED).sum())
    paragraphs = [
        "Phiếu khảo sát được quét bằng máy quét hoặc chụp bằng điện thoại. Phần mềm nhận dạng "
        "từng trang qua mã QR và bốn dấu định vị ở góc phiếu, rồi đo lượng mực mới trong "
        "từng ô hoặc quanh từng chữ số được khoanh để xác định lựa chọn của người trả lời; ý "
        "kiến viết tay được đọc bằng phần mềm nhận dạng chữ (tiếng Việt).",
        "Phần mềm không đoán: dấu mờ, câu một lựa chọn có nhiều hơn một dấu, trang không đọc "
        "được, số sê-ri trùng hay phiếu thiếu trang đều được đưa ra để cán bộ xem lại trên ảnh "
        f"quét. Trong kỳ này {reviewed} phiếu đã được cán bộ xem lại và quyết định trực tiếp.",
        METHOD_NOTES[result.method],
    ]
    channels = chosen["channel"].value_counts() if "channel" in chosen else pd.Series(dtype=int)
    elsewhere = int(channels.drop(labels=[Channel.PAPER], errors="ignore").sum())
    if elsewhere:
        paragraphs.append(
            f"Ngoài phiếu giấy, {elsewhere} phiếu được trả lời trực tuyến hoặc tại ki-ốt và "
            "được tính cùng phiếu giấy; mỗi câu trả lời được kiểm tra theo mẫu phiếu trước khi "
            "nhập."
        )
    if result.provisional:
        paragraphs.append(
            f"Số liệu tạm tính: còn {result.provisional.answers_to_review} câu trả lời trên "
            f"{result.provisional.sheets_to_review} phiếu chờ xem lại; các câu này chưa được "
            "tính vào tỷ lệ."
        )
    return tuple(paragraphs)


# --- number formats shared by both renderers -----------------------------------------


def format_percent(value: float | None) -> str:
    """`53.333` -> `53,3%` (Vietnamese decimal comma); `—` when there is no value."""
    return "—" if value is None else f"{value:.1f}%".replace(".", ",")


def format_mean(value: float | None) -> str:
    """`3.3333` -> `3,33`; `—` when there is no value."""
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def numbered(number: int, label: str) -> str:
    """`label` with its number in front (`2. Công chức`), unless the form's label already
    carries one (`II. Thủ tục hành chính`, `3. ...`)."""
    return label if _NUMBERED.match(label) else f"{number}. {label}"


_NUMBERED = re.compile(r"^\s*(?:[IVXLC]+|\d+)[.)]\s")


def format_count(value: int) -> str:
    """`12345` -> `12.345` (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")
