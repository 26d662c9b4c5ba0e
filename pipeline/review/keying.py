"""Keying in a page the reader could not read: a clerk types its form, page, serial and
every answer, and the page counts like a read one.

A page fails when its markers or its QR code cannot be found; its answers are still on
the paper (and in the stored page image). A page whose QR code alone was unread may have
been read all the same, identified by its print: its form and page are known, and the
machine's answers wait in `page_answers` (never counted: the serial is unknown, and a
sheet scanned elsewhere too would count twice). Keying such a page starts from them:
the form and page chosen, every answer the machine was sure of filled in, the ones it
was unsure of left to the clerk with its reason; the clerk types the serial and checks.
Keying it in attaches the page to its sheet
(the sheet of that form version and serial, created when no page of it was read yet),
writes each answer as a `person` answer (as any review decision does, never a machine
row), records ONE decision (action `key_in`) on the page's item with the state before
and after (its value says, for a page the machine read, which answers were the machine's
confirmed, which a person gave where the machine was unsure, which a person changed),
and then applies the same rules as the recorder:

- a form page already counted on that sheet from another copy makes the keyed page a
  `duplicate` (flagged `duplicate`, its answers only in the decision's record), never
  counted twice; so does a page from a file that holds another copy of the sheet
  (`copies.other_copys_file`): it never completes the counted copy;
- a sheet still lacking a page gets (or keeps) its `missing_page` flag; keying the
  missing page resolves it (by the machine: the page is there now), as at the end of a
  scan (`sheets.settle_missing` serves both);
- a sheet complete with nothing answered and nothing written is flagged `blank_ballot`.

Undo (`decisions.undo`) reverts a key-in like any decision: `apply_keyed` is the part of
`decisions.apply_state` that restores the page's identity and comments, takes back the
person answers the key-in itself wrote (never an answer another decision gave since, nor
the answers on the counted copy a duplicate key-in found; the audit names what it left),
and re-checks the sheet's pages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from forms.model import Form, Question
from pipeline.review import tables
from pipeline.review.decisions import (
    INVALID_SHOWN,
    KEYED_STATE,
    MAX_TEXT,
    NO_ANSWER_SHOWN,
    DecisionRecord,
    _check_holder,
    _insert_decision,
    _stale,
    answer_word,
    check_reviewer,
    parse_codes,
    read_state,
    settle_rejection,
    write_person_answer,
)
from pipeline.review.errors import ReviewError
from pipeline.review.items import (
    FormCatalog,
    MachineRead,
    current_version,
    entry_for_flag,
    option_keys,
    page_reading,
)
from pipeline.scan.copies import other_copys_file
from pipeline.store import schema
from pipeline.store.database import insert_ignore, lock_sheet, refresh_sheet_status, utcnow
from pipeline.store.queue import PAGE_REASONS, QueueEntry
from pipeline.store.sheets import reopen_flag, settle_missing
from pipeline.store.vocabulary import (
    AnswerSource,
    AnswerStatus,
    FlagReason,
    FlagStatus,
    PageNote,
    PageStatus,
    SheetStatus,
)

KEY_IN = "key_in"  # the decision's action
KEYED_CONFIDENCE = 100.0  # comments.confidence of a comment a person typed (not the OCR's)
KEYED_WHY = "trang còn thiếu đã được nhập tay / the missing page was keyed in"
NO_ANSWER_KEY = "0"  # the key-in form's key for no answer (one of decisions.NO_ANSWER_WORDS)
ILLEGIBLE_SHOWN = "(không đọc được / illegible)"  # a comment's `invalid` answer, in the audit
ILLEGIBLE_FIELD = "illegible:"  # the key-in form's checkbox of a comment, before its question id


@dataclass(frozen=True)
class KeyIn:
    """What a clerk keyed in for one page.

    `answers` maps every question of that page to what was typed: option code(s) (`2`,
    `a|c`), or with `by_key` the review app's keys (`1`..`9`, several for a multiple
    choice: `13`); `none`, `-` or `0` for no answer; `invalid` or `x` for an invalid
    answer; for a text question its text (empty: no comment). On a page the machine
    read by its print, a question left out is the machine's answer where it was sure;
    where it was unsure it must be given. `illegible`: comment fields the clerk marked
    illegible (nothing typed for them): the person's `invalid` answer, as the
    transcription review records an illegible comment, published as the image.
    """

    form: str
    serial: str
    answers: Mapping[str, str]
    illegible: frozenset[str] = frozenset()
    # `form` "" and `version`, `page` None: the page's own when the machine recognised
    # it (by its print), else the survey's only form, and page 1 of a one-page form
    version: int | None = None
    page: int | None = None
    by_key: bool = False


# --- what may be keyed ----------------------------------------------------------------


def choose_form(catalog: FormCatalog, form_ref: str, version: int | None = None) -> Form:
    """The survey's form `form_ref` (`ID` or `ID@VERSION`; `version` if given separately).
    Raises `ReviewError` naming the forms the survey has."""
    wanted, _, at = (form_ref or "").strip().partition("@")
    if at:
        try:
            version = int(at)
        except ValueError:
            version = -1
    known = sorted(catalog.forms)
    names = ", ".join(f"{fid}@{v}" for fid, v in known)
    if not wanted:
        if len({fid for fid, _ in known}) != 1:
            raise ReviewError("Khảo sát có nhiều mẫu phiếu / the survey has several forms: "
                              f"{names}", "say which form the page is (--form ID)")
        wanted = known[0][0]  # the survey's only form
    chosen = [f for (fid, v), f in sorted(catalog.forms.items())
              if fid == wanted and (version is None or v == version)]
    if not chosen:
        raise ReviewError(f"Khảo sát không có mẫu phiếu / the survey has no form "
                          f"{form_ref!r}" + (f" version {version}" if version else ""),
                          f"choose one of: {names}")
    if len(chosen) > 1:
        raise ReviewError(f"Mẫu {wanted} có nhiều phiên bản / form {wanted} has several "
                          "versions in this survey", f"name one: {names}")
    return chosen[0]


def page_questions(catalog: FormCatalog, form: Form, page: int) -> tuple[Question, ...]:
    """The questions printed on page `page` of `form`, in form order."""
    geometry = catalog.page(form.id, form.version, page)
    if geometry is None:
        count = len(catalog.pages.get((form.id, form.version), ()))
        raise ReviewError(f"Mẫu {form.id} không có trang {page} / form {form.id} has no page "
                          f"{page}", f"choose a page from 1 to {count}")
    on_page = {t.question for t in geometry.targets} | {t.question for t in geometry.text_fields}
    return tuple(q for q in form.questions() if q.id in on_page)


def _page_number(catalog: FormCatalog, form: Form, page: int | None) -> int:
    count = len(catalog.pages.get((form.id, form.version), ()))
    if page is None:
        if count == 1:
            return 1
        raise ReviewError(f"Mẫu {form.id} có {count} trang / form {form.id} has {count} pages",
                          "say which page this is (the page number is printed at its foot)")
    return page


def _serial(text: str) -> int:
    try:
        serial = int(str(text).strip())
    except ValueError:
        raise ReviewError(f"Số phiếu không hợp lệ / not a serial number: {text!r}",
                          "type the number printed under the QR code") from None
    if serial < 0:
        raise ReviewError(f"Số phiếu không hợp lệ / not a serial number: {text!r}",
                          "type the number printed under the QR code")
    return serial


def parse_value(question: Question, raw: str, *, by_key: bool = False) -> tuple[str, str]:
    """(status, value) of what was typed for `question`: `answered` with the codes
    `|`-joined in form order (or the text), `no_answer`, or `invalid`. Raises
    `ReviewError` for an empty choice, an unknown code or key, or two answers to a
    single-choice question."""
    text = (raw or "").replace("\r\n", "\n").strip()  # a browser's textarea sends CRLF
    if question.type == "text":
        if not text:
            return AnswerStatus.NO_ANSWER, ""
        # `none` / `invalid` (illegible) as `phieu review set` reads them for a comment
        word = answer_word(text, ())
        if word is not None:
            return word, ""
        if len(text) > MAX_TEXT:
            raise ReviewError(f"Ý kiến {question.id} quá dài / text of {question.id} longer than "
                              f"{MAX_TEXT} characters")
        return AnswerStatus.ANSWERED, text
    keys = option_keys(question) if by_key else {o.code: o.code for o in question.options}
    if not text:
        raise ReviewError(f"Câu {question.id} chưa nhập / question {question.id} was not keyed",
                          "type its answer, 0 (none) for no answer or x (invalid)")
    word = answer_word(text, keys.values())
    if word is not None:
        return word, ""
    return AnswerStatus.ANSWERED, parse_codes(question, text, keys)


def _unsure_note(read: MachineRead | None) -> str:
    if read is None or read.sure:
        return ""
    return f" (máy chưa chắc / machine unsure: {', '.join(read.reasons)})"


def _illegible(questions: tuple[Question, ...], typed: Mapping[str, str],
               illegible: frozenset[str]) -> dict[str, tuple[str, str]]:
    """question id -> (`invalid`, "") for each comment marked illegible. Raises
    `ReviewError` for a question that is not a comment of the page, or one with text typed
    as well (which of the two the clerk meant is not for the machine to guess)."""
    comments = {q.id for q in questions if q.type == "text"}
    wrong = sorted(illegible - comments)
    if wrong:
        raise ReviewError(f"Chỉ ý kiến mới đánh dấu không đọc được / only a comment can be "
                          f"marked illegible: {', '.join(wrong)}",
                          f"the page's comments are: {', '.join(sorted(comments)) or '(none)'}")
    both = sorted(q for q in illegible if (typed.get(q) or "").strip())
    if both:
        raise ReviewError(f"Vừa gõ ý kiến vừa đánh dấu không đọc được / typed and marked "
                          f"illegible: {', '.join(both)}",
                          "clear the text, or leave the comment unmarked")
    return {q: (AnswerStatus.INVALID, "") for q in illegible}


def parse_answers(questions: tuple[Question, ...], typed: Mapping[str, str], *,
                  by_key: bool = False, machine: Mapping[str, MachineRead] | None = None,
                  illegible: frozenset[str] = frozenset()) -> dict[str, tuple[str, str]]:
    """question id -> (status, value) for every question of the page. `machine`: the
    machine's answers when it read this very page (`items.page_reading`): a question
    left out is the machine's answer where it was sure. `illegible`: comments marked
    illegible (`_illegible`). Raises `ReviewError` for a question not on the page, a
    choice left out or empty, and one the machine was unsure of left out or empty (a text
    too: the machine saw writing there)."""
    machine = machine or {}
    ids = [q.id for q in questions]
    stray = [q for q in typed if q not in ids]
    if stray:
        raise ReviewError(f"Không có trên trang này / not on this page: {', '.join(stray)}",
                          f"the page's questions are: {', '.join(ids)}")
    out = _illegible(questions, typed, illegible)
    unkeyed: list[str] = []
    for q in questions:
        read, raw = machine.get(q.id), typed.get(q.id)
        if q.id in out:
            continue
        if raw is None and read is not None and read.sure:
            out[q.id] = (read.status, read.value)
        elif raw is None and q.type == "text" and read is None:
            out[q.id] = (AnswerStatus.NO_ANSWER, "")
        elif raw is None or (not raw.strip() and read is not None and not read.sure):
            unkeyed.append(q.id + _unsure_note(read))
    if unkeyed:
        raise ReviewError(f"Chưa nhập / not keyed: {', '.join(unkeyed)}",
                          "key every question of the page (none for no answer; for a comment "
                          "the machine saw, its text, or none)")
    for q in questions:
        if q.id not in out:
            out[q.id] = parse_value(q, typed[q.id], by_key=by_key)
    return out


# Where a keyed answer came from, against the machine's reading of the same page.
CONFIRMED = "confirmed"  # the machine's sure answer, kept by the person
DECIDED = "decided"  # where the machine was unsure: the person's
CHANGED = "changed"  # the person's, over the machine's sure answer
TYPED = "typed"  # no machine reading of this page: typed


def answer_origins(answers: Mapping[str, tuple[str, str]],
                   machine: Mapping[str, MachineRead]) -> dict[str, str]:
    """question id -> `CONFIRMED`, `DECIDED`, `CHANGED` or `TYPED`."""
    out = {}
    for q, (status, value) in answers.items():
        read = machine.get(q)
        if read is None:
            out[q] = TYPED
        elif not read.sure:
            out[q] = DECIDED
        elif (read.status, read.value.strip()) == (status, value):
            out[q] = CONFIRMED
        else:
            out[q] = CHANGED
    return out


# --- the state a key-in changes -------------------------------------------------------


def _page_identity(conn: sa.Connection, page_id: int) -> dict[str, Any]:
    p = schema.pages
    row = conn.execute(sa.select(p.c.status, p.c.reason, p.c.message, p.c.form, p.c.version,
                                 p.c.page_number, p.c.serial, p.c.sheet_id)
                       .where(p.c.id == page_id)).one()
    return dict(row._mapping)


def _person_answers(conn: sa.Connection, sheet_id: int | None,
                    questions: tuple[str, ...]) -> dict[str, dict[str, Any] | None]:
    """The sheet's person answers to `questions` (None where it has none), in one query."""
    answers: dict[str, dict[str, Any] | None] = {q: None for q in questions}
    if sheet_id is None:
        return answers
    a = schema.answers
    for r in conn.execute(sa.select(a.c.question, a.c.value, a.c.status, a.c.page_id).where(
            a.c.sheet_id == sheet_id, a.c.source == AnswerSource.PERSON, a.c.question.in_(questions))):
        answers[r.question] = {"value": r.value, "status": r.status, "page_id": r.page_id}
    return answers


