"""Recording a person's decision on an item, and undoing one.

A decision never overwrites the machine's reading: it writes (or replaces) the person's
answer row beside it, resolves the subject's flags, and may set a page or a sheet aside.
Each decision stores the subject's state before and after (JSON), so an undo is just
another decision whose "after" is an earlier "before".

Concurrency: a decision names the version it was based on (how many decisions the
subject had when the reviewer looked). It is inserted with `seq = version + 1` under a
unique (subject, seq) constraint, so when two reviewers decide on the same version only
the first insert succeeds and the second raises `StaleDecision`, in the same transaction
as the effects (nothing half-written).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from forms.model import Question
from pipeline.outputs.cells import clean_text
from pipeline.review import tables
from pipeline.review.claims import active_claim, claim
from pipeline.review.errors import ItemTaken, ReviewError, StaleDecision
from pipeline.review.items import ACTIONS, FormCatalog, current_version, entry_for_flag, item_kind
from pipeline.store import schema
from pipeline.store.database import refresh_sheet_status, utcnow
from pipeline.store.queue import QueueEntry, subject_flags_where
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagStatus, PageStatus, SheetStatus

# The key of a key-in's part of a decision's state (`keying`). Stored in every key-in's
# before/after state, so undoing an older key-in needs the same word; not `PageNote.KEYED`,
# though spelt alike (allowed in tests/test_vocabulary.py).
KEYED_STATE = "keyed"

MAX_TEXT = 4000  # a comment box holds a few lines; a longer paste is a mistake
# What a clerk types for no answer or an invalid answer (the review app's keys 0 and x,
# `phieu review set` and `phieu review key`), unless an option has that code.
NO_ANSWER_WORDS = ("none", "-", "0")
INVALID_WORDS = ("invalid", "x")
MAX_REVIEWER = 100


@dataclass(frozen=True)
class DecisionRecord:
    """A decision as stored."""

    id: int
    seq: int
    subject: str
    action: str
    value: str
    before_text: str
    after_text: str
    reviewer: str


def check_reviewer(name: str) -> str:
    """The reviewer's name, stripped of characters Excel cannot hold (the audit is
    exported) and of extra spaces; raises `ReviewError` when empty or too long."""
    name = " ".join(clean_text(name or "").split())
    if not name:
        raise ReviewError("Chưa có tên người duyệt / no reviewer name",
                          "enter your name (it is kept with every decision)")
    if len(name) > MAX_REVIEWER:
        raise ReviewError(f"Tên người duyệt quá dài / reviewer name longer than {MAX_REVIEWER} "
                          "characters", "use a shorter name")
    return name


# --- state of a subject ---------------------------------------------------------------


def _answer_row(conn: sa.Connection, sheet_id: int, question: str, source: str) -> dict | None:
    a = schema.answers
    row = conn.execute(sa.select(a.c.value, a.c.status, a.c.page_id).where(
        a.c.sheet_id == sheet_id, a.c.question == question, a.c.source == source)).first()
    return None if row is None else {"value": row.value, "status": row.status,
                                     "page_id": row.page_id}


def _sheet_state(conn: sa.Connection, sheet_id: int | None) -> dict | None:
    if sheet_id is None:
        return None
    s = schema.sheets
    status = conn.execute(sa.select(s.c.status).where(s.c.id == sheet_id)).scalar_one_or_none()
    return None if status is None else {"id": sheet_id, "status": status}


def read_state(conn: sa.Connection, entry: QueueEntry) -> dict[str, Any]:
    """The parts of the store a decision on `entry` may change, as plain JSON data."""
    f = schema.flags
    flags = {
        str(r.id): {"status": r.status, "resolution": r.resolution}
        for r in conn.execute(sa.select(f.c.id, f.c.status, f.c.resolution)
                              .where(subject_flags_where(entry.subject)).order_by(f.c.id))
    }
    state: dict[str, Any] = {"flags": flags, AnswerSource.PERSON: None, AnswerSource.MACHINE: None, "page": None,
                             "sheet": None}
    kind = entry.subject.split(":", 1)[0]
    if kind == "q":
        assert entry.sheet_id is not None and entry.question is not None  # a question's subject
        state[AnswerSource.PERSON] = _answer_row(conn, entry.sheet_id, entry.question, AnswerSource.PERSON)
        state[AnswerSource.MACHINE] = _answer_row(conn, entry.sheet_id, entry.question, AnswerSource.MACHINE)
    elif kind == "page":
        p = schema.pages
        row = conn.execute(sa.select(p.c.status, p.c.sheet_id, p.c.serial)
                           .where(p.c.id == entry.page_id)).one()
        state["page"] = {"id": entry.page_id, "status": row.status, "sheet_id": row.sheet_id,
                         "serial": row.serial}
        state["sheet"] = _sheet_state(conn, row.sheet_id)
    else:
        state["sheet"] = _sheet_state(conn, entry.sheet_id)
    return state


def write_person_answer(conn: sa.Connection, sheet_id: int, question: str,
                        answer: Mapping[str, Any] | None, page_id: int | None = None) -> None:
    """Put `answer` (`value`, `status`, and the `page_id` it was given on, else `page_id`)
    as the person's answer to `question` of sheet `sheet_id`, or remove the person's answer
    (None). The machine's answer beside it is never touched."""
    a = schema.answers
    conn.execute(sa.delete(a).where(a.c.sheet_id == sheet_id, a.c.question == question,
                                    a.c.source == AnswerSource.PERSON))
    if answer is not None:
        conn.execute(sa.insert(a).values(
            sheet_id=sheet_id, page_id=answer.get("page_id", page_id), question=question,
            source=AnswerSource.PERSON, value=answer["value"], status=answer["status"],
            created_at=utcnow()))


