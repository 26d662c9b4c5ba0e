"""Input files -> sources -> pages, one page at a time.

A *source* is one input file, known by its SHA-256. Its pages are loaded lazily and
individually: a PDF page is rasterised by `pdftoppm` for that page alone (never the
whole file in memory), a multipage TIFF is read frame by frame, a JPEG/PNG is one page.

Bad input is a value, not a crash: `count_pages` and `load_page` report an
`IngestProblem` (reason + a message a clerk can act on) and the batch goes on.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from forms.errors import BadInput
from omr.failures import FailureReason
from pipeline.store.vocabulary import IngestReason

SourceKind = Literal["pdf", "tiff", "image"]

# Extensions taken from folders. Files named explicitly are always taken (and a file
# that is not a scan then shows in pages.csv as `not_an_image`); inside folders other
# files (Thumbs.db, notes) are left out and listed in a message.
SCAN_EXTENSIONS = frozenset(
    {".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".jp2"}
)

PDFTOPPM_TIMEOUT_S = 120  # a single page; a hung poppler must not stall the batch


@dataclass(frozen=True)
class IngestProblem:
    """Why a file or one of its pages could not be loaded. Falsy."""

    reason: IngestReason | FailureReason  # not_an_image: the reader's word for the same fault
    message: str
    detail: str = ""  # the traceback of a `reader_error`, for the workspace's log

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class SourceFile:
    """An input file: where it is, what it looks like, and its content hash.

    A file with no content to tell it by (empty, or not readable by phieu) is keyed by
    its path instead (`path_key`): three empty files are three inputs, each accounted
    for, not one file and two "same content" skips. `problem` says why such a file has
    no page to read.
    """

    path: Path
    kind: SourceKind
    sha256: str
    size: int
    problem: IngestProblem | None = None


@dataclass(frozen=True)
class Expanded:
    """The files to scan (sorted, folders expanded), the folder files left out, and the
    folders that could not be listed (no permission): reported, never passed over."""

    files: tuple[Path, ...]
    skipped: tuple[Path, ...]
    unreadable: tuple[Path, ...] = ()


@dataclass(frozen=True)
class PageTask:
    """One page to read: which file, which page, at which resolution."""

    source_id: int
    path: str
    kind: SourceKind
    index: int  # 1-based within the file
    dpi: int
    embedded_ppi: float = 0.0  # > 0: a PDF page that is one full-page JPEG at this ppi


@dataclass(frozen=True)
class DescribedFile:
    """One input file, described once before any store look-up: its identity (`source`:
    SHA-256, size, kind), how many pages it has or why none can be read, and whether the
    same bytes came earlier in the same command (`repeat_of`: read once)."""

    source: SourceFile
    repeat_of: Path | None = None

    @property
    def path(self) -> Path:
        return self.source.path

    @cached_property
    def pages(self) -> int | IngestProblem:
        """How many pages it has, or why none can be read: counted when first asked
        (`pdfinfo` for a PDF), so a file the store already holds is never counted."""
        return count_pages(self.source)


def describe_files(files: Sequence[Path],
                   probed: Mapping[Path, SourceFile] | None = None) -> tuple[DescribedFile, ...]:
    """Hash and probe every file in `files`, in order: the scan's file triage, with no
    store involved (the driver then decides, from the store, which pages are still to
    read; a file's pages are counted when first asked). A file whose bytes came earlier
    in the list is described as a repeat and read once. `probed`: files the caller has
    probed already (`phieu watch` hashes each new file to know it), not hashed again."""
    described: list[DescribedFile] = []
    seen: dict[str, Path] = {}
    for path in files:
        source = (probed or {}).get(path) or probe(path)
        if source.sha256 in seen:
            described.append(DescribedFile(source, repeat_of=seen[source.sha256]))
            continue
        seen[source.sha256] = path
        described.append(DescribedFile(source))
    return tuple(described)


def page_tasks(described: DescribedFile, source_id: int, indexes: Sequence[int],
               dpi: int) -> tuple[PageTask, ...]:
    """The pages `indexes` (1-based) of `described` as tasks for the readers. A PDF page
    that is one full-page JPEG carries its ppi, so a worker extracts it rather than
    rendering the page again."""
    if not indexes:
        return ()
    source = described.source
    direct = scanned_pdf_pages(source.path, max(indexes)) if source.kind == "pdf" else {}
    return tuple(PageTask(source_id, str(source.path), source.kind, i, dpi, direct.get(i, 0.0))
                 for i in indexes)


def natural_key(path: Path) -> tuple:
    """Sort key that puts `scan2.pdf` before `scan10.pdf` (numbers compared as numbers)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", path.as_posix()) if part
    )


