"""The decision thresholds of the reader, in one place.

Scores are computed without thresholds (`omr.score`); these constants turn them
into states (`omr.decide`). A store keeps every raw score, so changing a value
here re-decides old scans without rescanning them.
"""
from __future__ import annotations

from dataclasses import dataclass

# A piece of ink shorter than this is a blob, not a stroke: 1.13 mm is the
# extent of a 1 mm2 disc, the largest speck a mark must not be told by (issue
# 10: think in millimetres of extent, not only area). A principle, not chosen
# on a deck: `omr.score` keeps such pieces off the glyph as crumbs of ink, and
# `omr.decide` never takes one touching the glyph for a stroke.
SPECK_MM = 1.13
# A digit blacked out, as the printed correction rule asks ("fill the wrong
# one completely"), told from a heavy circle or cross by what they leave on
# paper, not by a share chosen on a deck: its middle (`omr.template.MIDDLE_MM`,
# where a circle round the digit never reaches) more than half hidden under
# dark ink (`DigitEvidence.hidden`: a marker's tight circle leaves it all),
# and its box at least nine tenths under ink (`DigitEvidence.fill`: the wedges
# between a cross's arms stay paper, 0.70-0.85 of it covered by a 1.1 mm
# marker's cross on other hands' deck, seed 1); and its ink all round the
# digit, in at least BLACKOUT_AROUND of the ring's 16 sectors (`ring`): a
# cross reaches out in four arms only, each through at most three sectors
# even with a 1.2 mm marker (0.75 on other hands' felt-tip probe), where its
# wedges let a narrow digit's box pass as covered. Beside another mark,
# anything heavy that is not a blackout is for a person (`omr.decide`:
# `correction`).
BLACKOUT_MIDDLE, BLACKOUT_COVER, BLACKOUT_AROUND = 0.5, 0.9, 0.875
# A digit circled and then crossed out, as the SIPAS form prints ("gạch chéo
# chữ số khoanh nhầm"), told by what the cross leaves where a circle round the
# digit does not come: over the digit's middle (`omr.template.MIDDLE_MM` of
# its centre, glyph included, `DigitEvidence.middle_mm2`) at least a stroke's
# least new ink (`omr.score.MIN_STROKE_MM2`; plain circles on the style deck
# leave at most 0.23 mm2), centred on the middle and reaching further than a
# speck is across (SPECK_MM, by `DigitEvidence.middle_mm`: a speck of 1 mm2
# reads 0.98 mm; an arc of a circle drawn off the centre, across the digit,
# is off it: `omr.score.MIDDLE_OFF_MM`), with its ring inked all round
# (BLACKOUT_AROUND: a cross alone never is) and its box not covered (under
# BLACKOUT_COVER: a shading or a blackout covers it).
CROSSED_MM2 = 0.3


@dataclass(frozen=True)
class Thresholds:
    """Two thresholds per target shape (marked >= `*_mark`, marginal in
    [`*_empty`, `*_mark`), empty below), plus the text-field limits.

    Box score: the ink-weighted fraction of the box interior (inset from the
    printed border) that is new ink. Digit score: the larger of the share of
    the ring's sectors inked round the digit and the ink centred on it (see
    `omr.score`).
    """

    box_empty: float
    box_mark: float
    digit_empty: float  # ring share: one inked sector is evidence of ink
    digit_mark: float  # ring share: a circle round the digit
    text_blank_ink: float  # a text field with less new ink than this is blank
    ocr_min_confidence: float  # mean word confidence (0..100) below this: flag
    # A box filled in solid (at least this share of its interior under dark
    # ink): cancelled when another target of its question is marked (the
    # printed correction rule).
    box_solid: float = 1.0
    # A marked target with at least this share of its box under dark ink beside another
    # mark on a multiple-choice question may be the correction rule's fill short of solid
    # (a dense scribble reaches 0.97): flagged `correction`, never counted with the other.
    # Half the box blacked is the principle, not a fitted value. A box whose interior is
    # covered at `box_covered` or more is as heavy (a ballpoint fill covers it all without
    # reaching "dark": 0.47-0.55 of it was, on a generated box).
    unsure_fill: float = 0.5
    box_covered: float = 0.9
    # Digits, on `omr.reading.DigitEvidence`: a stroke of this digit's at
    # least `digit_stroke_mm` long over it, or a line or tick beside it at
    # least `digit_beside_mm` long, is a mark; a
    # shading covering at least `digit_fill_mark` of its box is a mark, from
    # `digit_fill_empty` evidence of ink; `digit_solid` of its box under dark
    # ink is the digit blacked out (cancelled by the correction rule).
    digit_stroke_mm: float = 2.5
    digit_beside_mm: float = 3.0  # a line under the digit (`DigitEvidence.beside_mm`)
    digit_tick_mm: float = 3.0  # a tick beside it (`DigitEvidence.tick_mm`)
    digit_fill_empty: float = 0.30
    digit_fill_mark: float = 0.85
    digit_solid: float = 0.65
    # New ink over the digit's box (mm2) from which it is not blank: as much
    # as the least stroke holds (a speck in the box is at most marginal).
    digit_inner_empty_mm2: float = 0.3
    # The glyph darkened or thickened beyond its print (mm2, see
    # `omr.score.glyph_darkening_mm2`) from which a digit is not blank.
    digit_thick_empty_mm2: float = 0.181
    # Crumbs of ink near the digit (mm2, `DigitEvidence.crumbs_mm2`) from
    # which it is not blank.
    digit_crumbs_empty_mm2: float = 0.3

    def pair(self, shape: str) -> tuple[float, float]:
        """(T_empty, T_mark) for a target shape ("box" or "digit")."""
        if shape == "digit":
            return self.digit_empty, self.digit_mark
        return self.box_empty, self.box_mark


