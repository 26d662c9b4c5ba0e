"""Scanner streaks: the lines a document feeder draws down the whole scan.

Dust or a scratch on a feeder's glass makes one narrow column of every page it
scans a little darker (or lighter), from the first row to the last: over
paper, print and the scanner's backing alike. No hand draws that. On a page
fed a degree or two askew such a line crosses the digits' rings at a slant
and read as a faint stroke (`DigitEvidence.faint_mm`): 15 clear answers of
one held-out deck went to a person for nothing.

`find_streaks` finds such a column by what only a streak has: the same
difference from the columns beside it in almost every row where it can show,
from the image's top to its bottom, no wider than `MAX_WIDTH_MM`. A printed
line stops short of the page's margins, a pen stroke is short, and the edge
of the paper has different things on its two sides; none of them is taken
(a line printed down a page's whole height with no skew would be: phieu's
forms print none, `tests/test_omr_streaks.py`). `remove_streaks` takes each
column's difference back out of it, so print and marks under a streak keep
their shape (filling the columns in from beside them smeared printed digits'
edges into "thickened" glyphs).

Dark streaks are what matter, and what is found: a light one over white
paper is clipped at white, seldom shows, and takes ink away without adding
any. Columns only: a feeder moves the page along the image's columns (a page
fed sideways is turned in the picture, not in the scanner). A phone photo has
no streak, and none is found in one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The widest streak taken out, and the faintest: dust on the glass draws a line
# a few tenths of a millimetre wide; a difference under a few grey levels is
# below the noise and harms nothing.
MAX_WIDTH_MM = 0.5
MIN_DELTA = 5.0
# A page's long side and margin (mm) as the scale's upper bound before the page
# is registered: an A4 page filling the scan.
_PAGE_LONG_MM = 297.0
# Rows sampled down the image: a streak is in every one of them.
SAMPLE_ROWS = 128
# Where the columns on either side of a candidate agree within FLAT grey
# levels (and the streak has room to show), its difference from them must be
# the streak's, within TOLERANCE (or half the streak's), in at least
# CONSISTENT of those rows, and in most of the first and the last END_SHARE
# of them; and they must be at least MIN_ROWS of the sample.
FLAT = 16.0
TOLERANCE = 6.0
CONSISTENT = 0.9
END_SHARE = 0.1
MIN_ROWS = 0.25


@dataclass(frozen=True)
class Streak:
    """Columns `x0` to `x0 + len(levels)` (exclusive) of the image, each
    `levels[i]` grey levels from the columns beside them (negative: darker;
    a column at each end, where JPEG spreads a sharp line); `delta`, the
    streak's own difference."""

    x0: int
    levels: tuple[float, ...]
    delta: float


def find_streaks(grey: np.ndarray) -> tuple[Streak, ...]:
    """The scanner streaks of a grey page image (2-D uint8), left to right."""
    h, w = grey.shape
    width = max(1, int(np.ceil(MAX_WIDTH_MM * max(h, w) / _PAGE_LONG_MM)))
    k = width + 1  # beyond the widest streak: a streak's columns differ from both sides
    if w < 2 * k + 3 or h < SAMPLE_ROWS:
        return ()
    rows = np.linspace(0, h - 1, SAMPLE_ROWS).astype(np.intp)
    sample = grey[rows].astype(np.int16)
    diff = 2 * sample[:, k:-k] - sample[:, : -2 * k] - sample[:, 2 * k :]
    # Each column's difference from the columns `k` either side, halved: a
    # streak's in every row, so its median over the rows says it whatever
    # print the column crosses. A median at least MIN_DELTA from 0 is half the
    # rows at least that far to one side: counted first (no sort), the
    # medians are taken only there.
    bar = 2 * MIN_DELTA
    n = len(rows)
    dark = 2 * np.count_nonzero(diff <= -bar, axis=0) >= n
    light = 2 * np.count_nonzero(diff >= bar, axis=0) >= n
    level = np.zeros(diff.shape[1])
    near = np.flatnonzero(dark | light)
    level[near] = np.median(diff[:, near], axis=0) / 2.0
    found: list[Streak] = []
    for x0, x1 in _runs(np.abs(level) >= MIN_DELTA, np.sign(level), width):
        streak = _confirmed(sample, x0 + k, x1 + k, float(level[x0:x1].mean()))
        if streak is not None:
            found.append(streak)
    return tuple(found)


def _runs(candidate: np.ndarray, sign: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Runs of consecutive candidate columns of one sign, at most `width` long."""
    out: list[tuple[int, int]] = []
    start = prev = -2
    for x in np.flatnonzero(candidate).tolist():
        if x != prev + 1 or sign[x] != sign[prev]:
            if start >= 0 and prev + 1 - start <= width:
                out.append((start, prev + 1))
            start = x
        prev = x
    if start >= 0 and prev + 1 - start <= width:
        out.append((start, prev + 1))
    return out


def _confirmed(sample: np.ndarray, x0: int, x1: int, level: float) -> Streak | None:
    """The streak over columns x0..x1 if the sampled rows show one there
    (`level`: its difference from the columns beside it, a first estimate)."""
    n, w = sample.shape
    left, right = x0 - 2, x1 + 1
    if left < 0 or right >= w:
        return None
    beside = (sample[:, left] + sample[:, right]) / 2.0
    d = sample[:, x0:x1].mean(axis=1) - beside
    # Rows where the two sides agree and the streak has room to show: over
    # black a dark streak has nothing left to take away, over white a light
    # one nothing to add.
    room = beside >= 2 * -level if level < 0 else beside <= 255 - 2 * level
    valid = (np.abs(sample[:, left] - sample[:, right]) <= FLAT) & room
    rows = np.flatnonzero(valid)
    if len(rows) < MIN_ROWS * n:
        return None
    delta = float(np.median(d[rows]))
    if abs(delta) < MIN_DELTA:
        return None
    agree = np.abs(d[rows] - delta) <= max(TOLERANCE, abs(delta) / 2)
    if np.count_nonzero(agree) < CONSISTENT * len(rows):
        return None
    # From end to end: a printed line stops short of the page's margins.
    m = max(3, int(END_SHARE * len(rows)))
    if agree[:m].mean() < 0.5 or agree[-m:].mean() < 0.5:
        return None
    rim = sample[rows, x0 - 1 : x1 + 1] - beside[rows, None]
    levels = tuple(round(float(v), 1) for v in np.median(rim, axis=0))
    return Streak(int(x0) - 1, levels, round(delta, 1))


def remove_streaks(grey: np.ndarray, streaks: tuple[Streak, ...]) -> np.ndarray:
    """`grey` with each streak's difference taken back out of its columns (a
    copy; `grey` itself when there is none): print and marks under a streak
    keep their shape, as filling the columns in from beside would not."""
    if not streaks:
        return grey
    out = grey.copy()
    for s in streaks:
        for i, level in enumerate(s.levels):
            column = out[:, s.x0 + i]
            # Where the streak met black (or white) nothing says what was there: kept.
            clipped = column == (0 if level < 0 else 255)
            fixed = np.clip(np.rint(column.astype(np.float32) - np.float32(level)), 0, 255).astype(np.uint8)
            out[:, s.x0 + i] = np.where(clipped, column, fixed)
    return out
