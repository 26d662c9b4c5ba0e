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
   so a stroke grazing the border does not count. Digit score: the larger of
   two parts, both 0..1. *Ring*: the share of `RING_SECTORS` angular sectors of
   the ring around the digit holding at least `MIN_SECTOR_MM2` of new ink (a
   circle covers them all, an arc beside the digit a few, a dot one).
   *Centred*: the amount of new ink near the digit (up to `CENTRED_FULL_MM2`)
   times how close its centre of mass is to the digit's centre (full within
   `CENTRED_NEAR_MM`, none beyond `CENTRED_FAR_MM`): a tick or a cross drawn
   over the digit, not a dot or an arc beside it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from forms.geometry import MARKER_IDS, marker_bbox
from omr.template import (
    CANON_PX_PER_MM,
    RING_SECTORS,
    SEARCH_MM,
    PageTemplate,
    TargetTemplate,
    crop_padded,
    mm_to_px,
)


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
# Ink centred on a digit (a tick or a cross drawn over it): full marks from
# this much ink whose centre of mass is within CENTRED_NEAR_MM of the digit's
# centre, none beyond CENTRED_FAR_MM (an arc or a dot beside the digit).
CENTRED_FULL_MM2 = 1.0
CENTRED_NEAR_MM, CENTRED_FAR_MM = 1.4, 2.0
MATCH_TRUST = 0.45  # normalised correlation above which a snap is trusted
NEIGHBOUR_MM = 40.0  # untrusted snaps borrow from trusted ones this close
# Candidate blurs of a page (canonical px): a crisp 300 dpi scan ~0, a phone
# photo out of focus ~2.
BLUR_SIGMAS = (0.0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.6, 3.4)
BACKGROUND_STEP = 8  # reduction of the page for the paper estimate
BACKGROUND_WINDOW = 5  # in reduced pixels: 5 x 8 / 6 = 6.7 mm


