"""`phieu scan`: files in, every page read and stored, a summary out.

One straight driver (`scan`), top to bottom:

1. expand the paths into files and triage them: hash each; a file already complete in
   the store is skipped, a partial one resumes at the pages not stored yet, a new one is
   registered with its page count (a file that yields no page gets one `failed` page);
2. read the pages in worker processes (`pipeline.scan.workers`), results taken back in input
   order so that "the first copy of a serial" is deterministic;
3. the main process alone writes: each page in one transaction (`pipeline.scan.recorder`);
4. end-of-scan checks (sheets missing a page), then the summary.

Interrupt it at any point and run the same command again: stored pages are skipped,
the rest are read, nothing is doubled (unique constraints on pages, sheets, answers,
flags; image files are rewritten under fixed names before their row is inserted).
"""
from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from forms.durable import fault_point
from forms.errors import PhieuError, SurveyError
from pipeline.scan.guards import close_replaced_source, own_files_left_out, sweep_temporary_files
from pipeline.scan.inputs import (
    DescribedFile,
    IngestProblem,
    PageTask,
    SourceFile,
    describe_files,
    expand_paths,
    page_tasks,
)
from pipeline.scan.recorder import (
    PageOutcome,
    ensure_batch,
    flag_missing_pages,
    image_paths,
    record_page,
    write_images,
)
from pipeline.scan.templates import PreparedForms, form_infos, prepare_templates
from pipeline.scan.workers import PageResult, init_worker, read_in_worker
from pipeline.store import schema
from pipeline.store.database import Store, insert_ignore, open_flag, open_store, utcnow
from pipeline.store.status import open_items_by_reason
from pipeline.store.survey import Survey, load_survey_forms
from pipeline.store.vocabulary import FlagReason, PageStatus, SourceStatus

log = logging.getLogger(__name__)

# Pages in flight per worker: enough to keep every worker busy while the main process
# writes, small enough that results waiting to be written stay a few MB.
IN_FLIGHT_PER_JOB = 3


class StoreWriteError(SurveyError):
    """The store refused a write mid-scan (disk full, read-only); what is stored is consistent."""


class ScanInterrupted(PhieuError):
    """A worker process died (out of memory, killed); what is stored is consistent."""

    exit_code = 10


@dataclass(frozen=True)
class ScanEvent:
    """Progress of a scan, for a progress bar or a log.

    `kind` is `start` (`total` pages to read), `page` (one more page stored; `done`,
    `outcome`) or `message` (`text`: a file skipped, resumed, or not readable).
    """

    kind: Literal["start", "page", "message"]
    total: int = 0
    done: int = 0
    text: str = ""
    outcome: PageOutcome | None = None


@dataclass(frozen=True)
class PageProblem:
    """A page that was not read this run, and why (for the summary)."""

    source: str
    page: int
    reason: str
    message: str


@dataclass(frozen=True)
class ScanSummary:
    """What a scan did (this run) and where the survey stands (whole store)."""

    batch: str
    files: int
    files_skipped: tuple[str, ...]  # already complete in the store
    files_resumed: tuple[str, ...]  # left unfinished by an earlier scan, finished now
    pages_read: int
    pages_duplicate: int
    pages_failed: tuple[PageProblem, ...]
    flags_opened: Mapping[str, int]
    sheets_this_run: Mapping[str, int] = field(default_factory=dict)  # status -> sheets read now
    sheets_by_status: Mapping[str, int] = field(default_factory=dict)  # whole survey
    open_flags: Mapping[str, int] = field(default_factory=dict)  # open review items by reason, whole survey
    seconds: float = 0.0
    # Pages another scan (a second station on the same database) stored while this one
    # was reading them: accounted for there, not read twice.
    pages_elsewhere: int = 0
    # Unfinished files another station was reading at the same time (it stored some of
    # their pages meanwhile): not "resumed", which is this station finishing an old scan.
    files_shared: tuple[str, ...] = ()
    # Folders under the paths given that could not be listed (no permission): their
    # files are not in the store, so the command ends with an error naming them.
    folders_unreadable: tuple[str, ...] = ()
    # Pages read this run that carried a scanner streak (`omr.streaks`, taken out
    # when reading): the same streak on page after page is dust on the feeder's glass.
    pages_streaked: int = 0

    @property
    def pages_done(self) -> int:
        return self.pages_read + self.pages_duplicate + len(self.pages_failed)


