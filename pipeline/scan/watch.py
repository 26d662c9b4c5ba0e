"""`phieu watch FOLDER…`: read every new scan that appears in the folders (a copier's
scan-to-folder target) into the survey, as `phieu scan` would.

It polls (network shares rarely deliver file-system events): each `interval` the
folders are listed and every scan file's (size, mtime) noted. A file is taken once it
is complete:

- its size and modification time have not changed for `settle` seconds (a copier
  writing it, or a copy over the network, moves them), and
- it ends the way its format ends (`%%EOF` for a PDF, the end-of-image marker of a
  JPEG, `IEND` for a PNG); a file stable for `GIVE_UP_WAITING_S` without it is taken
  anyway, and is then stored as a damaged file to review rather than waited on forever.

A file renamed into place (written under another name, then renamed) is complete as
soon as it shows; it still waits one settle period, which costs seconds, not
correctness. Taken files go through `pipeline.scan.driver.scan` with the forms prepared
once (`templates.prepare_forms`), so the store, the accounting and the flags are
exactly those of `phieu scan`: content already stored is skipped by its SHA-256, a
file interrupted half-way resumes at its unstored pages. Stopping (Ctrl-C) and starting
again therefore loses and doubles nothing; the watcher keeps no state of its own.

Files are never moved or deleted, unless `move_done` names a folder: then a file whose
every page is stored is moved there (keeping its path below the watched folder).
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from forms.errors import BadInput
from pipeline.scan.driver import ScanEvent, ScanInterrupted, scan
from pipeline.scan.inputs import SCAN_EXTENSIONS, SourceFile, natural_key, probe
from pipeline.scan.source_report import SourceReport, file_line, source_report
from pipeline.scan.templates import PreparedForms, prepare_forms
from pipeline.store.database import open_store
from pipeline.store.survey import Survey, load_survey_forms
from pipeline.store.vocabulary import IngestReason, SourceStatus

INTERVAL_S = 1.0
# Long enough for a copier's or a network copy's pauses between writes (they last well
# under a second), short enough that the clerk sees the result while at the machine.
SETTLE_S = 2.0
GIVE_UP_WAITING_S = 60.0
# How far from a file's end its format's end marker may lie (writers pad a little).
TAIL_BYTES = 2048

WatchKind = Literal["stored", "known", "moved", "message", "problem"]


@dataclass(frozen=True)
class WatchEvent:
    """Something to tell the clerk: a file stored (`report` says what), a file already
    in the survey, a file moved, a scan message, or a problem (the text says what)."""

    kind: WatchKind
    path: Path | None
    text: str
    report: SourceReport | None = None
    files: int = 1  # several files already stored are told in one event


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # clock time the file was first seen with this size and mtime


@dataclass
class WatchTotals:
    """What a watch did, for its last line."""

    stored: int = 0
    known: int = 0
    moved: int = 0
    polls: int = 0


def ends_complete(path: Path) -> bool:
    """True when the file ends as its format requires (PDF, JPEG, PNG); other formats
    (TIFF has no end marker) are judged by stable size alone."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except OSError:
        return False
    if size == 0:
        return False
    if head.startswith(b"%PDF"):
        return b"%%EOF" in tail
    if head.startswith(b"\xff\xd8"):
        return b"\xff\xd9" in tail
    if head.startswith(b"\x89PNG"):
        return b"IEND" in tail[-64:]
    return True


def _check_folders(folders: Sequence[Path], move_done: Path | None) -> tuple[Path, ...]:
    resolved = []
    for folder in folders:
        if not folder.is_dir():
            raise BadInput(f"Không có thư mục / not a folder: {folder}",
                           "give the folder the copier scans into (it must exist)")
        resolved.append(folder.resolve())
    if move_done is not None and move_done.resolve() in resolved:
        raise BadInput(f"--move-done {move_done} là thư mục đang theo dõi / is a watched folder",
                       "choose another folder for files already read")
    return tuple(resolved)


