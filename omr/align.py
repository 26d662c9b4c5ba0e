"""Registration by the printed page itself: the blank form is known (rendered from
the layout), so its rules, boxes, digits, text and markers are landmarks.

Tiles of the blank page are matched (normalised cross-correlation) against the
input warped by a first homography; each match is a correspondence between an
input point and a known page point. A homography fitted to them (RANSAC, then
least squares on the inliers) refines or replaces the first one, coarse to
fine: a first guess from the QR code's 20 mm square alone may be several mm
off at the far end of the page, so the first stage searches wide at a low
scale and the last narrowly at the canonical one.

The same tiles validate any registration, markers' included: `measure` tells
how far the printed content lies from where the homography puts it (the
residual, in mm) and what share of the page's printed tiles line up. A page
is read only when enough of its print lines up; otherwise the failure says so,
with the figures.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

from forms.geometry import PAGE_SIZE_MM, BBox, Corner, PageGeometry, marker_bbox
from forms.identity import PageIdentity
from omr.coverage import in_image
from omr.failures import FailureReason, failure
from omr.reading import PageFailure, PageQuality
from omr.register import HALF_PX_PER_MM, Registration, plausible, registration
from omr.template import CANON_PX_PER_MM, PageTemplate
from omr.warp import page_size, warp_page


@dataclass(frozen=True)
class Stage:
    """One pass of tile matching: the working scale, the tile size, the grid
    step between tiles, how far each tile is searched, and the RANSAC
    tolerance the matches are fitted with (all in mm, scale in px/mm)."""

    px_per_mm: float
    tile_mm: float
    step_mm: float
    search_mm: float
    tolerance_mm: float


# From a guess that may be ~10 mm off at the far end of the page (the QR code
# alone, extrapolated 280 mm) down to the canonical scale. A tile is larger
# than the search so that a wrong match on a repeated pattern (a row of boxes
# ~8-12 mm apart) is rarely the best one; RANSAC drops the rest.
COARSE_STAGES: tuple[Stage, ...] = (
    Stage(1.5, 36.0, 18.0, 14.0, 2.0),
    Stage(3.0, 16.0, 12.0, 3.0, 0.8),
)
FINE_STAGE = Stage(CANON_PX_PER_MM, 10.0, 10.0, 1.2, 0.5)
# The validation pass on every page: a sparser grid at half the canonical
# scale (a parabola through the correlation peak still places a tile to
# ~0.1 mm, ten times finer than `LINED_UP_MM`).
CHECK_STAGE = Stage(HALF_PX_PER_MM, 12.0, 30.0, 1.5, 0.5)

# A tile is a landmark when its printed darkness varies this much (standard
# deviation, 0..1): text, a box, a rule; not blank paper.
MIN_TILE_STD = 0.06
# A match counts when the normalised correlation reaches this: print seen
# through a phone's blur and noise still correlates ~0.6-0.9.
MIN_MATCH = 0.5
# A registration is accepted when at least this share of the printed tiles
# that are in the picture line up within the fine tolerance, and their mean
# offset is at most `MAX_RESIDUAL_MM`. A fold, a fill or a comment hides some
# tiles; a wrong fit lines up almost none.
MIN_LINED_UP = 0.6
MAX_RESIDUAL_MM = 0.5
# A tile lines up when it lies within this of where the homography puts it:
# the scorer's snap (`omr.template.SEARCH_MM`, 1.2 mm) absorbs that much, and
# a phone photo's sheet bows up to ~0.8 mm, which no homography undoes.
LINED_UP_MM = 1.0
# Never fewer tiles than this behind a fit.
MIN_TILES = 8
# A page registered on all four markers fitting within this (a scan ~0.1 mm,
# a phone photo ~0.3 mm) has its print checked on a spread sample of
# `SAMPLE_TILES` tiles first (`quick_check`); it passes when at least
# `SAMPLE_LINED_UP` of the sample (14 of 16) lines up, of at least
# `SAMPLE_MIN_TRIED` tried, with a mean offset of at most
# `SAMPLE_RESIDUAL_MM`. Otherwise the whole grid decides, as for any page.
# The sample's mean offset is an estimate: on phone photos whose whole grid
# lay at 0.50-0.58 mm (just over `MAX_RESIDUAL_MM`) the sample's was
# 0.42-0.48, so the sample decides only well inside the bar (a feeder scan's
# residual is 0.02-0.1 mm).
SAMPLE_FIT_MM = 0.3
SAMPLE_TILES = 16
SAMPLE_LINED_UP = 0.85
SAMPLE_MIN_TRIED = 12
SAMPLE_RESIDUAL_MM = 0.3


@dataclass(frozen=True)
class Fit:
    """A homography (input px -> canonical px) and how the print lines up under
    it: `residual_mm` the mean offset of the tiles that line up, `lined_up`
    their share of the printed tiles in the picture, `tiles` how many those are."""

    homography: np.ndarray
    residual_mm: float
    lined_up: float
    tiles: int

    @property
    def good(self) -> bool:
        return self.tiles >= MIN_TILES and self.lined_up >= MIN_LINED_UP and self.residual_mm <= MAX_RESIDUAL_MM

    @property
    def usable(self) -> bool:
        """The print lines up (`good`) under a homography that could be a
        capture of a page (`omr.register.plausible`): a page may be read on it."""
        return self.good and plausible(self.homography, input_px_per_mm(self.homography))


def input_px_per_mm(homography: np.ndarray) -> float:
    """The input's scale at the page's centre under `homography`."""
    centre = np.array([PAGE_SIZE_MM[0] / 2, PAGE_SIZE_MM[1] / 2]) * CANON_PX_PER_MM
    inverse = np.linalg.inv(homography)
    pts = np.array([centre, centre + (1, 0), centre + (0, 1)], np.float64).reshape(-1, 1, 2)
    a, b, c = cv2.perspectiveTransform(pts, inverse).reshape(3, 2)
    (ux, uy), (vx, vy) = b - a, c - a
    area = abs(float(ux * vy - uy * vx))  # input px² per canonical px²
    return CANON_PX_PER_MM * float(np.sqrt(area)) if area > 0 else 0.0


def warp_at(levels: Sequence[np.ndarray], homography: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The upright page at `px_per_mm`, warped from the coarsest pyramid level
    still at least as fine (white outside the input: `omr.warp.warp_page`)."""
    return warp_page(levels, homography, input_px_per_mm(homography), px_per_mm, fine=1.0, white_outside=True)