# Marks (boxes and digits) are chosen by one rule, `choose_thresholds` in
# benchmarks/read_styles.py: counting needs more than 1.25 x the strongest
# target that is not a clear mark (marginal or empty, noise included) on a
# generated deck of the wider mark model (every style of mark people make,
# corrections, specks anywhere; `benchmarks/style_deck.py`, model 2), and
# reading blank less than 1.25 x the strongest clean one; questions the
# capture hides (a fold, outside a photo) choose nothing:
#     .venv/bin/python benchmarks/read_styles.py --sheets 150 --seed 31 --held-out-seed 32
# (seed 31 chooses: 150 sheets of each shipped form, 450 pages, 26,100
# targets; seed 32 counts the errors). Chosen on seed 31, 2026-11-30 13:20
# (issue 10, second pass: digit strokes by shape):
#
#   digit  ring of marginal marks (an arc begun and abandoned) up to 0.375 ->
#          0.469, raised to the floor 0.5 (a circle goes round at least half
#          the ring; leaving the arcs out chose 0.16 on the first deck and
#          counted 5 of them);
#          strokes: no target that is not a clear mark has a stroke struck
#          through its digit, a line under it, or one longer than 1.46 mm (a
#          hesitation dot drawn out) bent as a tick beside it -> the floor of
#          2 mm for all three (digit_stroke_mm, digit_beside_mm,
#          digit_tick_mm: longer than a 1 mm2 speck is across). What a line,
#          a tick or an arc is, is geometry (`omr.score.stroke_kind`), not
#          chosen: arcs round the digit (up to 4.4 mm) are arcs whatever
#          their length, never counted. Clear marks measured from 2.7 mm
#          (underlines) and 1.7 mm (struck through);
#          shading: faint strokes cover up to 0.266 of the box ->
#          digit_fill_mark 0.333, clean empties (specks) 0.082 ->
#          digit_fill_empty 0.103; solid share of plain marks up to 0.471 (a
#          circle) -> digit_solid 0.589.
#   glyph darkened or thickened (`DigitEvidence.thick_mm2`): clean digits (no
#   ink drawn near them) up to 0.175 mm2; the reading-blank rule would
#   choose 0.219, but a stroke laid along a glyph then reads blank (the
#   property tests of tests/test_omr_marks.py: darkened 0.214 and less, with
#   0.75 mm2 of the stroke off the print) -> kept at 0.181 (the first pass's
#   choice on the model-1 deck, clean digits up to 0.145): never reading a
#   stroke blank comes before the margin over clean digits, which still stay
#   under it on this deck.
#   Crumbs of ink (`crumbs_mm2`): clean digits up to 0.222 mm2 (x 1.25 =
#   0.278) -> the floor, 0.3 mm2: a stroke's least ink (MIN_STROKE_MM2).
#   box    kept from the first calibration (model-1 deck, seed 31: marginal
#          up to 0.163 -> box_mark 0.204, clean empties 0.040 -> box_empty
#          0.05). The rule now chooses 0.042/0.133 (marginal up to 0.106):
#          that counted 1 of 42 ticks mostly outside a box on the held-out
#          deck (0.139), silently; the box reader is not changed by issue 10's
#          second pass and its threshold is not lowered on one deck's
#          evidence. box_solid 1.0, not chosen: the printed rule says fill
#          the wrong box "completely" (tô kín), so only a box wholly under dark
#          ink is its fill. Plain marks' solid share reaches 0.99 (a dense
#          scribble): a share fitted under the scribbles seen counted unseen
#          ones as fills (leaving the scribbles out chose 0.58: 5 silent errors).
#   Not chosen (evidence of any ink, by principle): any stroke of the
#   digit's own or of unclear owner at least SPECK_MM long (a piece shorter
#   than 1.13 mm is a blob, not a stroke, on the glyph as off it; the ring's
#   sectors hold only strokes' ink, so digit_empty 0.04, one inked sector,
#   decides only a digit read without its evidence), 0.3 mm2 of new
#   ink over its box (digit_inner_empty_mm2: a stroke's least ink; 0.08
#   before, which specks in the box reached; no clean digit of the deck
#   reaches 0.3, 11 of 11,795 reach 0.08, the highest 0.121).
#
# Text (share of the field covered by letter-sized blobs of writing, see
# `omr.text.field_ink`), same deck: 115 written comments >= 0.0216 (faint
# pencil on a feeder scan), 184 blank fields <= 0.0063 (on a folded page)
# -> text_blank_ink 0.012, near the geometric middle.
# OCR (deslanted, psm 4; see omr/text.py), the 115 written comments of the same
# deck: the 87 read with a mean word confidence >= 88 have a 2.4% character
# error rate, none worse than 16%; below 88 are all the garbled ones (up to
# 89% wrong at confidence 87). At 85: 95 kept, 4.0%; at 80: 105 kept, 6.4%.
# -> ocr_min_confidence 88: anything less sure goes to a person to transcribe.
DEFAULT_THRESHOLDS = Thresholds(
    box_empty=0.05,
    box_mark=0.204,
    digit_empty=0.04,
    digit_mark=0.5,
    text_blank_ink=0.012,
    ocr_min_confidence=88.0,
    box_solid=1.0,
    digit_stroke_mm=2.0,
    digit_beside_mm=2.0,
    digit_tick_mm=2.0,
    digit_fill_empty=0.103,
    digit_fill_mark=0.333,
    digit_solid=0.589,
    digit_inner_empty_mm2=0.3,
    digit_thick_empty_mm2=0.181,
    digit_crumbs_empty_mm2=0.3,
)