class Watcher:
    """The state of one watch between polls: files seen and not yet complete, files
    handled in this run. Nothing of it needs to survive a restart (the store does)."""

    def __init__(self, survey: Survey, folders: Iterable[Path], *, prepared: PreparedForms | None = None,
                 settle: float = SETTLE_S, move_done: Path | None = None, batch: str | None = None,
                 jobs: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.survey = survey
        self.move_done = move_done.resolve() if move_done is not None else None
        self.folders = _check_folders(list(folders), move_done)
        self.prepared = prepared or prepare_forms(load_survey_forms(survey))
        self.settle, self.batch, self.jobs, self.clock = settle, batch, jobs, clock
        self.store = open_store(survey.store_url, create=False)
        self._pending: dict[Path, _Seen] = {}
        self._handled: dict[Path, tuple[int, int]] = {}

    @property
    def waiting(self) -> int:
        """Files seen but not yet complete."""
        return len(self._pending)

    def _listing(self) -> list[tuple[Path, Path]]:
        """(watched folder, file) of every scan file, in natural order."""
        found = []
        for folder in self.folders:
            for path in folder.rglob("*"):
                rel = path.relative_to(folder)
                if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in SCAN_EXTENSIONS:
                    continue  # hidden, temporary (`.part`, `.tmp`) or not a scan
                if self.move_done is not None and path.is_relative_to(self.move_done):
                    continue
                if path.is_file():
                    found.append((folder, path))
        return sorted(found, key=lambda fp: natural_key(fp[1]))

    def _ready(self) -> list[tuple[Path, Path]]:
        now = self.clock()
        ready, present = [], set()
        for folder, path in self._listing():
            try:
                st = path.stat()
            except OSError:
                continue  # gone between listing and stat
            present.add(path)
            if self._handled.get(path) == (st.st_size, st.st_mtime_ns):
                continue
            seen = self._pending.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._pending[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                continue
            stable = now - seen.since
            if stable < self.settle:
                continue
            if not ends_complete(path) and stable < GIVE_UP_WAITING_S:
                continue
            ready.append((folder, path))
        for gone in set(self._pending) - present:
            del self._pending[gone]
        return ready

    def poll(self) -> list[WatchEvent]:
        """One look at the folders; read what is complete. Returns what to tell."""
        ready = self._ready()
        if not ready:
            return []
        events: list[WatchEvent] = []
        probed: dict[Path, SourceFile] = {}  # handed to the scan: each file hashed once
        new: list[Path] = []
        known: list[WatchEvent] = []
        with self.store.engine.connect() as conn:
            for _, path in ready:
                source = probe(path)
                if source.problem is not None and source.problem.reason == IngestReason.UNREADABLE_FILE:
                    events.append(WatchEvent("problem", path, source.problem.message))
                    continue  # tried again at the next look
                probed[path] = source
                found = source_report(conn, source.sha256)
                twin = next((p for p in new if probed[p].sha256 == source.sha256), None)
                if found is not None and found.status == SourceStatus.COMPLETE:
                    known.append(WatchEvent("known", path, f"{path.name}: đã có / already stored", found))
                elif twin is not None:  # the same content twice in one look: read once
                    known.append(WatchEvent("known", path, f"{path.name}: trùng nội dung với / same "
                                                           f"content as {twin.name}, bỏ qua / skipped"))
                else:
                    new.append(path)
        # A restart finds every earlier file again: a long list of them is one line.
        events += known if len(known) <= 3 else [WatchEvent(
            "known", None, f"{len(known)} tệp đã có, bỏ qua / {len(known)} files already stored, skipped",
            files=len(known))]
        if new:
            try:
                scan(self.survey, new, batch=self.batch, jobs=self.jobs, prepared=self.prepared,
                     store=self.store, progress=lambda e: _forward(e, events), probed=probed)
            except (ScanInterrupted, BadInput) as err:
                # The store is consistent: the files are tried again at the next poll.
                events.append(WatchEvent("problem", None, str(err)))
                for path in new:
                    self._pending.pop(path, None)
                    probed.pop(path, None)
        folder_of = {path: folder for folder, path in ready}
        with self.store.engine.connect() as conn:
            reports = {path: source_report(conn, s.sha256) for path, s in probed.items()}
        for path, report in reports.items():
            if report is None:
                continue
            if path in new:
                events.append(WatchEvent("stored", path, file_line(path, report), report))
            self._pending.pop(path, None)
            try:
                st = path.stat()
                self._handled[path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                pass
            if self.move_done is not None and report.status == SourceStatus.COMPLETE:
                events.append(self._move(folder_of[path], path))
        return events

    def _move(self, folder: Path, path: Path) -> WatchEvent:
        assert self.move_done is not None
        target = self.move_done / path.relative_to(folder)
        n = 1
        while target.exists():  # never overwrite: the same name scanned twice is two files
            target = target.with_name(f"{path.stem}-{n}{path.suffix}")
            n += 1
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(os.fspath(path), os.fspath(target))
        except OSError as err:
            return WatchEvent("problem", path, f"Không chuyển được / could not move {path.name} "
                                               f"to {target.parent}: {err.strerror or err}")
        self._handled.pop(path, None)
        return WatchEvent("moved", path, f"{path.name} → {target}")


def _forward(event: ScanEvent, events: list[WatchEvent]) -> None:
    if event.kind == "message":
        events.append(WatchEvent("message", None, event.text))


def watch(survey: Survey, folders: Iterable[Path], *, on_event: Callable[[WatchEvent], None],
          interval: float = INTERVAL_S, settle: float = SETTLE_S, move_done: Path | None = None,
          batch: str | None = None, jobs: int | None = None, idle_exit: float | None = None,
          max_polls: int | None = None, prepared: PreparedForms | None = None,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> WatchTotals:
    """Watch `folders` until interrupted (Ctrl-C ends it cleanly: what was being read
    is resumed by the next start), or for a bounded run until `max_polls` polls or
    `idle_exit` seconds with nothing waiting and nothing new. Every event goes to
    `on_event` as it happens; returns the totals.

    Raises `BadInput` for a folder that does not exist, `SurveyError` when the store or
    the forms cannot be opened."""
    watcher = Watcher(survey, [Path(f) for f in folders], prepared=prepared, settle=settle,
                      move_done=move_done, batch=batch, jobs=jobs, clock=clock)
    totals = WatchTotals()
    last_activity = clock()
    try:
        while max_polls is None or totals.polls < max_polls:
            events = watcher.poll()
            totals.polls += 1
            for event in events:
                totals.stored += event.files if event.kind == "stored" else 0
                totals.known += event.files if event.kind == "known" else 0
                totals.moved += event.files if event.kind == "moved" else 0
                on_event(event)
            if events or watcher.waiting:
                last_activity = clock()
            elif idle_exit is not None and clock() - last_activity >= idle_exit:
                break
            sleep(interval)
    except KeyboardInterrupt:
        pass
    return totals

