"""What waits for review: open flags grouped into items (one per subject), the queue's
counts, and everything a reviewer needs to see about one item.

Read-only: nothing here writes to the store (claims and decisions do).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa

from forms.geometry import PageGeometry
from forms.layout import layout_form
from forms.model import Form, Question
from pipeline.review import tables
from pipeline.review.errors import ReviewError
from pipeline.review.suggest import suggestion
from pipeline.store import schema

# Queue order: the order of the list of reasons; a reason the reader adds later
# comes last rather than disappearing.
REASON_ORDER: tuple[str, ...] = (
    "marginal",
    "overvote",
    "off_page",
    "low_confidence",
    "not_transcribed",
    "unreadable",
    "unknown_form",
    "duplicate",
    "missing_page",
    "blank_ballot",
)
TEXT_REASONS = frozenset({"low_confidence", "not_transcribed"})
PAGE_REASONS = frozenset({"unreadable", "unknown_form"})
SHEET_REASONS = frozenset({"missing_page", "blank_ballot"})

# What a reviewer can decide, per kind of item (see `pipeline.review.decisions`).
ACTIONS: dict[str, tuple[str, ...]] = {
    "choice": ("answer", "no_answer", "invalid"),
    "text": ("text", "no_answer", "invalid"),
    "duplicate": ("keep_first", "reject_sheet"),
    "page": ("assign", "reject_page"),
    "sheet": ("accept", "reject_sheet"),
}


@dataclass(frozen=True)
class FormCatalog:
    """The survey's forms and their page geometry, by (form id, version)."""

    forms: Mapping[tuple[str, int], Form]
    pages: Mapping[tuple[str, int], tuple[PageGeometry, ...]]

    def form(self, form_id: str | None, version: int | None) -> Form | None:
        return self.forms.get((form_id or "", version or 0))

    def page(self, form_id: str | None, version: int | None, number: int | None) -> PageGeometry | None:
        pages = self.pages.get((form_id or "", version or 0), ())
        for geo in pages:
            if geo.page == number:
                return geo
        return None


def build_form_catalog(forms: Iterable[Form]) -> FormCatalog:
    """Lay out every form once (review crops come from the same geometry as printing)."""
    by_key = {(f.id, f.version): f for f in forms}
    pages = {k: tuple(p.geometry for p in layout_form(f).pages) for k, f in by_key.items()}
    return FormCatalog(by_key, pages)


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
    raise ReviewError(f"Mục không hợp lệ / malformed review subject {subject!r}")


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


def _flag_rows(conn: sa.Connection, where: Any = None) -> list[sa.Row]:
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


def _reason_rank(reason: str) -> int:
    return REASON_ORDER.index(reason) if reason in REASON_ORDER else len(REASON_ORDER)


def _entries(rows: list[sa.Row]) -> list[QueueEntry]:
    grouped: dict[str, list[sa.Row]] = {}
    for row in rows:
        key = subject_of(reason=row.reason, sheet_id=row.sheet_id, page_id=row.page_id,
                         question=row.question)
        grouped.setdefault(key, []).append(row)
    entries = []
    for subject, flags in grouped.items():
        open_flags = [r for r in flags if r.status == "open"]
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
    entries.sort(key=lambda e: (_reason_rank(e.reason), e.serial or 0, e.flag_id))
    return entries


def all_items(conn: sa.Connection, reason: str | None = None) -> list[QueueEntry]:
    """Every item, open or resolved, in queue order (optionally of one leading reason)."""
    return [e for e in _entries(_flag_rows(conn)) if reason is None or e.reason == reason]


def open_items(conn: sa.Connection, reason: str | None = None) -> list[QueueEntry]:
    """The items with at least one open flag, in queue order (reason, serial, flag),
    optionally only those whose leading reason is `reason`."""
    f = schema.flags
    open_subject_rows = _flag_rows(conn, f.c.status == "open")
    entries = _entries(open_subject_rows)
    return [e for e in entries if reason is None or e.reason == reason]


@dataclass(frozen=True)
class ReasonCount:
    """Progress of one reason: items still open and items in all."""

    reason: str
    open: int
    total: int


def queue_counts(conn: sa.Connection) -> tuple[ReasonCount, ...]:
    """Per reason (queue order): open items and all items ever flagged for it."""
    entries = _entries(_flag_rows(conn))
    counts: dict[str, list[int]] = {}
    for e in entries:
        c = counts.setdefault(e.reason, [0, 0])
        c[0] += e.open
        c[1] += 1
    ordered = sorted(counts, key=_reason_rank)
    return tuple(ReasonCount(r, counts[r][0], counts[r][1]) for r in ordered)


