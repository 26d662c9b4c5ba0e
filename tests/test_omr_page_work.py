"""The page's steps around the scorer skip work only where the answer is
provably the same: each shortcut against the plain computation it stands for.
Text fields: `field_darkness` (in place) and `written_share` (the 1 mm average
taken only where it can reach the blobs' darkness, the blobs labelled by
another algorithm and counted by a table) on every text field of the
shipped SIPAS form, over random new darkness: noise of any level, and strokes
anywhere, many at the field's edges (where a blur on part of the field would
see other neighbours)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from forms.layout import layout_form
from forms.library import load_form
from forms.render import render_page_images
from omr import prepare_template
from omr.coverage import _cells, _masked_cells, in_image
from omr.score import PageInk, blank_darkness, paper_level
from omr.stats import block_sums
from omr.template import CANON_PX_PER_MM, PageTemplate, TextTemplate, crop_padded
from omr.text import (
    TEXT_BLOB_DARKNESS,
    TEXT_MIN_BLOB_MM2,
    TEXT_SMOOTH_MM,
    _field_paper,
    field_darkness,
    gaussian_reach,
    written_share,
)
from omr.warp import TILE_PX, CanonicalPage

DRAWS_PER_FIELD = 40


@pytest.fixture(scope="module")
def pages() -> list[PageTemplate]:
    form = load_form("sipas")
    template = prepare_template(form, [p.geometry for p in layout_form(form).pages],
                                render_page_images(form, 200, 1))
    return list(template.pages.values())


@pytest.fixture(scope="module")
def fields(pages: list[PageTemplate]) -> list[TextTemplate]:
    out = [tt for page in pages for tt in page.texts]
    assert out
    return out


def _plain_share(dark: np.ndarray, tt: TextTemplate) -> float:
    """`written_share` as first written: the whole field blurred."""
    smooth = cv2.GaussianBlur(dark, (0, 0), TEXT_SMOOTH_MM * CANON_PX_PER_MM / 2)
    blobs = (smooth >= TEXT_BLOB_DARKNESS).astype(np.uint8)
    min_area = TEXT_MIN_BLOB_MM2 * CANON_PX_PER_MM**2
    if cv2.countNonZero(blobs) < min_area:
        return 0.0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= min_area
    big[0] = False
    area = int(tt.region.sum())
    return float((big[labels] & tt.region).sum() / area) if area else 0.0


def _darkness(tt: TextTemplate, rng: np.random.Generator) -> np.ndarray:
    """New darkness: noise under and around the blobs' level, and a few strokes
    or specks anywhere (a third of them at an edge of the field)."""
    h, w = tt.region.shape
    dark = (rng.random((h, w)) * rng.uniform(0.0, 0.06)).astype(np.float32)
    for _ in range(int(rng.integers(0, 5))):
        x = int(rng.choice([rng.integers(0, 6), rng.integers(w - 6, w), rng.integers(0, w)]))
        y = int(rng.choice([rng.integers(0, 6), rng.integers(h - 6, h), rng.integers(0, h)]))
        p1 = (x + int(rng.integers(-40, 41)), y + int(rng.integers(-15, 16)))
        cv2.line(dark, (x, y), p1, float(rng.uniform(0.02, 0.9)), int(rng.integers(1, 5)))
    dark = np.clip(dark, 0.0, 1.0)
    dark[~tt.region] = 0.0
    return dark


def test_the_average_taken_where_it_can_reach_the_blobs_finds_the_same_writing(fields: list[TextTemplate]) -> None:
    rng = np.random.default_rng(17)
    written = blank = cut = 0
    for tt in fields:
        for _ in range(DRAWS_PER_FIELD):
            dark = _darkness(tt, rng)
            want = _plain_share(dark, tt)
            assert written_share(dark, tt) == want
            written += want > 0
            blank += want == 0
            hot = np.argwhere(dark >= TEXT_BLOB_DARKNESS)
            r = gaussian_reach(TEXT_SMOOTH_MM * CANON_PX_PER_MM / 2)
            if len(hot):
                span = hot.max(axis=0) - hot.min(axis=0) + 1 + 4 * r
                cut += bool((span < dark.shape).any())
    assert written and blank and cut  # both outcomes seen, and the blur taken on part of a field


def test_a_field_of_more_blobs_than_a_byte_counts_finds_the_same_writing(fields: list[TextTemplate]) -> None:
    """Specks in a grid, each its own blob after the average (over 256 of
    them: the labels no longer fit the lookup table), and a few strokes."""
    rng = np.random.default_rng(20)
    for tt in fields:
        h, w = tt.region.shape
        dark = _darkness(tt, rng)
        for y in range(4, h - 4, 16):
            for x in range(4, w - 4, 16):
                dark[y:y + 3, x:x + 3] = 0.8
        dark[~tt.region] = 0.0
        blobs = cv2.GaussianBlur(dark, (0, 0), TEXT_SMOOTH_MM * CANON_PX_PER_MM / 2) >= TEXT_BLOB_DARKNESS
        _, labels = cv2.connectedComponents(blobs.astype(np.uint8))
        assert labels.max() > 256
        assert written_share(dark, tt) == _plain_share(dark, tt)


def test_the_reach_is_opencvs_kernel() -> None:
    for sigma in (0.5, 1.0, 1.5, 3.0, 4.2):
        r = gaussian_reach(sigma)
        impulse = np.zeros((1, 8 * r + 9), np.float32)
        impulse[0, 4 * r + 4] = 1.0
        spread = np.flatnonzero(cv2.GaussianBlur(impulse, (0, 0), sigma)[0])
        assert spread.max() - spread.min() == 2 * r


def test_the_field_darkness_in_place_is_the_plain_expression(fields: list[TextTemplate]) -> None:
    rng = np.random.default_rng(18)
    page = (rng.random((1782, 1260)) * 60 + 180).astype(np.uint8)
    for blur in (0.0, 1.0):
        ink = PageInk(paper_level(page), 0.9, blur)
        for tt in fields:
            h, w = tt.region.shape
            crop = crop_padded(page, tt.x0, tt.y0, w, h).astype(np.float32)
            want = np.clip((1.0 - crop / _field_paper(ink.paper, tt)) / ink.ink_ref, 0.0, 1.0)
            if tt.printed is not None:
                want = np.clip(want - blank_darkness(tt, ink.blur), 0.0, 1.0)
            want[~tt.region] = 0.0
            got = field_darkness(page, tt, ink)
            assert got.dtype == want.dtype and np.array_equal(got, want)


def _plain_in_image(boxes: np.ndarray, margin: float, homography: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`in_image` as first written: every corner of every box mapped back."""
    x0, y0 = boxes[:, 0] - margin, boxes[:, 1] - margin
    x1, y1 = boxes[:, 0] + boxes[:, 2] + margin, boxes[:, 1] + boxes[:, 3] + margin
    corners = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                        np.stack([x0, y1], 1)], 1).reshape(-1, 2) * CANON_PX_PER_MM - 0.5
    back = np.hstack([corners, np.ones((len(corners), 1))]) @ np.linalg.inv(homography).T
    ahead = back[:, 2] > 0
    xy = back[:, :2] / np.where(ahead, back[:, 2], 1.0)[:, None]
    h, w = shape
    ok = ahead & (xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)
    return np.asarray(ok.reshape(-1, 4).all(axis=1))


