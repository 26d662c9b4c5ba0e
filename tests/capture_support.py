"""Phone photos for the capture tests: a good one, one with the QR code cut off (the
page's top right corner out of the picture), and another photo of a page already sent."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SEEDS = (5, 7, 13, 19)


@dataclass(frozen=True)
class Photos:
    good: Path  # sheet 1, reads
    qr_cut: Path  # sheet 2 with the top right corner (QR code and its marker) outside
    again: Path  # sheet 1 photographed again (other bytes, same sheet)
    dark: Path  # sheet 2 in far too little light
    serial: int  # of `good`


def _page_to_frame(corners_px: list[list[float]]) -> np.ndarray:
    from forms.geometry import PAGE_SIZE_MM

    w, h = PAGE_SIZE_MM
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(src, np.array(corners_px, np.float32))


def cut_top_right(photo: np.ndarray, corners_px: list[list[float]], qr_bbox_mm: tuple) -> np.ndarray:
    """The photo with everything beyond a line across the page's top right corner replaced
    by the desk, as when that corner falls outside the picture: the line runs from the top
    edge 5 mm left of the QR code to the right edge 5 mm below it."""
    from forms.geometry import PAGE_SIZE_MM

    x, y, w, h = qr_bbox_mm
    to_frame = _page_to_frame(corners_px)
    pts = cv2.perspectiveTransform(np.array([[[x - 5, 0.0], [PAGE_SIZE_MM[0], y + h + 5],
                                              [PAGE_SIZE_MM[0], 0.0]]], np.float32), to_frame)[0]
    a, b, corner = pts
    ys, xs = np.mgrid[0:photo.shape[0], 0:photo.shape[1]]
    side = (b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0])
    corner_side = (b[0] - a[0]) * (corner[1] - a[1]) - (b[1] - a[1]) * (corner[0] - a[0])
    out = photo.copy()
    out[np.sign(side) == np.sign(corner_side)] = photo[5, 5]  # the desk, from the frame's corner
    return out


def make_photos(root: Path) -> Photos:
    """Photos from the first seed of `SEEDS` whose sheet 1 photo reads."""
    from fixtures.box import make_ballot_box
    from forms.layout import layout_form
    from forms.library import load_form
    from omr import decode_image, read_page
    from pipeline.scan.templates import prepare_templates

    form = load_form("mot-cua")
    catalog = prepare_templates([form])
    qr = layout_form(form).pages[0].geometry.qr_bbox_mm
    for seed in SEEDS:
        box = root / f"box-{seed}"
        make_ballot_box("mot-cua", 2, box, seed=seed, mix={"phone": 1.0}, formats=("images",),
                        comment_rate=0.0)
        truth = json.loads((box / "truth.json").read_text(encoding="utf-8"))
        files = {p["serial"]: (box / p["file"], p["params"]["corners_px"]) for p in truth["pages"]}
        good, _ = files[1]
        if not read_page(decode_image(good.read_bytes()), catalog, ocr=False):
            continue
        second, corners = files[2]
        photo = cv2.imread(str(second))
        cut = root / "qr-cut.jpg"
        cv2.imwrite(str(cut), cut_top_right(photo, corners, qr), [cv2.IMWRITE_JPEG_QUALITY, 85])
        again = root / "again.jpg"  # the same sheet, another shot: re-encoded, slightly smaller
        first = cv2.imread(str(good))
        cv2.imwrite(str(again), cv2.resize(first, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA),
                    [cv2.IMWRITE_JPEG_QUALITY, 80])
        dark = root / "dark.jpg"
        cv2.imwrite(str(dark), (photo.astype(np.float32) * 0.12).astype(np.uint8),
                    [cv2.IMWRITE_JPEG_QUALITY, 85])
        return Photos(good, cut, again, dark, 1)
    raise AssertionError(f"no seed of {SEEDS} gives a phone photo of sheet 1 that reads")
