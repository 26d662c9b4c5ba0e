"""What a sheet's counted pages say about it: which are there, whether the sheet is blank,
and the sheet flags that follow (`missing_page`, `blank_ballot`).

The recorder (a page read in a scan, the end of a scan) and keying (a page typed in review,
or a key-in undone) both settle a sheet here, so the two cannot disagree on when a sheet is
complete, lacking or blank, nor word the flag twice. A sheet flag the machine opened, the
machine may close and open again as pages come and go; one a person resolved stays
resolved (their decision).
"""
from __future__ import annotations

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.database import flag_key, open_flag, resolve_flags
from pipeline.store.vocabulary import AnswerSource, AnswerStatus, FlagReason, FlagStatus, PageStatus

BLANK_DETAIL = "Phiếu trắng, không có ô nào được đánh dấu / blank ballot: nothing marked"


def read_pages(conn: sa.Connection, sheet_id: int) -> set[int]:
    """The form page numbers of sheet `sheet_id` counted (`read`) so far."""
    p = schema.pages
    return set(conn.execute(sa.select(p.c.page_number).where(
        p.c.sheet_id == sheet_id, p.c.status == PageStatus.READ)).scalars())


def is_blank(conn: sa.Connection, sheet_id: int) -> bool:
    """Nothing answered (a person's answer over the machine's) and nothing written on the
    sheet's counted pages."""
    a, c, p = schema.answers, schema.comments, schema.pages
    effective: dict[str, str] = {}
    for r in conn.execute(sa.select(a.c.question, a.c.source, a.c.status)
                          .where(a.c.sheet_id == sheet_id)):
        if r.source == AnswerSource.PERSON or r.question not in effective:
            effective[r.question] = r.status
    written = conn.execute(
        sa.select(sa.func.count()).select_from(c).join(p, p.c.id == c.c.page_id)
        .where(c.c.sheet_id == sheet_id, c.c.blank == sa.false(),
               p.c.status == PageStatus.READ)).scalar_one()
    return set(effective.values()) <= {AnswerStatus.NO_ANSWER} and not written


def reopen_flag(conn: sa.Connection, *, reason: str, detail: str, sheet_id: int,
                page_id: int | None = None) -> bool:
    """Open a flag about a sheet (or one of its pages), or open it again when the machine
    had closed it; one a person resolved stays resolved. True when it is open anew."""
    if open_flag(conn, reason=reason, detail=detail, sheet_id=sheet_id, page_id=page_id):
        return True
    f = schema.flags
    reopened = conn.execute(sa.update(f).where(
        f.c.key == flag_key(reason, sheet_id, page_id, None),
        f.c.status == FlagStatus.RESOLVED, f.c.resolution.like("machine:%"),
    ).values(status=FlagStatus.OPEN, detail=detail, resolved_at=None, resolution=""))
    return bool(reopened.rowcount)


def close_flags(conn: sa.Connection, sheet_id: int, reason: str, why: str) -> int:
    """Resolve the open `reason` flags of a sheet by the machine, saying `why`."""
    return resolve_flags(conn, sheet_id=sheet_id, reason=reason, resolution=f"machine: {why}")


def settle_complete(conn: sa.Connection, sheet_id: int, page_count: int, why: str) -> list[str]:
    """When every one of the sheet's `page_count` pages is counted: close its
    `missing_page` flag (saying `why` the page is there now) and flag it `blank_ballot`
    when blank. Returns the reasons of the flags opened (none while a page is lacking)."""
    if len(read_pages(conn, sheet_id)) < page_count:
        return []
    close_flags(conn, sheet_id, FlagReason.MISSING_PAGE, why)
    if is_blank(conn, sheet_id) and reopen_flag(conn, reason=FlagReason.BLANK_BALLOT,
                                                detail=BLANK_DETAIL, sheet_id=sheet_id):
        return [FlagReason.BLANK_BALLOT]
    return []


def missing_detail(missing: list[int]) -> str:
    """The `missing_page` flag's detail, naming the pages."""
    pages = ", ".join(map(str, missing))
    return f"Thiếu trang {pages} của phiếu / page(s) {pages} of this sheet not scanned"


def settle_missing(conn: sa.Connection, sheet_id: int, page_count: int, why: str) -> list[str]:
    """After pages joined or left sheet `sheet_id` (a scan's end, a key-in, an undo; call
    under the sheet's lock): while one of its `page_count` pages is lacking, open
    `missing_page` naming them (or open it again when the machine had closed it: a counted
    page set back, a key-in undone; one a person resolved stays resolved) and close
    `blank_ballot`; when none lacks, `settle_complete` (saying `why` the pages are there);
    when no page of it is counted at all (a key-in undone), close both: nothing of the
    sheet waits. Returns the reasons of the flags opened."""
    present = read_pages(conn, sheet_id)
    if not present:
        for reason in (FlagReason.MISSING_PAGE, FlagReason.BLANK_BALLOT):
            close_flags(conn, sheet_id, reason,
                        "không còn trang nào của phiếu / no page of this sheet is left")
        return []
    missing = [n for n in range(1, page_count + 1) if n not in present]
    if not missing:
        return settle_complete(conn, sheet_id, page_count, why)
    close_flags(conn, sheet_id, FlagReason.BLANK_BALLOT,
                "phiếu lại thiếu trang / the sheet lacks a page again")
    if reopen_flag(conn, reason=FlagReason.MISSING_PAGE, detail=missing_detail(missing),
                   sheet_id=sheet_id):
        return [FlagReason.MISSING_PAGE]
    return []
