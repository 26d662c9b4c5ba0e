"""Written comments on their way out: how each is published, which topic it falls under,
and `comments.xlsx` with the handwriting beside each.

One rule decides how a comment is published, in the report and in the exports alike
(`shown_as`): as text when a person typed or confirmed it, or when OCR is sure by the
threshold that decides flagging (`omr.decide.ocr_sure`); otherwise as the image of the
handwriting. Nothing below that threshold is printed as text without a person's decision.
"""
from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from forms.durable import atomic_output
from forms.errors import BadInput
from forms.model import CommentTopic
from omr.decide import ocr_sure
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds
from pipeline.outputs.cells import clean_text, strings_not_formulas
from pipeline.store.vocabulary import AnswerStatus


class ShownAs(StrEnum):
    """How a written comment is published (`comments.csv` column `shown_as`)."""

    PERSON = "person"  # a person typed or confirmed the text
    OCR = "ocr"  # OCR sure by `ocr_min_confidence`, text that reads as words
    IMAGE = "image"  # only the image of the handwriting (not read surely, or illegible)
    NONE = "none"  # a person decided the box holds no comment


# Labels a person reads (report, comments.xlsx): Vietnamese first.
SHOWN_LABELS = {
    ShownAs.PERSON: "Cán bộ đã chép hoặc xác nhận / typed or confirmed by a person",
    ShownAs.OCR: "Máy đọc chắc chắn / OCR, sure",
    ShownAs.IMAGE: "Chỉ có ảnh chữ viết / image only",
    ShownAs.NONE: "Không có ý kiến / no comment",
}
OTHER_TOPIC = "Ý kiến khác"  # text that matches no topic's keyword
UNREAD_TOPIC = "Chưa chép thành chữ, in ảnh chữ viết tay"  # image only: no text to match keywords in


