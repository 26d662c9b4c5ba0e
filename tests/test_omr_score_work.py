"""The scorer skips and shares work only where the answer is provably the same:
each shortcut of `omr.score` against the plain definition it stands for, on
every target of the shipped SIPAS form (boxes and digits) and random patches of
new darkness: noise, and strokes drawn anywhere, many of them just outside the
region that counts (where a bound that reached too little would go wrong)."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest

from forms.layout import layout_form
from forms.library import load_form
from forms.render import render_page_images
from omr import prepare_template
from omr.reading import DigitEvidence
from omr.score import (
    ACROSS_TOUCH_PX,
    BOX_INK,
    DIGIT_INK,
    FAINT_LEVEL,
    FILL_LEVEL,
    MIN_STROKE_MM2,
    NEIGHBOUR_MM,
    SOLID_LEVEL,
    STREAK_BAND_MM,
    STREAK_GAP_MM,
    DigitPeaks,
    PageInk,
    TargetMeasure,
    _box_measures,
    _by_shape,
    _darkness_windows,
    _digit_parts,
    _faint_pieces,
    _group_paper,
    _group_snaps,
    _main_axis,
    _no_evidence,
    _ownership,
    _parabola,
    _points,
    _rows_cols,
    _snap,
    _trusted_offsets,
    box_faint_mm,
    box_peaks,
    crosses_box,
    darkness_patch,
    digit_peaks,
    digit_strokes,
    estimate_blur,
    glyph_darkening_mm2,
    group_box_peaks,
    group_digit_peaks,
    new_ink,
    paper_at,
    paper_uneven,
    stroke_core,
    strokes_with_stats,
)
from omr.stats import median, percentile
from omr.template import (
    CANON_PX_PER_MM,
    SEARCH_MM,
    FormTemplate,
    PageTemplate,
    TargetTemplate,
    marker_window,
    mm_to_px,
)

PATCHES_PER_TARGET = 6


@pytest.fixture(scope="module")
def form_template() -> FormTemplate:
    form = load_form("sipas")
    return prepare_template(form, [p.geometry for p in layout_form(form).pages], render_page_images(form, 200, 1))


@pytest.fixture(scope="module")
def pages(form_template: FormTemplate) -> list[PageTemplate]:
    return list(form_template.pages.values())


def test_a_form_s_kept_maps_are_made_as_before(form_template: FormTemplate) -> None:
    """The targets' shapes, the questions' types and their order, kept in the
    form's template, are what they were made as on every page, and are made once."""
    t = form_template
    shapes = {(tt.target.question, tt.target.option): tt.target.shape for p in t.pages.values() for tt in p.targets}
    assert t.target_shapes() == shapes and "digit" in shapes.values() and "box" in shapes.values()
    assert t.question_types() == {q.id: q.type for q in t.form.questions()}
    assert t.question_order() == {q.id: i for i, q in enumerate(t.form.questions())}
    assert t.target_shapes() is t.target_shapes() and t.question_order() is t.question_order()


def _patch(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """New darkness: faint noise, and a few strokes of any darkness anywhere."""
    dark = (rng.random(shape) * rng.uniform(0.02, 0.2)).astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):
        p0 = tuple(int(v) for v in rng.integers(0, shape[::-1]))
        p1 = tuple(int(v) for v in np.add(p0, rng.integers(-12, 13, 2)))
        cv2.line(dark, p0, p1, float(rng.uniform(0.1, 0.9)), int(rng.integers(1, 3)))
    return np.clip(dark, 0.0, 1.0)


def _targets(pages: list[PageTemplate], shape: str) -> list[TargetTemplate]:
    return [tt for page in pages for tt in page.targets if tt.target.shape == shape]


