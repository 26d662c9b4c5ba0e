"""The review app in a real browser (Playwright driving Debian's chromium, headless):
open the queue, resolve an overvote by keyboard, transcribe a comment, undo a decision,
and see responses.csv follow; two browsers never get the same item."""
from __future__ import annotations

import csv
import re

import pytest

try:
    from tests.review_support import built, copy_workspace, prefilled_comment_flag, review_server  # noqa: F401
except ImportError:
    from review_support import built, copy_workspace, prefilled_comment_flag, review_server  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def server(built, tmp_path):
    """(base URL, survey) of a review server on a free port, serving a copy of the box."""
    from pipeline.store.survey import load_survey

    survey = load_survey(copy_workspace(built, tmp_path / "ws"))
    with review_server(survey) as url:
        yield url, survey


def _responses(run_phieu, survey, tmp_path) -> dict[str, dict[str, str]]:
    out = tmp_path / "responses.csv"
    result = run_phieu("export", "responses", "-o", out, "--survey", survey.root)
    assert result.code == 0, result.err
    with open(out, encoding="utf-8-sig", newline="") as fh:
        return {row["serial"]: row for row in csv.DictReader(fh)}


def _sign_in(page, url: str, name: str) -> None:
    page.goto(url)
    page.fill("#reviewer-input", name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _overvote_alone(survey) -> int:
    """The flag id of an open overvote on a sheet with no open whole-sheet flag."""
    from pipeline.review import open_items
    from pipeline.store.database import open_store

    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        items = open_items(conn)
    store.engine.dispose()
    whole_sheet = {e.sheet_id for e in items if not e.question}
    return next(e.flag_id for e in items if e.reason == "overvote" and e.sheet_id not in whole_sheet)


def _prefilled_comment(survey) -> int:
    """The flag id of an open comment to transcribe whose OCR text review prefills."""
    from pipeline.store.database import open_store

    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        flag_id = prefilled_comment_flag(conn)
    store.engine.dispose()
    assert flag_id is not None
    return flag_id


def _flag_id(page) -> int:
    return int(re.search(r"/item/(\d+)", page.url).group(1))


def test_keyboard_review_and_responses_follow(server, browser, run_phieu, tmp_path):
    url, survey = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, url, "Trần Thị Mai")
    assert page.locator("#reviewer-name").inner_text() == "Trần Thị Mai"
    reasons = page.locator("#reasons").inner_text()
    assert "Chọn nhiều hơn một" in reasons and "Ý kiến cần nhập lại" in reasons
    page.screenshot(path="/tmp/review-queue.png", full_page=True)

    # An overvote, decided with the keyboard: the option's key, then Enter. One on a sheet
    # with no whole-sheet flag (a duplicate holds every question of its sheet in `flagged`).
    page.goto(url + f"item/{_overvote_alone(survey)}?reason=overvote")
    first_item = _flag_id(page)
    serial = page.locator("#serial").inner_text()
    question = page.locator(".head h1 code").inner_text()
    page.wait_for_function("document.getElementById('crop').naturalWidth > 0")
    page.screenshot(path="/tmp/review-item.png", full_page=True)
    before = _responses(run_phieu, survey, tmp_path)[serial]
    assert before[question] == "" and question in before["flagged"].split("|")
    box = page.locator('input[name="code"]').nth(1)
    key, code = box.get_attribute("data-key"), box.get_attribute("value")
    page.keyboard.press(key)
    assert box.is_checked()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"/item/{first_item}" not in page.url  # on to the next item (or the queue)
    assert "Đã lưu quyết định" in page.content()
    after = _responses(run_phieu, survey, tmp_path)[serial]
    assert after[question] == code and question not in after["flagged"].split("|")

    # A comment to transcribe: the OCR text is prefilled; type over it and press Enter.
    page.goto(url + f"item/{_prefilled_comment(survey)}?reason=low_confidence")
    comment_item = _flag_id(page)
    comment_serial = page.locator("#serial").inner_text()
    assert page.input_value("#text") != ""
    page.screenshot(path="/tmp/review-comment.png", full_page=True)
    page.fill("#text", "Cán bộ tận tình, thủ tục còn chậm.")
    with page.expect_navigation():
        page.locator("#text").press("Enter")
    assert f"/item/{comment_item}" not in page.url and "Đã lưu quyết định" in page.content()
    assert _responses(run_phieu, survey, tmp_path)[comment_serial]["y_kien"] == \
        "Cán bộ tận tình, thủ tục còn chậm."

    # Undo the overvote decision with `u`: the answer goes back to waiting.
    page.goto(url + f"item/{first_item}")
    assert page.locator("#history").inner_text().count("Trần Thị Mai") == 1
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "Đã hoàn tác" in page.content()
    undone = _responses(run_phieu, survey, tmp_path)[serial]
    assert undone[question] == "" and question in undone["flagged"].split("|")

    # Arrows move along the queue.
    nxt = page.locator("#next").get_attribute("href")
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url.endswith(nxt)

    # English is a click away.
    with page.expect_navigation():
        page.click("#lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Back to the queue" in page.content()
    page.close()


def test_two_browsers_never_get_the_same_item(server, browser):
    url, _ = server
    first, second = browser.new_context(), browser.new_context()
    a, b = first.new_page(), second.new_page()
    _sign_in(a, url, "Mai")
    _sign_in(b, url, "Hùng")
    a.goto(url + "next")
    b.goto(url + "next")
    assert _flag_id(a) != _flag_id(b)
    # Hùng opening Mai's item sees who holds it and gets no decision form.
    b.goto(url + f"item/{_flag_id(a)}")
    assert "Mai" in b.locator("#taken").inner_text()
    assert b.locator("#decide").count() == 0
    b.screenshot(path="/tmp/review-taken.png", full_page=True)
    first.close()
    second.close()


def test_a_duplicate_is_rejected_with_r_then_enter(server, browser, run_phieu, tmp_path):
    url, survey = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, url, "Mai")
    page.goto(url + "next?reason=duplicate")
    serial = page.locator("#serial").inner_text()
    assert page.locator("#counted").count() == 1  # the copy that counts, to compare
    page.keyboard.press("r")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _responses(run_phieu, survey, tmp_path)[serial]["status"] == "rejected"
    page.close()