def _keyed_state(conn: sa.Connection, entry: QueueEntry, sheet_id: int | None,
                 questions: tuple[str, ...], page_count: int) -> dict[str, Any]:
    """`read_state` plus what only a key-in touches: the page's identity, the sheet's
    person answers to the page's questions, the page's comments."""
    assert entry.page_id is not None  # a page item
    state = read_state(conn, entry)
    c = schema.comments
    answers = _person_answers(conn, sheet_id, questions)
    comments = {r.question: r.text for r in conn.execute(
        sa.select(c.c.question, c.c.text).where(c.c.page_id == entry.page_id))}
    state[KEYED_STATE] = {"page": _page_identity(conn, entry.page_id), "sheet_id": sheet_id,
                      "page_count": page_count, "answers": answers, "comments": comments}
    return state


def _write_answers(conn: sa.Connection, sheet_id: int, new: Mapping[str, Any],
                   old: Mapping[str, Any]) -> None:
    """The person's answers `new` (question -> answer or None), where they differ from `old`."""
    for question, answer in new.items():
        if answer != old.get(question):
            write_person_answer(conn, sheet_id, question, answer)


def _write_comments(conn: sa.Connection, sheet_id: int | None, page_id: int,
                    comments: Mapping[str, str],
                    machine: Mapping[str, MachineRead] | None = None,
                    confirmed: frozenset[str] = frozenset(),
                    illegible: frozenset[str] = frozenset()) -> None:
    """The page's comments as keyed. `machine`: the machine's reading of the page, if it
    read it: a comment keeps the handwriting's crop, so the comments export can still show
    the hand; one `confirmed` (the machine's sure text, kept unchanged) keeps its OCR
    confidence too: it is the machine's reading, a person confirmed it. A comment a person
    typed has `KEYED_CONFIDENCE`. One `illegible` is written (not blank) with the
    machine's OCR text and confidence if it read any: it is published as the image."""
    c = schema.comments
    conn.execute(sa.delete(c).where(c.c.page_id == page_id))
    if sheet_id is None:
        return
    machine = machine or {}
    for question, text in comments.items():
        read = machine.get(question)
        ocr = None if read is None else read.confidence
        confidence = KEYED_CONFIDENCE
        if question in illegible:
            text, confidence = (read.value if read is not None else ""), ocr or 0.0
        elif question in confirmed and ocr is not None:
            confidence = ocr
        conn.execute(sa.insert(c).values(
            sheet_id=sheet_id, page_id=page_id, question=question, text=text,
            confidence=confidence, ink=0.0, blank=not text and question not in illegible,
            crop_path=read.crop_path if read is not None else None))


