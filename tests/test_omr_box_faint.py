"""A faint stroke through a box is not nothing (`omr.score.box_faint_mm`,
`omr.decide.box_state`): a light stroke with ink in the box's interior makes the
box at least marginal, never marked; a speck, a stroke beside the box and the
border's own halo do not."""
from __future__ import annotations

import cv2
import numpy as np

from forms.geometry import Target
from omr.decide import box_state
from omr.score import box_faint_mm
from omr.template import PRINT_GUARD_MM, _box_template, _printed_mask, mm_to_px
from omr.thresholds import DEFAULT_THRESHOLDS, SPECK_MM

BOX = Target("q", "1", "box", (20.0, 20.0, 5.0, 5.0))


def _template():
    """A 5 mm box printed on a 40 x 40 mm blank at the canonical scale."""
    blank = np.full((mm_to_px(40), mm_to_px(40)), 255, np.uint8)
    x0, y0, x1, y1 = mm_to_px(20), mm_to_px(20), mm_to_px(25), mm_to_px(25)
    cv2.rectangle(blank, (x0, y0), (x1, y1), 0, 2)
    darkness = 1.0 - blank.astype(np.float32) / 255.0
    return _box_template(BOX, darkness, _printed_mask(blank, mm_to_px(PRINT_GUARD_MM)))


def _stroke(tt, points_mm: list[tuple[float, float]], level: float = 0.18, width_px: int = 3) -> np.ndarray:
    """New darkness in the box's patch: a polyline (page mm) at `level`."""
    dark = np.zeros(tt.shape, np.float32)
    pts = np.array([(mm_to_px(x) - tt.x0, mm_to_px(y) - tt.y0) for x, y in points_mm], np.int32)
    cv2.polylines(dark, [pts], False, level, width_px)
    return dark


def test_a_light_check_through_the_box_is_marginal_never_marked() -> None:
    tt = _template()
    # vertex on the bottom border, the long arm across the interior and out at the top
    dark = _stroke(tt, [(20.8, 23.6), (21.5, 25.0), (24.0, 19.6)])
    faint = box_faint_mm(tt, dark)
    assert faint >= SPECK_MM
    assert box_state(0.03, False, faint) == "marginal"
    assert box_state(0.03, False, 0.0) == "empty"  # what the score alone said
    assert box_state(DEFAULT_THRESHOLDS.box_mark, False, faint) == "marked"  # faint never lowers a mark


def test_no_faint_stroke_from_a_clean_box_a_speck_or_ink_beside_it() -> None:
    tt = _template()
    assert box_faint_mm(tt, np.zeros(tt.shape, np.float32)) == 0.0
    speck = np.zeros(tt.shape, np.float32)
    cv2.circle(speck, (tt.shape[1] // 2, tt.shape[0] // 2), 2, 0.3, -1)  # ~0.4 mm across
    assert box_faint_mm(tt, speck) < SPECK_MM
    beside = _stroke(tt, [(19.2, 20.5), (19.2, 24.5)])  # along the left side, outside the box
    assert box_faint_mm(tt, beside) == 0.0


def test_the_borders_halo_is_not_a_stroke() -> None:
    tt = _template()
    # the printed border shifted by a pixel (a misregistered blurred capture): its halo
    halo = np.zeros(tt.shape, np.float32)
    x0, y0 = mm_to_px(20) - tt.x0 + 1, mm_to_px(20) - tt.y0 + 1
    cv2.rectangle(halo, (x0, y0), (x0 + mm_to_px(5), y0 + mm_to_px(5)), 0.3, 2)
    assert box_faint_mm(tt, halo) == 0.0



def test_a_light_line_struck_through_a_row_of_boxes_is_looked_at() -> None:
    """Cut by each box's border into pieces, it leaves one through each box:
    marginal (someone struck the question through, or meant one box), never
    counted, never read blank."""
    tt = _template()
    through = _stroke(tt, [(18.0, 22.5), (27.0, 22.5)])
    faint = box_faint_mm(tt, through)
    assert faint >= SPECK_MM
    assert box_state(0.04, False, faint) == "marginal"


def test_a_faint_stroke_longer_than_a_speck_keeps_a_digit_from_blank() -> None:
    """As for a box: a light pencil stroke near a digit, 1.85 mm of it seen
    (other hands' light pencil probe: a tick on "1" whose every other part was
    just under its threshold), is evidence of ink; a speck's extent is not."""
    from omr.decide import digit_state
    from omr.reading import DigitEvidence

    seen = DigitEvidence(fill=0.073, inner_mm2=0.034, thick_mm2=0.178, faint_mm=1.853, fill_local=0.062)
    assert digit_state(seen) == "marginal"
    speck = DigitEvidence(fill=0.073, inner_mm2=0.034, thick_mm2=0.178, faint_mm=SPECK_MM - 0.01, fill_local=0.062)
    assert digit_state(speck) == "empty"


def test_a_faint_dot_is_not_a_stroke() -> None:
    """A pen rested beside a target: a round faint piece ~1.5 mm across (a speck
    with its light rim) is a dot, no evidence of a stroke; a narrow piece as
    long is one."""
    tt = _template()
    dot = np.zeros(tt.shape, np.float32)
    cv2.circle(dot, (tt.shape[1] // 2, tt.shape[0] // 2), 4, 0.18, -1)  # 9 px = 1.5 mm across
    assert box_faint_mm(tt, dot) == 0.0
    dash = _stroke(tt, [(21.6, 22.5), (23.1, 22.5)])  # 1.5 mm long, 3 px wide
    assert box_faint_mm(tt, dash) >= SPECK_MM