def _blank_at(blank: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The canonical `blank` at `px_per_mm` (area means)."""
    if px_per_mm == CANON_PX_PER_MM:
        return blank
    return cv2.resize(blank, page_size(px_per_mm), interpolation=cv2.INTER_AREA)


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def tile_grid(stage: Stage, skip: Sequence[BBox]) -> list[BBox]:
    """The tiles (mm) of a stage's grid over the page, none overlapping `skip`
    (what differs from sheet to sheet: the QR code and the serial)."""
    tiles = []
    t = stage.tile_mm
    for y in np.arange(2.0, PAGE_SIZE_MM[1] - t - 1.0, stage.step_mm):
        for x in np.arange(2.0, PAGE_SIZE_MM[0] - t - 1.0, stage.step_mm):
            box = (float(x), float(y), t, t)
            if not any(_overlaps(box, s) for s in skip):
                tiles.append(box)
    return tiles


@dataclass(frozen=True)
class Tiles:
    """The printed tiles of one stage's grid, chosen on a page's blank once
    per form: each tile's box (mm) and top-left (px at the stage's scale), and
    the blank at that scale they are cut from (`blank`: the canonical blank
    itself at the canonical scale). Tiles of blank paper (under
    `MIN_TILE_STD`) are left out: they match anywhere."""

    stage: Stage
    boxes: tuple[BBox, ...]
    origins: tuple[tuple[int, int], ...]
    blank: np.ndarray = field(repr=False, compare=False)

    @property
    def side(self) -> int:
        """A tile's side in px at the stage's scale."""
        return int(round(self.stage.tile_mm * self.stage.px_per_mm))

    @cached_property
    def box_array(self) -> np.ndarray:
        """`boxes` as an n x 4 array (mm), for `omr.coverage.in_image`: made
        once, the tiles are read for every page."""
        return np.array(self.boxes, np.float64).reshape(-1, 4)

    def subset(self, keep: Sequence[int]) -> Tiles:
        """The tiles numbered `keep`."""
        return Tiles(self.stage, tuple(self.boxes[i] for i in keep), tuple(self.origins[i] for i in keep),
                     self.blank)


def cut_tiles(blank_s: np.ndarray, stage: Stage, skip: Sequence[BBox]) -> Tiles:
    """The blank's printed tiles on `stage`'s grid (`blank_s`: the blank at the
    stage's scale)."""
    s = stage.px_per_mm
    n = int(round(stage.tile_mm * s))
    boxes, origins = [], []
    for box in tile_grid(stage, skip):
        x0, y0 = int(round(box[0] * s)), int(round(box[1] * s))
        template = blank_s[y0:y0 + n, x0:x0 + n]
        if template.shape != (n, n) or float(cv2.meanStdDev(template)[1][0, 0]) < MIN_TILE_STD * 255:
            continue
        boxes.append(box)
        origins.append((x0, y0))
    return Tiles(stage, tuple(boxes), tuple(origins), blank_s)


def spread_sample(tiles: Tiles, count: int) -> Tiles:
    """`count` of `tiles` spread over the page (farthest-point order from the
    tile nearest the page's top-left): a misfit of the whole print moves them
    as it moves all."""
    if len(tiles.boxes) <= count:
        return tiles
    centres = np.array([(x + w / 2, y + h / 2) for x, y, w, h in tiles.boxes])
    chosen = [int(np.argmin(centres.sum(axis=1)))]
    nearest = np.linalg.norm(centres - centres[chosen[0]], axis=1)
    while len(chosen) < count:
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        nearest = np.minimum(nearest, np.linalg.norm(centres - centres[nxt], axis=1))
    return tiles.subset(sorted(chosen))


@dataclass(frozen=True)
class PrintTiles:
    """A page's printed tiles for every stage, and the check's spread sample:
    cut once per form (`prepare_print_tiles`), used on every page."""

    stages: Mapping[Stage, Tiles] = field(repr=False)
    sample: Tiles = field(repr=False)

    def at(self, stage: Stage) -> Tiles:
        return self.stages[stage]


def prepare_print_tiles(blank: np.ndarray, skip: Sequence[BBox]) -> PrintTiles:
    """Every stage's printed tiles of a page's canonical `blank`, `skip` (the
    page's `varying_areas`) left out."""
    all_stages = (*COARSE_STAGES, FINE_STAGE, CHECK_STAGE)
    # one copy of the blank per scale (two stages work at 3 px/mm)
    scaled = {stage.px_per_mm: _blank_at(blank, stage.px_per_mm) for stage in all_stages}
    stages = {stage: cut_tiles(scaled[stage.px_per_mm], stage, skip) for stage in all_stages}
    return PrintTiles(stages, spread_sample(stages[CHECK_STAGE], SAMPLE_TILES))


def _peak(result: np.ndarray) -> tuple[float, float, float]:
    """The correlation map's maximum, with a parabola's sub-pixel position."""
    _, best, _, (x, y) = cv2.minMaxLoc(result)
    dx = dy = 0.0
    if 0 < x < result.shape[1] - 1:
        left, c, right = result[y, x - 1], result[y, x], result[y, x + 1]
        den = left - 2 * c + right
        dx = 0.5 * (left - right) / den if den < 0 else 0.0
    if 0 < y < result.shape[0] - 1:
        u, c, d = result[y - 1, x], result[y, x], result[y + 1, x]
        den = u - 2 * c + d
        dy = 0.5 * (u - d) / den if den < 0 else 0.0
    return float(best), x + float(dx), y + float(dy)


@dataclass(frozen=True)
class Matches:
    """Where each printed tile was found: `page_px` its centre on the blank
    (canonical px), `seen_px` where the warped input shows it (canonical px
    under the homography used), `score` the correlation; and how many printed
    tiles were tried (those wholly in the picture)."""

    page_px: np.ndarray
    seen_px: np.ndarray
    score: np.ndarray
    tried: int


def match_tiles(page: np.ndarray, tiles: Tiles, homography: np.ndarray, shape: tuple[int, ...]) -> Matches:
    """Match the printed `tiles` in `page` (the input warped at their stage's
    scale by `homography`). Tiles not wholly in the input image (with their
    search margin) are not tried: what is not in the picture cannot line up."""
    stage = tiles.stage
    s = stage.px_per_mm
    r = int(round(stage.search_mm * s))
    page_px, seen_px, scores = [], [], []
    tried = 0
    visible = in_image(tiles.box_array, stage.search_mm, homography, shape)
    n = tiles.side
    half = n / 2
    k = CANON_PX_PER_MM / s
    for (x0, y0), seen in zip(tiles.origins, visible.tolist()):
        if not seen:
            continue
        template = tiles.blank[y0:y0 + n, x0:x0 + n]
        wx0, wy0 = max(0, x0 - r), max(0, y0 - r)
        window = page[wy0:y0 + n + r, wx0:x0 + n + r]
        if window.shape[0] < n + 2 or window.shape[1] < n + 2:
            continue
        tried += 1
        result = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        score, px, py = _peak(result)
        if not math.isfinite(score):
            continue
        # in Python floats (the same float64 arithmetic as numpy's, without
        # two small arrays a tile)
        cx, cy = x0 + half - 0.5, y0 + half - 0.5
        fx, fy = wx0 + px + half - 0.5, wy0 + py + half - 0.5
        page_px.append(((cx + 0.5) * k - 0.5, (cy + 0.5) * k - 0.5))
        seen_px.append(((fx + 0.5) * k - 0.5, (fy + 0.5) * k - 0.5))
        scores.append(score)
    return Matches(np.array(page_px, np.float64).reshape(-1, 2), np.array(seen_px, np.float64).reshape(-1, 2),
                   np.array(scores, np.float64), tried)


def _apply(homography: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), homography).reshape(-1, 2)


