"""Scoring: how much NEW ink each target holds. Raw numbers, no thresholds.

Per page (`page_ink`): the paper level (a max filter over ~7 mm of a reduced
page, so a phone's shading cancels), the darkness of the page's own black (its
markers), so a grey low-contrast photo and a crisp scan measure a pen stroke
alike, and the page's blur (the Gaussian that makes the blank's markers look
like the page's).

Per target, on the registered page:

1. Snap: the printed box or digit is matched (normalised cross-correlation of
   darkness) within +-`SEARCH_MM` of where the homography puts it; a match too
   weak to trust (a box blacked out by a fill) borrows the median snap of its
   trusted neighbours.
2. New darkness: the page's normalised darkness minus the blank's, the blank
   blurred as the page is (so a blurred printed edge is not new ink).
3. New ink: that darkness mapped softly to 0..1 between the `InkLevels` lo and
   hi (no hard cut that a re-scan could flip), kept only in connected strokes
   of at least `MIN_STROKE_MM2` (a speck, a dust dot or JPEG noise does not
   count; the stroke mask is closed first so a pencil's grain stays one
   stroke), and never on the blank's printed ink (grown by a guard).
4. Box score: the new-ink fraction of the box interior, inset from the border
   so a stroke grazing the border does not count.
5. Digit evidence (`DigitEvidence`), all raw, in millimetres of extent or
   shares: every stroke of new ink within `DIGIT_ZONE_MM` of the digit is a
   connected component, bridged across the digit's own printed glyph (a stroke
   through a "2" is one stroke, not three specks the glyph cut apart); away
   from the print a stroke's core follows the page's blur (`stroke_core`).
   Each stroke of at least `MIN_STROKE_MM2` of ink and `SPECK_MM` of extent
   is measured: its length (the long side of its minimum-area rectangle), its
   width, its sagitta (`_sag`) and the circle that best fits it (`_hug`), how far its
   distance from the digit's centre ranges, whether it lies under the digit,
   passes over it and reaches beyond its box, and whose it is (`ownership`:
   clearly nearer this digit than any other target, clearly another's, or
   between). Its kind is what a person would see (`stroke_kind`): struck
   *through* the digit, a line *under* it (`beside`), a *tick* beside it, or
   an *arc* (round the digit, a circle begun and abandoned; anything else of
   its own: evidence of ink only); *between* (the longest stroke whose owner
   is unclear), *ring* (the share of `RING_SECTORS` sectors round the digit
   holding at least `MIN_SECTOR_MM2` of own ink: a circle covers them all),
   *fill* and *solid* (the share of the digit's box, glyph excluded, covered
   by light or by dark new ink: a pencil shading, a digit blacked out),
   *crumbs* (pieces too small or short to be strokes that together reach as
   far as a stroke: a grainy pencil mark broken up) and *thick* (the glyph
   darkened or thickened beyond its print: a stroke laid along it); the last
   two are evidence of ink, not of a mark. `score` summarises them in 0..1
   for people; `omr.decide` decides on the parts.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

import cv2
import numpy as np

from forms.geometry import MARKER_IDS, marker_bbox
from omr.reading import DigitEvidence
from omr.stats import block_sums, median, percentile
from omr.template import (
    BLUR_SIGMAS,
    CANON_PX_PER_MM,
    MIDDLE_MM,
    RING_INNER_FACTOR,
    RING_SECTORS,
    SEARCH_MM,
    PageTemplate,
    TargetTemplate,
    TextTemplate,
    crop_padded,
    kept,
    marker_window,
    mm_to_px,
    sector_of,
)
from omr.thresholds import BLACKOUT_AROUND, CROSSED_MM2, SPECK_MM


@dataclass(frozen=True)
class InkLevels:
    """Normalised darkness of no ink (`lo`) and of full ink (`hi`), and the
    darkness that makes a pixel part of a stroke (`core`, for its size)."""

    lo: float
    hi: float
    core: float


# Inside a box the paper is clean (the border is 0.6 mm away): levels low
# enough for a pencil slash on a blurred phone photo. Round a digit the
# blank's blurred glyph never cancels exactly: levels above its halo.
BOX_INK = InkLevels(lo=0.08, hi=0.30, core=0.15)
DIGIT_INK = InkLevels(lo=0.15, hi=0.45, core=0.25)
MIN_STROKE_MM2 = 0.30
MIN_SECTOR_MM2 = 0.10
# A stroke across a box, from one side of its counted interior to the
# opposite side (a slash corner to corner, a tick from side to side), is a
# deliberate mark of that box whatever its pen's width: a thin slash covers
# 0.14-0.20 of the interior, under the share a mark is counted from. Only
# ink as dark as a pen's line (DIGIT_INK.core, not lowered for a blurred
# page) is such a stroke: a faint or erased mark is lighter, and a tick
# drawn beside a box, its tail in it, reaches one side or two adjacent ones;
# a line that runs on through the box and out of its patch on both sides
# (struck through a row of boxes) is no one box's mark.
ACROSS_TOUCH_PX = 1
# Ownership of a stroke near a digit: it is this digit's when the nearest
# other target's box is at least OWN_FACTOR times as far as this digit's box,
# plus OWN_MARGIN_MM (a line under a digit, 1 mm below it, is 4.7 mm from the
# digit of the next row); or when it is at least OWN_FACTOR times as far and
# every bit of the stroke is OWN_MARGIN_MM nearer this digit than any other
# target (a tick drawn above right of a digit, 1.3 mm from it at its nearest
# and 3.4 mm from the row above's digit: all of it this digit's side of the
# gap between the rows); nearer another target it is that target's; between
# the two it is nobody's for sure, and a person decides.
OWN_FACTOR, OWN_MARGIN_MM = 2.0, 1.0
# A stroke off the digit that passes through at least this share of the
# sectors round its centre goes round it (`_around`): a circle drawn round
# the digit, which is the digit's whatever other target it passes near (a
# loose circle 4 mm out passes 1 mm from the row above's digit). A tick or a
# line beside the digit spans a quarter of them or less; a circle begun and
# abandoned, under three quarters, stays an arc for a person.
ENCLOSE_SHARE = 0.75
# A bent stroke (a tick) is placed by its vertex, the point where the pen
# turned, which a person puts on or beside what they choose, whatever its
# arms reach toward (a tick drawn above right of a digit, its long arm rising
# to the printed rule between the rows or past it). The vertex is this
# digit's when it lies in this digit's cell of the printed form (nothing
# printed between it and the digit: the rule between two rows divides their
# answers) and nearer this digit than any other target, or when it is clearly
# nearer by the rule above; another target's when it lies beyond printed ink
# from this digit and nearer the other, or clearly nearer it.
# Shape of a stroke of the digit's own off the digit (`stroke_kind`), by
# geometry a person would use, not by a fitted score:
# - LINE_SAG: a line strays from its chord (the sagitta of the parabola that
#   best follows it) by at most 6 % of its length. An arc of a circle strays
#   R(1 - cos(a/2)) over 2R sin(a/2): 10 % for 45 degrees, 11 % for 50, the
#   shortest a circle begun and abandoned sweeps; hands' straight lines
#   measured up to 4.3 % on the seed-42 deck (the pen's width is noise about
#   the curve, not curve).
# - UNDER_TILT_DEG: an underline is under the digit (its middle below the
#   digit's box, reaching across the digit's centre) and level within 30
#   degrees; a straight dash at the digit's side is not a mark people make
#   to answer (arc: for a person).
# - TICK_REACH, TICK_HUG: a bent stroke is a tick beside the digit only if it
#   keeps round the digit by neither measure: its distance from the digit's
#   centre ranges over at least half its length (an arc of a circle round
#   the digit ranges by its pen and wobble only: 20-35 % measured, one
#   hooked arc 46 %; a tick reaching away 48-93 %: the few under half go to
#   a person), and the digit's centre lies at least two radii
#   from the centre of the circle that best fits it (an arc round the digit:
#   0.5-1.8; a tick, whose circle sits in its own V: 2.3-12). A bent stroke
#   that keeps round the digit by either is an arc: never counted.
#   A line is also thin for its length: what its minimum-area rectangle
#   holds beyond its pen's width is at most 12 % of its length (LINE_BEND;
#   hands' lines measured up to 10 %). A tick's V with one short arm can
#   follow a parabola as closely as a line does (sagitta 4-5 %), never this.
LINE_SAG, LINE_BEND = 0.06, 0.12
UNDER_TILT_DEG = 30.0
TICK_REACH, TICK_HUG = 0.5, 2.0
# A stroke's core on a blurred page (`stroke_core`): the thinnest pen drawn
# deliberately, and how near the print the sharp page's core still holds
# (a misregistered or motion-blurred glyph leaves a halo there: a phone
# photo with 7 px of motion blur showed 2-3 mm "strokes" round clean digits
# at a lowered core: `NEAR_PRINT_PX` of print darker than `NEAR_PRINT_LEVEL`,
# in `omr.template`, which makes that mask once per form).
THIN_PEN_MM = 0.4
# A stroke over the digit is struck through it, a tick or a cross over it,
# only when it reaches beyond the digit's box by this much: a short stroke
# within the box may be a slip of the pen or lie along the glyph, where the
# print hides it from a person as from the reader (evidence of ink only).
BEYOND_MM = 0.3
# A piece of ink off the glyph shorter than SPECK_MM (omr.thresholds) is a
# blob, not a stroke: it is counted as crumbs of ink
# (`DigitEvidence.crumbs_mm2`), never as a mark.
# A stroke passes over a digit when its ink comes this close to the digit's
# centre: a circle round the digit keeps at least ~1.8 mm away, a stroke
# through the glyph shows on either side of the glyph's strokes.
OVER_MM = 1.1
# A stroke bridged across the glyph passes over the digit also when its ink
# lies on both sides of the centre, at least STRADDLE_MM each way along it,
# and the line it follows passes within OVER_MM of the centre: the glyph may
# hide all of it near the centre. Such a stroke counts from GLYPH_STROKE_MM2
# of visible ink (a 3 mm stroke through a bold "5" shows little more).
STRADDLE_MM = 0.5
GLYPH_STROKE_MM2 = 0.1
# Coverage of the digit's box (glyph excluded) by new ink at least this dark:
# light (a pencil's shading) and solid (blacked out).
FILL_LEVEL, SOLID_LEVEL = 0.12, 0.55
# Faint ink near a digit: a 3x3 mean of new darkness at least this, off the
# print (`faint_stroke_mm`). The paper's noise on a phone photo (sigma up to
# ~0.03 of full ink a pixel) averages to a third of that over 3x3; a light
# pencil line (0.15-0.22) stands well above it.
FAINT_LEVEL = 0.10
FAINT_AROUND_PX = 13  # 2.2 mm: wider than the widest pen's line (1.2 mm)
# A faint piece less than twice as long as wide and shorter than this is a dot
# (a pen rested beside a digit), not a stroke: its light rim spreads a speck
# (`SPECK_MM` of core) to ~1.5 mm. A light pencil circle is a ring, as wide as
# long but 4 mm or more across; a stroke is long and narrow.
FAINT_DOT_MM = 2 * SPECK_MM
# A 3x3 mean (`cv2.blur`, float32) can exceed its darkest pixel by rounding:
# a patch is known to hold no mean at a level only when its darkest pixel is
# this much below it.
MEAN_SLACK = 1e-5
# The glyph darkened or thickened: the darkness the page adds over the
# printed digit and THICK_RIM_PX round it, where a stroke laid along the
# glyph leaves the print (a blur or a sub-pixel shift moves darkness about
# but adds none). Two things add darkness there that no hand made: a
# scanner's streak, a line down the feed through the digit, which darkens
# the paper STREAK_GAP_MM-STREAK_BAND_MM beyond the digit's box on both sides
# alike (each pixel column's, or row's, lesser side is taken off); and a
# print a little darker than the blank's, the same on every digit (the
# page's median over its digits is taken off). THICK_RIM_PX is in
# `omr.template`, which makes the rim's mask once per form.
STREAK_GAP_MM, STREAK_BAND_MM = 1.0, 2.5
_SQUARE_3 = np.ones((3, 3), np.uint8)  # the 3x3 structuring element of closings and dilations
_FAINT_OPEN = np.ones((FAINT_AROUND_PX, FAINT_AROUND_PX), np.uint8)  # `_faint_pieces`' opening
MATCH_TRUST = 0.45  # normalised correlation above which a snap is trusted
NEIGHBOUR_MM = 40.0  # untrusted snaps borrow from trusted ones this close
BACKGROUND_STEP = 8  # reduction of the page for the paper estimate
BACKGROUND_WINDOW = 5  # in reduced pixels: 5 x 8 / 6 = 6.7 mm
# A shadow across the page (a hand's, a phone's) darkens the paper by up to a
# third over a soft edge 10-20 mm wide. The max filter alone carries the lit
# side's level half its window into the shadow, where the paper then reads as
# ink (other hands' deck, seed 1: shadow edges counted as marks on 4 pages).
# A closing (max, then min) over SHADOW_WINDOW follows the edge of anything
# darker and broader than that window, and leaves anything narrower to the
# max filter: a shadow is broader, no pen mark is.
SHADOW_WINDOW = 23  # in reduced pixels: 23 x 8 / 6 = 30.7 mm
# Across a target's patch the paper is taken at one level (its centre's)
# where it is even. Where the paper map changes across the patch by more
# than PAPER_UNEVEN of its level (a shadow's edge: ~2 % a mm; a phone's
# vignetting changes it ~0.2 % a mm, 2 % across a digit's zone), each pixel
# is compared with the paper under it (`paper_under`): a 12 % step at the
# patch's edge was read as a shading.
PAPER_UNEVEN = 0.03


@dataclass(frozen=True)
class PageInk:
    """What turns a registered page's grey levels into new ink, estimated once
    per page: the paper level map, the darkness of its black, and its blur."""

    paper: np.ndarray = field(repr=False)
    ink_ref: float
    blur: float


def page_ink(page: np.ndarray, markers_blurred: np.ndarray, paper: np.ndarray | None = None,
             maps: Sequence[np.ndarray] | None = None) -> PageInk:
    """Estimate a registered page's `PageInk` from its four markers;
    `markers_blurred` is its template's (`omr.template.blurred_markers`),
    `paper` its `paper_level` if already made, `maps` where each marker's
    window lies on it if known (`estimate_blur`). A page registered on fewer
    markers takes its black from what it shows (`omr.ink.page_ink_in_view`)."""
    paper = paper_level(page) if paper is None else paper
    ink_ref = ink_reference(page, paper)
    return PageInk(paper, ink_ref, estimate_blur(page, markers_blurred, paper, ink_ref, maps))


@dataclass(frozen=True)
class TargetMeasure:
    """One target's raw measurement (see the module docstring)."""

    question: str
    option: str
    shape: str
    score: float
    offset_mm: tuple[float, float]
    match: float  # correlation of the snap, -1..1 (nan: no structure to match)
    digit: DigitEvidence | None = None  # digits: the parts the decision uses
    solid: float = 0.0  # share of the box (or the digit's box) under dark ink: filled in solid
    across: bool = False  # boxes: a stroke crosses its interior side to side (`crosses_box`)
    faint_mm: float = 0.0  # boxes: the longest faint stroke through it, mm (`box_faint_mm`)


