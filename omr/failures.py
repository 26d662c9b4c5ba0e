"""Why a page could not be read, in words a clerk can act on.

Each `FailureReason` has one message, Vietnamese first, English second, saying
what is wrong and what to do; `failure` adds the specific detail (the value at
fault) so two failures of the same kind can still be told apart.
"""
from __future__ import annotations

import numpy as np

from forms.identity import PageIdentity
from omr.reading import FailureReason, PageFailure, PageQuality, PageReading

MESSAGES: dict[str, str] = {
    "not_an_image": (
        "Tệp không phải là ảnh đọc được; hãy quét lại trang này "
        "/ The file is not a readable image; scan this page again."
    ),
    "no_markers": (
        "Không tìm thấy dấu định vị ở góc trang, cũng không thấy mã QR của phiếu: không phải phiếu "
        "khảo sát, hoặc ảnh quá mờ; hãy kiểm tra trang và quét lại "
        "/ No corner markers and no phieu QR code found: not a survey page, or far too degraded; "
        "check the page and rescan."
    ),
    "too_few_markers": (
        "Chỉ thấy dưới 3 dấu định vị ở góc và không đọc được mã QR (góc bị gấp, rách hoặc bị che, "
        "ảnh chụp thiếu góc); hãy vuốt phẳng phiếu và quét hoặc chụp lại cả trang "
        "/ Fewer than 3 corner markers and no readable QR code (folded, torn or covered corners, "
        "a photo missing the corners); flatten the sheet and rescan or photograph the whole page."
    ),
    "bad_geometry": (
        "Nội dung in trên ảnh không khớp với mẫu phiếu (trang bị cong, gấp, ảnh chụp quá nghiêng, "
        "hoặc không phải trang phiếu này); hãy quét lại trang nằm phẳng "
        "/ The printed content does not line up with the form (bent, folded or too oblique, "
        "or not this form's page); rescan the page lying flat."
    ),
    "qr_unreadable": (
        "Không đọc được mã QR của phiếu; hãy quét lại, hoặc nhập số phiếu bằng tay khi duyệt "
        "/ QR code unreadable; rescan, or enter the serial by hand in review."
    ),
    "unknown_form": (
        "Mã QR thuộc một mẫu phiếu chưa có trong đợt khảo sát; hãy thêm mẫu phiếu đó "
        "hoặc loại trang này "
        "/ The QR code names a form this survey does not know; add that form or reject the page."
    ),
    "unknown_page": (
        "Mẫu phiếu không có trang số này; hãy kiểm tra phiên bản mẫu phiếu "
        "/ The form has no page with this number; check the form version."
    ),
}


def failure(
    reason: FailureReason,
    detail: str = "",
    *,
    identity: PageIdentity | None = None,
    quality: PageQuality | None = None,
    image: np.ndarray | None = None,
    reading: PageReading | None = None,
) -> PageFailure:
    """A `PageFailure` for `reason`, its message followed by `detail` if any."""
    message = MESSAGES[reason]
    if detail:
        message = f"{message} ({detail})"
    return PageFailure(reason, message, identity=identity, quality=quality, image=image, reading=reading)
