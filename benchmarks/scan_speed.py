"""Benchmark: `phieu scan` of a whole ballot box from ONE PDF, end to end.

What it measures, for each `--jobs` value, on a fresh survey workspace:
- wall time of the `phieu scan` process (start-up, catalog, reading, OCR, store, summary),
  sheets per second and pages per second;
- peak memory of the whole process tree (the main process and its workers), sampled
  every 0.1 s from /proc: the sum of PSS (proportional set size, shared pages split
  between processes; the honest total) and the sum of RSS (an upper bound);
- CPU seconds per sheet of the whole process tree (phieu, its workers, their pdfimages and
  tesseract children): what a scan costs whatever else the machine is doing;
- what was read: pages read / not read, sheets counted / to review (from the summary).

The box is generated once with `fixtures.box.make_ballot_box` (feeder scans, phone photos,
folded corners as the default mix; comments on ~40% of sheets) and cached.

Usage:
    .venv/bin/python benchmarks/scan_speed.py [--sheets 500] [--jobs 1,2] [--form mot-cua]
        [--profile N]   # also: where the time goes, over the first N pages

Prints a Markdown table for BENCHMARKS.md ("Scanning"). The machine is shared: the load
average at the start of each run is printed beside it.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHIEU = Path(sys.executable).parent / "phieu"
SAMPLE_S = 0.1


def make_box(form: str, sheets: int, seed: int, cache: Path) -> tuple[Path, float]:
    """The box's single PDF (generated unless cached) and the seconds generation took."""
    from fixtures.box import make_ballot_box

    folder = cache / f"{form}-{sheets}-seed{seed}"
    pdfs = sorted(folder.glob("*.pdf"))
    if (folder / "truth.json").is_file() and len(pdfs) == 1:
        return pdfs[0], 0.0
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    make_ballot_box(form, sheets, folder, seed=seed, formats=("pdf",), comment_rate=0.4,
                    pages_per_file=sheets * 4)
    pdfs = sorted(folder.glob("*.pdf"))
    assert len(pdfs) == 1, f"expected one PDF in {folder}, got {pdfs}"
    return pdfs[0], time.perf_counter() - start


