"""Read speed of two or more versions of the reader, side by side under the same
load: one worker process per source tree, each with its templates ready, asked in
turn for one pass over the same pages, round after round. The load of a shared
machine then falls on every version alike; the CPU time per page (this process's
own) moves least with it.

    git archive 61ed455 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python benchmarks/read_speed_paired.py --rounds 10 /tmp/before .
    .venv/bin/python benchmarks/read_speed_paired.py --step score --rounds 20 /tmp/before .

Pages: `read_speed.py`'s 200 dpi feeder scans (`--sheets` of each form, seed 3),
OpenCV on one thread. A tree's own `benchmarks/read_speed.py` makes its pages, so
give it one that caches them under the layout's fingerprint (or they may be
printed from an older layout).

`--step read` (the default) times decode + `read_page` without OCR. The other
steps time one step alone, on pages each tree registered once by its own
`locate_page` (a change of a millisecond in one step is lost in the noise of a
whole read on a shared machine; the step alone shows it): `score`
(`score_targets`, with the areas it reads warped), `text` (`read_text_fields`,
OCR off: the blank check and the written fields' review crops), `folds` (off page
and folds: `outside_capture`, `judge_folds`, `fold_extent`), `markers` (`pyramid`
and `detect_markers`), `areas` (on a fresh `CanonicalPage` each pass: the markers' sharpness,
`page_ink_in_view`, the scored areas and the comment fields warped, as `read_page` asks for
them), `ink` (`page_ink_in_view` alone, what it reads already warped: the paper level, the
black and the blur), `check` (the print check: `omr.align.quick_check`, the whole grid's
`measure` where the sample does not vouch). Trees from before the canonical page was warped on demand
(`omr.warp`, merged at 0f89d18) are read through their own `Registration.image`, which their
`page_ink_in_view` took with the template and the registration. Every step but `read` needs a
`page_ink_in_view` taking the template (f241dd2 on); `areas` needs `omr.warp` (0f89d18 on); `check`
needs `Registration.half` and `omr.align.quick_check` (f57232f on, before either).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

STEPS = ("read", "score", "text", "folds", "markers", "areas", "ink", "check")


def _whole_read(sheets: int) -> tuple[list[tuple[Any, ...]], Callable[..., Any], str]:
    """The pages (encoded bytes), decode + `read_page`, and the ready line."""
    from read_deck import prepare_deck_templates
    from read_speed import scan_pages

    from omr import decode_image, read_page

    pages = scan_pages(200, sheets, 3)
    catalog = prepare_deck_templates()
    unread = sum(not read_page(decode_image(p), catalog, ocr=False) for p in pages)
    return [(p,) for p in pages], lambda data: read_page(decode_image(data), catalog, ocr=False), \
        f"{len(pages)} pages, {unread} not read"


def _one_step(step: str, sheets: int) -> tuple[list[tuple[Any, ...]], Callable[..., Any], str]:
    """The registered pages and `step` over one of them, and the ready line."""
    from read_deck import prepare_deck_templates
    from read_speed import scan_pages

    from omr import decode_image
    from omr.coverage import TARGET_REACH_MM, fold_extent, judge_folds, outside_capture
    from omr.decode import to_grey
    from omr.register import detect_markers, pyramid
    from omr.score import score_targets
    from omr.text import read_text_fields

    # Modules, not the functions `omr` exports under the same names.
    read_page_module, omr_ink = import_module("omr.read_page"), import_module("omr.ink")

    def page_ink(reg: Any, template: Any, image: Any, qr_read: bool, shape: Any) -> Any:
        """`page_ink_in_view` as the tree defines it: of the registration, or
        (before 0f89d18) of the whole page, with the registration after the template."""
        if hasattr(reg, "page"):
            return omr_ink.page_ink_in_view(reg, template, qr_read=qr_read, shape=shape)
        return omr_ink.page_ink_in_view(image, template, reg, qr_read=qr_read, shape=shape)

    catalog = prepare_deck_templates()
    pages: list[tuple[Any, ...]] = []
    levels_of: dict[int, Any] = {}  # step `areas`: each registration's pyramid
    ink_qr: dict[int, bool] = {}  # step `ink`: whether each page's QR code was read
    for data in scan_pages(200, sheets, 3):
        grey = to_grey(decode_image(data))
        located = read_page_module.locate_page(grey, catalog)
        if not located:
            continue
        reg, template = located.registration, located.page_template
        # the page warped on demand (0f89d18 on), or whole
        image = reg.page.ensure(read_page_module.scored_areas(template)) if hasattr(reg, "page") else reg.image
        ink = page_ink(reg, template, image, located.serial_known, grey.shape)
        pages.append((grey, reg, template, ink, image))
        ink_qr[id(reg)] = located.serial_known
        if step == "areas":
            levels_of[id(reg)] = pyramid(grey)

    def folds(grey: Any, reg: Any, template: Any, ink: Any, image: Any) -> None:
        areas = [(t.question, t.bbox_mm, TARGET_REACH_MM) for t in template.geometry.targets]
        outside_capture(areas, reg.homography, grey.shape)
        fold_extent(judge_folds(reg.half, template.folds, reg.homography, grey.shape))

    def areas(grey: Any, reg: Any, template: Any, ink: Any, image: Any) -> None:
        page = import_module("omr.warp").CanonicalPage(levels_of[id(reg)], reg.homography,
                                                        reg.quality.scale_px_per_mm)
        import_module("omr.register")._sharpness(page)
        omr_ink.page_ink_in_view(dataclasses.replace(reg, page=page), template, shape=grey.shape)
        page.ensure(read_page_module.scored_areas(template))
        page.ensure((t.x0, t.y0, t.x0 + t.region.shape[1], t.y0 + t.region.shape[0]) for t in template.texts)

    align = import_module("omr.align")  # looked up once, outside the timed step

    def check(grey: Any, reg: Any, template: Any, ink: Any, image: Any) -> None:
        tiles = template.print_tiles
        if align.quick_check(reg, tiles, grey.shape) is None:
            align.measure(reg.half, tiles.at(align.CHECK_STAGE), reg.homography, grey.shape)

    steps: dict[str, Callable[..., Any]] = {
        "score": lambda grey, reg, template, ink, image: score_targets(image, template, ink),
        "text": lambda grey, reg, template, ink, image: read_text_fields(grey, reg, template, ocr=False, ink=ink),
        "folds": folds,
        "markers": lambda grey, reg, template, ink, image: detect_markers(grey, pyramid(grey)),
        "areas": areas,
        "ink": lambda grey, reg, template, ink, image: page_ink(reg, template, image, ink_qr[id(reg)], grey.shape),
        "check": check,
    }
    run = steps[step]
    for page in pages:  # first use: what the templates keep is made here, not timed
        run(*page)
    return pages, run, f"{len(pages)} pages registered"


def worker(src: str, step: str, sheets: int) -> None:
    """Load the reader from `src`, then time one pass of `step` per line read on stdin."""
    sys.path[:0] = [src, src + "/benchmarks"]
    import cv2

    cv2.setNumThreads(1)
    import omr

    if not omr.__file__ or not omr.__file__.startswith(src):
        raise SystemExit(f"omr imported from {omr.__file__}, not from {src}")
    pages, run, ready = _whole_read(sheets) if step == "read" else _one_step(step, sheets)
    sys.stdout.write(f"{ready}\n")
    sys.stdout.flush()
    for _ in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        for page in pages:
            run(*page)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sys.stdout.write(f"{1000 * wall / len(pages)} {1000 * cpu / len(pages)}\n")
        sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", help="source trees to compare")
    ap.add_argument("--step", choices=STEPS, default="read", help="the whole read, or one step of it")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--sheets", type=int, default=20, help="sheets per form")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.step, args.sheets)
        return
    trees = [str(Path(t).resolve()) for t in args.trees]
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", t, "--step", args.step, "--sheets",
                               str(args.sheets), t], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for t in trees]
    for tree, proc in zip(trees, procs):
        assert proc.stdout is not None
        print(f"{tree}: {proc.stdout.readline().strip()}")
    times: dict[str, tuple[list[float], list[float]]] = {t: ([], []) for t in trees}
    for _ in range(args.rounds):
        for tree, proc in zip(trees, procs):
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            wall, cpu = map(float, proc.stdout.readline().split())
            times[tree][0].append(wall)
            times[tree][1].append(cpu)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    for tree in trees:
        wall, cpu = times[tree]
        print(f"{args.step} {tree}: wall ms/page median {statistics.median(wall):.1f} (min {min(wall):.1f}), "
              f"{1000 / statistics.median(wall):.1f} pages/s; CPU ms/page median {statistics.median(cpu):.2f} "
              f"(min {min(cpu):.2f}), {1000 / statistics.median(cpu):.1f} pages/s of CPU")


if __name__ == "__main__":
    main()
