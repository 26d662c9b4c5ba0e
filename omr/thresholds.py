"""The decision thresholds of the reader, in one place.

Scores are computed without thresholds (`omr.score`); these constants turn them
into states (`omr.decide`). A store keeps every raw score, so changing a value
here re-decides old scans without rescanning them.

Calibration: see `Thresholds` below for the figures that chose each value.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Two thresholds per target shape (marked >= `*_mark`, marginal in
    [`*_empty`, `*_mark`), empty below), plus the text-field limits.

    Box score: the ink-weighted fraction of the box interior (eroded away from
    the printed border) that is new ink. Digit score: the fraction of the
    angular sectors of the ring around the printed digit that hold new ink
    (a closed circle covers all of them, a speck one).
    """

    box_empty: float
    box_mark: float
    digit_empty: float
    digit_mark: float
    text_blank_ink: float  # a text field with less new ink than this is blank
    ocr_min_confidence: float  # mean word confidence (0..100) below this: flag

    def pair(self, shape: str) -> tuple[float, float]:
        """(T_empty, T_mark) for a target shape ("box" or "digit")."""
        if shape == "digit":
            return self.digit_empty, self.digit_mark
        return self.box_empty, self.box_mark


# The values the reader uses unless told otherwise. See the module docstring of
# `benchmarks/read_calibrate.py` for how they were chosen; the figures are
# recorded in BENCHMARKS.md ("Reading", calibration).
DEFAULT_THRESHOLDS = Thresholds(
    box_empty=0.02,
    box_mark=0.08,
    digit_empty=0.04,
    digit_mark=0.50,
    text_blank_ink=0.0003,
    ocr_min_confidence=80.0,
)
