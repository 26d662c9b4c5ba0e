"""Per-page work, run in worker processes: load one page, read it, compress what review needs.

A `PageTask` (a few strings and numbers) goes out; a `PageResult` comes back with the
reading stripped of its pixel arrays, the page image as a small grey JPEG and the
comment crops as PNG bytes. Full-resolution arrays never cross the process boundary.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr import CANON_PX_PER_MM
from omr.reading import PageFailure, PageReading, Reading
from pipeline.scan.inputs import IngestProblem, PageTask, load_page
from pipeline.store.vocabulary import IngestReason

# Page images are kept for review at ~100 dpi: enough to see a tick and read a digit,
# ~60-120 kB per page as grey JPEG.
REVIEW_PX_PER_MM = 4.0
REVIEW_JPEG_QUALITY = 80


@dataclass(frozen=True)
class PageResult:
    """What the main process stores for one page.

    Exactly one of `reading` and `problem` is set: `problem` when the page could not
    even be loaded (a damaged file, a bad TIFF frame), `reading` otherwise (a
    `PageReading`, or a `PageFailure` that says why it was not read). Pixel arrays are
    removed from `reading`; `page_jpeg` and `crops` carry what review needs.
    """

    task: PageTask
    reading: Reading | None
    problem: IngestProblem | None
    page_jpeg: bytes | None
    image_px_per_mm: float
    image_registered: bool
    crops: tuple[tuple[str, bytes], ...]
    seconds: float


def _jpeg(image: np.ndarray, scale: float) -> bytes:
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, REVIEW_JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def read_of(reading: Reading | None) -> PageReading | None:
    """What was read of the page: the reading itself, or the one a `qr_unreadable` failure
    carries (a page identified by its print; its serial unknown)."""
    if isinstance(reading, PageFailure):
        return reading.reading
    return reading


def _strip_read(reading: PageReading) -> PageReading:
    texts = tuple(dataclasses.replace(t, crop=None) for t in reading.texts)
    return dataclasses.replace(reading, page=None, texts=texts)


def _strip(reading: Reading) -> Reading:
    if isinstance(reading, PageReading):
        return _strip_read(reading)
    inner = None if reading.reading is None else _strip_read(reading.reading)
    return dataclasses.replace(reading, image=None, reading=inner)


def _review_image(
    reading: Reading | None, loaded: np.ndarray, dpi: int
) -> tuple[bytes, float, bool]:
    """The page image to keep: the registered page when there is one, warped at
    `REVIEW_PX_PER_MM` (so review crops come straight from the layout's millimetres; a page
    read by its print, QR code unread, too), else the input as it came (its scale then only
    approximate: `dpi` is what a PDF was rendered at, not an image's own)."""
    read = read_of(reading)
    if read is not None and read.page is not None:
        scale = min(REVIEW_PX_PER_MM, CANON_PX_PER_MM)  # `picture` gives no more than the canonical scale
        return _jpeg(read.page.picture(scale), 1.0), scale, True
    image = reading.image if isinstance(reading, PageFailure) and reading.image is not None else loaded
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # An unregistered image has no known scale; assume the input's dpi for PDFs and
    # keep a long side of ~1200 px, enough for a person to see what the page is.
    scale = min(1.0, 1200.0 / max(image.shape))
    px_per_mm = dpi / 25.4 * scale
    return _jpeg(image, scale), px_per_mm, False


@dataclass(frozen=True)
class PageReader:
    """Reads pages with one survey's catalog of forms (built once per process)."""

    catalog: Any  # omr.template.Catalog

    def read(self, task: PageTask) -> PageResult:
        """Load, read and compress one page. Never raises for bad input."""
        from omr import read_page

        start = time.perf_counter()
        name = Path(task.path).name
        try:
            loaded = load_page(Path(task.path), task.kind, task.index, task.dpi, task.embedded_ppi)
        except OSError as err:  # the file moved, vanished or became unreadable since triage
            loaded = IngestProblem(
                IngestReason.UNREADABLE_FILE,
                f"{name} trang/page {task.index}: không đọc được tệp / cannot read the file "
                f"({err.strerror or err}) — kiểm tra tệp rồi quét lại / check it and scan again",
            )
        if isinstance(loaded, IngestProblem):
            return PageResult(task, None, loaded, None, 0.0, False, (), time.perf_counter() - start)
        try:
            reading = read_page(loaded, self.catalog)
        except Exception as err:  # a reader bug on one odd page must not stop the box
            problem = IngestProblem(
                IngestReason.READER_ERROR,
                f"{name} trang/page {task.index}: lỗi khi đọc / reader error "
                f"({type(err).__name__}: {err}) — báo lỗi cho nhóm phát triển / report it",
                detail=traceback.format_exc(),
            )
            jpeg, px_per_mm, _ = _review_image(None, loaded, task.dpi)
            return PageResult(task, None, problem, jpeg, px_per_mm, False, (),
                              time.perf_counter() - start)
        jpeg, px_per_mm, registered = _review_image(reading, loaded, task.dpi)
        crops: tuple[tuple[str, bytes], ...] = ()
        read = read_of(reading)
        if read is not None:
            crops = tuple(
                (t.question, _png(t.crop)) for t in read.texts if t.crop is not None and not t.blank
            )
        return PageResult(
            task=task,
            reading=_strip(reading),
            problem=None,
            page_jpeg=jpeg,
            image_px_per_mm=px_per_mm,
            image_registered=registered,
            crops=crops,
            seconds=time.perf_counter() - start,
        )


# The per-process reader, set once by `init_worker` (ProcessPoolExecutor's initializer)
# so the catalog (several MB of templates) crosses to each worker once, not per page.
_PROCESS_READER: list[PageReader] = []


def _exit_with(parent: int) -> None:
    # A worker blocks on the pool's queue, whose other ends its sibling workers also hold:
    # if the main process is killed (SIGKILL, power loss of a terminal), no EOF ever comes.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


PARENT_CHECK_S = 1.0


def init_worker(catalog: Any, parent: int) -> None:
    """ProcessPoolExecutor initializer: keep the catalog; leave Ctrl-C to the main process
    (it stops the pool and leaves the store consistent); exit when `parent` (the main
    process's pid) is gone, rather than linger as an orphan."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One worker per core already: Tesseract's own OpenMP threads would oversubscribe
    # the cores (measured: a comment's OCR took ~1.0 s instead of ~0.5 s on 2 cores).
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _PROCESS_READER.clear()
    _PROCESS_READER.append(PageReader(catalog))


def read_in_worker(task: PageTask) -> PageResult:
    """Read `task` with the reader `init_worker` set up in this process."""
    return _PROCESS_READER[0].read(task)
