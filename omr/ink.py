"""The darkness of this page's black, from the solid print the picture shows.

New ink is measured against the page's own black (`omr.score.PageInk.ink_ref`):
a washed-out photo's pen is as faint as its print. `omr.score.ink_reference`
takes it from the four corner markers. A page registered on fewer markers (a
tight frame, corners out of the picture or folded, markers that were never
printed) has blank paper, or the picture's edge repeated, where a missing
marker should be; its reference then fell to the floor of a washed-out photo
(0.4), every new darkness was read 2.5 times too dark, and the faint printed
ruling of an empty comment box became "writing".

Here the reference is taken from the black print the registration actually
saw: the markers it found and the QR code it read (both about half black by
design, so the same 75th percentile picks their black).
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

# The share of a half-black area's darkness values below its black's level
# (as `omr.score.ink_reference`).
BLACK_PERCENTILE = 75
# A washed-out photo's black is not lighter than this (as `omr.score.ink_reference`).
MIN_INK_REF, MAX_INK_REF = 0.4, 1.0


def page_ink_in_view(page: np.ndarray, blank: np.ndarray, registration: Registration, qr_bbox_mm: BBox) -> PageInk:
    """`omr.score.page_ink` of the registered `page`, its black measured on the
    solid print in view: all four markers when all were found (the score's own
    estimate, unchanged), otherwise the markers found and the QR code."""
    if set(registration.markers) >= set(MARKER_IDS):
        return page_ink(page, blank)
    paper = paper_level(page)
    areas = [marker_bbox(corner) for corner in registration.markers] + [qr_bbox_mm]
    ink_ref = black_of(page, paper, areas)
    return PageInk(paper, ink_ref, estimate_blur(page, blank, paper, ink_ref))


def black_of(page: np.ndarray, paper: np.ndarray, areas: list[BBox]) -> float:
    """The darkness of solid black over half-black `areas` (mm) of the
    registered `page`: the `BLACK_PERCENTILE` of their darkness against the
    paper level at each area's centre, within the washed-out photo's floor."""
    values = []
    for x, y, w, h in areas:
        x0, y0 = max(0, mm_to_px(x)), max(0, mm_to_px(y))
        x1, y1 = min(page.shape[1], mm_to_px(x + w)), min(page.shape[0], mm_to_px(y + h))
        if x1 <= x0 or y1 <= y0:
            continue
        level = paper[min((y0 + y1) // 2 // BACKGROUND_STEP, paper.shape[0] - 1),
                      min((x0 + x1) // 2 // BACKGROUND_STEP, paper.shape[1] - 1)]
        values.append(1.0 - page[y0:y1, x0:x1].astype(np.float32).ravel() / level)
    if not values:
        return ink_reference(page, paper)
    ref = float(np.percentile(np.concatenate(values), BLACK_PERCENTILE))
    return float(np.clip(ref, MIN_INK_REF, MAX_INK_REF))
