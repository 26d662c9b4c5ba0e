"""Which answer areas the capture actually shows, and which a fold hides.

A page registers on three markers, or on its QR code and print alone, so a
photo may leave a strip of the page outside the frame. The registered page
fills that strip with the picture's edge repeated, where every target would
score as empty: a mark there would be lost without a word.
`outside_capture` finds the questions any of whose areas fall outside the input
image, so that `omr.read_page` flags them (`off_page`) instead of reading them.

A fold lying over the page hides what is under it just as surely: where the
paper folded away the scanner's backing or the desk shows (a dark triangle),
and over it lies the paper's blank back. Either would read as "no mark".
`judge_folds` finds both from what the blank form says should be printed
there: print gone from light paper (no pen erases print), or a dark region
reaching the paper's edge (a fill mark never does); `fold_extent` adds the
cells its edge may cut, and `folded_questions` names the questions they meet,
flagged `folded`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from forms.geometry import BBox
from omr.decide import FOLDED  # noqa: F401  (the reason the folds found are flagged with)
from omr.register import HALF_PX_PER_MM, half_scale
from omr.stats import block_sums, median
from omr.template import CANON_PX_PER_MM

# Around a target, what its score can look at: the snap search and, for a digit,
# the ring a person circles it with (within ~3.5 mm of the digit's centre).
TARGET_REACH_MM = 4.0


def in_image(boxes_mm: np.ndarray, margins_mm: np.ndarray | float, homography: np.ndarray,
             shape: tuple[int, ...]) -> np.ndarray:
    """Which of `boxes_mm` (n x 4: x, y, w, h), each grown by its margin, lie
    wholly inside the input image of `shape`: their corners mapped back into
    it through `homography` (input px -> canonical px); a convex
    quadrilateral is inside when its corners are."""
    if len(boxes_mm) == 0:
        return np.zeros(0, bool)
    x0, y0 = boxes_mm[:, 0] - margins_mm, boxes_mm[:, 1] - margins_mm
    x1, y1 = boxes_mm[:, 0] + boxes_mm[:, 2] + margins_mm, boxes_mm[:, 1] + boxes_mm[:, 3] + margins_mm
    inverse = np.linalg.inv(homography)
    h, w = shape[:2]
    # All of them at once when the rectangle round them all maps inside by
    # `GRID_INSIDE_MARGIN_PX` (most pages), as for the fold test's cells
    # (`_cells_in_image`): every corner lies in that rectangle.
    if _rectangle_inside(float(x0.min()), float(y0.min()), float(x1.max()), float(y1.max()), inverse, w, h):
        return np.ones(len(boxes_mm), bool)
    # Canonical pixel centres sit at +0.5 px (see `omr.register._fit`).
    corners = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                        np.stack([x0, y1], 1)], 1).reshape(-1, 2) * CANON_PX_PER_MM - 0.5
    back = np.hstack([corners, np.ones((len(corners), 1))]) @ inverse.T
    ahead = back[:, 2] > 0  # behind the camera: nowhere in the image
    xy = back[:, :2] / np.where(ahead, back[:, 2], 1.0)[:, None]
    ok = ahead & (xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)
    return np.asarray(ok.reshape(-1, 4).all(axis=1), dtype=bool)


def _rectangle_inside(x0: float, y0: float, x1: float, y1: float, inverse: np.ndarray, w: int, h: int) -> bool:
    """Whether the canonical rectangle (mm) maps, through `inverse` (canonical
    px -> input px), inside the w x h input image by `GRID_INSIDE_MARGIN_PX`:
    then so does everything in it (its corners in front of the camera, it
    maps to a convex quadrilateral; rounding moves a point by far less)."""
    corners = np.array([[x0, y0, 1.0], [x1, y0, 1.0], [x1, y1, 1.0], [x0, y1, 1.0]])
    corners[:, :2] = corners[:, :2] * CANON_PX_PER_MM - 0.5
    back = corners @ inverse.T
    if not (back[:, 2] > 0).all():
        return False
    xy = back[:, :2] / back[:, 2:]
    m = GRID_INSIDE_MARGIN_PX
    return bool(((xy[:, 0] >= m) & (xy[:, 0] <= w - 1 - m) & (xy[:, 1] >= m) & (xy[:, 1] <= h - 1 - m)).all())


def outside_capture(
    areas: Iterable[tuple[str, BBox, float]], homography: np.ndarray, shape: tuple[int, ...]
) -> frozenset[str]:
    """The question ids of `areas` ((question, bbox_mm, margin_mm), ...) with at
    least one area not wholly inside the input image (`in_image`)."""
    listed = list(areas)
    if not listed:
        return frozenset()
    boxes = np.array([bbox for _, bbox, _ in listed], np.float64)
    margins = np.array([margin for _, _, margin in listed], np.float64)
    inside = in_image(boxes, margins, homography, shape)
    return frozenset(question for (question, _, _), seen in zip(listed, inside) if not seen)


# --- folds -------------------------------------------------------------------------


# The page is judged in square cells of this side: larger than a pen stroke's
# blob, smaller than the smallest fold that hides a marker (16 mm).
FOLD_CELL_MM = 4.0
# Page and blank are compared blurred by this much (sigma), so a phone's blur
# or a registration residue of a few tenths of a mm do not look like print gone...
PRINT_BLUR_MM = 0.5
# ...and a cell whose print seems gone is searched this far around (the
# registration is validated to ~1 mm, `omr.align.LINED_UP_MM`).
PRINT_SLACK_MM = 1.0
# A cell's print is "gone" when it shows under this share of the darkness the
# page's print shows in its typical (median) cell: half of it hidden. The
# flap's blank back shows the front's print only faintly and mirrored
# (elsewhere); a blur or a faint print lowers every cell alike.
GONE_SHARE = 0.5
# Cells are judged where the blank prints at least this much (mean squared
# darkness after the blur, 0..1): a word, a box, a digit, a rule.
MIN_PRINT = 0.004
# ...and its paper is still paper-bright (at least this share of the light
# falling there): no pen erases print, so light paper without the print that
# belongs there is a flap (or something laid over the page), never a mark.
GONE_MIN_BRIGHTNESS = 0.75
# A cell is "dark" under this share of the light falling there: where the
# paper folded away the scanner's backing or the desk shows. A fill is dark
# too, so dark cells count only as a region reaching the paper's edge.
DARK_BRIGHTNESS = 0.5
# A shadow (a hand's, a phone's) darkens the paper as the backing does, but
# the paper is there: its print still shows against it. A dark region is
# paper in shadow when most of its printed cells show their print, measured
# against each cell's own paper (`_print_local`), at `GONE_SHARE` of the
# typical cell's or more; where the paper left, the backing or the desk is
# one tone and no print shows.
SHADOW_SHOWN_SHARE = 0.5
# A cell beside a fold showing under this share of the typical cell's print
# has part of it hidden: the fold's edge cuts it. On clean feeder scans 99.5 %
# of cells show at least 0.9 (sipas page 1); a row of digits cut at half
# height shows 0.6-0.8.
PARTLY_SHOWN = 0.9
# How far from a fold (in cells, through cells with nothing printed) a cell
# its edge cuts is looked for: the next printed cell, past one blank one
# (the gap between two rows of answers is under a cell).
EDGE_SEARCH_CELLS = 2
# The band along the paper's edges a fold's dark triangle always reaches
# (and where nobody writes: the markers' margin).
EDGE_BAND_MM = 12.0


def _cells(a: np.ndarray, n: int) -> np.ndarray:
    """Per-cell means of `a` (cropped to whole cells of n x n px); an area
    resize computes exactly that, and fast."""
    h, w = a.shape[0] // n * n, a.shape[1] // n * n
    return cv2.resize(a[:h, :w], (w // n, h // n), interpolation=cv2.INTER_AREA).astype(np.float64)


def _masked_cells(page: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """`_cells(page * mask)` of a uint8 `page` and a 0/1 uint8 `mask`, to the
    last bit: the float32 page times the float32 mask holds integers, whose
    sums over a cell float32 adds exactly in any order, so the area resize's
    mean is their integer sum (`omr.stats.block_sums`) times its factor 1/n²
    in float32. No float32 copy of the page is made for it."""
    sums = block_sums(np.multiply(page, mask), n)
    return (sums.astype(np.float32) * (np.float32(1.0) / np.float32(n * n))).astype(np.float64)


def _quadratic_terms(ny: int, nx: int) -> np.ndarray:
    """Per cell of an ny x nx grid (a row per cell, row-major), the terms of
    a quadratic surface over it (1, x, y, x², y², xy, with x and y from -0.5
    to 0.5): `_light`'s design matrix, the same for every page of a form
    (`FoldReference.terms`)."""
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    xx, yy = xx / max(nx - 1, 1) - 0.5, yy / max(ny - 1, 1) - 0.5
    return np.stack([np.ones_like(xx), xx, yy, xx * xx, yy * yy, xx * yy], axis=-1).reshape(ny * nx, 6)


def _light(bright: np.ndarray, valid: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """The light falling on each cell: a quadratic surface (`terms`, from
    `_quadratic_terms`) fitted to the cells' paper brightness, darker
    outliers (marks, a fold's triangle) dropped."""
    use = valid.copy()
    fit = None
    values = bright.ravel()
    for _ in range(3):
        if np.count_nonzero(use) < 12:
            break
        # rows picked by `compress`: a boolean index is ten times slower here
        a = np.compress(use.ravel(), terms, axis=0)
        # normal equations of a 6-term fit: tiny, no threaded solver needed
        coef = np.linalg.solve(a.T @ a + _RIDGE, a.T @ np.compress(use.ravel(), values))
        fit = (terms @ coef).reshape(bright.shape)
        kept = valid & (bright >= 0.85 * fit)
        if np.array_equal(kept, use):
            break  # the same cells again: the next fit would be this one
        use = kept
    if fit is None:  # too few cells to fit: the typical paper's, flat
        fit = np.full(bright.shape, median(bright[valid]) if valid.any() else 255.0)
    return np.maximum(fit, 1.0)


# What keeps `_light`'s normal equations solvable (1e-9 times the identity).
_RIDGE = 1e-9 * np.eye(6)


@dataclass(frozen=True)
class FoldCells:
    """Per `FOLD_CELL_MM` cell: `folded`, a fold lies over it; `print_shown`,
    the share of its print the page shows relative to the typical cell (nan
    where the blank prints too little to judge, or the cell is not judged)."""

    folded: np.ndarray
    print_shown: np.ndarray
    # the cells where the paper is gone (the backing shows), reaching its edge
    paper_gone: np.ndarray | None = None


@dataclass(frozen=True)
class FoldReference:
    """What the fold test needs of a page's blank, computed once per form
    (`prepare_fold_reference`), at `HALF_PX_PER_MM`: where the blank is bare
    paper (`paper`, 0/1) and its share per cell, the print's darkness
    blurred (`weight`) with its per-cell sums, the cells never judged
    (the QR code and the serial, which differ from the blank), and the
    terms the light is fitted with over the cells (`_quadratic_terms`).
    `paper` is uint8, as the page it masks (`_masked_cells`)."""

    paper: np.ndarray = field(repr=False, compare=False)
    paper_cells: np.ndarray = field(repr=False, compare=False)
    weight: np.ndarray = field(repr=False, compare=False)
    weight_cells: np.ndarray = field(repr=False, compare=False)
    expected: np.ndarray = field(repr=False, compare=False)
    skipped: np.ndarray = field(repr=False, compare=False)
    terms: np.ndarray = field(repr=False, compare=False)
    # the cells' corners in canonical px, for cv2.perspectiveTransform (`_cells_in_image`)
    grid: np.ndarray = field(repr=False, compare=False)


def _cell_px() -> int:
    return int(round(FOLD_CELL_MM * HALF_PX_PER_MM))


def prepare_fold_reference(blank: np.ndarray, skip: Iterable[BBox] = ()) -> FoldReference:
    """The `FoldReference` of a page's canonical `blank`; `skip` (the page's
    varying areas) is never judged."""
    small = half_scale(blank)
    n = _cell_px()
    paper = (small >= 255 * 0.75).astype(np.uint8)  # blank paper, no print (0/1)
    weight = 1.0 - cv2.GaussianBlur(small.astype(np.float32), (0, 0), PRINT_BLUR_MM * HALF_PX_PER_MM) / 255.0
    paper_cells = _cells(paper.astype(np.float32), n)
    ny, nx = paper_cells.shape
    return FoldReference(
        paper=paper, paper_cells=paper_cells, weight=weight, weight_cells=_cells(weight, n),
        expected=_cells(weight * weight, n), skipped=_skipped(ny, nx, skip), terms=_quadratic_terms(ny, nx),
        grid=_cell_corners(ny, nx),
    )


def judge_folds(half: np.ndarray, reference: FoldReference, homography: np.ndarray,
                shape: tuple[int, ...]) -> FoldCells:
    """The cells (`FOLD_CELL_MM` squares from the page's top-left) of the
    registered page (`half`: at `HALF_PX_PER_MM`, `Registration.half`)
    a fold lies over, and how much of each cell's print shows: cells whose
    printed ink is gone from light paper, and dark regions reaching the
    paper's edge. Only cells wholly in the input image are judged (the rest
    is `off_page`'s); the reference's skipped areas never count."""
    scale = HALF_PX_PER_MM
    n = _cell_px()
    n_paper = reference.paper_cells
    with np.errstate(invalid="ignore", divide="ignore"):
        paper = _masked_cells(half, reference.paper, n) / n_paper
    ny, nx = paper.shape
    inside = _cells_in_image(reference.grid, ny, nx, homography, shape) & ~reference.skipped
    has_paper = inside & (n_paper > 0.3)
    light = _light(np.nan_to_num(paper), has_paper, reference.terms)
    brightness = paper / light
    # Two page-sized float32 buffers: the page and its blur; the print's
    # weighting writes over the page once it is blurred (fresh arrays of this
    # size cost their page faults).
    page_f = half.astype(np.float32)
    page_soft = cv2.GaussianBlur(page_f, (0, 0), PRINT_BLUR_MM * scale)
    weight = reference.weight
    seen = _print_seen(page_soft, reference, light, n, out=page_f)
    judged = has_paper & np.isfinite(seen)
    gone = np.zeros_like(judged)
    shown = np.full(judged.shape, np.nan)
    if judged.sum() >= 8:
        typical = median(seen[judged])
        shown[judged] = seen[judged] / max(typical, 1e-9)
        floor = GONE_SHARE * typical
        gone = judged & (seen < floor) & (brightness >= GONE_MIN_BRIGHTNESS)
        # a thin rule near the picture's edge may lie a little off (a sheet's
        # bow): print found within `PRINT_SLACK_MM` of its place is not gone
        r = int(round(PRINT_SLACK_MM * scale))
        for i, j in zip(*np.nonzero(gone)):
            if _seen_shifted(page_soft, weight, float(light[i, j]), i, j, n, r) >= floor:
                gone[i, j] = False
    dark = _reaching_edge(has_paper & (brightness < DARK_BRIGHTNESS))
    if not (gone.any() or dark.any()):
        return FoldCells(gone | dark, shown, dark)  # most pages: the local measure is made only for a fold or a shadow
    page_cells = _cells(page_soft, n)  # each cell's mean, for both local measures
    local = _print_local(page_soft, reference, n, page_cells)
    printed = has_paper & np.isfinite(local)
    if printed.sum() < 8:
        return FoldCells(gone | dark, shown, dark)
    typical = max(median(local[printed]), 1e-9)
    # The paper is there where its print shows against it, whatever the light
    # on it: a shadow's edge, which a surface fitted to the whole page's light
    # does not follow, can make it look gone against that.
    with np.errstate(invalid="ignore"):
        shows = printed & (local >= GONE_SHARE * typical)
    gone &= ~shows
    dark = _without_shadows(dark, shows, printed)
    lost = printed & ~shows & _plain(page_soft, reference, n, typical, page_cells)
    return FoldCells(_continued(gone | dark, lost), shown, dark)


def _plain(page: np.ndarray, reference: FoldReference, n: int, typical: float,
           page_cells: np.ndarray | None = None) -> np.ndarray:
    """The cells where nothing shows, neither their print nor a pen's ink: the
    blurred `page` varies there less than `GONE_SHARE` of what its print,
    shown as in the typical cell (`typical`, `_print_local`'s), would make it
    vary (a standard deviation of the print weight's, times the cell's
    level). A flap's blank back and a desk are plain; a marked cell is not,
    whatever its ink does to `_print_local`'s slope. `page_cells`: the page's
    per-cell means, when already made."""
    p_mean = _cells(page, n) if page_cells is None else page_cells
    p_var = np.maximum(_cells(np.multiply(page, page), n) - p_mean * p_mean, 0.0)
    return p_var < (GONE_SHARE * typical) ** 2 * p_mean * p_mean * np.maximum(_print_spread(reference), 0.0)


def _print_spread(reference: FoldReference) -> np.ndarray:
    """Per cell, the variance of the blank's print weight (its mean square less
    its mean squared)."""
    return reference.expected - reference.weight_cells * reference.weight_cells


def _continued(folded: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """`folded` grown into the printed cells whose print is gone against their
    own paper (`lost`) within `EDGE_SEARCH_CELLS` cells of it, step by step,
    for as long as there are such cells. Part of a flap
    may lie in a shadow, where its blank back is too dark to pass for paper
    (`GONE_MIN_BRIGHTNESS`): its print is gone all the same, and the fold goes
    on there. Only a fold found already grows, so a pen's blot far from any is
    never one."""
    if not folded.any() or not lost.any():
        return folded
    reach = 2 * EDGE_SEARCH_CELLS + 1
    kernel = np.ones((reach, reach), np.uint8)
    out = folded.copy()
    while True:
        near = cv2.dilate(out.astype(np.uint8), kernel).astype(bool)
        grown = out | (near & lost)
        if np.array_equal(grown, out):
            return out
        out = grown


def _print_local(page: np.ndarray, reference: FoldReference, n: int,
                 page_cells: np.ndarray | None = None) -> np.ndarray:
    """Per cell, how much of its print the blurred `page` shows against the
    cell's own paper, on `_print_seen`'s scale (1: as dark as the blank
    prints it): minus the least-squares slope of the page over the blank's
    print weight w within the cell, over the page's level where w is 0. A
    surface of one tone (the backing, a desk) shows 0 whatever its tone;
    paper in a shadow shows its print as paper in the light does. nan where
    the blank prints too little, or too evenly, to give a slope. `page_cells`:
    the page's per-cell means, when already made."""
    w_mean, ww = reference.weight_cells, reference.expected
    p_mean = _cells(page, n) if page_cells is None else page_cells
    wp = _cells(np.multiply(reference.weight, page), n)
    spread = _print_spread(reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (wp - w_mean * p_mean) / spread
        level = p_mean - slope * w_mean
        local = -slope / np.maximum(level, 1.0)
    return np.where((ww >= MIN_PRINT) & (spread >= MIN_PRINT / 2), local, np.nan)


def _without_shadows(dark: np.ndarray, shows: np.ndarray, printed_cells: np.ndarray) -> np.ndarray:
    """`dark` less its regions (4-connected, as `_reaching_edge` finds them)
    that are paper in shadow: more than `SHADOW_SHOWN_SHARE` of their printed
    cells (`printed_cells`: those `_print_local` judges) show their print
    against their own paper (`shows`). A region with no printed cell to tell by stays dark."""
    count, labels = cv2.connectedComponents(dark.astype(np.uint8), connectivity=4)
    out = dark.copy()
    for k in range(1, count):
        region = labels == k
        printed = np.count_nonzero(region & printed_cells)
        if printed and np.count_nonzero(region & shows) > SHADOW_SHOWN_SHARE * printed:
            out[region] = False
    return out


def _print_seen(page: np.ndarray, reference: FoldReference, light: np.ndarray, n: int,
                out: np.ndarray | None = None) -> np.ndarray:
    """Per cell, how dark the page is where the blank prints, relative to the
    print's own darkness: sum(w * page darkness) / sum(w * w), w the blank's
    darkness (both blurred, so a phone's blur or a registration residue of a
    few tenths of a mm do not look like print gone). Ink a person adds only
    darkens, so a mark never lowers it; a flap or the backing lying over the
    print does. nan where the blank has too little print to judge. `out`: a
    float32 array of the page's shape to weight the page in (overwritten)."""
    # sum(w * (1 - page / L)) with the light L constant over a cell: no
    # per-pixel division
    expected = reference.expected
    weighted = np.multiply(reference.weight, page, out=out)
    seen = (reference.weight_cells - _cells(weighted, n) / light) / np.maximum(expected, 1e-9)
    return np.where(expected >= MIN_PRINT, seen, np.nan)


def _seen_shifted(page: np.ndarray, weight: np.ndarray, light: float, i: int, j: int, n: int, r: int) -> float:
    """`_print_seen` of cell (i, j) with the page shifted by up to `r` px either way (the best)."""
    wt = weight[i * n:(i + 1) * n, j * n:(j + 1) * n].astype(np.float64)
    y0, x0 = i * n - r, j * n - r
    if y0 < 0 or x0 < 0 or y0 + n + 2 * r > page.shape[0] or x0 + n + 2 * r > page.shape[1]:
        return -1.0
    window = np.clip(1.0 - page[y0:y0 + n + 2 * r, x0:x0 + n + 2 * r].astype(np.float64) / light, 0.0, 1.0)
    views = np.lib.stride_tricks.sliding_window_view(window, (n, n))
    return float(np.einsum("abij,ij->ab", views, wt).max() / max(float((wt * wt).sum()), 1e-9))


def _cell_corners(ny: int, nx: int) -> np.ndarray:
    """The corners of an ny x nx grid of `FOLD_CELL_MM` cells in canonical px,
    row-major, shaped for `cv2.perspectiveTransform`: the same for every page
    of a form (`FoldReference.grid`)."""
    ys, xs = np.mgrid[0:ny + 1, 0:nx + 1].astype(np.float64)
    return np.stack([xs, ys], axis=-1).reshape(-1, 1, 2) * FOLD_CELL_MM * CANON_PX_PER_MM - 0.5


# A grid whose outer corners map this far inside the input image (px) has
# every corner inside: the homography maps the grid's rectangle, in front of
# the camera at its corners and so all over, to a convex quadrilateral, and
# rounding moves a mapped point by far less.
GRID_INSIDE_MARGIN_PX = 1.0


def _cells_in_image(grid: np.ndarray, ny: int, nx: int, homography: np.ndarray,
                    shape: tuple[int, ...]) -> np.ndarray:
    """Cells of the ny x nx grid whose four corners (`grid`, `_cell_corners`)
    map inside the input image. When the grid's four outer corners map inside
    it by `GRID_INSIDE_MARGIN_PX`, all of them do (most pages)."""
    inverse = np.linalg.inv(homography)
    h, w = shape[:2]
    outer = grid[[0, nx, ny * (nx + 1), (ny + 1) * (nx + 1) - 1], 0]
    ahead = np.hstack([outer, np.ones((4, 1))]) @ inverse[2]
    if (ahead > 0).all():
        m = GRID_INSIDE_MARGIN_PX
        xy = cv2.perspectiveTransform(outer.reshape(-1, 1, 2), inverse).reshape(4, 2)
        if ((xy[:, 0] >= m) & (xy[:, 0] <= w - 1 - m) & (xy[:, 1] >= m) & (xy[:, 1] <= h - 1 - m)).all():
            return np.ones((ny, nx), bool)
    back = cv2.perspectiveTransform(grid, inverse).reshape(ny + 1, nx + 1, 2)
    ok = (back[..., 0] >= 0) & (back[..., 0] <= w - 1) & (back[..., 1] >= 0) & (back[..., 1] <= h - 1)
    return ok[:-1, :-1] & ok[1:, :-1] & ok[:-1, 1:] & ok[1:, 1:]


def _skipped(ny: int, nx: int, skip: Iterable[BBox]) -> np.ndarray:
    out = np.zeros((ny, nx), bool)
    for x, y, w, h in skip:
        c = FOLD_CELL_MM
        out[int(y // c):int(np.ceil((y + h) / c)), int(x // c):int(np.ceil((x + w) / c))] = True
    return out


def _reaching_edge(dark: np.ndarray) -> np.ndarray:
    """The dark cells connected to a dark cell in the band along the paper's edge."""
    count, labels = cv2.connectedComponents(dark.astype(np.uint8), connectivity=4)
    if count <= 1:
        return np.zeros_like(dark)
    band = np.zeros_like(dark)
    k = max(1, int(round(EDGE_BAND_MM / FOLD_CELL_MM)))
    band[:k, :] = band[-k:, :] = band[:, :k] = band[:, -k:] = True
    touching = np.unique(labels[dark & band])
    touching = touching[touching > 0]
    return np.isin(labels, touching)


def fold_extent(cells: FoldCells) -> np.ndarray:
    """The cells a fold may lie over, from `judge_folds`: each fold's region
    (8-connected) filled to its convex hull, and the cells next to it whose
    print is partly gone (under `PARTLY_SHOWN`).

    A fold is convex (the triangle the paper left and the flap folded over
    it), so cells inside its hull are under it even where no print shows it.
    A cell is judged folded only when over half its print is gone: the fold's
    edge can cut the next printed cell and hide up to half of what is printed
    there (half a row of digits, and a mark on it) unnoticed; that cell shows
    less of its print than a whole one does. Between them may lie cells with
    nothing printed, which cannot tell where the edge runs.
    """
    if not cells.folded.any() and (cells.paper_gone is None or not cells.paper_gone.any()):
        return np.zeros(cells.folded.shape, bool)  # most pages: no fold, no edge to look beside, no flap
    count, labels = cv2.connectedComponents(cells.folded.astype(np.uint8), connectivity=8)
    hull = np.zeros(cells.folded.shape, np.uint8)
    for k in range(1, count):
        ys, xs = np.nonzero(labels == k)
        cv2.fillConvexPoly(hull, cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32)), 1)
    with np.errstate(invalid="ignore"):
        partly = cells.print_shown < PARTLY_SHOWN
    unknown = np.isnan(cells.print_shown)
    # the search crosses cells with nothing printed (they cannot say where
    # the edge runs) up to `EDGE_SEARCH_CELLS` away
    reached = hull.astype(bool)
    for _ in range(EDGE_SEARCH_CELLS):
        grown = cv2.dilate(reached.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        reached = reached | (grown & (unknown | partly))
    out = hull.astype(bool) | (reached & partly)
    return out if cells.paper_gone is None else out | _flaps(cells.paper_gone)


def _flaps(paper_gone: np.ndarray) -> np.ndarray:
    """Where the flaps of folded corners lie, from where the paper left.

    A corner folded over leaves a triangle with legs a and b along the
    paper's two edges (the backing shows there, `paper_gone`); the flap is
    that triangle reflected across the fold line, over the page. Over blank
    paper, or a comment box's empty inside, the flap's back looks like the
    page itself and no print tells it is there: the reflection does. The legs
    are taken to the far side of the last cell (a cell is dark when most of it
    is) and the flap grown by one cell."""
    if not paper_gone.any():
        return np.zeros_like(paper_gone)
    ny, nx = paper_gone.shape
    out = np.zeros((ny, nx), np.uint8)
    count, labels = cv2.connectedComponents(paper_gone.astype(np.uint8), connectivity=8)
    for k in range(1, count):
        ys, xs = np.nonzero(labels == k)
        # the corner nearest the region; distances in cells from it, to the cells' far sides
        right, bottom = xs.mean() > nx / 2, ys.mean() > ny / 2
        u = (nx - xs if right else xs + 1).max()
        v = (ny - ys if bottom else ys + 1).max()
        # the corner reflected across the fold line u/a + v/b = 1
        r = 2.0 * u * v / (u * u + v * v)
        kite = np.array([[0.0, 0.0], [u, 0.0], [r * v, r * u], [0.0, v]])
        xy = np.stack([nx - kite[:, 0] if right else kite[:, 0], ny - kite[:, 1] if bottom else kite[:, 1]], axis=1)
        cv2.fillConvexPoly(out, np.round(xy).astype(np.int32), 1)
    return cv2.dilate(out, np.ones((3, 3), np.uint8)).astype(bool)


def folded_questions(cells: np.ndarray, areas: Iterable[tuple[str, BBox, float]]) -> frozenset[str]:
    """The question ids of `areas` ((question, bbox_mm, margin_mm), ...) with
    an area meeting a fold cell."""
    if not cells.any():
        return frozenset()  # most pages: no fold
    c = FOLD_CELL_MM
    ny, nx = cells.shape
    out = set()
    for question, (x, y, w, h), m in areas:
        i0, i1 = max(0, int((y - m) // c)), min(ny, int(np.ceil((y + h + m) / c)))
        j0, j1 = max(0, int((x - m) // c)), min(nx, int(np.ceil((x + w + m) / c)))
        if cells[i0:i1, j0:j1].any():
            out.add(question)
    return frozenset(out)