def apply_state(conn: sa.Connection, entry: QueueEntry, new: dict[str, Any],
                old: dict[str, Any]) -> str:
    """Write the parts of `new` that differ from `old` (both from `read_state`), then
    recompute the status of every sheet touched. Returns a note for the audit: what an
    undone key-in left as it is (`keying.apply_keyed`), else "".

    Only the difference is written: a decision changes what it decided and nothing else,
    and an undo (new = the undone decision's "before", old = its "after") reverts only
    that, so a sheet another clerk rejected meanwhile through another item stays rejected.
    """
    f, p, s = schema.flags, schema.pages, schema.sheets
    now = utcnow()
    for flag_id, flag in new["flags"].items():
        if flag == old["flags"].get(flag_id):
            continue
        conn.execute(sa.update(f).where(f.c.id == int(flag_id)).values(
            status=flag["status"], resolution=flag["resolution"],
            resolved_at=now if flag["status"] == FlagStatus.RESOLVED else None))
    touched = {i for i in (entry.sheet_id,) if i is not None}
    if entry.subject.startswith("q:") and new[AnswerSource.PERSON] != old[AnswerSource.PERSON]:
        assert entry.sheet_id is not None and entry.question is not None  # a question's subject
        write_person_answer(conn, entry.sheet_id, entry.question, new[AnswerSource.PERSON],
                            entry.page_id)
    if new["page"] is not None and new["page"] != old["page"]:
        page = new["page"]
        previous = conn.execute(sa.select(p.c.sheet_id).where(p.c.id == page["id"])).scalar_one()
        conn.execute(sa.update(p).where(p.c.id == page["id"]).values(
            status=page["status"], sheet_id=page["sheet_id"], serial=page["serial"]))
        touched |= {i for i in (previous, page["sheet_id"]) if i is not None}
    if new["sheet"] is not None and new["sheet"] != old["sheet"]:
        # Set directly: `refresh_sheet_status` keeps `rejected` (a person's decision) and
        # recomputes anything else from the flags; `settle_rejection` then makes
        # `rejected` agree with the standing decisions.
        conn.execute(sa.update(s).where(s.c.id == new["sheet"]["id"])
                     .values(status=new["sheet"]["status"]))
        touched.add(new["sheet"]["id"])
    note = ""
    if KEYED_STATE in new:  # a key-in being undone: its page, answers and comments too
        from pipeline.review.keying import apply_keyed  # keying builds on this module

        keyed = apply_keyed(conn, new, old)
        touched = (touched | keyed.touched) - keyed.dropped
        note = keyed.note
    for sheet_id in touched:
        refresh_sheet_status(conn, sheet_id)
    return note


