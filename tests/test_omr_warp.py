"""The registered page warped where it is read (`omr.warp`): tiles warped on
demand are the whole page's pixels, and reading never looks where it did not
ask for the page to be warped."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_omr import PPM, Form, catalog, fill, mot_cua, mot_cua_answers, sipas  # noqa: F401

from fixtures.capture import as_decoded, capture
from omr import CANON_PX_PER_MM, Catalog, read_page, register
from omr.decode import to_grey
from omr.register import HALF_PX_PER_MM, _detect_level, half_scale, pyramid
from omr.warp import MERGE_GAP_TILES, TILE_PX, CanonicalPage, warp_page


def _scan(form: Form, kind: str = "scan", seed: int = 4) -> np.ndarray:
    drawn, _ = mot_cua_answers(form) if form.form.id == "mot-cua" else ([], {})
    page = fill(form.blanks[0], drawn, seed=1)
    for field in form.pages[0].text_fields:  # a written comment: its whole field is read
        x, y, w, h = field.bbox_mm
        for k in range(3):
            yy = int((y + h * (k + 1) / 4) * PPM)
            cv2.line(page, (int((x + 5) * PPM), yy), (int((x + w * 0.6) * PPM), yy + 4), 0, 3)
    return to_grey(as_decoded(capture(kind, page, PPM, seed, geometry=form.pages[0])))


def test_tiles_warped_on_demand_are_the_whole_pages_pixels(mot_cua: Form) -> None:
    """Areas warped apart, in any order, give the single whole-page warp's
    pixels but for OpenCV's fixed-point coordinates (a grey level, rarely)."""
    grey = _scan(mot_cua, "phone", 2)
    levels = pyramid(grey)
    reg = register(grey, levels)
    assert reg
    whole = CanonicalPage(levels, reg.homography, reg.quality.scale_px_per_mm).full()
    lazy = CanonicalPage(levels, reg.homography, reg.quality.scale_px_per_mm)
    lazy.ensure([(500, 700, 530, 790), (-40, -40, 100, 60), (1200, 1700, 1400, 1900)])
    assert 0 < lazy.warped_share < 0.05
    tiles = lazy.full().astype(int) - whole
    assert np.abs(tiles).max() <= 1 and np.count_nonzero(tiles) < 0.005 * tiles.size


def test_an_area_is_warped_once(mot_cua: Form, monkeypatch: pytest.MonkeyPatch) -> None:
    grey = _scan(mot_cua)
    levels = pyramid(grey)
    reg = register(grey, levels)
    assert reg
    page = CanonicalPage(levels, reg.homography, reg.quality.scale_px_per_mm)
    calls: list[tuple[int, ...]] = []
    warp = CanonicalPage._warp
    monkeypatch.setattr(CanonicalPage, "_warp", lambda self, *a: (calls.append(a), warp(self, *a))[1])
    page.ensure([(100, 100, 100 + 3 * TILE_PX, 100 + TILE_PX)])
    first = len(calls)
    assert first >= 1
    page.ensure([(110, 110, 120, 120), (100, 100, 100 + 3 * TILE_PX, 100 + TILE_PX)])
    assert len(calls) == first  # nothing new to warp
    # two areas either side of a warped tile, one tile apart from it: the run
    # that would join them over it (`MERGE_GAP_TILES`) stops there
    T = TILE_PX
    page.ensure([(10 * T, 20 * T, 11 * T, 21 * T)])
    calls.clear()
    page.ensure([(9 * T, 20 * T, 10 * T, 21 * T), (11 * T, 20 * T, 12 * T, 21 * T)])
    assert calls and not any(x0 <= 10 * T < x1 and y0 <= 20 * T < y1 for x0, y0, x1, y1 in calls), calls


def test_the_half_page_is_the_canonical_page_halved(mot_cua: Form) -> None:
    """The half page the reader uses (`Registration.half`, warped directly from
    the canonical page's pyramid level) shows what the 2x2 means of the
    canonical page show: no lighter or darker, in the same place (a quarter of
    a pixel's shift would differ by ~4.5 grey levels on average), within a few
    grey levels (bilinear, not area means)."""
    grey = _scan(mot_cua, "phone", 2)
    levels = pyramid(grey)
    reg = register(grey, levels)
    assert reg
    halved = half_scale(reg.image)
    direct = reg.half
    assert np.array_equal(direct, warp_page(levels, reg.homography, reg.quality.scale_px_per_mm, HALF_PX_PER_MM,
                                            source_px_per_mm=CANON_PX_PER_MM))
    assert direct.shape == halved.shape
    diff = np.abs(direct.astype(int) - halved)
    assert diff[20:-20, 20:-20].mean() < 3.5
    assert abs(float(np.mean(direct.astype(int) - halved))) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("form_id,kind,seed", [
    ("mot-cua", "scan", 4), ("mot-cua", "phone", 2), ("mot-cua", "tight", 0), ("mot-cua", "fold_over", 3),
    ("sipas", "scan", 4),
])
def test_reading_looks_only_where_it_had_the_page_warped(
    form_id: str, kind: str, seed: int, mot_cua: Form, sipas: Form, catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same page read with the pixels nobody asked for black, then white:
    the same reading, every score and every text field's ink (a reader that
    looked outside its areas would see ink in one and paper in the other)."""
    grey = _scan(mot_cua if form_id == "mot-cua" else sipas, kind, seed)
    black = read_page(grey, catalog, ocr=False)
    monkeypatch.setattr(CanonicalPage, "UNWARPED", 255)
    white = read_page(grey, catalog, ocr=False)
    assert black, black.message
    assert black == white
    assert black.page is not None and black.page.warped_share < 0.6


def _plain_cover(need: np.ndarray, done: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The greedy cover `CanonicalPage._warp_tiles` documents, computed
    plainly (tile rectangles x0, y0, x1, y1, end exclusive): a row's run takes
    its tiles left to right while the gap to the next is at most
    `MERGE_GAP_TILES` tiles, none of them warped already; it grows down over
    the rows that need all of it."""
    need, done = need.copy(), done.copy()
    out = []
    for i in range(need.shape[0]):
        while need[i].any():
            js = np.flatnonzero(need[i])
            end = 0
            while end + 1 < len(js):
                gap = range(js[end] + 1, js[end + 1])
                if len(gap) > MERGE_GAP_TILES or any(done[i, j] for j in gap):
                    break
                end += 1
            j0, j1 = int(js[0]), int(js[end])
            i1 = i
            while i1 + 1 < need.shape[0] and need[i1 + 1, j0:j1 + 1].all():
                i1 += 1
            out.append((j0, i, j1 + 1, i1 + 1))
            need[i:i1 + 1, j0:j1 + 1] = False
            done[i:i1 + 1, j0:j1 + 1] = True
    return out