@dataclass(frozen=True)
class PageInk:
    """What turns a registered page's grey levels into new ink, estimated once
    per page: the paper level map, the darkness of its black, and its blur."""

    paper: np.ndarray = field(repr=False)
    ink_ref: float
    blur: float

    def darkness(self, page: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """Normalised darkness of a patch (see `darkness_patch`)."""
        return darkness_patch(page, self.paper, x0, y0, w, h, self.ink_ref)

    def blank_darkness(self, printed: np.ndarray) -> np.ndarray:
        """The blank's darkness `printed` blurred as this page is."""
        return cv2.GaussianBlur(printed, (0, 0), self.blur) if self.blur > 0 else printed


def page_ink(page: np.ndarray, blank: np.ndarray) -> PageInk:
    """Estimate a registered page's `PageInk` against its blank `blank`."""
    paper = paper_level(page)
    ink_ref = ink_reference(page, paper)
    return PageInk(paper, ink_ref, estimate_blur(page, blank, paper, ink_ref))


@dataclass(frozen=True)
class TargetMeasure:
    """One target's raw measurement (see the module docstring)."""

    question: str
    option: str
    shape: str
    score: float
    offset_mm: tuple[float, float]
    match: float  # correlation of the snap, -1..1 (nan: no structure to match)
    ring: float = 0.0  # digits: share of the ring's sectors inked
    centred: float = 0.0  # digits: ink centred on the digit (a tick, a cross over it)


def paper_level(page: np.ndarray) -> np.ndarray:
    """The paper's grey level over the page, at 1/`BACKGROUND_STEP` scale:
    ink is removed by a max filter wider than any pen stroke or box."""
    h, w = page.shape
    h, w = h - h % BACKGROUND_STEP, w - w % BACKGROUND_STEP  # whole blocks: the fast path
    small = cv2.resize(page[:h, :w], (w // BACKGROUND_STEP, h // BACKGROUND_STEP), interpolation=cv2.INTER_AREA)
    kernel = np.ones((BACKGROUND_WINDOW, BACKGROUND_WINDOW), np.uint8)
    level = cv2.GaussianBlur(cv2.dilate(small, kernel), (3, 3), 0)
    return np.maximum(level.astype(np.float32), 1.0)


def ink_reference(page: np.ndarray, paper: np.ndarray) -> float:
    """The darkness of solid black on this page, from its printed markers
    (half black by design): the 75th percentile of the markers' darkness."""
    values = []
    for corner in MARKER_IDS:
        x, y, w, h = marker_bbox(corner)
        x0, y0, x1, y1 = mm_to_px(x), mm_to_px(y), mm_to_px(x + w), mm_to_px(y + h)
        crop = page[y0:y1, x0:x1].astype(np.float32)
        level = paper[min((y0 + y1) // 2 // BACKGROUND_STEP, paper.shape[0] - 1),
                      min((x0 + x1) // 2 // BACKGROUND_STEP, paper.shape[1] - 1)]
        values.append(1.0 - crop.ravel() / level)
    ref = float(np.percentile(np.concatenate(values), 75))
    # A marker covered by a thumb or out of the frame must not make ink look
    # darker than it is: the reference is never below a washed-out photo's.
    return float(np.clip(ref, 0.4, 1.0))


def estimate_blur(page: np.ndarray, blank: np.ndarray, paper: np.ndarray, ink_ref: float) -> float:
    """The Gaussian blur (sigma, canonical px) that makes the blank form look
    like this page: the blank's markers are blurred by each of `BLUR_SIGMAS`
    and compared with the page's; the median over the four markers ignores a
    folded or covered one."""
    errors = np.zeros((len(MARKER_IDS), len(BLUR_SIGMAS)))
    for i, corner in enumerate(MARKER_IDS):
        x, y, w, h = marker_bbox(corner)
        x0, y0 = mm_to_px(x - 1.0), mm_to_px(y - 1.0)
        side = mm_to_px(w + 2.0)
        seen = darkness_patch(page, paper, x0, y0, side, side, ink_ref)
        sharp = 1.0 - crop_padded(blank, x0, y0, side, side).astype(np.float32) / 255.0
        for j, sigma in enumerate(BLUR_SIGMAS):
            model = cv2.GaussianBlur(sharp, (0, 0), sigma) if sigma > 0 else sharp
            errors[i, j] = float(np.mean(np.abs(seen - model)))
    return float(BLUR_SIGMAS[int(np.argmin(np.median(errors, axis=0)))])


def darkness_patch(
    page: np.ndarray, paper: np.ndarray, x0: int, y0: int, w: int, h: int, ink_ref: float
) -> np.ndarray:
    """Normalised darkness 0..1 of the w x h patch of `page` at (x0, y0):
    ``(1 - pixel / paper) / ink_ref``, the paper level taken at the patch's
    centre; zero outside the page."""
    crop = crop_padded(page, x0, y0, w, h).astype(np.float32)
    inside = x0 >= 0 and y0 >= 0 and x0 + w <= page.shape[1] and y0 + h <= page.shape[0]
    cy = min(max((y0 + h // 2) // BACKGROUND_STEP, 0), paper.shape[0] - 1)
    cx = min(max((x0 + w // 2) // BACKGROUND_STEP, 0), paper.shape[1] - 1)
    dark = (1.0 - crop / paper[cy, cx]) / ink_ref
    if not inside:
        valid = np.zeros((h, w), bool)
        valid[max(0, -y0) : page.shape[0] - y0, max(0, -x0) : page.shape[1] - x0] = True
        dark[~valid] = 0.0
    return np.clip(dark, 0.0, 1.0)


def _snap(window: np.ndarray, tt: TargetTemplate, radius: int) -> tuple[int, int, float]:
    """Offset (dx, dy) in px of the best match of the printed patch in
    `window` (which extends `radius` px around the patch), and its score."""
    printed = tt.printed
    if float(printed.std()) < 1e-3:
        return 0, 0, float("nan")
    result = cv2.matchTemplate(window, printed, cv2.TM_CCOEFF_NORMED)
    # A slight preference for small offsets breaks ties on flat maps.
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    result = result - 0.02 * (xx**2 + yy**2) / max(radius, 1) ** 2
    _, peak, _, loc = cv2.minMaxLoc(result)
    return loc[0] - radius, loc[1] - radius, float(peak)


def new_ink(
    dark: np.ndarray, region: np.ndarray, levels: InkLevels, min_stroke_mm2: float = MIN_STROKE_MM2
) -> np.ndarray:
    """Soft new ink 0..1 per pixel of a darkness patch (`levels.lo` -> 0,
    `levels.hi` -> 1): only pixels of strokes (connected pixels at least
    `levels.core` dark) of at least `min_stroke_mm2`, and their rim; only
    inside `region`."""
    core = (dark >= levels.core).astype(np.uint8)
    # Closed first: a pencil's grain breaks a stroke into dots that would each
    # fall under the stroke size; a speck stays a speck.
    core = cv2.morphologyEx(core, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    min_px = min_stroke_mm2 * CANON_PX_PER_MM**2
    big = stats[:, cv2.CC_STAT_AREA] >= min_px
    big[0] = False
    keep = big[labels]
    # Soft edges of kept strokes count too (their anti-aliased rim).
    keep = cv2.dilate(keep.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    soft = np.clip((dark - levels.lo) / (levels.hi - levels.lo), 0.0, 1.0)
    return soft * (keep & region)


def _digit_parts(tt: TargetTemplate, dark: np.ndarray) -> tuple[float, float]:
    """(ring, centred) of a digit target (see the module docstring)."""
    ink = new_ink(dark, tt.region | tt.inner, DIGIT_INK)
    mask = tt.sector >= 0
    per_sector = np.bincount(tt.sector[mask], weights=ink[mask], minlength=RING_SECTORS)
    ring = float((per_sector >= MIN_SECTOR_MM2 * CANON_PX_PER_MM**2).mean())
    total = float(ink.sum())
    if total <= 0.0:
        return ring, 0.0
    ys, xs = np.nonzero(ink)
    weights = ink[ys, xs]
    off_x = float((weights * xs).sum()) / total - tt.centre[0]
    off_y = float((weights * ys).sum()) / total - tt.centre[1]
    dist_mm = float(np.hypot(off_x, off_y)) / CANON_PX_PER_MM
    area = min(1.0, total / CANON_PX_PER_MM**2 / CENTRED_FULL_MM2)
    nearness = float(np.clip((CENTRED_FAR_MM - dist_mm) / (CENTRED_FAR_MM - CENTRED_NEAR_MM), 0.0, 1.0))
    return ring, area * nearness


def _score(tt: TargetTemplate, dark: np.ndarray) -> tuple[float, float, float]:
    """(score, ring, centred) of a target from its darkness patch; ring and
    centred are the two parts of a digit's score (0 for boxes)."""
    if tt.target.shape != "digit":
        ink = new_ink(dark, tt.region, BOX_INK)
        return (float(ink.sum() / tt.region_px) if tt.region_px else 0.0), 0.0, 0.0
    ring, centred = _digit_parts(tt, dark)
    return max(ring, centred), ring, centred


def _trusted_offsets(
    templates: Sequence[TargetTemplate], snaps: list[tuple[int, int, float]]
) -> list[tuple[int, int]]:
    """Each target's offset: its own if trusted, else the median of trusted
    neighbours' within `NEIGHBOUR_MM`, else none."""
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


def score_targets(
    page: np.ndarray, template: PageTemplate, ink: PageInk | None = None
) -> tuple[TargetMeasure, ...]:
    """Measure every target of `template` on the registered canonical `page`
    (2-D uint8 from `omr.register`), with the page's `PageInk` (estimated
    here when not given). Returns raw scores in template order; no threshold
    is applied here (`omr.decide` does that)."""
    ink = ink or page_ink(page, template.blank)
    radius = mm_to_px(SEARCH_MM)
    windows, snaps = [], []
    for tt in template.targets:
        h, w = tt.shape
        window = ink.darkness(page, tt.x0 - radius, tt.y0 - radius, w + 2 * radius, h + 2 * radius)
        windows.append(window)
        snaps.append(_snap(window, tt, radius))
    offsets = _trusted_offsets(template.targets, snaps) if template.targets else []
    out = []
    for tt, window, (dx, dy), (_, _, match) in zip(template.targets, windows, offsets, snaps):
        h, w = tt.shape
        dark = window[radius + dy : radius + dy + h, radius + dx : radius + dx + w]
        score, ring, centred = _score(tt, np.clip(dark - ink.blank_darkness(tt.printed), 0.0, 1.0))
        out.append(
            TargetMeasure(
                question=tt.target.question,
                option=tt.target.option,
                shape=tt.target.shape,
                score=round(score, 4),
                ring=round(ring, 4),
                centred=round(centred, 4),
                offset_mm=(round(dx / CANON_PX_PER_MM, 2), round(dy / CANON_PX_PER_MM, 2)),
                match=round(match, 3),
            )
        )
    return tuple(out)
