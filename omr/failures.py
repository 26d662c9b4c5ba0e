"""Why a page could not be read, in words a clerk can act on.

`FailureReason` names each reason once: the word a batch records (`pages.reason`, pages.csv)
and goes on. Each has one message, Vietnamese first, English second, saying
what is wrong and what to do; `failure` adds the specific detail (the value at
fault) so two failures of the same kind can still be told apart.
"""
from __future__ import annotations

from enum import StrEnum

import numpy as np

from forms.identity import PageIdentity
from omr.reading import PageFailure, PageQuality, PageReading


class FailureReason(StrEnum):
    NOT_AN_IMAGE = "not_an_image"  # the bytes do not decode to an image
    NO_MARKERS = "no_markers"  # no fiducial found: not a phieu page, or far too degraded
    TOO_FEW_MARKERS = "too_few_markers"  # fewer than three corners found: cannot register
    BAD_GEOMETRY = "bad_geometry"  # markers found but they do not form a plausible page
    QR_UNREADABLE = "qr_unreadable"  # registered, but the QR code could not be decoded
    UNKNOWN_FORM = "unknown_form"  # QR decoded, but the survey does not know this form/version
    UNKNOWN_PAGE = "unknown_page"  # the form has no such page number


MESSAGES: dict[FailureReason, str] = {
    FailureReason.NOT_AN_IMAGE: (
        "Tệp không phải là ảnh đọc được; hãy quét lại trang này "
        "/ The file is not a readable image; scan this page again."
    ),
    FailureReason.NO_MARKERS: (
        "Không tìm thấy dấu định vị ở góc trang, cũng không thấy mã QR của phiếu: không phải phiếu "
        "khảo sát, hoặc ảnh quá mờ; hãy kiểm tra trang và quét lại "
        "/ No corner markers and no phieu QR code found: not a survey page, or far too degraded; "
        "check the page and rescan."
    ),
    FailureReason.TOO_FEW_MARKERS: (
        "Chỉ thấy dưới 3 dấu định vị ở góc và không đọc được mã QR (góc bị gấp, rách hoặc bị che, "
        "ảnh chụp thiếu góc); hãy vuốt phẳng phiếu và quét hoặc chụp lại cả trang "
        "/ Fewer than 3 corner markers and no readable QR code (folded, torn or covered corners, "
        "a photo missing the corners); flatten the sheet and rescan or photograph the whole page."
    ),
    FailureReason.BAD_GEOMETRY: (
        "Nội dung in trên ảnh không khớp với mẫu phiếu (trang bị cong, gấp, ảnh chụp quá nghiêng, "
        "hoặc không phải trang phiếu này); hãy quét lại trang nằm phẳng "
        "/ The printed content does not line up with the form (bent, folded or too oblique, "
        "or not this form's page); rescan the page lying flat."
    ),
    FailureReason.QR_UNREADABLE: (
        "Không đọc được mã QR của phiếu; hãy quét lại, hoặc nhập số phiếu bằng tay khi duyệt "
        "/ QR code unreadable; rescan, or enter the serial by hand in review."
    ),
    FailureReason.UNKNOWN_FORM: (
        "Mã QR thuộc một mẫu phiếu chưa có trong đợt khảo sát; hãy thêm mẫu phiếu đó "
        "hoặc loại trang này "
        "/ The QR code names a form this survey does not know; add that form or reject the page."
    ),
    FailureReason.UNKNOWN_PAGE: (
        "Mẫu phiếu không có trang số này; hãy kiểm tra phiên bản mẫu phiếu "
        "/ The form has no page with this number; check the form version."
    ),
}


def failure(
    reason: FailureReason | str,
    detail: str = "",
    *,
    identity: PageIdentity | None = None,
    quality: PageQuality | None = None,
    image: np.ndarray | None = None,
    reading: PageReading | None = None,
) -> PageFailure:
    """A `PageFailure` for `reason`, its message followed by `detail` if any.

    `reason` may be given as its plain word (a `ValueError` if it is not a `FailureReason`),
    so a caller still spelling the word out gets the member all the same."""
    reason = FailureReason(reason)
    message = MESSAGES[reason]
    if detail:
        message = f"{message} ({detail})"
    return PageFailure(reason, message, identity=identity, quality=quality, image=image, reading=reading)
