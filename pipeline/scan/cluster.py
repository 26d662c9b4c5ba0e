"""Reading pages on a Dask distributed cluster: `phieu scan … --workers tcp://HOST:PORT`.

The scanning process stays the only writer of the store; the cluster only reads. Files
go out, readings come back:

- the survey's catalog of forms is sent to every worker once (`scatter(broadcast=True)`);
- each input file's bytes are sent to the cluster once, when its first page is
  submitted, and dropped when its last page is read: a worker needs no access to the
  station's disks, and a multipage PDF is not sent again for each page;
- a worker writes the file under its own name into its machine's temporary folder
  (`$TMPDIR/phieu-dask/<sha256>/`, once per machine, removed at the end of the scan) and
  reads the page with the same `pipeline.scan.workers.PageReader` local worker processes use, so a
  reading — and every message naming the file and the page — is what a local run gives.
  The price: a worker holds a whole file in memory while it reads its pages (a feeder's
  50-page PDF is ~25 MB; a 500-page one ~250 MB);
- results are taken back in task order, a few pages in flight per worker thread, so
  "the first copy of a serial" is the same as in a local run, and the main process
  writes each page as it comes (the same progress bar and summary).

A worker that dies is replaced by Dask and its pages are read again elsewhere; the file
bytes it held (sent from here, so Dask cannot compute them again) are sent again. A page
whose workers keep dying stops the scan with `ClusterError`, what is stored staying
consistent (run the same command again). Each file sent again is reported (`on_resend`:
one line naming the file), so the station says when a worker was lost. Workers need
the same phieu installed as the station.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forms.errors import PhieuError
from pipeline.scan.inputs import PageTask
from pipeline.scan.workers import PageReader, PageResult

# Pages in flight per worker thread: the same reasoning as `scan.IN_FLIGHT_PER_JOB`,
# plus one for the network round trip.
IN_FLIGHT_PER_THREAD = 4
CONNECT_TIMEOUT_S = 20
WORKERS_TIMEOUT_S = 60  # how long to wait for a first worker to join the scheduler
WORKER_FOLDER = "phieu-dask"
RESEND_LIMIT = 3  # a page whose file is lost with its worker this many times stops the scan


class ClusterError(PhieuError):
    """The Dask cluster cannot be reached, has no worker, or keeps losing a page."""

    exit_code = 9


def connect(address: str) -> Any:
    """A `distributed.Client` on the scheduler at `address`, with at least one worker.

    Raises `ClusterError` naming the address when there is no scheduler there or no
    worker joins within `WORKERS_TIMEOUT_S`.
    """
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except ValueError as err:  # no port, an unknown scheme
        raise ClusterError(
            f"Địa chỉ cụm Dask không hợp lệ / not a Dask scheduler address: {address!r} ({err})",
            "give it as tcp://HOST:PORT (the address `dask scheduler` prints)",
        ) from err
    except (OSError, TimeoutError) as err:
        raise ClusterError(
            f"Không kết nối được cụm Dask / cannot reach the Dask scheduler at {address}: {err}",
            "start it (`dask scheduler` on that machine) and check the address and the "
            "firewall, or scan without --workers",
        ) from err
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        client.close()
        raise ClusterError(
            f"Cụm Dask {address} không có máy đọc nào / the scheduler at {address} has no "
            f"worker after {WORKERS_TIMEOUT_S} s",
            f"start workers: `dask worker {address} --nthreads 1` on each reading machine",
        ) from err
    return client


@dataclass(frozen=True)
class _FileOnCluster:
    future: Any  # distributed.Future of the file's bytes (None: not sent, or unreadable)
    sha256: str
    pages_left: int

    def usable(self) -> bool:
        # A worker that died took the only copy of data sent to it: Dask cannot compute
        # it again (it came from here), so it is sent again.
        return self.future is not None and self.future.status in ("pending", "finished")


def resend_line(path: str, index: int) -> str:
    """What the station says when a file is sent to the cluster again."""
    return (f"Máy đọc Dask bị mất, gửi lại tệp / a Dask worker was lost, file sent again: "
            f"{Path(path).name} (trang/page {index})")


def cluster_results(tasks: Sequence[PageTask], catalog: Any, address: str,
                    on_resend: Callable[[str], None] | None = None) -> Iterator[PageResult]:
    """Read `tasks` on the cluster at `address`, yielding results in task order;
    `on_resend` is told (one line) each time a file is sent again after a worker died."""
    if not tasks:
        return
    report = on_resend or (lambda _line: None)
    client = connect(address)
    try:
        catalog_future = client.scatter(catalog, broadcast=True, hash=False)
        threads = max(1, sum(client.nthreads().values()))
        files = _page_counts(tasks)
        pending = iter(tasks)
        window: deque[tuple[PageTask, Any]] = deque()
        sent: set[str] = set()

        def submit(task: PageTask, entry: _FileOnCluster) -> Any:
            sent.add(entry.sha256)
            return client.submit(read_remote, catalog_future, entry.future, entry.sha256,
                                 task, pure=False)

        def submit_next() -> None:
            task = next(pending, None)
            if task is None:
                return
            entry = files[task.path]
            if not entry.usable():
                if entry.future is not None:  # it was sent, and its worker is gone
                    report(resend_line(task.path, task.index))
                entry = _send_file(client, task.path, entry.pages_left)
            files[task.path] = dataclasses.replace(entry, pages_left=entry.pages_left - 1)
            window.append((task, submit(task, entry)))
            if files[task.path].pages_left == 0:
                del files[task.path]  # its last page is out: let the cluster drop the bytes

        def _resend(task: PageTask) -> Any:
            report(resend_line(task.path, task.index))
            return submit(task, _send_file(client, task.path, 1))

        for _ in range(threads * IN_FLIGHT_PER_THREAD):
            submit_next()
        while window:
            task, future = window.popleft()
            result = _result(future, task, lambda t=task: _resend(t))
            submit_next()
            yield result
        client.run(remove_local_copies, sorted(sent))
    finally:
        client.close()


def _result(future: Any, task: PageTask, resubmit: Any) -> PageResult:
    """The page's result; when the worker holding its file died, the file is sent again
    and the page read again (up to `RESEND_LIMIT` times)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    for attempt in range(RESEND_LIMIT + 1):
        try:
            result: PageResult = future.result()
            return result
        except CancelledError as err:
            if attempt == RESEND_LIMIT:
                raise _lost(task, err) from err
            future = resubmit()
        except KilledWorker as err:
            raise _lost(task, err) from err
    raise AssertionError("unreachable")


