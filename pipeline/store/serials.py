"""Serial ranges: printing for a survey takes the next free range and records it.

A serial names one paper sheet. Two offices printing from serial 1 produce two different
ballots per serial, which the store can then only see as duplicates. So a survey hands
out ranges: `reserve_serials` takes the serials after the highest range recorded for the
form id (or checks that a range asked for overlaps none) and records it, committed
*before* anything is printed: a failed print wastes a range, never reuses one.

Concurrent printers (two stations on one PostgreSQL store): both may compute the same
next range; the unique (`form`, `first_serial`) lets one insert in, the other retries
with the range after.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from forms.errors import BadInput
from pipeline.store import schema
from pipeline.store.database import Store, utcnow

RETRIES = 5


@dataclass(frozen=True)
class SerialRange:
    """Serials `first`..`last` (inclusive) of form `form`, handed out to `label`."""

    form: str
    version: int
    first: int
    last: int
    label: str = ""


def serial_ranges(store: Store, form: str | None = None) -> tuple[SerialRange, ...]:
    """The ranges recorded (of `form`, or all), by form then first serial."""
    r = schema.serial_ranges
    query = sa.select(r.c.form, r.c.version, r.c.first_serial, r.c.last_serial, r.c.label)
    if form is not None:
        query = query.where(r.c.form == form)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(r.c.form, r.c.first_serial)).all()
    return tuple(SerialRange(*row) for row in rows)


def _overlapping(conn: sa.Connection, form: str, first: int, last: int) -> sa.Row | None:
    r = schema.serial_ranges
    return conn.execute(
        sa.select(r.c.first_serial, r.c.last_serial, r.c.label).where(
            r.c.form == form, r.c.first_serial <= last, r.c.last_serial >= first)
    ).first()


def reserve_serials(
    store: Store, form: str, version: int, copies: int, *, first: int | None = None, label: str = ""
) -> SerialRange:
    """Record and return a range of `copies` serials for `form`.

    Without `first`, the range starts after the highest serial recorded for the form
    (1 for the first printing). With `first`, that range is taken if it overlaps no
    recorded range; else `BadInput` names the range it overlaps.
    """
    if copies < 1:
        raise BadInput(f"Số bản in phải ≥ 1 / --copies must be at least 1 (got {copies})")
    r = schema.serial_ranges
    for _ in range(RETRIES):
        with store.engine.begin() as conn:
            start = first
            if start is None:
                highest = conn.execute(
                    sa.select(sa.func.max(r.c.last_serial)).where(r.c.form == form)).scalar()
                start = (highest or 0) + 1
            last = start + copies - 1
            clash = _overlapping(conn, form, start, last)
            if clash is not None:
                raise BadInput(
                    f"Số phiếu {start}–{last} trùng với dãy đã in {clash.first_serial}–"
                    f"{clash.last_serial} ({clash.label or '?'}) / serials {start}–{last} of "
                    f"{form} overlap a range already printed",
                    "leave out --first-serial: the survey gives the next free range",
                )
            try:
                conn.execute(sa.insert(r).values(form=form, version=version, first_serial=start,
                                                 last_serial=last, label=label, created_at=utcnow()))
            except sa.exc.IntegrityError:
                if first is not None:
                    raise
                continue  # another station took this range meanwhile: take the next
        return SerialRange(form, version, start, last, label)
    raise BadInput(f"Không lấy được dãy số phiếu / could not take a serial range for {form}",
                   "another station is printing at the same moment: run the command again")


def survey_form_and_range(
    survey_dir: Path, form_ref: str, copies: int, first: int | None, label: str
) -> tuple[Any, SerialRange]:
    """The survey's own copy of form `form_ref` (an id, `ID@VERSION`, or a path to a form
    the survey has) and a range of `copies` serials reserved for it in the survey's store."""
    from forms.library import load_form
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey, load_survey_forms

    survey = find_survey(survey_dir)
    forms = load_survey_forms(survey)
    wanted, _, version = form_ref.partition("@")
    if Path(form_ref).is_file():
        loaded = load_form(form_ref)
        wanted, version = loaded.id, str(loaded.version)
    chosen = [f for f in forms if f.id == wanted and (not version or str(f.version) == version)]
    if not chosen:
        have = ", ".join(f"{f.id}@{f.version}" for f in forms)
        raise BadInput(f"Khảo sát không có mẫu phiếu / the survey has no form {form_ref!r} (has: {have})",
                       "give one of the survey's forms, or add the form with a new survey")
    form = max(chosen, key=lambda f: f.version)  # the newest version unless one was named
    store = open_store(survey.store_url, create=False)
    try:
        return form, reserve_serials(store, form.id, form.version, copies, first=first, label=label)
    finally:
        store.engine.dispose()