def expand_paths(paths: Iterable[str | Path]) -> Expanded:
    """Files named in `paths`, in the order given, each folder expanded recursively in
    natural order (`scan2.pdf` before `scan10.pdf`); a file given twice is kept once.

    Raises `BadInput` for a path that does not exist and when no file is found at all.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    unreadable: list[Path] = []
    given = [Path(p) for p in paths]
    for path in given:
        if path.is_dir():
            for child in sorted(_walk_files(path, unreadable), key=natural_key):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if hidden or child.suffix.lower() not in SCAN_EXTENSIONS:
                    skipped.append(child)
                else:
                    files.append(child)
        elif path.is_file():
            files.append(path)
        else:
            raise BadInput(
                f"Không tìm thấy / not found: {path}",
                "check the path; give files or folders of scans (PDF, TIFF, JPEG, PNG)",
            )
    unique = list(dict.fromkeys(p.resolve() for p in files))
    if not unique:
        where = ", ".join(str(p) for p in given) or "(nothing given)"
        if unreadable:
            raise BadInput(
                f"Không đọc được thư mục / cannot read the folder(s): "
                f"{', '.join(str(p) for p in unreadable)}",
                "give phieu permission to read them (ask whoever owns them), then scan again",
            )
        raise BadInput(
            f"Không có tệp quét nào / no scan files in {where}",
            "give PDF, TIFF, JPEG or PNG files, or folders holding them",
        )
    return Expanded(files=tuple(unique), skipped=tuple(skipped), unreadable=tuple(unreadable))


def _walk_files(folder: Path, unreadable: list[Path]) -> list[Path]:
    """Every file under `folder`; a sub-folder that cannot be listed is appended to
    `unreadable` (`Path.rglob` passes over it without a word)."""
    found: list[Path] = []

    def failed(err: OSError) -> None:
        unreadable.append(Path(err.filename) if err.filename else folder)

    for here, _dirs, names in os.walk(folder, onerror=failed):
        found += [Path(here) / n for n in names if (Path(here) / n).is_file()]
    return found


def sha256_file(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size in bytes of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _kind_from_head(head: bytes) -> SourceKind:
    # By content, not by name: scanners and people misname files.
    if head.startswith(b"%PDF") or b"%PDF" in head[:1024]:
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return "image"


# The `why` of a file's `path_key`: hashed into the key, so a new word would give every
# known empty or unopenable file a new row on the next scan. Not a flag reason, though
# the second is spelt like one (allowed in tests/test_vocabulary.py).
EMPTY_KEY, UNOPENED_KEY = "empty", "unreadable"
CONTENTLESS_KEYS = (EMPTY_KEY, UNOPENED_KEY)


def path_key(path: Path, why: str) -> str:
    """A 64-hex key for a file that has no content to be known by, from its absolute
    path and why (`empty`, `unreadable`): stable across runs (a re-run finds the row),
    distinct per file, and never equal to a content hash (a prefix no file is hashed with)."""
    return hashlib.sha256(f"phieu-no-content\0{why}\0{Path(path).resolve()}".encode()).hexdigest()


def probe(path: Path) -> SourceFile:
    """Hash `path` and tell its kind from its first bytes. A file phieu may not read is
    not an error here: it comes back with its `problem`, keyed by its path."""
    try:
        sha, size = sha256_file(path)
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as err:
        problem = IngestProblem(
            IngestReason.UNREADABLE_FILE,
            f"{path.name}: không mở được tệp / cannot open the file ({err.strerror or err}) — "
            "cho phép đọc tệp rồi quét lại / give phieu permission to read it, then scan again",
        )
        return SourceFile(path=Path(path), kind="image", sha256=path_key(path, UNOPENED_KEY),
                          size=0, problem=problem)
    if size == 0:
        return SourceFile(path=Path(path), kind="image", sha256=path_key(path, EMPTY_KEY), size=0)
    return SourceFile(path=Path(path), kind=_kind_from_head(head), sha256=sha, size=size)


def _pdf_problem(path: Path, stderr: str) -> IngestProblem:
    if "password" in stderr.lower() or "encrypt" in stderr.lower():
        return IngestProblem(
            IngestReason.ENCRYPTED_PDF,
            f"{path.name}: PDF có mật khẩu / the PDF is password-protected — "
            "xuất lại từ máy quét không đặt mật khẩu / export it again without a password",
        )
    first = next((line for line in stderr.splitlines() if line.strip()), "no detail")
    return IngestProblem(
        IngestReason.CORRUPT_PDF,
        f"{path.name}: PDF hỏng / the PDF is damaged ({first.strip()}) — "
        "quét lại hoặc sao chép lại tệp / scan or copy the file again",
    )


def count_pages(source: SourceFile) -> int | IngestProblem:
    """How many pages `source` has, or why it has none that can be read."""
    path = source.path
    if source.problem is not None:
        return source.problem
    if source.size == 0:
        return IngestProblem(
            IngestReason.EMPTY_FILE,
            f"{path.name}: tệp rỗng (0 byte) / the file is empty — "
            "sao chép lại từ máy quét / copy it from the scanner again",
        )
    if source.kind == "pdf":
        proc = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, text=True, errors="replace"
        )
        match = re.search(r"^Pages:\s+(\d+)", proc.stdout, re.MULTILINE)
        if proc.returncode != 0 or not match or int(match.group(1)) == 0:
            return _pdf_problem(path, proc.stderr or "no pages")
        return int(match.group(1))
    try:
        with Image.open(path) as img:
            try:
                return int(getattr(img, "n_frames", 1))
            except Exception:  # a damaged frame chain: keep the frames before the damage
                return _frames_until_damage(img)
    except UnidentifiedImageError:
        return _not_an_image(path)
    except Exception as err:  # a damaged header: Pillow raises OSError, TypeError, SyntaxError...
        return IngestProblem(
            IngestReason.UNREADABLE_FILE,
            f"{path.name}: tệp ảnh hỏng / the image file is damaged ({err}) — "
            "quét lại / scan it again",
        )


def _frames_until_damage(img: Image.Image) -> int:
    """Frames of a multipage TIFF whose chain of frames breaks: the readable ones, plus
    the damaged one (it becomes a failed page, `unreadable_frame`, so the file is seen
    to be damaged there). Raises the error when even the first frame is unreadable."""
    index = 0
    while True:
        try:
            img.seek(index + 1)
        except EOFError:
            return index + 1
        except Exception:
            return index + 2
        index += 1


def _not_an_image(path: Path) -> IngestProblem:
    return IngestProblem(
        FailureReason.NOT_AN_IMAGE,
        f"{path.name}: không phải ảnh hay PDF / not an image or a PDF — "
        "chỉ đưa vào tệp quét (PDF, TIFF, JPEG, PNG) / give only scans",
    )


# A page image counts as "the whole page" when it covers at least this share of the
# page in both directions (scanners sometimes crop a few millimetres).
FULL_PAGE_COVER = 0.9


def _pdf_page_sizes(path: Path, pages: int) -> dict[int, tuple[float, float]]:
    proc = subprocess.run(["pdfinfo", "-f", "1", "-l", str(pages), str(path)],
                          capture_output=True, text=True, errors="replace")
    sizes = {}
    for m in re.finditer(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", proc.stdout, re.MULTILINE):
        sizes[int(m.group(1))] = (float(m.group(2)) / 72.0, float(m.group(3)) / 72.0)
    return sizes


def scanned_pdf_pages(path: Path, pages: int) -> dict[int, float]:
    """Pages of a PDF that are one full-page JPEG (what feeder scanners write), with
    the image's resolution in pixels per inch.

    Such a page is loaded by extracting its JPEG as is (`pdfimages -j`) instead of
    rendering it: the same pixels, about five times faster. Every other page (vector
    content, several images, other encodings) is rendered by `pdftoppm`.
    """
    proc = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                          errors="replace")
    if proc.returncode != 0:
        return {}
    images: dict[int, list[list[str]]] = {}
    for line in proc.stdout.splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 14 and cols[0].isdigit():
            images.setdefault(int(cols[0]), []).append(cols)
    sizes = _pdf_page_sizes(path, pages)
    direct = {}
    for page, rows in images.items():
        if len(rows) != 1 or page not in sizes:
            continue
        cols = rows[0]
        kind, width, height, enc, xppi, yppi = cols[2], cols[3], cols[4], cols[8], cols[12], cols[13]
        try:
            w_in, h_in = int(width) / float(xppi), int(height) / float(yppi)
        except (ValueError, ZeroDivisionError):
            continue
        pw, ph = sizes[page]
        covers = any(
            a / pa >= FULL_PAGE_COVER and b / pb >= FULL_PAGE_COVER
            for (a, b), (pa, pb) in (((w_in, h_in), (pw, ph)), ((w_in, h_in), (ph, pw)))
        )
        if kind == "image" and enc == "jpeg" and covers:
            direct[page] = min(float(xppi), float(yppi))
    return direct


def load_page(
    source_path: Path, kind: SourceKind, index: int, dpi: int, embedded_ppi: float = 0.0
) -> np.ndarray | IngestProblem:
    """Page `index` (1-based) of a source as a grey uint8 array, or why it cannot be loaded.

    PDFs are rasterised at `dpi`, or, for a page that is one full-page JPEG
    (`embedded_ppi` > 0, see `scanned_pdf_pages`), its JPEG is extracted and decoded at
    its own resolution (halved while that stays at or above `dpi`). Images keep theirs.
    """
    path = Path(source_path)
    if kind == "pdf":
        if embedded_ppi > 0:
            grey = _extract_pdf_jpeg(path, index, embedded_ppi, dpi)
            if grey is not None:
                return grey
        return _load_pdf_page(path, index, dpi)
    if kind == "tiff":
        return _load_tiff_frame(path, index)
    data = path.read_bytes()
    grey = _decode(data)
    if grey is None:
        # OpenCV lacks some formats Pillow reads (and vice versa).
        try:
            with Image.open(io.BytesIO(data)) as img:
                grey = np.asarray(img.convert("L"))
        except Exception:  # untrusted bytes: any decoder error means "not an image"
            return _not_an_image(path)
    return grey


def _decode(data: bytes, flags: int = cv2.IMREAD_GRAYSCALE) -> np.ndarray | None:
    """OpenCV's decode, None for bytes it cannot or will not decode (OpenCV raises for an
    image over its pixel limit rather than returning None)."""
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except (cv2.error, MemoryError):
        return None


_REDUCED = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


def _extract_pdf_jpeg(path: Path, index: int, ppi: float, dpi: int) -> np.ndarray | None:
    """The page's embedded JPEG, decoded grey; None when extraction does not give exactly
    one decodable JPEG (the caller then renders the page instead)."""
    with tempfile.TemporaryDirectory(prefix="phieu-page-") as tmp:
        cmd = ["pdfimages", "-f", str(index), "-l", str(index), "-j", str(path), f"{tmp}/p"]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None
        files = sorted(Path(tmp).iterdir())
        if proc.returncode != 0 or len(files) != 1 or files[0].suffix != ".jpg":
            return None
        data = files[0].read_bytes()
    # libjpeg decodes at 1/2, 1/4, 1/8 scale almost for free: a 600 dpi scan needs
    # no more than the resolution asked for.
    factor = 1
    while factor < 8 and ppi / (factor * 2) >= dpi:
        factor *= 2
    return _decode(data, _REDUCED[factor])


# The most pixels a PDF page is rendered to: an A3 sheet at 400 dpi (a ballot is A4). A
# larger page (a 5 m poster drawn in vectors) is rendered smaller, whole, instead of a
# multi-gigapixel image that OpenCV refuses (CV_IO_MAX_IMAGE_PIXELS) or memory cannot hold.
MAX_RENDER_PIXELS = 6_600 * 4_700


def _render_scale(path: Path, index: int, dpi: int) -> list[str]:
    """pdftoppm options for the resolution: `-r dpi`, or a long side in pixels that
    keeps the page under `MAX_RENDER_PIXELS`."""
    size = _pdf_page_sizes_of(path, index)
    if size is None:
        return ["-r", str(dpi)]
    w, h = size[0] * dpi, size[1] * dpi
    if w * h <= MAX_RENDER_PIXELS:
        return ["-r", str(dpi)]
    long_side = int(max(w, h) * (MAX_RENDER_PIXELS / (w * h)) ** 0.5)
    return ["-scale-to", str(long_side)]


def _pdf_page_sizes_of(path: Path, index: int) -> tuple[float, float] | None:
    proc = subprocess.run(["pdfinfo", "-f", str(index), "-l", str(index), str(path)],
                          capture_output=True, text=True, errors="replace")
    m = re.search(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", proc.stdout, re.MULTILINE)
    return (float(m.group(1)) / 72.0, float(m.group(2)) / 72.0) if m else None


def _load_pdf_page(path: Path, index: int, dpi: int) -> np.ndarray | IngestProblem:
    # pdftoppm writes the one page as PGM to stdout when no output root is given.
    cmd = ["pdftoppm", "-f", str(index), "-l", str(index), *_render_scale(path, index, dpi),
           "-gray", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return IngestProblem(
            IngestReason.CORRUPT_PDF,
            f"{path.name} trang/page {index}: không dựng được ảnh trong {PDFTOPPM_TIMEOUT_S} s "
            "/ rasterising timed out — quét lại trang này / scan this page again",
        )
    grey = None
    if proc.stdout:
        grey = _decode(proc.stdout)
    if proc.returncode != 0 or grey is None:
        problem = _pdf_problem(path, proc.stderr.decode("utf-8", "replace"))
        return IngestProblem(problem.reason, f"trang/page {index}: {problem.message}")
    return grey


def _load_tiff_frame(path: Path, index: int) -> np.ndarray | IngestProblem:
    try:
        with Image.open(path) as img:
            img.seek(index - 1)
            return np.asarray(img.convert("L"))
    except Exception as err:  # Pillow raises many types (TypeError, SyntaxError...) on damaged TIFFs
        return IngestProblem(
            IngestReason.UNREADABLE_FRAME,
            f"{path.name} trang/page {index}: khung TIFF hỏng / TIFF frame unreadable ({err}) — "
            "quét lại trang này / scan this page again",
        )