TAKEN_WORDS = "bỏ câu trả lời lần nhập tay này đã ghi / took back the answers this key-in wrote"
KEPT_WORDS = ("giữ câu trả lời của quyết định khác / kept another decision's answer "
              "(undo that decision to change it)")
GONE_WORDS = ("không còn để bỏ (bỏ cùng trang khi trang thành bản trùng) / already gone "
              "(removed with the page when it was set back as another copy's)")


@dataclass(frozen=True)
class KeyedUndo:
    """What undoing a key-in did: the sheets touched and deleted, and what it said."""

    touched: set[int]
    dropped: set[int]  # created by the key-in, nothing of them left
    note: str = ""  # for the audit: answers the undo left as they are, and why


def _undo_answers(conn: sa.Connection, page_id: int, keyed_new: Mapping[str, Any],
                  keyed_old: Mapping[str, Any]) -> str:
    """Take back the person answers the key-in wrote (`keyed_old`: its "after"), and only
    those: an answer it wrote has the keyed page's id. One still as it wrote it is put back
    as it was before (`keyed_new`) on the same sheet, else removed. One no longer there
    went with its page when the copy rule set the page back; one that differs was given
    since by another decision, which stays (its own undo takes it back). A key-in that
    made a duplicate wrote none. Returns the audit's note: what it took back, what it left
    alone and why."""
    sheet_id = keyed_old["sheet_id"]
    if sheet_id is None:
        return ""
    same_sheet = keyed_new["sheet_id"] == sheet_id
    taken, kept, gone = [], [], []
    mine = {q: wrote for q, wrote in keyed_old["answers"].items()
            if wrote is not None and wrote.get("page_id") == page_id}  # not another decision's answer
    now_all = _person_answers(conn, sheet_id, tuple(mine))
    for question, wrote in mine.items():
        now = now_all[question]
        if now is None:
            gone.append(question)
        elif now != wrote:
            kept.append(question)
        else:
            was = keyed_new["answers"].get(question) if same_sheet else None
            write_person_answer(conn, sheet_id, question, was)
            taken.append(question)
    return " | ".join(f"{words}: {', '.join(qs)}"
                      for words, qs in ((TAKEN_WORDS, taken), (KEPT_WORDS, kept), (GONE_WORDS, gone))
                      if qs)


