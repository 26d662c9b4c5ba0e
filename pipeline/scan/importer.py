"""Answers collected elsewhere (an online form, a kiosk), imported as sheets of a channel.

The file is a CSV (UTF-8, with or without BOM) or `.xlsx` in DESIGN.md's responses.csv
layout: one column per question of the form, holding option codes (`|`-joined for a
multi-choice question) or the text of a text question; `serial` is optional, `status`,
`flagged`, `scanned_at` (when the answer was given) too. Every row is checked against the
form before anything is written: a bad row is reported with its line, and nothing is
imported. The rows are then written in one transaction, as sheets of the channel, with the
file's SHA-256 kept in `imports` so that importing the same file again adds nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from forms.errors import BadInput, SurveyError
from forms.model import Form, Question
from pipeline.scan.inputs import sha256_file
from pipeline.store import schema
from pipeline.store.database import get_or_create_batch, insert_ignore, open_store, utcnow
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, Channel, SheetStatus

IMPORT_CHANNELS: tuple[str, ...] = (Channel.ONLINE.value, Channel.KIOSK.value)
OPTIONAL_COLUMNS = ("serial", "status", "flagged", "sheet_flags", "batch", "scanned_at", "channel")
MAX_LISTED = 10  # bad rows named in the message; the rest are counted


@dataclass(frozen=True)
class ImportSummary:
    """What `import_answers` did: `added` sheets (0 when the file was imported before),
    `skipped` rows of rejected sheets, the batch the sheets went into."""

    path: Path
    channel: str
    form_id: str
    version: int
    added: int
    skipped: int
    already: bool
    batch: str
    first_serial: int | None = None
    last_serial: int | None = None


@dataclass(frozen=True)
class _Row:
    line: int
    serial: int | None
    given_at: datetime | None
    values: dict[str, tuple[str, str]]  # question id -> (value, answers.status)


def read_rows(path: Path) -> pd.DataFrame:
    """The file as text cells (empty for blank). Raises `BadInput` for another suffix or
    a file that cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput(f"{path}: cannot import a {suffix or 'suffix-less'} file",
                       "give a .csv or .xlsx file in the responses.csv layout (DESIGN.md)")
    try:
        if suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise BadInput(f"{path}: cannot be read ({err})",
                       "save it as CSV UTF-8 or .xlsx and try again") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.map(_cell)


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))  # a spreadsheet stores the answer 4 as the number 4.0
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def check_rows(form: Form, frame: pd.DataFrame, path: Path) -> tuple[list[_Row], int]:
    """Every row checked against `form`: (the rows to import, rows skipped as rejected).
    Raises `BadInput` listing the bad rows (by their line in the file) when any is bad."""
    questions = form.questions()
    ids = [q.id for q in questions]
    missing = [q for q in ids if q not in frame.columns]
    unknown = [c for c in frame.columns if c not in ids and c not in OPTIONAL_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"lacks the column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"has column(s) form {form.id} does not have: {', '.join(unknown)}")
        raise BadInput(f"{path}: {'; '.join(parts)}",
                       f"one column per question of {form.id} v{form.version}, named by its id "
                       "(as `export responses` writes them)")
    problems: list[str] = []
    rows: list[_Row] = []
    skipped = 0
    serials: dict[int, int] = {}
    for position, record in enumerate(frame.to_dict("records")):
        line = position + 2  # line 1 is the header
        errors: list[str] = []
        status = record.get("status", "")
        if status == SheetStatus.REJECTED:
            skipped += 1
            continue
        if status and status not in (SheetStatus.COUNTED, SheetStatus.REVIEWED):
            errors.append(f"status {status!r}: only counted or reviewed answers are imported")
        if record.get("flagged", ""):
            errors.append(f"questions {record['flagged']} still wait for review")
        if record.get("sheet_flags", ""):
            errors.append(f"the sheet still waits for review ({record['sheet_flags']})")
        serial = _serial(record.get("serial", ""), errors)
        if serial is not None:
            if serial in serials:
                errors.append(f"serial {serial} is also on line {serials[serial]}")
            serials.setdefault(serial, line)
        given_at = _when(record.get("scanned_at", ""), errors)
        values = {q.id: _value(q, record[q.id], errors) for q in questions}
        if errors:
            problems.append(f"line {line}: " + "; ".join(errors))
        else:
            rows.append(_Row(line, serial, given_at, values))
    if problems:
        listed = problems[:MAX_LISTED]
        more = len(problems) - len(listed)
        raise BadInput(
            f"{path}: {len(problems)} bad row(s), nothing imported — " + " | ".join(listed)
            + (f" | and {more} more" if more else ""),
            "correct those lines (codes as on the form, see `phieu forms check`) and import again",
        )
    return rows, skipped


def _serial(text: str, errors: list[str]) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        errors.append(f"serial {text!r} is not a positive whole number")
        return None
    return int(text)


def _when(text: str, errors: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"scanned_at {text!r} is not a date (YYYY-MM-DD or ISO 8601)")
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _value(question: Question, text: str, errors: list[str]) -> tuple[str, str]:
    if not text:
        return "", AnswerStatus.NO_ANSWER
    if question.type == "text":
        return text, AnswerStatus.ANSWERED
    known = [o.code for o in question.options]
    codes = [c.strip() for c in text.split("|") if c.strip()]
    bad = [c for c in codes if c not in known]
    if bad:
        errors.append(f"{question.id}: {bad[0]!r} is not an option (options: {', '.join(known)})")
        return "", ""
    if question.type == "single" and len(codes) > 1:
        errors.append(f"{question.id}: one answer expected, got {text!r}")
        return "", ""
    if len(set(codes)) != len(codes):
        errors.append(f"{question.id}: {text!r} repeats an option")
        return "", ""
    ordered = [c for c in known if c in codes]  # the store keeps codes in form order
    return "|".join(ordered), AnswerStatus.ANSWERED


def import_answers(survey: Any, forms: Any, path: Path, channel: str,
                   form_id: str | None = None) -> ImportSummary:
    """Import the answers in `path` into `survey`'s store as sheets of `channel`.

    `forms` are the survey's forms; `form_id` chooses one as `export responses --form`
    does. Raises `BadInput` for an unknown channel, a bad file or bad rows (nothing is
    written then), `SurveyError` when a given serial is already a sheet of that form.
    """
    from pipeline.store.survey import pick_form

    if channel not in IMPORT_CHANNELS:
        raise BadInput(f"--channel {channel!r} is unknown",
                       f"use one of {', '.join(IMPORT_CHANNELS)} (paper ballots are scanned)")
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file", "check the path")
    form = pick_form(forms, form_id)
    rows, skipped = check_rows(form, read_rows(path), path)
    sha, _ = sha256_file(path)
    store = open_store(survey.store_url, create=False)
    try:
        with store.engine.begin() as conn:
            batch_name = f"{channel}-{path.stem}-{sha[:8]}"
            batch_id = get_or_create_batch(conn, batch_name)
            fresh = insert_ignore(conn, schema.imports, {
                "sha256": sha, "path": str(path.resolve()), "channel": channel, "form": form.id,
                "version": form.version, "rows": len(rows), "batch_id": batch_id,
                "imported_at": utcnow(),
            }, ["sha256"])
            if not fresh:
                return ImportSummary(path, channel, form.id, form.version, 0, skipped, True,
                                     batch_name)
            import_id = conn.execute(sa.select(schema.imports.c.id)
                                     .where(schema.imports.c.sha256 == sha)).scalar_one()
            serials = _assign_serials(conn, form, rows)
            _write(conn, form, rows, serials, channel, batch_id, import_id)
    finally:
        store.engine.dispose()
    return ImportSummary(path, channel, form.id, form.version, len(rows), skipped, False,
                         batch_name, min(serials, default=None), max(serials, default=None))


def _assign_serials(conn: sa.Connection, form: Form, rows: list[_Row]) -> list[int]:
    """The file's serials, and for rows without one the next free numbers of the form
    version; a serial the survey already has is refused (it is another ballot)."""
    s = schema.sheets
    where = sa.and_(s.c.form == form.id, s.c.version == form.version)
    given = [r.serial for r in rows if r.serial is not None]
    if given:
        taken = sorted(conn.execute(sa.select(s.c.serial).where(where, s.c.serial.in_(given)))
                       .scalars())
        if taken:
            lines = [str(r.line) for r in rows if r.serial in set(taken)]
            raise SurveyError(
                f"serial(s) {', '.join(map(str, taken[:10]))} (line(s) {', '.join(lines[:10])}) "
                f"are already ballots of {form.id} v{form.version} in this survey; nothing imported",
                "leave `serial` empty to number the rows after the survey's ballots",
            )
    top = conn.execute(sa.select(sa.func.max(s.c.serial)).where(where)).scalar() or 0
    top = max([top, *given])
    out = []
    for row in rows:
        if row.serial is None:
            top += 1
            out.append(top)
        else:
            out.append(row.serial)
    return out


def _write(conn: sa.Connection, form: Form, rows: list[_Row], serials: list[int],
           channel: str, batch_id: int, import_id: int) -> None:
    now = utcnow()
    for row, serial in zip(rows, serials, strict=True):
        sheet_id = conn.execute(sa.insert(schema.sheets).values(
            form=form.id, version=form.version, serial=serial, status=SheetStatus.COUNTED.value,
            batch_id=batch_id, first_scanned_at=row.given_at or now, channel=channel,
            import_id=import_id,
        ).returning(schema.sheets.c.id)).scalar_one()
        conn.execute(sa.insert(schema.answers), [
            {"sheet_id": sheet_id, "page_id": None, "question": qid,
             "source": AnswerSource.MACHINE.value, "value": value, "status": status,
             "created_at": now}
            for qid, (value, status) in row.values.items()
        ])