def test_tiles_are_warped_in_the_documented_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rectangles warped (which decide the pixels, `test_tiles_warped_on_
    demand_are_the_whole_pages_pixels`) are the plain greedy cover's, over
    random areas asked for in turn."""
    rng = np.random.default_rng(5)
    calls: list[tuple[int, ...]] = []
    monkeypatch.setattr(CanonicalPage, "_warp", lambda self, *a: calls.append(a))
    for _ in range(300):
        page = CanonicalPage([np.zeros((64, 64), np.uint8)], np.eye(3), CANON_PX_PER_MM)
        ny, nx = page._done.shape
        h, w = page.shape
        for _ in range(int(rng.integers(1, 4))):
            # a few rectangles of up to ~4 tiles a side, anywhere on the page
            rects = []
            for _ in range(int(rng.integers(1, 40))):
                x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
                rects.append((x0, y0, x0 + int(rng.integers(1, 4 * TILE_PX)), y0 + int(rng.integers(1, 4 * TILE_PX))))
            need = np.zeros((ny, nx), bool)
            for x0, y0, x1, y1 in rects:
                need[y0 // TILE_PX:-(-min(y1, h) // TILE_PX), x0 // TILE_PX:-(-min(x1, w) // TILE_PX)] = True
            expected = [(j0 * TILE_PX, i0 * TILE_PX, j1 * TILE_PX, i1 * TILE_PX)
                        for j0, i0, j1, i1 in _plain_cover(need & ~page._done, page._done)]
            calls.clear()
            page.ensure(rects)
            assert calls == expected
            assert page._done[need].all()


@pytest.mark.parametrize("shape", [(2339, 1654), (2340, 1653), (1755, 1241), (3508, 2481), (4961, 3509), (1001, 777)])
def test_a_pyramid_region_is_the_whole_levels_pixels(shape: tuple[int, int]) -> None:
    """`Pyramid.region` halves only the part of the finer level a region
    depends on, and gives the pixels the whole level has there: in its
    corners (the image's own edges), in between, at odd and even sizes and
    starts, on a level below another region's."""
    rng = np.random.default_rng(sum(shape))
    grey = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 0.7)
    lazy, whole = pyramid(grey), pyramid(grey)
    assert len(lazy) == len(whole) >= 2
    made = [whole[k] for k in range(len(whole))]  # every level made whole
    assert [m.shape for m in made] == [lazy.shape_at(k) for k in range(len(lazy))]
    for level in range(len(lazy) - 1, 0, -1):
        h, w = lazy.shape_at(level)
        ch, cw = h // 4, w // 4
        rects = [(0, 0, cw, ch), (w - cw, 0, w, ch), (w - cw, h - ch, w, h), (0, h - ch, cw, h),
                 (3, 5, 40, 33), (w // 2 + 1, h // 3, w // 2 + 30, h // 3 + 17), (1, 1, w - 1, h - 1)]
        for x0, y0, x1, y1 in rects:
            assert np.array_equal(lazy.region(level, x0, y0, x1, y1), made[level][y0:y1, x0:x1]), (level, x0, y0)
    assert lazy._levels[1:] == [None] * (len(lazy) - 1)  # no level was made whole for them
    assert np.array_equal(lazy[-1], made[-1])


def test_a_level_counted_from_the_end_finds_the_markers_its_number_does(mot_cua: Form) -> None:
    """`_detect_level` on the coarsest level named -1 gives the corners it
    gives that level named by its number, in the input's pixels (a scale
    taken from -1 as a level's number put them 2 ** levels times too near
    the origin)."""
    grey = _scan(mot_cua)
    levels = pyramid(grey)
    assert len(levels) >= 2
    by_number, from_end = _detect_level(levels, len(levels) - 1), _detect_level(pyramid(grey), -1)
    assert len(by_number) == 4 and by_number.keys() == from_end.keys()
    assert all(np.array_equal(by_number[c], from_end[c]) for c in by_number)