def apply_keyed(conn: sa.Connection, new: dict[str, Any], old: dict[str, Any]) -> KeyedUndo:
    """The key-in part of `decisions.apply_state`, an undo: `new["keyed"]` is the key-in's
    "before", `old["keyed"]` its "after". Restores the page's identity and comments and
    takes back the answers the key-in wrote (`_undo_answers`), never another decision's;
    re-settles the sheets' pages."""
    keyed_new, keyed_old = new.get(KEYED_STATE), old.get(KEYED_STATE)
    if keyed_new is None or keyed_old is None:
        return KeyedUndo(set(), set())
    page_id = old["page"]["id"]
    page = keyed_new["page"]
    sheets = sorted({keyed_new["sheet_id"], keyed_old["sheet_id"]} - {None})
    for sheet_id in sheets:  # before its answers are read: a clerk may decide one right now
        lock_sheet(conn, sheet_id)
    p = schema.pages
    conn.execute(sa.update(p).where(p.c.id == page_id).values(**page))
    f = schema.flags
    # A duplicate flag on the page, opened by the key-in or since by the copy rule setting
    # the page back, goes with it: the page is on no sheet's copy any more, and the flag,
    # even resolved, would make its item a duplicate item for good (`items.item_kind`), one
    # that cannot be keyed again. Decisions name the item by its first flag, never this one.
    gone = (set(old["flags"]) | {str(i) for i in conn.execute(
        sa.select(f.c.id).where(f.c.page_id == page_id, f.c.question.is_(None),
                                f.c.reason == FlagReason.DUPLICATE)).scalars()}) - set(new["flags"])
    if gone:
        conn.execute(sa.delete(f).where(f.c.id.in_([int(i) for i in gone])))
    note = _undo_answers(conn, page_id, keyed_new, keyed_old)
    _write_comments(conn, page["sheet_id"], page_id, keyed_new["comments"])
    touched, dropped = set(), set()
    for sheet_id in sheets:
        settle_missing(conn, sheet_id, keyed_old["page_count"], KEYED_WHY)
        if _drop_if_empty(conn, sheet_id):
            dropped.add(sheet_id)
        else:
            touched.add(sheet_id)
    return KeyedUndo(touched, dropped, note)


