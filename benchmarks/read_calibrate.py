"""Score distributions by truth intent, per target shape and capture kind: the
figures that choose the thresholds in `omr/thresholds.py`.

    .venv/bin/python benchmarks/read_calibrate.py --sheets 150 --seed 11

For every target of every registered page of a generated deck (both shipped
forms), the raw score is lined up with the truth's intent (marked, marginal,
empty) and mark kind. It prints, per shape: quantiles of each (intent, kind),
then per capture kind the lowest clear-mark scores and the highest empty
scores, and the thresholds that the figures allow (the gap between the
highest empty and the lowest clear mark, and where the marginal marks fall).
Use a different seed from `read_accuracy.py`, so the thresholds are not
judged on the deck that chose them.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import FORMS, ensure_deck, prepare_deck_templates, read_deck  # noqa: E402

QUANTILES = (0.0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0)


def collect(sheets: int, seed: int, dpi: int) -> list[tuple]:
    """Rows (form, capture, shape, intent, kind, score, digit evidence) of every target."""
    catalog = prepare_deck_templates()
    rows = []
    for form_id in FORMS:
        out, truth = ensure_deck(form_id, sheets, seed, dpi)
        for rp in read_deck(out, truth, catalog, ocr=False):
            reading = rp.reading
            if not reading or reading.identity.serial != rp.truth.serial:
                continue
            template = catalog.get(reading.identity.form_id, reading.identity.version)
            shapes = template.target_shapes()
            for m in reading.targets:  # the reader's own raw measures
                t = rp.sheet.target(m.question, m.option)
                rows.append((form_id, rp.truth.capture, shapes[(m.question, m.option)], t.intent, t.kind, m.score,
                             m.digit))
    return rows


def _fmt(values: np.ndarray) -> str:
    qs = np.quantile(values, QUANTILES)
    return " ".join(f"{q:.3f}" for q in qs)


def report(rows: list[tuple]) -> None:
    print("quantiles:", " ".join(f"q{q:g}" for q in QUANTILES))
    for shape in ("box", "digit"):
        print(f"\n== {shape} ==")
        groups: dict[tuple, list[float]] = defaultdict(list)
        for r in rows:
            if r[2] == shape:
                groups[(r[3], r[4])].append(r[5])
        for key in sorted(groups):
            v = np.array(groups[key])
            print(f"  {key[0]:8s} {key[1]:9s} n={len(v):6d}  {_fmt(v)}")
        print("  per capture: lowest clear marks | highest empties (incl. noise) | marginal quantiles")
        for capture in sorted({r[1] for r in rows}):
            sel = [r for r in rows if r[2] == shape and r[1] == capture]
            marked = np.sort([r[5] for r in sel if r[3] == "marked"])
            empty = np.sort([r[5] for r in sel if r[3] == "empty"])
            marginal = np.array([r[5] for r in sel if r[3] == "marginal"])
            low = " ".join(f"{x:.3f}" for x in marked[:5])
            high = " ".join(f"{x:.3f}" for x in empty[-5:])
            mq = _fmt(marginal) if len(marginal) else "-"
            print(f"  {capture:12s} n={len(sel):6d} marked[:5] {low} | empty[-5:] {high} | marginal {mq}")
        marked = np.array([r[5] for r in rows if r[2] == shape and r[3] == "marked"])
        empty = np.array([r[5] for r in rows if r[2] == shape and r[3] == "empty"])
        if len(marked) and len(empty):
            print(f"  gap: highest empty {empty.max():.3f}, lowest clear mark {marked.min():.3f}")
            for t in (0.01, 0.02, 0.05):
                print(f"  share of clear marks below {np.quantile(marked, t):.3f}: {t:.0%}")
    digits = [r for r in rows if r[2] == "digit"]
    if digits:
        print("\n== digit evidence (omr.reading.DigitEvidence) ==")
        parts = ("ring", "through_mm", "beside_mm", "tick_mm", "arc_mm", "between_mm", "fill", "solid", "inner_mm2",
                 "thick_mm2", "crumbs_mm2")
        groups2: dict[tuple, list[tuple[float, ...]]] = defaultdict(list)
        for r in digits:
            groups2[(r[3], r[4])].append(tuple(getattr(r[6], n) for n in parts))
        for key in sorted(groups2):
            v = np.array(groups2[key])
            for i, name in enumerate(parts):
                print(f"  {key[0] if i == 0 else '':8s} {key[1] if i == 0 else '':9s} {name:10s} {_fmt(v[:, i])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=150, help="sheets per form")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    rows = collect(args.sheets, args.seed, args.dpi)
    print(f"deck: {args.sheets} sheets per form ({', '.join(FORMS)}), seed {args.seed}, "
          f"{args.dpi} dpi; {len(rows)} targets on registered pages")
    report(rows)


if __name__ == "__main__":
    main()
