"""Logging: a reader crash keeps its traceback in the workspace's log; -v shows the steps."""
from __future__ import annotations

from pathlib import Path

import pytest

from forms.library import load_form
from forms.render import render_pdf

pytestmark = pytest.mark.slow  # real scans


@pytest.fixture
def one_sheet(tmp_path: Path) -> Path:
    pdf = tmp_path / "in" / "one.pdf"
    pdf.parent.mkdir()
    render_pdf(load_form("mot-cua"), pdf, copies=1, first_serial=5)
    return pdf


def test_a_reader_crash_keeps_its_traceback_in_the_workspace_log(tmp_path, one_sheet, run_phieu, monkeypatch):
    import omr

    def crash(image, catalog, **_kwargs):
        raise RuntimeError("boom in the reader")

    # Workers are forked from this process, so they inherit the patched reader.
    monkeypatch.setattr(omr, "read_page", crash)
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    run = run_phieu("scan", one_sheet, "--survey", ws, "--jobs", "1")
    assert run.code == 0, run.err
    assert "reader_error" in run.out + run.err
    log = (ws / "phieu.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: boom in the reader" in log
    assert "one.pdf page 1" in log


def test_verbose_logs_the_steps_on_stderr_and_quiet_does_not(tmp_path, one_sheet, run_phieu):
    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    quiet = run_phieu("scan", one_sheet, "--survey", ws)
    assert quiet.code == 0 and "INFO" not in quiet.err
    loud = run_phieu("-v", "scan", one_sheet, "--survey", ws, "--batch", "again")
    assert loud.code == 0
    assert "INFO pipeline.scan.driver: scan of 1 file(s)" in loud.err
    # The handler is gone after the command: a later quiet run prints no INFO line.
    assert "INFO" not in run_phieu("status", "--survey", ws).err