def default_batch_name() -> str:
    """Today's date: re-running an interrupted scan the same day lands in the same batch."""
    return date.today().isoformat()


def _find_source(conn: sa.Connection, sha256: str) -> sa.Row | None:
    src = schema.sources
    return conn.execute(
        sa.select(src.c.id, src.c.status, src.c.page_count, src.c.path, src.c.batch_id).where(
            src.c.sha256 == sha256
        )
    ).first()


def _stored_indexes(conn: sa.Connection, source_id: int) -> set[int]:
    p = schema.pages
    return set(conn.execute(sa.select(p.c.page_index).where(p.c.source_id == source_id)).scalars())


def _register_source(
    conn: sa.Connection, source: SourceFile, batch_id: int, pages: int | IngestProblem
) -> int:
    """Insert the source row; a file with no readable page also gets its one failed page."""
    count = pages if isinstance(pages, int) else 0
    insert_ignore(
        conn,
        schema.sources,
        {
            "batch_id": batch_id,
            "path": str(source.path),
            "sha256": source.sha256,
            "size": source.size,
            "kind": source.kind,
            "page_count": count,
            "status": SourceStatus.PARTIAL if count else SourceStatus.COMPLETE,
            "added_at": utcnow(),
        },
        ["sha256"],
    )
    row = _find_source(conn, source.sha256)
    assert row is not None  # inserted just above, or there already
    source_id = int(row.id)
    if isinstance(pages, IngestProblem):
        inserted = insert_ignore(
            conn,
            schema.pages,
            {"source_id": source_id, "page_index": 1, "status": PageStatus.FAILED,
             "reason": pages.reason, "message": pages.message, "scanned_at": utcnow()},
            ["source_id", "page_index"],
        )
        if inserted:
            page_id = conn.execute(
                sa.select(schema.pages.c.id).where(schema.pages.c.source_id == source_id)
            ).scalar_one()
            open_flag(conn, reason=FlagReason.UNREADABLE, detail=pages.message, page_id=page_id)
    return source_id


@dataclass(frozen=True)
class _Triage:
    tasks: tuple[PageTask, ...]
    skipped: tuple[str, ...]
    resumed: tuple[str, ...]
    failed: tuple[PageProblem, ...]
    remaining: Mapping[int, int]  # source id -> pages still to store
    batch_of: Mapping[int, int]  # source id -> its batch (a resumed file keeps its first)


