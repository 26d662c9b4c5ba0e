"""CPU time of the page warps alone, before and after the page is warped where
it is read (`omr.warp`), on the feeder scans of `read_speed.py`:

- before: the whole canonical page in one warp, halved by `INTER_AREA`
  (`half_scale`), and for the pipeline's review picture the canonical page
  reduced to 4 px/mm by `INTER_AREA` (`pipeline.scan.workers`);
- after: the half page warped from the pyramid, the canonical page's areas
  the reading asks for (markers, QR code, targets' search windows, comment
  fields), and the review picture warped at 4 px/mm (`CanonicalPage.picture`).

The two are timed in turn, round after round, so a shared machine's load
falls on both alike; medians (and minima) of CPU ms a page.

    .venv/bin/python benchmarks/warp_cost.py --rounds 8 --sheets 10
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from read_deck import prepare_deck_templates  # noqa: E402
from read_speed import scan_pages  # noqa: E402

from forms.geometry import MARKER_IDS, marker_bbox  # noqa: E402
from omr import decode_image  # noqa: E402
from omr.decode import to_grey  # noqa: E402
from omr.identify import identify  # noqa: E402
from omr.ink import black_areas  # noqa: E402
from omr.read_page import scored_areas  # noqa: E402
from omr.register import HALF_PX_PER_MM, Registration, half_scale, pyramid, register  # noqa: E402
from omr.template import mm_to_px  # noqa: E402
from omr.warp import CanonicalPage, page_size, warp_page  # noqa: E402

REVIEW_PX_PER_MM = 4.0  # as pipeline.scan.workers

Page = tuple[list[np.ndarray], np.ndarray, float, list[list[tuple[int, int, int, int]]]]


def pages(sheets: int, seed: int) -> list[Page]:
    """Each page's pyramid, homography, input scale and the areas read at the canonical scale."""
    catalog = prepare_deck_templates()
    out = []
    for data in scan_pages(200, sheets, seed):
        grey = to_grey(decode_image(data))
        levels = pyramid(grey)
        reg = register(grey, levels)
        assert isinstance(reg, Registration)
        identity = identify(grey, reg, catalog.qr_boxes())
        template = catalog.get(identity.form_id, identity.version)  # type: ignore[union-attr]
        page = template.pages[identity.page]  # type: ignore[union-attr]
        markers = [(mm_to_px(x - 1), mm_to_px(y - 1), mm_to_px(x + w + 1), mm_to_px(y + h + 1))
                   for x, y, w, h in (marker_bbox(c) for c in MARKER_IDS)]
        texts = [(t.x0, t.y0, t.x0 + t.region.shape[1], t.y0 + t.region.shape[0]) for t in page.texts]
        out.append((levels, reg.homography, reg.quality.scale_px_per_mm,
                    [markers, black_areas(page, qr=not set(reg.markers) >= set(MARKER_IDS)), scored_areas(page),
                     texts]))
    return out


def before(items: list[Page], review: bool) -> None:
    for levels, homography, scale, _ in items:
        whole = CanonicalPage(levels, homography, scale).full()  # one warp of the whole page
        half_scale(whole)
        if review:
            cv2.resize(whole, page_size(REVIEW_PX_PER_MM), interpolation=cv2.INTER_AREA)


def after(items: list[Page], review: bool) -> None:
    for levels, homography, scale, areas in items:
        page = CanonicalPage(levels, homography, scale)
        warp_page(levels, homography, scale, HALF_PX_PER_MM)
        for asked in areas:
            page.ensure(asked)
        if review:
            page.picture(REVIEW_PX_PER_MM)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--sheets", type=int, default=10)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    items = pages(args.sheets, args.seed)
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for review in (False, True):
            for name, fn in (("before", before), ("after", after)):
                start = time.process_time()
                fn(items, review)
                key = f"{name}, {'reading + review picture' if review else 'reading'}"
                times.setdefault(key, []).append(1000.0 * (time.process_time() - start) / len(items))
    print(f"{len(items)} pages, {args.rounds} rounds; CPU ms a page of the warps")
    for key, values in times.items():
        print(f"  {key:36s} median {statistics.median(values):6.2f}  (min {min(values):.2f})")


if __name__ == "__main__":
    main()