def settle_rejection(conn: sa.Connection, sheet_id: int | None) -> None:
    """Make sheet `sheet_id`'s `rejected` status agree with the standing decisions.

    A sheet is rejected when the effective decision of any of its items (per item, the
    newest decision neither an undo nor undone) left it rejected. Decisions and undos
    record states as they were, so a "before" may carry another clerk's rejection and
    an "after" may miss one; deciding from all standing decisions instead means that
    undoing one clerk's rejection never cancels another's, and that a sheet whose
    rejections are all undone is counted again (its status recomputed from its flags).
    """
    if sheet_id is None:
        return
    d, s = tables.decisions, schema.sheets
    rows = conn.execute(sa.select(d.c.id, d.c.action, d.c.undoes, d.c.subject, d.c.after_state)
                        .order_by(d.c.subject, d.c.seq.desc())).all()
    undone = {r.undoes for r in rows if r.action == "undo"}
    effective: dict[str, Any] = {}
    for r in rows:
        if r.action != "undo" and r.id not in undone and r.subject not in effective:
            effective[r.subject] = r
    rejected = any(
        (sheet := json.loads(r.after_state).get("sheet")) is not None
        and sheet.get("id") == sheet_id and sheet.get("status") == SheetStatus.REJECTED
        for r in effective.values()
    )
    current = conn.execute(sa.select(s.c.status).where(s.c.id == sheet_id)).scalar_one()
    if rejected and current != SheetStatus.REJECTED:
        conn.execute(sa.update(s).where(s.c.id == sheet_id).values(status=SheetStatus.REJECTED))
    elif not rejected and current == SheetStatus.REJECTED:
        conn.execute(sa.update(s).where(s.c.id == sheet_id).values(status=SheetStatus.NEEDS_REVIEW))
        refresh_sheet_status(conn, sheet_id)


def _sheet_of(state: dict[str, Any], entry: QueueEntry) -> int | None:
    """The sheet a decision's state is about (an item may be about a page only)."""
    sheet = state.get("sheet")
    return sheet["id"] if sheet else entry.sheet_id


# --- what a state says, for people ----------------------------------------------------

NO_ANSWER_SHOWN = "(không trả lời / no answer)"
INVALID_SHOWN = "(không hợp lệ / invalid)"
_UNDECIDED = "(chờ duyệt / to review)"


def _answer_text(answer: dict | None) -> str:
    if answer is None:
        return ""
    status = answer["status"]
    if status == AnswerStatus.NO_ANSWER:
        return NO_ANSWER_SHOWN
    if status == AnswerStatus.INVALID:
        return INVALID_SHOWN
    if status == AnswerStatus.FLAGGED:
        return _UNDECIDED
    return str(answer["value"])


def describe_state(state: dict[str, Any]) -> str:
    """A one-line summary of a state for the audit log (Vietnamese / English)."""
    parts = []
    if state[AnswerSource.PERSON] is not None:
        parts.append(f"người/person: {_answer_text(state[AnswerSource.PERSON])}")
    elif state[AnswerSource.MACHINE] is not None:
        parts.append(f"máy/machine: {_answer_text(state[AnswerSource.MACHINE])}")
    if state["page"] is not None:
        page = state["page"]
        serial = f", số/serial {page['serial']}" if page["serial"] is not None else ""
        parts.append(f"trang/page: {page['status']}{serial}")
    if state["sheet"] is not None:
        parts.append(f"phiếu/sheet: {state['sheet']['status']}")
    open_flags = sum(1 for f in state["flags"].values() if f["status"] == FlagStatus.OPEN)
    parts.append(f"cờ mở/open flags: {open_flags}")
    return "; ".join(parts)


# --- applying an action ---------------------------------------------------------------


def answer_word(text: str, typed: Iterable[str]) -> str | None:
    """`no_answer` or `invalid` when `text` is one of their words (`NO_ANSWER_WORDS`,
    `INVALID_WORDS`) and not what picks an option (`typed`: its codes or keys), else None."""
    word = text.strip()
    if word in set(typed):
        return None
    if word.lower() in NO_ANSWER_WORDS:
        return AnswerStatus.NO_ANSWER
    if word.lower() in INVALID_WORDS:
        return AnswerStatus.INVALID
    return None


