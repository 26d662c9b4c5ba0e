"""CPU time of one step of reading a page, for two or more versions of the reader
side by side under the same load: one worker process per source tree, each with
the pages registered and its templates ready, asked in turn for one pass of the
step over the same pages, round after round (as `read_speed_paired.py` does for
the whole read). A change of a millisecond in one step is lost in the noise of a
whole read on a shared machine; the step alone shows it.

    git archive 61ed455 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    git archive HEAD | (mkdir -p /tmp/after && tar -x -C /tmp/after)
    .venv/bin/python benchmarks/read_steps_paired.py score --rounds 12 /tmp/before /tmp/after

Steps: `score` (`score_targets`, with the page ink), `text` (`read_text_fields`,
OCR off: the blank check and the written fields' review crops), `folds` (off
page and folds: `outside_capture`, `judge_folds`, `fold_extent`), `markers`
(`pyramid` and `detect_markers`). Pages: `read_speed.py`'s 200 dpi feeder scans
(`--sheets` of each form, seed 3), each registered once by the tree's own
`locate_page`; OpenCV on one thread. Figures: CPU ms a page (this process's own
time), median and minimum over the rounds.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

STEPS = ("score", "text", "folds", "markers")


def worker(src: str, step: str, sheets: int) -> None:
    """Load the reader from `src`, register the pages, then time one pass of
    `step` per line read on stdin."""
    sys.path[:0] = [src, src + "/benchmarks"]
    import cv2

    cv2.setNumThreads(1)
    from read_deck import prepare_deck_templates
    from read_speed import scan_pages

    import omr
    from omr import decode_image
    from omr.coverage import TARGET_REACH_MM, fold_extent, judge_folds, outside_capture
    from omr.decode import to_grey
    from omr.ink import page_ink_in_view
    from omr.read_page import locate_page
    from omr.register import detect_markers, pyramid
    from omr.score import score_targets
    from omr.text import read_text_fields

    if not omr.__file__ or not omr.__file__.startswith(src):
        raise SystemExit(f"omr imported from {omr.__file__}, not from {src}")
    catalog = prepare_deck_templates()
    pages: list[tuple[Any, ...]] = []
    for data in scan_pages(200, sheets, 3):
        grey = to_grey(decode_image(data))
        located = locate_page(grey, catalog)
        if not located:
            continue
        reg, template = located.registration, located.page_template
        ink = page_ink_in_view(reg.image, template, reg, qr_read=located.serial_known, shape=grey.shape)
        pages.append((grey, reg, template, ink))

    def folds(grey: Any, reg: Any, template: Any, ink: Any) -> None:
        areas = [(t.question, t.bbox_mm, TARGET_REACH_MM) for t in template.geometry.targets]
        outside_capture(areas, reg.homography, grey.shape)
        fold_extent(judge_folds(reg.half, template.folds, reg.homography, grey.shape))

    steps: dict[str, Callable[..., Any]] = {
        "score": lambda grey, reg, template, ink: score_targets(reg.image, template, ink),
        "text": lambda grey, reg, template, ink: read_text_fields(grey, reg, template, ocr=False, ink=ink),
        "folds": folds,
        "markers": lambda grey, reg, template, ink: detect_markers(grey, pyramid(grey)),
    }
    run = steps[step]
    for page in pages:  # first use: what the templates keep is made here, not timed
        run(*page)
    print(len(pages), flush=True)
    for _ in sys.stdin:
        start = time.process_time()
        for page in pages:
            run(*page)
        print(1000.0 * (time.process_time() - start) / len(pages), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=STEPS)
    ap.add_argument("trees", nargs="+", help="source trees to compare")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--sheets", type=int, default=10, help="sheets per form")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.step, args.sheets)
        return
    procs = [subprocess.Popen([sys.executable, __file__, args.step, tree, "--worker", tree, "--sheets",
                               str(args.sheets)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for tree in args.trees]
    counts = []
    for proc in procs:
        assert proc.stdout is not None
        counts.append(proc.stdout.readline().strip())
    times: dict[str, list[float]] = {tree: [] for tree in args.trees}
    for _ in range(args.rounds):
        for tree, proc in zip(args.trees, procs):
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            times[tree].append(float(proc.stdout.readline()))
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    for tree, count in zip(args.trees, counts):
        print(f"{args.step} {tree}: {count} pages, CPU ms/page median {statistics.median(times[tree]):.2f} "
              f"(min {min(times[tree]):.2f}) over {args.rounds} rounds")


if __name__ == "__main__":
    main()