def entry_for_flag(conn: sa.Connection, flag_id: int) -> QueueEntry:
    """The item a flag belongs to (open or not). Raises `ReviewError` for an unknown id."""
    f = schema.flags
    row = conn.execute(sa.select(f.c.reason, f.c.sheet_id, f.c.page_id, f.c.question)
                       .where(f.c.id == flag_id)).first()
    if row is None:
        raise ReviewError(f"Không có mục số {flag_id} / no review item {flag_id}",
                          "go back to the queue")
    subject = subject_of(reason=row.reason, sheet_id=row.sheet_id, page_id=row.page_id,
                         question=row.question)
    return _entries(_flag_rows(conn, subject_flags_where(subject)))[0]


def item_kind(entry: QueueEntry, question: Question | None) -> str:
    """`choice`, `text`, `duplicate`, `page` or `sheet`: which decisions apply."""
    if entry.subject.startswith("q:"):
        if (question is not None and question.type == "text") or entry.reason in TEXT_REASONS:
            return "text"
        return "choice"
    if entry.subject.startswith("page:"):
        return "duplicate" if "duplicate" in entry.reasons else "page"
    return "sheet"


def current_version(conn: sa.Connection, subject: str) -> int:
    """How many decisions were recorded on `subject` (0 when none): the version a
    decision must be based on."""
    d = tables.decisions
    return int(conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(d.c.seq), 0)).where(d.c.subject == subject)
    ).scalar_one())


@dataclass(frozen=True)
class TargetView:
    """One target of the question as read: where it is and what the reader scored."""

    option: str
    label: str
    key: str  # the keyboard key that picks it
    shape: str  # box | digit
    score: float | None
    state: str
    bbox_mm: tuple[float, float, float, float]
    offset_mm: tuple[float, float]


@dataclass(frozen=True)
class DecisionView:
    """One recorded decision, as the item page lists it."""

    id: int
    seq: int
    action: str
    value: str
    before_text: str
    after_text: str
    reviewer: str
    decided_at: Any
    undoes: int | None


@dataclass(frozen=True)
class ItemView:
    """Everything the item page shows about one item."""

    entry: QueueEntry
    kind: str
    actions: tuple[str, ...]
    version: int
    form: Form | None
    question: Question | None
    page_number: int | None
    source: str  # file name and page index of the page image
    has_image: bool
    targets: tuple[TargetView, ...]
    machine_value: str
    machine_status: str
    person_value: str | None
    person_status: str | None
    ocr_text: str
    ocr_confidence: float | None
    sheet_status: str | None
    page_status: str | None
    history: tuple[DecisionView, ...]
    text_bbox_mm: tuple[float, float, float, float] | None = None
    counted_page_id: int | None = None  # duplicate: the copy that counts, to compare
    suggestion: str = ""  # pre-filled in a comment's box (`pipeline.review.suggest`)
    # a sheet item (missing page, blank ballot): its pages with an image, (id, page, status)
    sheet_pages: tuple[tuple[int, int | None, str], ...] = ()


def option_keys(question: Question) -> dict[str, str]:
    """option code -> keyboard key: the code itself when it is one character (the
    printed digits 1-5), else its position 1..9 in the form."""
    codes = [o.code for o in question.options]
    if all(len(c) == 1 and c != "0" for c in codes):
        return {c: c for c in codes}
    return {c: str(i) for i, c in enumerate(codes, start=1) if i <= 9}


def _targets(conn: sa.Connection, entry: QueueEntry, question: Question | None,
             geometry: PageGeometry | None) -> tuple[TargetView, ...]:
    if question is None or not question.options or entry.page_id is None:
        return ()
    t = schema.target_scores
    scores = {r.option: r for r in conn.execute(
        sa.select(t.c.option, t.c.score, t.c.state, t.c.offset_x_mm, t.c.offset_y_mm)
        .where(t.c.page_id == entry.page_id, t.c.question == question.id)
    ).all()}
    placed = {g.option: g for g in (geometry.targets if geometry else ()) if g.question == question.id}
    keys = option_keys(question)
    views = []
    for opt in question.options:
        s = scores.get(opt.code)
        views.append(TargetView(
            option=opt.code, label=opt.label, key=keys.get(opt.code, ""),
            shape=placed[opt.code].shape if opt.code in placed else "box",
            score=None if s is None else float(s.score),
            state="" if s is None else s.state,
            bbox_mm=placed[opt.code].bbox_mm if opt.code in placed else (0.0, 0.0, 0.0, 0.0),
            offset_mm=(0.0, 0.0) if s is None else (float(s.offset_x_mm), float(s.offset_y_mm)),
        ))
    return tuple(views)