def shown_as(person_status: str | None, text: str | None, confidence: float | None,
             flagged: bool, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> ShownAs:
    """How a comment is published, from a person's decision if any (`answered`,
    `no_answer`, `invalid` = illegible), else from the machine's reading: an open flag
    or OCR that is not sure means the image."""
    if person_status == AnswerStatus.ANSWERED:
        return ShownAs.PERSON
    if person_status == AnswerStatus.NO_ANSWER:
        return ShownAs.NONE
    if person_status == AnswerStatus.INVALID or flagged:
        return ShownAs.IMAGE
    return ShownAs.OCR if ocr_sure(text, confidence, thresholds) else ShownAs.IMAGE


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _pattern(keyword: str) -> re.Pattern[str]:
    # Whole words: "ghế" must not match inside another word; spaces match any run of them.
    words = [re.escape(w) for w in _normal(keyword).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def topic_of(text: str, shown: ShownAs, topics: Sequence[CommentTopic]) -> str:
    """The topic a published comment falls under: the first of `topics` (file order: the
    office sets the precedence) with a keyword in the text; `OTHER_TOPIC` when none;
    `UNREAD_TOPIC` when only the image is published (no text to look in)."""
    if shown not in (ShownAs.PERSON, ShownAs.OCR):
        return UNREAD_TOPIC
    body = _normal(text)
    for topic in topics:
        if any(_pattern(k).search(body) for k in topic.keywords):
            return topic.label
    return OTHER_TOPIC


def topic_counts(topics_seen: Iterable[str], topics: Sequence[CommentTopic]) -> tuple[tuple[str, int], ...]:
    """(topic, number of comments) in the form's order, then "other", then "image only";
    topics with no comment are kept (a zero is information for the office)."""
    seen = list(topics_seen)
    order = [t.label for t in topics] + [OTHER_TOPIC, UNREAD_TOPIC]
    counts = [(label, seen.count(label)) for label in order]
    return tuple((label, n) for label, n in counts if n or label not in (OTHER_TOPIC, UNREAD_TOPIC))


# --- comments.xlsx --------------------------------------------------------------------

XLSX_COLUMNS = ("Số phiếu / serial", "Câu hỏi / question", "Chủ đề / topic",
                "Trạng thái / status", "Ý kiến / text", "Máy đọc (chưa chắc) / OCR guess",
                "Ảnh chữ viết tay / handwriting")
IMAGE_COLUMN = "G"
IMAGE_WIDTH_PX = 520  # the crop as embedded: about a printed line's width on screen
TEXT_WIDTH_CHARS = 60


def _thumbnail(path: Path) -> tuple[bytes, int, int] | None:
    try:
        with Image.open(path) as opened:
            image = opened.convert("L")
        if image.width > IMAGE_WIDTH_PX:
            height = max(1, round(image.height * IMAGE_WIDTH_PX / image.width))
            image = image.resize((IMAGE_WIDTH_PX, height))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), image.width, image.height
    except (OSError, ValueError):
        return None


def write_comments_xlsx(frame: pd.DataFrame, topics_by_form: dict[str, Sequence[CommentTopic]],
                        path: Path, root: Path) -> Path:
    """`frame` (`pipeline.outputs.export.comments_frame`) as an Excel workbook: one row per
    comment with serial, question, topic, status (`SHOWN_LABELS`), the published text, the
    OCR guess where the text is not published, and the crop of the handwriting embedded in
    the last column. Comments a person marked as no comment are left out. Crop paths are
    resolved against `root`; a missing crop leaves its cell saying so."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XlImage
    from openpyxl.styles import Alignment, Font

    path = Path(path)
    if not path.parent.exists():
        raise BadInput(f"Không có thư mục / folder does not exist: {path.parent}",
                       "create it first or choose another output path")
    book = Workbook()
    sheet = book.active
    sheet.title = "Ý kiến"
    sheet.append(list(XLSX_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (10, 12, 26, 24, TEXT_WIDTH_CHARS, 30, IMAGE_WIDTH_PX / 7),
                             strict=True):
        sheet.column_dimensions[letter].width = width
    row = 1
    for record in frame.to_dict("records"):
        shown = ShownAs(record.get("shown_as") or ShownAs.IMAGE)
        if shown == ShownAs.NONE:
            continue
        row += 1
        text = str(record.get("text") or "")
        published = text if shown in (ShownAs.PERSON, ShownAs.OCR) else ""
        topics = topics_by_form.get(str(record.get("form", "")), ())
        sheet.append([int(record["serial"]), clean_text(str(record["question"])),
                      topic_of(text, shown, topics), SHOWN_LABELS[shown], clean_text(published),
                      "" if published else clean_text(text), ""])
        for cell in sheet[row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        crop = str(record.get("crop") or "")
        thumb = _thumbnail(Path(crop) if Path(crop).is_absolute() else root / crop) if crop else None
        if thumb is None:
            sheet[f"{IMAGE_COLUMN}{row}"] = "(không có ảnh / no image)"
            continue
        data, width, height = thumb
        image = XlImage(io.BytesIO(data))
        image.width, image.height = width, height
        sheet.add_image(image, f"{IMAGE_COLUMN}{row}")
        sheet.row_dimensions[row].height = height * 0.75 + 4  # points; the image's own height
    strings_not_formulas(sheet)  # a comment starting with "=" is text, never a formula
    with atomic_output(path) as temp:  # a kill or a full disk keeps the previous file
        book.save(temp)
    return path


def export_comments(survey: Any, path: Path) -> tuple[Path, int]:
    """`phieu export comments`: the survey's comments as comments.csv (`.csv`, the columns of
    DESIGN.md) or as the workbook of `write_comments_xlsx` (`.xlsx`). Returns the path
    and the number of rows written."""
    from pipeline.outputs.export import COMMENTS_COLUMNS, comments_frame, write_frame
    from pipeline.store.database import open_store
    from pipeline.store.survey import load_survey_forms

    store = open_store(survey.store_url, create=False)
    try:
        if Path(path).suffix.lower() != ".xlsx":
            frame = comments_frame(store, survey.root)[list(COMMENTS_COLUMNS)]
            return write_frame(frame, path), len(frame)
        frame = comments_frame(store)
    finally:
        store.engine.dispose()
    topics = {f.id: f.comment_topics for f in load_survey_forms(survey)}
    rows = int((frame["shown_as"] != ShownAs.NONE).sum()) if len(frame) else 0
    return write_comments_xlsx(frame, topics, path, survey.root), rows
