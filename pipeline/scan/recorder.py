"""Writing one page's results into the store, in one transaction, and the sheet checks.

The main process alone calls these. A page's row, its target scores, the sheet's
machine answers, comments, flags and the sheet's status are written together (for a
page read by its print but of unknown serial: its row, scores, the machine's answers in
`page_answers` and its `unreadable` flag, on no sheet), so an
interrupted scan leaves each page either fully stored or not at all. Image files are
written *before* the transaction, atomically, under names fixed by (source, page):
a re-run after a crash rewrites the same files and then inserts the row.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from forms.durable import disk_error, write_bytes_atomic
from omr.decide import REASON_TEXTS
from omr.failures import FailureReason
from omr.reading import PageFailure, PageReading, QuestionReading, TextReading
from pipeline.scan.copies import decide_copy
from pipeline.scan.scores import score_rows
from pipeline.scan.workers import PageResult
from pipeline.store import schema
from pipeline.store.database import (
    get_or_create_batch,
    insert_ignore,
    lock_sheet,
    open_flag,
    refresh_sheet_status,
    utcnow,
)
from pipeline.store.sheets import settle_complete, settle_missing
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagReason, PageNote, PageStatus, SheetStatus

UNKNOWN_FORM_REASONS = frozenset({FailureReason.UNKNOWN_FORM, FailureReason.UNKNOWN_PAGE})
ARRIVED = "trang còn thiếu đã được quét / the missing page arrived"


@dataclass(frozen=True)
class FormInfo:
    """What the recorder needs to know about a form: its pages and question types."""

    form_id: str
    version: int
    page_count: int
    question_types: Mapping[str, str]  # id -> single | multi | text, in form order
    question_pages: Mapping[str, int] = field(default_factory=dict)  # id -> page number


@dataclass(frozen=True)
class PageOutcome:
    """What happened to one page, for the scan summary."""

    status: str  # read | failed | duplicate | already (stored before)
    reason: str = ""
    message: str = ""
    serial: int | None = None
    form: str | None = None
    flags: tuple[str, ...] = ()  # reasons of the flags this page opened
    version: int | None = None


def image_paths(images_dir: Path, source_id: int, index: int) -> tuple[Path, Path]:
    """(page image path, crop folder) of a page; fixed by (source, page) so re-runs
    overwrite rather than add."""
    folder = images_dir / f"s{source_id:05d}"
    return folder / f"p{index:04d}.jpg", folder / f"p{index:04d}"


def _write_atomic(path: Path, data: bytes) -> None:
    # Two stations sharing the images folder may write the same page (the same file
    # scanned at both): each writes its own temporary file, the rename is atomic. A
    # full disk removes the temporary file and stops the scan with a plain message.
    try:
        write_bytes_atomic(path, data)
    except OSError as err:
        raise disk_error(path, err) from err


def write_images(result: PageResult, images_dir: Path) -> tuple[Path | None, dict[str, Path]]:
    """Write the page image and comment crops of `result`; returns their paths."""
    page_path, crop_dir = image_paths(images_dir, result.task.source_id, result.task.index)
    if result.page_jpeg is None:
        return None, {}
    _write_atomic(page_path, result.page_jpeg)
    crops = {}
    for question, png in result.crops:
        path = crop_dir / f"{question}.png"
        _write_atomic(path, png)
        crops[question] = path
    return page_path, crops


def _quality_columns(reading: PageReading | PageFailure | None) -> dict:
    quality = getattr(reading, "quality", None)
    if quality is None:
        return {}
    return {
        "markers_found": quality.markers_found,
        "rotation": quality.rotation,
        "reprojection_error_mm": float(quality.reprojection_error_mm),
        "skew_deg": float(quality.skew_deg),
        "scale_px_per_mm": float(quality.scale_px_per_mm),
        "sharpness": float(quality.sharpness),
    }


def record_page(
    conn: sa.Connection,
    result: PageResult,
    *,
    batch_id: int,
    forms: Mapping[tuple[str, int], FormInfo],
    relative: Callable[[Path], str],
    page_path: Path | None,
    crop_paths: Mapping[str, Path],
) -> PageOutcome:
    """Store one page's result (call inside `engine.begin()`: one transaction).

    `relative` turns an absolute image path into the workspace-relative path stored.
    Returns what happened; `status == "already"` when the page was stored before
    (nothing is written twice).
    """
    task = result.task
    row = {
        "source_id": task.source_id,
        "page_index": task.index,
        "scanned_at": utcnow(),
        "seconds": result.seconds,
        "image_path": relative(page_path) if page_path else None,
        "image_px_per_mm": result.image_px_per_mm or None,
        "image_registered": result.image_registered,
        **_quality_columns(result.reading),
    }
    if result.problem is not None:
        return _record_failure(conn, row, result.problem.reason, result.problem.message, None)
    reading = result.reading
    if isinstance(reading, PageFailure) and reading.reading is not None:
        return _record_unplaced(conn, row, reading, forms, relative, crop_paths)
    if isinstance(reading, PageFailure):
        return _record_failure(conn, row, reading.reason, reading.message, reading)
    assert isinstance(reading, PageReading)
    return _record_reading(conn, row, reading, batch_id, forms, relative, crop_paths)


def _insert_page(conn: sa.Connection, row: dict) -> int | None:
    if not insert_ignore(conn, schema.pages, row, ["source_id", "page_index"]):
        return None
    p = schema.pages
    return int(conn.execute(
        sa.select(p.c.id).where(
            p.c.source_id == row["source_id"], p.c.page_index == row["page_index"]
        )
    ).scalar_one())


def _record_failure(
    conn: sa.Connection, row: dict, reason: str, message: str, failure: PageFailure | None
) -> PageOutcome:
    identity = failure.identity if failure is not None else None
    if identity is not None:
        row |= {
            "form": identity.form_id,
            "version": identity.version,
            "page_number": identity.page,
            "serial": identity.serial,
        }
    page_id, flag = _insert_failed(conn, row, reason, message)
    if page_id is None:
        return PageOutcome("already")
    return PageOutcome(
        PageStatus.FAILED,
        reason=reason,
        message=message,
        serial=identity.serial if identity else None,
        form=identity.form_id if identity else None,
        flags=(flag,),
    )


def _insert_failed(conn: sa.Connection, row: dict, reason: str,
                   message: str) -> tuple[int | None, FlagReason]:
    """Insert a `failed` page's row and open its page flag (`unknown_form` for a form or
    page the survey lacks, else `unreadable`: a person keys or rejects it). Returns (its
    id, None when the page was stored before; the flag's reason)."""
    flag = FlagReason.UNKNOWN_FORM if reason in UNKNOWN_FORM_REASONS else FlagReason.UNREADABLE
    page_id = _insert_page(conn, row | {"status": PageStatus.FAILED, "reason": reason, "message": message})
    if page_id is not None:
        open_flag(conn, reason=flag, detail=message, page_id=page_id)
    return page_id, flag


def _record_unplaced(
    conn: sa.Connection,
    row: dict,
    failure: PageFailure,
    forms: Mapping[tuple[str, int], FormInfo],
    relative: Callable[[Path], str],
    crop_paths: Mapping[str, Path],
) -> PageOutcome:
    """A page read by its print, its QR code unread: its form and page are known, its
    serial is not. It is stored `failed` (its `unreadable` flag asks a person for the
    serial) with its form and page, its target scores and the machine's answers in
    `page_answers`, on no sheet. Nothing of it counts until a person types the serial:
    counted under no serial, a sheet also scanned elsewhere would count twice."""
    assert failure.reading is not None
    ident = failure.reading.identity
    row |= {"form": ident.form_id, "version": ident.version, "page_number": ident.page}
    page_id, flag = _insert_failed(conn, row, failure.reason, failure.message)
    if page_id is None:
        return PageOutcome("already")
    _insert_scores(conn, page_id, failure.reading)
    info = forms[(ident.form_id, ident.version)]
    texts = {t.question: t for t in failure.reading.texts}
    now = utcnow()
    rows = [{"page_id": page_id, "question": a.question, "value": a.value, "status": a.status,
             "reasons": "|".join(a.reasons),
             "confidence": float(texts[a.question].confidence) if a.question in texts else None,
             "crop_path": relative(crop_paths[a.question]) if a.question in crop_paths else None,
             "created_at": now}
            for a in machine_answers(failure.reading, info)]
    if rows:
        conn.execute(sa.insert(schema.page_answers), rows)
    return PageOutcome(PageStatus.FAILED, reason=failure.reason, message=failure.message,
                       form=ident.form_id, flags=(flag,), version=ident.version)


def _sheet_id(conn: sa.Connection, reading: PageReading, batch_id: int) -> int:
    ident = reading.identity
    s = schema.sheets
    insert_ignore(
        conn,
        s,
        {
            "form": ident.form_id,
            "version": ident.version,
            "serial": ident.serial,
            "status": SheetStatus.COUNTED,
            "batch_id": batch_id,
            "first_scanned_at": utcnow(),
        },
        ["form", "version", "serial"],
    )
    return int(conn.execute(
        sa.select(s.c.id).where(
            s.c.form == ident.form_id, s.c.version == ident.version, s.c.serial == ident.serial
        )
    ).scalar_one())


def _stored(conn: sa.Connection, source_id: int, page_index: int) -> bool:
    """Whether this input page is stored already (a re-run, or another station)."""
    p = schema.pages
    return conn.execute(
        sa.select(p.c.id).where(p.c.source_id == source_id, p.c.page_index == page_index)
    ).first() is not None


def _record_reading(
    conn: sa.Connection,
    row: dict,
    reading: PageReading,
    batch_id: int,
    forms: Mapping[tuple[str, int], FormInfo],
    relative: Callable[[Path], str],
    crop_paths: Mapping[str, Path],
) -> PageOutcome:
    ident = reading.identity
    info = forms[(ident.form_id, ident.version)]
    sheet_id = _sheet_id(conn, reading, batch_id)
    # Check-then-write on the sheet's pages: another station may be storing a copy of
    # the same serial right now; the sheet's lock makes the two take turns.
    lock_sheet(conn, sheet_id)
    if _stored(conn, row["source_id"], row["page_index"]):
        return PageOutcome("already")
    # Which copy counts is decided per physical copy (pipeline.scan.copies), never page
    # by page: a copy's pages are not mixed with another's.
    decision = decide_copy(conn, sheet_id, ident.serial, ident.page, row["source_id"])
    duplicate = not decision.counts
    status = PageStatus.DUPLICATE if duplicate else PageStatus.READ
    row |= {
        "status": status,
        "reason": PageNote.DUPLICATE_SERIAL if duplicate else "",
        "form": ident.form_id,
        "version": ident.version,
        "page_number": ident.page,
        "serial": ident.serial,
        "sheet_id": sheet_id,
    }
    if duplicate:
        row["message"] = decision.message
    page_id = _insert_page(conn, row)
    if page_id is None:
        return PageOutcome("already")
    _insert_scores(conn, page_id, reading)
    _insert_comments(conn, sheet_id, page_id, reading.texts, relative, crop_paths)
    opened: list[str] = []
    if duplicate:
        open_flag(conn, reason=FlagReason.DUPLICATE, detail=row["message"], sheet_id=sheet_id,
                  page_id=page_id)
        opened.append(FlagReason.DUPLICATE)
    else:
        opened += _insert_answers(conn, sheet_id, page_id, reading, info)
        opened += settle_complete(conn, sheet_id, info.page_count, ARRIVED)
    refresh_sheet_status(conn, sheet_id)
    return PageOutcome(status, reason=row["reason"], message=row.get("message", ""),
                       serial=ident.serial, form=ident.form_id, flags=tuple(opened),
                       version=ident.version)


def _insert_scores(conn: sa.Connection, page_id: int, reading: PageReading) -> None:
    rows = score_rows(page_id, reading.targets)
    if rows:
        conn.execute(sa.insert(schema.target_scores), rows)


def _insert_comments(
    conn: sa.Connection,
    sheet_id: int,
    page_id: int,
    texts: tuple[TextReading, ...],
    relative: Callable[[Path], str],
    crop_paths: Mapping[str, Path],
) -> None:
    rows = [
        {
            "sheet_id": sheet_id,
            "page_id": page_id,
            "question": t.question,
            "text": t.text,
            "confidence": float(t.confidence),
            "ink": float(t.ink),
            "blank": bool(t.blank),
            "crop_path": relative(crop_paths[t.question]) if t.question in crop_paths else None,
        }
        for t in texts
    ]
    if rows:
        conn.execute(sa.insert(schema.comments), rows)


def _text_question(text: TextReading, decided: QuestionReading | None) -> QuestionReading:
    # The reader decides low confidence (omr thresholds) and says so with a
    # QuestionReading; when it gave none, the ink alone says written or blank.
    if decided is not None:
        return decided
    if text.blank:
        return QuestionReading(text.question, "no_answer")
    return QuestionReading(text.question, "answered", (text.text,))


@dataclass(frozen=True)
class MachineAnswer:
    """The machine's answer to one question of a page, as stored."""

    question: str
    status: AnswerStatus
    value: str  # codes "|"-joined in form order, or the OCR text
    reasons: tuple[str, ...] = ()  # why it is flagged (none when it is not)


def machine_answers(reading: PageReading, info: FormInfo) -> list[MachineAnswer]:
    """The machine's answer to each question of the form that `reading` holds, in form
    order: what the reader decided (a text question: its OCR text, written or blank)."""
    decided = {q.question: q for q in reading.questions}
    texts = {t.question: t for t in reading.texts}
    out = []
    for qid, qtype in info.question_types.items():
        if qtype == "text":
            if qid not in texts:
                continue
            q = _text_question(texts[qid], decided.get(qid))
            value = texts[qid].text if not texts[qid].blank else ""
        else:
            if qid not in decided:
                continue
            q = decided[qid]
            value = "|".join(q.value)
        status = AnswerStatus(q.status)  # the reader's word (omr.reading.QuestionStatus) as stored
        reasons = tuple(q.reasons or (FlagReason.MARGINAL,)) if status is AnswerStatus.FLAGGED else ()
        out.append(MachineAnswer(qid, status, value, reasons))
    return out


def _insert_answers(
    conn: sa.Connection, sheet_id: int, page_id: int, reading: PageReading, info: FormInfo
) -> list[str]:
    now = utcnow()
    opened: list[str] = []
    for answer in machine_answers(reading, info):
        insert_ignore(conn, schema.answers,
                      {"sheet_id": sheet_id, "page_id": page_id, "question": answer.question,
                       "source": AnswerSource.MACHINE, "value": answer.value,
                       "status": answer.status, "created_at": now},
                      ["sheet_id", "question", "source"])
        for reason in answer.reasons:
            open_flag(conn, reason=reason, detail=_flag_detail(reading, answer.question, reason),
                      sheet_id=sheet_id, page_id=page_id, question=answer.question)
            opened.append(reason)
    return opened


def _flag_detail(reading: PageReading, question: str, reason: str) -> str:
    scores = ", ".join(
        f"{t.option}={t.score:.2f}({t.state})" for t in reading.targets if t.question == question
    )
    if reason == FlagReason.LOW_CONFIDENCE:
        text = next((t for t in reading.texts if t.question == question), None)
        conf = f"{text.confidence:.0f}" if text else "?"
        return f"Độ tin cậy OCR thấp / low OCR confidence ({conf}/100)"
    return f"{REASON_TEXTS.get(reason, reason)}: {scores}"


def flag_missing_pages(conn: sa.Connection, forms: Mapping[tuple[str, int], FormInfo]) -> int:
    """Open a `missing_page` flag on every sheet that lacks a page (end of a scan), or open
    it again when the machine had closed it (`sheets.settle_missing`, as keying does).

    `settle_missing` also closes a `missing_page` flag the machine opened when nothing of
    the sheet counts any more. Idempotent (flags are keyed); returns how many
    `missing_page` flags were opened or opened again.
    """
    s, p = schema.sheets, schema.pages
    counts = conn.execute(
        sa.select(s.c.id, s.c.form, s.c.version, sa.func.count(sa.distinct(p.c.page_number)))
        .join(p, sa.and_(p.c.sheet_id == s.c.id, p.c.status == PageStatus.READ), isouter=True)
        .group_by(s.c.id, s.c.form, s.c.version)
        .order_by(s.c.id)  # locks below taken in one order: two stations cannot deadlock
    ).all()
    opened = 0
    for sheet_id, form, version, have in counts:
        info = forms.get((form, version))
        if info is None or have >= info.page_count:
            continue
        lock_sheet(conn, sheet_id)  # the missing page may be being stored by another station
        if FlagReason.MISSING_PAGE in settle_missing(conn, sheet_id, info.page_count, ARRIVED):
            opened += 1
        refresh_sheet_status(conn, sheet_id)
    return opened


def ensure_batch(conn: sa.Connection, name: str) -> int:
    """The batch id for `name` (created if new)."""
    return get_or_create_batch(conn, name)