def test_boxes_in_the_image_at_once_are_the_boxes_in_it_one_by_one() -> None:
    rng = np.random.default_rng(19)
    shape = (2339, 1654)  # A4 at 200 dpi
    at_once = one_by_one = 0
    for _ in range(300):
        # the page at 200 dpi, shifted, turned, tilted: wholly in view, cut at an edge or a corner, or far off
        scale = 200 / 25.4 / CANON_PX_PER_MM * rng.uniform(0.9, 1.15)
        angle = rng.uniform(-0.1, 0.1)
        to_input = np.array([[scale * np.cos(angle), -scale * np.sin(angle), rng.uniform(-300, 150)],
                             [scale * np.sin(angle), scale * np.cos(angle), rng.uniform(-300, 150)],
                             [rng.uniform(-3e-5, 3e-5), rng.uniform(-3e-5, 3e-5), 1.0]])
        homography = np.linalg.inv(to_input)
        boxes = np.column_stack([rng.uniform(5, 195, 60), rng.uniform(5, 280, 60),
                                 rng.uniform(2, 12, 60), rng.uniform(2, 8, 60)])
        margin = float(rng.uniform(0, 4))
        got = in_image(boxes, margin, homography, shape)
        assert np.array_equal(got, _plain_in_image(boxes, margin, homography, shape))
        at_once += bool(got.all())
        one_by_one += not got.all()
    assert at_once and one_by_one


