"""Read speed of two or more versions of the reader, side by side under the same
load: one worker process per source tree, each with its templates ready, asked in
turn for one pass over the same pages, round after round. The load of a shared
machine then falls on every version alike; the CPU time per page (this process's
own) moves least with it.

    git archive 495c273 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python benchmarks/read_speed_paired.py --rounds 10 /tmp/before .

Pages: `read_speed.py`'s 200 dpi feeder scans (`--sheets` of each form, seed 3),
decode + `read_page` without OCR, OpenCV on one thread. A tree's own
`benchmarks/read_speed.py` makes its pages, so give it one that caches them under
the layout's fingerprint (or they may be printed from an older layout).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(src: str, sheets: int) -> None:
    """Load the reader from `src`, then time one pass per line read on stdin."""
    sys.path[:0] = [src, src + "/benchmarks"]
    import cv2

    cv2.setNumThreads(1)
    from read_deck import prepare_deck_templates
    from read_speed import scan_pages

    import omr
    from omr import decode_image, read_page

    if not omr.__file__ or not omr.__file__.startswith(src):
        raise SystemExit(f"omr imported from {omr.__file__}, not from {src}")
    pages = scan_pages(200, sheets, 3)
    catalog = prepare_deck_templates()
    unread = sum(not read_page(decode_image(p), catalog, ocr=False) for p in pages)
    sys.stdout.write(f"ready {len(pages)} {unread}\n")
    sys.stdout.flush()
    for _ in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        for data in pages:
            read_page(decode_image(data), catalog, ocr=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sys.stdout.write(f"{1000 * wall / len(pages)} {1000 * cpu / len(pages)}\n")
        sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", help="source trees to compare")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--sheets", type=int, default=20, help="sheets per form")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.sheets)
        return
    trees = [str(Path(t).resolve()) for t in args.trees]
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", t, "--sheets", str(args.sheets), t],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for t in trees]
    for tree, proc in zip(trees, procs):
        assert proc.stdout is not None
        _, pages, unread = proc.stdout.readline().split()
        print(f"{tree}: {pages} pages, {unread} not read")
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
        print(f"{tree}: wall ms/page median {statistics.median(wall):.1f} (min {min(wall):.1f}), "
              f"{1000 / statistics.median(wall):.1f} pages/s; CPU ms/page median {statistics.median(cpu):.1f} "
              f"(min {min(cpu):.1f}), {1000 / statistics.median(cpu):.1f} pages/s of CPU")


if __name__ == "__main__":
    main()
