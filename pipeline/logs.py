"""Where phieu's log records go: a survey's own log file (`Survey.log_path`).

Modules log through `logging.getLogger(__name__)`; the command line decides where the
records go (stderr with `--verbose`) and, for a command working on a survey, adds the
workspace's log file for the length of the command, so a scan's `reader_error` traceback
is kept beside the survey rather than lost.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


@contextmanager
def log_to(handler: logging.Handler, level: int, fmt: str = LOG_FORMAT) -> Iterator[logging.Handler]:
    """Send log records of `level` and above to `handler` (in `fmt`) while the
    block runs, lowering the root logger's level as far as needed, and undo both after,
    so that a command run in-process (tests) leaves no handler behind."""
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    previous = root.level
    root.setLevel(min(previous or logging.WARNING, level))
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()  # a file's handle; a stream handler leaves its stream open


@contextmanager
def workspace_log(path: Path, *, level: int = logging.INFO) -> Iterator[logging.Handler | None]:
    """Append log records of `level` and above to `path` while the block runs.

    Yields the handler, or None when the file cannot be opened (a read-only workspace):
    the command still runs, only without its log file.
    """
    try:
        handler = logging.FileHandler(path, encoding="utf-8", delay=False)
    except OSError:
        yield None
        return
    with log_to(handler, level):
        yield handler


def stderr_log(verbose: int) -> AbstractContextManager[logging.Handler]:
    """`--verbose` on stderr while the command runs: with -v the steps (INFO), with -vv
    every page (DEBUG)."""
    return log_to(logging.StreamHandler(sys.stderr), logging.INFO if verbose == 1 else logging.DEBUG)


@contextmanager
def survey_notices() -> Iterator[logging.Handler]:
    """The workspace's warnings (a form's layout frozen on first use) on stderr even
    without -v: they are for the clerk. With -v, `stderr_log` shows them already."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(logging.Filter("pipeline.store.survey"))
    with log_to(handler, logging.WARNING, "⚠ %(message)s"):
        yield handler