def measure(page: np.ndarray, tiles: Tiles, homography: np.ndarray, shape: tuple[int, ...]) -> Fit:
    """How well `tiles` line up in `page` (registered by `homography`, at the
    tiles' scale): no new fit, only the measure."""
    return _measure(homography, match_tiles(page, tiles, homography, shape))


def quick_check(registration: Registration, tiles: PrintTiles, shape: tuple[int, ...]) -> Fit | None:
    """The print check of a page registered on all four markers fitting within
    `SAMPLE_FIT_MM`, on the spread sample of its tiles: the `Fit` when nearly
    all of them line up (`SAMPLE_LINED_UP`) well inside the offset allowed
    (`SAMPLE_RESIDUAL_MM`), else None (the whole grid must decide).

    Four markers at the page's corners pin the homography over the whole page
    in between; what is left to check is that the print agrees with them. A
    disagreement (the print shifted or scaled against its markers, another
    sheet under them) moves every tile alike, so a sample spread over the page
    shows it. A page whose true share of tiles lining up is at the full
    check's bar (`MIN_LINED_UP`) passes the sample's bar by chance less than
    2 % of the time (binomial, 14 of 16 at 0.6), and then only the full
    check's own bar was at stake."""
    q = registration.quality
    if q.markers_found < 4 or not q.reprojection_error_mm <= SAMPLE_FIT_MM:
        return None
    fit = measure(registration.half, tiles.sample, registration.homography, shape)
    if fit.tiles < SAMPLE_MIN_TRIED or fit.lined_up < SAMPLE_LINED_UP or not fit.residual_mm <= SAMPLE_RESIDUAL_MM:
        return None
    return fit