def _triage(
    store: Store, files: Sequence[DescribedFile], batch_id: int, dpi: int,
    emit: Callable[[ScanEvent], None], images_dir: Path,
) -> _Triage:
    """The store's bookkeeping for files already described (`inputs.describe_files`):
    skip what is stored, resume what is half stored, register what is new, and list the
    pages still to read."""
    tasks: list[PageTask] = []
    skipped, resumed, failed = [], [], []
    remaining: dict[int, int] = {}
    batch_of: dict[int, int] = {}
    for described in files:
        path, source = described.path, described.source
        if described.repeat_of is not None:  # the same content twice in one command: read it once
            skipped.append(str(path))
            emit(ScanEvent("message", text=f"Bỏ qua, trùng nội dung với / skipped, same content "
                                           f"as {described.repeat_of}: {path}"))
            continue
        with store.engine.begin() as conn:
            known = _find_source(conn, source.sha256)
            if known is not None and source.problem is not None:  # still not readable
                failed.append(PageProblem(str(path), 1, source.problem.reason, source.problem.message))
                emit(ScanEvent("message", text=f"Vẫn không đọc được / still not read "
                                               f"({source.problem.reason}): {source.problem.message}"))
                continue
            if known is not None and known.status == SourceStatus.COMPLETE:
                skipped.append(str(path))
                same = "" if Path(known.path) == path else f" (= {known.path})"
                emit(ScanEvent("message", text=f"Bỏ qua, đã quét / skipped, already scanned: {path}{same}"))
                continue
            if known is None:
                close_replaced_source(conn, source)
                pages = described.pages
                source_id = _register_source(conn, source, batch_id, pages)
                fault_point("scan.register.commit")
                if isinstance(pages, IngestProblem):
                    failed.append(PageProblem(str(path), 1, pages.reason, pages.message))
                    emit(ScanEvent("message", text=f"Không đọc được / not read ({pages.reason}): {pages.message}"))
                    continue
                todo = list(range(1, pages + 1))
            else:
                source_id = known.id
                done = _stored_indexes(conn, source_id)
                todo = [i for i in range(1, known.page_count + 1) if i not in done]
                resumed.append(str(path))
                emit(ScanEvent("message", text=f"Tiếp tục / resuming {path}: "
                                               f"{len(done)} of {known.page_count} pages stored before "
                                               "(by an interrupted scan, or another station reading it)"))
                if not todo:  # every page stored, the end-of-scan check not yet run
                    remaining[source_id] = 0
                    continue
        if known is not None:  # a scan of it was killed: clear its half-written images
            sweep_temporary_files(image_paths(images_dir, source_id, 1)[0].parent)
        remaining[source_id] = len(todo)
        batch_of[source_id] = known.batch_id if known is not None else batch_id
        tasks += page_tasks(described, source_id, todo, dpi)
    return _Triage(tuple(tasks), tuple(skipped), tuple(resumed), tuple(failed), remaining,
                   batch_of)


def _mark_complete(conn: sa.Connection, source_id: int) -> None:
    src = schema.sources
    conn.execute(sa.update(src).where(src.c.id == source_id).values(status=SourceStatus.COMPLETE))


def _results(tasks: Sequence[PageTask], catalog: object, jobs: int) -> Iterator[PageResult]:
    """Read `tasks` in `jobs` worker processes, yielding results in task order.

    Even one job runs in a worker process: the same code path whatever `jobs` is, and
    the worker's environment (Tesseract threads) is set there, not in this process."""
    if not tasks:
        return
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=init_worker, initargs=(catalog, os.getpid()))
    try:
        pending = iter(tasks)
        window = deque(pool.submit(read_in_worker, t) for t in islice(pending, jobs * IN_FLIGHT_PER_JOB))
        while window:
            result = window.popleft().result()
            nxt = next(pending, None)
            if nxt is not None:
                window.append(pool.submit(read_in_worker, nxt))
            yield result
        pool.shutdown(wait=True)  # all done: let the workers exit and be reaped
    except BrokenProcessPool as err:
        raise ScanInterrupted(
            "Một tiến trình đọc phiếu đã dừng đột ngột / a reader process died",
            "run the same `phieu scan` again: stored pages are kept and the rest is read",
        ) from err
    finally:
        # Interrupted (Ctrl-C, an error while storing): drop queued pages, do not wait.
        pool.shutdown(wait=False, cancel_futures=True)


def _sheets_touched(store: Store, outcomes: Sequence[tuple[PageTask, PageOutcome]]) -> dict[str, int]:
    """Status -> number of the sheets a page of which was read in this run."""
    by_form: dict[tuple[str, int | None], set[int]] = {}
    for _, o in outcomes:
        if o.status == PageStatus.READ and o.form is not None and o.serial is not None:
            by_form.setdefault((o.form, o.version), set()).add(o.serial)
    s = schema.sheets
    counts: Counter[str] = Counter()
    with store.engine.connect() as conn:
        for (form, version), serials in by_form.items():
            for status, n in conn.execute(
                sa.select(s.c.status, sa.func.count())
                .where(s.c.form == form, s.c.version == version, s.c.serial.in_(sorted(serials)))
                .group_by(s.c.status)
            ):
                counts[status] += n
    return dict(counts)


