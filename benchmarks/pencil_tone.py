"""How light is a light pencil? The tone of a line as each mark generator lays it.

    .venv/bin/python benchmarks/pencil_tone.py --lines 300 --seed 0

Other hands' decks (`benchmarks/foreign_deck.py`) draw a "light but clear
pencil" that a person should read as a mark; our deck (`fixtures.marks`) draws
`faint`, what an erased mark leaves, that must never be counted. The reader
sees neither tone nor intent, only the page, so if the two tones meet, no
threshold on tone can read light pencil without counting erased marks. Each
generator here draws the same kind of line (a circle round a digit, 2.5 mm
out) on white paper; the figure is the mean grey (0 black, 255 white) over
the line's own footprint (where the same line in a solid pen is dark), before
any capture. Also shown for scale: each generator's ordinary pencil, and our
deck's `shade` (a light pencil shading, read as a mark).
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import foreign_deck as fd  # noqa: E402

from fixtures import ink  # noqa: E402

SIDE_MM, R_MM = 15.0, 2.5
OUR_PPM = 8.0


def _circle_mm() -> np.ndarray:
    t = np.linspace(0.0, 2.0 * math.pi, 60)
    return np.stack([SIDE_MM / 2 + R_MM * np.cos(t), SIDE_MM / 2 + R_MM * np.sin(t)], axis=1)


def foreign_grey(pen: fd.Pen, rng: np.random.Generator) -> float:
    """The mean grey over a circle drawn by other hands' generator in `pen`."""
    side = int(round(SIDE_MM * fd.PX_PER_MM))
    page, solid = np.ones((side, side, 3), np.float32), np.ones((side, side, 3), np.float32)
    line = fd.Stroke(_circle_mm(), pen.width_mm)
    fd.draw(page, [line], pen, rng)
    fd.draw(solid, [line], fd.Pen("solid", (0.0, 0.0, 0.0), pen.width_mm, 1.0, False, 1.0), rng)
    return 255.0 * float(page.mean(axis=2)[solid[..., 0] < 0.5].mean())


def our_grey(pen: ink.Pen, rng: np.random.Generator) -> float:
    """The mean grey over a circle drawn by `fixtures.ink` in `pen`."""
    side = int(round(SIDE_MM * OUR_PPM))
    page, solid = np.full((side, side), 255, np.uint8), np.full((side, side), 255, np.uint8)
    ink.draw_strokes(page, OUR_PPM, [_circle_mm()], pen, rng)
    ink.draw_strokes(solid, OUR_PPM, [_circle_mm()], ink.Pen("solid", 0, pen.width_mm, 0.0, 0.0), rng)
    return float(page[solid < 128].mean())


def _faint(rng: np.random.Generator) -> ink.Pen:
    # `fixtures.marks._faint`: the sheet's pen held lightly, grey 200-226, at most 0.35 mm
    pen = ink.random_pen(rng)
    return pen.lighter(int(rng.integers(200, 226)), min(pen.width_mm, 0.35))


def _shade(rng: np.random.Generator) -> ink.Pen:
    # `fixtures.marks._shade`'s pencil
    return ink.Pen("pencil", int(rng.integers(150, 201)), float(rng.uniform(0.45, 0.7)),
                   grain=float(rng.uniform(0.3, 0.6)), skip=0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=300, help="lines drawn per kind")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    kinds: list[tuple[str, Callable[[], float]]] = [
        ("other hands: light pencil (a mark)", lambda: foreign_grey(fd.light_pencil(rng), rng)),
        ("other hands: pencil (a mark)", lambda: foreign_grey(fd.pick_pen(rng, {"pencil": 1.0}), rng)),
        ("ours: faint, an erased mark (never counted)", lambda: our_grey(_faint(rng), rng)),
        ("ours: shade, light pencil (a mark)", lambda: our_grey(_shade(rng), rng)),
        ("ours: pencil (a mark)", lambda: our_grey(ink.random_pen(rng, pencil_share=1.0), rng)),
    ]
    print(f"{args.lines} circles per kind, seed {args.seed}; mean grey over the line (0 black, 255 white)\n")
    print("| line | min | 5th | median | 95th | max |")
    print("|---|---|---|---|---|---|")
    for name, draw in kinds:
        greys = np.array([draw() for _ in range(args.lines)])
        lo, p5, mid, p95, hi = np.percentile(greys, [0, 5, 50, 95, 100])
        print(f"| {name} | {lo:.0f} | {p5:.0f} | {mid:.0f} | {p95:.0f} | {hi:.0f} |")


if __name__ == "__main__":
    main()
