"""Transcribing comments by keyboard alone (Playwright, Debian's chromium, headless).

A box of mot-cua sheets, each with a written comment, is scanned with an OCR that reads
handwriting as Tesseract reads real hands (garbled, unsure: every comment is flagged), so
every comment goes to a clerk. The clerk transcribes ten of them by keyboard alone: the
crop is on screen, the box has focus, the command keys (Alt+0, Alt+X, Esc) never type into
it. Keystrokes (counted as Telex keys, what a clerk presses) and the app's time per comment
are printed for BENCHMARKS.md. The comments then reach comments.csv as typed by a person.
"""
from __future__ import annotations

import csv
import re
import statistics
import sys
import time
from pathlib import Path

import pytest

try:
    from tests.review_support import review_server
    from tests.test_review_browser import _sign_in
except ImportError:
    from review_support import review_server
    from test_review_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHEETS = 13
GARBLED = ("C?n b0 t|n t1nh", 41.0)  # what Tesseract makes of a real hand, and how unsure


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """(workspace, serial -> the comment written) of a scanned box whose every comment
    waits for a clerk."""
    import omr.text
    from fixtures.box import make_ballot_box
    from pipeline.scan.driver import scan
    from pipeline.store.survey import init_survey

    root = tmp_path_factory.mktemp("keying-box")
    truth = make_ballot_box("mot-cua", SHEETS, root / "box", seed=5, mix={"scan": 1.0},
                            comment_rate=1.0)
    written = {s.serial: q.text for s in truth.sheets for q in s.questions
               if q.type == "text" and q.text.strip()}
    survey = init_survey(root / "ws", ["mot-cua"], store="survey.sqlite")
    real = omr.text.ocr_text
    omr.text.ocr_text = lambda image: GARBLED  # in-process scan (jobs=1)
    try:
        scan(survey, [root / "box" / "batch-001.pdf"], batch="hop-1", jobs=1)
    finally:
        omr.text.ocr_text = real
    return survey.root, written


@pytest.fixture
def server(box, tmp_path):
    import shutil

    from pipeline.store.survey import load_survey

    shutil.copytree(box[0], tmp_path / "ws")
    survey = load_survey(tmp_path / "ws")
    with review_server(survey) as url:
        yield url, survey




def _telex_keys(text: str) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from comment_transcribe import typing_keys

    return typing_keys(text)


def _comments(run_phieu, survey, tmp_path) -> dict[str, dict[str, str]]:
    out = tmp_path / "comments.csv"
    result = run_phieu("export", "comments", "-o", out, "--survey", survey.root)
    assert result.code == 0, result.err
    with open(out, encoding="utf-8-sig", newline="") as fh:
        return {row["serial"]: row for row in csv.DictReader(fh)}


def test_a_clerk_transcribes_ten_comments_by_keyboard(box, server, browser, run_phieu, tmp_path):
    _, written = box
    url, survey = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, url, "Nguyễn Văn Bình")
    page.goto(url + "next?reason=low_confidence")
    keys, seconds, done = [], [], {}
    for _ in range(10):
        assert "/item/" in page.url, "fewer than ten comments to transcribe"
        serial = int(page.locator("#serial").inner_text())
        start = time.perf_counter()
        # The crop is shown, large; the box has focus and holds no garbled suggestion.
        page.wait_for_function("document.getElementById('crop').naturalWidth > 0")
        assert page.locator("#crop").bounding_box()["width"] > 900
        assert page.evaluate("document.activeElement.id") == "text"
        assert page.input_value("#text") == ""
        assert GARBLED[0] in page.locator("#ocr-guess").inner_text()  # seen, not pre-filled
        text = " ".join(written[serial].split())
        page.keyboard.type(text)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        seconds.append(time.perf_counter() - start)
        keys.append(_telex_keys(text) + 1)
        done[serial] = text
        assert "Đã lưu quyết định" in page.content()
    comments = _comments(run_phieu, survey, tmp_path)
    for serial, text in done.items():
        assert comments[str(serial)]["text"] == text
        assert comments[str(serial)]["shown_as"] == "person"
        assert comments[str(serial)]["flagged"] == "False"
    per_char = [k / len(t) for k, t in zip(keys, done.values(), strict=True)]
    print(f"\nten comments by keyboard: keys per comment (Telex) median {statistics.median(keys)}, "
          f"min {min(keys)}, max {max(keys)}; keys per character median "
          f"{statistics.median(per_char):.2f}; commands per comment 1 (Enter); app time per "
          f"comment (typing at machine speed, save, next item loaded) median "
          f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
    page.close()


def test_command_keys_never_type_into_the_box(box, server, browser, run_phieu, tmp_path):
    url, survey = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, url, "Mai")
    page.goto(url + "next?reason=low_confidence")
    first = page.url
    # 0 and x are letters of a comment while the box has focus ...
    page.keyboard.type("0x")
    assert page.input_value("#text") == "0x" and page.url == first
    # ... Esc once leaves to the queue, from inside the box
    with page.expect_navigation():
        page.keyboard.press("Escape")
    assert "/item/" not in page.url
    # Alt+0: no comment, one chord, nothing typed
    page.goto(first)
    serial_none = page.locator("#serial").inner_text()
    page.keyboard.type("ab")
    with page.expect_navigation():
        page.keyboard.press("Alt+0")
    assert page.url != first and "Đã lưu quyết định" in page.content()
    # Alt+X: illegible; the report will print the image
    second = page.url
    serial_illegible = page.locator("#serial").inner_text()
    with page.expect_navigation():
        page.keyboard.press("Alt+x")
    assert page.url != second
    # Enter on an empty box saves nothing and says what to do
    third = page.url
    page.keyboard.press("Enter")
    assert page.url == third and "Alt+0" in page.locator("#key-hint").inner_text()
    comments = _comments(run_phieu, survey, tmp_path)
    assert comments[serial_none]["shown_as"] == "none"
    assert comments[serial_illegible]["shown_as"] == "image"
    assert re.fullmatch(r"\d+", serial_none)
    page.close()
    # comments.xlsx: the clerk's "no comment" left out, every other comment with its image
    from openpyxl import load_workbook

    out = tmp_path / "y-kien.xlsx"
    result = run_phieu("export", "comments", "-o", out, "--survey", survey.root)
    assert result.code == 0, result.err
    sheet = load_workbook(out).active
    serials = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert int(serial_none) not in serials and int(serial_illegible) in serials
    assert len(sheet._images) == len(serials) == len(comments) - 1