def _survey_totals(store: Store) -> tuple[dict[str, int], dict[str, int]]:
    s = schema.sheets
    with store.engine.connect() as conn:
        sheets: dict[str, int] = dict(
            conn.execute(sa.select(s.c.status, sa.func.count()).group_by(s.c.status)).all())
        flags = open_items_by_reason(conn)  # items, as `phieu review list` and `status` count
    return sheets, flags


def scan(
    survey: Survey,
    paths: Iterable[str | Path],
    *,
    batch: str | None = None,
    jobs: int | None = None,
    progress: Callable[[ScanEvent], None] | None = None,
    workers: str | None = None,
    prepared: PreparedForms | None = None,
    store: Store | None = None,
    probed: Mapping[Path, SourceFile] | None = None,
) -> ScanSummary:
    """Scan the files and folders in `paths` into `survey`'s store.

    Parameters
    ----------
    survey:
        The workspace (`pipeline.store.survey.find_survey`).
    paths:
        PDF, TIFF, JPEG, PNG files and folders of them (recursively, in natural order).
    batch:
        Batch name for newly seen files (default: today's date, `YYYY-MM-DD`).
    jobs:
        Worker processes (default: the machine's CPU count).
    progress:
        Called with a `ScanEvent` at the start, for every page stored and for messages.
    workers:
        Address of a Dask scheduler (`tcp://HOST:PORT`): pages are read on its workers
        (`pipeline.scan.cluster`) instead of local processes, and `jobs` is not used.
    prepared:
        The survey's forms already prepared (`templates.prepare_forms`), by a process
        that scans again and again (`phieu watch`, the capture page); default: load and
        prepare them now.
    store:
        The survey's store already open (such a process keeps one: an engine keeps its
        compiled statements); default: open `survey.store_url` now.
    probed:
        Files of `paths` the caller has hashed and probed already (`inputs.probe`; `phieu
        watch` does, to know a file before it scans it): not hashed a second time.

    Returns the `ScanSummary`. Raises `BadInput` when `paths` hold no file, `SurveyError`
    when the store or the forms cannot be opened, `ScanInterrupted` when a worker dies,
    `pipeline.scan.cluster.ClusterError` when the Dask cluster cannot be used.
    """
    started = time.perf_counter()
    emit = progress or (lambda _event: None)
    expanded, own = own_files_left_out(expand_paths(paths), survey)
    log.info("scan of %d file(s) into %s", len(expanded.files), survey.root)
    if own:
        emit(ScanEvent("message", text=f"Bỏ qua {own} ảnh do phieu tự ghi / left out {own} page "
                                       f"image(s) phieu wrote itself (under {survey.images_dir})"))
    for extra in expanded.skipped:
        emit(ScanEvent("message", text=f"Bỏ qua tệp không phải bản quét / not a scan, left out: {extra}"))
    for folder in expanded.unreadable:
        emit(ScanEvent("message", text=f"Không đọc được thư mục / cannot read the folder: {folder} "
                                       "— cho phép đọc rồi quét lại / give phieu permission to read it, "
                                       "then scan again"))
    forms = prepared.forms if prepared is not None else load_survey_forms(survey)
    infos = prepared.infos if prepared is not None else form_infos(forms)
    store = store if store is not None else open_store(survey.store_url, create=False)
    batch_name = batch or default_batch_name()
    with store.engine.begin() as conn:
        batch_id = ensure_batch(conn, batch_name)
    described = describe_files(expanded.files, probed)
    triage = _triage(store, described, batch_id, survey.scan_dpi, emit, survey.images_dir)

    jobs = max(1, min(jobs or os.cpu_count() or 1, max(1, len(triage.tasks))))
    # Rendering the blank forms costs about a second each: only when there is work.
    catalog = (prepared.catalog if prepared is not None else prepare_templates(forms)) if triage.tasks else None
    emit(ScanEvent("start", total=len(triage.tasks)))
    store.engine.dispose()  # no open database handle is inherited by forked workers
    remaining = dict(triage.remaining)
    outcomes: list[tuple[PageTask, PageOutcome]] = []
    streaked = 0
    if workers:
        from pipeline.scan.cluster import cluster_results

        results = cluster_results(triage.tasks, catalog, workers,
                                  on_resend=lambda line: emit(ScanEvent("message", text=line)))
    else:
        results = _results(triage.tasks, catalog, jobs)
    for done, result in enumerate(results, start=1):
        page_path, crops = write_images(result, survey.images_dir)
        try:
            with store.engine.begin() as conn:
                outcome = record_page(conn, result, batch_id=triage.batch_of[result.task.source_id],
                                      forms=infos, relative=survey.relative, page_path=page_path,
                                      crop_paths=crops)
                fault_point("scan.page.commit")
        except sa.exc.OperationalError as err:  # disk full, read-only, server gone
            raise StoreWriteError(
                f"Không ghi được vào kho dữ liệu / cannot write to the store "
                f"({str(err.orig or err).splitlines()[0]}) at {Path(result.task.path).name} "
                f"trang/page {result.task.index}",
                "free disk space (or fix the database), then run the same scan again: "
                "every page stored so far is kept",
            ) from err
        fault_point("scan.page.committed")
        remaining[result.task.source_id] -= 1
        outcomes.append((result.task, outcome))
        if outcome.status != "already" and _streak_columns(result):
            streaked += 1
        _log_page(result, outcome)
        if outcome.status in (PageStatus.FAILED, PageStatus.DUPLICATE):
            emit(ScanEvent("message", text=_page_line(result.task, outcome)))
        emit(ScanEvent("page", total=len(triage.tasks), done=done, outcome=outcome))

    # A file becomes `complete` in the same transaction as the missing-page check, never
    # before: killed in between, its files stay `partial` (status and every export say
    # so) and the next scan of them runs the check.
    finished = sorted(source_id for source_id, left in remaining.items() if left == 0)
    with store.engine.begin() as conn:
        missing = flag_missing_pages(conn, infos)
        for source_id in finished:
            _mark_complete(conn, source_id)
        fault_point("scan.end.commit")
    log.info("scan done: %d page(s) stored in %.1f s, %d sheet(s) missing a page",
             len(outcomes), time.perf_counter() - started, missing)
    summary = _summary(store, batch_name, expanded.files, triage, outcomes, missing,
                       time.perf_counter() - started)
    return replace(summary, folders_unreadable=tuple(str(p) for p in expanded.unreadable), pages_streaked=streaked)