def test_a_box_with_no_core_within_reach_has_no_ink(pages: list[PageTemplate]) -> None:
    rng = np.random.default_rng(5)
    skipped = interior_skipped = 0
    for tt in _targets(pages, "box"):
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            score, solid = _box_measures(tt, dark)
            want = float(new_ink(dark, tt.region, BOX_INK).sum() / tt.region_px)
            want_solid = float(((cv2.blur(dark, (3, 3)) >= SOLID_LEVEL) & tt.region).sum()) / tt.region_px
            assert (score, solid) == (want, want_solid)
            y0, y1, x0, x1 = tt.reach
            skipped += float(dark[y0:y1, x0:x1].max()) < BOX_INK.core
            y0, y1, x0, x1 = tt.interior
            interior_skipped += float(dark[y0:y1, x0:x1].max()) < BOX_INK.lo
    assert skipped and interior_skipped  # the bounds were taken, and agreed


def test_a_digit_with_no_shading_near_its_box_has_no_fill(pages: list[PageTemplate]) -> None:
    rng = np.random.default_rng(6)
    skipped = fill_skipped = ink_skipped = 0
    for tt in _targets(pages, "digit"):
        assert tt.inner is not None and tt.fill_region is not None and tt.inner_reach is not None
        y0, y1, x0, x1 = tt.box_crop
        inner = tt.inner[y0:y1, x0:x1]
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            ev = _digit_parts(tt, dark)
            assert all(type(v) is float for v in dataclasses.astuple(ev))  # as stored and compared: no numpy scalars
            box = dark[y0:y1, x0:x1]
            smooth = cv2.blur(box, (3, 3))
            soft = np.clip((box - DIGIT_INK.lo) / (DIGIT_INK.hi - DIGIT_INK.lo), 0.0, 1.0)
            assert ev.fill == float(((smooth >= FILL_LEVEL) & tt.fill_region).sum()) / max(int(tt.fill_region.sum()), 1)
            assert ev.solid == float(((smooth >= SOLID_LEVEL) & inner).sum()) / max(int(inner.sum()), 1)
            assert ev.inner_mm2 == float(soft[inner].sum()) / CANON_PX_PER_MM**2
            skipped += float(box[tt.inner_reach].max()) < FILL_LEVEL
            assert tt.fill_reach is not None
            fill_skipped += float(box[tt.inner_reach].max()) >= FILL_LEVEL > float(box[tt.fill_reach].max())
            ink_skipped += float(box[tt.inner_reach].max()) >= FILL_LEVEL and float(box[inner].max()) < DIGIT_INK.lo
    assert skipped and fill_skipped and ink_skipped


def _crosses_plainly(tt: TargetTemplate, dark: np.ndarray) -> bool:
    """`crosses_box` by its definition, without its bound."""
    inked = dark >= DIGIT_INK.core
    if (inked[:, 0].any() and inked[:, -1].any()) or (inked[0, :].any() and inked[-1, :].any()):
        return False
    core = (inked & tt.region).astype(np.uint8)
    if int(core.sum()) < MIN_STROKE_MM2 * CANON_PX_PER_MM**2:
        return False
    core = cv2.morphologyEx(core, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) & tt.region
    n, _, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    y0, y1, x0, x1 = tt.interior
    t = ACROSS_TOUCH_PX
    return any(area >= MIN_STROKE_MM2 * CANON_PX_PER_MM**2
               and ((x <= x0 + t and x + w >= x1 - t) or (y <= y0 + t and y + h >= y1 - t))
               for x, y, w, h, area in stats[1:])


def _stacks(pages: list[PageTemplate], chosen: Callable[[TargetTemplate], bool],
            rng: np.random.Generator) -> Iterator[tuple[PageTemplate, list[int], np.ndarray]]:
    """Per page and group of equal patches (`_by_shape`), the `chosen` targets
    and three stacks of random new darkness (`_patch`) over them, as the
    scorer's group functions take them."""
    for page in pages:
        for group in _by_shape(page.targets):
            members = [i for i in group if chosen(page.targets[i])]
            for _ in range(3 if members else 0):
                yield page, members, np.stack([_patch(page.targets[i].shape, rng) for i in members])


