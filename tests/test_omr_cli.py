"""`phieu read`: the reader from the command line, with its debug overlay."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from forms.library import load_form
from forms.render import render_page_images


def test_phieu_read_prints_the_answers_and_writes_an_overlay(run_phieu, tmp_path: Path) -> None:
    page = render_page_images(load_form("mot-cua"), 150, serial=77)[0]
    image = tmp_path / "page.png"
    cv2.imwrite(str(image), page)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    run = run_phieu("read", image, junk, "--form", "mot-cua", "--debug", tmp_path / "dbg", "--no-ocr")
    assert run.code == 0, run.err
    assert "mot-cua v1 trang/page 1 số/serial 000077" in run.out
    assert "hai_long_chung: no_answer" in run.out
    assert "not_an_image" in run.out
    overlay = cv2.imread(str(tmp_path / "dbg" / "page.overlay.png"))
    assert overlay is not None and overlay.ndim == 3
    assert not (tmp_path / "dbg" / "junk.overlay.png").exists()
    # every empty target's region outlined in the "empty" grey
    assert np.count_nonzero((overlay == (170, 170, 170)).all(axis=2)) > 500
