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
saw: the markers it found and the QR code it read. A QR code that was not read
(scribbled over, covered, cut off) is no reference: painted over with pen
strokes on paper, it gave 0.80-0.93 where the page's black was 0.99, and clear
answers were flagged. Then the form's own solid print in the picture stands
in for it (`print_black`).
"""
from __future__ import annotations

from functools import partial

import cv2
import numpy as np

from forms.geometry import MARKER_IDS, BBox, Corner, marker_bbox
from omr.register import Registration
from omr.score import (
    BACKGROUND_STEP,
    PageInk,
    estimate_blur,
    ink_reference,
    page_ink,
    paper_at,
    paper_level,
    paper_maps,
)
from omr.stats import percentile as percentile_value
from omr.template import PageTemplate, kept, marker_window, mm_to_px

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
# The form's solid print: where the blank is at least this dark, a pixel in
# from its edges. Its strokes are thin (~0.3 mm) and a phone's blur greys them
# as it greys a QR code's small modules, so its black is taken, like the QR
# code's, at a high percentile: on 28 tight photos (seed 45) the print's 95th
# percentile lay within 0.07 of the black the QR code and markers gave
# (0.93-1.00 against 0.99), its median up to 0.23 below.
SOLID_PRINT = 0.9
PRINT_PERCENTILE = 95.0


def page_ink_in_view(
    registration: Registration, template: PageTemplate,
    *, qr_read: bool = True, shape: tuple[int, ...] | None = None,
) -> PageInk:
    """`omr.score.page_ink` of the registered page of `template`, its black
    measured on the solid print in view: all four markers when all were found (the score's own
    estimate, unchanged), otherwise the markers found and the QR code; the
    form's solid print in the picture (the input's `shape`) instead of a QR
    code that was not read (`qr_read` False). The paper level is taken on the
    half-scale page (`Registration.half`: it reduces the page further anyway);
    the markers and the QR code are read on the canonical page."""
    paper = paper_level(registration.half, BACKGROUND_STEP // 2)
    maps = marker_maps(template, paper.shape)
    if set(registration.markers) >= set(MARKER_IDS):
        # the markers alone are read: the QR code's area is not warped for it. Exact
        # because `register._sharpness` warped the markers' tiles already: a tile's
        # pixels depend (by a grey level, OpenCV's fixed point) on the rectangle it
        # was warped in, and the QR code's tiles lie one tile from a marker's.
        page = registration.page.ensure(black_areas(template, qr=False))
        return page_ink(page, template.markers_blurred, paper, maps)
    page = registration.page.ensure(black_areas(template))
    areas = [(marker_bbox(corner), MARKER_PERCENTILE) for corner in registration.markers]
    if qr_read:
        ink_ref = black_of(page, paper, areas + [(template.geometry.qr_bbox_mm, QR_PERCENTILE)])
    else:
        whole = registration.image  # the solid print anywhere on the page: all of it warped
        seen = print_black(whole, template.blank, paper, registration, shape or whole.shape)
        ink_ref = black_of(whole, paper, areas, () if seen is None else (seen,))
    return PageInk(paper, ink_ref, estimate_blur(page, template.markers_blurred, paper, ink_ref, maps))


def marker_maps(template: PageTemplate, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Where each marker's window (`omr.template.marker_window`) lies on a
    paper-level map of `shape` (`omr.score.paper_maps`, x and y stacked), for
    the blur's estimate where the paper is uneven across a marker (a corner's
    shadow): the same on every page of a form (the map's shape is the half
    page's), made once and kept in the template's `derived`."""
    name = f"marker_paper_maps@{shape[0]}x{shape[1]}"
    return [kept(template, f"{name}:{i}", partial(_marker_map, shape=shape, corner=corner))
            for i, corner in enumerate(MARKER_IDS)]


def _marker_map(_: PageTemplate, shape: tuple[int, ...], corner: Corner) -> np.ndarray:
    x0, y0, side = marker_window(corner)
    return np.stack(paper_maps(shape, x0, y0, side, side))


def black_areas(template: PageTemplate, *, qr: bool = True) -> list[tuple[int, int, int, int]]:
    """Where the page's black and blur are read (canonical px rectangles):
    each marker with 1 mm about it (`omr.template.marker_window`), and the QR
    code (`qr`: read only when a marker is missing)."""
    areas = []
    for corner in MARKER_IDS:
        x0, y0, side = marker_window(corner)
        areas.append((x0, y0, x0 + side, y0 + side))
    if qr:
        x, y, w, h = template.geometry.qr_bbox_mm
        areas.append((mm_to_px(x), mm_to_px(y), mm_to_px(x + w), mm_to_px(y + h)))
    return areas


def print_black(page: np.ndarray, blank: np.ndarray, paper: np.ndarray, registration: Registration,
                shape: tuple[int, ...]) -> float | None:
    """The darkness of the form's solid print on the registered `page` (the
    `PRINT_PERCENTILE` of its darkness against the paper level), over what of
    it lies in the picture (`shape`: the input's) and outside the markers'
    places; None with no such print."""
    solid = cv2.erode((blank <= (1.0 - SOLID_PRINT) * 255).astype(np.uint8), np.ones((3, 3), np.uint8))
    for corner in MARKER_IDS:
        x, y, w, h = marker_bbox(corner)
        solid[max(0, mm_to_px(y - 1)):mm_to_px(y + h + 1), max(0, mm_to_px(x - 1)):mm_to_px(x + w + 1)] = 0
    inside = cv2.warpPerspective(np.full(shape[:2], 255, np.uint8), registration.homography,
                                 (page.shape[1], page.shape[0]), flags=cv2.INTER_NEAREST,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    where = (solid > 0) & (inside > 0)
    if not where.any():
        return None
    level = cv2.resize(paper, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_NEAREST)
    dark = 1.0 - page[where].astype(np.float32) / level[where]
    return percentile_value(dark, PRINT_PERCENTILE)  # np.percentile's value, by one partition


def black_of(page: np.ndarray, paper: np.ndarray, areas: list[tuple[BBox, float]],
             more: tuple[float, ...] = ()) -> float:
    """The darkness of solid black on the registered `page`, from `areas`
    ((bbox mm, the percentile of its darkness that is its black), ...): the
    median of the areas' estimates (one covered by a thumb does not decide),
    darkness taken against the paper level at each area's centre, within a
    washed-out photo's floor. `more`: estimates made otherwise."""
    estimates = list(more)
    for (x, y, w, h), percentile in areas:
        x0, y0 = max(0, mm_to_px(x)), max(0, mm_to_px(y))
        x1, y1 = min(page.shape[1], mm_to_px(x + w)), min(page.shape[0], mm_to_px(y + h))
        if x1 <= x0 or y1 <= y0:
            continue
        level = paper_at(paper, x0, y0, x1 - x0, y1 - y0)
        dark = 1.0 - page[y0:y1, x0:x1].astype(np.float32) / level
        estimates.append(percentile_value(dark.ravel(), percentile))  # np.percentile's value
    if not estimates:
        return ink_reference(page, paper)
    return float(np.clip(np.median(estimates), MIN_INK_REF, MAX_INK_REF))
