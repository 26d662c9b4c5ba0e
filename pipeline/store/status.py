"""`phieu status`: where a survey stands — batches, sheets by status, what waits for review."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.store import schema
from pipeline.store.database import Store


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

    @property
    def sheets(self) -> int:
        return sum(self.sheets_by_status.values())


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
            sa.select(f.c.reason, sa.func.count()).where(f.c.status == "open")
            .group_by(f.c.reason)).all())
        partial = tuple(conn.execute(
            sa.select(src.c.path).where(src.c.status == "partial").order_by(src.c.id)).scalars())
    return SurveyStatus(batches, by_status, flags, partial)


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
    waiting = sum(status.open_flags.values())
    lines.append(f"Chờ duyệt / open flags: {waiting}")
    for reason, n in sorted(status.open_flags.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {reason}: {n}")
    if status.files_partial:
        lines.append("Tệp quét dở / files not finished (run the same `phieu scan` again):")
        lines += [f"  {p}" for p in status.files_partial]
    return lines
