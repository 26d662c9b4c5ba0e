"""Identification: the page's QR code -> form, version, page number and serial.

The code is decoded from a small crop warped out of the full-resolution input
at the QR's expected place (fast, and upright, so no rotation search); when
that fails the whole input is searched. zxing-cpp is used: on our scanned
pages it and OpenCV's QRCodeDetector both read every code, but zxing-cpp took
0.3 ms on the crop (OpenCV 7.6 ms) and 7.5 ms on a whole 200 dpi page (OpenCV
157 ms), measured by `benchmarks/read_speed.py` (figures in BENCHMARKS.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from forms.geometry import BBox
from forms.identity import PageIdentity, decode_payload
from omr.failures import FailureReason, failure
from omr.reading import PageFailure
from omr.register import Registration, warp_region
from omr.template import CANON_PX_PER_MM

# White margin taken around the QR's printed box (its quiet zone plus slack
# for a registration a few px off).
QR_MARGIN_MM = 4.0
# Scale of the QR crop: ~8 px/mm gives 5+ px per module for our payloads
# while staying a small image; never finer than the input itself.
QR_CROP_PX_PER_MM = 8.0
# The whole-image fallback searches a copy at most this large.
FALLBACK_LONG_SIDE_PX = 2400
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _decode(image: np.ndarray, *, fast: bool) -> tuple[PageIdentity | None, list[str]]:
    """The first valid phieu identity among the QR codes in `image`, and every
    QR text seen (for the failure message)."""
    results = zxingcpp.read_barcodes(
        image,
        formats=QR_ONLY,
        try_rotate=not fast,
        try_downscale=True,
        try_invert=not fast,
    )
    texts = [r.text for r in results]
    for text in texts:
        identity = decode_payload(text)
        if identity is not None:
            return identity, texts
    return None, texts


@dataclass(frozen=True)
class QrFound:
    """A phieu QR code found anywhere in the input: its identity and its four
    corners (input px) in the symbol's own order (top-left, top-right,
    bottom-right, bottom-left as printed), whatever way the page lies."""

    identity: PageIdentity
    corners: np.ndarray = field(repr=False, compare=False)


def locate_qr(grey: np.ndarray) -> QrFound | None:
    """The first phieu QR code in the whole of `grey` (searched on a copy at
    most `FALLBACK_LONG_SIDE_PX` long, rotations and inversion tried), with
    where it lies: the QR code's place on the page is in the layout, so its
    corners register the page when the markers cannot."""
    scale = min(1.0, FALLBACK_LONG_SIDE_PX / max(grey.shape))
    whole = grey if scale >= 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    soft = cv2.GaussianBlur(whole, (0, 0), 1.5)
    # a shaken photo's code may need the unsharp-masked copy (see `_sharpened`)
    for image in (whole, cv2.addWeighted(whole, 2.0, soft, -1.0, 0)):
        results = zxingcpp.read_barcodes(
            image, formats=QR_ONLY, try_rotate=True, try_downscale=True, try_invert=True,
        )
        for r in results:
            identity = decode_payload(r.text)
            if identity is None:
                continue
            p = r.position
            pts = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                            [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float64)
            return QrFound(identity, pts / min(1.0, scale))
    return None


def _sharpened(crop: np.ndarray) -> list[np.ndarray]:
    """Harder tries for a blurred code (a phone's shake smears the modules):
    unsharp-masked, and enlarged first. Only tried after the plain crop fails;
    the payload's check character still guards what they decode."""
    big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    out = []
    for image in (crop, big):
        for amount in (1.0, 2.0):
            soft = cv2.GaussianBlur(image, (0, 0), 1.5 * amount)
            out.append(cv2.addWeighted(image, 1 + amount, soft, -amount, 0))
    return out


def qr_crop(grey: np.ndarray, registration: Registration, qr_bbox_mm: BBox) -> np.ndarray:
    """The upright QR area of the input (with its quiet zone), from the
    full-resolution `grey`, at `QR_CROP_PX_PER_MM` (never finer than the input)."""
    scale = min(QR_CROP_PX_PER_MM, max(CANON_PX_PER_MM, registration.quality.scale_px_per_mm))
    return warp_region(grey, registration.homography, qr_bbox_mm, scale, QR_MARGIN_MM)


def identify(
    grey: np.ndarray, registration: Registration | None, qr_boxes_mm: Sequence[BBox] = ()
) -> PageIdentity | PageFailure:
    """Decode the page's QR code and check its payload (check character
    included, via `forms.identity.decode_payload`).

    `qr_boxes_mm` are the places the known forms print their QR code
    (`Catalog.qr_boxes`, usually one); with a `registration` the code is first
    read from those crops, then from the whole of `grey`. Returns the
    `PageIdentity` or a falsy `PageFailure("qr_unreadable")` naming what was
    seen.
    """
    if registration is not None:
        crops = [qr_crop(grey, registration, box) for box in qr_boxes_mm]
        for crop in crops:
            identity, _ = _decode(crop, fast=True)
            if identity is not None:
                return identity
        for crop in crops:
            for variant in _sharpened(crop):
                identity, _ = _decode(variant, fast=True)
                if identity is not None:
                    return identity
    scale = min(1.0, FALLBACK_LONG_SIDE_PX / max(grey.shape))
    whole = grey if scale >= 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    identity, texts = _decode(whole, fast=False)
    if identity is not None:
        return identity
    if texts:
        shown = "; ".join(repr(t[:40]) for t in texts[:2])
        detail = f"mã QR không phải của phiếu hoặc sai số kiểm tra / not a phieu code or bad check character: {shown}"
    else:
        detail = "không thấy mã QR / no QR code found"
    image = registration.image if registration is not None else None
    quality = registration.quality if registration is not None else None
    return failure(FailureReason.QR_UNREADABLE, detail, quality=quality, image=image)
