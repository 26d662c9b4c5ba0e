"""Pages whose QR code cannot be read, identified and read by their print
(issue 11), by capture kind.

    .venv/bin/python benchmarks/read_by_print.py --sheets 20 --seed 21 \
        --mix tight=0.35,corners_out=0.35,scan=0.3

Takes the pages of a generated deck (`read_deck.ensure_deck`, cached), finds
each page's QR code in the picture (`omr.identify.locate_qr`) and paints it
over (paper grey and pen strokes across it), so that only the markers in the
frame and the printed page are left. Each page is then read with
`omr.read_page` as the pipeline does (OCR off). A page identified by its
print comes back as a `qr_unreadable` failure carrying its reading under an
unknown serial; here its form and page are compared with the truth (a wrong
one is a wrong identity) and, when right, its answers are scored exactly as
`read_accuracy.py` scores a read page (the truth's serial put in). Pages on
which no QR code was found to paint over are left out (counted).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_accuracy import Tally, report  # noqa: E402
from read_deck import FORMS, ReadPage, ensure_deck, prepare_deck_templates  # noqa: E402

from fixtures.box import mix_from_text  # noqa: E402
from omr import decode_image, read_page  # noqa: E402
from omr.failures import FailureReason  # noqa: E402
from omr.identify import locate_qr  # noqa: E402
from omr.reading import PageFailure  # noqa: E402


def paint_over_qr(grey: np.ndarray, seed: int) -> np.ndarray | None:
    """`grey` with its phieu QR code painted over (None when none is found):
    the code's quadrilateral, grown by a quarter for its quiet zone, filled
    with the paper's grey around it, then pen strokes across it."""
    found = locate_qr(grey)
    if found is None:
        return None
    quad = found.corners
    centre = quad.mean(axis=0)
    grown = (centre + 1.25 * (quad - centre)).astype(np.int32)
    out = grey.copy()
    x, y, w, h = cv2.boundingRect(grown)
    ring = grey[max(0, y - h // 2):y + h + h // 2, max(0, x - w // 2):x + w + w // 2]
    cv2.fillConvexPoly(out, grown, int(np.percentile(ring, 90)))
    rng = np.random.default_rng(seed)
    for _ in range(12):
        a, b = grown[rng.integers(0, 4)], grown[rng.integers(0, 4)]
        p0 = a + rng.uniform(0.2, 0.8) * (centre - a)
        p1 = b + rng.uniform(0.2, 0.8) * (centre - b)
        cv2.line(out, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 30, max(2, w // 40))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=20, help="sheets per form")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--mix", default="tight=0.35,corners_out=0.35,scan=0.3", help="capture mix")
    args = ap.parse_args()
    mix = mix_from_text(args.mix)
    catalog = prepare_deck_templates()
    tallies: dict[str, Tally] = defaultdict(Tally)
    skipped: Counter = Counter()
    identified: Counter = Counter()
    start = time.perf_counter()
    for form_id in FORMS:
        out, truth = ensure_deck(form_id, args.sheets, args.seed, 200, mix)
        sheets = {s.serial: s for s in truth.sheets}
        for n, page in enumerate(truth.pages):
            grey = decode_image((out / page.file).read_bytes())
            assert not isinstance(grey, PageFailure)
            damaged = paint_over_qr(grey, n)
            if damaged is None:
                skipped[page.capture] += 1
                continue
            began = time.perf_counter()
            reading = read_page(damaged, catalog, ocr=False)
            seconds = time.perf_counter() - began
            if not reading and reading.reason == FailureReason.QR_UNREADABLE and reading.reading is not None:
                read = reading.reading
                ident = read.identity
                right = (ident.form_id, ident.page) == (form_id, page.page)
                identified[page.capture] += 1
                # the serial a person would enter; a wrong form or page stays wrong
                serial = page.serial if right else -1
                reading = replace(read, identity=replace(ident, serial=serial))
            tallies[page.capture].add_page(ReadPage(page, sheets[page.serial], reading, seconds))
    report(dict(tallies), f"{', '.join(FORMS)} x {args.sheets} sheets, seed {args.seed}, mix {args.mix}, "
           "QR codes painted over", time.perf_counter() - start)
    print("\nidentified by the print (form and page):")
    for kind in sorted(tallies):
        print(f"  {kind}: {identified[kind]} of {tallies[kind].c['pages']}")
    if skipped:
        print(f"left out (no QR code found to paint over): {dict(skipped)}")


if __name__ == "__main__":
    main()