def _children(pid: int) -> list[int]:
    """`pid` and all its descendants, from /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may contain spaces; the fields after ")" are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents[int(entry.name)] = ppid
    tree, frontier = [pid], [pid]
    while frontier:
        nxt = [p for p, pp in parents.items() if pp in frontier]
        tree += nxt
        frontier = nxt
    return tree


def _memory_kb(pids: list[int]) -> tuple[int, int]:
    """(sum of PSS, sum of RSS) in kB over `pids`."""
    pss = rss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                text = fh.read()
        except OSError:
            continue
        m = re.search(r"^Pss:\s+(\d+)", text, re.MULTILINE)
        r = re.search(r"^Rss:\s+(\d+)", text, re.MULTILINE)
        pss += int(m.group(1)) if m else 0
        rss += int(r.group(1)) if r else 0
    return pss, rss


def run_scan(pdf: Path, jobs: int, form: str) -> dict:
    """Scan `pdf` into a fresh workspace with `jobs` workers; returns the measurements."""
    with tempfile.TemporaryDirectory(prefix="phieu-bench-") as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run([str(PHIEU), "init", str(ws), "--form", form], check=True,
                       capture_output=True)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen([str(PHIEU), "scan", str(pdf), "--jobs", str(jobs)], cwd=ws,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak_pss = peak_rss = 0
        while proc.poll() is None:
            pss, rss = _memory_kb(_children(proc.pid))
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            time.sleep(SAMPLE_S)
        out, err = proc.communicate()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"phieu scan failed ({proc.returncode}):\n{err}")
    return {
        "jobs": jobs,
        "load": load,
        "wall": wall,
        # CPU of the whole tree: phieu, its workers and their pdfimages/tesseract children
        # (all waited for, so all in RUSAGE_CHILDREN). Independent of other users' load.
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        **parse_summary(out),
        "peak_pss_mb": peak_pss / 1024,
        "peak_rss_mb": peak_rss / 1024,
        "summary": out,
    }


def parse_summary(out: str) -> dict:
    """The counts in `phieu scan`'s summary: pages read and not read, the survey's sheets
    and their states."""
    read = int(re.search(r"pages read: (\d+)", out).group(1))
    failed = re.search(r"pages not read: (\d+)", out)
    sheets = re.search(r"whole survey: (\d+) phiếu/sheets \(([^)]*)\)", out)
    return {
        "pages_read": read,
        "pages_failed": int(failed.group(1)) if failed else 0,
        "sheets": int(sheets.group(1)),
        "sheet_states": sheets.group(2),
    }


def profile_pages(pdf: Path, form: str, pages: int, dpi: int = 200) -> None:
    """Where one worker's time goes, page by page, in this process (no pool): loading the
    page, reading it without OCR, OCR of the written comments, and compressing the review
    image and crops. Tesseract runs single-threaded as in a worker."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from forms.library import load_form
    from omr import read_page
    from pipeline.scan.inputs import load_page, scanned_pdf_pages
    from pipeline.scan.templates import prepare_templates
    from pipeline.scan.workers import _png, _review_image

    start = time.perf_counter()
    catalog = prepare_templates([load_form(form)])
    catalog_s = time.perf_counter() - start
    direct = scanned_pdf_pages(pdf, pages)
    totals = dict.fromkeys(("load", "read without OCR", "OCR", "review image + crops"), 0.0)
    written = 0
    for i in range(1, pages + 1):
        t0 = time.perf_counter()
        image = load_page(pdf, "pdf", i, dpi, direct.get(i, 0.0))
        t1 = time.perf_counter()
        read_page(image, catalog, ocr=False)
        t2 = time.perf_counter()
        reading = read_page(image, catalog)
        t3 = time.perf_counter()
        _review_image(reading, image, dpi)
        crops = [_png(t.crop) for t in getattr(reading, "texts", ()) if t.crop is not None and not t.blank]
        t4 = time.perf_counter()
        written += len(crops)
        totals["load"] += t1 - t0
        totals["read without OCR"] += t2 - t1
        totals["OCR"] += max(0.0, (t3 - t2) - (t2 - t1))
        totals["review image + crops"] += t4 - t3
    print(f"\nper page, mean of {pages} pages ({written} with a written comment), one process:")
    print("| step | ms per page |\n|---|---|")
    for step, seconds in totals.items():
        print(f"| {step} | {1000 * seconds / pages:.0f} |")
    print(f"| total | {1000 * sum(totals.values()) / pages:.0f} |")
    print(f"catalog (blank forms rendered and prepared, once per scan): {catalog_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sheets", type=int, default=500)
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--form", default="mot-cua")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "phieu-bench")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also time the steps of reading the first N pages in one process")
    args = parser.parse_args()

    pdf, gen_s = make_box(args.form, args.sheets, args.seed, args.cache)
    size_mb = pdf.stat().st_size / 1e6
    print(f"box: {pdf} ({size_mb:.0f} MB, {args.sheets} sheets of {args.form}"
          + (f", generated in {gen_s:.0f} s)" if gen_s else ", cached)"))
    if args.profile:
        profile_pages(pdf, args.form, args.profile)
    rows = []
    for jobs in (int(j) for j in args.jobs.split(",") if j):
        r = run_scan(pdf, jobs, args.form)
        rows.append(r)
        print(r["summary"], file=sys.stderr)
    if not rows:
        return
    pages = rows[0]["pages_read"] + rows[0]["pages_failed"]
    print()
    print("| --jobs | wall (s) | sheets/s | pages/s | CPU s per sheet | peak memory PSS (RSS) "
          "| pages read / not read | sheets | load avg at start |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['jobs']} | {r['wall']:.1f} | {args.sheets / r['wall']:.2f} | "
              f"{pages / r['wall']:.2f} | {r['cpu'] / args.sheets:.3f} | "
              f"{r['peak_pss_mb']:.0f} MB ({r['peak_rss_mb']:.0f} MB) | "
              f"{r['pages_read']} / {r['pages_failed']} | {r['sheets']} ({r['sheet_states']}) | "
              f"{r['load']:.1f} |")
    if len(rows) > 1:
        print(f"\nspeed-up --jobs {rows[-1]['jobs']} over --jobs {rows[0]['jobs']}: "
              f"{rows[0]['wall'] / rows[-1]['wall']:.2f}x")


if __name__ == "__main__":
    main()
