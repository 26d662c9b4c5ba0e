"""What waits for review: open flags grouped into items (one per subject), the queue's
counts, and everything a reviewer needs to see about one item.

Read-only: nothing here writes to the store (claims and decisions do).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa

from forms.geometry import PageGeometry, Target
from forms.layout import layout_form
from forms.model import Form, Question
from omr.decide import BETWEEN, CORRECTION, CORRECTION_RULE
from omr.template import DIGIT_ZONE_MM
from pipeline.review import tables
from pipeline.review.errors import ReviewError
from pipeline.review.suggest import suggestion
from pipeline.store import schema
from pipeline.store.queue import (
    TEXT_REASONS,
    QueueEntry,
    entries_of,
    flag_rows,
    subject_flags_where,
    subject_of,
)
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagReason, PageStatus

# A `between` item shows the targets of other questions this near one of its own (centre
# to centre): the reader weighs a stroke within DIGIT_ZONE_MM of a digit, and the target
# it may belong to instead lies within as much again of that stroke.
NEIGHBOUR_REACH_MM = 2 * DIGIT_ZONE_MM

# What a reviewer can decide, per kind of item (see `pipeline.review.decisions`).
ACTIONS: dict[str, tuple[str, ...]] = {
    "choice": ("answer", AnswerStatus.NO_ANSWER, AnswerStatus.INVALID),
    "text": ("text", AnswerStatus.NO_ANSWER, AnswerStatus.INVALID),
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
    return entries_of(flag_rows(conn, subject_flags_where(subject)))[0]


def item_kind(entry: QueueEntry, question: Question | None) -> str:
    """`choice`, `text`, `duplicate`, `page` or `sheet`: which decisions apply."""
    if entry.subject.startswith("q:"):
        if (question is not None and question.type == "text") or entry.reason in TEXT_REASONS:
            return "text"
        return "choice"
    if entry.subject.startswith("page:"):
        return "duplicate" if FlagReason.DUPLICATE in entry.reasons else "page"
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
    question: str = ""  # the question it belongs to (set on a neighbour of another question)


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
    # a `between` item: other questions' targets next to this one's, shown in its crop
    neighbours: tuple[TargetView, ...] = ()
    # a `correction` item: the correction rule printed on the form, (Vietnamese, English)
    rule: tuple[str, str] | None = None
    # a failed page read by its print (serial unknown): the machine's answers, by question
    page_reading: Mapping[str, MachineRead] = field(default_factory=dict)


@dataclass(frozen=True)
class MachineRead:
    """The machine's answer to one question of a page read by its print, its serial unknown
    (`page_answers`): never counted, the start a clerk keys the page in from."""

    status: str  # answered | no_answer | flagged
    value: str  # codes "|"-joined in form order, or the OCR text
    reasons: tuple[str, ...]  # why it is flagged
    inked: tuple[str, ...]  # the options marked or marginal (what the machine saw)
    confidence: float | None  # a text question's OCR confidence
    crop_path: str | None  # a written text field's crop

    @property
    def sure(self) -> bool:
        return self.status != AnswerStatus.FLAGGED


def page_reading(conn: sa.Connection, page_id: int | None) -> dict[str, MachineRead]:
    """question id -> the machine's answer, for a page read by its print (empty for any
    other page: its answers, if any, are on its sheet)."""
    if page_id is None:
        return {}
    pa, t = schema.page_answers, schema.target_scores
    inked: dict[str, list[str]] = {}
    for r in conn.execute(sa.select(t.c.question, t.c.option).where(
            t.c.page_id == page_id, t.c.state != "empty").order_by(t.c.id)):  # marked or marginal
        inked.setdefault(r.question, []).append(r.option)
    return {r.question: MachineRead(r.status, r.value, tuple(filter(None, r.reasons.split("|"))),
                                    tuple(inked.get(r.question, ())),
                                    None if r.confidence is None else float(r.confidence),
                                    r.crop_path)
            for r in conn.execute(sa.select(pa).where(pa.c.page_id == page_id).order_by(pa.c.id))}


def option_keys(question: Question) -> dict[str, str]:
    """option code -> keyboard key: the code itself when it is one character (the
    printed digits 1-5), else its position 1..9 in the form."""
    codes = [o.code for o in question.options]
    if all(len(c) == 1 and c != "0" for c in codes):
        return {c: c for c in codes}
    return {c: str(i) for i, c in enumerate(codes, start=1) if i <= 9}


def _scores(conn: sa.Connection, page_id: int, questions: Iterable[str]) -> dict[tuple[str, str], Any]:
    """(question, option) -> the reader's stored score row, on page `page_id`."""
    t = schema.target_scores
    return {(r.question, r.option): r for r in conn.execute(
        sa.select(t.c.question, t.c.option, t.c.score, t.c.state, t.c.offset_x_mm, t.c.offset_y_mm)
        .where(t.c.page_id == page_id, t.c.question.in_(list(questions)))
    ).all()}


