"""The pictures a reviewer sees: the paper around a question, with the targets outlined
and their scores written beside them, cut from the stored page image.

The stored page image is the *registered* page (`pages.image_registered`), at
`pages.image_px_per_mm`, its origin the paper's top-left corner: a target's `bbox_mm`
(from `forms`, the one source of geometry) times the scale is where it is in the image,
plus the offset the reader's local search found.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from forms.layout import CONTENT_LEFT, CONTENT_RIGHT
from pipeline.review.errors import ReviewError
from pipeline.review.items import TargetView

ZOOM = 2.0  # the crop is enlarged so a thin tick and the outline stay visible
MARGIN_ABOVE_MM = 9.0  # the question's text usually sits just above its boxes
MARGIN_BELOW_MM = 4.0
TEXT_MARGIN_MM = 3.0
# Around a neighbour's box (another question's target shown beside a `between` item):
# its outline (1.6 mm out round a digit) and the label written above it.
NEIGHBOUR_MARGIN_MM = 4.0
NEIGHBOUR_COLOUR = (150, 150, 150)
# BGR outline colours by target state: marked red, marginal orange, empty grey-blue.
COLOURS = {"marked": (40, 40, 220), "marginal": (0, 140, 255), "empty": (170, 140, 90)}


def inside(path: Path, folder: Path) -> bool:
    """True when `path`, resolved (symlinks followed), lies inside `folder`."""
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except OSError:
        return False


def safe_image_path(root: Path, images_dir: Path, stored: str | None) -> Path:
    """The file a stored (workspace-relative) image path names, refused unless it lies
    inside the survey's image folder and exists. Raises `ReviewError`."""
    if not stored:
        raise ReviewError("Không có ảnh / no image stored for this item")
    path = (Path(root) / stored)
    if not inside(path, images_dir) or not path.resolve().is_file():
        raise ReviewError(f"Ảnh không thuộc khảo sát / image outside the survey's image "
                          f"folder or missing: {stored}")
    return path.resolve()


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ReviewError("Không mã hóa được ảnh / PNG encoding failed")
    return buf.tobytes()


def _load(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ReviewError(f"Không đọc được ảnh / cannot read image {path.name}",
                          "the image file is damaged; rescan the page")
    return image


def _extent(t: TargetView) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in mm of a target where the reader found it."""
    x, y, w, h = t.bbox_mm
    return x + t.offset_mm[0], y + t.offset_mm[1], x + t.offset_mm[0] + w, y + t.offset_mm[1] + h


def crop_region(targets: Sequence[TargetView], text_bbox: tuple | None,
                neighbours: Sequence[TargetView] = ()) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in mm of the crop: the question's line across the content width,
    from the text above its targets to just below them; with `neighbours` (a mark between
    this question's targets and another's) grown to hold their boxes too."""
    if targets:
        own = [_extent(t) for t in targets]
        x0 = min(CONTENT_LEFT - 3.0, min(e[0] for e in own) - 3.0)
        y0 = min(e[1] for e in own) - MARGIN_ABOVE_MM
        x1 = max(CONTENT_RIGHT + 3.0, max(e[2] for e in own) + 3.0)
        y1 = max(e[3] for e in own) + MARGIN_BELOW_MM
        for e in (_extent(t) for t in neighbours if t.bbox_mm[2] > 0):
            x0, y0 = min(x0, e[0] - NEIGHBOUR_MARGIN_MM), min(y0, e[1] - NEIGHBOUR_MARGIN_MM)
            x1, y1 = max(x1, e[2] + NEIGHBOUR_MARGIN_MM), max(y1, e[3] + NEIGHBOUR_MARGIN_MM)
        return x0, y0, x1, y1
    if text_bbox is not None:
        x, y, w, h = text_bbox
        return (x - TEXT_MARGIN_MM, y - MARGIN_ABOVE_MM, x + w + TEXT_MARGIN_MM,
                y + h + TEXT_MARGIN_MM)
    raise ReviewError("Không có vùng để cắt / nothing to crop for this item")


def _outline(image: np.ndarray, t: TargetView, origin: tuple[float, float], scale: float,
             neighbour: bool = False) -> None:
    x, y, w, h = t.bbox_mm
    grow = 1.6 if t.shape == "digit" else 0.6  # a circle goes around the digit
    x0 = (x + t.offset_mm[0] - grow - origin[0]) * scale
    y0 = (y + t.offset_mm[1] - grow - origin[1]) * scale
    x1, y1 = x0 + (w + 2 * grow) * scale, y0 + (h + 2 * grow) * scale
    # Another question's target is drawn thin and grey with its score only (its row's
    # printed text is in the crop): it shows where the mark may belong, it is not picked.
    colour = NEIGHBOUR_COLOUR if neighbour else COLOURS.get(t.state, (120, 120, 120))
    cv2.rectangle(image, (round(x0), round(y0)), (round(x1), round(y1)), colour,
                  1 if neighbour else 2)
    name = "" if neighbour else f"[{t.key}] "
    label = f"{name}{t.score:.2f}" if t.score is not None else name.strip()
    cv2.putText(image, label, (round(x0), max(12, round(y0) - 5)), cv2.FONT_HERSHEY_SIMPLEX,
                0.5, colour, 1, cv2.LINE_AA)


def item_crop(page_image: Path, px_per_mm: float, targets: Sequence[TargetView],
              text_bbox: tuple | None = None, neighbours: Sequence[TargetView] = ()) -> bytes:
    """PNG of the paper around a question: targets outlined (colour = state) with
    their key and score, or the comment field with a margin; `neighbours` (other
    questions' targets a mark may belong to) inside it too, outlined in grey.
    `page_image` is a registered page at `px_per_mm`."""
    if px_per_mm <= 0:
        raise ReviewError(f"Tỉ lệ ảnh không hợp lệ / bad image scale {px_per_mm}")
    image = _load(page_image)
    x0, y0, x1, y1 = crop_region(targets, text_bbox, neighbours)
    h, w = image.shape
    c0, r0 = max(0, int(x0 * px_per_mm)), max(0, int(y0 * px_per_mm))
    c1, r1 = min(w, int(np.ceil(x1 * px_per_mm))), min(h, int(np.ceil(y1 * px_per_mm)))
    if c1 <= c0 or r1 <= r0:
        raise ReviewError("Vùng cắt nằm ngoài ảnh / the crop falls outside the page image")
    crop = cv2.resize(image[r0:r1, c0:c1], None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_CUBIC)
    crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    origin = (c0 / px_per_mm, r0 / px_per_mm)
    for t in targets:
        if t.bbox_mm[2] > 0:
            _outline(crop, t, origin, px_per_mm * ZOOM)
    for t in neighbours:
        if t.bbox_mm[2] > 0:
            _outline(crop, t, origin, px_per_mm * ZOOM, neighbour=True)
    return _png(crop)
