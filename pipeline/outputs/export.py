"""The store as tables: responses, pages and comments (DESIGN.md "Exports").

`responses_frame`, `pages_frame` and `comments_frame` return pandas DataFrames (the tally
and report build on them); `write_frame` writes one as CSV (UTF-8 with BOM, so Excel on
Vietnamese Windows shows the diacritics) or `.xlsx`, through `cells` (no text cell
becomes a formula, no character Excel cannot hold). A person's answer (source `person`)
wins over the machine's reading; neither is ever overwritten.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from forms.durable import atomic_output
from pipeline.outputs.cells import write_csv, write_xlsx
from pipeline.store import schema
from pipeline.store.database import Store
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagReason, FlagStatus, PageStatus

RESPONSES_META = ("serial", "status", "flagged", "sheet_flags")
EXTRA_META = ("batch", "scanned_at", "channel")  # in responses_frame, not in responses.csv
PAGES_COLUMNS = ("source", "page", "status", "form", "serial", "reason")
COMMENTS_COLUMNS = ("serial", "question", "text", "confidence", "crop", "flagged", "shown_as")


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives back naive datetimes; the store writes UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def _answers(conn: sa.Connection, sheet_ids: sa.Select) -> dict[tuple[int, str], str]:
    """(sheet id, question) -> value, a person's answer winning over the machine's."""
    a = schema.answers
    rows = conn.execute(
        sa.select(a.c.sheet_id, a.c.question, a.c.source, a.c.value, a.c.status)
        .where(a.c.sheet_id.in_(sheet_ids))
    ).all()
    out: dict[tuple[int, str], str] = {}
    for sheet_id, question, _source, value, status in sorted(rows, key=lambda r: r.source != AnswerSource.PERSON):
        key = (sheet_id, question)
        if key in out:
            continue  # the person's row came first
        out[key] = value if status in (AnswerStatus.ANSWERED, AnswerStatus.FLAGGED) else ""
    return out


def _open_question_flags(conn: sa.Connection, sheet_ids: sa.Select) -> dict[int, set[str]]:
    f = schema.flags
    rows = conn.execute(
        sa.select(f.c.sheet_id, f.c.question).where(
            f.c.sheet_id.in_(sheet_ids), f.c.status == FlagStatus.OPEN, f.c.question.is_not(None)
        )
    ).all()
    out: dict[int, set[str]] = {}
    for sheet_id, question in rows:
        out.setdefault(sheet_id, set()).add(question)
    return out


def _open_sheet_flags(conn: sa.Connection, sheet_ids: sa.Select) -> dict[int, set[str]]:
    """sheet id -> reasons of its open flags that name no question: about the sheet
    (missing page, blank ballot) or about one of its pages (a duplicate copy)."""
    f, p = schema.flags, schema.pages
    sheet = sa.func.coalesce(f.c.sheet_id, p.c.sheet_id)
    rows = conn.execute(
        sa.select(sheet, f.c.reason).select_from(f.outerjoin(p, p.c.id == f.c.page_id))
        .where(f.c.status == FlagStatus.OPEN, f.c.question.is_(None), sheet.in_(sheet_ids))
    ).all()
    out: dict[int, set[str]] = {}
    for sheet_id, reason in rows:
        out.setdefault(sheet_id, set()).add(reason)
    return out


def _read_pages(conn: sa.Connection, sheet_ids: sa.Select) -> dict[int, set[int]]:
    p = schema.pages
    out: dict[int, set[int]] = {}
    for sheet_id, number in conn.execute(sa.select(p.c.sheet_id, p.c.page_number).where(
            p.c.sheet_id.in_(sheet_ids), p.c.status == PageStatus.READ)):
        out.setdefault(sheet_id, set()).add(number)
    return out


def _reason_order(reason: str) -> int:
    known = [r.value for r in FlagReason]
    return known.index(reason) if reason in known else len(known)


def covered_questions(reasons: set[str], read_pages: set[int], question_pages: dict[str, int],
                      questions: list[str]) -> set[str]:
    """The questions a sheet's whole-sheet flags hold back: a missing page, the questions
    printed on the pages not read; any other (a blank ballot, a duplicate copy), all."""
    out: set[str] = set()
    for reason in reasons:
        if reason == FlagReason.MISSING_PAGE:
            out |= {q for q in questions if question_pages.get(q) not in read_pages}
        else:
            out |= set(questions)
    return out


def responses_frame(store: Store, form: Any) -> pd.DataFrame:
    """One row per sheet of `form` (a `forms.model.Form`; sheets of its id and version).

    Columns: `serial`, `status`, `flagged` (question ids waiting for a person, `|`-joined,
    in form order: those with an open flag, and those an open whole-sheet flag holds back,
    see `covered_questions`), `sheet_flags` (the reasons of the open flags about the whole
    sheet or one of its pages, `|`-joined), `batch` (the batch that first saw the sheet),
    `scanned_at` (ISO 8601, UTC, when the sheet was first scanned or its answers given),
    `channel` (paper, online, kiosk), then one column per question id in form
    order: option code(s) `|`-joined, "" for no answer or an undecided flag, the text for
    a text question (a person's transcription if any, else the OCR text). Sorted by serial.
    A sheet none of whose pages is left (a key-in undone) is not a row.
    """
    from forms.layout import layout_form

    questions = [q.id for q in form.questions()]
    question_pages = dict(layout_form(form).question_pages)
    s, b, p = schema.sheets, schema.batches, schema.pages
    # A paper sheet is a row while one of its pages is stored (a key-in undone leaves none);
    # a sheet imported from another channel never had a page.
    where = sa.and_(s.c.form == form.id, s.c.version == form.version,
                    sa.or_(s.c.import_id.is_not(None), sa.exists().where(p.c.sheet_id == s.c.id)))
    sheet_ids = sa.select(s.c.id).where(where)
    with store.engine.connect() as conn:
        sheets = conn.execute(
            sa.select(s.c.id, s.c.serial, s.c.status, b.c.name, s.c.first_scanned_at,
                      s.c.channel)
            .join(b, b.c.id == s.c.batch_id)
            .where(where)
            .order_by(s.c.serial)
        ).all()
        answers = _answers(conn, sheet_ids)
        flagged = _open_question_flags(conn, sheet_ids)
        sheet_flags = _open_sheet_flags(conn, sheet_ids)
        read_pages = _read_pages(conn, sheet_ids)
    records = []
    for sheet_id, serial, status, batch, scanned_at, channel in sheets:
        reasons = sheet_flags.get(sheet_id, set())
        waiting = flagged.get(sheet_id, set()) | covered_questions(
            reasons, read_pages.get(sheet_id, set()), question_pages, questions)
        record = {
            "serial": int(serial),
            "status": status,
            "flagged": "|".join(q for q in questions if q in waiting),
            "sheet_flags": "|".join(sorted(reasons, key=_reason_order)),
            "batch": batch,
            "scanned_at": _iso(scanned_at),
            "channel": channel,
        }
        for q in questions:
            record[q] = answers.get((sheet_id, q), "")
        records.append(record)
    columns = [*RESPONSES_META, *EXTRA_META, *questions]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.astype({"serial": "int64"} | {c: "string" for c in columns if c != "serial"})


def pages_frame(store: Store) -> pd.DataFrame:
    """One row per input page, in input order (file as first stored, then page).

    Columns `source` (the file's path), `page` (1-based in the file), `status`, `form`,
    `serial`, `reason` as in pages.csv, then `message` (what a clerk can do), `batch` and
    `image` (the stored page image, relative to the workspace) for other users.
    """
    p, src, b = schema.pages, schema.sources, schema.batches
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(src.c.path, p.c.page_index, p.c.status, p.c.form, p.c.serial,
                      p.c.reason, p.c.message, b.c.name, p.c.image_path)
            .join(src, src.c.id == p.c.source_id)
            .join(b, b.c.id == src.c.batch_id)
            .order_by(src.c.id, p.c.page_index)
        ).all()
    columns = [*PAGES_COLUMNS, "message", "batch", "image"]
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
    frame["serial"] = frame["serial"].astype("Int64")
    frame["form"] = frame["form"].fillna("")
    frame["image"] = frame["image"].fillna("")
    return frame


def comments_frame(store: Store, root: Path | None = None) -> pd.DataFrame:
    """Every written comment (blank fields left out) of a counted copy of a sheet.

    Columns `serial`, `question`, `text` (a person's transcription if any, else the OCR
    text), `confidence` (Tesseract's, 0..100), `crop` (the crop image's path: absolute
    when `root`, the workspace, is given, else relative to it), `flagged` (True while
    the text waits for a person) and `shown_as` (how it is published:
    `pipeline.outputs.comments.shown_as`), then `form` and `status` (the sheet's).
    """
    from pipeline.outputs.comments import shown_as

    c, p, s, a, f = schema.comments, schema.pages, schema.sheets, schema.answers, schema.flags
    person = (
        sa.select(a.c.value)
        .where(a.c.sheet_id == c.c.sheet_id, a.c.question == c.c.question, a.c.source == AnswerSource.PERSON)
        .scalar_subquery()
    )
    person_status = (
        sa.select(a.c.status)
        .where(a.c.sheet_id == c.c.sheet_id, a.c.question == c.c.question, a.c.source == AnswerSource.PERSON)
        .scalar_subquery()
    )
    open_flag = (
        sa.select(sa.func.count())
        .select_from(f)
        .where(f.c.sheet_id == c.c.sheet_id, f.c.question == c.c.question, f.c.status == FlagStatus.OPEN)
        .scalar_subquery()
    )
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(s.c.serial, c.c.question, sa.func.coalesce(person, c.c.text),
                      c.c.confidence, c.c.crop_path, open_flag, s.c.form, s.c.status,
                      person_status)
            .join(p, p.c.id == c.c.page_id)
            .join(s, s.c.id == c.c.sheet_id)
            .where(p.c.status == PageStatus.READ, c.c.blank == sa.false())
            .order_by(s.c.form, s.c.serial, c.c.question)
        ).all()
    records = []
    for serial, question, text, confidence, crop, n_open, form, status, decided in rows:
        if crop and root is not None:
            crop = str(Path(root) / crop)
        shown = shown_as(decided, text, float(confidence), bool(n_open))
        records.append((int(serial), question, text, round(float(confidence), 1),
                        crop or "", bool(n_open), shown.value, form, status))
    return pd.DataFrame.from_records(records, columns=[*COMMENTS_COLUMNS, "form", "status"])


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path`: `.xlsx` as an Excel workbook (a column of numbers, such as
    the 1-5 answers, as numbers), anything else as CSV in UTF-8 with BOM. Raises
    `BadInput` when the folder does not exist."""
    path = Path(path)
    with atomic_output(path) as temp:  # a kill or a full disk keeps the previous file
        if path.suffix.lower() == ".xlsx":
            from pipeline.outputs.labels import numbers_as_numbers

            write_xlsx({"Sheet1": numbers_as_numbers(frame)}, temp)
        else:
            write_csv(frame, temp)
    return path


def responses_csv_frame(store: Store, form: Any) -> pd.DataFrame:
    """`responses_frame` with exactly DESIGN.md's responses.csv columns."""
    frame = responses_frame(store, form)
    return frame.drop(columns=list(EXTRA_META))


def pages_csv_frame(store: Store) -> pd.DataFrame:
    """`pages_frame` with exactly DESIGN.md's pages.csv columns."""
    return pages_frame(store)[list(PAGES_COLUMNS)]


def comments_csv_frame(store: Store, root: Path | None = None) -> pd.DataFrame:
    """`comments_frame` with exactly the comments.csv columns."""
    return comments_frame(store, root)[list(COMMENTS_COLUMNS)]