def _streak_columns(result: PageResult) -> tuple[int, ...]:
    """The scanner streaks the reader took out of the page (none for a page not read)."""
    return tuple(getattr(getattr(result.reading, "quality", None), "streak_columns", ()))


def _log_page(result: PageResult, outcome: PageOutcome) -> None:
    task = result.task
    log.debug("%s page %d: %s %s (%.2f s)", task.path, task.index, outcome.status, outcome.reason,
              result.seconds)
    if result.problem is not None and result.problem.detail:
        log.error("%s page %d: %s\n%s", task.path, task.index, result.problem.message,
                  result.problem.detail.rstrip())
    elif outcome.status == PageStatus.FAILED:
        log.warning("%s page %d: %s (%s)", task.path, task.index, outcome.message, outcome.reason)


def _page_line(task: PageTask, outcome: PageOutcome) -> str:
    """One line for a page not counted: where it is, why, and what to do."""
    name = Path(task.path).name
    where = "" if name in outcome.message else f"{name} trang/page {task.index}: "
    head = "Trùng số phiếu / duplicate" if outcome.status == PageStatus.DUPLICATE else "Không đọc được / not read"
    return f"{head} ({outcome.reason}): {where}{outcome.message}"


def _summary(
    store: Store,
    batch: str,
    files: Sequence[Path],
    triage: _Triage,
    outcomes: Sequence[tuple[PageTask, PageOutcome]],
    missing_flags: int,
    seconds: float,
) -> ScanSummary:
    flags = Counter(reason for _, o in outcomes for reason in o.flags)
    flags.update({FlagReason.UNREADABLE: len(triage.failed)} if triage.failed else {})
    if missing_flags:
        flags[FlagReason.MISSING_PAGE] += missing_flags
    failed = list(triage.failed) + [
        PageProblem(t.path, t.index, o.reason, o.message) for t, o in outcomes if o.status == PageStatus.FAILED
    ]
    sheets, open_flags = _survey_totals(store)
    resumed, shared = split_resumed(triage.resumed, outcomes)
    return ScanSummary(
        batch=batch,
        files=len(files),
        files_skipped=triage.skipped,
        files_resumed=resumed,
        files_shared=shared,
        pages_read=sum(1 for _, o in outcomes if o.status == PageStatus.READ),
        pages_duplicate=sum(1 for _, o in outcomes if o.status == PageStatus.DUPLICATE),
        pages_failed=tuple(failed),
        flags_opened=dict(flags),
        sheets_this_run=_sheets_touched(store, outcomes),
        sheets_by_status=sheets,
        open_flags=open_flags,
        seconds=seconds,
        pages_elsewhere=sum(1 for _, o in outcomes if o.status == "already"),
    )