def _drop_if_empty(conn: sa.Connection, sheet_id: int) -> bool:
    """Delete a sheet the undone key-in created: no page of it is left and no decision
    names it (else it is kept, and `responses_frame` leaves it out). True when deleted."""
    p, f, a, c, s = schema.pages, schema.flags, schema.answers, schema.comments, schema.sheets
    d = tables.decisions
    for table, column in ((p, p.c.sheet_id), (d, d.c.sheet_id), (a, a.c.sheet_id),
                          (c, c.c.sheet_id)):
        if conn.execute(sa.select(sa.func.count()).select_from(table)
                        .where(column == sheet_id)).scalar_one():
            return False
    conn.execute(sa.delete(f).where(f.c.sheet_id == sheet_id))
    conn.execute(sa.delete(s).where(s.c.id == sheet_id))
    return True


# --- keying in ------------------------------------------------------------------------


def _origin(conn: sa.Connection, page_id: int) -> sa.Row:
    """Where the page came from: its file (`source_id`), that file's batch, when it was
    scanned."""
    p, src = schema.pages, schema.sources
    return conn.execute(sa.select(p.c.source_id, src.c.batch_id, p.c.scanned_at)
                        .join(src, src.c.id == p.c.source_id).where(p.c.id == page_id)).one()


def _sheet_for(conn: sa.Connection, form: Form, serial: int, origin: sa.Row) -> int:
    """The sheet (form version, serial), created when no page of it was read yet (in the
    batch and at the time of the keyed page's scan, `origin`)."""
    s = schema.sheets
    insert_ignore(conn, s, {"form": form.id, "version": form.version, "serial": serial,
                            "status": SheetStatus.COUNTED, "batch_id": origin.batch_id,
                            "first_scanned_at": origin.scanned_at},
                  ["form", "version", "serial"])
    return int(conn.execute(sa.select(s.c.id).where(
        s.c.form == form.id, s.c.version == form.version, s.c.serial == serial)).scalar_one())


def _counted_copy(conn: sa.Connection, sheet_id: int, page: int) -> sa.Row | None:
    p, src = schema.pages, schema.sources
    return conn.execute(
        sa.select(p.c.id, p.c.page_index, src.c.path).join(src, src.c.id == p.c.source_id)
        .where(p.c.sheet_id == sheet_id, p.c.page_number == page,
               p.c.status == PageStatus.READ)).first()


_SHOWN: dict[str, str] = {AnswerStatus.NO_ANSWER: NO_ANSWER_SHOWN, AnswerStatus.INVALID: INVALID_SHOWN,
                          AnswerStatus.FLAGGED: "(chưa chắc / unsure)"}
