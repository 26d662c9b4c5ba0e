"""Which answer areas the capture actually shows.

Three markers are enough to register a page, so a phone photo may leave a strip
of the page outside the frame. `register` warps that strip as white paper, where
every target would score as empty: a mark there would be lost without a word.
`outside_capture` finds the questions any of whose areas fall outside the input
image, so that `omr.read_page` flags them (`off_page`) instead of reading them.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from forms.geometry import BBox
from omr.template import CANON_PX_PER_MM

# Around a target, what its score can look at: the snap search and, for a digit,
# the ring a person circles it with (within ~3.5 mm of the digit's centre).
TARGET_REACH_MM = 4.0


def _corners_px(bbox: BBox, margin_mm: float) -> np.ndarray:
    x, y, w, h = bbox
    x0, y0, x1, y1 = x - margin_mm, y - margin_mm, x + w + margin_mm, y + h + margin_mm
    # Canonical pixel centres sit at +0.5 px (see `omr.register._fit`).
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) * CANON_PX_PER_MM - 0.5


def area_in_image(bbox: BBox, margin_mm: float, homography: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether the page area `bbox` (mm, plus `margin_mm` around it) lies wholly
    inside an input image of `shape`, given `homography` (input px -> canonical px).

    The area's corners are mapped back into the input; the area is a convex
    quadrilateral there, so it is inside the (convex) image when its corners are.
    """
    corners = _corners_px(bbox, margin_mm)
    ones = np.ones((4, 1))
    back = (np.linalg.inv(homography) @ np.hstack([corners, ones]).T).T
    if np.any(back[:, 2] <= 0):  # behind the camera: nowhere in the image
        return False
    xy = back[:, :2] / back[:, 2:3]
    h, w = shape[:2]
    return bool(np.all((xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)))


def outside_capture(
    areas: Iterable[tuple[str, BBox, float]], homography: np.ndarray, shape: tuple[int, ...]
) -> frozenset[str]:
    """The question ids of `areas` ((question, bbox_mm, margin_mm), ...) with at
    least one area not wholly inside the input image."""
    return frozenset(
        question for question, bbox, margin in areas
        if not area_in_image(bbox, margin, homography, shape)
    )