def _view(option: str, label: str, key: str, placed: Target | None, s: Any,
          question: str = "") -> TargetView:
    return TargetView(
        option=option, label=label, key=key,
        shape=placed.shape if placed is not None else "box",
        score=None if s is None else float(s.score),
        state="" if s is None else s.state,
        bbox_mm=placed.bbox_mm if placed is not None else (0.0, 0.0, 0.0, 0.0),
        offset_mm=(0.0, 0.0) if s is None else (float(s.offset_x_mm), float(s.offset_y_mm)),
        question=question,
    )


def _targets(conn: sa.Connection, entry: QueueEntry, question: Question | None,
             geometry: PageGeometry | None) -> tuple[TargetView, ...]:
    if question is None or not question.options or entry.page_id is None:
        return ()
    scores = _scores(conn, entry.page_id, [question.id])
    placed = {g.option: g for g in (geometry.targets if geometry else ()) if g.question == question.id}
    keys = option_keys(question)
    return tuple(_view(opt.code, opt.label, keys.get(opt.code, ""), placed.get(opt.code),
                       scores.get((question.id, opt.code))) for opt in question.options)


def _centre(bbox: tuple[float, float, float, float]) -> tuple[float, float]:
    return bbox[0] + bbox[2] / 2, bbox[1] + bbox[3] / 2


def neighbour_targets(geometry: PageGeometry, question: str,
                      reach_mm: float = NEIGHBOUR_REACH_MM) -> tuple[Target, ...]:
    """The targets of other questions whose centre lies within `reach_mm` of a target of
    `question`: where a mark between two questions' targets may belong instead (in a
    rating matrix, the digits of the rows above and below)."""
    own = [_centre(t.bbox_mm) for t in geometry.targets if t.question == question]
    out = []
    for t in geometry.targets:
        if t.question == question:
            continue
        cx, cy = _centre(t.bbox_mm)
        if any((cx - x) ** 2 + (cy - y) ** 2 <= reach_mm ** 2 for x, y in own):
            out.append(t)
    return tuple(out)


def _neighbours(conn: sa.Connection, entry: QueueEntry, question: Question | None,
                geometry: PageGeometry | None) -> tuple[TargetView, ...]:
    """For a `between` item: the nearby targets of other questions, with their scores."""
    if BETWEEN not in entry.reasons or question is None or geometry is None or entry.page_id is None:
        return ()
    near = neighbour_targets(geometry, question.id)
    scores = _scores(conn, entry.page_id, {t.question for t in near})
    return tuple(_view(t.option, t.option, "", t, scores.get((t.question, t.option)), t.question)
                 for t in near)


def correction_rule(reasons: Iterable[str]) -> tuple[str, str] | None:
    """(Vietnamese, English) of the correction rule printed on the forms, for an item
    flagged `correction`; None for any other item."""
    if CORRECTION not in reasons:
        return None
    vi, _, en = CORRECTION_RULE.partition(" / ")
    return vi.strip(), en.strip()


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
        p.c.sheet_id == sheet_id, p.c.page_number == page_number, p.c.status == PageStatus.READ,
        p.c.id != page_id)).scalar()


def sheet_pages(conn: sa.Connection, sheet_id: int | None) -> tuple[tuple[int, int | None, str], ...]:
    """The pages of sheet `sheet_id` that have a stored image, as (page id, form page,
    status), counted copies first: the paper a sheet item is about."""
    if sheet_id is None:
        return ()
    p = schema.pages
    rows = conn.execute(sa.select(p.c.id, p.c.page_number, p.c.status).where(
        p.c.sheet_id == sheet_id, p.c.image_path.is_not(None))
        .order_by(p.c.status != PageStatus.READ, p.c.page_number, p.c.id)).all()
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
        machine = _answer(conn, entry.sheet_id, entry.question, AnswerSource.MACHINE)
        person = _answer(conn, entry.sheet_id, entry.question, AnswerSource.PERSON)
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
        neighbours=_neighbours(conn, entry, question, geometry),
        rule=correction_rule(entry.reasons),
        page_reading=page_reading(conn, entry.page_id)
        if page is not None and page.status == PageStatus.FAILED else {},
    )
