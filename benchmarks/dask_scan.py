"""Benchmark: `phieu scan --workers` on a Dask cluster of 1, 2 and 4 workers, on this machine.

For each worker count a `distributed.LocalCluster` is started here (a scheduler on
loopback and N worker processes, one thread each, as `dask worker --nthreads 1` would run
on N reading machines), then `phieu scan BOX.pdf --workers tcp://…` runs as a subprocess
into a fresh survey whose store is a PostgreSQL database (a throwaway server started from
Debian's binaries, `tests/postgres_support.py`) or, with `--store sqlite`, a SQLite file.
A local run (`--jobs 2`, no Dask) is measured beside them.

What it measures, per run:
- wall time of the `phieu scan` process, sheets/s and pages/s;
- CPU seconds per sheet of the scanning process (the station: triage, sending files,
  writing the store; from RUSAGE_CHILDREN, it is the only child that ends in the run);
- CPU seconds per sheet of the Dask workers (reading, OCR; from psutil over the worker
  processes, including their waited-for pdfimages/tesseract children);
- what was read (pages read / not read, sheets) from the summary.

CPU seconds do not depend on other users' load; wall time does (the load average at the
start is printed beside each run). From the CPU figures it projects what a province's
intake (50,000 sheets a day) needs.

Usage:
    .venv/bin/python benchmarks/dask_scan.py [--sheets 150] [--workers 1,2,4]
        [--store postgresql|sqlite] [--daily 50000] [--hours 8]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHIEU = Path(sys.executable).parent / "phieu"
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests")]

from scan_speed import make_box, parse_summary  # noqa: E402  (the same cached one-PDF box)


def _cpu_seconds(processes) -> float:
    total = 0.0
    for proc in processes:
        try:
            t = proc.cpu_times()
        except Exception:  # a process that ended: psutil.NoSuchProcess
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _cluster_processes():
    import psutil

    return psutil.Process().children(recursive=True)


def run_scan(pdf: Path, form: str, store: str, extra: list[str]) -> dict:
    """`phieu scan pdf EXTRA...` into a fresh workspace on `store`; the measurements."""
    with tempfile.TemporaryDirectory(prefix="phieu-bench-dask-") as tmp:
        ws = Path(tmp) / "ws"
        init = [str(PHIEU), "init", str(ws), "--form", form]
        init += ["--store", store] if store else []
        subprocess.run(init, check=True, capture_output=True)
        workers = _cluster_processes()
        load = os.getloadavg()[0]
        workers_before = _cpu_seconds(workers)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([str(PHIEU), "scan", str(pdf), *extra], cwd=ws, text=True,
                              capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = _cpu_seconds(workers) - workers_before
        if proc.returncode != 0:
            raise SystemExit(f"phieu scan failed ({proc.returncode}):\n{proc.stderr}")
    out = proc.stdout
    counts = parse_summary(out)
    return {
        "load": load,
        "wall": wall,
        "station_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "workers_cpu": workers_cpu,
        "pages_read": counts["pages_read"],
        "pages_failed": counts["pages_failed"],
        "sheets": f"{counts['sheets']} ({counts['sheet_states']})",
        "summary": out,
    }


def run_on_cluster(pdf: Path, form: str, store: str, workers: int) -> dict:
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=":0") as cluster:
        return run_scan(pdf, form, store, ["--workers", cluster.scheduler_address])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sheets", type=int, default=150)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--local-jobs", type=int, default=2,
                        help="also a local run with this --jobs (0: none)")
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--form", default="mot-cua")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--daily", type=int, default=50_000, help="sheets a day to plan for")
    parser.add_argument("--hours", type=float, default=8.0, help="working hours in that day")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "phieu-bench")
    args = parser.parse_args()

    pdf, gen_s = make_box(args.form, args.sheets, args.seed, args.cache)
    print(f"box: {pdf} ({pdf.stat().st_size / 1e6:.0f} MB, {args.sheets} sheets of {args.form}"
          + (f", generated in {gen_s:.0f} s)" if gen_s else ", cached)"))
    server = None
    if args.store == "postgresql":
        from postgres_support import PostgresServer

        server = PostgresServer.start()
    try:
        def store() -> str:
            return server.new_database(f"bench_{uuid.uuid4().hex}") if server else ""

        rows = []
        if args.local_jobs:
            r = run_scan(pdf, args.form, store(), ["--jobs", str(args.local_jobs)])
            rows.append((f"local --jobs {args.local_jobs}", r))
            print(r["summary"], file=sys.stderr)
        for n in (int(w) for w in args.workers.split(",") if w):
            r = run_on_cluster(pdf, args.form, store(), n)
            rows.append((f"Dask, {n} worker{'s' if n > 1 else ''}", r))
            print(r["summary"], file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    _table(rows, args.sheets)
    _projection([r for name, r in rows if name.startswith("Dask")], args)


def _table(rows, sheets: int) -> None:
    print("\n| run | wall (s) | sheets/s | station CPU s/sheet | workers CPU s/sheet "
          "| pages read / not read | sheets | load avg at start |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['wall']:.1f} | {sheets / r['wall']:.2f} | "
              f"{r['station_cpu'] / sheets:.3f} | {r['workers_cpu'] / sheets:.3f} | "
              f"{r['pages_read']} / {r['pages_failed']} | {r['sheets']} | {r['load']:.1f} |")


def _projection(dask_rows, args) -> None:
    if not dask_rows:
        return
    per_sheet_workers = sum(r["workers_cpu"] for r in dask_rows) / (args.sheets * len(dask_rows))
    per_sheet_station = sum(r["station_cpu"] for r in dask_rows) / (args.sheets * len(dask_rows))
    seconds = args.hours * 3600
    print(f"\n{args.daily} sheets in {args.hours:g} h = {args.daily / seconds:.2f} sheets/s:")
    print(f"- reading: {per_sheet_workers:.3f} CPU s/sheet (mean of the Dask runs) -> "
          f"{args.daily * per_sheet_workers / 3600:.1f} CPU-hours, "
          f"{args.daily * per_sheet_workers / seconds:.1f} busy cores")
    print(f"- station (triage, sending, writing the store): {per_sheet_station:.3f} CPU s/sheet "
          f"-> {args.daily * per_sheet_station / seconds:.2f} busy cores in all, "
          f"one station process at most {1 / per_sheet_station:.0f} sheets/s of CPU")


if __name__ == "__main__":
    main()
