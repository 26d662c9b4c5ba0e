"""Folds and shadows on phone photos: is a fold still a fold in a shadow, and a
shadow never one?

    .venv/bin/python benchmarks/fold_shadow_probe.py --seeds 20-31 --depths 0,0.3,0.5

The SIPAS form's page 1, its lowest row's last digit and its first target
circled; the bottom-right corner folded over that digit (`fixtures.scanner.
fold_corner`: "dark", the fold's triangle reaching past it, so the desk shows
where the digit was; "flap", the corner's flap lying over it), under a hand's
shadow over the bottom right (`depth`: how much darker the paper is there,
edge soft over 1 mm), photographed by a phone (`fixtures.photo.phone`, the desk
showing where the corner left). Then without a fold, the same shadow from the
top right over the answers. Prints, per case, how the covered question and the
far one came out: under a fold it must be flagged `folded` (any other outcome
is counted; `no_answer` or `answered` is a silent error); with no fold, no
question may be `folded`.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_omr import PPM, Form, fill  # noqa: E402
from test_omr_registration import fold_over_last_digit  # noqa: E402

from fixtures.capture import as_decoded  # noqa: E402
from fixtures.photo import hand_shadow, phone  # noqa: E402
from fixtures.scanner import fold_corner  # noqa: E402
from omr import Catalog, read_page  # noqa: E402


def _range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="20-31", help="a range of seeds, e.g. 20-31")
    ap.add_argument("--depths", default="0,0.3,0.5", help="shadow depths, e.g. 0,0.3,0.5")
    args = ap.parse_args()
    sipas, mot = Form("sipas"), Form("mot-cua")
    catalog = Catalog.of([mot.template, sipas.template])
    lowest, _, marks, legs = fold_over_last_digit(sipas.pages[0])
    tally: Counter = Counter()
    for seed in _range(args.seeds):
        for depth in (float(d) for d in args.depths.split(",")):
            page = fill(sipas.blanks[0], marks, seed=1)
            for leg, under in legs:
                bent, mask = fold_corner(page, PPM, "br", leg, np.random.default_rng(seed))
                shaded = hand_shadow(bent, PPM, depth, from_bottom=True) if depth else bent
                cap = phone(shaded, PPM, seed, paper_mask=mask)
                reading = read_page(as_decoded(cap), catalog, ocr=False)
                if not reading:
                    tally[(under, depth, f"page not read ({reading.reason})")] += 1
                    continue
                got = {q.question: q for q in reading.questions}
                q = got[lowest.question]
                outcome = "folded" if "folded" in q.reasons else (
                    f"flagged {'+'.join(q.reasons)}" if q.status == "flagged" else f"SILENT: {q.status}")
                tally[(under, depth, outcome)] += 1
            if depth:
                cap = phone(hand_shadow(page, PPM, depth), PPM, seed)
                reading = read_page(as_decoded(cap), catalog, ocr=False)
                folded = [q.question for q in reading.questions if "folded" in q.reasons] if reading else []
                tally[("shadow, no fold", depth, "questions folded" if folded else "none folded")] += 1
    print("| case | shadow depth | outcome of the covered question (with no fold: of the page) | pages |")
    print("|---|---|---|---|")
    for (case, depth, outcome), count in sorted(tally.items()):
        print(f"| {case} | {depth} | {outcome} | {count} |")


if __name__ == "__main__":
    main()
