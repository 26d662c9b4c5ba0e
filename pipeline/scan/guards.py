"""Inputs a scan must not take at face value: the workspace's own files, and a file
that was replaced by new bytes under the same name.

`own_files_left_out`: `phieu scan .` run inside the workspace would otherwise read the
page images phieu itself wrote under `images/` as new scans, opening duplicate and unreadable flags on every run.

`close_replaced_source`: a file whose scan was interrupted (`partial`) and that is then
scanned again under the same path with other bytes (the scanner wrote the batch again)
can never be finished, since its old content is gone; it would say "run phieu scan
again" for ever. Its pages never read are recorded as `failed` (`file_replaced`), it is
marked complete, and one flag says which pages of the old content were never read.
"""
from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from forms.errors import BadInput
from pipeline.scan.inputs import CONTENTLESS_KEYS, Expanded, SourceFile, path_key
from pipeline.store import schema
from pipeline.store.database import insert_ignore, open_flag, utcnow
from pipeline.store.survey import Survey
from pipeline.store.vocabulary import FlagReason, FlagStatus, IngestReason, PageStatus, SourceStatus


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def own_files_left_out(expanded: Expanded, survey: Survey) -> tuple[Expanded, int]:
    """`expanded` without the files phieu wrote under the workspace's `images/`, and how
    many were left out. Raises `BadInput` when nothing else is left to scan."""
    kept = tuple(p for p in expanded.files if not _inside(p, survey.images_dir))
    if not kept and not expanded.unreadable:
        raise BadInput(
            "Không có tệp quét nào ngoài ảnh của chính khảo sát / no scan files besides the "
            f"survey's own page images in {survey.images_dir}",
            "give the scanner's files or folder, not the workspace's images/",
        )
    return replace(expanded, files=kept), len(expanded.files) - len(kept)


def close_replaced_source(conn: sa.Connection, source: SourceFile) -> int:
    """Finish every `partial` source stored under `source.path` with other content.

    Its unread pages become `failed` rows (`file_replaced`) and one `unreadable` flag
    names them; returns how many pages were so recorded."""
    src, p = schema.sources, schema.pages
    stale = conn.execute(
        sa.select(src.c.id, src.c.page_count).where(
            src.c.path == str(source.path), src.c.sha256 != source.sha256,
            src.c.status == SourceStatus.PARTIAL)
    ).all()
    _settle_contentless(conn, source)
    recorded = 0
    for source_id, page_count in stale:
        stored = set(conn.execute(sa.select(p.c.page_index).where(p.c.source_id == source_id)).scalars())
        unread = [i for i in range(1, page_count + 1) if i not in stored]
        message = (
            f"{source.path.name}: tệp đã bị thay bằng nội dung mới trước khi đọc xong; các trang "
            f"{_ranges(unread)} của bản cũ chưa được đọc / the file was replaced by new content "
            f"before its scan finished: pages {_ranges(unread)} of the old content were never read "
            "— if those sheets are not in the new file, find the paper and scan it again"
        )
        first_id = None
        for index in unread:
            insert_ignore(conn, p, {"source_id": source_id, "page_index": index,
                                    "status": PageStatus.FAILED, "reason": IngestReason.FILE_REPLACED,
                                    "message": message, "scanned_at": utcnow()},
                          ["source_id", "page_index"])
            if first_id is None:
                first_id = conn.execute(sa.select(p.c.id).where(
                    p.c.source_id == source_id, p.c.page_index == index)).scalar_one()
        if first_id is not None:
            open_flag(conn, reason=FlagReason.UNREADABLE, detail=message, page_id=first_id)
        conn.execute(sa.update(src).where(src.c.id == source_id).values(status=SourceStatus.COMPLETE))
        recorded += len(unread)
    return recorded


def _ranges(numbers: list[int]) -> str:
    """1,2,3,7 -> "1–3, 7"."""
    parts: list[str] = []
    for n in numbers:
        if parts and parts[-1].split("–")[-1] == str(n - 1):
            parts[-1] = f"{parts[-1].split('–')[0]}–{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


def sweep_temporary_files(folder: Path) -> int:
    """Remove the temporary image files a killed scan on this host left in `folder`
    (named `NAME.HOST.PID.tmp`, see `forms.durable`); a file of a process still running
    is left alone (it is writing it). Returns how many were removed."""
    host = socket.gethostname()
    removed = 0
    for temp in folder.glob(f"*.{host}.*.tmp") if folder.is_dir() else ():
        pid = temp.name[: -len(".tmp")].rsplit(".", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            temp.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


def _settle_contentless(conn: sa.Connection, source: SourceFile) -> None:
    """The file at `source.path` was empty or could not be opened before and now has
    content: the old row's `unreadable` flag is closed by the machine (the row stays in
    pages.csv, `failed`, as what happened then)."""
    if source.problem is not None or source.size == 0:
        return
    src, p, f = schema.sources, schema.pages, schema.flags
    keys = [path_key(source.path, why) for why in CONTENTLESS_KEYS]
    pages = sa.select(p.c.id).join(src, src.c.id == p.c.source_id).where(src.c.sha256.in_(keys))
    conn.execute(sa.update(f).where(f.c.page_id.in_(pages), f.c.status == FlagStatus.OPEN).values(
        status=FlagStatus.RESOLVED, resolved_at=utcnow(),
        resolution="machine: tệp đã được quét lại có nội dung / the file was scanned again with content"))
