"""The capture page (`/capture`): a phone's camera as the scanner.

A clerk opens `/capture` on the phone (same login as the review app), takes a photo of
a ballot, and gets at once what was stored: the sheet's serial, how many answers were
read and what waits for review, or why the photo could not be read and what to do,
with a button to take it again. Each photo is saved under the workspace's `captures/`
folder and scanned by `pipeline.scan.driver.scan` like any file (a photo is a source:
hashed, stored, flagged and exported as `phieu scan` would); the answer is read back
from the store (`pipeline.scan.source_report`), so the phone and the store cannot
disagree. The forms are prepared once, when the page is first opened, and kept.

Uploads need the session's CSRF token (header `X-CSRF-Token`, like any POST of the
app), are limited to `MAX_PHOTO_BYTES` and must be JPEG, PNG or WebP by their first
bytes. One photo is read at a time (two cores, one SQLite writer).
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for

from omr.failures import FailureReason
from pipeline.review import i18n
from pipeline.scan.driver import default_batch_name, scan
from pipeline.scan.source_report import PageReport, SourceReport, source_report
from pipeline.scan.templates import PreparedForms, prepare_forms
from pipeline.store.database import Store
from pipeline.store.survey import Survey, load_survey_forms
from pipeline.store.vocabulary import PageStatus, SourceStatus

# A 12-megapixel phone JPEG is 3-8 MB; chat apps send less. Twice the largest is room
# enough, and bounds what one request may make the server hold.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
# By content, not by the name or the type the browser claims.
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
CAPTURE_FOLDER = "captures"
# The paper is the brightest large thing in a photo of a page: when even the brightest
# tenth of the picture is under about a third of full scale, the page was photographed
# in too little light (the printed marks then lack the contrast to be found).
DARK_P90 = 90

# What went wrong with a photo and what to do, Vietnamese first (shown as the headline).
PROBLEMS: dict[str, str] = {
    "too_dark": "Ảnh quá tối: chụp ở chỗ sáng hơn, không để bóng che phiếu "
                "/ Too dark: take the photo in better light, without shadow on the page.",
    FailureReason.QR_UNREADABLE: "Không thấy mã QR trong ảnh: chụp cả trang, kể cả góc trên bên phải "
                     "/ The QR code is not in the picture: get the whole page in, top right corner included.",
    FailureReason.TOO_FEW_MARKERS: "Góc phiếu bị gấp, bị che hoặc nằm ngoài ảnh: vuốt phẳng góc và chụp cả trang "
                       "/ A corner is folded, covered or outside the picture: flatten it and get the whole page in.",
    FailureReason.BAD_GEOMETRY: "Phiếu bị cong hoặc chụp quá nghiêng: đặt phiếu phẳng, cầm máy thẳng phía trên "
                    "/ The page is bent or the photo too oblique: lay it flat, hold the phone straight above it.",
    FailureReason.NO_MARKERS: "Không thấy phiếu khảo sát trong ảnh (hoặc ảnh quá mờ): chụp cả trang phiếu, giữ máy yên "
                  "/ No survey page in the picture (or far too blurred): get the whole page in, hold still.",
    FailureReason.NOT_AN_IMAGE: "Tệp không phải ảnh đọc được: chụp lại / Not a readable picture: take it again.",
    FailureReason.UNKNOWN_FORM: "Phiếu thuộc mẫu không có trong đợt khảo sát này: để riêng và báo người phụ trách "
                    "/ This form is not part of the survey: set it aside and tell the person in charge.",
    FailureReason.UNKNOWN_PAGE: "Mẫu phiếu không có trang này: kiểm tra phiên bản phiếu "
                    "/ The form has no such page: check the form version.",
}

@dataclass
class CaptureState:
    """The survey's forms prepared once (in the background when the page is opened)
    and the lock that lets one photo be read at a time."""

    survey: Survey
    store: Store
    _prepared: PreparedForms | None = None
    _preparing: threading.Lock = field(default_factory=threading.Lock)
    reading: threading.Lock = field(default_factory=threading.Lock)

    def prepared(self) -> PreparedForms:
        with self._preparing:
            if self._prepared is None:
                self._prepared = prepare_forms(load_survey_forms(self.survey))
            return self._prepared

    def warm(self) -> None:
        """Prepare the forms in a background thread, if not done yet."""
        if self._prepared is None:
            threading.Thread(target=self.prepared, name="phieu-capture-warm", daemon=True).start()


def _state() -> CaptureState:
    state = current_app.extensions["phieu_capture"]
    assert isinstance(state, CaptureState)  # set by `capture_blueprint`
    return state


def _photo_suffix(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in PHOTO_TYPES.items() if data.startswith(magic)), None)


def too_dark(data: bytes) -> bool:
    """The photo is underexposed (see `DARK_P90`); False when it cannot be decoded."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if image is None or image.size == 0:
        return False
    return float(np.percentile(image, 90)) < DARK_P90


