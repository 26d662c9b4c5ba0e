"""The capture page on a phone-sized browser (Playwright driving Debian's chromium,
headless): a good photo, a photo with the QR code cut off, and another photo of a page
already read; what the page says for each, and that the store holds the same."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

try:
    from tests.capture_support import make_photos
    from tests.review_support import review_server
except ImportError:
    from capture_support import make_photos
    from review_support import review_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return make_photos(tmp_path_factory.mktemp("capture-photos"))


@pytest.fixture
def server(tmp_path):
    from pipeline.store.survey import init_survey

    survey = init_survey(tmp_path / "ws", ["mot-cua"])
    with review_server(survey) as url:
        yield url, survey




def _send(page, photo: Path, n: int):
    """Choose `photo` as if just taken; wait for the n-th answer; return its card."""
    page.set_input_files("#photo", str(photo))
    card = page.locator(f"#results > li:nth-last-child({n})")  # the newest is on top
    # A selector, not a JS predicate: the page's CSP (no eval) holds in the test too.
    page.locator(f"#results > li:nth-last-child({n}):not(.pending)").wait_for(timeout=60000)
    return card


def _stored(survey) -> list[tuple[str, str, int | None]]:
    from pipeline.store import schema
    from pipeline.store.database import open_store

    p = schema.pages
    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(p.c.status, p.c.reason, p.c.serial).order_by(p.c.id)).all()
    store.engine.dispose()
    return [(r.status, r.reason or "", r.serial) for r in rows]


def _open_flags(survey) -> list[str]:
    from pipeline.store import schema
    from pipeline.store.database import open_store

    f = schema.flags
    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        reasons = conn.execute(sa.select(f.c.reason).where(f.c.status == "open").order_by(f.c.id)).scalars()
        out = list(reasons)
    store.engine.dispose()
    return out


def test_photos_from_a_phone_are_read_and_stored(server, browser, photos, tmp_path):
    url, survey = server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url)
    page.fill("#reviewer-input", "Lan")  # the queue asks the clerk's name first
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with page.expect_navigation():
        page.click("#to-capture")  # linked from the queue
    assert page.url.endswith("/capture")
    assert page.locator("#photo").get_attribute("accept") == "image/*"
    assert page.locator("#photo").get_attribute("capture") is not None  # opens the camera
    assert page.locator("#take").is_visible() and "Chụp phiếu" in page.locator("#take").inner_text()
    # Fits a phone's width: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    good = _send(page, photos.good, 1)
    assert f"Đã đọc phiếu số {photos.serial}" in good.locator(".headline").inner_text()
    assert good.get_attribute("data-status") == "read"
    assert good.locator("button.again").count() == 0
    image = good.locator("img")
    for _ in range(100):
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert image.evaluate("img => img.naturalWidth") > 0  # the stored page, shown back
    assert _stored(survey) == [("read", "", photos.serial)]
    page.screenshot(path="/tmp/capture-good.png", full_page=True)

    cut = _send(page, photos.qr_cut, 2)
    assert "Không thấy mã QR trong ảnh" in cut.locator(".headline").inner_text()
    assert "QR code is not in the picture" in cut.locator(".headline").inner_text()
    assert cut.locator("button.again").is_visible()  # take it again
    assert _stored(survey)[1] == ("failed", "qr_unreadable", None)
    assert "unreadable" in _open_flags(survey)
    page.screenshot(path="/tmp/capture-qr-cut.png", full_page=True)

    again = _send(page, photos.again, 3)
    text = again.locator(".headline").inner_text()
    assert f"Phiếu số {photos.serial} đã được đọc trước đó" in text and "not counted" in text
    assert again.get_attribute("data-status") == "duplicate"
    assert _stored(survey)[2] == ("duplicate", "duplicate_serial", photos.serial)
    assert "duplicate" in _open_flags(survey)

    # The very same picture sent twice is one source: told, not stored again.
    same = _send(page, photos.good, 4)
    assert "đã gửi trước đó" in same.locator(".detail").inner_text()
    assert len(_stored(survey)) == 3
    captured = sorted(p.name for p in (survey.root / "captures").rglob("*") if p.is_file())
    assert len(captured) == 3
    page.screenshot(path="/tmp/capture-phone.png", full_page=True)

    # The retake button opens the file chooser (the camera on a phone) again.
    with page.expect_file_chooser() as chooser:
        cut.locator("button.again").click()
    assert chooser.value.element.get_attribute("id") == "photo"
    context.close()