_ORIGIN_WORDS = {
    CONFIRMED: "máy đọc, người xác nhận / the machine's, confirmed",
    DECIDED: "máy chưa chắc, người nhập / the machine unsure, keyed",
    CHANGED: "người sửa máy đọc / keyed over the machine's",
}


def _recorded(form: Form, page: int, serial: int, answers: Mapping[str, tuple[str, str]],
              machine: Mapping[str, MachineRead], origins: Mapping[str, str]) -> str:
    """The decision's value: what was keyed, readable in the audit log; for a page the
    machine read, which answers were its own confirmed, which a person gave where it was
    unsure (with why), which a person changed (with what it had read): `origins`, the
    `answer_origins` of `answers`."""
    comments = {q.id for q in form.questions() if q.type == "text"}
    parts = "; ".join(
        f"{q}={ILLEGIBLE_SHOWN if q in comments and status == AnswerStatus.INVALID else _SHOWN.get(status, value)}"
        for q, (status, value) in answers.items())
    out = f"{form.id}@{form.version} trang/page {page} số/serial {serial}: {parts}"
    if not machine:
        return out
    for origin, words in _ORIGIN_WORDS.items():
        named = []
        for q, was in origins.items():
            if was != origin:
                continue
            read = machine[q]
            if origin == DECIDED:
                named.append(f"{q} ({', '.join(read.reasons)})")
            elif origin == CHANGED:
                named.append(f"{q} (máy/machine {_SHOWN.get(read.status, read.value) or '-'})")
            else:
                named.append(q)
        if named:
            out += f" | {words}: {', '.join(named)}"
    return out


def _form_and_page(catalog: FormCatalog, keyed: KeyIn,
                   known: Mapping[str, Any]) -> tuple[Form, int]:
    """The form and page keyed; what is not given is the page's own when the machine
    identified it (by its print), and the page's number only with its form."""
    identified = catalog.form(known["form"], known["version"])
    if not keyed.form and identified is not None:
        form = identified
    else:
        form = choose_form(catalog, keyed.form, keyed.version)
    same = identified is not None and (form.id, form.version) == (identified.id, identified.version)
    if keyed.page is None and same and known["page_number"]:
        return form, int(known["page_number"])
    return form, _page_number(catalog, form, keyed.page)


def _check_page(entry: QueueEntry, page: Mapping[str, Any]) -> None:
    if not entry.subject.startswith("page:") or not set(entry.reasons) & PAGE_REASONS:
        raise ReviewError("Chỉ nhập tay được trang không đọc được / only an unreadable page "
                          "can be keyed in", "use the item's own actions")
    if page["status"] != PageStatus.FAILED:
        raise ReviewError(f"Trang này đã là {page['status']} / this page is {page['status']} "
                          "already (keyed in or set aside)",
                          "undo that decision first (u) to key it again")