def _measure(homography: np.ndarray, matches: Matches, correction: np.ndarray | None = None) -> Fit:
    """The `Fit` of `correction @ homography` judged on `matches` (found under
    `homography`): tiles lined up within `LINED_UP_MM`. No `correction`: the
    homography itself, and the matches where they were found (what the
    identity would give: times one plus zeros, over one, is exact)."""
    fitted = homography.copy() if correction is None else correction @ homography
    if matches.tried == 0:
        return Fit(fitted, float("inf"), 0.0, 0)
    seen = matches.seen_px if correction is None else _apply(correction, matches.seen_px)
    dist = np.linalg.norm(seen - matches.page_px, axis=1) / CANON_PX_PER_MM
    ok = (matches.score >= MIN_MATCH) & (dist <= LINED_UP_MM)
    residual = float(np.mean(dist[ok])) if ok.any() else float("inf")
    return Fit(fitted, residual, float(np.count_nonzero(ok)) / matches.tried, matches.tried)


def _refit(homography: np.ndarray, matches: Matches, stage: Stage) -> np.ndarray | None:
    """A correction (canonical -> canonical) that moves the matched tiles onto
    the blank's, by RANSAC within the stage's tolerance; None with too few."""
    keep = matches.score >= MIN_MATCH
    if keep.sum() < MIN_TILES:
        return None
    src, dst = matches.seen_px[keep], matches.page_px[keep]
    correction, inliers = cv2.findHomography(
        src.astype(np.float32), dst.astype(np.float32), cv2.RANSAC,
        stage.tolerance_mm * CANON_PX_PER_MM, maxIters=2000, confidence=0.999,
    )
    if correction is None or inliers is None or int(inliers.sum()) < MIN_TILES:
        return None
    return correction


