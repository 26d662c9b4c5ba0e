"""The darkness of this page's black, from the solid print the picture shows.

New ink is measured against the page's own black (`omr.score.PageInk.ink_ref`):
a washed-out photo's pen is as faint as its print. `omr.score.ink_reference`
takes it from the four corner markers. A page registered on fewer markers (a
tight frame, corners out of the picture or folded, markers that were never
printed) shows something else where a missing marker should be: blank paper
(the reference fell to the washed-out floor, 0.4, every new darkness was read
2.5 times too dark, and the faint ruling of an empty comment box became
"writing"), or the picture's edge repeated by the warp (any value at all).

Here the reference is taken from the black print the registration actually
saw: the markers it found and the QR code it read.
"""
from __future__ import annotations

import numpy as np

from forms.geometry import MARKER_IDS, BBox, marker_bbox
from omr.register import Registration
from omr.score import (
    BACKGROUND_STEP,
    PageInk,
    estimate_blur,
    ink_reference,
    page_ink,
    paper_level,
)
from omr.template import mm_to_px

# The percentile of an area's darkness that is its black: a marker is half
# solid black (as `omr.score.ink_reference`); in a QR code the solid black
# that a phone's blur leaves black is the finder patterns' cores, a few per
# cent of it, the rest small modules the blur greys. On the tight photos of
# the issue-11 deck (seed 21) the QR code's 95th percentile is within 0.05
# of the markers' reference; its 75th percentile fell to 0.75.
MARKER_PERCENTILE = 75.0
QR_PERCENTILE = 95.0
# A washed-out photo's black is not lighter than this (as `omr.score.ink_reference`).
MIN_INK_REF, MAX_INK_REF = 0.4, 1.0


def page_ink_in_view(page: np.ndarray, blank: np.ndarray, registration: Registration, qr_bbox_mm: BBox) -> PageInk:
    """`omr.score.page_ink` of the registered `page`, its black measured on the
    solid print in view: all four markers when all were found (the score's own
    estimate, unchanged), otherwise the markers found and the QR code."""
    if set(registration.markers) >= set(MARKER_IDS):
        return page_ink(page, blank)
    paper = paper_level(page)
    areas = [(marker_bbox(corner), MARKER_PERCENTILE) for corner in registration.markers]
    ink_ref = black_of(page, paper, areas + [(qr_bbox_mm, QR_PERCENTILE)])
    return PageInk(paper, ink_ref, estimate_blur(page, blank, paper, ink_ref))


def black_of(page: np.ndarray, paper: np.ndarray, areas: list[tuple[BBox, float]]) -> float:
    """The darkness of solid black on the registered `page`, from `areas`
    ((bbox mm, the percentile of its darkness that is its black), ...): the
    median of the areas' estimates (one covered by a thumb does not decide),
    darkness taken against the paper level at each area's centre, within a
    washed-out photo's floor."""
    estimates = []
    for (x, y, w, h), percentile in areas:
        x0, y0 = max(0, mm_to_px(x)), max(0, mm_to_px(y))
        x1, y1 = min(page.shape[1], mm_to_px(x + w)), min(page.shape[0], mm_to_px(y + h))
        if x1 <= x0 or y1 <= y0:
            continue
        level = paper[min((y0 + y1) // 2 // BACKGROUND_STEP, paper.shape[0] - 1),
                      min((x0 + x1) // 2 // BACKGROUND_STEP, paper.shape[1] - 1)]
        dark = 1.0 - page[y0:y1, x0:x1].astype(np.float32) / level
        estimates.append(float(np.percentile(dark, percentile)))
    if not estimates:
        return ink_reference(page, paper)
    return float(np.clip(np.median(estimates), MIN_INK_REF, MAX_INK_REF))
