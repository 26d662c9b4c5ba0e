"""The review queue as the store holds it: open flags grouped into the items a person
decides, one per subject (a question of a sheet, a page, or a sheet and its reason).

Here, below the review app, so that `phieu status`, a scan's summary and the app count
items the same way (`open_items`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.vocabulary import FlagReason, FlagStatus

# Queue order: the order of the list of reasons; a reason the reader adds later
# comes last rather than disappearing.
REASON_ORDER: tuple[str, ...] = (
    FlagReason.MARGINAL,
    FlagReason.OVERVOTE,
    FlagReason.OFF_PAGE,
    FlagReason.FOLDED,
    FlagReason.BETWEEN,
    FlagReason.CORRECTION,
    FlagReason.LOW_CONFIDENCE,
    FlagReason.NOT_TRANSCRIBED,
    FlagReason.UNREADABLE,
    FlagReason.UNKNOWN_FORM,
    FlagReason.DUPLICATE,
    FlagReason.MISSING_PAGE,
    FlagReason.BLANK_BALLOT,
)
TEXT_REASONS = frozenset({FlagReason.LOW_CONFIDENCE, FlagReason.NOT_TRANSCRIBED})
PAGE_REASONS = frozenset({FlagReason.UNREADABLE, FlagReason.UNKNOWN_FORM})


def subject_of(*, reason: str, sheet_id: int | None, page_id: int | None,
               question: str | None) -> str:
    """The subject key of a flag (see `pipeline.review.tables`)."""
    if question and sheet_id is not None:
        return f"q:{sheet_id}:{question}"
    if page_id is not None:
        return f"page:{page_id}"
    return f"sheet:{sheet_id}:{reason}"


def subject_flags_where(subject: str) -> sa.ColumnElement[bool]:
    """The SQL condition selecting the flags that belong to `subject`."""
    f = schema.flags
    kind, _, rest = subject.partition(":")
    if kind == "q":
        sheet, _, question = rest.partition(":")
        return sa.and_(f.c.sheet_id == int(sheet), f.c.question == question)
    if kind == "page":
        return sa.and_(f.c.page_id == int(rest), f.c.question.is_(None))
    if kind == "sheet":
        sheet, _, reason = rest.partition(":")
        return sa.and_(f.c.sheet_id == int(sheet), f.c.reason == reason,
                       f.c.page_id.is_(None), f.c.question.is_(None))
    raise ValueError(f"malformed review subject {subject!r}")


@dataclass(frozen=True)
class QueueEntry:
    """One item of the queue: the flags of one subject, open ones first."""

    flag_id: int | None  # the subject's first flag: the item's id in URLs (None: no flag)
    subject: str
    reason: str  # of the first open flag
    reasons: tuple[str, ...]
    sheet_id: int | None
    page_id: int | None
    question: str | None
    serial: int | None
    form: str | None
    detail: str
    open: bool


def flag_rows(conn: sa.Connection, where: Any = None) -> list[sa.Row]:
    f, s, p = schema.flags, schema.sheets, schema.pages
    stmt = (
        sa.select(f.c.id, f.c.reason, f.c.sheet_id, f.c.page_id, f.c.question, f.c.detail,
                  f.c.status, sa.func.coalesce(s.c.serial, p.c.serial).label("serial"),
                  sa.func.coalesce(s.c.form, p.c.form).label("form"))
        .select_from(f.outerjoin(s, s.c.id == f.c.sheet_id).outerjoin(p, p.c.id == f.c.page_id))
        .order_by(f.c.id)
    )
    if where is not None:
        stmt = stmt.where(where)
    return list(conn.execute(stmt).all())


def reason_rank(reason: str) -> int:
    return REASON_ORDER.index(reason) if reason in REASON_ORDER else len(REASON_ORDER)


def entries_of(rows: list[sa.Row]) -> list[QueueEntry]:
    grouped: dict[str, list[sa.Row]] = {}
    for row in rows:
        key = subject_of(reason=row.reason, sheet_id=row.sheet_id, page_id=row.page_id,
                         question=row.question)
        grouped.setdefault(key, []).append(row)
    entries = []
    for subject, flags in grouped.items():
        open_flags = [r for r in flags if r.status == FlagStatus.OPEN]
        lead = (open_flags or flags)[0]
        entries.append(QueueEntry(
            flag_id=flags[0].id,
            subject=subject,
            reason=lead.reason,
            reasons=tuple(dict.fromkeys(r.reason for r in flags)),
            sheet_id=lead.sheet_id,
            page_id=lead.page_id,
            question=lead.question,
            serial=None if lead.serial is None else int(lead.serial),
            form=lead.form,
            detail=" · ".join(dict.fromkeys(r.detail for r in (open_flags or flags))),
            open=bool(open_flags),
        ))
    entries.sort(key=lambda e: (reason_rank(e.reason), e.serial or 0, e.flag_id))
    return entries


def all_items(conn: sa.Connection, reason: str | None = None) -> list[QueueEntry]:
    """Every item, open or resolved, in queue order (optionally of one leading reason)."""
    return [e for e in entries_of(flag_rows(conn)) if reason is None or e.reason == reason]


def open_items(conn: sa.Connection, reason: str | None = None) -> list[QueueEntry]:
    """The items with at least one open flag, in queue order (reason, serial, flag),
    optionally only those whose leading reason is `reason`."""
    f = schema.flags
    open_subject_rows = flag_rows(conn, f.c.status == FlagStatus.OPEN)
    entries = entries_of(open_subject_rows)
    return [e for e in entries if reason is None or e.reason == reason]


@dataclass(frozen=True)
class ReasonCount:
    """Progress of one reason: items still open and items in all."""

    reason: str
    open: int
    total: int


def queue_counts(conn: sa.Connection) -> tuple[ReasonCount, ...]:
    """Per reason (queue order): open items and all items ever flagged for it."""
    entries = entries_of(flag_rows(conn))
    counts: dict[str, list[int]] = {}
    for e in entries:
        c = counts.setdefault(e.reason, [0, 0])
        c[0] += e.open
        c[1] += 1
    ordered = sorted(counts, key=reason_rank)
    return tuple(ReasonCount(r, counts[r][0], counts[r][1]) for r in ordered)
