"""The decision thresholds of the reader, in one place.

Scores are computed without thresholds (`omr.score`); these constants turn them
into states (`omr.decide`). A store keeps every raw score, so changing a value
here re-decides old scans without rescanning them.
"""
from __future__ import annotations

from dataclasses import dataclass


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
    # New ink over the digit's box (mm2) from which it is not blank.
    digit_inner_empty_mm2: float = 0.08
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
# corrections, specks anywhere; `benchmarks/style_deck.py`):
#     .venv/bin/python benchmarks/read_styles.py --sheets 150 --seed 31 --held-out-seed 32
# (seed 31 chooses: 150 sheets of each shipped form, 450 pages, 25,462
# targets; seed 32 counts the errors). Chosen on seed 31, 2026-11-30:
#
#   box    clean empty incl. specks, grazes: max 0.040 -> box_empty 0.05;
#          marginal (dot, faint, tick mostly outside): max 0.163 -> box_mark
#          0.204 (the earlier 0.20 on the old deck); solid share of plain
#          marks up to 0.966 (a dense scribble) -> box_solid 1.0: only a box
#          wholly under dark ink is "filled" for the correction rule (leaving
#          the scribbles out chose 0.60 and counted 4 scribbles wrongly).
#   digit  ring of marginal marks (an arc begun and abandoned) up to 0.375 ->
#          0.469, raised to the floor 0.5 (a circle goes round at least half
#          the ring; leaving the arcs out chose 0.16 and counted 5 of them);
#          a clean digit showed a 2.5 mm "stroke" over it (the print's rim on
#          both sides of the glyph, 0.1 mm2) -> digit_stroke_mm 3.12 (never
#          under the floor of 2 mm, longer than a 1 mm2 speck is across);
#          a line or tick beside: an abandoned arc reaching away from the
#          digit up to 4.38 mm -> digit_beside_mm 5.47 (so most ticks
#          beside and many underlines are flagged, not counted); shading:
#          faint strokes cover up to 0.23 of the box -> digit_fill_mark
#          0.288, clean empties 0.109 -> digit_fill_empty 0.136; solid share
#          of plain marks up to 0.479 -> digit_solid 0.599.
#   glyph darkened or thickened (`DigitEvidence.thick_mm2`, added 2026-11-30,
#   issue 10, same decks re-read): clean digits (no ink drawn near them) up
#   to 0.145 mm2 -> digit_thick_empty_mm2 0.181 (1.25 x, the rule for reading
#   blank); strokes through the glyph from 0.086, the median 0.66.
#   Not chosen (evidence of any ink, by principle): one inked ring sector
#   (digit_empty 0.04), any stroke of the digit's own or of unclear owner,
#   0.08 mm2 of new ink over its box (10 of 11,818 clean digits reach it,
#   the highest 0.12: those are flagged).
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
    digit_fill_empty=0.136,
    digit_fill_mark=0.288,
    digit_solid=0.599,
    digit_inner_empty_mm2=0.3,
    digit_thick_empty_mm2=0.181,
)