def _save(survey: Survey, data: bytes, sha: str, suffix: str) -> Path:
    """The photo under `captures/<day>/`, named by time and content (kept as sent)."""
    now = datetime.now()  # once: the file's time and its day folder agree, even at midnight
    folder = survey.root / CAPTURE_FOLDER / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    same = next(folder.glob(f"*-{sha[:16]}{suffix}"), None)
    if same is not None:
        return same
    path = folder / f"{now.strftime('%H%M%S')}-{sha[:16]}{suffix}"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _flag_view(page: PageReport, lang: str) -> list[dict[str, Any]]:
    return [{"reason": f.reason, "label": i18n.reason_label(f.reason, lang), "question": f.question or ""}
            for f in page.flags]


def page_answer(page: PageReport, photo: bytes, lang: str) -> dict[str, Any]:
    """What the phone shows for one stored page: `ok`, a headline, details, flags."""
    answer: dict[str, Any] = {
        "status": page.status, "serial": page.serial, "form": page.form, "page": page.page_number,
        "answered": page.answered, "questions": page.questions, "flags": _flag_view(page, lang),
        "image": url_for("page_image", page_id=page.page_id) if page.has_image else None,
    }
    if page.status == PageStatus.READ:
        waiting = len(page.flags)
        answer["ok"] = True
        answer["headline"] = (f"Đã đọc phiếu số {page.serial}: {page.answered}/{page.questions} câu "
                              f"/ Sheet {page.serial} read: {page.answered} of {page.questions} answers")
        answer["detail"] = (f"{waiting} mục cần duyệt / {waiting} item(s) to review" if waiting
                            else "Không có gì cần duyệt / nothing to review")
    elif page.status == PageStatus.DUPLICATE:
        answer["ok"] = False
        answer["headline"] = (f"Phiếu số {page.serial} đã được đọc trước đó: ảnh này không được tính "
                              f"/ Sheet {page.serial} was already read: this photo is not counted")
        answer["detail"] = ("Bản trùng chờ người duyệt quyết định / the duplicate waits for a reviewer; "
                            "chụp phiếu tiếp theo / go on with the next ballot")
    else:
        answer["ok"] = False
        key = "too_dark" if too_dark(photo) else page.reason
        answer["headline"] = PROBLEMS.get(key) or page.message
        answer["detail"] = page.message if key in PROBLEMS else ""
        answer["problem"] = key
    return answer


def capture_page() -> Any:
    _state().warm()
    return render_template("capture.html", max_mb=MAX_PHOTO_BYTES // (1024 * 1024))


def _error(status: int, headline: str) -> Any:
    return jsonify({"ok": False, "status": "refused", "headline": headline}), status


def capture_photo() -> Any:
    started = time.perf_counter()
    upload = request.files.get("photo")
    data = upload.read(MAX_PHOTO_BYTES + 1) if upload is not None else b""
    if not data:
        return _error(400, "Không có ảnh / no photo was sent")
    if len(data) > MAX_PHOTO_BYTES:
        return _error(413, "Ảnh quá lớn / the photo is too large")
    suffix = _photo_suffix(data)
    if suffix is None:
        return _error(415, "Chỉ nhận ảnh JPEG, PNG hoặc WebP / only JPEG, PNG or WebP photos")
    state = _state()
    survey = state.survey
    sha = hashlib.sha256(data).hexdigest()
    prepared = state.prepared()
    with state.reading:
        with state.store.engine.connect() as conn:
            before = source_report(conn, sha)
        sent_before = before is not None and before.status == SourceStatus.COMPLETE
        if not sent_before:
            path = _save(survey, data, sha, suffix)
            scan(survey, [path], batch=f"{default_batch_name()}-phone", jobs=1, prepared=prepared,
                 store=state.store)
        with state.store.engine.connect() as conn:
            report = source_report(conn, sha)
    return jsonify(_answer(report, data, sent_before, time.perf_counter() - started))


def _answer(report: SourceReport | None, data: bytes, sent_before: bool, seconds: float) -> dict[str, Any]:
    lang = g.get("lang", "vi")
    if report is None or not report.pages:
        return {"ok": False, "status": PageStatus.FAILED, "headline": PROBLEMS[FailureReason.NOT_AN_IMAGE],
                "seconds": seconds}
    answer = page_answer(report.pages[0], data, lang)
    if sent_before:
        answer["ok"] = False
        answer["status"] = "sent_before"
        answer["detail"] = ("Ảnh này đã gửi trước đó, không tính lại / this photo was sent before "
                            "and is not counted again. " + str(answer.get("detail", ""))).strip()
    answer["seconds"] = round(seconds, 3)
    return answer


def capture_blueprint(survey: Survey, store: Store) -> Blueprint:
    """The blueprint of `/capture`; `create_app` registers it."""
    here = Path(__file__).parent
    bp = Blueprint("capture", __name__, template_folder=str(here / "templates"))

    @bp.record_once
    def _keep_state(setup: Any) -> None:
        setup.app.extensions["phieu_capture"] = CaptureState(survey, store)

    @bp.url_value_preprocessor
    def _allow_photo_size(endpoint: str | None, _values: Any) -> None:
        # Runs before the app's guard, which reads the form (for the CSRF token) and would
        # refuse a photo under the app-wide 64 kB limit.
        if endpoint == "capture.capture_photo":
            request.max_content_length = MAX_PHOTO_BYTES + 64 * 1024

    bp.add_url_rule("/capture", "capture_page", capture_page, methods=["GET"])
    bp.add_url_rule("/capture/photo", "capture_photo", capture_photo, methods=["POST"])
    return bp
