"""Which physical copy of a sheet counts: its pages are never mixed with another copy's.

A serial printed twice (two offices, or one sheet photocopied) reaches the store as two
*copies* of one sheet. Deciding page by page which copy counts could give serial 2 the
first page of one citizen's ballot and the second page of another's. So the decision is
per copy:

- a copy is told by its input file (the pages of one paper sheet are fed together);
- the counted copy is the one whose page was stored first (the earliest counted page);
- once a second copy is seen (a page number arrives that the sheet already has, from
  another file), the two files hold different copies: the counted pages of the one that
  is not the counted copy's file are set back to `duplicate` (its answers removed, a
  person's given on that page too; their flags closed by the machine, a `duplicate`
  flag opened) — and when the arriving
  page is of the counted copy's file, it takes the place the other copy held. The
  person sees both copies in review; the count holds only the counted copy's pages;
- after that, a page from the other copy's file is a duplicate even when its page number
  is not counted yet (it belongs to the other copy), and a page from the counted copy's
  file counts.

A sheet split across two files with no second copy (a feeder batch ending between its
pages) still counts whole: nothing says its pages are of different copies. Only pages
that evidence puts in another copy are set back; a third file that merely duplicates a
page leaves the counted pages as they are (it is the one set aside).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.database import open_flag, utcnow
from pipeline.store.vocabulary import AnswerSource, FlagReason, FlagStatus, PageNote, PageStatus


@dataclass(frozen=True)
class CopyDecision:
    """Whether an arriving page counts, and the message when it does not."""

    counts: bool
    message: str = ""
    demoted: int = 0  # counted pages of another copy set back to duplicate


def _pages_of(conn: sa.Connection, sheet_id: int) -> list[sa.Row]:
    p, src = schema.pages, schema.sources
    return list(conn.execute(
        sa.select(p.c.id, p.c.status, p.c.page_number, p.c.source_id, p.c.page_index, src.c.path)
        .join(src, src.c.id == p.c.source_id)
        .where(p.c.sheet_id == sheet_id,
               p.c.status.in_([PageStatus.READ, PageStatus.DUPLICATE]))
        .order_by(p.c.id)
    ))


def _where(row: sa.Row) -> str:
    return f"{Path(row.path).name} trang/page {row.page_index}"


def decide_copy(conn: sa.Connection, sheet_id: int, serial: int, page_number: int,
                source_id: int) -> CopyDecision:
    """Decide whether page `page_number` of sheet `sheet_id`, arriving from file
    `source_id`, counts; set back pages of another copy where a second copy shows.
    Call under the sheet's lock (`lock_sheet`)."""
    pages = _pages_of(conn, sheet_id)
    counted = [r for r in pages if r.status == PageStatus.READ]
    if not counted:
        return CopyDecision(True)
    home = counted[0].source_id  # the counted copy's file: its page was stored first
    same_number = next((r for r in counted if r.page_number == page_number), None)
    second_copy_seen = any(r.status == PageStatus.DUPLICATE for r in pages)
    if same_number is None and not second_copy_seen:
        return CopyDecision(True)
    if same_number is not None and same_number.source_id == source_id:
        # The same page twice in one file (the sheet fed twice): the file cannot tell
        # the copies apart; the first one counts.
        return CopyDecision(False, _message(serial, page_number, same_number))
    if same_number is not None:
        # Two files hold this page: their copies differ. The counted pages of whichever of
        # the two is not the counted copy's file are that other copy's: set them back.
        other_copy = same_number.source_id if source_id == home else source_id
        demoted = 0
        for row in counted:
            if row.source_id == other_copy:
                _set_back(conn, sheet_id, serial, row, counted[0])
                demoted += 1
        if source_id == home:
            return CopyDecision(True, demoted=demoted)  # its place was held by another copy
        return CopyDecision(False, _message(serial, page_number, counted[0]), demoted)
    # A second copy was seen before: this page belongs to whichever copy its file holds.
    if _of_other_copy(pages, source_id):
        return CopyDecision(False, _message(serial, page_number, counted[0]))
    return CopyDecision(True)


def other_copys_file(conn: sa.Connection, sheet_id: int, source_id: int) -> sa.Row | None:
    """The counted copy's first page when file `source_id` holds another copy of sheet
    `sheet_id` (a second copy was seen, and that file is its): a page from that file must
    not complete the counted copy, whatever its number. None otherwise. Changes nothing
    (a key-in asks it: `pipeline.review.keying`)."""
    pages = _pages_of(conn, sheet_id)
    return next(r for r in pages if r.status == PageStatus.READ) if _of_other_copy(pages, source_id) else None


def _of_other_copy(pages: list[sa.Row], source_id: int) -> bool:
    """Whether file `source_id` holds another copy of the sheet whose stored `pages` are
    given (`_pages_of`): not the counted copy's file, and a file a page of which was
    set aside as the other copy's."""
    counted = [r for r in pages if r.status == PageStatus.READ]
    if not counted or counted[0].source_id == source_id:
        return False
    return source_id in {r.source_id for r in pages if r.status == PageStatus.DUPLICATE}


def _message(serial: int, page_number: int, kept: sa.Row) -> str:
    return (
        f"Phiếu số {serial} trang {page_number}: bản khác của phiếu này đã được tính ở "
        f"{Path(kept.path).name} trang {kept.page_index} / serial {serial} page {page_number}: "
        f"another copy of this sheet counts (from {Path(kept.path).name} page {kept.page_index})"
    )


def _set_back(conn: sa.Connection, sheet_id: int, serial: int, row: sa.Row, kept: sa.Row) -> None:
    """A counted page found to be of another copy: duplicate, its answers gone (the
    machine's, and a person's given on this page: they were read off this copy's paper),
    its own flags closed by the machine, a `duplicate` flag opened. The person's decisions
    stay in the audit."""
    p, a, f = schema.pages, schema.answers, schema.flags
    message = (_message(serial, row.page_number, kept)
               + " — trang này thuộc bản khác, không được tính / this page is of the other copy, not counted")
    persons = conn.execute(sa.delete(a).where(a.c.page_id == row.id, a.c.source == AnswerSource.PERSON)).rowcount
    if persons:
        message += (f" ({persons} câu người nhập trên trang này không còn được tính, xem nhật ký / "
                    f"{persons} answers a person gave on this page no longer count, see the audit)")
    conn.execute(sa.update(p).where(p.c.id == row.id).values(
        status=PageStatus.DUPLICATE, reason=PageNote.DUPLICATE_SERIAL, message=message))
    conn.execute(sa.delete(a).where(a.c.page_id == row.id, a.c.source == AnswerSource.MACHINE))
    conn.execute(sa.update(f).where(f.c.page_id == row.id, f.c.status == FlagStatus.OPEN,
                                    f.c.reason != FlagReason.DUPLICATE).values(
        status=FlagStatus.RESOLVED, resolved_at=utcnow(),
        resolution="machine: trang của bản khác / page of another copy"))
    open_flag(conn, reason=FlagReason.DUPLICATE, detail=message, sheet_id=sheet_id, page_id=row.id)