def key_in_entry(conn: sa.Connection, catalog: FormCatalog, entry: QueueEntry, keyed: KeyIn, *,
                 reviewer: str, based_on: int, holder: str | None = None) -> DecisionRecord:
    """Key in the failed page of `entry` (an `unreadable` or `unknown_form` item) inside
    the caller's transaction; see the module docstring. Raises `ReviewError` for a form,
    page, serial or answer that does not fit, `StaleDecision` / `ItemTaken` as
    `decisions.decide_entry`."""
    reviewer = check_reviewer(reviewer)
    _check_holder(conn, entry, holder, reviewer)
    if current_version(conn, entry.subject) != based_on:
        raise _stale(conn, entry, based_on)
    assert entry.page_id is not None
    known = _page_identity(conn, entry.page_id)
    _check_page(entry, known)
    form, page = _form_and_page(catalog, keyed, known)
    questions = page_questions(catalog, form, page)
    serial = _serial(keyed.serial)
    # The machine's reading applies to the page it identified; a clerk who says the page
    # is another form or page keys every answer.
    machine = page_reading(conn, entry.page_id) if (
        known["form"], known["version"], known["page_number"]) == (form.id, form.version, page) else {}
    answers = parse_answers(questions, keyed.answers, by_key=keyed.by_key, machine=machine,
                            illegible=keyed.illegible)
    origins = answer_origins(answers, machine)
    page_count = len(catalog.pages[(form.id, form.version)])
    qids = tuple(q.id for q in questions)

    origin = _origin(conn, entry.page_id)
    sheet_id = _sheet_for(conn, form, serial, origin)
    lock_sheet(conn, sheet_id)  # the same page may be scanned or keyed elsewhere right now
    before = _keyed_state(conn, entry, sheet_id, qids, page_count)
    before[KEYED_STATE]["sheet_id"] = before["page"]["sheet_id"]
    if before["page"]["sheet_id"] != sheet_id:
        before[KEYED_STATE]["answers"] = {q: None for q in qids}
    first = _counted_copy(conn, sheet_id, page)
    # A page of a file that holds another copy of this sheet never completes the counted
    # copy (`pipeline.scan.copies`): two citizens' pages on one sheet.
    kept = None if first is not None else other_copys_file(conn, sheet_id, origin.source_id)
    p = schema.pages
    identity = {"form": form.id, "version": form.version, "page_number": page, "serial": serial,
                "sheet_id": sheet_id}
    was = f"{before[KEYED_STATE]['page']['reason']}: {before[KEYED_STATE]['page']['message']}"[:300]
    if first is not None or kept is not None:
        if first is not None:
            message = (f"Nhập tay: phiếu số {serial} trang {page} đã có ở {first.path} trang "
                       f"{first.page_index} / keyed in by {reviewer}: serial {serial} page {page} "
                       f"already read from {first.path} page {first.page_index}")
        else:
            assert kept is not None
            message = (f"Nhập tay: tệp này giữ bản khác của phiếu số {serial}; bản được tính ở "
                       f"{kept.path} trang {kept.page_index} / keyed in by {reviewer}: this file holds "
                       f"another copy of serial {serial}; the counted copy is {kept.path} page "
                       f"{kept.page_index}")
        conn.execute(sa.update(p).where(p.c.id == entry.page_id).values(
            status=PageStatus.DUPLICATE, reason=PageNote.DUPLICATE_SERIAL, message=message, **identity))
        reopen_flag(conn, reason=FlagReason.DUPLICATE, detail=message, sheet_id=sheet_id,
                    page_id=entry.page_id)
    else:
        conn.execute(sa.update(p).where(p.c.id == entry.page_id).values(
            status=PageStatus.READ, reason=PageNote.KEYED,
            message=f"Nhập tay bởi {reviewer} / keyed in by {reviewer} (was {was})",
            **identity))
        rows = {q: {"value": value, "status": status, "page_id": entry.page_id}
                for q, (status, value) in answers.items()}
        _write_answers(conn, sheet_id, rows, before[KEYED_STATE]["answers"])
        texts = {q.id: answers[q.id][1] for q in questions if q.type == "text"}
        # illegible by the checkbox or by a typed `x`/`invalid`: both are the `invalid` answer
        illegible = frozenset(q for q in texts if answers[q][0] == AnswerStatus.INVALID)
        _write_comments(conn, sheet_id, entry.page_id, texts, machine,
                        frozenset(q for q in texts if origins[q] == CONFIRMED), illegible)
        settle_missing(conn, sheet_id, page_count, KEYED_WHY)
    resolution = f"person: {reviewer}: {KEY_IN} {form.id}@{form.version}/{page}/{serial}"
    f = schema.flags
    conn.execute(sa.update(f).where(
        f.c.page_id == entry.page_id, f.c.question.is_(None), f.c.status == FlagStatus.OPEN,
        f.c.reason.in_(tuple(PAGE_REASONS)),
    ).values(status=FlagStatus.RESOLVED, resolved_at=utcnow(), resolution=resolution))
    for touched in {sheet_id, before["page"]["sheet_id"]} - {None}:
        refresh_sheet_status(conn, touched)
    after = _keyed_state(conn, entry, sheet_id, qids, page_count)
    record = _insert_decision(conn, entry, based_on, KEY_IN,
                              _recorded(form, page, serial, answers, machine, origins), before, after,
                              reviewer)
    settle_rejection(conn, sheet_id)
    return record


def key_in(engine: sa.Engine, catalog: FormCatalog, flag_id: int, keyed: KeyIn, *,
           reviewer: str, based_on: int, holder: str | None = None) -> DecisionRecord:
    """Key in the page of item `flag_id` in one transaction (see `key_in_entry`)."""
    with engine.begin() as conn:
        entry = entry_for_flag(conn, flag_id)
        return key_in_entry(conn, catalog, entry, keyed, reviewer=reviewer, based_on=based_on,
                            holder=holder)


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    """`QUESTION=VALUE` arguments -> {question: value}. Raises `ReviewError` for a pair
    without `=` or a question given twice."""
    out: dict[str, str] = {}
    for pair in pairs:
        question, sep, value = pair.partition("=")
        question = question.strip()
        if not sep or not question:
            raise ReviewError(f"Không hiểu / cannot read {pair!r}", "write QUESTION=VALUE, e.g. "
                              "thai_do=4 (none for no answer)")
        if question in out:
            raise ReviewError(f"Câu {question} được nhập hai lần / question {question} given twice")
        out[question] = value
    return out


# --- the key-in form of the review app ------------------------------------------------


@dataclass(frozen=True)
class KeyQuestion:
    """One question of the key-in form: its options with the keys that pick them."""

    id: str
    text: str
    type: str
    options: tuple[tuple[str, str, str], ...]  # (key, code, label)