def refine(levels: Sequence[np.ndarray], tiles: PrintTiles, homography: np.ndarray, *, coarse: bool = True) -> Fit:
    """Refit `homography` on the printed page, coarse to fine (`coarse`:
    start wide, for a guess from a small area such as the QR code), and judge
    the result on the canonical scale. The input is `levels` (its pyramid)."""
    shape = levels[0].shape
    stages = (COARSE_STAGES if coarse else ()) + (FINE_STAGE,)
    current = homography
    for stage in stages:
        page = warp_at(levels, current, stage.px_per_mm)
        matches = match_tiles(page, tiles.at(stage), current, shape)
        correction = _refit(current, matches, stage)
        if correction is None:
            return _measure(current, matches)
        current = correction @ current
    # judge the final homography on fresh matches at the canonical scale
    page = warp_at(levels, current, CANON_PX_PER_MM)
    return measure(page, tiles.at(FINE_STAGE), current, shape)


# Markers found beside the QR code are used when their corners lie within
# this of where the QR code alone puts them (its 20 mm square, extrapolated
# over the page, is a few mm off at the far corners; a marker from another
# sheet in the picture is far further).
MARKER_AGREEMENT_MM = 15.0


def varying_areas(g: PageGeometry) -> tuple[BBox, ...]:
    """What differs from sheet to sheet on a printed page (the QR code and the
    serial), with 1 mm around: never a landmark."""
    return tuple((x - 1, y - 1, w + 2, h + 2) for x, y, w, h in (g.qr_bbox_mm, g.serial_bbox_mm))


