"""Registration: corner markers -> orientation -> homography -> the upright page
at the canonical scale.

The four ArUco markers each have their own id, so every detected corner of every
marker maps to a known point of the printed page whatever way the sheet was fed;
a homography fitted to those 12 or 16 points undoes rotation, skew, scale and
a phone's perspective at once. Markers are looked for on a coarse level of a
Gaussian pyramid (fast), finer levels only when a corner is missing, and their
corners are refined on the full image.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import cv2
import numpy as np

from forms.geometry import ARUCO_DICTIONARY, MARKER_IDS, PAGE_SIZE_MM, Corner, marker_bbox
from omr.failures import FailureReason, failure
from omr.reading import PageFailure, PageQuality
from omr.template import CANON_PX_PER_MM, mm_to_px
from omr.warp import CanonicalPage, warp_page

# Markers are first looked for on the pyramid level whose long side is at most
# this: a 14 mm marker is 28 px there on a 200 dpi scan, 41 px at 300 dpi,
# enough for a 4x4 ArUco code. A missing corner sends the search to finer
# levels: on the 150-sheet calibration deck that happened for 2 of 71 phone
# photos (a small page in the frame) and for every folded page (its corner is
# gone), for none of 339 feeder scans.
DETECT_LONG_SIDE_PX = 1000
# Mean marker-corner error (after the homography) above which the markers do
# not form one flat page. A good scan is ~0.1 mm; a phone photo ~0.3 mm.
MAX_REPROJECTION_MM = 1.2
# Plausible input scales: 50..1200 dpi.
MIN_PX_PER_MM, MAX_PX_PER_MM = 2.0, 48.0
# The print check, the fold test and the paper level work on one copy of the
# registered page at half the canonical scale (3 px/mm: a print line still
# shows, a 4 mm cell is 12 px), warped once per page (`omr.warp.warp_page`).
HALF_PX_PER_MM = CANON_PX_PER_MM / 2

# ArUco thresholds the image at three window sizes (3, 13, 23 px), which is
# half its time. A quick pass at this one window finds where the markers are;
# the full detector then looks only around each (`_detect_level`). Taking the
# quick pass's corners instead was tried (issue 11): 8 of 235 markers' corners
# came out up to a pixel of the searched level apart, and those sub-pixel
# moves changed which answers were flagged `marginal` (seed 21: 15 -> 6 of 634
# clear answers; seed 7: 14 -> 15 of 1,245): noise, not a gain.
QUICK_WINDOW_PX = 23
# Candidates shorter than this share of the image's long side (perimeter) are
# not looked at: any capture of a page keeps its markers above it (a full
# scan: ~19%; a phone photo of a page filling 40% of the frame: ~8%), and
# skipping letters and boxes makes detection several times faster.
MIN_PERIMETER_RATE = 0.06
# The quick pass looks first for markers at least this large (a feeder scan's
# are ~19%, a page filling more than half a photo's frame keeps them above
# it), which leaves out the printed answer boxes (5 mm: ~7% on a full-page
# scan) whose candidates were most of its time (3.8 -> 1.4 ms CPU a page on
# 200 dpi scans); seeing none of ours so, it looks again down to
# `MIN_PERIMETER_RATE` (`_quick_pass`).
QUICK_PERIMETER_RATE = 0.1
# Around each marker the quick pass found, the full detector looks at the
# marker and this many pixels about it: the largest adaptive-threshold
# window's width, so every threshold its edge is given, and the contour it
# yields, are the whole level's.
CROP_MARGIN_PX = 23

# A feeder scan's page fills its picture, so its four markers (within 22 mm
# of the paper's edges: 11 % of its width, 7 % of its height) lie in the
# picture's corners, whichever way it was fed. The quick pass looks first in
# the four corners, each this share of the picture's width and height (a
# quarter of the pixels in all), and only then, when it does not see one of
# ours in each, over the whole level (`_corner_pass`).
CORNER_SHARE = 0.25

_ID_TO_CORNER: dict[int, Corner] = {v: k for k, v in MARKER_IDS.items()}


@dataclass(frozen=True)
class Registration:
    """A registered page: `homography` maps input-image pixels to canonical
    pixels (mm x `CANON_PX_PER_MM`); `page` is the upright canonical page,
    warped where it is asked for (`omr.warp.CanonicalPage.ensure`); `half`
    the whole upright page at `HALF_PX_PER_MM`."""

    homography: np.ndarray = field(repr=False, compare=False)
    quality: PageQuality
    page: CanonicalPage = field(repr=False, compare=False)
    markers: dict[Corner, np.ndarray] = field(repr=False, compare=False, default_factory=dict)
    half: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.zeros((0, 0), np.uint8))

    @property
    def image(self) -> np.ndarray:
        """The whole canonical page, all of it warped: for a debug overlay, a
        failure's picture, and the rare reads that need the whole page (the
        form's solid print sought anywhere when neither all four markers nor
        the QR code were read: `omr.ink.print_black`)."""
        return self.page.full()

    def __bool__(self) -> bool:
        return True


def _marker_points_mm(corner: Corner) -> np.ndarray:
    """The printed marker's corners in ArUco order (its own TL, TR, BR, BL)."""
    x, y, w, h = marker_bbox(corner)
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def _detector(
    *, quick: bool = False, long_side: int | None = None, image_long_side: int = 1,
    perimeter_rate: float = MIN_PERIMETER_RATE,
) -> cv2.aruco.ArucoDetector:
    """ArUco's detector (`quick`: thresholded at `QUICK_WINDOW_PX` alone),
    candidates under `perimeter_rate` of the image's long side left out. Run
    on a crop, `long_side` is the long side of the image it was cut from,
    `image_long_side` the crop's: the smallest marker is sized on the image."""
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    if quick:
        params.adaptiveThreshWinSizeMin = params.adaptiveThreshWinSizeMax = QUICK_WINDOW_PX
    params.minMarkerPerimeterRate = perimeter_rate * (long_side / image_long_side if long_side else 1.0)
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    return cv2.aruco.ArucoDetector(dictionary, params)


