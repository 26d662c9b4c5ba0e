"""The synthetic ballot generator, piece by piece: marks, plans and truth, captures."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures import handwriting, marks
from fixtures.capture import CAPTURE_KINDS, MARKED_KINDS, as_decoded, capture, fold_room_mm
from fixtures.comments import COMMENT_SENTENCES
from fixtures.ink import Pen, colourise
from fixtures.respond import FillOptions, draw_sheet, plan_sheet
from forms import layout_form, load_form, render_page_images
from forms.geometry import MARKER_IDS

DPI = 150
PPM = DPI / 25.4


@pytest.fixture(scope="module", params=["mot-cua", "sipas"])
def printed(request):
    """(form, page geometries, blank page rasters at DPI) of a shipped form."""
    form = load_form(request.param)
    geos = [p.geometry for p in layout_form(form).pages]
    return form, geos, render_page_images(form, DPI)


@pytest.fixture(scope="module")
def mot_cua():
    form = load_form("mot-cua")
    geo = layout_form(form).pages[0].geometry
    return form, geo, render_page_images(form, DPI)[0]


def _px(bbox, grow=0.0):
    x, y, w, h = bbox
    return (int((x - grow) * PPM), int((y - grow) * PPM),
            int(np.ceil((x + w + grow) * PPM)), int(np.ceil((y + h + grow) * PPM)))


def _new_ink(before: np.ndarray, after: np.ndarray, darker: int = 40) -> np.ndarray:
    return (before.astype(int) - after.astype(int)) > darker


# --- marks --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", marks.BOX_MARKED_KINDS)
def test_box_marks_land_on_their_box(mot_cua, kind):
    form, geo, blank = mot_cua
    target = geo.targets[3]
    rng = np.random.default_rng(5)
    pen = Pen("ballpoint_black", 40, 0.5)
    page = blank.copy()
    marks.draw_shape(page, PPM, marks.mark_shape(kind, target.bbox_mm, "box", pen, rng), rng)
    ink = _new_ink(blank, page)
    x0, y0, x1, y1 = _px(target.bbox_mm, grow=2.5)  # ticks overshoot, fills spill a little
    assert ink.sum() > 0
    assert ink[y0:y1, x0:x1].sum() == ink.sum(), "ink fell outside the target's neighbourhood"
    ix0, iy0, ix1, iy1 = _px(target.bbox_mm, grow=-0.6)
    inside = ink[iy0:iy1, ix0:ix1].mean()
    assert inside > 0.12, f"a clear {kind} covers only {inside:.1%} of the box interior"


def test_fill_ink_lies_inside_the_box(mot_cua):
    form, geo, blank = mot_cua
    target = geo.targets[0]
    rng = np.random.default_rng(1)
    pen = Pen("ballpoint_blue", 80, 0.5)
    page = blank.copy()
    shape = marks.mark_shape("fill", target.bbox_mm, "box", pen, rng)
    marks.draw_shape(page, PPM, shape, rng)
    ink = _new_ink(blank, page)
    x0, y0, x1, y1 = _px(target.bbox_mm, grow=1.0)
    assert ink[y0:y1, x0:x1].sum() == ink.sum()
    ix0, iy0, ix1, iy1 = _px(target.bbox_mm, grow=-0.6)
    assert ink[iy0:iy1, ix0:ix1].mean() > 0.9


def test_noise_marks_leave_the_box_interior_empty(mot_cua):
    form, geo, blank = mot_cua
    pen = Pen("ballpoint_black", 40, 0.6)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        target = geo.targets[seed % len(geo.targets)]
        if target.shape != "box":
            continue
        for kind in marks.BOX_NOISE_KINDS:
            page = blank.copy()
            marks.draw_shape(page, PPM, marks.mark_shape(kind, target.bbox_mm, "box", pen, rng), rng)
            ix0, iy0, ix1, iy1 = _px(target.bbox_mm, grow=-0.7)
            assert _new_ink(blank, page)[iy0:iy1, ix0:ix1].mean() < 0.01, (kind, seed)


def test_digit_circle_surrounds_the_digit_without_touching_it():
    rng = np.random.default_rng(3)
    bbox = (50.0, 50.0, 2.6, 3.6)
    for _ in range(50):
        (stroke,) = marks.digit_circle_strokes(bbox, room_mm=1.9, rng=rng)
        cx, cy = 51.3, 51.8
        r = np.hypot(stroke[:, 0] - cx, stroke[:, 1] - cy)
        assert r.max() <= 1.8 + 1.9 + 0.01
        # the loop goes round the digit: its points span every direction from the centre
        ang = np.degrees(np.arctan2(stroke[:, 1] - cy, stroke[:, 0] - cx))
        assert np.histogram(ang, bins=8, range=(-180, 180))[0].min() > 0


def test_handwriting_fonts_carry_every_vietnamese_letter_of_the_comments():
    letters = "".join(sorted(set("".join(COMMENT_SENTENCES))))
    fonts = handwriting.handwriting_fonts()
    assert fonts
    for path in fonts:
        assert handwriting.covers(path, letters), path


def test_comment_sentences_are_many_and_vietnamese():
    assert len(set(COMMENT_SENTENCES)) >= 30
    assert all(any(ch in handwriting.VIETNAMESE_LETTERS[1:] and not ch.isascii() for ch in s)
               for s in COMMENT_SENTENCES[:5])


# --- plans and truth ----------------------------------------------------------------


def test_every_target_of_the_form_is_in_the_truth_once(printed):
    form, geos, _ = printed
    plan = plan_sheet(form, geos, 42, np.random.default_rng(0), FillOptions(), PPM)
    keys = [(t.question, t.option) for t in plan.truth.targets]
    expected = [(t.question, t.option) for g in geos for t in g.targets]
    assert sorted(keys) == sorted(expected)
    assert [q.question for q in plan.truth.questions] == [q.id for q in form.questions()]


def test_question_truth_follows_from_target_truth(printed):
    form, geos, _ = printed
    for seed in range(30):
        plan = plan_sheet(form, geos, seed, np.random.default_rng(seed),
                          FillOptions(overvote_rate=0.3, marginal_rate=0.3, blank_rate=0.2), PPM)
        for q in form.questions():
            qt = plan.truth.question(q.id)
            mine = [t for t in plan.truth.targets if t.question == q.id]
            marked = [t.option for t in mine if t.intent == "marked"]
            assert sorted(qt.expected) == sorted(marked)
            assert ("overvote" in qt.flags) == (q.type == "single" and len(marked) > 1)
            assert ("marginal" in qt.flags) == any(t.intent == "marginal" for t in mine)
            assert qt.answer == (None if qt.flags else qt.expected)
            for t in mine:
                if t.kind in ("none",) + marks.BOX_NOISE_KINDS + marks.DIGIT_NOISE_KINDS:
                    assert t.intent == "empty"
                if t.intent == "marked":
                    assert t.kind in marks.BOX_MARKED_KINDS + marks.DIGIT_MARKED_KINDS
                if t.intent == "marginal":
                    assert t.kind in marks.BOX_MARGINAL_KINDS + marks.DIGIT_MARGINAL_KINDS


def test_corrections_by_the_printed_rule_in_the_truth(printed):
    """A fill or a crossed-out circle beside one other mark on a single-choice
    question is cancelled and the question clear; a crossed-out circle with
    no other mark stays cancelled, its question for a person; a fill alone
    is the answer."""
    form, geos, _ = printed
    clear = 0
    for seed in range(60):
        plan = plan_sheet(form, geos, seed, np.random.default_rng(seed),
                          FillOptions(wide_marks=True, correction_rate=0.5, marginal_rate=0.3), PPM)
        for q in form.questions():
            mine = [t for t in plan.truth.targets if t.question == q.id]
            qt = plan.truth.question(q.id)
            cancelled = [t for t in mine if t.intent == "cancelled"]
            marked = [t for t in mine if t.intent == "marked"]
            assert not any(t.kind == "cancel" and t.intent == "marked" for t in mine)
            if not cancelled:
                continue
            assert all(t.kind in ("fill", "blackout", "cancel") for t in cancelled)
            if q.type == "single" and len(cancelled) == 1 and len(marked) == 1:
                assert "correction" not in qt.flags and qt.expected == (marked[0].option,)
                clear += 1
            else:
                assert "correction" in qt.flags
    assert clear >= 20


def test_plans_are_reproducible(printed):
    form, geos, _ = printed
    a = plan_sheet(form, geos, 7, np.random.default_rng([1, 7]), FillOptions(), PPM)
    b = plan_sheet(form, geos, 7, np.random.default_rng([1, 7]), FillOptions(), PPM)
    c = plan_sheet(form, geos, 7, np.random.default_rng([2, 7]), FillOptions(), PPM)
    assert a.truth == b.truth
    assert a.truth != c.truth


def test_marks_stay_off_unmarked_targets(printed):
    """No ink of any mark, comment or noise falls inside a target whose truth is
    "none" (bleed-through off: it is meant to touch everything, faintly)."""
    form, geos, blanks = printed
    options = FillOptions(marginal_rate=0.3, noise_rate=0.3, overvote_rate=0.2, comment_rate=1.0,
                          bleed_rate=0.0)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        plan = plan_sheet(form, geos, seed, rng, options, PPM)
        pages = draw_sheet(blanks, PPM, plan, rng)
        for g in geos:
            ink = _new_ink(blanks[g.page - 1], pages[g.page - 1], darker=25)
            for t in g.targets:
                if plan.truth.target(t.question, t.option).kind != "none":
                    continue
                x0, y0, x1, y1 = _px(t.bbox_mm)
                assert not ink[y0:y1, x0:x1].any(), (seed, t.question, t.option)


def test_clear_marks_carry_far_more_ink_than_noise(printed):
    """Honest labels: on the clean page, every box marked "marked" is inked well
    beyond any box whose truth is empty."""
    form, geos, blanks = printed
    options = FillOptions(marginal_rate=0.2, noise_rate=0.4, bleed_rate=0.0)
    clear, empty = [], []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        plan = plan_sheet(form, geos, seed, rng, options, PPM)
        pages = draw_sheet(blanks, PPM, plan, rng)
        for g in geos:
            ink = _new_ink(blanks[g.page - 1], pages[g.page - 1], darker=60)
            for t in g.targets:
                if t.shape != "box":
                    continue
                intent = plan.truth.target(t.question, t.option).intent
                x0, y0, x1, y1 = _px(t.bbox_mm, grow=-0.7)
                share = ink[y0:y1, x0:x1].mean()
                (clear if intent == "marked" else empty if intent == "empty" else []).append(share)
    if not clear:
        pytest.skip("this form has no box targets")
    assert min(clear) > 0.1
    assert max(empty) < 0.01


def test_comment_is_drawn_inside_its_field(mot_cua):
    form, geo, blank = mot_cua
    rng = np.random.default_rng(4)
    plan = plan_sheet(form, [geo], 1, rng, FillOptions(comment_rate=1.0, bleed_rate=0.0), PPM)
    (text_q,) = [q for q in plan.truth.questions if q.type == "text"]
    assert any(text_q.text.startswith(s) for s in COMMENT_SENTENCES)
    (comment,) = plan.comments
    assert " ".join(" ".join(line) for line in comment.lines) == text_q.text
    only_comment = type(plan)(plan.serial, plan.pen, (), plan.comments, plan.bleed, plan.truth)
    (page,) = draw_sheet([blank], PPM, only_comment, rng)
    ink = _new_ink(blank, page)
    x0, y0, x1, y1 = _px(geo.text_fields[0].bbox_mm)
    assert ink.sum() > 0 and ink[y0:y1, x0:x1].sum() == ink.sum()


# --- captures -----------------------------------------------------------------------


@pytest.mark.parametrize("dpi,seed", [(150, 11), (200, 12), (300, 13), (200, 3)])
def test_scan_is_the_paper_at_the_scan_resolution(mot_cua, dpi, seed):
    form, geo, blank = mot_cua
    cap = capture("scan", blank, PPM, seed, dpi=dpi, geometry=geo)
    h, w = cap.image.shape[:2]
    ppm = dpi / 25.4
    # the skewed sheet's bounding box plus 2..16 mm of scanner backing on each axis
    a = np.radians(cap.params["skew_deg"])
    span_w = 210 * abs(np.cos(a)) + 297 * abs(np.sin(a))
    span_h = 210 * abs(np.sin(a)) + 297 * abs(np.cos(a))
    assert (span_w + 2) * ppm <= w <= (span_w + 16) * ppm + 1
    assert (span_h + 2) * ppm <= h <= (span_h + 16) * ppm + 1
    assert cap.dpi == dpi and 60 <= cap.jpeg_quality <= 90
    assert cap.params["rotation"] == 0


def _marker_positions(image: np.ndarray) -> dict[int, tuple[float, float]]:
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = detector.detectMarkers(grey)
    h, w = grey.shape
    if ids is None:
        return {}
    return {int(i): (c[0][:, 0].mean() / w, c[0][:, 1].mean() / h) for i, c in zip(ids.ravel(), corners)}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 4])
def test_each_capture_kind_turns_the_page_as_it_says(mot_cua, seed):
    form, geo, blank = mot_cua
    tl = MARKER_IDS["tl"]
    for kind in MARKED_KINDS:  # the others lose markers on purpose: test_fixtures_framing.py
        cap = capture(kind, blank, PPM, seed, dpi=DPI, geometry=geo)
        found = _marker_positions(as_decoded(cap))
        h, w = cap.image.shape[:2]
        if kind == "phone":
            assert cap.image.ndim == 3 and 2000 <= max(h, w) <= 2800
            assert len(found) == 4
            continue
        rotation = cap.params["rotation"]
        assert (w > h) == (rotation in (90, 270)), kind
        if kind == "folded":
            hidden = MARKER_IDS[cap.params["fold_corner"]]
            assert hidden not in found and len(found) == 3
            continue
        assert len(found) == 4, kind
        x, y = found[tl]
        # where the top-left marker ends up after a clockwise turn
        quadrant = {0: (x < 0.5, y < 0.5), 90: (x > 0.5, y < 0.5), 180: (x > 0.5, y > 0.5),
                    270: (x < 0.5, y > 0.5)}[rotation]
        assert all(quadrant), (kind, rotation, x, y)


def test_captures_are_reproducible(mot_cua):
    form, geo, blank = mot_cua
    for kind in CAPTURE_KINDS:
        a = capture(kind, blank, PPM, 9, dpi=DPI, geometry=geo)
        b = capture(kind, blank, PPM, 9, dpi=DPI, geometry=geo)
        assert np.array_equal(a.image, b.image) and a.params == b.params, kind


def test_fold_never_hides_an_answer(printed):
    form, geos, _ = printed
    for g in geos:
        for corner in MARKER_IDS:
            room = fold_room_mm(g, corner, (210.0, 297.0))
            for t in g.targets:
                x, y, w, h = t.bbox_mm
                u = x if corner in ("tl", "bl") else 210 - (x + w)
                v = y if corner in ("tl", "tr") else 297 - (y + h)
                assert max(u, v) >= room, (corner, t)


def test_blue_ink_is_blue_and_as_dark_as_the_grey_model(mot_cua):
    form, geo, blank = mot_cua
    rng = np.random.default_rng(2)
    pen = Pen("ballpoint_blue", 80, 0.6)
    page = blank.copy()
    marks.draw_shape(page, PPM, marks.mark_shape("fill", geo.targets[0].bbox_mm, "box", pen, rng), rng)
    colour = colourise(blank, page, pen)
    ink = (page < 120) & (blank > 200)
    b, g, r = (colour[:, :, c][ink].astype(int) for c in range(3))
    assert (b > r + 60).mean() > 0.9  # blue
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    assert np.abs(grey.astype(int) - page.astype(int)).max() <= 12
    untouched = page == blank
    assert (colour[untouched] == blank[untouched][:, None]).all()


@pytest.mark.slow
def test_every_capture_kind_takes_a_colour_page(mot_cua):
    form, geo, blank = mot_cua
    page = cv2.cvtColor(blank, cv2.COLOR_GRAY2BGR)
    for kind in CAPTURE_KINDS:
        cap = capture(kind, page, PPM, 5, dpi=DPI, geometry=geo)
        again = capture(kind, page, PPM, 5, dpi=DPI, geometry=geo)
        assert np.array_equal(cap.image, again.image)
        photo = kind in ("phone", "tight", "corners_out", "phone_fold")
        assert cap.image.ndim == (3 if photo or cap.params.get("colour") else 2), kind
        if kind in MARKED_KINDS:
            assert len(_marker_positions(as_decoded(cap))) >= 3, kind