def _corners_mm(bbox: BBox) -> np.ndarray:
    x, y, w, h = bbox
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def _to_canon(points_mm: np.ndarray) -> np.ndarray:
    return points_mm * CANON_PX_PER_MM - 0.5


def _affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The affine map (as a 3x3 homography) fitted to points `src` (input
    px) -> `dst` (canonical px), least squares. A first guess from a small
    area (a QR code's 20 mm square, a marker) is affine: perspective terms
    fitted there would swing the far end of the page by centimetres; the
    printed page supplies the perspective later (`refine`)."""
    design = np.hstack([src.astype(np.float64), np.ones((len(src), 1))])
    affine, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return np.vstack([affine.T, [0.0, 0.0, 1.0]])


def seed_homography(
    qr_corners: np.ndarray, qr_bbox_mm: BBox, markers: dict[Corner, np.ndarray]
) -> tuple[np.ndarray, dict[Corner, np.ndarray]] | None:
    """A first homography from the QR code's corners (its place on the page
    is `qr_bbox_mm`) and the markers that agree with it; None when the QR
    corners do not make a plausible page."""
    qr_page = _to_canon(_corners_mm(qr_bbox_mm))
    from_qr = _affine(qr_corners, qr_page)
    if not plausible(from_qr, input_px_per_mm(from_qr)):
        return None
    kept: dict[Corner, np.ndarray] = {}
    for corner, pts in markers.items():
        printed = _to_canon(_corners_mm(marker_bbox(corner)))
        mapped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), from_qr).reshape(-1, 2)
        if float(np.mean(np.linalg.norm(mapped - printed, axis=1))) <= MARKER_AGREEMENT_MM * CANON_PX_PER_MM:
            kept[corner] = pts
    if not kept:
        return from_qr, kept
    src = np.concatenate([qr_corners] + [kept[c] for c in kept]).astype(np.float32)
    dst = np.concatenate([qr_page] + [_to_canon(_corners_mm(marker_bbox(c))) for c in kept]).astype(np.float32)
    seeded, _ = cv2.findHomography(src, dst, 0)
    return (seeded, kept) if seeded is not None else (from_qr, {})


def not_lined_up(fit: Fit, quality: PageQuality | None, image: np.ndarray | None,
                 identity: PageIdentity | None) -> PageFailure:
    """The failure of a page whose printed content does not line up, with the figures."""
    residual = f"{fit.residual_mm:.2f} mm" if np.isfinite(fit.residual_mm) else "-"
    return failure(
        FailureReason.BAD_GEOMETRY,
        f"nội dung in khớp / print lined up: {100 * fit.lined_up:.0f}% of {fit.tiles} printed tiles, "
        f"residual {residual}",
        identity=identity, quality=quality, image=image,
    )


def register_by_content(
    levels: Sequence[np.ndarray], markers: dict[Corner, np.ndarray], qr_corners: np.ndarray,
    page_template: PageTemplate, identity: PageIdentity | None = None,
) -> Registration | PageFailure:
    """Register a page whose markers do not suffice: seeded by the QR code's
    corners and the markers that agree, refined on the printed page, coarse to
    fine; a `PageFailure("bad_geometry")` when the print does not line up."""
    seeded = seed_homography(qr_corners, page_template.geometry.qr_bbox_mm, markers)
    if seeded is None:
        return failure(FailureReason.BAD_GEOMETRY, "mã QR không nằm phẳng / the QR code's corners do not make a page",
                       identity=identity)
    seed, kept = seeded
    fit = refine(levels, page_template.print_tiles, seed, coarse=True)
    if not fit.usable:
        return not_lined_up(fit, None, None, identity)
    return print_registration(levels, fit, kept, "content+qr+markers" if kept else "content+qr")


def marker_seeds(markers: dict[Corner, np.ndarray]) -> list[tuple[np.ndarray, dict[Corner, np.ndarray]]]:
    """First homographies from the markers found when no QR code was read:
    an affine map fitted to all their corners (a marker's place is the same
    on every form), then, with more than one, each marker's alone (a stray
    marker, from another sheet in the picture, spoils the joint fit). Each
    with the markers it was fitted on; implausible maps are left out."""
    if not markers:
        return []
    groups = [markers] + ([{c: p} for c, p in markers.items()] if len(markers) > 1 else [])
    seeds = []
    for group in groups:
        src = np.concatenate([group[c] for c in group])
        seed = _affine(src, np.concatenate([_to_canon(_corners_mm(marker_bbox(c))) for c in group]))
        if plausible(seed, input_px_per_mm(seed)):
            seeds.append((seed, group))
    return seeds


def print_registration(levels: Sequence[np.ndarray], fit: Fit, markers: dict[Corner, np.ndarray],
                       registered_by: str) -> Registration:
    """The `Registration` of a page under a `Fit` on its print."""
    px_per_mm = input_px_per_mm(fit.homography)
    return registration(levels, fit.homography, markers, fit.residual_mm, px_per_mm, registered_by, fit.residual_mm)


# A picture with neither a marker nor a QR code in it may still be a page
# framed tightly: a phone photo cut through the markers' margin, 12-15 mm in
# from the paper's edge on one or two sides (`fixtures.photo.tight`), the desk
# showing beyond the others. The paper (the largest bright region) is taken
# for the page, a side that runs into the picture's edge as cut this far in:
# a guess within the first stage's search (`COARSE_STAGES`, 14 mm).
FRAME_CUT_MM = 13.5
# A side of the paper within this share of the picture's size from its edge
# runs into it.
FRAME_TOUCH = 0.01


def _paper_box(small: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the largest bright region of `small` (Otsu), in
    its pixels; the whole picture when none stands out."""
    h, w = small.shape
    _, bright = cv2.threshold(cv2.GaussianBlur(small, (5, 5), 0), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    if count <= 1:
        return 0, 0, w - 1, h - 1
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh = (int(v) for v in stats[k, :4])
    if bw * bh < 0.25 * w * h:
        return 0, 0, w - 1, h - 1
    return x, y, x + bw - 1, y + bh - 1


def frame_seeds(levels: Sequence[np.ndarray]) -> list[np.ndarray]:
    """First homographies for a picture that shows nothing but print: the
    paper in it (`_paper_box`, on the coarsest pyramid level) taken for the
    page, a side running into the picture's edge as cut `FRAME_CUT_MM` in,
    its long side along the page's, both ways up."""
    small = levels[-1]
    scale = 2.0 ** (len(levels) - 1)
    h, w = small.shape
    x0, y0, x1, y1 = _paper_box(small)
    touch = (y0 <= FRAME_TOUCH * h, x1 >= (1 - FRAME_TOUCH) * w - 1,
             y1 >= (1 - FRAME_TOUCH) * h - 1, x0 <= FRAME_TOUCH * w)  # top, right, bottom, left
    corners = np.array([[x0, y0], [x1 + 1, y0], [x1 + 1, y1 + 1], [x0, y1 + 1]], np.float64) * scale - 0.5
    seeds = []
    for turn in ((0, 2) if y1 - y0 >= x1 - x0 else (1, 3)):
        # page side j lies along the paper's side (j + turn) % 4
        inset = [FRAME_CUT_MM if touch[(j + turn) % 4] else 0.0 for j in range(4)]
        px0, py0 = inset[3], inset[0]
        px1, py1 = PAGE_SIZE_MM[0] - inset[1], PAGE_SIZE_MM[1] - inset[2]
        page = _to_canon(np.array([[px0, py0], [px1, py0], [px1, py1], [px0, py1]], np.float64))
        src = np.roll(corners, -turn, axis=0)
        seed = cv2.getPerspectiveTransform(src.astype(np.float32), page.astype(np.float32))
        if plausible(seed, input_px_per_mm(seed)):
            seeds.append(seed)
    return seeds