def _detect(detector: cv2.aruco.ArucoDetector, image: np.ndarray, scale: float) -> dict[Corner, np.ndarray]:
    """Our markers found in `image`, corners in the coordinates of the image
    `scale` times larger; a duplicated id keeps its largest instance."""
    corners, ids, _ = detector.detectMarkers(image)
    found: dict[Corner, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel()):
        corner = _ID_TO_CORNER.get(int(marker_id))
        if corner is None:
            continue
        pts = np.asarray(quad.reshape(4, 2) / scale, dtype=np.float32)
        if corner not in found or cv2.contourArea(pts) > cv2.contourArea(found[corner]):
            found[corner] = pts
    return found


def _quick_pass(image: np.ndarray, rates: tuple[float, ...]) -> tuple[list[np.ndarray], list[Corner]] | None:
    """Where the quick pass sees each of the four markers once (their quads
    and corners), looking among candidates at least `rates[0]` of the image's
    long side, then, when it saw none of ours, at the next rate; None when it
    does not see all four. Some of ours seen but not all: the rest are gone
    (a corner folded or out of the frame) more often than small, and the
    whole level is searched anyway."""
    for rate in rates:
        corners, ids, _ = _detector(quick=True, perimeter_rate=rate).detectMarkers(image)
        named = [] if ids is None else [_ID_TO_CORNER.get(int(i)) for i in ids.ravel()]
        if sorted(str(c) for c in named) == sorted(MARKER_IDS):
            return list(corners), [c for c in named if c is not None]
        if any(c is not None for c in named):
            return None
    return None


