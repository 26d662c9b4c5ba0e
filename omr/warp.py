"""The registered page, warped where it is read.

Warping the whole input page to the canonical frame (`CANON_PX_PER_MM`, 6
px/mm: 1260 x 1782 px) cost ~9 ms CPU a page at 200 dpi, about a seventh of
reading it, and OpenCV's bilinear warp costs the same per pixel whatever its
map type: only warping fewer pixels helps. Yet what is read at that scale is
a small part of the page: the targets and the search round them, the comment
fields, the markers (11-27 % of the shipped forms' pages). The rest is read
at half that scale (the print check, the fold test, the paper level).

So the page at the canonical scale is a `CanonicalPage`: tiles of it are
warped when an area is asked for (`CanonicalPage.ensure`) and kept, so areas
asked for twice are warped once; the whole page only when something wants
all of it (a debug overlay, a failure's picture). A tile warped alone is the
same warp with the homography shifted to the tile's origin: its pixels are
the whole page's but for OpenCV's fixed-point coordinates (~0.2 % of pixels
one grey level apart). Whole-page pictures at a coarser scale (the half page,
review's) are warped directly from the pyramid (`warp_page`), not reduced from
the canonical page.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from forms.geometry import PAGE_SIZE_MM
from omr.template import CANON_PX_PER_MM, mm_to_px

# A page is warped from the coarsest pyramid level at least this fine
# relative to the scale it is warped at (so fine noise is averaged, not
# sampled, and nothing is magnified much).
PREREDUCE_MIN = 0.95
# Side of the square tiles the canonical page is warped and kept in. A warp
# call costs ~7 us besides ~4 ns a pixel: 32 px tiles (5 x 5 mm) follow the
# areas read closely (a target's window spans 2-3 tiles a side) while
# `CanonicalPage.ensure` merges neighbouring tiles into one call.
TILE_PX = 32
# Tiles of a row missing between two asked for are warped too when there are
# at most this many: a 32 x 32 tile costs ~4 us of pixels, less than a call.
MERGE_GAP_TILES = 1

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in canonical px, end exclusive


def page_size(px_per_mm: float) -> tuple[int, int]:
    """(width, height) in px of the whole page at `px_per_mm`."""
    if px_per_mm == CANON_PX_PER_MM:
        return mm_to_px(PAGE_SIZE_MM[0]), mm_to_px(PAGE_SIZE_MM[1])
    return int(round(PAGE_SIZE_MM[0] * px_per_mm)), int(round(PAGE_SIZE_MM[1] * px_per_mm))


def source_level(levels: Sequence[np.ndarray], input_px_per_mm: float, px_per_mm: float,
                 fine: float = PREREDUCE_MIN) -> int:
    """The coarsest `omr.register.pyramid` level (level L is the input halved
    L times) still at least `fine` (`PREREDUCE_MIN`) times as fine as `px_per_mm`."""
    level = 0
    while level + 1 < len(levels) and input_px_per_mm / 2 ** (level + 1) >= fine * px_per_mm:
        level += 1
    return level


def to_scale(px_per_mm: float) -> np.ndarray:
    """Canonical px -> px at `px_per_mm`, pixel centres kept (a pixel i
    covers [i - 0.5, i + 0.5]: at half scale, pixel i is the centre of
    canonical pixels 2i and 2i + 1)."""
    k = px_per_mm / CANON_PX_PER_MM
    return np.array([[k, 0.0, 0.5 * k - 0.5], [0.0, k, 0.5 * k - 0.5], [0.0, 0.0, 1.0]])


def warp_page(levels: Sequence[np.ndarray], homography: np.ndarray, input_px_per_mm: float,
              px_per_mm: float, source_px_per_mm: float | None = None, *,
              fine: float = PREREDUCE_MIN, white_outside: bool = False) -> np.ndarray:
    """The whole upright page at `px_per_mm`, warped through `homography`
    (input px -> canonical px) from the pyramid level nearest that scale
    (`source_level`, at least `fine` times as fine), or nearest
    `source_px_per_mm` when given. Outside the input the picture's edge is
    repeated, as in `CanonicalPage`, or white (`white_outside`)."""
    level = source_level(levels, input_px_per_mm, source_px_per_mm or px_per_mm, fine)
    factor = 2.0**level
    border = (cv2.BORDER_CONSTANT, 255) if white_outside else (cv2.BORDER_REPLICATE, 0)
    return cv2.warpPerspective(
        levels[level], to_scale(px_per_mm) @ homography @ np.diag([factor, factor, 1.0]), page_size(px_per_mm),
        flags=cv2.INTER_LINEAR, borderMode=border[0], borderValue=border[1],
    )


class CanonicalPage:
    """The upright page at `CANON_PX_PER_MM`, warped on demand.

    Built from the input's `omr.register.pyramid` (`levels`), the homography
    input px -> canonical px and the input's scale; pixels come from the
    coarsest level at least as fine as the canonical scale (`source_level`),
    bilinear, the picture's edge repeated outside the input: a tightly framed
    photo's paper is greyer than white, and a white band beside a comment
    box would raise the paper level there and make the blank paper look
    inked. What lies outside is never read (`omr.coverage`).

    `ensure(rects)` warps the `TILE_PX` tiles the rectangles touch that are
    not warped yet and returns the page's array: valid inside every rectangle
    asked for so far, not elsewhere (`UNWARPED`). `full()` warps what is
    left. Not safe to share between threads (it fills its array in place).
    It keeps the input's pyramid (for `picture`): a reading kept long should
    drop it, as the pipeline's workers do (`pipeline.scan.workers._strip`).
    """

    # What the array holds where nothing was warped yet: black, so that a
    # reader looking outside the areas it asked for sees ink, not paper
    # (`tests/test_omr_warp.py` reads pages with it black and white alike).
    UNWARPED = 0

    def __init__(self, levels: Sequence[np.ndarray], homography: np.ndarray, input_px_per_mm: float) -> None:
        level = source_level(levels, input_px_per_mm, CANON_PX_PER_MM)
        factor = 2.0**level
        self.homography = homography
        self.input_px_per_mm = input_px_per_mm
        self._levels = levels
        self._source = levels[level]
        self._matrix = homography @ np.diag([factor, factor, 1.0])
        width, height = page_size(CANON_PX_PER_MM)
        self.shape = (height, width)
        # zeros when black: the allocator's zeroed pages, not a pass writing them
        self._pixels = (np.zeros(self.shape, np.uint8) if self.UNWARPED == 0
                        else np.full(self.shape, self.UNWARPED, np.uint8))
        self._done = np.zeros((-(-height // TILE_PX), -(-width // TILE_PX)), bool)

    @property
    def warped_share(self) -> float:
        """The share of the page's tiles warped so far."""
        return float(self._done.mean())

    def ensure(self, rects: Iterable[Rect]) -> np.ndarray:
        """The page's array, warped at least inside `rects` ((x0, y0, x1, y1)
        canonical px, end exclusive; clipped to the page)."""
        need = np.zeros_like(self._done)
        height, width = self.shape
        for x0, y0, x1, y1 in rects:
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
            if x1 > x0 and y1 > y0:
                need[y0 // TILE_PX:-(-y1 // TILE_PX), x0 // TILE_PX:-(-x1 // TILE_PX)] = True
        self._warp_tiles(need & ~self._done)
        return self._pixels

    def full(self) -> np.ndarray:
        """The whole page's array (one warp when nothing was asked for yet)."""
        if not self._done.any():
            self._warp(0, 0, self.shape[1], self.shape[0])
            self._done[:] = True
        self._warp_tiles(~self._done)
        return self._pixels

    def picture(self, px_per_mm: float) -> np.ndarray:
        """The whole page at `px_per_mm` (at most the canonical scale), for a
        person to look at: the canonical page itself at that scale, else
        warped directly from the pyramid (`warp_page`), not reduced from it."""
        if px_per_mm >= CANON_PX_PER_MM:
            return self.full()
        return warp_page(self._levels, self.homography, self.input_px_per_mm, px_per_mm)

    def _warp_tiles(self, need: np.ndarray) -> None:
        """Warp the tiles in `need`, as few rectangles as a greedy cover
        gives: a row's runs of tiles (gaps up to `MERGE_GAP_TILES` filled),
        each grown down over the rows that need all of it."""
        # Walked as Python lists: a page's rectangles are a few dozen and its
        # rows short, and numpy's per-call cost was most of this method's.
        todo: list[list[bool]] = need.tolist()
        done: list[list[bool]] = self._done.tolist()
        rows = len(todo)
        for i in np.flatnonzero(need.any(axis=1)).tolist():
            js = [j for j, wanted in enumerate(todo[i]) if wanted]
            while js:
                # a run breaks at a gap wider than MERGE_GAP_TILES, or holding a
                # tile warped already (never warped twice: its pixels were read)
                end = len(js) - 1
                for k in range(end):
                    a, b = js[k], js[k + 1]
                    if b - a > MERGE_GAP_TILES + 1 or (b - a > 1 and any(done[i][a + 1:b])):
                        end = k
                        break
                j0, j1 = js[0], js[end]
                i1 = i
                while i1 + 1 < rows and all(todo[i1 + 1][j0:j1 + 1]):
                    i1 += 1
                self._warp(j0 * TILE_PX, i * TILE_PX, (j1 + 1) * TILE_PX, (i1 + 1) * TILE_PX)
                for r in range(i, i1 + 1):
                    todo[r][j0:j1 + 1] = [False] * (j1 + 1 - j0)
                    done[r][j0:j1 + 1] = [True] * (j1 + 1 - j0)
                self._done[i:i1 + 1, j0:j1 + 1] = True
                # the row's tiles past the run: the run took every one up to j1
                js = js[end + 1:]

    def _warp(self, x0: int, y0: int, x1: int, y1: int) -> None:
        x1, y1 = min(x1, self.shape[1]), min(y1, self.shape[0])
        shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
        # written straight into the page's array (a view OpenCV fills in
        # place: its size and type are the warp's), not warped and copied
        cv2.warpPerspective(
            self._source, shift @ self._matrix, (x1 - x0, y1 - y0), dst=self._pixels[y0:y1, x0:x1],
            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
        )