@dataclass(frozen=True)
class KeyBlock:
    """The questions of one page of one form version."""

    form: str  # "ID@VERSION"
    page: int
    questions: tuple[KeyQuestion, ...]


@dataclass(frozen=True)
class KeyGuess:
    """What the key-in form shows for one question the machine read on this page."""

    value: str  # in the field: the keys of its sure answer (0: none), its sure text; "" unsure
    sure: bool
    reasons: tuple[str, ...] = ()  # unsure: why
    seen: str = ""  # unsure: the keys of the options it saw ink at, or its OCR text


@dataclass(frozen=True)
class KeyForm:
    """What the key-in form offers: every form version and page, and the guesses."""

    forms: tuple[str, ...]
    pages: int  # the most pages of any form
    blocks: tuple[KeyBlock, ...]
    form: str  # preselected
    page: int
    serial: str
    # A page the machine read by its print: its answers, in the block of its form and page.
    machine: Mapping[str, KeyGuess] = field(default_factory=dict)


def _guess(question: KeyQuestion, read: MachineRead) -> KeyGuess:
    """The field's start for `question` from the machine's answer: a sure answer in the
    keys a clerk would type (as a read page would count it); an unsure one left empty
    (a guess in the field is one Enter from counted unread), with its reason and what it
    saw beside."""
    keys = {code: key for key, code, _ in question.options}
    if not read.sure:
        seen = read.value if question.type == "text" else ", ".join(
            keys.get(code, code) for code in read.inked)
        return KeyGuess("", False, read.reasons, seen)
    if read.status == AnswerStatus.NO_ANSWER:
        return KeyGuess("" if question.type == "text" else NO_ANSWER_KEY, True)
    if question.type == "text":
        return KeyGuess(read.value, True)
    codes = read.value.split("|")
    if not all(keys.get(c) for c in codes):
        # An option past the ninth has no key: shown as keys, the answer would lose it
        # and one Enter would count the rest. The clerk keys it, the machine's codes beside.
        return KeyGuess("", False, (), ", ".join(codes))
    return KeyGuess("".join(keys[c] for c in codes), True)


def key_blocks(catalog: FormCatalog) -> tuple[KeyBlock, ...]:
    """Every page of every form version as the key-in form shows it: fixed by the
    survey's forms, so the review app builds it once (`app.ReviewContext`)."""
    blocks = []
    for (form_id, version), form in sorted(catalog.forms.items()):
        for geometry in catalog.pages[(form_id, version)]:
            questions = tuple(
                KeyQuestion(q.id, q.text, q.type, tuple(
                    (option_keys(q).get(o.code, ""), o.code, o.label) for o in q.options))
                for q in page_questions(catalog, form, geometry.page))
            blocks.append(KeyBlock(f"{form_id}@{version}", geometry.page, questions))
    return tuple(blocks)


def key_form(blocks: tuple[KeyBlock, ...], view: Any) -> KeyForm | None:
    """The key-in form for an item view (`items.ItemView`) over `key_blocks`, or None when
    the item is not a failed page. What the QR code told (an unknown page of a known form)
    is preselected."""
    if view.kind != "page" or view.page_status != PageStatus.FAILED:
        return None
    forms = tuple(dict.fromkeys(b.form for b in blocks))
    known = view.form is not None and f"{view.form.id}@{view.form.version}" in forms
    form = f"{view.form.id}@{view.form.version}" if known else (forms[0] if forms else "")
    page = view.page_number or 1
    block = next((b for b in blocks if (b.form, b.page) == (form, page)), None)
    machine = {} if block is None else {
        q.id: _guess(q, view.page_reading[q.id]) for q in block.questions if q.id in view.page_reading}
    return KeyForm(
        forms=forms,
        pages=max((b.page for b in blocks), default=1),
        blocks=blocks,
        form=form,
        page=page,
        serial="" if view.entry.serial is None else str(view.entry.serial),
        machine=machine,
    )


def key_in_from_form(values: Mapping[str, str], prefix: str = "ans:") -> KeyIn:
    """The `KeyIn` a submitted key-in form carries (`form` as ID@VERSION, `page`,
    `serial`, `ans:QUESTION` fields with the keys typed, and a checked `illegible:QUESTION`
    box for a comment marked illegible)."""
    try:
        page = int(values.get("page", "") or 1)
    except ValueError:
        raise ReviewError(f"Trang không hợp lệ / not a page number: {values.get('page')!r}") from None
    answers = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
    illegible = frozenset(k[len(ILLEGIBLE_FIELD):] for k, v in values.items()
                          if k.startswith(ILLEGIBLE_FIELD) and v)
    return KeyIn(form=values.get("form", ""), serial=values.get("serial", ""), answers=answers,
                 page=page, by_key=True, illegible=illegible)