def _corner_pass(
    levels: Pyramid, rate: float, level: int = -1
) -> tuple[list[np.ndarray], list[Corner]] | None:
    """`_quick_pass` at `rate` in the four corners (`CORNER_SHARE` of its
    width and height each) of the pyramid's `level`, the image here (only
    its corners are made, `Pyramid.region`): each corner's quad (in the image's
    coordinates) and which marker it is, when every corner shows exactly one
    marker, all four of ours, each at least `QUICK_WINDOW_PX` from the inner
    sides of its corner; else None. So placed, a marker's threshold and
    contour are those the whole image gives (as `_detect_level`'s crops), and
    its quad is the one the quick pass over the whole image finds (when that
    pass answers: it gives up on any other marker it sees); it is
    sized on the whole image's long side, as there. What lies outside the
    corners is not looked at: a second instance of one of our markers there
    (another sheet's, in a photo) no longer sends the search to the whole
    level, whose full detector would keep the larger of the two."""
    h, w = levels.shape_at(level)
    ch, cw = int(h * CORNER_SHARE), int(w * CORNER_SHARE)
    margin = QUICK_WINDOW_PX
    quads: list[np.ndarray] = []
    named: list[Corner] = []
    for y0, x0 in ((0, 0), (0, w - cw), (h - ch, w - cw), (h - ch, 0)):
        region = levels.region(level, x0, y0, x0 + cw, y0 + ch)
        detector = _detector(quick=True, long_side=max(h, w), image_long_side=max(region.shape),
                             perimeter_rate=rate)
        corners, ids, _ = detector.detectMarkers(region)
        if ids is None or len(ids) != 1:
            return None
        corner = _ID_TO_CORNER.get(int(ids.ravel()[0]))
        xs, ys = corners[0].reshape(4, 2).T.tolist()  # Python floats: four numbers, not numpy calls
        # the sides of the corner inside the image (not the image's own edges)
        inner_x = (x0 > 0 and min(xs) < margin) or (x0 + cw < w and max(xs) > cw - 1 - margin)
        inner_y = (y0 > 0 and min(ys) < margin) or (y0 + ch < h and max(ys) > ch - 1 - margin)
        if corner is None or corner in named or inner_x or inner_y:
            return None
        quads.append(corners[0] + np.array([x0, y0], np.float32))
        named.append(corner)
    return quads, named


def _detect_level(
    levels: Pyramid, level: int, rates: tuple[float, ...] = (MIN_PERIMETER_RATE,)
) -> dict[Corner, np.ndarray]:
    """`_detect` on one level of the pyramid (corners in the input's pixels),
    at about a third of the cost when the page is whole: a quick pass finds where the markers are (in the level's
    corners first, `_corner_pass` at `rates[0]`, then over the whole level,
    `_quick_pass` at `rates`), and when it finds each of the four once, the full detector looks again
    around each only (the marker and `CROP_MARGIN_PX` about it): adaptive
    thresholds and contours are local, so the corners are the ones the whole
    level gives (every marker of the speed, style, fold, tight-frame and
    phone decks identical, `tests/test_omr_registration.py`). Otherwise the
    whole level is searched."""
    level = range(len(levels))[level]  # from the end when negative: the scale is the level's own
    scale = 0.5**level
    located = _corner_pass(levels, rates[0], level) or _quick_pass(levels[level], rates)
    if located is None:
        return _detect(_detector(), levels[level], scale)
    h, w = levels.shape_at(level)
    found: dict[Corner, np.ndarray] = {}
    for quad, corner in zip(*located):
        xs, ys = quad.reshape(4, 2).T.tolist()
        margin = CROP_MARGIN_PX
        x0, y0 = max(0, int(min(xs)) - margin), max(0, int(min(ys)) - margin)
        x1, y1 = min(w, int(max(xs)) + margin), min(h, int(max(ys)) + margin)
        crop = levels.region(level, x0, y0, x1, y1)
        around = _detect(_detector(long_side=max(h, w), image_long_side=max(crop.shape)), crop, 1.0)
        if set(around) != {corner}:
            return _detect(_detector(), levels[level], scale)
        found[corner] = ((around[corner] + np.array([x0, y0], np.float32)) / scale).astype(np.float32)
    return found


