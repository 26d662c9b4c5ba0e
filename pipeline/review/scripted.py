"""Review without a browser: `phieu review list`, `phieu review set` and `phieu review key`."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.review.claims import Claim, active_claim, claim, release
from pipeline.review.decisions import DecisionRecord, answer_word, check_reviewer, decide_entry
from pipeline.review.errors import ItemTaken, ReviewError
from pipeline.review.items import FormCatalog, current_version, entry_for_flag
from pipeline.review.keying import KeyIn, key_in_entry
from pipeline.store import schema
from pipeline.store.queue import QueueEntry, open_items, subject_of
from pipeline.store.vocabulary import AnswerSource, FlagReason


def open_item_lines(engine: sa.Engine) -> list[str]:
    """One line per open item: flag id, reason, form, serial, question, detail
    (tab-separated, so a script can cut the columns)."""
    with engine.connect() as conn:
        entries = open_items(conn)
    return [
        "\t".join([str(e.flag_id), e.reason, e.form or "-",
                   "-" if e.serial is None else str(e.serial), e.question or "-",
                   e.detail])
        for e in entries
    ]


def _sheet(conn: sa.Connection, catalog: FormCatalog, serial: int, form_id: str | None) -> sa.Row:
    s = schema.sheets
    where = [s.c.serial == serial] + ([s.c.form == form_id] if form_id else [])
    rows = conn.execute(sa.select(s.c.id, s.c.form, s.c.version).where(*where)).all()
    if not rows:
        raise ReviewError(f"Không có phiếu số {serial} / no sheet with serial {serial}"
                          + (f" of form {form_id}" if form_id else ""),
                          "check the serial with `phieu review list` or `phieu export responses`")
    if len(rows) > 1:
        raise ReviewError(f"Nhiều mẫu phiếu có số {serial} / several forms have serial {serial}",
                          "choose one with --form")
    return rows[0]


def _entry(conn: sa.Connection, sheet: sa.Row, question: str) -> QueueEntry:
    f = schema.flags
    subject = subject_of(reason="", sheet_id=sheet.id, page_id=None, question=question)
    flag_id = conn.execute(sa.select(sa.func.min(f.c.id)).where(
        f.c.sheet_id == sheet.id, f.c.question == question)).scalar()
    if flag_id is not None:
        return entry_for_flag(conn, flag_id)
    a = schema.answers
    page_id = conn.execute(sa.select(a.c.page_id).where(
        a.c.sheet_id == sheet.id, a.c.question == question, a.c.source == AnswerSource.MACHINE)).scalar()
    return QueueEntry(flag_id=None, subject=subject, reason=FlagReason.CORRECTION, reasons=(FlagReason.CORRECTION,),
                      sheet_id=sheet.id, page_id=page_id, question=question,
                      serial=None, form=sheet.form, detail="", open=False)


def _action(question_type: str, codes: set[str], value: str) -> tuple[str, str]:
    word = answer_word(value, codes)
    if word is not None:
        return word, ""
    return ("text" if question_type == "text" else "answer"), value


def _until(claim_: Claim) -> str:
    when = claim_.expires_at
    if isinstance(when, datetime):
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        return when.strftime("%H:%M:%S UTC")
    return str(when)


def _claim(conn: sa.Connection, subject: str, reviewer: str, what: tuple[str, str], *,
           force: bool | None = None) -> tuple[str, str]:
    """Claim `subject` for a script run by `reviewer`, as a browser would (60 s: the
    decision follows at once). While another clerk holds it, `ItemTaken` names who holds
    `what` (Vietnamese, English) and until when, unless `force`: then it goes on, and the
    note for the audit says whose claim it went over. `force=None`: not offered. Returns
    (the holder to release, the note)."""
    holder = f"cli:{reviewer}"
    if claim(conn, subject, holder, reviewer, seconds=60):
        return holder, ""
    held = active_claim(conn, subject)
    if held is None:  # the claim ran out between the two reads
        return holder, ""
    if not force:
        until = _until(held)
        remedy = "wait until then (or ask them)"
        if force is not None:
            remedy += ", or add --force to decide anyway (recorded in the audit)"
        raise ItemTaken(f"{held.reviewer} đang giữ {what[0]} đến {until} / "
                        f"{held.reviewer} holds {what[1]} until {until}", remedy)
    return holder, f"--force: {held.reviewer} đang giữ đến / held it until {_until(held)}"


def set_answer(engine: sa.Engine, catalog: FormCatalog, serial: int, question: str, value: str,
               *, reviewer: str, form_id: str | None = None,
               force: bool = False) -> DecisionRecord:
    """Record a person's answer to `question` of sheet `serial`, as the review app does:
    VALUE is option code(s) (`1` or `a|c`), the text for a text question, `none` (or `-`,
    `0`) for no answer, `invalid` (or `x`) for an invalid answer (`decisions.NO_ANSWER_WORDS`,
    `INVALID_WORDS`: the same as the review app's keys and `phieu review key`). Resolves the question's open flags;
    works on an unflagged question too (a correction). Raises `ReviewError` for an unknown
    serial, question or option, `ItemTaken` (naming who, until when) while another clerk
    holds the question, unless `force`: then the decision is recorded anyway, and its audit
    line says whose claim it went over (that clerk's own decision is then refused as stale)."""
    reviewer = check_reviewer(reviewer)
    with engine.begin() as conn:
        sheet = _sheet(conn, catalog, serial, form_id)
        form = catalog.form(sheet.form, sheet.version)
        try:
            q = form.question(question) if form else None
        except KeyError:
            q = None
        if q is None:
            ids = ", ".join(x.id for x in form.questions()) if form else "?"
            raise ReviewError(f"Phiếu {sheet.form} không có câu / form {sheet.form} has no "
                              f"question {question!r}", f"questions are: {ids}")
        entry = _entry(conn, sheet, question)
        holder, note = _claim(conn, entry.subject, reviewer, (
            f"câu {question} của phiếu {serial}", f"question {question} of sheet {serial}"), force=force)
        action, recorded = _action(q.type, {o.code for o in q.options}, value)
        record = decide_entry(conn, catalog, entry, action=action, value=recorded,
                              reviewer=reviewer, based_on=current_version(conn, entry.subject),
                              note=note)
        release(conn, holder)
        return record


def key_page(engine: sa.Engine, catalog: FormCatalog, flag_id: int, keyed: KeyIn, *,
             reviewer: str) -> DecisionRecord:
    """`phieu review key`: key in the page of item `flag_id` (the first column of
    `phieu review list`) from a script (`keying.key_in_entry`). Refused (`ItemTaken`,
    naming who and until when) while another clerk holds the item."""
    reviewer = check_reviewer(reviewer)
    with engine.begin() as conn:
        entry = entry_for_flag(conn, flag_id)
        holder, _ = _claim(conn, entry.subject, reviewer, (f"mục {flag_id}", f"item {flag_id}"))
        record = key_in_entry(conn, catalog, entry, keyed, reviewer=reviewer,
                              based_on=current_version(conn, entry.subject))
        release(conn, holder)
        return record