def parse_codes(question: Question, text: str, keys: Mapping[str, str] | None = None) -> str:
    """The option codes `text` picks, `|`-joined in form order: codes (or, with `keys`
    mapping code -> key, the keys shown beside the options) separated by `|`, `,` or
    spaces; with keys of one character each, `13` is keys 1 and 3. Raises `ReviewError`
    for nothing given, an unknown code or key, or two answers to a single choice."""
    codes = [o.code for o in question.options]
    keys = dict(keys) if keys is not None else {c: c for c in codes}
    by_typed = {k: c for c, k in keys.items()}
    parts: list[str] = []
    for part in (p.strip() for p in text.replace(",", "|").split("|")):
        parts += [part] if part in by_typed or not part else part.split()
    parts = [p for p in parts if p]
    if len(parts) == 1 and parts[0] not in by_typed and all(ch in by_typed for ch in parts[0]):
        parts = list(parts[0])  # keys of one character each: "13" is keys 1 and 3
    shown = ", ".join(k if k == c else f"{k}={c}" for c, k in keys.items())
    unknown = [p for p in parts if p not in by_typed]
    if unknown or not parts:
        raise ReviewError(
            f"Câu {question.id}: phương án không có / question {question.id} has no option "
            f"{', '.join(map(repr, unknown)) or '(none given)'}",
            f"choose among {shown}",
        )
    chosen = {by_typed[p] for p in parts}
    if question.type == "single" and len(chosen) > 1:
        raise ReviewError(
            f"Câu {question.id} chỉ chọn một / question {question.id} takes one answer, "
            f"got {text.strip()!r}",
            "choose one option, or mark the answer invalid (x)",
        )
    return "|".join(c for c in codes if c in chosen)


def _serial_sheet(conn: sa.Connection, serial_text: str, form: str | None) -> dict:
    try:
        serial = int(str(serial_text).strip())
    except ValueError:
        raise ReviewError(f"Số phiếu không hợp lệ / not a serial number: {serial_text!r}",
                          "type the number printed under the QR code") from None
    s = schema.sheets
    where = [s.c.serial == serial]
    if form:
        where.append(s.c.form == form)
    rows = conn.execute(sa.select(s.c.id, s.c.form, s.c.serial).where(*where)).all()
    if not rows:
        raise ReviewError(f"Không có phiếu số {serial} / no sheet with serial {serial}",
                          "check the number, or reject the page and scan the sheet again")
    if len(rows) > 1:
        raise ReviewError(f"Nhiều mẫu phiếu có số {serial} / several forms have serial {serial}",
                          "the page's form is unknown: reject it and scan it again")
    return {"id": rows[0].id, "serial": serial}


