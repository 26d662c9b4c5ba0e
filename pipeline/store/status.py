"""`phieu status`: where a survey stands — batches, sheets by status, what waits for review."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.database import Store
from pipeline.store.vocabulary import FlagStatus, SourceStatus


@dataclass(frozen=True)
class BatchStatus:
    """One batch: its files, pages by status and the sheets it first saw."""

    name: str
    created_at: datetime
    files: int
    pages: dict[str, int]
    sheets: int


@dataclass(frozen=True)
class SurveyStatus:
    """The whole store at a glance."""

    batches: tuple[BatchStatus, ...]
    sheets_by_status: dict[str, int]
    open_flags: dict[str, int]  # reason -> open flags
    files_partial: tuple[str, ...]  # files whose scan was interrupted
    # reason -> open review items, as `phieu review list` lists them (see open_items_by_reason)
    open_items: dict[str, int] = field(default_factory=dict)

    @property
    def sheets(self) -> int:
        return sum(self.sheets_by_status.values())


def open_items_by_reason(conn: sa.Connection) -> dict[str, int]:
    """Open review items by their leading reason: what `phieu review list` lists and the
    review queue shows, one per question, page or sheet to decide, however many flags it
    has (a question both overvoted and marginal is one item with two flags)."""
    from pipeline.store.queue import open_items

    return dict(Counter(e.reason for e in open_items(conn)))


def survey_status(store: Store) -> SurveyStatus:
    """Count batches, files, pages, sheets and open flags in `store`."""
    b, src, p, s, f = schema.batches, schema.sources, schema.pages, schema.sheets, schema.flags
    with store.engine.connect() as conn:
        files: dict[int, int] = dict(conn.execute(
            sa.select(src.c.batch_id, sa.func.count()).group_by(src.c.batch_id)).all())
        sheets: dict[int, int] = dict(conn.execute(
            sa.select(s.c.batch_id, sa.func.count()).group_by(s.c.batch_id)).all())
        pages: dict[int, dict[str, int]] = {}
        for batch_id, status, n in conn.execute(
            sa.select(src.c.batch_id, p.c.status, sa.func.count())
            .join(src, src.c.id == p.c.source_id)
            .group_by(src.c.batch_id, p.c.status)
        ):
            pages.setdefault(batch_id, {})[status] = n
        batches = tuple(
            BatchStatus(name, created, files.get(bid, 0), pages.get(bid, {}), sheets.get(bid, 0))
            for bid, name, created in conn.execute(
                sa.select(b.c.id, b.c.name, b.c.created_at).order_by(b.c.id))
        )
        by_status: dict[str, int] = dict(conn.execute(
            sa.select(s.c.status, sa.func.count()).group_by(s.c.status)).all())
        flags: dict[str, int] = dict(conn.execute(
            sa.select(f.c.reason, sa.func.count()).where(f.c.status == FlagStatus.OPEN)
            .group_by(f.c.reason)).all())
        partial = tuple(conn.execute(
            sa.select(src.c.path).where(src.c.status == SourceStatus.PARTIAL).order_by(src.c.id)).scalars())
        items = open_items_by_reason(conn)
    return SurveyStatus(batches, by_status, flags, partial, items)


def status_lines(status: SurveyStatus) -> list[str]:
    """`status` as lines of text for the terminal (Vietnamese first, English second)."""
    lines = ["Đợt quét / batches:"]
    for b in status.batches:
        pages = ", ".join(f"{k} {v}" for k, v in sorted(b.pages.items())) or "0"
        lines.append(f"  {b.name}: {b.files} tệp/files, trang/pages: {pages}, "
                     f"phiếu mới/new sheets {b.sheets}")
    if not status.batches:
        lines.append("  (chưa có / none yet) — run `phieu scan FILES`")
    by = ", ".join(f"{k} {v}" for k, v in sorted(status.sheets_by_status.items())) or "0"
    lines.append(f"Phiếu / sheets: {status.sheets} ({by})")
    # Items, as `phieu review list` and the queue count them; the flags they hold beside.
    items, flags = sum(status.open_items.values()), sum(status.open_flags.values())
    lines.append(f"Chờ duyệt / to review: {items} mục/items (`phieu review list`), "
                 f"{flags} cờ/flags")
    for reason, n in sorted(status.open_items.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {reason}: {n}")
    if status.files_partial:
        lines.append("Tệp quét dở / files not finished (run the same `phieu scan` again):")
        lines += [f"  {p}" for p in status.files_partial]
    return lines
