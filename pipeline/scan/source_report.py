"""What the store holds for one input file, read back after it was scanned.

`phieu watch` prints one line per file from it and the capture page answers a photo
from it: both say what was *stored* (the same rows pages.csv and the review queue
show), never what a reader returned before recording, so the clerk's screen and the
store cannot disagree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagStatus, PageStatus


@dataclass(frozen=True)
class FlagNote:
    """An open review flag on the page (or on its sheet as a whole)."""

    reason: str
    question: str | None
    detail: str
    flag_id: int = 0


@dataclass(frozen=True)
class PageReport:
    """One stored page of the file."""

    page_id: int
    index: int  # page of the file, from 1
    status: str  # PageStatus
    reason: str
    message: str
    form: str | None
    version: int | None
    page_number: int | None  # page of the form
    serial: int | None
    answered: int  # the machine's answers on this page that were marked or written
    questions: int  # questions of the form on this page (0 for a page not counted)
    flags: tuple[FlagNote, ...]
    sheet_status: str | None
    has_image: bool


@dataclass(frozen=True)
class SourceReport:
    """One input file (a source) and its stored pages."""

    source_id: int
    path: str
    status: str  # SourceStatus
    page_count: int
    pages: tuple[PageReport, ...]

    def counts(self) -> Counter[str]:
        return Counter(p.status for p in self.pages)


def source_report(conn: sa.Connection, sha256: str) -> SourceReport | None:
    """The stored file with this content hash and its pages, or None if not stored."""
    src, p = schema.sources, schema.pages
    source = conn.execute(sa.select(src.c.id, src.c.path, src.c.status, src.c.page_count)
                          .where(src.c.sha256 == sha256)).first()
    if source is None:
        return None
    rows = conn.execute(
        sa.select(p.c.id, p.c.page_index, p.c.status, p.c.reason, p.c.message, p.c.form,
                  p.c.version, p.c.page_number, p.c.serial, p.c.sheet_id, p.c.image_path)
        .where(p.c.source_id == source.id).order_by(p.c.page_index)
    ).all()
    pages = tuple(_page_report(conn, row) for row in rows)
    return SourceReport(source.id, source.path, source.status, source.page_count, pages)


def _page_report(conn: sa.Connection, row: sa.Row) -> PageReport:
    a, f, s = schema.answers, schema.flags, schema.sheets
    answered = questions = 0
    if row.status == PageStatus.READ:
        by_status: dict[str, int] = dict(conn.execute(
            sa.select(a.c.status, sa.func.count())
            .where(a.c.page_id == row.id, a.c.source == AnswerSource.MACHINE)
            .group_by(a.c.status)).all())
        answered, questions = by_status.get(AnswerStatus.ANSWERED, 0), sum(by_status.values())
    on_page = f.c.page_id == row.id
    # Whole-sheet flags (a page still missing, a blank ballot) concern this page's sheet too.
    on_sheet = sa.and_(f.c.sheet_id == row.sheet_id, f.c.page_id.is_(None)) if row.sheet_id else sa.false()
    flags = tuple(
        FlagNote(r.reason, r.question, r.detail or "", r.id)
        for r in conn.execute(sa.select(f.c.id, f.c.reason, f.c.question, f.c.detail)
                              .where(sa.or_(on_page, on_sheet), f.c.status == FlagStatus.OPEN)
                              .order_by(f.c.id))
    )
    sheet_status = None
    if row.sheet_id is not None:
        sheet_status = conn.execute(sa.select(s.c.status).where(s.c.id == row.sheet_id)).scalar()
    return PageReport(row.id, row.page_index, row.status, row.reason or "", row.message or "",
                      row.form, row.version, row.page_number, row.serial, answered, questions,
                      flags, sheet_status, bool(row.image_path))


def page_words(page: PageReport) -> str:
    """One page in a few words, Vietnamese first: serial, answers, flags, or why not read."""
    if page.status == PageStatus.READ:
        head = f"phiếu/sheet {page.form} số {page.serial}"
        if page.page_number is not None:
            head += f" trang/page {page.page_number}"
        text = f"{head}: {page.answered}/{page.questions} câu đã đọc/answers read"
    elif page.status == PageStatus.DUPLICATE:
        text = (f"phiếu số {page.serial} đã đọc trước đó / sheet {page.serial} was already read "
                "(bản trùng, chờ duyệt / duplicate, waits for review)")
    else:
        text = f"không đọc được / not read ({page.reason})"
    reasons = Counter(flag.reason for flag in page.flags if page.status != PageStatus.FAILED)
    if reasons:
        text += "; cờ/flags: " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
    return text


def file_line(path: Path | str, report: SourceReport) -> str:
    """One line for a file: its name, then each page (up to three), or counts per status."""
    name = Path(path).name
    if len(report.pages) <= 3:
        return f"{name}: " + " | ".join(page_words(p) for p in report.pages)
    counts = report.counts()
    # A whole-sheet flag shows on each page of its sheet: counted once.
    unique = {flag.flag_id: flag.reason for p in report.pages for flag in p.flags}
    flags = Counter(unique.values())
    text = (f"{name}: {len(report.pages)} trang/pages — đọc/read {counts.get(PageStatus.READ, 0)}, "
            f"trùng/duplicate {counts.get(PageStatus.DUPLICATE, 0)}, "
            f"không đọc được/not read {counts.get(PageStatus.FAILED, 0)}")
    if flags:
        text += "; cờ/flags: " + ", ".join(f"{r} {n}" for r, n in sorted(flags.items()))
    return text