def _after(conn: sa.Connection, catalog: FormCatalog, entry: QueueEntry, kind: str,
           question: Question | None, action: str, value: str, before: dict[str, Any],
           reviewer: str) -> tuple[dict, str]:
    """The state after `action`, and the value as recorded."""
    if action not in ACTIONS[kind]:
        raise ReviewError(
            f"Không áp dụng được / action {action!r} does not apply to this item ({kind})",
            f"use one of: {', '.join(ACTIONS[kind])}",
        )
    if kind == "page" and before["page"] is not None and before["page"]["status"] == PageStatus.READ:
        raise ReviewError("Trang này đã được nhập tay / this page was keyed in",
                          "undo the key-in first (u), then decide again")
    after = json.loads(json.dumps(before))
    recorded = ""
    if kind in ("choice", "text"):
        if action == "answer":
            if question is None:
                raise ReviewError(f"Câu {entry.question} không có trong mẫu / question "
                                  f"{entry.question} is not in the form")
            recorded = parse_codes(question, value)
            after[AnswerSource.PERSON] = {"value": recorded, "status": AnswerStatus.ANSWERED}
        elif action == "text":
            recorded = clean_text(value or "").strip()  # a paste from Word may hold \v
            if not recorded:
                raise ReviewError("Ý kiến trống / the transcription is empty",
                                  "type the text, or choose 'no answer' (0)")
            if len(recorded) > MAX_TEXT:
                raise ReviewError(f"Ý kiến quá dài / text longer than {MAX_TEXT} characters")
            after[AnswerSource.PERSON] = {"value": recorded, "status": AnswerStatus.ANSWERED}
        else:
            after[AnswerSource.PERSON] = {"value": "", "status": action}
        after[AnswerSource.PERSON]["page_id"] = entry.page_id
    elif action == "assign":
        p = schema.pages
        page_form = conn.execute(sa.select(p.c.form).where(p.c.id == entry.page_id)).scalar()
        # A form this survey does not have (unknown_form) says nothing about which sheet.
        known = page_form in {form_id for form_id, _ in catalog.forms}
        target = _serial_sheet(conn, value, page_form if known else None)
        recorded = str(target["serial"])
        after["page"] |= {"sheet_id": target["id"], "serial": target["serial"]}
        after["sheet"] = None
    elif action in ("reject_page", "keep_first"):
        after["page"]["status"] = PageStatus.REJECTED
    elif action == "reject_sheet":
        if after["page"] is not None:
            after["page"]["status"] = PageStatus.REJECTED
        if after["sheet"] is None:
            raise ReviewError("Trang này chưa thuộc phiếu nào / this page belongs to no sheet",
                              "reject the page instead")
        after["sheet"]["status"] = SheetStatus.REJECTED
    resolution = f"person: {reviewer}: {action}" + (f" {recorded}" if recorded else "")
    for flag in after["flags"].values():
        flag["status"], flag["resolution"] = FlagStatus.RESOLVED, resolution[:500]
    return after, recorded


def _insert_decision(conn: sa.Connection, entry: QueueEntry, based_on: int, action: str,
                     value: str, before: dict, after: dict, reviewer: str,
                     undoes: int | None = None, note: str = "") -> DecisionRecord:
    """Record a decision whose effects are already applied in this transaction. The
    stored `after_state` is what the decision meant to write (an undo reverts exactly
    that); `after_text` describes the store as it now is (sheet status recomputed)."""
    d = tables.decisions
    row: dict[str, Any] = {
        "subject": entry.subject, "seq": based_on + 1, "flag_id": entry.flag_id,
        "sheet_id": entry.sheet_id, "page_id": entry.page_id, "question": entry.question,
        "reason": "|".join(entry.reasons), "action": action, "value": value,
        "before_text": describe_state(before),
        "after_text": "; ".join(filter(None, [describe_state(read_state(conn, entry)), note])),
        "before_state": json.dumps(before, ensure_ascii=False),
        "after_state": json.dumps(after, ensure_ascii=False),
        "undoes": undoes, "reviewer": reviewer, "decided_at": utcnow(),
    }
    try:
        inserted = conn.execute(sa.insert(d).values(**row)).inserted_primary_key
        assert inserted is not None
        new_id = int(inserted[0])
    except sa.exc.IntegrityError:
        # Another decision on the same version got in first (the race the version check
        # before could not see). The transaction is rolled back as a whole.
        raise StaleDecision(
            "Mục này vừa được người khác quyết định / someone else decided this item a "
            f"moment ago (version {based_on})",
            "look at the item again and decide on what is there now",
        ) from None
    return DecisionRecord(new_id, row["seq"], entry.subject, action, value,
                          row["before_text"], row["after_text"], reviewer)


def _stale(conn: sa.Connection, entry: QueueEntry, based_on: int) -> StaleDecision:
    d = tables.decisions
    last = conn.execute(sa.select(d.c.reviewer, d.c.action, d.c.value, d.c.decided_at)
                        .where(d.c.subject == entry.subject).order_by(d.c.seq.desc())).first()
    who = f"{last.reviewer} ({last.action} {last.value})".strip() if last else "?"
    return StaleDecision(
        f"Mục này đã được {who} quyết định sau khi bạn mở / this item was decided by {who} "
        f"after you opened it (version {based_on})",
        "look at the item again and decide on what is there now",
    )