def test_peaks_of_digits_together_are_each_digit_s_own(pages: list[PageTemplate]) -> None:
    """`group_digit_peaks` (a page's digits of one patch size at once) is
    `digit_peaks` of each, and a stroke's core level under the zone's peak
    leaves no stroke and no crumbs, whatever the rest of the patch holds."""
    rng = np.random.default_rng(13)
    compared = below = 0
    for page, digits, new in _stacks(pages, lambda tt: tt.target.shape == "digit", rng):
        got = group_digit_peaks(page, digits, new)
        assert got == [digit_peaks(page.targets[i], patch) for i, patch in zip(digits, new)]
        for i, patch, peaks in zip(digits, new, got):
            tt = page.targets[i]
            for core in (DIGIT_INK.core, stroke_core(2.0)):
                strokes, labels, counts, crumbs = digit_strokes(tt, patch, core, peaks)
                want = digit_strokes(tt, patch, core)
                assert (strokes, crumbs) == (want[0], want[3])
                assert np.array_equal(labels, want[1]) and np.array_equal(counts, want[2])
                below += peaks.zone < min(core, DIGIT_INK.core) <= float(patch.max())
            compared += 1
    assert compared and below  # the zone's bound was taken where the patch's was not, and agreed


def test_a_digit_under_every_bound_has_no_evidence_but_its_thickening(pages: list[PageTemplate]) -> None:
    """Where `_no_evidence` takes a digit's peaks as under every bound, the
    whole measure (every bound made to fail: peaks of 1) gives no evidence but
    the glyph's darkening, at either core level: a summary of 0, and its
    parts rounded as `score_targets` stores them without measuring."""
    rng = np.random.default_rng(18)
    taken = measured = 0
    for tt in _targets(pages, "digit"):
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng) * float(rng.choice([0.3, 1.0]))
            for core in (DIGIT_INK.core, stroke_core(2.0)):
                whole = _digit_parts(tt, dark, 0.7, core, DigitPeaks(1.0, 1.0, 1.0, 1.0, 1.0))
                if _no_evidence(digit_peaks(tt, dark), core):
                    assert whole == _digit_parts(tt, dark, 0.7, core) == DigitEvidence(thick_mm2=0.7)
                    # what `score_targets` then stores without measuring
                    assert (whole.summary(), whole.rounded()) == (0.0, DigitEvidence(thick_mm2=round(0.7, 3)))
                    taken += 1
                else:
                    assert whole == _digit_parts(tt, dark, 0.7, core)
                    measured += 1
    assert taken and measured


def test_a_box_with_no_pen_dark_ink_in_its_interior_is_not_crossed(pages: list[PageTemplate]) -> None:
    rng = np.random.default_rng(9)
    skipped = crossed = 0
    for tt in _targets(pages, "box"):
        y0, y1, x0, x1 = tt.interior
        for k in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            if k == 0:  # a slash across the interior, as dark as a pen's or lighter
                cv2.line(dark, (x0 - 2, y1 + 1), (x1 + 1, y0 - 2), float(rng.uniform(0.2, 0.8)), 2)
            got = crosses_box(tt, dark)
            assert got == _crosses_plainly(tt, dark)
            skipped += float(dark.max()) >= DIGIT_INK.core > float(dark[y0:y1, x0:x1].max())
            crossed += got
    assert skipped and crossed