def paper_level(page: np.ndarray, step: int = BACKGROUND_STEP) -> np.ndarray:
    """The paper's grey level over the page, at 1/`BACKGROUND_STEP` of the
    canonical scale: ink is removed by a max filter wider than any pen stroke
    or box. `step`: the reduction from `page`'s scale to that (half of
    `BACKGROUND_STEP` for a page at half the canonical scale)."""
    small = area_reduced(page, step)
    kernel = np.ones((BACKGROUND_WINDOW, BACKGROUND_WINDOW), np.uint8)
    shadow = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((SHADOW_WINDOW, SHADOW_WINDOW), np.uint8),
                              borderType=cv2.BORDER_REPLICATE)
    level = cv2.GaussianBlur(np.minimum(cv2.dilate(small, kernel), shadow), (3, 3), 0)
    return np.maximum(level.astype(np.float32), 1.0)


def area_reduced(page: np.ndarray, step: int) -> np.ndarray:
    """`page`'s whole `step` x `step` blocks averaged, as `cv2.resize` with
    `INTER_AREA` averages them (its last rows and columns short of a block
    left out)."""
    h, w = page.shape
    h, w = h - h % step, w - w % step  # whole blocks: the resize's fast path
    if page.dtype == np.uint8 and 3 <= step <= 16:
        # the area resize's own arithmetic for a whole factor (but 2, which
        # has a path of its own): the blocks' sums times 1/step² in float32,
        # rounded half to even; the sums taken in integers cost half the resize
        scale = np.float32(1.0) / np.float32(step * step)
        return np.rint(block_sums(page, step) * scale).astype(np.uint8)
    return cv2.resize(page[:h, :w], (w // step, h // step), interpolation=cv2.INTER_AREA)


def ink_reference(page: np.ndarray, paper: np.ndarray) -> float:
    """The darkness of solid black on this page, from its printed markers
    (half black by design): the 75th percentile of the markers' darkness."""
    values = []
    for corner in MARKER_IDS:
        x, y, w, h = marker_bbox(corner)
        x0, y0, x1, y1 = mm_to_px(x), mm_to_px(y), mm_to_px(x + w), mm_to_px(y + h)
        crop = page[y0:y1, x0:x1].astype(np.float32)
        level = paper_at(paper, x0, y0, x1 - x0, y1 - y0)
        values.append(1.0 - crop.ravel() / level)
    ref = percentile(np.concatenate(values), 75)  # `np.percentile`'s, at less cost
    # A marker covered by a thumb or out of the frame must not make ink look
    # darker than it is: the reference is never below a washed-out photo's.
    return float(np.clip(ref, 0.4, 1.0))


def estimate_blur(page: np.ndarray, markers_blurred: np.ndarray, paper: np.ndarray, ink_ref: float,
                  maps: Sequence[np.ndarray] | None = None) -> float:
    """The Gaussian blur (sigma, canonical px) that makes the blank form look
    like this page: the blank's markers blurred by each of `BLUR_SIGMAS`
    (`markers_blurred`, made once per form by `omr.template.blurred_markers`)
    are compared with the page's; the median over the four markers ignores a
    folded or covered one. `maps`: per marker, where its window lies on
    `paper` (`darkness_patch`), if made once for the form."""
    # Each marker's window against all of its blurred models in one array
    # operation (a mean over the window's pixels per model).
    errors = np.empty((len(MARKER_IDS), len(BLUR_SIGMAS)))
    for i, corner in enumerate(MARKER_IDS):
        x0, y0, side = marker_window(corner)
        seen = darkness_patch(page, paper, x0, y0, side, side, ink_ref, None if maps is None else maps[i])
        diff = markers_blurred[i] - seen
        errors[i] = np.abs(diff, out=diff).mean(axis=(1, 2))
    # `np.median` over the markers, as it computes it (the mean of the two
    # middle values, their sum over 2; a middle value's own sum over 2 is
    # itself), without its checks: the errors are means of absolute values,
    # never NaN.
    ranked, m = np.sort(errors, axis=0), len(MARKER_IDS)
    return float(BLUR_SIGMAS[int(np.argmin((ranked[(m - 1) // 2] + ranked[m // 2]) / 2))])


def darkness_patch(
    page: np.ndarray, paper: np.ndarray, x0: int, y0: int, w: int, h: int, ink_ref: float,
    maps: np.ndarray | None = None,
) -> np.ndarray:
    """Normalised darkness 0..1 of the w x h patch of `page` at (x0, y0):
    ``(1 - pixel / paper) / ink_ref``, the paper level taken at the patch's
    centre, or under each pixel where it is uneven across the patch
    (`paper_uneven`: a shadow's edge); zero outside the page. `maps`: where
    the patch's pixels lie on `paper` (`paper_maps`, x and y stacked), if
    made once already: `paper_under` makes them, at more cost than its
    resampling."""
    crop = crop_padded(page, x0, y0, w, h).astype(np.float32)
    inside = x0 >= 0 and y0 >= 0 and x0 + w <= page.shape[1] and y0 + h <= page.shape[0]
    if paper_uneven(paper, x0, y0, w, h):
        under = paper_under(paper, x0, y0, w, h) if maps is None else cv2.remap(paper, maps[0], maps[1],
                                                                                cv2.INTER_LINEAR)
        dark = (1.0 - crop / under) / ink_ref
    else:
        dark = (1.0 - crop / paper_at(paper, x0, y0, w, h)) / ink_ref
    if not inside:
        dark[~_on_page(page.shape, x0, y0, w, h)] = 0.0
    return np.clip(dark, 0.0, 1.0)


def paper_maps(shape: tuple[int, ...], x0: int, y0: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of the w x h patch at (x0, y0) lies on a paper-level map
    of `shape` (`paper_level`), for `cv2.remap`."""
    s = BACKGROUND_STEP
    ys = np.clip((np.arange(h) + y0) / s - 0.5, 0, shape[0] - 1).astype(np.float32)
    xs = np.clip((np.arange(w) + x0) / s - 0.5, 0, shape[1] - 1).astype(np.float32)
    map_x, map_y = np.meshgrid(xs, ys)
    return map_x, map_y


def paper_under(paper: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """The paper level (`paper_level`) resampled under the w x h patch at (x0, y0), per pixel."""
    map_x, map_y = paper_maps(paper.shape, x0, y0, w, h)
    return np.asarray(cv2.remap(paper, map_x, map_y, cv2.INTER_LINEAR))


def paper_uneven(paper: np.ndarray, x0: int, y0: int, w: int, h: int) -> bool:
    """Whether the paper level changes across the w x h patch at (x0, y0) by more
    than `PAPER_UNEVEN` of its level (see there)."""
    s = BACKGROUND_STEP
    r0, r1 = min(max(y0 // s, 0), paper.shape[0] - 1), min(max((y0 + h - 1) // s, 0), paper.shape[0] - 1)
    c0, c1 = min(max(x0 // s, 0), paper.shape[1] - 1), min(max((x0 + w - 1) // s, 0), paper.shape[1] - 1)
    cells = paper[r0 : r1 + 1, c0 : c1 + 1]
    low, high = float(cells.min()), float(cells.max())
    return high - low > PAPER_UNEVEN * high


def paper_at(paper: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.float32:
    """The paper level (`paper_level`) at the centre of the w x h patch at (x0, y0),
    the nearest on the page for a patch off it."""
    cy = min(max((y0 + h // 2) // BACKGROUND_STEP, 0), paper.shape[0] - 1)
    cx = min(max((x0 + w // 2) // BACKGROUND_STEP, 0), paper.shape[1] - 1)
    return paper[cy, cx]


def _on_page(page_shape: tuple[int, ...], x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """The pixels of the w x h patch at (x0, y0) that lie on the page."""
    valid = np.zeros((h, w), bool)
    valid[max(0, -y0) : page_shape[0] - y0, max(0, -x0) : page_shape[1] - x0] = True
    return valid


@lru_cache(maxsize=8)
def _offset_penalty(radius: int) -> np.ndarray:
    """The snap's slight preference for small offsets, per offset (made once per radius)."""
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (0.02 * (xx**2 + yy**2) / max(radius, 1) ** 2).astype(np.float32)


def _snap(window: np.ndarray, tt: TargetTemplate, radius: int) -> tuple[int, int, float]:
    """Offset (dx, dy) in px of the best match of the printed patch in
    `window` (which extends `radius` px around the patch), and its score."""
    if tt.flat:
        return 0, 0, float("nan")
    result = cv2.matchTemplate(window, tt.printed, cv2.TM_CCOEFF_NORMED)
    # A slight preference for small offsets breaks ties on flat maps.
    result = result - _offset_penalty(radius)
    _, peak, _, loc = cv2.minMaxLoc(result)
    return loc[0] - radius, loc[1] - radius, float(peak)


def _group_snaps(windows: list[np.ndarray], targets: Sequence[TargetTemplate], groups: list[list[int]],
                 radius: int) -> list[tuple[int, int, float]]:
    """`_snap` of every target (`windows` as `_darkness_windows` makes them),
    a group of equal patches at once after each match: the offset preference
    taken off all their maps in one array operation, and each map's best
    offset found by `argmax`, which, as `cv2.minMaxLoc`, takes the first of
    equal maxima in row order (`tests/test_omr_score_work.py` compares them)."""
    out: list[tuple[int, int, float]] = [(0, 0, float("nan"))] * len(targets)
    penalty, side = _offset_penalty(radius), 2 * radius + 1
    for group in groups:
        live = [i for i in group if not targets[i].flat]
        if not live:
            continue
        maps = np.empty((len(live), side, side), np.float32)
        for k, i in enumerate(live):
            maps[k] = cv2.matchTemplate(windows[i], targets[i].printed, cv2.TM_CCOEFF_NORMED)
        maps -= penalty
        flat = maps.reshape(len(live), -1)
        best = flat.argmax(axis=1)
        for i, at, peak in zip(live, best.tolist(), flat[np.arange(len(live)), best].tolist()):
            out[i] = (at % side - radius, at // side - radius, peak)
    return out


def strokes_with_stats(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """`cv2.connectedComponentsWithStats(mask, connectivity=8)`'s count, labels
    and stats, by Grana's block-based algorithm: on a target's patch it takes
    ~0.6 of the default's time for the same labels, numbered alike
    (`tests/test_omr_score_work.py` compares them)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return n, labels, stats


def new_ink(
    dark: np.ndarray, region: np.ndarray, levels: InkLevels, min_stroke_mm2: float = MIN_STROKE_MM2,
    reach: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Soft new ink 0..1 per pixel of a darkness patch (`levels.lo` -> 0,
    `levels.hi` -> 1): only pixels of strokes (connected pixels at least
    `levels.core` dark) of at least `min_stroke_mm2`, and their rim; only
    inside `region`. `reach`: a window (y0, y1, x0, x1) holding every pixel
    within 1 px of `region`, if known (no stroke there: none is kept)."""
    # Closed first: a pencil's grain breaks a stroke into dots that would each
    # fall under the stroke size; a speck stays a speck.
    # Masks as uint8 views of bool arrays (0/1 either way), not copies.
    core = cv2.morphologyEx(np.greater_equal(dark, levels.core).view(np.uint8), cv2.MORPH_CLOSE, _SQUARE_3)
    n, labels, stats = strokes_with_stats(core)
    min_px = min_stroke_mm2 * CANON_PX_PER_MM**2
    big = stats[:, cv2.CC_STAT_AREA] >= min_px
    big[0] = False
    # `take`, not `big[labels]`: a 2-D int32 index costs fancy indexing ~twice a take's time.
    if reach is not None and not big.take(labels[reach[0] : reach[1], reach[2] : reach[3]]).any():
        return np.zeros(dark.shape, np.float32)  # no stroke's rim reaches the region
    # Soft edges of kept strokes count too (their anti-aliased rim).
    keep = cv2.dilate(big.take(labels).view(np.uint8), _SQUARE_3).view(bool)
    # `ndarray.clip`, not `np.clip`: the same function under less dispatch (~2 us a call).
    soft = dark - levels.lo
    soft /= levels.hi - levels.lo
    soft.clip(0.0, 1.0, out=soft)
    return soft * (keep & region)


@dataclass(frozen=True)
class Stroke:
    """One connected stroke of new ink near a digit (mm)."""

    length: float
    bend: float  # (width - pen width) / length: 0 for a line
    radial: float  # how far its distance from the digit's centre ranges (mm)
    over: bool  # it passes over the digit: within OVER_MM of its centre
    owner: str  # "own", "between" or "other"
    # How far its middle strays from its chord, over its length (see `_sag`);
    # inf where nothing reads it (see `digit_strokes`).
    sag: float = 0.0
    # Measured only where `stroke_kind` reads them (the digit's own stroke, not
    # over it); inf and False for any other stroke:
    hug: float = float("inf")  # how far the centre of its best circle lies from the digit's, over its radius (`_hug`)
    under: bool = False  # it lies under the digit: below its box, level within UNDER_TILT_DEG, across its centre
    rim: bool = False  # bent, and all of it within NEAR_PRINT_PX of the print: the glyph's rim, not a stroke across
    beyond: bool = False  # it reaches BEYOND_MM or more outside the digit's box
    around: float = 0.0  # off the digit, the share of the sectors round its centre it passes through (`_around`)


def _ownership(own: float, other: float, gap: float = 0.0,
               vertex: tuple[float, float, bool] | None = None) -> str:
    """Whose a stroke is, from its nearest distances (mm) to this digit's box
    (`own`) and to any other target's (`other`), and the least by which each
    of its pixels is nearer this digit than any other target (`gap`): this
    digit's when clearly nearer (see OWN_FACTOR), another's when nearer that
    one, else between. A bent stroke's `vertex` (its distances to this
    digit's box and to any other target's, and whether it lies in this
    digit's cell of the print: `_in_cell`) decides when it places the stroke
    (see OWN_FACTOR)."""
    if vertex is not None:
        v_own, v_other, in_cell = vertex
        if v_other >= OWN_FACTOR * v_own + OWN_MARGIN_MM or (in_cell and v_other > v_own):
            return "own"
        if v_own >= OWN_FACTOR * v_other + OWN_MARGIN_MM or (not in_cell and v_own > v_other):
            return "other"
    if other >= OWN_FACTOR * own + OWN_MARGIN_MM:
        return "own"
    if other >= OWN_FACTOR * own and gap >= OWN_MARGIN_MM:
        return "own"
    return "other" if other < own else "between"


def _int_mean(values: np.ndarray) -> float:
    """The mean of whole pixel coordinates as `np.mean` gives it: their sum is
    exact in any order, so the mean is the correctly rounded sum over the count."""
    return int(values.sum()) / len(values)


def _main_axis(px: np.ndarray, py: np.ndarray) -> tuple[float, float] | None:
    """The unit vector along which a stroke's pixels spread most (the principal
    axis of their covariance, its sign arbitrary), None under 3 pixels: made
    once per stroke for `_straddles`, `_sag` and `_lies_under`."""
    if len(px) < 3:
        return None
    # `np.cov`'s own arithmetic, step for step, without its checks (the means
    # of whole pixel coordinates are exact sums over the count: `_int_mean`).
    n = len(px)
    pts = np.empty((2, n))
    np.subtract(px, _int_mean(px), out=pts[0])
    np.subtract(py, _int_mean(py), out=pts[1])
    cov = np.dot(pts, pts.T)
    cov *= np.true_divide(1, n - 1)
    _, vecs = np.linalg.eigh(cov)
    return float(vecs[0, -1]), float(vecs[1, -1])


def _straddles(px: np.ndarray, py: np.ndarray, centre: tuple[float, float],
               axis: tuple[float, float] | None) -> bool:
    """Whether ink pixels lie on both sides of `centre` along their main
    direction (`axis`, see `_main_axis`), on a line passing within OVER_MM of
    it (see STRADDLE_MM)."""
    if axis is None:
        return False
    (ux, uy), (cx, cy) = axis, centre
    along = ((px - cx) * ux + (py - cy) * uy) / CANON_PX_PER_MM
    off = abs((_int_mean(px) - cx) * -uy + (_int_mean(py) - cy) * ux) / CANON_PX_PER_MM
    return bool(along.min() <= -STRADDLE_MM and along.max() >= STRADDLE_MM and off <= OVER_MM)


def _parabola(x: np.ndarray, y: np.ndarray) -> float:
    """The leading coefficient of the least-squares parabola y = a x2 + b x + c
    (its normal equations solved directly: `np.polyfit`'s answer, to rounding,
    at a fraction of its cost; `np.polyfit` itself where they are near singular)."""
    x2 = x * x
    s1, s2, s3, s4 = float(x.sum()), float(x2.sum()), float(x2 @ x), float(x2 @ x2)
    t0, t1, t2 = float(y.sum()), float(x @ y), float(x2 @ y)
    n = float(len(x))
    det = s4 * (s2 * n - s1 * s1) - s3 * (s3 * n - s1 * s2) + s2 * (s3 * s1 - s2 * s2)
    if abs(det) <= 1e-9 * max(s4, 1e-300) * max(s2, 1e-300) * n:
        return float(np.polyfit(x, y, 2)[0])
    return (t2 * (s2 * n - s1 * s1) - s3 * (t1 * n - s1 * t0) + s2 * (t1 * s1 - s2 * t0)) / det


def _sag(px: np.ndarray, py: np.ndarray, axis: tuple[float, float] | None) -> float | None:
    """The sagitta of the parabola that best follows a stroke's pixels along
    their main direction (`axis`, see `_main_axis`), over the chord's
    length: 0 for a straight line whatever its pen's width (the width is
    noise about the curve, not curve), ~0.11 for a 50-degree arc, 0.04-0.35
    for a tick's V (one with a short arm follows a parabola as a line does:
    see LINE_BEND). None when the pixels have no shape to measure (under 6,
    no main direction, no extent along it)."""
    if len(px) < 6 or axis is None:
        return None
    x, y = px / CANON_PX_PER_MM, py / CANON_PX_PER_MM
    # `np.mean`'s arithmetic (its pairwise sum, over the count), without its checks.
    rx, ry = x - np.add.reduce(x) / len(x), y - np.add.reduce(y) / len(y)
    (ux, uy) = axis
    along, across = rx * ux + ry * uy, ry * ux - rx * uy
    span = float(along.max() - along.min())
    if span <= 0:
        return None
    return abs(_parabola(along, across)) * (span / 2) ** 2 / span


def _hug(px: np.ndarray, py: np.ndarray, centre: tuple[float, float]) -> float:
    """The distance from the digit's `centre` to the centre of the circle that
    best fits a stroke's pixels (Kasa's algebraic fit), over that circle's
    radius: ~0 for an arc of a circle round the digit, 1 or more for a tick
    beside it (its circle lies in its own V) or a line (a circle far away)."""
    x, y = px / CANON_PX_PER_MM, py / CANON_PX_PER_MM
    # x2 + y2 + D x + E y + F = 0.
    a = np.column_stack([x, y, np.ones(len(x))])
    b = -(x * x + y * y)
    (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)
    cx, cy = -d / 2, -e / 2
    r2 = cx * cx + cy * cy - f
    if r2 <= 0:
        return float("inf")
    off = float(np.hypot(cx - centre[0] / CANON_PX_PER_MM, cy - centre[1] / CANON_PX_PER_MM))
    return off / float(np.sqrt(r2))


def _vertex(px: np.ndarray, py: np.ndarray) -> int:
    """The index of a stroke's "vertex": of its pixels, the one farthest from
    the chord between its two ends along its main direction. For a V with
    arms of like length that is where the pen turned; for a tick, whose turn
    is itself one end of the main direction, it is nearer the short arm's tip
    (a review measured a median 1.6 mm from the turn on the fixtures' ticks,
    with no owner changed by a true turn on 120 ticks beside SIPAS digits)."""
    pts = np.stack([px, py], 1).astype(np.float64)
    rel = pts - pts.mean(axis=0)
    _, vecs = np.linalg.eigh(rel.T @ rel)
    along = rel @ vecs[:, -1]
    a, b = pts[int(np.argmin(along))], pts[int(np.argmax(along))]
    chord = b - a
    norm = float(np.hypot(chord[0], chord[1]))
    if norm == 0.0:
        return 0
    off = np.abs(chord[0] * (pts[:, 1] - a[1]) - chord[1] * (pts[:, 0] - a[0])) / norm
    return int(np.argmax(off))


def _in_cell(tt: TargetTemplate, x: int, y: int) -> bool:
    """Whether the patch pixel (x, y) lies in the digit's cell of the printed
    form, on its side of a printed line that divides it from the nearest
    other target: nothing printed but the digit itself between the point
    and the digit's centre, and printed ink between the point and the
    nearest other target (found down the slope of `other_mm`, within the
    patch). Without such a line (an open layout) no point is in a cell."""
    assert tt.other_mm is not None and tt.printed_other is not None
    printed = tt.printed_other
    h, w = printed.shape
    n = int(np.hypot(x - tt.centre[0], y - tt.centre[1])) + 2
    xs = np.rint(np.linspace(x, tt.centre[0], n)).astype(int)
    ys = np.rint(np.linspace(y, tt.centre[1], n)).astype(int)
    if printed[ys, xs].any():
        return False
    gx = float(tt.other_mm[y, min(x + 1, w - 1)] - tt.other_mm[y, max(x - 1, 0)])
    gy = float(tt.other_mm[min(y + 1, h - 1), x] - tt.other_mm[max(y - 1, 0), x])
    norm = float(np.hypot(gx, gy))
    if norm == 0.0:
        return False
    steps = np.arange(1.0, min(float(tt.other_mm[y, x]) * CANON_PX_PER_MM, float(h + w)), 0.5)
    px = np.rint(x - gx / norm * steps).astype(int)
    py = np.rint(y - gy / norm * steps).astype(int)
    inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    seen = int(np.argmin(inside)) if not inside.all() else len(steps)  # up to where the path leaves the patch
    return bool(printed[py[:seen], px[:seen]].any())


def _lies_under(px: np.ndarray, py: np.ndarray, tt: TargetTemplate, axis: tuple[float, float] | None) -> bool:
    """Whether a stroke lies under the digit as an underline does: its
    middle below the digit's box, its course (`axis`, see `_main_axis`)
    level within UNDER_TILT_DEG, and reaching across the digit's centre."""
    half_h = tt.target.bbox_mm[3] / 2 * CANON_PX_PER_MM
    if _int_mean(py) - tt.centre[1] <= half_h or not (px.min() <= tt.centre[0] <= px.max()):
        return False
    if axis is None:
        return False
    return bool(abs(axis[0]) >= math.cos(math.radians(UNDER_TILT_DEG)))


def _sag_read(owner: str, gap: float, over: bool, all_near: bool) -> bool:
    """Whether anything reads a stroke's sagitta (`digit_strokes`), from its
    first `_ownership` and least `gap`, whether it passes over the digit and
    whether all of it lies near the print: the vertex rule (unless the stroke
    is this digit's everywhere, `gap` > 0), `Stroke.rim` (all of it near the
    print) and `stroke_kind` (a stroke off the digit)."""
    return not (owner == "own" and gap > 0) or all_near or not over


@dataclass(frozen=True)
class DigitPeaks:
    """The darkest new ink (0..1) of a digit's patch where each of the scorer's
    cheap bounds looks: its zone (`TargetTemplate.zone`: no stroke's core
    there, no stroke), and in its `box_crop` window `inner_reach`,
    `fill_reach` and `inner` (no shading, blackout or ink over its box), and
    `faint_reach` (no faint stroke). `digit_peaks` takes them one digit at a
    time, `group_digit_peaks` for a page's digits of one patch size at once."""

    zone: float
    inner_reach: float
    fill_reach: float
    inner: float
    faint_reach: float


def digit_peaks(tt: TargetTemplate, dark: np.ndarray) -> DigitPeaks:
    """A digit's `DigitPeaks` in its new darkness patch `dark`, mask by mask."""
    assert tt.zone is not None and tt.inner is not None and tt.inner_reach is not None
    assert tt.fill_reach is not None and tt.faint_reach is not None
    y0, y1, x0, x1 = tt.box_crop
    box = dark[y0:y1, x0:x1]

    def peak(values: np.ndarray) -> float:
        return float(values.max()) if values.size else 0.0

    return DigitPeaks(peak(dark[tt.zone]), peak(box[tt.inner_reach]), peak(box[tt.fill_reach]),
                      peak(box[tt.inner[y0:y1, x0:x1]]), peak(dark[tt.faint_reach]))


def _peak_window(template: PageTemplate, group: Sequence[int]) -> np.ndarray:
    """For digits of one patch size (`group`, indices into the template's
    targets), the window [y0, y1, x0, x1] of the patch holding every one's
    `box_crop` window."""
    crops = np.array([template.targets[i].box_crop for i in group])
    return np.array([crops[:, 0].min(), crops[:, 1].max(), crops[:, 2].min(), crops[:, 3].max()])


def _peak_whole_masks(template: PageTemplate, group: Sequence[int]) -> np.ndarray:
    """`DigitPeaks`' masks over the whole patch, per digit of `group`: the
    zone and `faint_reach`, stacked (mask, digit, y, x) as 0/1 float32."""
    tts = [template.targets[i] for i in group]
    zone, faint = np.zeros((2, len(tts), *tts[0].shape), bool)
    for k, tt in enumerate(tts):
        assert tt.zone is not None and tt.faint_reach is not None
        zone[k], faint[k] = tt.zone, tt.faint_reach
    return np.stack([zone, faint]).astype(np.float32)


def _peak_box_masks(template: PageTemplate, group: Sequence[int], window: tuple[int, int, int, int]) -> np.ndarray:
    """`DigitPeaks`' masks within the box, per digit of `group`, placed in
    `window` (`_peak_window`): `inner_reach`, `fill_reach` and `inner`,
    stacked (mask, digit, y, x) as 0/1 float32."""
    y0, y1, x0, x1 = window
    boxes = np.zeros((3, len(group), y1 - y0, x1 - x0), bool)
    for k, i in enumerate(group):
        tt = template.targets[i]
        assert tt.inner is not None and tt.inner_reach is not None and tt.fill_reach is not None
        b0, b1, c0, c1 = tt.box_crop
        at = (slice(b0 - y0, b1 - y0), slice(c0 - x0, c1 - x0))
        boxes[0, k][at], boxes[1, k][at], boxes[2, k][at] = tt.inner_reach, tt.fill_reach, tt.inner[b0:b1, c0:c1]
    return boxes.astype(np.float32)


def group_digit_peaks(template: PageTemplate, group: Sequence[int], new: np.ndarray) -> list[DigitPeaks]:
    """`digit_peaks` of the digits `group` (indices into the template's
    targets, all of one patch size) from their stacked new darkness `new`, in
    one array operation per mask: new darkness is never negative, so the
    darkest pixel of a mask is the darkest of the patch times the 0/1 mask.
    The masks are the form's, stacked once (`_peak_whole_masks`,
    `_peak_box_masks`) and kept in the page template's `derived`."""
    name = f"peaks:{group[0]}-{len(group)}"
    y0, y1, x0, x1 = kept(template, name + ":window", partial(_peak_window, group=group)).tolist()
    whole = kept(template, name + ":whole", partial(_peak_whole_masks, group=group))
    boxed = kept(template, name + ":box", partial(_peak_box_masks, group=group, window=(y0, y1, x0, x1)))
    box = new[:, y0:y1, x0:x1]
    inputs, masks = (new, box, box, box, new), (whole[0], boxed[0], boxed[1], boxed[2], whole[1])
    peaks = [(values * mask).max(axis=(1, 2)).tolist() for values, mask in zip(inputs, masks)]
    return [DigitPeaks(*values) for values in zip(*peaks)]


def digit_strokes(tt: TargetTemplate, dark: np.ndarray, core_level: float = DIGIT_INK.core,
                  peaks: DigitPeaks | None = None) -> tuple[list[Stroke], np.ndarray, np.ndarray, float]:
    """The strokes of new ink in a digit's zone, the label image of the
    bridged components, per label whether it counts here (own or between),
    and the ink (mm2 of core) of the pieces too small or too short to be
    strokes, off the glyph (`SPECK_MM`): a light, grainy pencil mark broken
    into crumbs, or specks. A pixel is a stroke's core from `core_level`
    (see `stroke_core`). `peaks`: the digit's `DigitPeaks`, if known."""
    assert tt.zone is not None and tt.glyph is not None and tt.own_mm is not None and tt.other_mm is not None
    assert tt.near_print is not None
    def nothing() -> tuple[list[Stroke], np.ndarray, np.ndarray, float]:
        return [], np.zeros(dark.shape, np.int32), np.zeros(1, bool), 0.0

    # Most digits: nothing to measure. No pixel of the zone is as dark as the
    # least core level (`_core_levels` takes the greater of the two near the print).
    if (peaks.zone if peaks is not None else float(dark.max())) < min(core_level, DIGIT_INK.core):
        return nothing()
    level = DIGIT_INK.core if core_level >= DIGIT_INK.core else _core_levels(tt, core_level)
    core = np.greater_equal(dark, level)
    core &= tt.zone
    if not core.any():
        return nothing()
    # Closed first: a pencil's grain breaks a stroke into dots.
    core = np.logical_and(cv2.morphologyEx(core.view(np.uint8), cv2.MORPH_CLOSE, _SQUARE_3), tt.zone)
    bridged = np.logical_or(core, tt.glyph).view(np.uint8)  # across the glyph
    n, labels = cv2.connectedComponents(bridged, connectivity=8)
    counts_here = np.zeros(n, bool)
    # The core's pixels as indices into the flattened patch, in the patch's
    # order (`np.nonzero`'s): one gather per map, not a pair of coordinates.
    flat = np.flatnonzero(core)  # of a bool array: numpy's fast path (of 0/1 uint8: ~4 times the time)
    if not len(flat):
        return [], labels, counts_here, 0.0
    lab = labels.ravel()[flat]
    sizes = np.bincount(lab, minlength=n)
    on_glyph = np.zeros(n, bool)
    on_glyph[labels.ravel()[_mask_px(tt, "glyph")]] = True
    min_px = np.where(on_glyph, GLYPH_STROKE_MM2, MIN_STROKE_MM2) * CANON_PX_PER_MM**2
    strokes = []
    speck = np.zeros(n, bool)
    # Every piece's pixels together, sorted by label (each piece's in the
    # patch's order), piece k's from bounds[k] to bounds[k + 1].
    order = np.argsort(lab, kind="stable")
    bounds = np.zeros(n + 1, np.intp)
    np.cumsum(sizes, out=bounds[1:])
    at = flat[order]
    sy, sx = _rows_cols(tt).take(at, axis=1)
    lab_s, near_s = lab[order], tt.near_print.ravel()[at]
    own_s, other_s = tt.own_mm.ravel()[at], tt.other_mm.ravel()[at]
    all_near = np.bincount(lab_s[near_s], minlength=n) == sizes
    points = _points(tt).take(at, axis=0)  # for `cv2.minAreaRect`
    for label in np.flatnonzero(sizes >= min_px):
        b0, b1 = bounds[label], bounds[label + 1]
        (_, _), (rw, rh), _ = cv2.minAreaRect(points[b0:b1])
        length = (max(rw, rh) + 1.0) / CANON_PX_PER_MM
        if length < SPECK_MM and not on_glyph[label]:
            speck[label] = True  # a blob, not a stroke: no extent to tell a mark by
            continue
        width = (min(rw, rh) + 1.0) / CANON_PX_PER_MM
        pen = int(sizes[label]) / CANON_PX_PER_MM**2 / length
        if pen < THIN_PEN_MM / 2 and all_near[label]:
            continue  # a line thinner than any pen's along the print: its halo (a blur the model missed)
        px, py = sx[b0:b1], sy[b0:b1]
        bend = max(0.0, width - pen) / length
        own_px, other_px = own_s[b0:b1], other_s[b0:b1]
        own, other, gap = float(own_px.min()), float(other_px.min()), float((other_px - own_px).min())
        r_px = np.hypot(px - tt.centre[0], py - tt.centre[1]) / CANON_PX_PER_MM
        r_min = float(r_px.min())
        owner = _ownership(own, other, gap)
        # The stroke's shape is measured only where it is read (most strokes
        # measured run through the digit and are its own everywhere: their
        # sagitta is not): whether it straddles the centre only when its ink
        # does not come within OVER_MM of it anyway (`over` is either), its
        # sagitta where `_sag_read`.
        near_centre = r_min <= OVER_MM
        straddle_read = not near_centre and bool(on_glyph[label])
        axis = _main_axis(px, py) if straddle_read else None
        over = near_centre or (straddle_read and _straddles(px, py, tt.centre, axis))
        sag_read = _sag_read(owner, gap, over, bool(all_near[label]))
        if sag_read and not straddle_read:
            axis = _main_axis(px, py)
        shaped = _sag(px, py, axis) if sag_read else None
        sag = (0.0 if shaped is None else shaped) if sag_read else float("inf")
        # A bent stroke is placed by its vertex (a line has none), except when
        # it is this digit's anyway and every pixel of it, the vertex too, is
        # nearer this digit than any other target (`gap` > 0): a vertex there
        # places it here or leaves it to the distances (`_ownership`).
        if not (sag <= LINE_SAG and bend <= LINE_BEND) and not (owner == "own" and gap > 0):
            v = _vertex(px, py)
            owner = _ownership(own, other, gap, (float(tt.own_mm[py[v], px[v]]), float(tt.other_mm[py[v], px[v]]),
                                                 _in_cell(tt, int(px[v]), int(py[v]))))
        around = 0.0 if over else _around(px, py, tt.centre)
        if around >= ENCLOSE_SHARE:
            owner = "own"  # a loop round this digit is its own, however near another target it passes
        kind_read = owner == "own" and not over  # `stroke_kind` reads its hug and whether it lies under
        strokes.append(Stroke(
            length=length,
            bend=bend,
            radial=float(r_px.max()) - r_min,
            over=over,
            owner=owner,
            sag=sag,
            hug=_hug(px, py, tt.centre) if kind_read and shaped is not None else float("inf"),
            under=kind_read and _lies_under(px, py, tt, axis),
            rim=sag > LINE_SAG and bool(all_near[label]),
            beyond=float(own_px.max()) >= BEYOND_MM,
            around=around,
        ))
        counts_here[label] = owner != "other"
    crumbs = ((sizes < min_px) & ~on_glyph) | speck
    crumbs[0] = False
    off_print = np.zeros(n, bool)
    off_print[lab_s[~near_s]] = True
    crumbs &= off_print  # pieces wholly along the print are its halo
    if not crumbs.any():
        return strokes, labels, counts_here, 0.0
    # Crumbs tell of a stroke only when together they reach further than a
    # speck does (one speck is a blob, however large), and only of this
    # digit's when they are clearly its (a tick of the next row's digit, cut
    # to pieces by the printed rule between the rows, is not).
    bits = flat[crumbs[lab]]  # in the patch's order
    (_, _), (rw, rh), _ = cv2.minAreaRect(_points(tt).take(bits, axis=0))
    if (max(rw, rh) + 1.0) / CANON_PX_PER_MM < SPECK_MM:
        return strokes, labels, counts_here, 0.0
    own_bits, other_bits = tt.own_mm.ravel()[bits], tt.other_mm.ravel()[bits]
    if _ownership(float(own_bits.min()), float(other_bits.min()), float((other_bits - own_bits).min())) != "own":
        return strokes, labels, counts_here, 0.0
    return strokes, labels, counts_here, float(sizes[crumbs].sum()) / CANON_PX_PER_MM**2


def _rows_cols(tt: TargetTemplate) -> np.ndarray:
    """Each pixel of a target's patch, by its index in the flattened patch:
    its row (row 0) and its column (row 1), as `np.divmod` of the index by
    the patch's width gives them; made once per template."""
    h, w = tt.shape
    return kept(tt, "rows_cols", lambda _: np.stack(np.divmod(np.arange(h * w), w)))


def _points(tt: TargetTemplate) -> np.ndarray:
    """Each pixel of a target's patch, by its index in the flattened patch,
    as the point (x, y) in float32 that `cv2.minAreaRect` takes; made once per template."""
    return kept(tt, "points", lambda _: np.ascontiguousarray(_rows_cols(tt)[::-1].T, np.float32))


def _mean(a: np.ndarray, axis: int) -> np.ndarray:
    """`a.mean(axis)` of a float32 array by `np.mean`'s own arithmetic (a
    float32 sum, divided by the count), without its checks: it runs four
    times per digit and page."""
    total = np.add.reduce(a, axis=axis)
    return np.true_divide(total, np.intp(a.shape[axis]), out=total, casting="unsafe")


def glyph_darkening_mm2(tts: Sequence[TargetTemplate], added: np.ndarray) -> list[float]:
    """For digits of one patch size (`tts`), the darkness each page patch adds
    (`added`, stacked: the page's darkness less the blank's print blurred as
    the page is) over the digit's printed glyph and `THICK_RIM_PX` round it,
    within its own box, less a streak's (see STREAK_GAP_MM), in mm2 of full
    ink, signed. `score_targets` takes the page's median over its digits off."""
    _, h, w = added.shape
    gap, band = mm_to_px(STREAK_GAP_MM), mm_to_px(STREAK_BAND_MM)
    out = [0.0] * len(tts)
    # Digits whose boxes lie alike in their patches (most of a page's) have
    # their streak bands averaged as one stack: `_mean` sums each digit's
    # pixels in the same order as alone, so each value is the digit's own.
    alike: dict[tuple[int, int, int, int], list[int]] = {}
    for i, tt in enumerate(tts):
        alike.setdefault(tt.box_crop, []).append(i)
    for (y0, y1, x0, x1), members in alike.items():
        stack = added if len(members) == len(tts) else added[members]
        # A streak down (across) the digit: the lesser of the added darkness
        # above and below (left and right of) the box, per pixel column (row).
        above = _mean(stack[:, max(y0 - band, 0) : max(y0 - gap, 1), x0:x1], 1)
        below = _mean(stack[:, min(y1 + gap, h - 1) : min(y1 + band, h), x0:x1], 1)
        left = _mean(stack[:, y0:y1, max(x0 - band, 0) : max(x0 - gap, 1)], 2)
        right = _mean(stack[:, y0:y1, min(x1 + gap, w - 1) : min(x1 + band, w)], 2)
        cols_streak = np.maximum(np.minimum(above, below), 0.0)
        rows_streak = np.maximum(np.minimum(left, right), 0.0)
        # Each box less its streak, every pixel at once (the same subtraction
        # per pixel as on the rim alone), then each rim gathered from it.
        rims = stack[:, y0:y1, x0:x1] - np.maximum(cols_streak[:, None, :], rows_streak[:, :, None])
        for j, i in enumerate(members):
            out[i] = float(rims[j].take(_rim_px(tts[i])).sum()) / CANON_PX_PER_MM**2
    return out


def _rim_px(tt: TargetTemplate) -> np.ndarray:
    """A digit's glyph rim (`TargetTemplate.rim_rows`, `rim_cols`) as indices
    into its flattened `box_crop` window, in the same order: made once per template."""
    rows, cols = tt.rim_rows, tt.rim_cols
    assert rows is not None and cols is not None
    width = tt.box_crop[3] - tt.box_crop[2]
    return kept(tt, "rim_px", lambda _: rows * width + cols)


def stroke_kind(s: Stroke) -> str:
    """What a stroke of the digit's own, off the digit, is: "under" (a
    straight line under it: `LINE_SAG`, `LINE_BEND`, `Stroke.under`),
    "tick" (bent, and keeping round the digit by neither measure: its
    distance from the digit's centre ranges over at least `TICK_REACH` of its
    length, and the circle that best fits it lies away from the digit,
    `TICK_HUG`), or "arc" (anything else: an arc round the digit, a circle
    begun and abandoned; a straight dash at its side), which only a person
    reads."""
    if s.sag <= LINE_SAG and s.bend <= LINE_BEND:
        return "under" if s.under else "arc"
    return "tick" if s.radial >= TICK_REACH * s.length and s.hug >= TICK_HUG else "arc"


def _no_evidence(peaks: DigitPeaks, core_level: float) -> bool:
    """Whether a digit's `DigitPeaks` are under every bound `_digit_parts`
    takes, so that every part of its evidence but `thick_mm2` is 0: no stroke
    core in its zone (no stroke, crumbs or ring), no shading (fill and its
    local share), blackout (solid, hidden) or ink over its box, no faint
    stroke (see `digit_strokes`, `_digit_parts`, `faint_stroke_mm`)."""
    return (peaks.zone < min(core_level, DIGIT_INK.core)
            and peaks.fill_reach < FILL_LEVEL - MEAN_SLACK
            and peaks.inner_reach < SOLID_LEVEL - MEAN_SLACK
            and (peaks.inner_reach < DIGIT_INK.lo or peaks.inner < DIGIT_INK.lo)
            and peaks.faint_reach < FAINT_LEVEL)


def _digit_parts(tt: TargetTemplate, dark: np.ndarray, thick_mm2: float = 0.0,
                 core_level: float = DIGIT_INK.core, peaks: DigitPeaks | None = None,
                 middle_mm2: float = 0.0) -> DigitEvidence:
    """A digit target's `DigitEvidence` from its new darkness patch (and its
    `glyph_darkening_mm2` and `middle_darkening_mm2`, each less the page's
    median over its digits, and its `DigitPeaks` if known)."""
    peaks = peaks or digit_peaks(tt, dark)
    if _no_evidence(peaks, core_level):
        return DigitEvidence(thick_mm2=thick_mm2)  # most digits: nothing but the glyph's own darkening
    strokes, labels, counts_here, crumbs_mm2 = digit_strokes(tt, dark, core_level, peaks)
    through = beside = tick = arc = between = 0.0
    for s in strokes:
        if s.owner == "between":
            between = max(between, s.length)
        elif s.owner == "own" and s.over and s.beyond and not s.rim:
            through = max(through, s.length)
        elif s.owner == "own" and s.over:
            # The glyph's rim darkened, or a short stroke within the digit's
            # box: evidence of ink, not a stroke across.
            arc = max(arc, s.length)
        elif s.owner == "own":
            kind = stroke_kind(s)
            if kind == "under":
                beside = max(beside, s.length)
            elif kind == "tick":
                tick = max(tick, s.length)
            else:
                arc = max(arc, s.length)
    # A loop round the digit, off it, is a circle whatever its size: one
    # wider than the ring's region (a loose circle, 4-5 mm out) counts as
    # much of the ring as it goes round.
    ring = max((s.around for s in strokes if s.owner == "own"), default=0.0)
    if counts_here.any():
        assert tt.ring_px is not None and tt.ring_sector is not None
        keep = cv2.dilate(counts_here.view(np.uint8).take(labels), _SQUARE_3)  # `take`: see `new_ink`
        # Only the ring's pixels (`TargetTemplate.ring_px`, all within `region`) are summed.
        ring_dark = dark.ravel()[tt.ring_px]
        soft = ((ring_dark - DIGIT_INK.lo) / (DIGIT_INK.hi - DIGIT_INK.lo)).clip(0.0, 1.0) * keep.ravel()[tt.ring_px]
        per_sector = np.bincount(tt.ring_sector, weights=soft, minlength=RING_SECTORS)
        ring = max(ring, int(np.count_nonzero(per_sector >= MIN_SECTOR_MM2 * CANON_PX_PER_MM**2)) / RING_SECTORS)
    assert tt.inner is not None and tt.fill_region is not None and tt.inner_reach is not None
    assert tt.glyph is not None
    # The middle's ink measured for its extent only where it can tell a circle crossed out.
    middle_mm = 0.0
    if ring >= BLACKOUT_AROUND and middle_mm2 >= CROSSED_MM2 and counts_here.any():
        middle_mm = middle_extent_mm(tt, dark, _round_sectors(tt, counts_here.take(labels) & ~tt.glyph), core_level)
    # Over the digit's box grown by DIGIT_INNER_GROW_MM (a crop one pixel
    # wider, so the 3x3 mean is the whole patch's): a shading's coverage (glyph
    # and rim left out), a blackout's, and all new ink however broken (a
    # stroke hidden mostly under the glyph still thickens it here).
    y0, y1, x0, x1 = tt.box_crop
    box_dark = dark[y0:y1, x0:x1]
    fill = solid = inner_mm2 = hidden = fill_local = 0.0
    # Most digits' boxes hold no new ink as dark as a shading's off the glyph:
    # all of them are then 0 (a 3x3 mean is never darker than the darkest pixel
    # of `TargetTemplate.inner_reach`, see MEAN_SLACK, and the soft ink starts
    # at DIGIT_INK.lo, above FILL_LEVEL).
    # Each is also 0 on its own bound (the box's ink is mostly the glyph's edge,
    # dark enough for none of them): a fill (and `fill_local`, never above it)
    # where no pixel of `TargetTemplate.fill_reach` is as dark as FILL_LEVEL, a
    # blackout (and `hidden`, its middle) where none of `inner_reach` is as dark
    # as SOLID_LEVEL, and the new ink where none of
    # `inner` is as dark as DIGIT_INK.lo (the soft ink is 0 up to it).
    peak = peaks.inner_reach
    if peak >= FILL_LEVEL - MEAN_SLACK:
        assert tt.fill_reach is not None
        inner = tt.inner[y0:y1, x0:x1]
        smooth: np.ndarray | None = None
        if peaks.fill_reach >= FILL_LEVEL - MEAN_SLACK:
            smooth = cv2.blur(box_dark, (3, 3))
            fill = int(np.count_nonzero((smooth >= FILL_LEVEL) & tt.fill_region)) / tt.fill_px
            fill_local = fill
            if fill > 0.0:
                assert tt.surround is not None
                surround = _mask_px(tt, "surround")
                paper_round = median(cv2.blur(dark, (3, 3)).ravel()[surround]) if len(surround) else 0.0
                if paper_round > 0.0:  # grey round the digit: the shading measured above it
                    above = (smooth - paper_round >= FILL_LEVEL) & tt.fill_region
                    fill_local = int(np.count_nonzero(above)) / tt.fill_px
        if peak >= SOLID_LEVEL - MEAN_SLACK:
            smooth = cv2.blur(box_dark, (3, 3)) if smooth is None else smooth
            # Blacked out: a fill spills past the print; a circle only grazes it, a cross crosses it.
            dark_mean = smooth >= SOLID_LEVEL
            solid = int(np.count_nonzero(dark_mean & inner)) / tt.inner_box_px
            assert tt.middle is not None  # within `inner`: the same bound holds
            hidden = int(np.count_nonzero(dark_mean & tt.middle)) / tt.middle_px
        if peak >= DIGIT_INK.lo and peaks.inner >= DIGIT_INK.lo:
            # The box less its glyph's pixels gathered first, in their order
            # (`_inner_in_box_px`), each mapped to soft ink as over the box.
            ink = dark.ravel().take(_inner_in_box_px(tt))
            soft = ((ink - DIGIT_INK.lo) / (DIGIT_INK.hi - DIGIT_INK.lo)).clip(0.0, 1.0)
            inner_mm2 = float(soft.sum()) / CANON_PX_PER_MM**2
    faint = 0.0 if any(s.owner != "other" for s in strokes) else faint_stroke_mm(tt, dark, peaks.faint_reach)
    return DigitEvidence(ring, through, beside, arc, between, fill, solid, inner_mm2, thick_mm2, tick, crumbs_mm2,
                         hidden, faint, fill_local, middle_mm2, middle_mm)


def _polar(tt: TargetTemplate) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel of a digit's patch (flattened) round its centre: its distance
    (canonical px) and its sector (of RING_SECTORS, as the template numbers the
    ring's). Made once per template."""
    def make(t: TargetTemplate) -> tuple[np.ndarray, np.ndarray]:
        h, w = t.shape
        ys, xs = np.mgrid[0:h, 0:w]
        dx, dy = (xs - t.centre[0]).ravel(), (ys - t.centre[1]).ravel()
        return np.hypot(dx, dy), sector_of(np.arctan2(dy, dx))

    return kept(tt, "polar", make)


def _middle_px(tt: TargetTemplate) -> np.ndarray:
    """The patch's pixels within `MIDDLE_MM` of the digit's centre, glyph
    included, as indices into the flattened patch. Made once per template."""
    return kept(tt, "middle_px", lambda t: np.flatnonzero(_polar(t)[0] <= MIDDLE_MM * CANON_PX_PER_MM))


def middle_darkening_mm2(tt: TargetTemplate, added: np.ndarray) -> float:
    """The darkness the page adds over a digit's middle (`added`: its patch's
    darkness less the blank's print blurred as the page is, signed), glyph
    included, in mm2 of full ink: a stroke across the digit shows here even
    where the print hides most of it, and a blur or a shift of the print moves
    its darkness about but adds little. `score_targets` takes the page's
    median over its digits off (a print darker than the blank's)."""
    return float(added.ravel().take(_middle_px(tt)).sum()) / CANON_PX_PER_MM**2


# A stroke across the digit passes through its middle, its ink round the
# centre; an arc of a circle drawn off-centre that clips the middle passes
# by on one side (`middle_extent_mm`): the middle's ink (weighted as for its
# extent) is centred within MIDDLE_OFF_MM of the digit's centre, half the
# middle's radius. And a circle round the digit goes round outside its
# middle: where that ink lies off the centre, the digit's own strokes pass
# beyond the ring's inner edge in that direction (its sector and the two
# beside it, of RING_SECTORS).
MIDDLE_OFF_MM = 0.55


def _outer_px(tt: TargetTemplate) -> tuple[np.ndarray, np.ndarray]:
    """The patch's pixels beyond the ring's inner edge (`RING_INNER_FACTOR`
    of the digit's size), as indices into the flattened patch, and their
    sectors round the centre. Made once per template."""
    def make(t: TargetTemplate) -> tuple[np.ndarray, np.ndarray]:
        r, sector = _polar(t)
        out = np.flatnonzero(r >= RING_INNER_FACTOR * max(t.target.bbox_mm[2], t.target.bbox_mm[3]) * CANON_PX_PER_MM)
        return out, sector[out]

    return kept(tt, "outer_px", make)


def _round_sectors(tt: TargetTemplate, own: np.ndarray) -> np.ndarray:
    """Which of the RING_SECTORS round a digit its own strokes (`own`, a mask of
    the patch off the glyph) reach into beyond the ring's inner edge, with a
    sector's least ink (`MIN_SECTOR_MM2`)."""
    idx, sector = _outer_px(tt)
    hits = np.bincount(sector[own.ravel().take(idx).astype(bool)], minlength=RING_SECTORS)
    return hits >= MIN_SECTOR_MM2 * CANON_PX_PER_MM**2


def middle_extent_mm(tt: TargetTemplate, dark: np.ndarray, round_sectors: np.ndarray,
                     core_level: float = DIGIT_INK.core) -> float:
    """The extent (mm) of the new ink across a digit's middle (`dark`: its new
    darkness patch; each pixel weighted by its darkness above a stroke's core,
    `core_level`, which the print's halo and the paper's noise stay under):
    the length of a uniform line with the same spread along its main axis,
    sqrt(12 x the largest variance). A stroke across the middle spans it; a
    blob of area A reads 0.98 sqrt(A) mm, less than its width. 0 when there
    is none, or when it is an off-centre circle's (see MIDDLE_OFF_MM;
    `round_sectors`: `_round_sectors` of the digit's own strokes)."""
    idx = _middle_px(tt)
    weight = dark.ravel().take(idx) - core_level
    ink = weight > 0.0
    if not ink.any():
        return 0.0
    share = weight[ink] / float(weight[ink].sum())
    ys, xs = _rows_cols(tt).take(idx[ink], axis=1).astype(np.float64)
    mx, my = float(share @ xs), float(share @ ys)
    off = math.hypot(mx - tt.centre[0], my - tt.centre[1])
    if off > MIDDLE_OFF_MM * CANON_PX_PER_MM:
        return 0.0
    if off >= 1.0:  # off the centre by a pixel or more
        k = int(sector_of(np.array(math.atan2(my - tt.centre[1], mx - tt.centre[0]))))
        if not all(round_sectors[(k + j) % RING_SECTORS] for j in (-1, 0, 1)):
            return 0.0
    dx, dy = xs - mx, ys - my
    cxx, cyy, cxy = float(share @ (dx * dx)), float(share @ (dy * dy)), float(share @ (dx * dy))
    largest = (cxx + cyy) / 2 + math.sqrt(((cxx - cyy) / 2) ** 2 + cxy * cxy)
    return math.sqrt(12.0 * largest) / CANON_PX_PER_MM


def _inner_in_box_px(tt: TargetTemplate) -> np.ndarray:
    """The digit's box less its glyph (`TargetTemplate.inner`) within its
    `box_crop` window, as indices into the flattened patch in the patch's
    order (the window's own row order): made once per template, as one gather
    is cheaper than a 2-D boolean index."""
    def make(t: TargetTemplate) -> np.ndarray:
        assert t.inner is not None
        y0, y1, x0, x1 = t.box_crop
        window = np.zeros(t.shape, bool)
        window[y0:y1, x0:x1] = True
        return np.flatnonzero(t.inner & window)

    return kept(tt, "inner_in_box_px", make)


def _mask_px(tt: TargetTemplate, name: str) -> np.ndarray:
    """The template's mask `name` ("glyph", "surround") as indices into the
    flattened patch, in the patch's order (a mask's pixels' order): made once
    per template, as one gather is cheaper than a boolean index."""
    return kept(tt, f"{name}_px", lambda t: np.flatnonzero(getattr(t, name)))


def _around(px: np.ndarray, py: np.ndarray, centre: tuple[float, float]) -> float:
    """The share of `RING_SECTORS` equal sectors round `centre` that a stroke's
    pixels pass through: a circle round the digit, however loose, all of them."""
    sectors = sector_of(np.arctan2(py - centre[1], px - centre[0]))
    return float(np.count_nonzero(np.bincount(sectors, minlength=RING_SECTORS))) / RING_SECTORS


def _runs_through(xs: np.ndarray, ys: np.ndarray, tt: TargetTemplate) -> bool:
    """Whether a piece of ink near a digit runs out of its zone (the patch's
    disc) on two sides: its pixels at the disc's edge lie at least a radius
    apart. A light mark drawn round or beside a digit stays within reach of
    it; a scanner's streak or a crease runs on along the page."""
    half = tt.shape[0] / 2.0
    r = np.hypot(xs - (tt.shape[1] - 1) / 2.0, ys - (tt.shape[0] - 1) / 2.0)
    edge = r >= half - 2.0
    if not edge.any():
        return False
    ex, ey = xs[edge], ys[edge]
    return bool(math.hypot(float(ex.max() - ex.min()), float(ey.max() - ey.min())) >= half)


def faint_stroke_mm(tt: TargetTemplate, dark: np.ndarray, reach_peak: float | None = None) -> float:
    """The extent (mm, the long side of its minimum-area rectangle) of the
    longest faint stroke near a digit, off the print: new ink lighter than a
    stroke's core (a light pencil circle on a photo, 0.15-0.22 of full ink)
    but, averaged over 3x3 pixels, above `FAINT_LEVEL`, which the paper's
    noise averages away from. Evidence of ink, never of a mark (see
    `DigitEvidence.faint_mm`). `reach_peak`: `DigitPeaks.faint_reach`, if known."""
    assert tt.zone is not None and tt.near_print is not None and tt.own_mm is not None and tt.other_mm is not None
    assert tt.faint_reach is not None
    if reach_peak is None:
        reach_peak = float(dark[tt.faint_reach].max()) if tt.faint_reach.any() else 0.0
    if reach_peak < FAINT_LEVEL:
        return 0.0  # no pixel a faint stroke's 3x3 mean could draw on: most clean digits
    longest = 0.0
    zone, near = tt.zone, tt.near_print
    for xs, ys, points in _faint_pieces(tt, dark, kept(tt, "zone_off_print", lambda _: zone & ~near)):
        own, other = tt.own_mm[ys, xs], tt.other_mm[ys, xs]
        if _ownership(float(own.min()), float(other.min()), float((other - own).min())) == "other":
            continue  # another target's (a circle round the digit of the row above)
        if _runs_through(xs, ys, tt) and _around(xs, ys, tt.centre) < ENCLOSE_SHARE:
            continue  # a scanner's streak down the page, a crease: no hand's light mark
        longest = max(longest, _pen_wide_length(points))
    return longest


def box_faint_mm(tt: TargetTemplate, dark: np.ndarray, peaks: BoxPeaks | None = None) -> float:
    """The extent (mm) of the longest faint stroke through a box: as
    `faint_stroke_mm` measures one, off the print (the box's border and
    `NEAR_PRINT_PX` round it), with ink in the box's counted interior
    (`TargetTemplate.region`), and not running out of the box's patch on two
    opposite sides (a crease, a streak). A line struck through a row of
    boxes is cut by each border into a piece within each box: evidence of ink
    in each, as a person would look at it. A light pencil check whose vertex
    sits on the border covers 0.03 of the interior, under any share that
    reads a box marked or marginal, yet a person sees it: evidence of ink
    (`TargetMeasure.faint_mm`), never of a mark. `peaks`: the box's
    `BoxPeaks`, if known."""
    assert tt.near_print is not None and tt.faint_reach is not None
    if not tt.region_px or (peaks or box_peaks(tt, dark)).faint_reach < FAINT_LEVEL:
        return 0.0  # nothing in the interior a faint stroke's 3x3 mean could draw on: most boxes
    h, w = dark.shape
    longest = 0.0
    near = tt.near_print
    for xs, ys, points in _faint_pieces(tt, dark, kept(tt, "off_print", lambda _: ~near)):
        if not tt.region[ys, xs].any():
            continue  # beside the box, not through it (a neighbour's tick grazing it)
        if (xs.min() == 0 and xs.max() == w - 1) or (ys.min() == 0 and ys.max() == h - 1):
            continue
        longest = max(longest, _pen_wide_length(points))
    return longest


def _faint_pieces(tt: TargetTemplate, dark: np.ndarray,
                  allowed: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pixels (xs, ys, and as `_points`) of each piece of faint ink within
    `allowed` in the target `tt`'s new darkness patch `dark`, at least a
    stroke's least ink (MIN_STROKE_MM2): new darkness whose 3x3 mean
    stands `FAINT_LEVEL` above the ink round it (an opening wider than any
    pen's line: a shadow's edge or a paper level a little off lifts a whole
    area, not a line)."""
    local = dark - cv2.morphologyEx(dark, cv2.MORPH_OPEN, _FAINT_OPEN)
    faint = np.greater_equal(cv2.blur(local, (3, 3)), FAINT_LEVEL)
    faint &= allowed
    faint = faint.view(np.uint8)  # 0/1 as uint8 without a copy
    min_px = MIN_STROKE_MM2 * CANON_PX_PER_MM**2
    if cv2.countNonZero(faint) < min_px:
        return
    n, labels, stats = strokes_with_stats(faint)
    for label in range(1, n):
        if stats[label, cv2.CC_STAT_AREA] >= min_px:
            # `np.nonzero`'s pixels, in its order, from the flat indices (a
            # 2-D `np.nonzero` takes ~4 times as long) and the patch's maps.
            flat = np.flatnonzero(labels == label)
            ys, xs = _rows_cols(tt).take(flat, axis=1)
            yield xs, ys, _points(tt).take(flat, axis=0)


def _pen_wide_length(points: np.ndarray) -> float:
    """A piece's extent (mm, the long side of its minimum-area rectangle), or 0
    when it is thinner than any pen's line (a scanner's streak, a hair) or a
    dot (`FAINT_DOT_MM`). `points`: its pixels as (x, y), float32 (`_points`)."""
    (_, _), (rw, rh), _ = cv2.minAreaRect(points)
    long_px, short_px = max(rw, rh) + 1.0, min(rw, rh) + 1.0
    length = long_px / CANON_PX_PER_MM
    if len(points) / CANON_PX_PER_MM**2 / length < THIN_PEN_MM / 2:
        return 0.0
    if length < FAINT_DOT_MM and long_px < 2.0 * short_px:
        return 0.0
    return length


def blank_darkness(tt: TargetTemplate | TextTemplate, blur: float) -> np.ndarray:
    """The blank's darkness in a target's or text field's patch blurred as the
    page is (`blur`, one of `BLUR_SIGMAS`): made once per template and blur,
    kept in its `derived`."""
    return kept(tt, f"blank@{blur}", lambda t: _blurred(t.printed, blur))


def _blurred(printed: np.ndarray | None, blur: float) -> np.ndarray:
    assert printed is not None
    return np.asarray(cv2.GaussianBlur(printed, (0, 0), blur) if blur > 0 else printed)


def _core_levels(tt: TargetTemplate, core_level: float) -> np.ndarray:
    """Per pixel of a digit's patch, the darkness from which it is a stroke's
    core on a blurred page: `DIGIT_INK.core` near the print (`NEAR_PRINT_PX`),
    `core_level` (`stroke_core`, one per blur) elsewhere."""
    assert tt.near_print is not None
    near = tt.near_print
    return kept(tt, f"core@{core_level}", lambda t: np.where(near, DIGIT_INK.core, core_level))


def stroke_core(blur: float) -> float:
    """The darkness from which a pixel near a digit is a stroke's core on a
    page blurred by `blur` (sigma, canonical px): `DIGIT_INK.core` for a
    sharp line, times the share of its darkness the thinnest pen's line
    (`THIN_PEN_MM`) keeps at its middle under that blur. A blur spreads a
    line's ink sideways and lowers its middle: a light pencil underline on a
    phone photo out of focus (sigma 1.5) peaked at 0.25, under a fixed core,
    and was never seen. The blank's print is blurred alike, so what a
    misregistered glyph's halo leaves is lowered as much."""
    if blur <= 0:
        return DIGIT_INK.core
    width = THIN_PEN_MM * CANON_PX_PER_MM
    return max(BOX_INK.core, DIGIT_INK.core * math.erf(width / (2.0 * math.sqrt(2.0) * blur)))


def crosses_box(tt: TargetTemplate, dark: np.ndarray, peaks: BoxPeaks | None = None) -> bool:
    """Whether a stroke as dark as a pen's line crosses a box's counted
    interior from one side to the opposite side (see ACROSS_TOUCH_PX), and
    is the box's own: ink that runs on to both opposite edges of the box's
    patch (a line struck through a row of boxes, 1 mm beyond each) is not a
    mark of this box. `peaks`: the box's `BoxPeaks`, if known."""
    if not tt.region_px:
        return False
    y0, y1, x0, x1 = tt.interior
    if (peaks or box_peaks(tt, dark)).interior < DIGIT_INK.core:
        return False  # most boxes: nothing as dark as a pen's line in the interior, no stroke in it
    inked = dark >= DIGIT_INK.core
    if (inked[:, 0].any() and inked[:, -1].any()) or (inked[0, :].any() and inked[-1, :].any()):
        return False
    core = np.logical_and(inked, tt.region).view(np.uint8)  # 0/1 as uint8 without a copy
    if np.count_nonzero(core) < MIN_STROKE_MM2 * CANON_PX_PER_MM**2:
        return False
    core = cv2.morphologyEx(core, cv2.MORPH_CLOSE, _SQUARE_3) & tt.region  # uint8 & bool: uint8
    n, _, stats = strokes_with_stats(core)
    y1, x1 = y1 - 1, x1 - 1  # the interior's last row and column
    t = ACROSS_TOUCH_PX
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < MIN_STROKE_MM2 * CANON_PX_PER_MM**2:
            continue
        if (x <= x0 + t and x + w - 1 >= x1 - t) or (y <= y0 + t and y + h - 1 >= y1 - t):
            return True
    return False


@dataclass(frozen=True)
class BoxPeaks:
    """The darkest new ink (0..1) of a box's patch where each of the scorer's
    cheap bounds looks (as `DigitPeaks` for a digit): within its `reach`
    window, its `interior` window, and `faint_reach`. `box_peaks` takes them
    one box at a time, `group_box_peaks` for a page's boxes of one patch size
    at once."""

    reach: float
    interior: float
    faint_reach: float


def box_peaks(tt: TargetTemplate, dark: np.ndarray) -> BoxPeaks:
    """A box's `BoxPeaks` in its new darkness patch `dark` (its region not empty)."""
    assert tt.faint_reach is not None
    (y0, y1, x0, x1), (i0, i1, j0, j1) = tt.reach, tt.interior
    faint = float(dark[tt.faint_reach].max()) if tt.faint_reach.any() else 0.0
    return BoxPeaks(float(dark[y0:y1, x0:x1].max()), float(dark[i0:i1, j0:j1].max()), faint)


def _faint_reaches(template: PageTemplate, group: Sequence[int]) -> np.ndarray:
    """The `faint_reach` of each box of `group`, stacked as 0/1 float32."""
    reaches = []
    for i in group:
        mask = template.targets[i].faint_reach
        assert mask is not None
        reaches.append(mask)
    return np.stack(reaches).astype(np.float32)


def group_box_peaks(template: PageTemplate, group: Sequence[int], new: np.ndarray) -> list[BoxPeaks]:
    """`box_peaks` of the boxes `group` (indices into the template's targets,
    all of one patch size, none with an empty region) from their stacked new
    darkness `new`: one array operation per window the boxes share (boxes of
    one size lie alike in their patches), and one for `faint_reach` (new
    darkness is never negative: the darkest pixel of a mask is the darkest of
    the patch times the 0/1 mask, stacked once and kept in the page
    template's `derived`)."""
    masks = kept(template, f"box_peaks:{group[0]}-{len(group)}", partial(_faint_reaches, group=group))
    faint = (new * masks).max(axis=(1, 2)).tolist()
    reach, interior = [0.0] * len(group), [0.0] * len(group)
    alike: dict[tuple[tuple[int, int, int, int], tuple[int, int, int, int]], list[int]] = {}
    for k, i in enumerate(group):
        alike.setdefault((template.targets[i].reach, template.targets[i].interior), []).append(k)
    for ((y0, y1, x0, x1), (i0, i1, j0, j1)), members in alike.items():
        stack = new if len(members) == len(group) else new[members]
        for k, r, n in zip(members, stack[:, y0:y1, x0:x1].max(axis=(1, 2)).tolist(),
                           stack[:, i0:i1, j0:j1].max(axis=(1, 2)).tolist()):
            reach[k], interior[k] = r, n
    return [BoxPeaks(*values) for values in zip(reach, interior, faint)]


def _box_measures(tt: TargetTemplate, dark: np.ndarray, peaks: BoxPeaks | None = None) -> tuple[float, float]:
    """(score, solid) of a box from its new darkness patch `dark`: the soft
    new-ink fraction of its interior (`new_ink`), and the share of it under
    dark new ink (`SOLID_LEVEL`, 3x3 mean). `peaks`: its `BoxPeaks`, if known."""
    if not tt.region_px:
        return 0.0, 0.0
    peaks = peaks or box_peaks(tt, dark)
    peak = peaks.reach
    # Most boxes hold no pixel as dark as a stroke's core within reach of their
    # interior (`TargetTemplate.reach`): no stroke there, no new ink, and no
    # 3x3 mean as dark as a solid fill (see MEAN_SLACK).
    # Nor is there any new ink where no pixel of the counted interior (its
    # bounding window, `TargetTemplate.interior`) is as dark as BOX_INK.lo: the
    # soft ink is 0 up to it (most boxes' ink within reach is their printed
    # border's edge).
    score = 0.0
    if peak >= BOX_INK.core and peaks.interior >= BOX_INK.lo:
        score = float(new_ink(dark, tt.region, BOX_INK, reach=tt.reach).sum() / tt.region_px)
    if peak < SOLID_LEVEL - MEAN_SLACK:
        return score, 0.0
    return score, np.count_nonzero((cv2.blur(dark, (3, 3)) >= SOLID_LEVEL) & tt.region) / tt.region_px


def _by_shape(targets: Sequence[TargetTemplate]) -> list[list[int]]:
    """The indices of `targets` grouped by the size of their patch (boxes of
    one size, digits of one size): each group's patches are processed as one
    stack, not one by one."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, tt in enumerate(targets):
        groups.setdefault(tt.shape, []).append(i)
    return list(groups.values())


def _paper_cells(shape: tuple[int, ...], x0: np.ndarray, y0: np.ndarray, w: int, h: int) -> np.ndarray:
    """Where `_group_paper` reads a paper map of `shape` for w x h patches at
    (`x0`, `y0`), as flat indices into it: per patch, the cell under its
    centre (column 0) and the block of cells it covers, of the largest
    patch's size, its last row and column repeated where it has fewer (a
    repeated cell changes no minimum or maximum). The same for every page of
    a form: `_darkness_windows` keeps it in the page template's `derived`."""
    s, (ph, pw) = BACKGROUND_STEP, shape
    centre = np.clip((y0 + h // 2) // s, 0, ph - 1) * pw + np.clip((x0 + w // 2) // s, 0, pw - 1)
    r0, r1 = np.clip(y0 // s, 0, ph - 1), np.clip((y0 + h - 1) // s, 0, ph - 1)
    c0, c1 = np.clip(x0 // s, 0, pw - 1), np.clip((x0 + w - 1) // s, 0, pw - 1)
    rows = np.minimum(r0[:, None] + np.arange(int((r1 - r0).max()) + 1), r1[:, None])
    cols = np.minimum(c0[:, None] + np.arange(int((c1 - c0).max()) + 1), c1[:, None])
    block = (rows[:, :, None] * pw + cols[:, None, :]).reshape(len(centre), -1)
    return np.concatenate([centre[:, None], block], axis=1)


def _group_paper(paper: np.ndarray, x0: np.ndarray, y0: np.ndarray, w: int, h: int,
                 cells_at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For w x h patches at (`x0`, `y0`) (arrays, one per patch): `paper_at` of
    each (float32) and whether `paper_uneven` holds for it, in a few array
    operations on the paper map's cells under each (`_paper_cells`, or
    `cells_at`, what it gave for these patches and this map's shape)."""
    at = _paper_cells(paper.shape, x0, y0, w, h) if cells_at is None else cells_at
    flat = paper.ravel()
    levels, cells = flat[at[:, 0]], flat[at[:, 1:]]
    # `paper_uneven`'s comparison, in double as there
    low, high = cells.min(axis=1).astype(np.float64), cells.max(axis=1).astype(np.float64)
    return levels, high - low > PAPER_UNEVEN * high


def _darkness_windows(page: np.ndarray, ink: PageInk, targets: Sequence[TargetTemplate],
                      groups: list[list[int]], radius: int,
                      keep: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
    """Each target's snap window: `darkness_patch` of its patch grown by
    `radius` on every side, made for a group of equal patches at once (the
    same arithmetic, pixel for pixel). `keep`: the page template's `derived`,
    where each group's windows lie on the paper map (`_paper_cells`)
    is kept: the targets' places and the map's shape are the form's."""
    out: list[np.ndarray] = [np.empty(0, np.float32)] * len(targets)
    ph, pw = page.shape
    for group in groups:
        h, w = targets[group[0]].shape
        wh, ww = h + 2 * radius, w + 2 * radius
        xs = np.array([targets[i].x0 for i in group]) - radius
        ys = np.array([targets[i].y0 for i in group]) - radius
        cells_at = None
        if keep is not None:
            name = f"paper_cells:{group[0]}-{len(group)}:{radius}:{ink.paper.shape}"
            cells_at = keep.get(name)
            if cells_at is None:
                cells_at = keep[name] = _paper_cells(ink.paper.shape, xs, ys, ww, wh)
        levels, uneven = _group_paper(ink.paper, xs, ys, ww, wh, cells_at)
        dark = np.empty((len(group), wh, ww), np.float32)  # (1 - crop / paper) / ink_ref, in place
        outside = []
        for k, (x0, y0) in enumerate(zip(xs.tolist(), ys.tolist())):
            if x0 >= 0 and y0 >= 0 and x0 + ww <= pw and y0 + wh <= ph:
                dark[k] = page[y0 : y0 + wh, x0 : x0 + ww]
            else:
                dark[k] = crop_padded(page, x0, y0, ww, wh)
                outside.append((k, x0, y0))
        greys = {k: dark[k].copy() for k in np.flatnonzero(uneven).tolist()}  # where the paper is uneven
        dark /= levels[:, None, None]
        np.subtract(1.0, dark, out=dark)
        dark /= ink.ink_ref
        for k, grey in greys.items():  # a shadow's edge across the patch: the paper under each pixel
            dark[k] = (1.0 - grey / paper_under(ink.paper, int(xs[k]), int(ys[k]), ww, wh)) / ink.ink_ref
        for k, x0, y0 in outside:  # zero off the page, as `darkness_patch`
            dark[k][~_on_page(page.shape, x0, y0, ww, wh)] = 0.0
        dark.clip(0.0, 1.0, out=dark)
        for k, i in enumerate(group):
            out[i] = dark[k]
    return out


def _added_darkness(darks: list[np.ndarray], blanks: list[np.ndarray], groups: list[list[int]]) -> list[np.ndarray]:
    """Per group of equal patches, the stack of its targets' snapped darkness
    (`darks`) less the blank's blurred as the page is (`blanks`: per group, the
    stack of its targets' `blank_darkness`), signed: the new darkness within
    0..1, and what `glyph_darkening_mm2` sums."""
    out = []
    for group, blank in zip(groups, blanks):
        added = np.stack([darks[i] for i in group])
        added -= blank
        out.append(added)
    return out


def blank_stacks(template: PageTemplate, groups: list[list[int]], blur: float) -> list[np.ndarray]:
    """Per group of equal patches (`_by_shape`), the stack of its targets'
    `blank_darkness` at `blur`: the same for every page of the form with that
    blur, so made once and kept in the page template's `derived`."""
    return [kept(template, f"blanks@{blur}:{group[0]}-{len(group)}", partial(_blank_stack, group=group, blur=blur))
            for group in groups]


def _blank_stack(template: PageTemplate, group: Sequence[int], blur: float) -> np.ndarray:
    # Each target's blurred blank made here and kept in the stack only (not also in
    # the target's `derived`, as `blank_darkness` keeps a text field's).
    return np.stack([_blurred(template.targets[i].printed, blur) for i in group])


def _trusted_offsets(
    templates: Sequence[TargetTemplate], snaps: list[tuple[int, int, float]]
) -> list[tuple[int, int]]:
    """Each target's offset: its own if trusted, else the median of trusted
    neighbours' within `NEIGHBOUR_MM`, else none."""
    if all(s[2] >= MATCH_TRUST for s in snaps):
        return [(dx, dy) for dx, dy, _ in snaps]  # most pages: every snap its own
    centres = np.array([(t.x0 + t.shape[1] / 2, t.y0 + t.shape[0] / 2) for t in templates])
    trusted = np.array([s[2] >= MATCH_TRUST for s in snaps], bool)
    offsets = np.array([(s[0], s[1]) for s in snaps], float).reshape(-1, 2)
    out: list[tuple[int, int]] = []
    reach = NEIGHBOUR_MM * CANON_PX_PER_MM
    for i, (dx, dy, _) in enumerate(snaps):
        if trusted[i]:
            out.append((dx, dy))
            continue
        near = trusted & (np.linalg.norm(centres - centres[i], axis=1) <= reach)
        if near.any():
            mx, my = np.median(offsets[near], axis=0)
            out.append((int(round(mx)), int(round(my))))
        else:
            out.append((0, 0))
    return out


def scored_areas(template: PageTemplate) -> list[tuple[int, int, int, int]]:
    """Where `score_targets` reads the canonical page (px rectangles x0, y0,
    x1, y1, end exclusive): each target's patch grown by the snap's search
    radius (`SEARCH_MM`), its darkness window (`_darkness_windows`)."""
    r = mm_to_px(SEARCH_MM)
    return [(t.x0 - r, t.y0 - r, t.x0 + t.shape[1] + r, t.y0 + t.shape[0] + r) for t in template.targets]


def score_targets(page: np.ndarray, template: PageTemplate, ink: PageInk) -> tuple[TargetMeasure, ...]:
    """Measure every target of `template` on the registered canonical `page`
    (2-D uint8 at `CANON_PX_PER_MM`, valid at least in `scored_areas`: an
    `omr.warp.CanonicalPage` warps only those), with the page's `PageInk`
    (`omr.ink.page_ink_in_view`). Returns raw scores in template order; no
    threshold is applied here (`omr.decide` does that)."""
    radius = mm_to_px(SEARCH_MM)
    targets = template.targets
    groups = _by_shape(targets)
    windows = _darkness_windows(page, ink, targets, groups, radius, template.derived)
    snaps = _group_snaps(windows, targets, groups, radius)
    offsets = _trusted_offsets(targets, snaps) if targets else []
    darks = [window[radius + dy : radius + dy + tt.shape[0], radius + dx : radius + dx + tt.shape[1]]
             for tt, window, (dx, dy) in zip(targets, windows, offsets)]
    blanks = blank_stacks(template, groups, ink.blur)
    news: list[np.ndarray] = [np.empty(0, np.float32)] * len(targets)
    darkening = [0.0] * len(targets)
    middles = [0.0] * len(targets)
    peaks: list[DigitPeaks | None] = [None] * len(targets)
    bounds: list[BoxPeaks | None] = [None] * len(targets)
    for group, added in zip(groups, _added_darkness(darks, blanks, groups)):
        new = added.clip(0.0, 1.0)  # each target's new darkness
        for k, i in enumerate(group):
            news[i] = new[k]
        at = [k for k, i in enumerate(group) if targets[i].target.shape == "digit"]
        if at:
            values = glyph_darkening_mm2([targets[group[k]] for k in at], added if len(at) == len(group) else added[at])
            for k, value in zip(at, values):
                darkening[group[k]] = value
                middles[group[k]] = middle_darkening_mm2(targets[group[k]], added[k])
            digit_group = [group[k] for k in at]
            stack = new if len(at) == len(group) else new[at]
            for i, found in zip(digit_group, group_digit_peaks(template, digit_group, stack)):
                peaks[i] = found
        at = [k for k, i in enumerate(group) if targets[i].target.shape != "digit" and targets[i].region_px]
        if at:
            box_group = [group[k] for k in at]
            stack = new if len(at) == len(group) else new[at]
            for i, box in zip(box_group, group_box_peaks(template, box_group, stack)):
                bounds[i] = box
    digits = [i for i, tt in enumerate(template.targets) if tt.target.shape == "digit"]
    usual = median(np.array([darkening[i] for i in digits])) if digits else 0.0
    usual_middle = median(np.array([middles[i] for i in digits])) if digits else 0.0
    core = stroke_core(ink.blur)
    # An offset's millimetres, rounded once per page for every offset a snap
    # can take (a borrowed median lies among them too).
    offset_mm = {d: round(d / CANON_PX_PER_MM, 2) for d in range(-radius, radius + 1)}
    out = []
    for tt, new, thick, (dx, dy), (_, _, match), peak, bound, middle in zip(
            template.targets, news, darkening, offsets, snaps, peaks, bounds, middles):
        evidence: DigitEvidence | None = None
        across, faint = False, 0.0
        if tt.target.shape == "digit" and peak is not None and _no_evidence(peak, core):
            # Most digits: `_digit_parts` would give every part 0 but the
            # thickening (`_no_evidence`), whose summary is 0 and whose other
            # parts round to 0.
            score, solid, evidence = 0.0, 0.0, DigitEvidence(thick_mm2=round(thick - usual, 3))
        elif tt.target.shape == "digit":
            parts = _digit_parts(tt, new, thick - usual, core, peak, middle - usual_middle)
            score, evidence = parts.summary(), parts.rounded()
            solid = evidence.solid
        else:
            score, solid = _box_measures(tt, new, bound)
            across = crosses_box(tt, new, bound)
            faint = box_faint_mm(tt, new, bound)
        mm_x = offset_mm[dx] if dx in offset_mm else round(dx / CANON_PX_PER_MM, 2)
        mm_y = offset_mm[dy] if dy in offset_mm else round(dy / CANON_PX_PER_MM, 2)
        # In the fields' order (keywords cost twice the time of the whole
        # construction); a value of 0 is its own rounding (most boxes' and
        # digits' score, solid and faint): `round` is called only on the rest.
        out.append(TargetMeasure(
            tt.target.question,  # question
            tt.target.option,  # option
            tt.target.shape,  # shape
            round(score, 4) if score else score,  # score
            (mm_x, mm_y),  # offset_mm
            round(match, 3),  # match
            evidence,  # digit
            round(solid, 4) if solid else solid,  # solid
            across,  # across
            round(faint, 2) if faint else faint,  # faint_mm
        ))
    return tuple(out)