def _check_holder(conn: sa.Connection, entry: QueueEntry, holder: str | None,
                  reviewer: str) -> None:
    if holder is None:
        return
    other = active_claim(conn, entry.subject)
    if other is not None and other.holder != holder:
        raise ItemTaken(f"{other.reviewer} đang duyệt mục này / {other.reviewer} is reviewing "
                        "this item right now", "take the next item")
    claim(conn, entry.subject, holder, reviewer)


def _question(catalog: FormCatalog, conn: sa.Connection, entry: QueueEntry) -> Question | None:
    if not entry.question or entry.sheet_id is None:
        return None
    s = schema.sheets
    row = conn.execute(sa.select(s.c.form, s.c.version).where(s.c.id == entry.sheet_id)).first()
    form = catalog.form(row.form, row.version) if row else None
    try:
        return form.question(entry.question) if form else None
    except KeyError:
        return None


def decide_entry(conn: sa.Connection, catalog: FormCatalog, entry: QueueEntry, *, action: str,
                 value: str, reviewer: str, based_on: int,
                 holder: str | None = None, note: str = "") -> DecisionRecord:
    """Record `action` (see `items.ACTIONS`) with `value` on `entry`, inside the caller's
    transaction (`note`, if any, is added to the audit's "after", e.g. a --force).
    Raises `StaleDecision` when `based_on` is not the current version, `ItemTaken`
    when another holder has claimed the item, `ReviewError` for a value that does not
    fit the item."""
    reviewer = check_reviewer(reviewer)
    _check_holder(conn, entry, holder, reviewer)
    if current_version(conn, entry.subject) != based_on:
        raise _stale(conn, entry, based_on)
    question = _question(catalog, conn, entry)
    kind = item_kind(entry, question)
    before = read_state(conn, entry)
    after, recorded = _after(conn, catalog, entry, kind, question, action, value, before,
                             reviewer)
    apply_state(conn, entry, after, before)
    record = _insert_decision(conn, entry, based_on, action, recorded, before, after, reviewer,
                              note=note)
    settle_rejection(conn, _sheet_of(after, entry))
    return record


def decide(engine: sa.Engine, catalog: FormCatalog, flag_id: int, *, action: str, value: str,
           reviewer: str, based_on: int, holder: str | None = None) -> DecisionRecord:
    """Record a decision on the item of flag `flag_id` in one transaction (see
    `decide_entry` for the errors)."""
    with engine.begin() as conn:
        entry = entry_for_flag(conn, flag_id)
        return decide_entry(conn, catalog, entry, action=action, value=value,
                            reviewer=reviewer, based_on=based_on, holder=holder)


def _undo_target(conn: sa.Connection, subject: str) -> sa.Row | None:
    """The newest decision on `subject` that is neither an undo nor undone already."""
    d = tables.decisions
    rows = conn.execute(sa.select(d.c.id, d.c.action, d.c.undoes, d.c.before_state,
                                  d.c.after_state)
                        .where(d.c.subject == subject).order_by(d.c.seq.desc())).all()
    undone = {r.undoes for r in rows if r.action == "undo"}
    return next((r for r in rows if r.action != "undo" and r.id not in undone), None)


def undo(engine: sa.Engine, flag_id: int, *, reviewer: str, based_on: int,
         holder: str | None = None) -> DecisionRecord:
    """Undo the newest standing decision on the item of `flag_id`, as a new decision
    (action `undo`) that restores the state before it. Raises `ReviewError` when there is
    nothing to undo, `StaleDecision` / `ItemTaken` as `decide_entry`."""
    reviewer = check_reviewer(reviewer)
    with engine.begin() as conn:
        entry = entry_for_flag(conn, flag_id)
        _check_holder(conn, entry, holder, reviewer)
        if current_version(conn, entry.subject) != based_on:
            raise _stale(conn, entry, based_on)
        target = _undo_target(conn, entry.subject)
        if target is None:
            raise ReviewError("Không có quyết định nào để hoàn tác / nothing to undo on this item")
        before = read_state(conn, entry)
        after = json.loads(target.before_state)
        note = apply_state(conn, entry, after, json.loads(target.after_state))
        record = _insert_decision(conn, entry, based_on, "undo", str(target.id), before, after,
                                  reviewer, undoes=target.id, note=note)
        settle_rejection(conn, _sheet_of(after, entry))
        return record
