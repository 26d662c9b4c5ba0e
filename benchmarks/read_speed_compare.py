"""Read speed of two versions of the reader under the same load: run it once per
source tree, alternately, on the same pages (the load of a shared machine
moves both alike; the decode floor of each run says how loaded it was).

    git archive 2d570ca | tar -x -C /tmp/before
    .venv/bin/python benchmarks/read_speed_compare.py /tmp/before 3
    .venv/bin/python benchmarks/read_speed_compare.py . 3

Pages: `read_speed.py`'s 200 dpi feeder scans (20 sheets of each form, seed 3);
decode + `read_page` without OCR, OpenCV on one thread.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    src = str(Path(sys.argv[1]).resolve())
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sys.path[:0] = [src, src + "/benchmarks"]
    import cv2

    cv2.setNumThreads(1)
    from read_deck import prepare_deck_templates
    from read_speed import scan_pages

    import omr
    from omr import decode_image, read_page

    if not omr.__file__ or not omr.__file__.startswith(src):
        raise SystemExit(f"omr imported from {omr.__file__}, not from {src}")
    pages = scan_pages(200, 20, 3)
    catalog = prepare_deck_templates()
    rates, floors = [], []
    for _ in range(passes):
        start = time.perf_counter()
        for data in pages:
            decode_image(data)
        floors.append(len(pages) / (time.perf_counter() - start))
        start = time.perf_counter()
        for data in pages:
            read_page(decode_image(data), catalog, ocr=False)
        rates.append(len(pages) / (time.perf_counter() - start))
    sys.stdout.write(f"{src}: read {statistics.median(rates):.1f} pages/s median "
                     f"({', '.join(f'{r:.1f}' for r in rates)}); decode floor "
                     f"{statistics.median(floors):.1f} ({', '.join(f'{f:.1f}' for f in floors)})\n")


if __name__ == "__main__":
    main()