def test_glyph_darkening_of_digits_together_is_each_digit_s_own(pages: list[PageTemplate]) -> None:
    """Pixel for pixel the digit's own sums, for digits whose boxes lie alike in
    their patches or not."""
    rng = np.random.default_rng(10)
    tts = [tt for tt in _targets(pages, "digit") if tt.shape == _targets(pages, "digit")[0].shape]
    assert len({tt.box_crop for tt in tts}) > 1
    page_darks = np.stack([_patch(tt.shape, rng) for tt in tts])
    blank_darks = np.stack([_patch(tt.shape, rng) for tt in tts])
    got = glyph_darkening_mm2(tts, page_darks - blank_darks)
    _, h, w = page_darks.shape
    gap, band = mm_to_px(STREAK_GAP_MM), mm_to_px(STREAK_BAND_MM)
    for tt, page, blank, value in zip(tts, page_darks, blank_darks, got):
        assert tt.rim_rows is not None and tt.rim_cols is not None
        patch = page - blank
        y0, y1, x0, x1 = tt.box_crop
        above = patch[max(y0 - band, 0) : max(y0 - gap, 1), x0:x1].mean(0)
        below = patch[min(y1 + gap, h - 1) : min(y1 + band, h), x0:x1].mean(0)
        left = patch[y0:y1, max(x0 - band, 0) : max(x0 - gap, 1)].mean(1)
        right = patch[y0:y1, min(x1 + gap, w - 1) : min(x1 + band, w)].mean(1)
        col, row = np.maximum(np.minimum(above, below), 0.0), np.maximum(np.minimum(left, right), 0.0)
        rim = patch[y0:y1, x0:x1][tt.rim_rows, tt.rim_cols] - np.maximum(col[tt.rim_cols], row[tt.rim_rows])
        assert value == float(rim.sum()) / CANON_PX_PER_MM**2


