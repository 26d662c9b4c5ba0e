"""Files written so that a kill or a full disk never leaves a half-written file under
the final name, and the points where the fault-injection tests stop the process.

`atomic_output(path)` hands out a temporary path in the same folder (a rename within one
file system is atomic) and renames it over `path` only once the writer returned; on any
error the temporary file is removed and the previous file is left as it was. Several
files written as one output (`atomic_outputs`) are all finished before any is renamed.

`fault_point(name)` is a no-op unless the environment variable `PHIEU_FAULT` names that
point: `PHIEU_FAULT=scan.page.commit@3` kills the process (`os._exit`, no clean-up, as a
power cut or `kill -9` would) the third time the point is reached; `...@3:enospc` raises
"no space left on device" there instead, `...@3:raise` raises `FaultInjected` (a test
running phieu in its own process). Only tests set it (tests/test_faults.py).

This lives in `forms` because `forms` is the bottom of the dependency graph: the form
renderer and the pipeline's outputs both use it.
"""
from __future__ import annotations

import errno
import os
import socket
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from forms.errors import BadInput

FAULT_ENV = "PHIEU_FAULT"
FAULT_EXIT_CODE = 86  # what a process stopped at a fault point exits with
# Times each fault point was reached in this process: the one piece of module state,
# read only when PHIEU_FAULT is set (a test hook, never used in normal runs).
_REACHED: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Stop here if the test hook `PHIEU_FAULT` names this point (see the module doc)."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    spec, _, action = wanted.partition(":")
    point, _, nth = spec.partition("@")
    if point != name:
        return
    _REACHED[name] += 1
    if _REACHED[name] != int(nth or 1):
        return
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if action == "raise":
        raise FaultInjected(name)
    os._exit(FAULT_EXIT_CODE)


class FaultInjected(BaseException):
    """Raised at a fault point by `PHIEU_FAULT=POINT@N:raise`: the in-process stand-in for
    a kill (a BaseException, so no `except Exception` in phieu handles it)."""


def temporary_name(path: Path) -> Path:
    """A temporary file beside `path`, unique to this host and process (two stations
    sharing a folder each write their own), ending like `path` (writers such as pandas
    choose the format by the suffix). Names start with `.` and contain `.tmp`."""
    return path.with_name(f".{path.stem}.{socket.gethostname()}.{os.getpid()}.tmp{path.suffix}")


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise BadInput(
            f"Không có thư mục / folder does not exist: {path.parent}",
            "create it first or choose another output path",
        )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def disk_error(path: Path, err: OSError) -> BadInput:
    """The one message for an output that could not be written (disk full, read-only)."""
    if err.errno == errno.ENOSPC:
        why = "ổ đĩa đầy / the disk is full"
        fix = "free some space (or write elsewhere) and run the command again; the previous file is unchanged"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "không có quyền ghi / no permission to write there (or a read-only disk)"
        fix = "choose a folder you can write to, or fix its permissions"
    else:
        why = err.strerror or str(err)
        fix = "check the disk and the folder, then run the command again"
    return BadInput(f"Không ghi được / cannot write {path}: {why}", fix)


@contextmanager
def atomic_outputs(paths: Sequence[Path]) -> Iterator[tuple[Path, ...]]:
    """Temporary paths for `paths`; each is renamed over its final path when the block
    ends without error, after all were written. On error none is renamed and the
    temporary files are removed. An `OSError` (disk full, no permission) becomes a
    `BadInput` naming the file."""
    finals = tuple(Path(p) for p in paths)
    for final in finals:
        _check_folder(final)
    temps = tuple(temporary_name(p) for p in finals)
    try:
        yield temps
        for final, temp in zip(finals, temps, strict=True):
            fault_point("output.replace")
            os.replace(temp, final)
    except OSError as err:
        raise disk_error(finals[0] if len(finals) == 1 else finals[0].parent, err) from err
    finally:
        for temp in temps:
            _remove(temp)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """One output file: see `atomic_outputs`."""
    with atomic_outputs([path]) as (temp,):
        yield temp


def write_bytes_atomic(path: Path, data: bytes, *, point: str = "image.write") -> None:
    """Write `data` to `path` through a temporary file (see `atomic_outputs`); the
    folder is created when missing. Raises `OSError` as it comes (the caller knows what
    the file is for). `point`: the fault point reached before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.{socket.gethostname()}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as fh:
            fh.write(data)
            fault_point(point)
        os.replace(temp, path)
    except BaseException:
        _remove(temp)
        raise