def _answer(conn: sa.Connection, sheet_id: int, question: str, source: str) -> sa.Row | None:
    a = schema.answers
    return conn.execute(sa.select(a.c.value, a.c.status).where(
        a.c.sheet_id == sheet_id, a.c.question == question, a.c.source == source)).first()


def history(conn: sa.Connection, subject: str) -> tuple[DecisionView, ...]:
    """The decisions on `subject`, oldest first."""
    d = tables.decisions
    rows = conn.execute(
        sa.select(d.c.id, d.c.seq, d.c.action, d.c.value, d.c.before_text, d.c.after_text,
                  d.c.reviewer, d.c.decided_at, d.c.undoes)
        .where(d.c.subject == subject).order_by(d.c.seq)
    ).all()
    return tuple(DecisionView(*r) for r in rows)


def _counted_copy(conn: sa.Connection, sheet_id: int | None, page_number: int | None,
                  page_id: int | None) -> int | None:
    """The page that counts for (sheet, form page), other than `page_id`."""
    p = schema.pages
    return conn.execute(sa.select(p.c.id).where(
        p.c.sheet_id == sheet_id, p.c.page_number == page_number, p.c.status == "read",
        p.c.id != page_id)).scalar()


def sheet_pages(conn: sa.Connection, sheet_id: int | None) -> tuple[tuple[int, int | None, str], ...]:
    """The pages of sheet `sheet_id` that have a stored image, as (page id, form page,
    status), counted copies first: the paper a sheet item is about."""
    if sheet_id is None:
        return ()
    p = schema.pages
    rows = conn.execute(sa.select(p.c.id, p.c.page_number, p.c.status).where(
        p.c.sheet_id == sheet_id, p.c.image_path.is_not(None))
        .order_by(p.c.status != "read", p.c.page_number, p.c.id)).all()
    return tuple((r.id, r.page_number, r.status) for r in rows)


def item_view(conn: sa.Connection, catalog: FormCatalog, flag_id: int) -> ItemView:
    """Everything about the item of flag `flag_id`. Raises `ReviewError` when unknown."""
    entry = entry_for_flag(conn, flag_id)
    p, s, src, c = schema.pages, schema.sheets, schema.sources, schema.comments
    page = None
    if entry.page_id is not None:
        page = conn.execute(
            sa.select(p.c.form, p.c.version, p.c.page_number, p.c.page_index, p.c.status,
                      p.c.image_path, src.c.path)
            .join(src, src.c.id == p.c.source_id).where(p.c.id == entry.page_id)
        ).first()
    sheet = None
    if entry.sheet_id is not None:
        sheet = conn.execute(sa.select(s.c.form, s.c.version, s.c.status)
                             .where(s.c.id == entry.sheet_id)).first()
    form_id, version = (sheet.form, sheet.version) if sheet else (
        (page.form, page.version) if page else (None, None))
    form = catalog.form(form_id, version)
    question = None
    if form is not None and entry.question:
        try:
            question = form.question(entry.question)
        except KeyError:
            question = None
    page_number = page.page_number if page else None
    geometry = catalog.page(form_id, version, page_number)
    kind = item_kind(entry, question)
    machine = person = None
    ocr_text, ocr_conf = "", None
    if entry.question and entry.sheet_id is not None:
        machine = _answer(conn, entry.sheet_id, entry.question, "machine")
        person = _answer(conn, entry.sheet_id, entry.question, "person")
        comment = conn.execute(sa.select(c.c.text, c.c.confidence).where(
            c.c.sheet_id == entry.sheet_id, c.c.question == entry.question)).first()
        if comment is not None:
            ocr_text, ocr_conf = comment.text, float(comment.confidence)
    return ItemView(
        entry=entry,
        kind=kind,
        actions=ACTIONS[kind],
        version=current_version(conn, entry.subject),
        form=form,
        question=question,
        page_number=page_number,
        source=f"{PurePath(page.path).name} #{page.page_index}" if page else "",
        has_image=bool(page and page.image_path),
        targets=_targets(conn, entry, question, geometry),
        machine_value=machine.value if machine else "",
        machine_status=machine.status if machine else "",
        person_value=person.value if person else None,
        person_status=person.status if person else None,
        ocr_text=ocr_text,
        ocr_confidence=ocr_conf,
        sheet_status=sheet.status if sheet else None,
        page_status=page.status if page else None,
        history=history(conn, entry.subject),
        counted_page_id=_counted_copy(conn, entry.sheet_id, page_number, entry.page_id)
        if kind == "duplicate" else None,
        text_bbox_mm=next((t.bbox_mm for t in (geometry.text_fields if geometry else ())
                           if t.question == entry.question), None),
        suggestion=suggestion(ocr_text, ocr_conf) if kind == "text" else "",
        sheet_pages=sheet_pages(conn, entry.sheet_id) if entry.page_id is None else (),
    )