def test_windows_made_together_are_each_targets_own(pages: list[PageTemplate]) -> None:
    """Pixel for pixel `darkness_patch`, also for a target partly off the page."""
    rng = np.random.default_rng(7)
    page = rng.integers(0, 256, (1782, 1260), dtype=np.uint8)
    paper = rng.uniform(180, 255, (1782 // 8, 1260 // 8)).astype(np.float32)
    ink = PageInk(paper, 0.87, 0.0)
    targets = list(pages[0].targets)
    targets[0] = dataclasses.replace(targets[0], x0=-9, y0=-4)
    targets[-1] = dataclasses.replace(targets[-1], x0=1260 - targets[-1].shape[1] + 3)
    windows = _darkness_windows(page, ink, targets, _by_shape(targets), 7)
    for tt, window in zip(targets, windows):
        h, w = tt.shape
        want = darkness_patch(page, paper, tt.x0 - 7, tt.y0 - 7, w + 14, h + 14, 0.87)
        assert window.dtype == want.dtype and np.array_equal(window, want)
    # With where they lie on the paper map kept (made on the first page, read on the next).
    keep: dict[str, np.ndarray] = {}
    for _ in range(2):
        kept = _darkness_windows(page, ink, targets, _by_shape(targets), 7, keep)
        assert keep and all(np.array_equal(a, b) for a, b in zip(kept, windows))


def test_paper_levels_of_patches_together_are_each_patch_s_own() -> None:
    """`paper_at` and `paper_uneven` of many patches at once: on a paper map
    even in places, with shadow steps elsewhere, for patches anywhere on the
    page and partly or wholly off it."""
    rng = np.random.default_rng(12)
    paper = np.full((1782 // 8, 1260 // 8), 230.0, np.float32)
    paper[60:, 90:] = 160.0  # a shadow's edge
    paper[150:, :] += rng.uniform(0, 12, paper[150:, :].shape).astype(np.float32)  # uneven paper
    for w, h in ((56, 56), (80, 80), (17, 9)):
        x0 = rng.integers(-100, 1300, 400)
        y0 = rng.integers(-100, 1820, 400)
        levels, uneven = _group_paper(paper, x0, y0, w, h)
        want = [paper_uneven(paper, int(x), int(y), w, h) for x, y in zip(x0, y0)]
        assert uneven.tolist() == want and 0 < sum(want) < len(want)
        assert levels.tolist() == [float(paper_at(paper, int(x), int(y), w, h)) for x, y in zip(x0, y0)]


def test_offsets_are_each_snap_s_own_when_trusted_else_borrowed(pages: list[PageTemplate]) -> None:
    """Every snap trusted (most pages, taken at once): each its own offset. One
    not trusted: the median of the trusted ones within `NEIGHBOUR_MM`."""
    rng = np.random.default_rng(17)
    targets = list(pages[0].targets)
    snaps = [(int(rng.integers(-7, 8)), int(rng.integers(-7, 8)), float(rng.uniform(0.5, 1.0))) for _ in targets]
    assert _trusted_offsets(targets, snaps) == [(dx, dy) for dx, dy, _ in snaps]
    snaps[3] = (7, -7, 0.2)
    centres = np.array([(t.x0 + t.shape[1] / 2, t.y0 + t.shape[0] / 2) for t in targets])
    near = [k for k in range(len(targets)) if k != 3
            and np.hypot(*(centres[k] - centres[3])) <= NEIGHBOUR_MM * CANON_PX_PER_MM]
    assert near
    want = tuple(int(round(v)) for v in np.median(np.array([snaps[k][:2] for k in near], float), axis=0))
    got = _trusted_offsets(targets, snaps)
    assert got[3] == want and got[:3] + got[4:] == [(dx, dy) for dx, dy, _ in snaps[:3] + snaps[4:]]


def test_the_median_is_numpy_s() -> None:
    """`omr.stats.median` against `np.median`, of either parity, with ties,
    in float32 (a digit's surround) and float64 (the page's digits, the fold
    cells)."""
    rng = np.random.default_rng(14)
    for dtype in (np.float32, np.float64):
        for n in range(1, 400):
            values = (rng.random(n) * rng.choice([1e-3, 1.0, 300.0])).astype(dtype)
            if n % 3 == 0:
                values = np.round(values, 1)  # ties
            assert median(values) == float(np.median(values))


def test_the_percentile_is_numpy_s() -> None:
    """`omr.stats.percentile` against `np.percentile`: the markers'
    75th (float32, tens of thousands of values) and other percentiles, every
    fractional part of the virtual index, ties, one and two values."""
    rng = np.random.default_rng(16)
    for dtype in (np.float32, np.float64):
        for n in [1, 2, 3, 4, 5, 7, 8, 9, 100, 101, 1001, 28224]:
            for q in (0, 1, 10, 25, 33.3, 50, 66.7, 75, 90, 99, 100):
                values = (rng.normal(0.2, 0.4, n) * rng.choice([1e-3, 1.0, 300.0])).astype(dtype)
                if n % 3 == 0:
                    values = np.round(values, 1)  # ties
                want = float(np.percentile(values, q))
                got = percentile(values, q)
                # Equal, so bit for bit but for a zero's sign (both signs tie in a partition).
                assert got == want, (dtype, n, q)


def test_the_blur_is_the_plain_median_s(pages: list[PageTemplate]) -> None:
    """`estimate_blur` against its plain definition (each marker's mean absolute
    difference from each blurred model, `np.median` over the markers), on the
    blank page itself and on pages of noise, blurred and darkened."""
    from forms.geometry import MARKER_IDS
    from omr.score import BLUR_SIGMAS, ink_reference, paper_level

    rng = np.random.default_rng(17)
    template = pages[0]
    for k in range(12):
        page = template.blank.copy()
        if k:
            noise = rng.normal(0, rng.uniform(1, 40), page.shape)
            blurred = cv2.GaussianBlur(page.astype(np.float64), (0, 0), rng.uniform(0.3, 3.0))
            page = np.clip(blurred * rng.uniform(0.6, 1.0) + noise, 0, 255).astype(np.uint8)
        paper = paper_level(page)
        ink_ref = ink_reference(page, paper)
        errors = np.empty((len(MARKER_IDS), len(BLUR_SIGMAS)))
        for i, corner in enumerate(MARKER_IDS):
            x0, y0, side = marker_window(corner)
            seen = darkness_patch(page, paper, x0, y0, side, side, ink_ref)
            errors[i] = np.abs(template.markers_blurred[i] - seen).mean(axis=(1, 2))
        want = float(BLUR_SIGMAS[int(np.argmin(np.median(errors, axis=0)))])
        assert estimate_blur(page, template.markers_blurred, paper, ink_ref) == want


def test_a_strokes_main_axis_and_parabola_are_the_library_s() -> None:
    rng = np.random.default_rng(8)
    for _ in range(300):
        n = int(rng.integers(3, 120))
        px, py = rng.integers(0, 66, n), rng.integers(0, 66, n)
        axis = _main_axis(px, py)
        _, vecs = np.linalg.eigh(np.cov(np.stack([px, py]).astype(np.float64)))
        assert axis == (float(vecs[0, -1]), float(vecs[1, -1]))
        x = rng.uniform(-5, 5, n)
        y = rng.normal(0, 1, n) + rng.uniform(-1, 1) * x * x
        if len(np.unique(x)) >= 3:
            assert _parabola(x, y) == pytest.approx(float(np.polyfit(x, y, 2)[0]), rel=1e-9, abs=1e-12)
    assert _main_axis(np.array([1, 2]), np.array([3, 4])) is None


def test_a_stroke_nearer_its_digit_everywhere_is_placed_alike_by_any_vertex() -> None:
    """`digit_strokes` finds no vertex for a stroke that is the digit's own by
    its distances and whose every pixel is nearer this digit than any other
    target: whatever pixel the vertex is, and whether it is in the digit's
    cell or not, the stroke is the digit's."""
    rng = np.random.default_rng(11)
    placed = 0
    for _ in range(20000):
        n = int(rng.integers(1, 30))
        own_px = rng.uniform(0.0, 6.0, n).astype(np.float32)
        other_px = (own_px + rng.uniform(-1.0, 8.0, n)).astype(np.float32)
        gap = float((other_px - own_px).min())
        own, other = float(own_px.min()), float(other_px.min())
        if not (gap > 0 and _ownership(own, other, gap) == "own"):
            continue
        v = int(rng.integers(0, n))
        vertex = (float(own_px[v]), float(other_px[v]), bool(rng.integers(0, 2)))
        assert _ownership(own, other, gap, vertex) == "own"
        placed += 1
    assert placed > 1000


def test_a_strokes_sagitta_is_measured_wherever_it_is_read(pages: list[PageTemplate],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`digit_strokes` measures a stroke's sagitta only where `_sag_read`:
    measured everywhere (the plain computation), every other part of every
    stroke and the digit's whole evidence are the same."""
    rng = np.random.default_rng(21)
    cases = []
    for tt in _targets(pages, "digit"):
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            for core in (DIGIT_INK.core, stroke_core(2.0)):
                cases.append((tt, dark, core, digit_strokes(tt, dark, core)[0], _digit_parts(tt, dark, 0.3, core)))
    monkeypatch.setattr("omr.score._sag_read", lambda *_: True)
    skipped = 0
    for tt, dark, core, strokes, evidence in cases:
        plain = digit_strokes(tt, dark, core)[0]
        assert [dataclasses.replace(s, sag=0.0) for s in strokes] == [dataclasses.replace(s, sag=0.0) for s in plain]
        assert all(s.sag == p.sag for s, p in zip(strokes, plain) if s.sag != float("inf"))
        assert _digit_parts(tt, dark, 0.3, core) == evidence
        skipped += sum(s.sag == float("inf") for s in strokes)
    assert skipped  # some strokes' sagitta was not measured, and nothing changed


def test_peaks_of_boxes_together_are_each_box_s_own(pages: list[PageTemplate]) -> None:
    """`group_box_peaks` gives each box's `box_peaks`, which are the darkest
    new ink of its windows and of `faint_reach` (0 where that is empty: no
    faint stroke); the box's measures are the same given them or not."""
    rng = np.random.default_rng(23)
    compared = 0
    for page, boxes, new in _stacks(pages, lambda tt: tt.target.shape == "box" and bool(tt.region_px), rng):
        got = group_box_peaks(page, boxes, new)
        assert got == [box_peaks(page.targets[i], patch) for i, patch in zip(boxes, new)]
        for i, patch, peaks in zip(boxes, new, got):
            tt = page.targets[i]
            assert tt.faint_reach is not None
            (y0, y1, x0, x1), (i0, i1, j0, j1) = tt.reach, tt.interior
            assert peaks.reach == float(patch[y0:y1, x0:x1].max())
            assert peaks.interior == float(patch[i0:i1, j0:j1].max())
            assert (peaks.faint_reach >= FAINT_LEVEL) == bool((patch[tt.faint_reach] >= FAINT_LEVEL).any())
            assert _box_measures(tt, patch, peaks) == _box_measures(tt, patch)
            assert crosses_box(tt, patch, peaks) == _crosses_plainly(tt, patch)
            assert box_faint_mm(tt, patch, peaks) == box_faint_mm(tt, patch)
            compared += 1
    assert compared


def test_grana_labels_strokes_as_the_default_does():
    """`strokes_with_stats` (Grana's algorithm) gives the very count, labels
    (numbered alike) and stats of OpenCV's default labelling, on masks like a
    patch's: blobs of every size and shape, touching the patch's edges."""
    rng = np.random.default_rng(7)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(20, 90, 2))
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.5, 3.0)))
        mask = (noise > rng.uniform(0.45, 0.6)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        grana = strokes_with_stats(mask)
        assert grana[0] == n
        assert np.array_equal(grana[1], labels) and np.array_equal(grana[2], stats)


def test_snaps_of_a_group_at_once_are_each_target_s_own(pages: list[PageTemplate]) -> None:
    """`_group_snaps` gives each target `_snap`'s offset and match, bit for
    bit: on windows holding the target's print shifted and noisy, and on
    windows of one grey (a flat map: its best offset is the preference's)."""
    rng = np.random.default_rng(29)
    radius = mm_to_px(SEARCH_MM)
    for page in pages:
        targets = list(page.targets)
        windows = []
        for tt in targets:
            h, w = tt.shape
            window = np.zeros((h + 2 * radius, w + 2 * radius), np.float32)
            if tt.printed is not None and rng.random() < 0.8:
                dx, dy = (int(v) for v in rng.integers(0, 2 * radius + 1, 2))
                window[dy : dy + h, dx : dx + w] = tt.printed
                window += (rng.random(window.shape) * 0.1).astype(np.float32)
            else:
                window[:] = float(rng.choice([0.0, 0.3]))
            windows.append(window)
        got = _group_snaps(windows, targets, _by_shape(targets), radius)
        want = [_snap(window, tt, radius) for tt, window in zip(targets, windows)]
        assert [(dx, dy, m if m == m else "nan") for dx, dy, m in got] == \
            [(dx, dy, m if m == m else "nan") for dx, dy, m in want]


def test_argmax_takes_the_first_of_equal_maxima_as_min_max_loc_does() -> None:
    """Guards the assumption that `_group_snaps`' `argmax` picks the offset
    `_snap`'s `cv2.minMaxLoc` picked (the first in row order) when a match
    map holds equal maxima: OpenCV does not document its choice, and the
    random patches of `test_snaps_of_a_group_at_once_are_each_target_s_own`
    seldom tie."""
    rng = np.random.default_rng(31)
    for _ in range(3000):
        values = rng.integers(0, int(rng.integers(1, 5)), (15, 15)).astype(np.float32)
        _, _, _, loc = cv2.minMaxLoc(values)
        at = int(values.argmax())
        assert (at % 15, at // 15) == loc


def test_a_patch_s_pixel_maps_are_divmod_s(pages: list[PageTemplate]) -> None:
    """`_rows_cols` and `_points`: each pixel's row and column, as
    `np.divmod` of its flat index by the patch's width gives them."""
    for tt in {tt.shape: tt for tt in _targets(pages, "digit") + _targets(pages, "box")}.values():
        h, w = tt.shape
        rows, cols = np.divmod(np.arange(h * w), w)
        assert np.array_equal(_rows_cols(tt), np.stack([rows, cols]))
        assert np.array_equal(_points(tt), np.stack([cols, rows], 1).astype(np.float32))
        assert _points(tt).dtype == np.float32 and _points(tt).flags.c_contiguous


def test_measures_are_built_in_their_fields_order() -> None:
    """`score_targets` builds each `TargetMeasure` by position, in this
    order. It also guards the assumption that leaving a value of 0 unrounded
    (`score_targets`' `round(v, n) if v else v`) gives what rounding it gave:
    `round` gives a 0 back as it is, its sign and its type too (a numpy
    float's `__round__` is numpy's, not Python's)."""
    assert [f.name for f in dataclasses.fields(TargetMeasure)] == [
        "question", "option", "shape", "score", "offset_mm", "match", "digit", "solid", "across", "faint_mm"]
    for zero in (0.0, -0.0, np.float64(0.0), np.float64(-0.0), 0):
        for digits in (2, 3, 4):
            got = round(zero, digits)
            assert repr(got) == repr(zero) and math.copysign(1.0, got) == math.copysign(1.0, zero)


def test_faint_pieces_are_given_as_numpy_s_nonzero_gives_them(pages: list[PageTemplate]) -> None:
    """Each faint piece's pixels, taken from flat indices and the patch's
    maps: its columns and rows in `np.nonzero`'s order, and its points (x, y)
    in float32, as `cv2.minAreaRect` took them from that order."""
    rng = np.random.default_rng(37)
    pieces = 0
    for tt in _targets(pages, "box")[:20] + _targets(pages, "digit")[:20]:
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            for xs, ys, points in _faint_pieces(tt, dark, np.ones(tt.shape, bool)):
                mask = np.zeros(tt.shape, bool)
                mask[ys, xs] = True
                rows, cols = np.nonzero(mask)
                assert np.array_equal(rows, ys) and np.array_equal(cols, xs)
                assert np.array_equal(points, np.stack([cols, rows], 1).astype(np.float32))
                pieces += 1
    assert pieces


def test_a_digit_s_ink_over_its_box_is_summed_as_over_the_box(pages: list[PageTemplate]) -> None:
    """`inner_mm2` from the box less its glyph's pixels gathered first: the
    soft ink of the box window masked by `inner`, summed (the same values in
    the same order), wherever it is measured."""
    rng = np.random.default_rng(41)
    measured = 0
    for tt in _targets(pages, "digit"):
        assert tt.inner is not None
        y0, y1, x0, x1 = tt.box_crop
        for _ in range(PATCHES_PER_TARGET):
            dark = _patch(tt.shape, rng)
            got = _digit_parts(tt, dark).inner_mm2
            soft = np.clip((dark[y0:y1, x0:x1] - DIGIT_INK.lo) / (DIGIT_INK.hi - DIGIT_INK.lo), 0.0, 1.0)
            plain = float(soft[tt.inner[y0:y1, x0:x1]].sum()) / CANON_PX_PER_MM**2
            peaks = digit_peaks(tt, dark)
            read = peaks.inner_reach >= DIGIT_INK.lo and peaks.inner >= DIGIT_INK.lo
            if read and not _no_evidence(peaks, DIGIT_INK.core):
                assert got == plain
                measured += 1
            else:
                assert got == 0.0
    assert measured


def test_soft_ink_in_place_is_the_expression_s() -> None:
    """`new_ink`'s soft ink (made in place: less `lo`, over `hi - lo`,
    clipped by `ndarray.clip`) is bit for bit `np.clip` of the expression, for
    each `InkLevels` and new darkness of any value a patch holds: on patches
    whose every pixel is a kept stroke's or its rim's (a stroke's core every
    other pixel, no least size, the whole patch the region)."""
    rng = np.random.default_rng(47)
    for levels in (BOX_INK, DIGIT_INK):
        for _ in range(50):
            dark = np.clip(rng.normal(0.2, 0.3, (66, 66)), 0.0, 1.0).astype(np.float32)
            dark[::2, ::2] = 1.0
            got = new_ink(dark, np.ones(dark.shape, bool), levels, min_stroke_mm2=0.0)
            want = np.clip((dark - levels.lo) / (levels.hi - levels.lo), 0.0, 1.0)
            assert got.dtype == want.dtype and np.array_equal(got.view(np.uint32), want.view(np.uint32))
            assert (dark < levels.lo).any() and ((dark > levels.lo) & (dark < levels.hi)).any()