def _lost(task: PageTask, err: Exception) -> ClusterError:
    return ClusterError(
        f"Máy đọc trong cụm Dask dừng đột ngột nhiều lần / Dask workers died repeatedly "
        f"while reading {Path(task.path).name} page {task.index} ({type(err).__name__}: {err})",
        "check the workers' memory and logs, then run the same `phieu scan` again: stored "
        "pages are kept and the rest is read",
    )


def _page_counts(tasks: Sequence[PageTask]) -> dict[str, _FileOnCluster]:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.path] = counts.get(task.path, 0) + 1
    return {path: _FileOnCluster(None, "", n) for path, n in counts.items()}


def _send_file(client: Any, path: str, pages: int) -> _FileOnCluster:
    try:
        data = Path(path).read_bytes()
    except OSError:
        # Gone since triage: the worker's reader turns the missing file into a failed
        # page with its reason, as a local run does.
        data = b""
    # The hash names the bytes actually sent, not the ones triage hashed: a file changed
    # since then must not share a worker's copy with its old content.
    sha256 = hashlib.sha256(data).hexdigest()
    future = client.scatter(data, hash=False) if data else None
    return _FileOnCluster(future, sha256, pages)


def _local_copy(data: bytes | None, sha256: str, name: str) -> Path:
    """The file, under its own name, in this worker's temporary folder (written once)."""
    folder = Path(tempfile.gettempdir()) / WORKER_FOLDER / sha256
    path = folder / name
    if data is None:
        return path  # does not exist: the reader reports the file as unreadable
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.{id(data)}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)  # two threads of one worker may race here: both write the same
    return path


def read_remote(catalog: Any, data: bytes | None, sha256: str, task: PageTask) -> PageResult:
    """Run on a worker: read `task`'s page from `data` (its file's bytes)."""
    # One reader per thread already: Tesseract's own threads would oversubscribe the
    # cores (see `pipeline.scan.workers.init_worker`).
    os.environ["OMP_THREAD_LIMIT"] = "1"
    local = _local_copy(data, sha256, Path(task.path).name)
    result = PageReader(catalog).read(dataclasses.replace(task, path=str(local)))
    return dataclasses.replace(result, task=task)


def remove_local_copies(sha256s: Sequence[str]) -> int:
    """Run on each worker at the end of a scan: delete its copies of the scan's files."""
    folder = Path(tempfile.gettempdir()) / WORKER_FOLDER
    removed = 0
    for sha256 in sha256s:
        if (folder / sha256).is_dir():
            shutil.rmtree(folder / sha256, ignore_errors=True)
            removed += 1
    return removed
