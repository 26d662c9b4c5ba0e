"""Other hands: an independent filled-ballot generator and scorer, run through the real CLI.

    .venv/bin/python benchmarks/foreign_deck.py --sheets 40 --seed 1 [--json figures.json]
                                               [--work DIR] [--findings /tmp/foreign-findings]

Written as an outsider would, from the contract alone (DESIGN.md's layout JSON, README.md,
the CLI): it shares no code and no parameter with `fixtures/` or `benchmarks/style_deck.py`,
so thresholds fitted to that generator meet marks they were not fitted to.

1. `phieu init` a survey with both shipped forms; `phieu forms render FORM --survey` prints
   blank sheets with their own serials and the layout JSON; `pdftoppm` turns them into the
   paper a person fills (200 dpi, grey).
2. Every question of every sheet gets one *style* (below) drawn with OpenCV polylines in mm
   from the layout's `bbox_mm`: jittered, wobbling strokes, one pen per sheet (ballpoint blue
   or black, pencil with grain, felt-tip) of 0.3-1.2 mm, pressure varying along the stroke;
   stray specks anywhere. Its truth is what a careful person reads: an option code, blank, or
   NEEDS_PERSON (two marks on a single-choice question).
3. The page is captured: a feeder scanner (rotation, 90/180 degree feeds, noise, grey levels,
   JPEG 40-90) or a phone (perspective, uneven light, a shadow, blur; some upside down).
4. `phieu scan` the pages, `phieu export responses` / `pages`, and compare per question:
   - silent error: phieu exports a value (question not flagged) that differs from the truth,
     an empty cell where the truth has an answer, or anything unflagged where the truth
     needs a person;
   - flagged clear: the truth is an answer or blank and phieu flagged it;
   - every input page must have its row in pages.csv.

5. For each silent error (up to 40): the input page, `phieu read --debug`'s overlay, a crop of
   the marks as drawn before capture, the scores the scan stored and the reader's evidence
   (`read_page` on the same file, in process: the one place this script imports phieu's
   reader, to explain a finding, never to score one) go to --findings; everything to --json.

`--styles double=1 --pens felt=1 --captures phone=1` draws one family only (weights);
`--rescore` compares a deck kept with --work again. Each sheet's marks and capture come from
their own generators seeded by (seed, form, sheet), so any one sheet can be drawn again alone
(its clean crops for a finding). Deterministic for one --seed, --sheets and mix (the
degradations too); phieu's reading is deterministic as well.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

PHIEU = str(Path(sys.executable).with_name("phieu"))
DPI = 200
PX_PER_MM = DPI / 25.4
NEEDS_PERSON = "NEEDS_PERSON"
FORMS = ("mot-cua", "sipas")

Rng = np.random.Generator


def _pick(rng: Rng, weights: dict[str, float]) -> str:
    names = list(weights)
    w = np.asarray([weights[n] for n in names], float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


# --- strokes and pens -----------------------------------------------------------------------

@dataclass(frozen=True)
class Stroke:
    """A polyline (or a filled polygon) in page millimetres."""

    points: np.ndarray
    width_mm: float
    filled: bool = False


@dataclass(frozen=True)
class Pen:
    kind: str  # ballpoint_blue | ballpoint_black | pencil | felt
    colour: tuple[float, float, float]  # RGB of the ink at full strength, 0..1
    width_mm: float
    darkness: float  # how much of the paper's light the ink takes at full pressure
    grain: bool  # pencil: graphite leaves paper showing through
    pressure_low: float  # the lightest pressure along a stroke, as a share of full


CAPTURES: dict[str, float] = {"scan": 0.45, "scan_sideways": 0.1, "scan_upside_down": 0.15, "phone": 0.25,
                               "phone_upside_down": 0.05}
PENS: dict[str, float] = {"ballpoint_blue": 0.4, "ballpoint_black": 0.25, "pencil": 0.15, "felt": 0.2}


def pick_pen(rng: Rng, weights: dict[str, float] = PENS) -> Pen:
    kind = _pick(rng, weights)
    if kind == "ballpoint_blue":
        return Pen(kind, (0.12, 0.2, 0.6), float(rng.uniform(0.3, 0.55)), float(rng.uniform(0.7, 0.95)), False,
                   float(rng.uniform(0.55, 0.9)))
    if kind == "ballpoint_black":
        return Pen(kind, (0.08, 0.08, 0.1), float(rng.uniform(0.3, 0.55)), float(rng.uniform(0.75, 0.95)), False,
                   float(rng.uniform(0.55, 0.9)))
    if kind == "pencil":
        return Pen(kind, (0.32, 0.32, 0.34), float(rng.uniform(0.4, 0.8)), float(rng.uniform(0.55, 0.8)), True,
                   float(rng.uniform(0.6, 0.9)))
    colour = (0.05, 0.05, 0.08) if rng.random() < 0.6 else (0.1, 0.15, 0.55)
    return Pen("felt", colour, float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.85, 1.0)), False, 0.9)


def light_pencil(rng: Rng) -> Pen:
    """A light but clear pencil: grey a person sees at once, pressed lightly."""
    return Pen("pencil_light", (0.35, 0.35, 0.37), float(rng.uniform(0.3, 0.6)), float(rng.uniform(0.45, 0.65)), True,
               float(rng.uniform(0.7, 0.95)))


def _smooth_field(rng: Rng, shape: tuple[int, int], low: float, cells: int = 4) -> np.ndarray:
    coarse = rng.uniform(low, 1.0, (cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), low, 1.0)


def draw(page: np.ndarray, strokes: list[Stroke], pen: Pen, rng: Rng) -> None:
    """Lays the strokes on `page` (H x W x 3 float, 1 = white) in `pen`, in place."""
    if not strokes:
        return
    allpts = np.concatenate([s.points for s in strokes]) * PX_PER_MM
    pad = int(max(s.width_mm for s in strokes) * PX_PER_MM) + 4
    h, w = page.shape[:2]
    x0, y0 = max(0, int(allpts[:, 0].min()) - pad), max(0, int(allpts[:, 1].min()) - pad)
    x1, y1 = min(w, int(allpts[:, 0].max()) + pad + 1), min(h, int(allpts[:, 1].max()) + pad + 1)
    if x1 <= x0 or y1 <= y0:
        return
    alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
    for s in strokes:
        mask = np.zeros_like(alpha, dtype=np.uint8)
        pts = np.round((s.points * PX_PER_MM - [x0, y0]) * 4).astype(np.int32).reshape(-1, 1, 2)
        if s.filled:
            cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=2)
        else:
            thickness = max(1, int(round(s.width_mm * PX_PER_MM)))
            cv2.polylines(mask, [pts], False, 255, thickness, cv2.LINE_AA, shift=2)
        a = mask.astype(np.float32) / 255.0 * _smooth_field(rng, alpha.shape, pen.pressure_low)
        alpha = 1.0 - (1.0 - alpha) * (1.0 - a * 0.85)  # a second pass over ink darkens it a little
    alpha = np.clip(alpha / 0.85, 0.0, 1.0) * pen.darkness
    if pen.grain:
        grain = rng.uniform(0.35, 1.0, alpha.shape).astype(np.float32)
        alpha *= cv2.GaussianBlur(grain, (3, 3), 0.6)
    if pen.kind == "felt":
        alpha = cv2.GaussianBlur(alpha, (3, 3), 0.7)
    ink = 1.0 - np.asarray(pen.colour, np.float32)
    page[y0:y1, x0:x1] *= 1.0 - alpha[..., None] * ink


# --- shapes, in mm ----------------------------------------------------------------------------

def _wobble(rng: Rng, n: int, amp: float) -> np.ndarray:
    """A smooth random wobble of n samples (a hand is never a compass)."""
    walk = np.cumsum(rng.normal(0, 1, n))
    walk -= np.linspace(walk[0], walk[-1], n)
    k = max(3, n // 6) | 1
    smooth = np.convolve(np.pad(walk, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    top = np.abs(smooth).max()
    return smooth / top * amp if top > 0 else smooth


def ellipse(rng: Rng, cx: float, cy: float, rx: float, ry: float, start: float, sweep: float,
            drift: float = 0.0, wobble: float = 0.06) -> np.ndarray:
    n = max(24, int(abs(sweep) / 6))
    t = np.radians(start + np.linspace(0, sweep, n))
    r = 1.0 + _wobble(rng, n, wobble) + np.linspace(0, drift, n)
    tilt = math.radians(float(rng.uniform(-20, 20)))
    x, y = rx * r * np.cos(t), ry * r * np.sin(t)
    return np.stack([cx + x * math.cos(tilt) - y * math.sin(tilt), cy + x * math.sin(tilt) + y * math.cos(tilt)], 1)


def bow_line(rng: Rng, p0: tuple[float, float], p1: tuple[float, float], bow: float = 0.08) -> np.ndarray:
    n = 16
    t = np.linspace(0, 1, n)[:, None]
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    d = b - a
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    bend = float(rng.uniform(-bow, bow)) * np.hypot(*d) * 4 * t * (1 - t)
    jitter = _wobble(rng, n, 0.05 * np.hypot(*d) * 0.3)[:, None]
    return a + d * t + normal * (bend + jitter)


def tick(rng: Rng, vx: float, vy: float, size: float) -> np.ndarray:
    """A check mark: a short stroke down to the vertex (vx, vy), a long one up to the right."""
    angle = math.radians(float(rng.uniform(-15, 15)))
    short = size * float(rng.uniform(0.3, 0.5))
    start = (vx - short * 0.7, vy - short)
    end = (vx + size * float(rng.uniform(0.45, 0.7)), vy - size * float(rng.uniform(0.9, 1.2)))
    pts = np.concatenate([bow_line(rng, start, (vx, vy), 0.1), bow_line(rng, (vx, vy), end, 0.12)[1:]])
    c, s = math.cos(angle), math.sin(angle)
    rel = pts - [vx, vy]
    return np.stack([vx + rel[:, 0] * c - rel[:, 1] * s, vy + rel[:, 0] * s + rel[:, 1] * c], 1)


def zigzag(rng: Rng, cx: float, cy: float, rx: float, ry: float, spacing: float, angle: float) -> np.ndarray:
    """A back-and-forth hatching inside an ellipse: how people shade or fill."""
    rows = max(2, int(2 * ry / spacing))
    pts = []
    for i in range(rows + 1):
        v = -ry + 2 * ry * i / rows
        half = rx * math.sqrt(max(0.0, 1 - (v / ry) ** 2)) * float(rng.uniform(0.85, 1.08))
        xs = (-half, half) if i % 2 == 0 else (half, -half)
        pts += [(xs[0], v), (xs[1], v + spacing * 0.3)]
    arr = np.asarray(pts, float)
    c, s = math.cos(angle), math.sin(angle)
    return np.stack([cx + arr[:, 0] * c - arr[:, 1] * s, cy + arr[:, 0] * s + arr[:, 1] * c], 1)


def blob(rng: Rng, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    return ellipse(rng, cx, cy, rx, ry, float(rng.uniform(0, 360)), 360, wobble=0.1)


def dot(rng: Rng, cx: float, cy: float, diameter: float) -> Stroke:
    return Stroke(blob(rng, cx, cy, diameter / 2, diameter / 2 * float(rng.uniform(0.7, 1.0))), 0.05, True)


# --- mark styles -------------------------------------------------------------------------------

@dataclass
class Target:
    question: str
    option: str
    shape: str
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Drawn:
    """What a style put on paper for one question: strokes per pen, its truth, its parameters."""

    style: str
    truth: str  # option code(s) joined by "|", "" for blank, or NEEDS_PERSON
    strokes: list[tuple[str, Stroke]] = field(default_factory=list)  # ("pen" | "light" | "fill", stroke)
    params: dict[str, object] = field(default_factory=dict)


def _u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def mark_on(rng: Rng, t: Target, kind: str, width: float, p: dict[str, object]) -> list[Stroke]:
    """One clear mark of `kind` on target t (strokes only; the caller keeps the truth)."""
    cx, cy = t.cx, t.cy
    # A circle round a digit leaves the digit showing: its ring's inside clears the glyph. A
    # felt-tip ring drawn tighter covers the digit and reads, to a person too, as a blackout.
    clear_r = max(t.w, t.h) / 2 + width / 2 + 0.3
    if kind == "circle_tight":
        r = max(_u(rng, 1.9, 2.5), clear_r)
        p.update(r_mm=round(r, 2))
        return [Stroke(ellipse(rng, cx, cy, r * _u(rng, 0.95, 1.2), r, _u(rng, 0, 360), _u(rng, 365, 420),
                               drift=_u(rng, -0.08, 0.08)), width)]
    if kind == "circle_loose":
        r = _u(rng, 2.9, 4.0)
        p.update(r_mm=round(r, 2))
        return [Stroke(ellipse(rng, cx, cy, r * _u(rng, 1.0, 1.3), r, _u(rng, 0, 360), _u(rng, 360, 410),
                               drift=_u(rng, -0.1, 0.1)), width)]
    if kind == "circle_offcentre":
        r = _u(rng, 2.6, 3.4)
        dx, dy = _u(rng, -1.4, 1.4), _u(rng, -1.2, 1.2)
        p.update(r_mm=round(r, 2), off_mm=(round(dx, 2), round(dy, 2)))
        return [Stroke(ellipse(rng, cx + dx, cy + dy, r * _u(rng, 1.0, 1.2), r, _u(rng, 0, 360), _u(rng, 360, 400)),
                       width)]
    if kind == "circle_open":
        r = max(_u(rng, 2.3, 3.4), clear_r)
        sweep = _u(rng, 275, 330)
        p.update(r_mm=round(r, 2), sweep_deg=round(sweep))
        return [Stroke(ellipse(rng, cx, cy, r * _u(rng, 1.0, 1.2), r, _u(rng, 0, 360), sweep), width)]
    if kind == "tick_on":
        size = _u(rng, 2.5, 5.0)
        p.update(size_mm=round(size, 2))
        return [Stroke(tick(rng, cx + _u(rng, -0.6, 0.6), t.y + t.h * _u(rng, 0.55, 1.0), size), width)]
    if kind == "tick_beside":
        size = _u(rng, 2.5, 4.5)
        gap = _u(rng, 1.5, 3.0)
        p.update(size_mm=round(size, 2), gap_mm=round(gap, 2))
        return [Stroke(tick(rng, t.x + t.w + gap, t.y + t.h * _u(rng, 0.6, 1.0), size), width)]
    if kind == "cross":
        a = _u(rng, 1.6, 3.0)
        b = _u(rng, 1.6, 3.0)
        p.update(arm_mm=(round(a, 2), round(b, 2)))
        k = [_u(rng, 0.8, 1.2) for _ in range(4)]
        return [Stroke(bow_line(rng, (cx - a, cy - a * k[0]), (cx + a, cy + a * k[1])), width),
                Stroke(bow_line(rng, (cx + b, cy - b * k[2]), (cx - b, cy + b * k[3])), width)]
    if kind == "underline":
        length = _u(rng, 3.0, 6.0)
        below = _u(rng, 0.4, 1.4)
        y = t.y + t.h + below
        slope = _u(rng, -0.4, 0.4)
        p.update(length_mm=round(length, 2), below_mm=round(below, 2))
        return [Stroke(bow_line(rng, (cx - length / 2, y - slope), (cx + length / 2, y + slope), 0.05), width)]
    if kind == "strike":
        length = _u(rng, 3.5, 6.5)
        angle = math.radians(_u(rng, -35, 35))
        dx, dy = length / 2 * math.cos(angle), length / 2 * math.sin(angle)
        p.update(length_mm=round(length, 2), angle_deg=round(math.degrees(angle)))
        return [Stroke(bow_line(rng, (cx - dx, cy - dy), (cx + dx, cy + dy), 0.05), width)]
    if kind == "blob":  # a filled patch over the digit: a blackout
        rx, ry = _u(rng, 1.8, 2.8), _u(rng, 2.2, 3.0)
        p.update(r_mm=(round(rx, 2), round(ry, 2)))
        return [Stroke(blob(rng, cx, cy, rx, ry), width, True),
                Stroke(zigzag(rng, cx, cy, rx, ry, 0.5, _u(rng, -0.5, 0.5)), width)]
    if kind == "shade":  # hatching over the digit, paper between the lines
        rx, ry = _u(rng, 1.8, 2.8), _u(rng, 2.0, 3.0)
        spacing = _u(rng, 0.5, 0.9)
        p.update(r_mm=(round(rx, 2), round(ry, 2)), spacing_mm=round(spacing, 2))
        return [Stroke(zigzag(rng, cx, cy, rx, ry, spacing, _u(rng, -0.8, 0.8)), width)]
    # boxes
    if kind == "box_tick":
        size = _u(rng, 3.0, 5.5)
        p.update(size_mm=round(size, 2))
        return [Stroke(tick(rng, cx + _u(rng, -1.0, 0.5), cy + _u(rng, 0.3, 1.8), size), width)]
    if kind == "box_check_outside":
        size = _u(rng, 6.0, 10.0)
        p.update(size_mm=round(size, 2))
        return [Stroke(tick(rng, cx + _u(rng, -1.0, 0.8), cy + _u(rng, 0.5, 1.8), size), width)]
    if kind == "box_cross":
        a = _u(rng, 1.6, 3.2)
        p.update(arm_mm=round(a, 2))
        return [Stroke(bow_line(rng, (cx - a, cy - a), (cx + a * _u(rng, 0.8, 1.2), cy + a)), width),
                Stroke(bow_line(rng, (cx + a, cy - a * _u(rng, 0.8, 1.2)), (cx - a, cy + a)), width)]
    if kind == "box_slash":
        a = _u(rng, 1.8, 3.0)
        p.update(half_mm=round(a, 2))
        return [Stroke(bow_line(rng, (cx + a, cy - a), (cx - a * _u(rng, 0.8, 1.1), cy + a), 0.05), width)]
    if kind == "box_fill":
        return [Stroke(blob(rng, cx, cy, _u(rng, 2.4, 2.9), _u(rng, 2.4, 2.9)), width, True),
                Stroke(zigzag(rng, cx, cy, 2.5, 2.5, 0.5, _u(rng, -0.4, 0.4)), width)]
    if kind == "box_scribble":
        spacing = _u(rng, 0.6, 1.3)
        p.update(spacing_mm=round(spacing, 2))
        return [Stroke(zigzag(rng, cx, cy, _u(rng, 1.4, 2.4), _u(rng, 1.4, 2.4), spacing, _u(rng, -1.2, 1.2)), width)]
    raise ValueError(kind)


DIGIT_STYLES: dict[str, float] = {
    "circle_tight": 8, "circle_loose": 8, "circle_offcentre": 6, "circle_open": 6, "tick_on": 5,
    "tick_beside": 4, "cross": 5, "underline": 4, "strike": 4, "blob": 3, "shade": 3,
    "correction_fill": 4, "correction_crossed": 3, "double": 5, "light_pencil": 5,
    "dot_near": 4, "speck_near": 4, "blank": 5,
}
BOX_STYLES: dict[str, float] = {
    "box_tick": 10, "box_cross": 8, "box_slash": 5, "box_fill": 5, "box_scribble": 5,
    "box_check_outside": 5, "box_light_pencil": 5, "correction_fill": 5, "double": 5,
    "speck_near": 4, "blank": 5,
}


@dataclass(frozen=True)
class Mix:
    """How often each style, pen and capture is drawn (weights; one left out is never drawn)."""

    digit: dict[str, float] = field(default_factory=lambda: dict(DIGIT_STYLES))
    box: dict[str, float] = field(default_factory=lambda: dict(BOX_STYLES))
    pens: dict[str, float] = field(default_factory=lambda: dict(PENS))
    captures: dict[str, float] = field(default_factory=lambda: dict(CAPTURES))

    @classmethod
    def parse(cls, styles: str | None, pens: str | None, captures: str | None = None) -> Mix:
        """`--styles double=1,circle_loose=2`: those styles only, on each shape that has any of
        them (a shape with none keeps its usual mix); `--pens felt=1`; `--captures phone=1`."""
        def weights(text: str) -> dict[str, float]:
            out = {}
            for part in text.split(","):
                name, _, w = part.partition("=")
                out[name.strip()] = float(w or 1)
            return out
        mix = cls()
        if styles:
            chosen = weights(styles)
            unknown = set(chosen) - set(DIGIT_STYLES) - set(BOX_STYLES)
            if unknown:
                raise ValueError(f"unknown styles: {sorted(unknown)}")
            digit = {k: v for k, v in chosen.items() if k in DIGIT_STYLES}
            box = {k: v for k, v in chosen.items() if k in BOX_STYLES}
            mix = cls(digit or mix.digit, box or mix.box, mix.pens, mix.captures)
        if pens:
            chosen = weights(pens)
            if set(chosen) - set(PENS):
                raise ValueError(f"unknown pens: {sorted(set(chosen) - set(PENS))}")
            mix = cls(mix.digit, mix.box, chosen, mix.captures)
        if captures:
            chosen = weights(captures)
            if set(chosen) - set(CAPTURES):
                raise ValueError(f"unknown captures: {sorted(set(chosen) - set(CAPTURES))}")
            mix = cls(mix.digit, mix.box, mix.pens, chosen)
        return mix


CLEAR_DIGIT = ["circle_tight", "circle_loose", "circle_offcentre", "circle_open", "tick_on", "cross", "underline"]
CLEAR_BOX = ["box_tick", "box_cross", "box_slash", "box_scribble", "box_check_outside"]
# Beside another mark, a scribble that blackens a box (a felt-tip's is solid) IS the printed
# rule's fill: a double mark or a correction's right mark is drawn from the others only.
BESIDE_BOX = ["box_tick", "box_cross", "box_slash", "box_check_outside"]


def style_question(rng: Rng, targets: list[Target], qtype: str, pen: Pen, mix: Mix | None = None) -> Drawn:
    """Chooses a style for one question, draws it, and says what a careful person reads."""
    shape = targets[0].shape
    width = pen.width_mm
    if qtype == "multi":
        k = int(rng.choice([0, 1, 1, 2, 2, 3]))
        chosen = sorted(rng.choice(len(targets), size=k, replace=False).tolist())
        d = Drawn(f"multi_{k}", "|".join(targets[i].option for i in chosen))
        kinds: list[str] = []
        for i in chosen:
            kind = str(rng.choice(CLEAR_BOX))
            kinds.append(kind)
            d.strokes += [("pen", s) for s in mark_on(rng, targets[i], kind, width, d.params)]
        d.params["kinds"] = kinds
        return d
    mix = mix or Mix()
    style = _pick(rng, mix.digit if shape == "digit" else mix.box)
    n = len(targets)
    i = int(rng.integers(n))
    right = targets[i]
    d = Drawn(style, right.option, params={"option": right.option})
    clear = CLEAR_DIGIT if shape == "digit" else BESIDE_BOX
    if style in DIGIT_STYLES and style not in ("correction_fill", "correction_crossed", "double", "light_pencil",
                                               "dot_near", "speck_near", "blank"):
        d.strokes += [("pen", s) for s in mark_on(rng, right, style, width, d.params)]
    elif style.startswith("box_") and style != "box_light_pencil":
        d.strokes += [("pen", s) for s in mark_on(rng, right, style, width, d.params)]
    elif style in ("light_pencil", "box_light_pencil"):
        kind = str(rng.choice(["circle_tight", "circle_loose", "tick_on", "cross"] if shape == "digit"
                              else ["box_tick", "box_cross", "box_check_outside"]))
        d.params["kind"] = kind
        d.strokes += [("light", s) for s in mark_on(rng, right, kind, width, d.params)]
    elif style in ("correction_fill", "correction_crossed", "double"):
        j = int(rng.choice([k for k in range(n) if k != i]))
        other = targets[j]
        kind = str(rng.choice(clear))
        d.params.update(other=other.option, kind=kind)
        d.strokes += [("pen", s) for s in mark_on(rng, right, kind, width, d.params)]
        if style == "double":
            d.truth = NEEDS_PERSON
            kind2 = str(rng.choice(clear))
            second: dict[str, object] = {}
            d.strokes += [("pen", s) for s in mark_on(rng, other, kind2, width, second)]
            d.params.update(kind2=kind2, mark2=second)
        elif style == "correction_fill":  # the printed rule: fill the wrong one completely
            wrong = "blob" if shape == "digit" else "box_fill"
            d.strokes += [("fill", s) for s in mark_on(rng, other, wrong, max(width, 0.6), {})]
        else:  # the SIPAS form's own words: cross out the digit circled by mistake
            d.strokes += [("pen", s) for s in mark_on(rng, other, "circle_tight", width, {})]
            d.strokes += [("pen", s) for s in mark_on(rng, other, "cross", width, {})]
    elif style in ("dot_near", "speck_near"):
        d.truth = ""
        size = _u(rng, 0.45, 0.8) if style == "dot_near" else _u(rng, 0.12, 0.3)
        dist = _u(rng, 0.8, 3.0) if shape == "digit" else _u(rng, 0.5, 3.5)
        ang = _u(rng, 0, 2 * math.pi)
        reach = max(right.w, right.h) / 2 + dist
        d.params.update(size_mm=round(size, 2), dist_mm=round(dist, 2))
        d.strokes.append(("pen", dot(rng, right.cx + reach * math.cos(ang), right.cy + reach * math.sin(ang), size)))
    else:  # blank
        d.truth = ""
        d.params = {}
    return d


# --- the forms, as the layout JSON says -----------------------------------------------------

@dataclass(frozen=True)
class Layout:
    form: str
    questions: dict[str, tuple[str, int]]  # id -> (type, page)
    targets: dict[int, dict[str, list[Target]]]  # page -> question -> targets in option order


def read_layout(path: Path) -> Layout:
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = {q["id"]: (q["type"], q["page"]) for q in data["questions"] if q["type"] != "text"}
    targets: dict[int, dict[str, list[Target]]] = {}
    for page in data["pages"]:
        per: dict[str, list[Target]] = defaultdict(list)
        for t in page["targets"]:
            per[t["question"]].append(Target(t["question"], t["option"], t["shape"], *t["bbox_mm"]))
        targets[page["page"]] = dict(per)
    return Layout(data["form"], questions, targets)


# --- filling one sheet -------------------------------------------------------------------------

@dataclass
class QuestionTruth:
    form: str
    serial: int
    page: int
    question: str
    qtype: str
    shape: str
    style: str
    truth: str
    pen: str
    params: dict[str, object]


def sheet_rng(seed: int, form: str, sheet: int, what: str) -> Rng:
    return np.random.default_rng([seed, FORMS.index(form), sheet, {"marks": 0, "capture": 1}[what]])


def fill_sheet(pages: dict[int, np.ndarray], layout: Layout, serial: int, seed: int, sheet: int,
               mix: Mix | None = None) -> list[QuestionTruth]:
    """Marks every question of one sheet on its blank pages (RGB floats), in place."""
    rng = sheet_rng(seed, layout.form, sheet, "marks")
    mix = mix or Mix()
    pen = pick_pen(rng, mix.pens)
    truths = []
    for page_no, per in sorted(layout.targets.items()):
        page = pages[page_no]
        for qid, targets in per.items():
            qtype = layout.questions[qid][0]
            d = style_question(rng, targets, qtype, pen, mix)
            light = light_pencil(rng)
            filler = Pen(pen.kind, pen.colour, max(pen.width_mm, 0.6), max(pen.darkness, 0.85), pen.grain, 0.85)
            for role, chosen in (("pen", pen), ("light", light), ("fill", filler)):
                draw(page, [s for r, s in d.strokes if r == role], chosen, rng)
            truths.append(QuestionTruth(layout.form, serial, page_no, qid, qtype, targets[0].shape, d.style, d.truth,
                                        light.kind if d.style.endswith("light_pencil") else pen.kind,
                                        {**d.params, "pen_width_mm": round(pen.width_mm, 2)}))
        specks = int(rng.integers(0, 10))
        h, w = page.shape[:2]
        speck_pen = Pen("speck", (0.1, 0.1, 0.1), 0.1, float(rng.uniform(0.5, 0.9)), False, 0.8)
        draw(page, [dot(rng, _u(rng, 8, w / PX_PER_MM - 8), _u(rng, 8, h / PX_PER_MM - 8), _u(rng, 0.1, 0.3))
                    for _ in range(specks)], speck_pen, rng)
    return truths


# --- capture ----------------------------------------------------------------------------------

def pick_capture(rng: Rng, weights: dict[str, float] = CAPTURES) -> str:
    return _pick(rng, weights)


def capture(page: np.ndarray, kind: str, rng: Rng) -> tuple[np.ndarray, dict[str, object], str]:
    """The page as a scanner or a phone gives it: uint8 image, parameters, file suffix."""
    img = np.clip(page * 255.0, 0, 255).astype(np.uint8)
    p: dict[str, object] = {"kind": kind}
    if kind.startswith("scan"):
        paper = _u(rng, 215, 250)
        ink_floor = _u(rng, 0, 35)
        grey: np.ndarray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = ink_floor + grey / 255.0 * (paper - ink_floor)
        angle = _u(rng, -1.5, 1.5)
        h, w = grey.shape
        m = cv2.getRotationMatrix2D((w / 2 + _u(rng, -30, 30), h / 2 + _u(rng, -30, 30)), angle, 1.0)
        m[:, 2] += np.array([_u(rng, -25, 25), _u(rng, -25, 25)])
        grey = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=float(paper))
        sigma = _u(rng, 0.0, 0.9)
        if sigma > 0.3:
            grey = cv2.GaussianBlur(grey, (0, 0), sigma)
        noise = _u(rng, 1.0, 7.0)
        grey += rng.normal(0, noise, grey.shape).astype(np.float32)
        out = np.clip(grey, 0, 255).astype(np.uint8)
        if kind == "scan_sideways":
            out = np.rot90(out, 1 if rng.random() < 0.5 else 3).copy()
        elif kind == "scan_upside_down":
            out = np.rot90(out, 2).copy()
        q = int(rng.integers(40, 91))
        p.update(rotation_deg=round(angle, 2), paper=round(paper), noise=round(noise, 1), blur=round(sigma, 2),
                 jpeg=q)
        if rng.random() < 0.2:
            p["jpeg"] = None
            return out, p, ".png"
        return out, p, f".jpg:{q}"
    # phone: the sheet on a table, taken from above at a slant
    h, w = img.shape[:2]
    scale = _u(rng, 0.72, 0.95)  # the photo's pixels per page pixel
    out_w, out_h = int(w * scale * 1.08), int(h * scale * 1.08)
    margin = np.array([out_w, out_h]) * 0.04
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    base = np.array([[margin[0], margin[1]], [out_w - margin[0], margin[1]],
                     [out_w - margin[0], out_h - margin[1]], [margin[0], out_h - margin[1]]], np.float32)
    jitter = rng.uniform(-1, 1, (4, 2)).astype(np.float32) * np.array([out_w, out_h], np.float32) * _u(rng, 0.01, 0.035)
    dst = base + jitter
    m = cv2.getPerspectiveTransform(src, dst)
    table = np.array([_u(rng, 60, 140), _u(rng, 50, 120), _u(rng, 40, 100)])
    photo: np.ndarray = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_AREA,
                                borderValue=tuple(float(v) for v in table)).astype(np.float32)
    yy = (np.arange(out_h, dtype=np.float32) / out_h - 0.5)[:, None]
    xx = (np.arange(out_w, dtype=np.float32) / out_w - 0.5)[None, :]
    gx, gy = _u(rng, -1, 1), _u(rng, -1, 1)
    light = 1.0 - _u(rng, 0.1, 0.35) * (0.5 + (gx * xx + gy * yy)) / 2
    photo *= np.clip(light, 0.5, 1.0)[..., None]
    shadow = _u(rng, 0.0, 0.4)
    if shadow > 0.1:  # a hand's or a phone's shadow across one side
        poly = np.array([[_u(rng, 0, out_w), 0], [out_w, 0], [out_w, _u(rng, 0, out_h)],
                         [_u(rng, 0.5, 1) * out_w, _u(rng, 0.3, 1) * out_h]]).astype(np.int32)
        small = np.zeros((out_h // 8, out_w // 8), np.float32)  # a penumbra of a few mm: blurred small
        cv2.fillPoly(small, [poly // 8], 1.0)
        smask = cv2.resize(cv2.GaussianBlur(small, (0, 0), 25 / 8), (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        photo *= (1.0 - shadow * smask)[..., None]
    blur = _u(rng, 0.3, 1.4)
    photo = cv2.GaussianBlur(photo, (0, 0), blur)
    photo += rng.normal(0, _u(rng, 2, 6), photo.shape).astype(np.float32)
    out = np.clip(photo, 0, 255).astype(np.uint8)
    if kind == "phone_upside_down":
        out = np.rot90(out, 2).copy()
    q = int(rng.integers(55, 91))
    p.update(scale=round(scale, 2), corner_jitter=round(float(np.abs(jitter).max()), 1), shadow=round(shadow, 2),
             blur=round(blur, 2), jpeg=q)
    return cv2.cvtColor(out, cv2.COLOR_RGB2BGR), p, f".jpg:{q}"


def write_image(path_stem: Path, img: np.ndarray, suffix: str) -> Path:
    if suffix == ".png":
        path = path_stem.with_suffix(".png")
        cv2.imwrite(str(path), img)
    else:
        path = path_stem.with_suffix(".jpg")
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, int(suffix.split(":")[1])])
    return path


# --- the deck ---------------------------------------------------------------------------------

def run(cmd: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def blank_pages(pdf: Path, sheets: int, pages_per_sheet: int, out: Path) -> Iterator[tuple[int, dict[int, Path]]]:
    """The printed blank pages, rendered as an outsider would (pdftoppm, 200 dpi grey)."""
    prefix = out / pdf.stem
    run(["pdftoppm", "-r", str(DPI), "-gray", str(pdf), str(prefix)])  # PGM: nothing to compress
    files = sorted(out.glob(f"{pdf.stem}-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(files) == sheets * pages_per_sheet, (len(files), sheets, pages_per_sheet)
    for s in range(sheets):
        yield s, {k + 1: files[s * pages_per_sheet + k] for k in range(pages_per_sheet)}


def load_rgb(path: Path) -> np.ndarray:
    raw = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if raw is None:
        raise RuntimeError(f"pdftoppm wrote no readable page: {path}")
    grey = raw.astype(np.float32) / 255.0
    return np.repeat(grey[..., None], 3, axis=2)


@dataclass
class PageRecord:
    form: str
    serial: int
    sheet: int
    page: int
    file: str
    capture: dict[str, object]


def make_deck(work: Path, seed: int, sheets: int, mix: Mix | None = None,
              ) -> tuple[list[QuestionTruth], list[PageRecord], dict[str, int]]:
    """Initialises the survey, prints, fills and captures every sheet; returns the truth."""
    survey, inbox, blanks = work / "survey", work / "inbox", work / "blanks"
    for d in (inbox, blanks):
        d.mkdir(parents=True, exist_ok=True)
    run([PHIEU, "init", str(survey), *sum((["--form", f] for f in FORMS), [])])
    truths: list[QuestionTruth] = []
    records: list[PageRecord] = []
    first: dict[str, int] = {}
    for form in FORMS:
        pdf = blanks / f"{form}.pdf"
        run([PHIEU, "forms", "render", form, "--survey", str(survey), "--copies", str(sheets), "--out", str(pdf),
             "--label", "foreign deck"])
        layout_json = pdf.with_suffix(".layout.json")
        layout = read_layout(layout_json)
        first[form] = json.loads(layout_json.read_text(encoding="utf-8"))["first_serial"]
        for sheet, files in blank_pages(pdf, sheets, len(layout.targets), blanks):
            serial = first[form] + sheet
            pages = {n: load_rgb(f) for n, f in files.items()}
            truths += fill_sheet(pages, layout, serial, seed, sheet, mix)
            crng = sheet_rng(seed, form, sheet, "capture")
            kind = pick_capture(crng, (mix or Mix()).captures)
            for n, page in pages.items():
                img, params, suffix = capture(page, kind, crng)
                path = write_image(inbox / f"{form}-{serial:05d}-p{n}", img, suffix)
                records.append(PageRecord(form, serial, sheet, n, path.name, params))
            for f in files.values():
                f.unlink()
    return truths, records


def redraw_clean(work: Path, seed: int, form: str, sheet: int, page: int, mix: Mix | None = None) -> np.ndarray:
    """One sheet's marked page again, before capture (for a finding's crop)."""
    pdf = work / "blanks" / f"{form}.pdf"
    layout = read_layout(pdf.with_suffix(".layout.json"))
    n = len(layout.targets)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "p"
        first_page = sheet * n + 1
        run(["pdftoppm", "-r", str(DPI), "-gray", "-f", str(first_page), "-l", str(first_page + n - 1),
             str(pdf), str(prefix)])
        files = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        pages = {k + 1: load_rgb(f) for k, f in enumerate(files)}
    fill_sheet(pages, layout, 0, seed, sheet, mix)
    return pages[page]


# --- comparing ------------------------------------------------------------------------------

@dataclass
class Outcome:
    truth: QuestionTruth
    exported: str | None  # None: the sheet is not in responses.csv
    flagged: bool
    verdict: str  # ok | silent_error | flagged_clear | person_flagged | not_read
    reasons: tuple[str, ...] = ()  # the open flags' reasons on this question (from the store)


def judge(truth: str, exported: str | None, flagged: bool) -> str:
    """Silent error: a value that differs, an empty cell for an answer, anything unflagged
    where a person is needed. Flagged: fine for a person-needed truth, a cost otherwise."""
    if exported is None:
        return "not_read"
    if truth == NEEDS_PERSON:
        return "person_flagged" if flagged else "silent_error"
    if flagged:
        return "flagged_clear"
    return "ok" if exported == truth else "silent_error"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def flag_reasons(survey: Path) -> dict[tuple[str, int, str], tuple[str, ...]]:
    """The reasons of the flags on each (form, serial, question), from the store."""
    con = sqlite3.connect(survey / "survey.sqlite")
    try:
        rows = con.execute("SELECT s.form, s.serial, f.question, f.reason FROM flags f JOIN sheets s "
                           "ON s.id = f.sheet_id WHERE f.question IS NOT NULL ORDER BY f.id").fetchall()
    finally:
        con.close()
    out: dict[tuple[str, int, str], tuple[str, ...]] = defaultdict(tuple)
    for form, serial, question, reason in rows:
        out[(form, int(serial), question)] += (reason,)
    return dict(out)


def compare(truths: list[QuestionTruth], responses: dict[str, pd.DataFrame],
            reasons: dict[tuple[str, int, str], tuple[str, ...]] | None = None) -> list[Outcome]:
    rows: dict[tuple[str, int], dict[str, object]] = {}
    for form, frame in responses.items():
        for rec in frame.to_dict("records"):
            rows[(form, int(rec["serial"]))] = rec
    out = []
    for t in truths:
        rec = rows.get((t.form, t.serial))
        if rec is None:
            out.append(Outcome(t, None, False, "not_read"))
            continue
        flagged_ids = set(_cell(rec.get("flagged")).split("|")) - {""}
        flagged = t.question in flagged_ids
        exported = _cell(rec.get(t.question))
        why = (reasons or {}).get((t.form, t.serial, t.question), ()) if flagged else ()
        out.append(Outcome(t, exported, flagged, judge(t.truth, exported, flagged), why))
    return out


def table(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> list[dict[str, object]]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    rows = []
    for name in sorted(groups):
        g = groups[name]
        verdicts = [o.verdict for o in g]
        rows.append({"group": name, "questions": len(g), "silent_errors": verdicts.count("silent_error"),
                     "flagged_clear": verdicts.count("flagged_clear"),
                     "person_flagged": verdicts.count("person_flagged"),
                     "needs_person": sum(o.truth.truth == NEEDS_PERSON for o in g),
                     "ok": verdicts.count("ok"), "not_read": verdicts.count("not_read"),
                     "clear_flag_reasons": dict(sorted(Counter(
                         r for o in g if o.verdict == "flagged_clear" for r in set(o.reasons)).items()))})
    return rows


def markdown(rows: list[dict[str, object]], title: str) -> str:
    lines = [f"| {title} | questions | silent errors | clear flagged | double marks flagged | not read "
             "| why the clear ones were flagged |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        clear = int(r["questions"]) - int(r["needs_person"]) - int(r["not_read"])  # type: ignore[call-overload]
        double = f"{r['person_flagged']}/{r['needs_person']}" if r["needs_person"] else "–"
        why = ", ".join(f"{k} {v}" for k, v in r["clear_flag_reasons"].items())  # type: ignore[attr-defined]
        lines.append(f"| {r['group']} | {r['questions']} | **{r['silent_errors']}** | {r['flagged_clear']}/{clear} | "
                     f"{double} | {r['not_read']} | {why} |")
    return "\n".join(lines)


def target_scores(survey: Path, file: str) -> dict[str, list[tuple[str, float, str]]]:
    """Every target's raw score and state the scan stored for one input file."""
    con = sqlite3.connect(survey / "survey.sqlite")
    try:
        rows = con.execute(
            "SELECT ts.question, ts.option, ts.score, ts.state FROM target_scores ts JOIN pages p ON p.id = ts.page_id "
            "JOIN sources s ON s.id = p.source_id WHERE s.path LIKE ? ORDER BY ts.id", (f"%/{file}",)).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    for q, o, score, state in rows:
        out[q].append((o, round(float(score), 3), state))
    return dict(out)