def split_resumed(unfinished: Sequence[str], outcomes: Sequence[tuple[PageTask, PageOutcome]],
                  ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Unfinished files found at triage: (resumed, shared). A file of which another scan
    stored a page while this one read it was being read by another station, not left
    over from an interrupted scan."""
    elsewhere = {t.path for t, o in outcomes if o.status == "already"}
    return (tuple(p for p in unfinished if p not in elsewhere),
            tuple(p for p in unfinished if p in elsewhere))


def summary_lines(summary: ScanSummary) -> list[str]:
    """`summary` as lines of text for the terminal (Vietnamese first, English second)."""
    lines = [
        f"Đợt / batch {summary.batch}: {summary.files} tệp/files "
        f"({len(summary.files_skipped)} đã quét trước/already scanned, "
        f"{len(summary.files_resumed)} tiếp tục/resumed"
        + (f", {len(summary.files_shared)} trạm khác cùng đọc / also read by another station"
           if summary.files_shared else "")
        + f"), {summary.seconds:.1f} s",
        f"Trang đã đọc / pages read: {summary.pages_read}"
        + (f", trùng số phiếu / duplicates: {summary.pages_duplicate}" if summary.pages_duplicate else "")
        + (f", trạm khác đã lưu / stored by another scan meanwhile: {summary.pages_elsewhere}"
           if summary.pages_elsewhere else ""),
    ]
    if summary.sheets_this_run:
        now = ", ".join(f"{k} {v}" for k, v in sorted(summary.sheets_this_run.items()))
        lines.append(f"Phiếu đã đọc / sheets read: {sum(summary.sheets_this_run.values())} ({now})")
    if summary.pages_failed:
        lines.append(f"Trang không đọc được / pages not read: {len(summary.pages_failed)}")
        by_reason = Counter(p.reason for p in summary.pages_failed)
        lines += [f"  {reason}: {n}" for reason, n in by_reason.most_common()]
        for p in summary.pages_failed[:20]:
            lines.append(f"  - {Path(p.source).name} p.{p.page}: {p.reason}")
        if len(summary.pages_failed) > 20:
            lines.append(f"  ... {len(summary.pages_failed) - 20} more: `phieu export pages -o pages.csv`")
    if summary.pages_streaked:
        lines.append(f"Vệt dọc của máy quét trên {summary.pages_streaked} trang (đã bỏ khi đọc): hãy lau kính máy "
                     f"quét / a scanner streak down {summary.pages_streaked} page(s) (taken out when reading): "
                     "clean the scanner's glass")
    if summary.flags_opened:
        lines.append("Cần duyệt (mới) / flagged this run: " + ", ".join(
            f"{reason} {n}" for reason, n in sorted(summary.flags_opened.items(), key=lambda kv: -kv[1])))
    by = ", ".join(f"{k} {v}" for k, v in sorted(summary.sheets_by_status.items())) or "0"
    lines.append(f"Toàn khảo sát / whole survey: {sum(summary.sheets_by_status.values())} phiếu/sheets ({by}); "
                 f"{sum(summary.open_flags.values())} mục chờ duyệt / items to review")
    return lines
