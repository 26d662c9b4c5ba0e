"""A form's blank pages, kept on disk between runs, keyed by everything that draws them.

Rendering a form's blank (reportlab, then pdftoppm at `BLANK_DPI`) is most of the time
`phieu scan` and `phieu read` spend before their first page (~1 s a page). The blank
depends only on the form's content, the code that lays it out and draws it, the
rasteriser and the resolution, so all of those go into the key: a change to any of
them is a different file, never a stale blank. What is stored is the blank already
resampled to omr's canonical scale (1260x1782 grey, what `prepare_page` starts from).

The cache lives in `$PHIEU_CACHE_DIR`, else `$XDG_CACHE_HOME/phieu`, else
`~/.cache/phieu` (a user's own folder: never the survey's shared folder). Each entry
is one `.npz` written to a temporary file and renamed (`forms.durable.write_bytes_atomic`),
read without pickle; a file that does not load, fails its zip checksum, or holds the wrong
key, count or shape is ignored and rewritten. A cache that cannot be written costs only the time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import subprocess
import zipfile
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from forms.durable import write_bytes_atomic

# The modules whose code decides the blank's pixels (relative to the repository root).
DRAWING_SOURCES = ("forms/render.py", "forms/layout.py", "forms/geometry.py", "forms/fonts.py",
                   "forms/identity.py", "forms/model.py", "omr/template.py")
CACHE_ENV = "PHIEU_CACHE_DIR"


def default_cache_dir() -> Path:
    """Where blanks are kept (see the module docstring for the order)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "phieu"


@cache
def _code_digest() -> str:
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for name in DRAWING_SOURCES:
        digest.update(name.encode())
        try:
            digest.update((root / name).read_bytes())
        except OSError:  # installed without sources: the version stands for the code
            from importlib.metadata import PackageNotFoundError, version

            try:
                digest.update(version("phieu").encode())
            except PackageNotFoundError:
                digest.update(b"unknown")
    return digest.hexdigest()


@cache
def _rasteriser_version() -> str:
    try:
        done = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (done.stderr or done.stdout).strip().splitlines()[0] if (done.stderr or done.stdout) else "?"


def canonical(value: Any) -> Any:
    """`value` (a form model: dataclasses, dicts, sequences, sets, scalars) as plain JSON
    data that is the same in every process: a set's order follows string hashing, which
    Python randomises per process, so sets are sorted; dicts keep their order (it is
    the form's order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: canonical(getattr(value, f.name))
                                       for f in dataclasses.fields(value)}]
    if isinstance(value, dict):
        return [[canonical(k), canonical(v)] for k, v in value.items()]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)  # enums and the like: their repr is their value


def blank_key(form: Any, dpi: int, canon_px_per_mm: float) -> str:
    """The cache key of `form`'s blank: its full content (every field of the frozen
    model, canonically), the drawing code, the rasteriser's version, the resolutions."""
    content = json.dumps(canonical(form), ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256()
    for part in (content, _code_digest(), _rasteriser_version(), str(dpi), repr(canon_px_per_mm)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_path(cache_dir: Path, form: Any, key: str) -> Path:
    safe_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(form.id))
    return cache_dir / "blanks" / f"{safe_id}-v{form.version}-{key[:24]}.npz"


def load_blanks(path: Path, key: str, pages: int, shape: tuple[int, int]) -> list[np.ndarray] | None:
    """The cached canonical blanks at `path`, or None when absent, corrupt or not these."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            blanks = [np.ascontiguousarray(data[f"page_{i}"]) for i in range(1, pages + 1)]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
    if any(b.dtype != np.uint8 or b.shape != shape for b in blanks):
        return None
    return blanks


def save_blanks(path: Path, key: str, blanks: Sequence[np.ndarray]) -> bool:
    """Write the entry atomically (`write_bytes_atomic`: a temporary file, then a rename);
    False when the cache folder cannot be written (the caller just goes on without it)."""
    arrays: dict[str, Any] = {f"page_{i}": b for i, b in enumerate(blanks, start=1)}
    entry = io.BytesIO()
    np.savez_compressed(entry, key=np.array(key), **arrays)
    try:
        write_bytes_atomic(path, entry.getvalue(), point="cache.write")
    except OSError:
        return False
    return True