def evidence(image: Path, question: str) -> list[dict[str, object]]:
    """What the reader measured on each target of one question (beyond the stored score):
    for a finding only, read again in process with the shipped forms."""

    from forms.library import list_forms
    from omr import PageFailure, decode_image, read_page
    from pipeline.scan.templates import prepare_templates

    decoded = decode_image(image.read_bytes())
    if isinstance(decoded, PageFailure):
        return []
    reading = read_page(decoded, prepare_templates(list_forms()), ocr=False)
    if isinstance(reading, PageFailure):
        return []
    out = []
    for t in reading.targets:
        if t.question == question:
            row: dict[str, object] = {"option": t.option, "score": round(t.score, 3), "state": str(t.state),
                                      "solid": round(t.solid, 3), "filled": t.filled}
            if t.digit is not None:
                row["digit"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(t.digit).items()}
            out.append(row)
    reasons = [q for q in reading.questions if q.question == question]
    if reasons:
        out.append({"decision": str(reasons[0].status), "value": list(reasons[0].value),
                    "reasons": list(reasons[0].reasons)})
    return out


def findings(work: Path, seed: int, outcomes: list[Outcome], records: list[PageRecord], dest: Path,
             mix: Mix | None = None, limit: int = 40) -> list[dict[str, object]]:
    """For each silent error: the input page, phieu's debug overlay, a clean crop of the marks,
    the target scores the scan stored and the reader's evidence."""
    dest.mkdir(parents=True, exist_ok=True)
    by_page = {(r.form, r.serial, r.page): r for r in records}
    listed = []
    done_pages: set[str] = set()
    for o in [o for o in outcomes if o.verdict == "silent_error"][:limit]:
        t = o.truth
        rec = by_page[(t.form, t.serial, t.page)]
        src = work / "inbox" / rec.file
        if rec.file not in done_pages:
            shutil.copy(src, dest / rec.file)
            subprocess.run([PHIEU, "read", str(src), "--no-ocr", "--debug", str(dest)], capture_output=True)
            done_pages.add(rec.file)
        layout = read_layout(work / "blanks" / f"{t.form}.layout.json")
        targets = layout.targets[t.page][t.question]
        clean = redraw_clean(work, seed, t.form, rec.sheet, t.page, mix)
        x0 = min(tt.x for tt in targets) - 8
        x1 = max(tt.x + tt.w for tt in targets) + 8
        y0 = min(tt.y for tt in targets) - 7
        y1 = max(tt.y + tt.h for tt in targets) + 7
        crop = clean[int(y0 * PX_PER_MM):int(y1 * PX_PER_MM), int(x0 * PX_PER_MM):int(x1 * PX_PER_MM)]
        crop_name = f"{t.form}-{t.serial:05d}-{t.question}-{t.style}.crop.png"
        cv2.imwrite(str(dest / crop_name), cv2.cvtColor(np.clip(crop * 255, 0, 255).astype(np.uint8),
                                                        cv2.COLOR_RGB2BGR))
        scores = target_scores(work / "survey", rec.file).get(t.question, [])
        listed.append({"form": t.form, "serial": t.serial, "page": t.page, "question": t.question, "style": t.style,
                       "truth": t.truth, "phieu": o.exported, "flagged": o.flagged, "pen": t.pen,
                       "params": t.params, "capture": rec.capture, "image": str(dest / rec.file),
                       "overlay": str(dest / (Path(rec.file).stem + ".overlay.png")), "crop": str(dest / crop_name),
                       "scores": scores, "evidence": evidence(src, t.question)})
    return listed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sheets", type=int, default=40, help="sheets of each form")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", type=Path, help="keep the deck and survey here (default: a temporary folder)")
    ap.add_argument("--findings", type=Path, default=Path("/tmp/foreign-findings"))
    ap.add_argument("--json", type=Path, help="write every figure and finding here")
    ap.add_argument("--styles", help="draw only these styles, e.g. double=1,circle_loose=1 (default: all)")
    ap.add_argument("--pens", help=f"pens and their weights, e.g. felt=1 (default: {PENS})")
    ap.add_argument("--captures", help=f"captures and their weights, e.g. phone=1 (default: {CAPTURES})")
    ap.add_argument("--rescore", action="store_true",
                    help="compare the deck and survey already in --work again (no drawing, no scan)")
    args = ap.parse_args(argv)
    try:
        mix = Mix.parse(args.styles, args.pens, args.captures)
    except ValueError as e:
        ap.error(str(e))
    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="foreign-deck-")
        work = Path(tmp.name)
    else:
        work = args.work
        if args.rescore:
            if not (work / "truth.json").exists():
                ap.error(f"--rescore: no deck in {work}")
        else:
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        survey = work / "survey"
        if args.rescore:
            saved = json.loads((work / "truth.json").read_text(encoding="utf-8"))
            if (saved["seed"], saved["sheets"], saved.get("mix")) != (args.seed, args.sheets, asdict(mix)):
                ap.error(f"--rescore: the deck in {work} was drawn with other --seed/--sheets/--styles/--pens")
            truths = [QuestionTruth(**t) for t in saved["truths"]]
            records = [PageRecord(**r) for r in saved["pages"]]
            t1 = t2 = t0
        else:
            truths, records = make_deck(work, args.seed, args.sheets, mix)
            (work / "truth.json").write_text(json.dumps(
                {"seed": args.seed, "sheets": args.sheets, "mix": asdict(mix), "truths": [asdict(t) for t in truths],
                 "pages": [asdict(r) for r in records]}, ensure_ascii=False, default=str), encoding="utf-8")
            t1 = time.perf_counter()
            run([PHIEU, "scan", str(work / "inbox"), "--survey", str(survey), "--jobs", str(args.jobs),
                 "--batch", "foreign"])
            t2 = time.perf_counter()
        responses = {}
        for form in FORMS:
            out = work / f"responses-{form}.csv"
            run([PHIEU, "export", "responses", "--form", form, "-o", str(out), "--survey", str(survey)])
            responses[form] = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        pages_csv = work / "pages.csv"
        run([PHIEU, "export", "pages", "-o", str(pages_csv), "--survey", str(survey)])
        pages = pd.read_csv(pages_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        listed_files = {Path(s).name for s in pages["source"]}
        missing_pages = sorted(r.file for r in records if r.file not in listed_files)
        not_read = pages[pages["status"] != "read"][["source", "status", "reason"]].to_dict("records")
        outcomes = compare(truths, responses, flag_reasons(survey))
        captures = {(r.form, r.serial): str(r.capture["kind"]) for r in records}
        by_style = {form: table([o for o in outcomes if o.truth.form == form],
                                lambda o: f"{o.truth.shape}:{o.truth.style}") for form in FORMS}
        by_capture = table(outcomes, lambda o: captures[(o.truth.form, o.truth.serial)])
        by_form = table(outcomes, lambda o: o.truth.form)
        listed = findings(work, args.seed, outcomes, records, args.findings, mix)
        figures = {"seed": args.seed, "sheets": args.sheets, "mix": asdict(mix), "pages": len(records),
                   "pages_missing_from_pages_csv": missing_pages, "pages_not_read": not_read,
                   "seconds": {"generate": round(t1 - t0, 1), "scan": round(t2 - t1, 1)},
                   "by_form": by_form, "by_style": by_style, "by_capture": by_capture, "silent_errors": listed,
                   "outcomes": [{**asdict(o.truth), "exported": o.exported, "flagged": o.flagged,
                                 "verdict": o.verdict, "reasons": list(o.reasons)} for o in outcomes]}
        only = "" if mix == Mix() else (f" (styles {args.styles or 'all'}, pens {args.pens or 'all'}, "
                                        f"captures {args.captures or 'all'})")
        print(f"foreign deck: seed {args.seed}, {args.sheets} sheets of each form, {len(records)} pages{only}; "
              f"generated in {t1 - t0:.0f} s, scanned in {t2 - t1:.0f} s")
        print(f"pages missing from pages.csv: {len(missing_pages)}; pages not read: {len(not_read)}")
        print(markdown(by_form, "form"))
        for form in FORMS:
            print(f"\n{form}\n" + markdown(by_style[form], "style"))
        print("\n" + markdown(by_capture, "capture"))
        for f in listed:
            print(f"SILENT {f['form']} {f['serial']} p{f['page']} {f['question']} {f['style']}: truth {f['truth']!r} "
                  f"phieu {f['phieu']!r} scores {f['scores']} {f['image']}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


def deck_truths(seed: int, sheets: int, layout_path: Path, size: tuple[int, int] = (2339, 1654),
                mix: Mix | None = None) -> tuple[list[QuestionTruth], dict[int, np.ndarray]]:
    """Marks `sheets` white pages of a layout (no printing, no phieu): the generator's own
    bookkeeping, for tests."""
    layout = read_layout(layout_path)
    truths: list[QuestionTruth] = []
    last: dict[int, np.ndarray] = {}
    for sheet in range(sheets):
        last = {n: np.ones((*size, 3), np.float32) for n in layout.targets}
        truths += fill_sheet(last, layout, sheet + 1, seed, sheet, mix)
    return truths, last


if __name__ == "__main__":
    sys.exit(main())