class Pyramid(Sequence[np.ndarray]):
    """`grey` halved (Gaussian pyramid, `cv2.pyrDown`) until its long side is
    at most `DETECT_LONG_SIDE_PX`; level L maps to the input by a factor
    2**L. A level is made when it is first read: on a 200 dpi scan only the
    input itself is warped from (`omr.warp.source_level`), and the markers
    are looked for in the coarsest level's corners (`region`): the two
    halvings of the whole page (~1.3 ms CPU at 200 dpi) are then not made."""

    def __init__(self, grey: np.ndarray) -> None:
        shapes = [(int(grey.shape[0]), int(grey.shape[1]))]
        while max(shapes[-1]) > DETECT_LONG_SIDE_PX and min(shapes[-1]) > 64:
            h, w = shapes[-1]
            shapes.append(((h + 1) // 2, (w + 1) // 2))  # cv2.pyrDown's size
        self._shapes = shapes
        self._levels: list[np.ndarray | None] = [grey] + [None] * (len(shapes) - 1)
        # parts of levels not made whole: (x0, y0, x1, y1) and their pixels
        self._regions: list[list[tuple[tuple[int, int, int, int], np.ndarray]]] = [[] for _ in shapes]

    def __len__(self) -> int:
        return len(self._shapes)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> list[np.ndarray]: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        level = range(len(self))[index]  # negative from the end; IndexError past it
        made = self._levels[level]
        if made is None:
            made = self._levels[level] = cv2.pyrDown(self[level - 1])
        return made

    def shape_at(self, level: int) -> tuple[int, int]:
        """(height, width) of `level`, made or not."""
        return self._shapes[level]

    def region(self, level: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """`self[level][y0:y1, x0:x1]` (within the level), the level not made
        for it: halved from the region of the finer level it depends on.
        pyrDown's output pixel i is the 5-tap Gaussian of the finer level's
        pixels 2i - 2 .. 2i + 2 in integer arithmetic, so a region starting at
        an even pixel, reaching 2 pixels past what is kept (or to the image's
        own edge, where its border is the whole level's), gives the kept pixels
        exactly (`tests/test_omr_warp.py`)."""
        level = range(len(self))[level]
        made = self._levels[level]
        if made is not None:
            return made[y0:y1, x0:x1]
        for (rx0, ry0, rx1, ry1), pixels in self._regions[level]:
            if rx0 <= x0 and ry0 <= y0 and x1 <= rx1 and y1 <= ry1:
                return pixels[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]
        fh, fw = self._shapes[level - 1]
        fx0, fy0 = max(0, 2 * x0 - 2), max(0, 2 * y0 - 2)  # even: 2 * x0 - 2 or 0
        halved = cv2.pyrDown(self.region(level - 1, fx0, fy0, min(fw, 2 * x1 + 1), min(fh, 2 * y1 + 1)))
        pixels = halved[y0 - fy0 // 2:y1 - fy0 // 2, x0 - fx0 // 2:x1 - fx0 // 2]
        self._regions[level].append(((x0, y0, x1, y1), pixels))
        return pixels


def pyramid(grey: np.ndarray) -> Pyramid:
    """`grey`'s `Pyramid` (its levels made as they are read)."""
    return Pyramid(grey)


def detect_markers(grey: np.ndarray, levels: Pyramid | None = None) -> dict[Corner, np.ndarray]:
    """The corner markers visible in `grey`: corner -> its 4 corners (input px,
    ArUco order), refined to sub-pixel on the full-resolution image; the
    markers in `MARKER_IDS` order.

    Searched on the coarsest level of the `pyramid` first (a marker is still
    ~45 px there on a full-page scan); when a corner is missing (a small page
    in a big photo, heavy blur) the finer levels are searched too.
    """
    levels = levels or pyramid(grey)
    found: dict[Corner, np.ndarray] = {}
    for level in range(len(levels) - 1, -1, -1):
        # large candidates first on the first level searched only: a finer
        # level is searched because a marker was not seen, often a small one
        rates = (QUICK_PERIMETER_RATE, MIN_PERIMETER_RATE) if level == len(levels) - 1 else (MIN_PERIMETER_RATE,)
        for corner, pts in _detect_level(levels, level, rates).items():
            found.setdefault(corner, pts)
        if len(found) == 4:
            break
    # in the markers' own order (tl, tr, br, bl), not the order a detector
    # listed them in: the homography is fitted to their corners in this order,
    # and a least-squares fit's last bits follow it
    return _refine(grey, {c: found[c] for c in MARKER_IDS if c in found}) if found else {}


def _refine(grey: np.ndarray, found: dict[Corner, np.ndarray]) -> dict[Corner, np.ndarray]:
    """Each marker's corners refined to sub-pixel by `cornerSubPix` on `grey`,
    the markers in `found`'s order. Markers refined with the same window share
    one call: `cornerSubPix` iterates each point on its own, so the corners are
    the ones four calls gave, without three calls' cost."""
    quads = np.stack([found[c] for c in found]).astype(np.float32)
    sides = np.linalg.norm(quads - np.roll(quads, 1, axis=1), axis=2).mean(axis=1)
    # A third of a marker cell: the window sees the corner, not the next one.
    halves = [int(max(2, min(12, side / 6 / 3))) for side in sides.tolist()]
    refined = quads.copy()
    for half in set(halves):
        group = [i for i, h in enumerate(halves) if h == half]
        refined[group] = cv2.cornerSubPix(
            grey,
            quads[group].reshape(-1, 1, 2),
            (half, half),
            (-1, -1),
            (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05),
        ).reshape(-1, 4, 2)
    # cornerSubPix can wander off a corner spoiled by blur: keep the detector's
    # estimate where the refinement moved more than the window.
    moved = np.linalg.norm(refined - quads, axis=2) > np.array(halves)[:, None]
    refined[moved] = quads[moved]
    return dict(zip(found, refined))


def _fit(found: dict[Corner, np.ndarray]) -> tuple[np.ndarray, float]:
    """Homography input px -> canonical px from the markers in `found`, and
    the mean marker-corner error in mm."""
    src = np.concatenate([found[c] for c in found]).astype(np.float32)
    # Pixel-centre convention: pixel i covers [i - 0.5, i + 0.5], as cv2.resize
    # (used for the blank template) and the marker detector both assume.
    dst = np.concatenate([_marker_points_mm(c) for c in found]) * CANON_PX_PER_MM - 0.5
    homography, _ = cv2.findHomography(src, dst, 0)
    if homography is None:
        return np.eye(3), float("inf")
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
    error = float(np.mean(np.linalg.norm(mapped - dst, axis=1))) / CANON_PX_PER_MM
    return homography, error


def _best_fit(found: dict[Corner, np.ndarray]) -> tuple[np.ndarray, float, dict[Corner, np.ndarray]]:
    """Fit all markers; if they disagree, drop the one that fits worst (a
    marker on a folded-over flap) and keep the better of the two fits."""
    homography, error = _fit(found)
    if error <= MAX_REPROJECTION_MM or len(found) < 4:
        return homography, error, found
    best = (homography, error, found)
    for drop in found:
        subset = {c: p for c, p in found.items() if c != drop}
        h, e = _fit(subset)
        if e < best[1]:
            best = (h, e, subset)
    return best


def _orientation(homography: np.ndarray) -> tuple[int, float]:
    """(rotation in 90° steps clockwise, residual skew in degrees) of the page
    in the input image."""
    inverse = np.linalg.inv(homography)
    w, h = PAGE_SIZE_MM[0] * CANON_PX_PER_MM, PAGE_SIZE_MM[1] * CANON_PX_PER_MM
    centre = np.array([[[w / 2, h / 2]], [[w / 2, h / 2 - 10 * CANON_PX_PER_MM]]], np.float32)
    a, b = cv2.perspectiveTransform(centre, inverse).reshape(2, 2)
    dx, dy = b - a
    angle = float(np.degrees(np.arctan2(dx, -dy))) % 360.0
    rotation = int(round(angle / 90.0)) % 4 * 90
    skew = (angle - rotation + 180.0) % 360.0 - 180.0
    return rotation, skew


def _is_orientation_preserving(homography: np.ndarray) -> bool:
    h = homography / homography[2, 2]
    return float(np.linalg.det(h[:2, :2])) > 0


def _sharpness(page: CanonicalPage) -> float:
    """Variance of the Laplacian over the marker areas of the registered page:
    the same printed content on every page, so the figure compares pages."""
    areas = []
    for corner in MARKER_IDS:
        x, y, w, h = marker_bbox(corner)
        areas.append((mm_to_px(x - 1), mm_to_px(y - 1), mm_to_px(x + w + 1), mm_to_px(y + h + 1)))
    pixels = page.ensure(areas)
    values = [cv2.Laplacian(pixels[y0:y1, x0:x1], cv2.CV_32F).ravel() for x0, y0, x1, y1 in areas]
    return float(np.var(np.concatenate(values)))


def half_scale(page: np.ndarray) -> np.ndarray:
    """The canonical `page` at `HALF_PX_PER_MM`: means of 2x2 pixels (a
    blank rendered at the canonical scale; a registered page's half is
    warped directly, `Registration.half`)."""
    return cv2.resize(page, (page.shape[1] // 2, page.shape[0] // 2), interpolation=cv2.INTER_AREA)


def warp_region(
    grey: np.ndarray, homography: np.ndarray, bbox_mm: tuple[float, float, float, float],
    px_per_mm: float, margin_mm: float = 0.0,
) -> np.ndarray:
    """The upright area `bbox_mm` (plus `margin_mm` around) of the page, warped
    from the full-resolution input `grey` at `px_per_mm`, through
    `homography` (input px -> canonical px). White outside the input."""
    x, y, w, h = bbox_mm
    x0, y0 = x - margin_mm, y - margin_mm
    size = (int(round((w + 2 * margin_mm) * px_per_mm)), int(round((h + 2 * margin_mm) * px_per_mm)))
    k = px_per_mm / CANON_PX_PER_MM
    # canonical px -> crop px: rescale, then shift to the crop's origin
    # (pixel centres at +0.5 in both).
    to_crop = np.array([
        [k, 0, 0.5 * k - 0.5 - x0 * px_per_mm],
        [0, k, 0.5 * k - 0.5 - y0 * px_per_mm],
        [0, 0, 1],
    ])
    return cv2.warpPerspective(
        grey, to_crop @ homography, size, flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=255,
    )


def register(
    grey: np.ndarray, levels: Pyramid | None = None, found: dict[Corner, np.ndarray] | None = None
) -> Registration | PageFailure:
    """Find the corner markers in `grey` (2-D uint8, any dpi, any of the four
    feed orientations) and register the page on them.

    `levels` (its `pyramid`) and `found` (its `detect_markers`) are computed
    when not given. Returns a `Registration`, or a falsy `PageFailure` with
    reason `no_markers` (none of our markers), `too_few_markers` (one or two
    corners visible) or `bad_geometry` (the markers do not form a flat A4
    page, or an implausible scale). Three markers suffice (a folded or
    stapled corner). `omr.read_page` goes on from such a failure with the QR
    code and the printed page (`omr.align`).
    """
    levels = levels or pyramid(grey)
    found = detect_markers(grey, levels) if found is None else found
    if not found:
        return failure(FailureReason.NO_MARKERS, f"ảnh {grey.shape[1]}x{grey.shape[0]} px")
    if len(found) < 3:
        names = ", ".join(sorted(found))
        return failure(FailureReason.TOO_FEW_MARKERS, f"{len(found)} marker(s) found: {names}")
    homography, error, used = _best_fit(found)
    quads = np.stack(list(used.values()))
    sides = np.linalg.norm(quads - np.roll(quads, 1, axis=1), axis=2).mean(axis=1)  # each marker's mean side
    px_per_mm = float(np.mean(sides)) / float(marker_bbox("tl")[2])
    if (
        error > MAX_REPROJECTION_MM
        or not _is_orientation_preserving(homography)
        or not MIN_PX_PER_MM <= px_per_mm <= MAX_PX_PER_MM
    ):
        return failure(
            FailureReason.BAD_GEOMETRY,
            f"{len(used)} markers, error {error:.2f} mm, scale {px_per_mm:.1f} px/mm",
        )
    return registration(levels, homography, used, error, px_per_mm, "markers")


def plausible(homography: np.ndarray, px_per_mm: float) -> bool:
    """A homography that could be a photo or scan of a page: not mirrored, and
    at a scale between 50 and 1200 dpi."""
    return _is_orientation_preserving(homography) and MIN_PX_PER_MM <= px_per_mm <= MAX_PX_PER_MM


def registration(
    levels: Sequence[np.ndarray], homography: np.ndarray, markers: dict[Corner, np.ndarray],
    error_mm: float, px_per_mm: float, registered_by: str, content_residual_mm: float = float("nan"),
) -> Registration:
    """The `Registration` of a page under `homography` (input px -> canonical
    px): orientation, the upright canonical page (warped as it is read), the
    whole page at half scale and its `PageQuality`."""
    rotation, skew = _orientation(homography)
    page = CanonicalPage(levels, homography, px_per_mm)
    quality = PageQuality(
        markers_found=len(markers),
        rotation=rotation,
        reprojection_error_mm=round(error_mm, 4),
        skew_deg=round(skew, 3),
        scale_px_per_mm=round(px_per_mm, 3),
        sharpness=round(_sharpness(page), 2),
        registered_by=registered_by,
        content_residual_mm=round(content_residual_mm, 4),
    )
    # The half page comes from the canonical page's own pyramid level, not the
    # level nearest its scale: the pyramid's blur on top of the warp's took
    # contrast from thin print, and the fold test (whose reference is the blank
    # area-averaged) read 11 more of other hands' 1,480 questions `folded` on
    # phone photos (33 against 22; 24 from this level).
    half = warp_page(levels, homography, px_per_mm, HALF_PX_PER_MM, source_px_per_mm=CANON_PX_PER_MM)
    return Registration(homography, quality, page, markers, half)
