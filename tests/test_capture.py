"""The capture page without a browser: the same login and CSRF token as decisions,
uploads limited by type and size, and a photo's answer in plain words."""
from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from pipeline.review.app import create_app
from pipeline.review.capture import MAX_PHOTO_BYTES, PROBLEMS, page_answer, too_dark
from pipeline.review.items import build_form_catalog
from pipeline.scan.source_report import FlagNote, PageReport
from pipeline.store.database import open_store
from pipeline.store.survey import init_survey, load_survey_forms

pytestmark = pytest.mark.slow  # photos scanned through the app


@pytest.fixture
def app(tmp_path):
    survey = init_survey(tmp_path / "ws", ["mot-cua"])
    store = open_store(survey.store_url)
    return create_app(survey, store, build_form_catalog(load_survey_forms(survey)),
                      password="mat-khau-dai")


def _login(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"password": "mat-khau-dai", "csrf": token}).status_code == 302
    # The login renews the session and its CSRF token: the new one is on every page.
    after = client.get("/capture").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', after).group(1)


def _jpeg(shade: int = 240) -> bytes:
    return cv2.imencode(".jpg", np.full((400, 300, 3), shade, np.uint8))[1].tobytes()


def _post(client, data: bytes, token: str | None, name: str = "p.jpg"):
    from io import BytesIO

    headers = {"X-CSRF-Token": token} if token else {}
    return client.post("/capture/photo", data={"photo": (BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def test_the_capture_page_needs_the_login_and_the_csrf_token(app):
    client = app.test_client()
    assert client.get("/capture", headers={"Accept": "text/html"}).status_code == 302  # to login
    assert _post(client, _jpeg(), None).status_code in (401, 403)
    token = _login(client)
    page = client.get("/capture")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'accept="image/*"' in html and "capture=" in html and f'data-csrf="{token}"' in html
    assert _post(client, _jpeg(), None).status_code == 403
    assert _post(client, _jpeg(), "wrong").status_code == 403


def test_the_capture_page_speaks_the_language_of_the_review_app(app):
    client = app.test_client()
    _login(client)
    assert "Chụp phiếu" in client.get("/capture").get_data(as_text=True)
    with client.session_transaction() as s:
        s["lang"] = "en"
    english = client.get("/capture").get_data(as_text=True)
    assert "Photograph ballots" in english and "Back to the review queue" in english
    assert "capture_" not in english  # every key has its text


def test_uploads_are_limited_by_type_and_size(app):
    client = app.test_client()
    token = _login(client)
    refused = _post(client, b"<html>not a photo</html>", token, "p.jpg")
    assert refused.status_code == 415 and "JPEG" in refused.get_json()["headline"]
    assert _post(client, b"", token).status_code == 400
    huge = b"\xff\xd8\xff" + b"\0" * (MAX_PHOTO_BYTES + 128 * 1024)
    assert _post(client, huge, token).status_code == 413
    # Other POSTs keep the app's small limit.
    assert client.post("/lang", data={"csrf": token, "pad": "x" * 100_000}).status_code == 413
    assert not (app.extensions["phieu_capture"].survey.root / "captures").exists()


def test_a_picture_of_no_ballot_is_stored_and_explained(app):
    client = app.test_client()
    token = _login(client)
    answer = _post(client, _jpeg(), token).get_json()
    assert answer["ok"] is False and answer["status"] == "failed"
    assert answer["headline"] == PROBLEMS["no_markers"]
    from pipeline.outputs.export import pages_csv_frame

    pages = pages_csv_frame(open_store(app.extensions["phieu_capture"].survey.store_url))
    assert list(pages["status"]) == ["failed"] and list(pages["reason"]) == ["no_markers"]


def test_a_failure_in_a_dark_photo_says_too_dark(app):
    dark, bright = _jpeg(40), _jpeg(235)
    assert too_dark(dark) and not too_dark(bright)
    failed = PageReport(1, 1, "failed", "too_few_markers", "…", None, None, None, None, 0, 0,
                        (FlagNote("unreadable", None, "…"),), None, False)
    with app.test_request_context():
        assert page_answer(failed, dark, "vi")["headline"].startswith("Ảnh quá tối")
        corner = page_answer(failed, bright, "vi")["headline"]
        assert corner.startswith("Góc phiếu bị gấp") and "corner is folded" in corner