def test_a_tile_warped_in_place_is_the_tile_warped_apart() -> None:
    """`CanonicalPage._warp` fills the page's array in place (OpenCV writing
    into a view of it): each rectangle holds what a warp of it into a fresh
    array gives, at the page's edges too (rectangles cut to the page)."""
    rng = np.random.default_rng(21)
    source = cv2.GaussianBlur((rng.random((2339, 1654)) * 255).astype(np.uint8), (0, 0), 2.0)
    scale = CANON_PX_PER_MM * 25.4 / 200
    homography = np.array([[scale * 1.01, 0.02, -12.0], [-0.015, scale, 7.5], [1e-6, -2e-6, 1.0]])
    page = CanonicalPage([source], homography, 200 / 25.4)
    h, w = page.shape
    for x0, y0, x1, y1 in [(0, 0, TILE_PX, TILE_PX), (5 * TILE_PX, 9 * TILE_PX, 12 * TILE_PX, 11 * TILE_PX),
                           (w - w % TILE_PX, h - h % TILE_PX, w + TILE_PX, h + TILE_PX), (0, h - 40, 3 * TILE_PX, h)]:
        page._warp(x0, y0, x1, y1)
        x1, y1 = min(x1, w), min(y1, h)
        shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
        apart = cv2.warpPerspective(source, shift @ homography, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        assert np.array_equal(page._pixels[y0:y1, x0:x1], apart)
        assert apart.std() > 5  # real content, not a uniform fill that would hide a misplaced write


def test_block_sums_are_what_the_area_resize_averages() -> None:
    """`omr.stats.block_sums` times 1/n² (float32) is `cv2.resize`'s area mean
    by a whole factor, to the last bit: in float32 (the fold test's cells of
    the bare paper, `omr.coverage._masked_cells`) and in uint8, rounded half
    to even (`omr.score.area_reduced`, `paper_level`'s reduction, but by 2), on pages whose sides are
    not whole blocks and on blocks whose means fall halfway between levels."""
    rng = np.random.default_rng(23)
    for n in (2, 3, 4, 8, 12, 16):
        for _ in range(6):
            image = rng.integers(0, 256, (int(rng.integers(n, 300)), int(rng.integers(n, 300))), dtype=np.uint8)
            if rng.random() < 0.5:  # print-like: mostly paper, levels that tie
                image = np.where(rng.random(image.shape) < 0.8, 255, rng.choice([0, 8, 128], image.shape))
                image = image.astype(np.uint8)
            h, w = image.shape[0] // n * n, image.shape[1] // n * n
            sums = block_sums(image, n)
            mean = sums.astype(np.float32) * (np.float32(1.0) / np.float32(n * n))
            size = (w // n, h // n)
            area = cv2.resize(image[:h, :w].astype(np.float32), size, interpolation=cv2.INTER_AREA)
            assert np.array_equal(mean, area)
            if n != 2:  # halving has a path of its own, which rounds halves up
                rounded = cv2.resize(image[:h, :w], size, interpolation=cv2.INTER_AREA)
                assert np.array_equal(np.rint(mean).astype(np.uint8), rounded)
            mask = (rng.random(image.shape) < 0.6).astype(np.uint8)
            plain = _cells(image.astype(np.float32) * mask.astype(np.float32), n)
            assert np.array_equal(_masked_cells(image, mask, n), plain)


def test_the_page_reduced_for_the_paper_level_is_the_resized_page_s() -> None:
    """`area_reduced` (`paper_level`'s reduction, by integer block sums where
    it can) is the area resize's: at the half page's step and the canonical
    one's, sides not whole blocks, and by the resize itself where the sums do
    not stand for it (by 2, a float page)."""
    from omr.score import BACKGROUND_STEP, area_reduced

    rng = np.random.default_rng(29)
    half, whole = BACKGROUND_STEP // 2, BACKGROUND_STEP
    for step, shape in ((half, (891, 630)), (whole, (1782, 1260)), (whole, (301, 203)), (3, (100, 77)),
                        (16, (97, 130)), (2, (301, 203))):
        page = cv2.GaussianBlur((rng.random(shape) * 255).astype(np.uint8), (0, 0), 3.0)
        page[rng.random(shape) < 0.05] = 30  # print and pen
        for image in (page, page.astype(np.float32)):
            h, w = shape[0] // step * step, shape[1] // step * step
            plain = cv2.resize(image[:h, :w], (w // step, h // step), interpolation=cv2.INTER_AREA)
            got = area_reduced(image, step)
            assert got.dtype == plain.dtype and np.array_equal(got, plain)


def test_the_blur_with_the_markers_maps_kept_is_the_blur_made_afresh(
    pages: list[PageTemplate], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`page_ink_in_view` of a page registered on its four markers gives the
    blur where each marker's window lies on the paper map as `marker_maps`
    keeps it (made once per form), and the `PageInk` made afresh: the paper
    level of the half page, the markers' black, and the blur, each marker's
    darkness read as `darkness_patch` reads it making the map itself, where a
    shadow's edge makes the paper uneven across a marker and where it does
    not. (A marker's map mistaken for another's seldom moves the blur, the
    median over four: which maps the blur is given is checked on its own.)"""
    from forms.geometry import MARKER_IDS
    from omr import score
    from omr.ink import marker_maps, page_ink_in_view
    from omr.register import pyramid, registration
    from omr.score import BACKGROUND_STEP, BLUR_SIGMAS, darkness_patch, estimate_blur, ink_reference, paper_uneven
    from omr.template import marker_window

    handed: list[object] = []

    def blur_given(*args: object) -> float:
        handed.append(args[4] if len(args) > 4 else None)
        return estimate_blur(*args)

    monkeypatch.setattr(score, "estimate_blur", blur_given)
    template = pages[0]
    windows = [marker_window(corner) for corner in MARKER_IDS]
    rng = np.random.default_rng(31)
    uneven = even = 0
    for _ in range(8):
        blank = cv2.GaussianBlur(template.blank, (0, 0), float(rng.choice(BLUR_SIGMAS[1:])))
        # a shadow whose edge crosses some corners' markers
        shade = np.ones(blank.shape, np.float32)
        x0, _, side = windows[int(rng.integers(0, len(windows)))]
        shade[:, : int(rng.integers(x0, x0 + side))] = float(rng.uniform(0.6, 0.95))
        grey = blank * cv2.GaussianBlur(shade, (0, 0), 20.0) + rng.normal(0.0, 3.0, blank.shape)
        grey = np.clip(grey, 0, 255).astype(np.uint8)
        reg = registration(pyramid(grey), np.eye(3), {c: np.zeros((4, 2), np.float32) for c in MARKER_IDS},
                           0.0, CANON_PX_PER_MM, "markers")
        handed.clear()
        got = page_ink_in_view(reg, template)
        page = reg.page.full()
        paper = paper_level(reg.half, BACKGROUND_STEP // 2)
        assert len(handed) == 1 and handed[0] is not None
        kept_maps = marker_maps(template, paper.shape)
        assert all(a is b for a, b in zip(handed[0], kept_maps, strict=True))
        ink_ref = ink_reference(page, paper)
        assert np.array_equal(got.paper, paper) and got.ink_ref == ink_ref
        assert got.blur == estimate_blur(page, template.markers_blurred, paper, ink_ref)
        for (x0, y0, side), maps in zip(windows, kept_maps, strict=True):
            afresh = darkness_patch(page, paper, x0, y0, side, side, ink_ref)
            assert np.array_equal(darkness_patch(page, paper, x0, y0, side, side, ink_ref, maps), afresh)
            uneven += paper_uneven(paper, x0, y0, side, side)
            even += not paper_uneven(paper, x0, y0, side, side)
    assert uneven and even
