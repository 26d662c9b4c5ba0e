"""Benchmark: how fast a phone photo gets its answer, and how fast `phieu read` and
`phieu scan` start from a cold and a warm blank cache.

1. **Capture**: a review server (real HTTP, werkzeug threaded, on loopback) with a fresh
   mot-cua survey; the capture page is opened (which prepares the forms in the
   background) and `--photos` generated phone photos (`fixtures`, capture kind `phone`)
   are posted one after another as the page's script does (multipart, session cookie,
   CSRF header). Timed: from the start of the upload to the whole JSON answer received,
   on the client. The first photo is reported apart (the store's statements are
   compiled then).
2. **`phieu read IMAGE`** (all shipped forms, OCR on) of one scanned page, and
   **`phieu scan`** of the same page into a fresh workspace (one form), as subprocesses
   timed from start to exit: cold = an empty `PHIEU_CACHE_DIR`, warm = the same folder
   after a first run. `--runs` runs each; medians of the wall time and of the CPU time of
   the process tree (user + system, pdftoppm included: what the run costs whatever else
   the shared machine is doing). Also `prepare_templates` of the shipped forms alone,
   in process, from an empty and a filled cache.

Usage:
    .venv/bin/python benchmarks/capture_speed.py [--photos 8] [--runs 5]

Prints a Markdown table for BENCHMARKS.md ("Capture and start-up"). The machine is
shared: the load average is printed with each figure.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PHIEU = Path(sys.executable).parent / "phieu"


def _multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def capture_times(photos: list[Path], root: Path) -> tuple[float, list[float], list[str]]:
    """(first photo's seconds, the others' seconds, each answer's status)."""
    from pipeline.review import make_review_server
    from pipeline.store.survey import init_survey

    survey = init_survey(root / "ws", ["mot-cua"])
    running = make_review_server(survey, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        page = opener.open(running.url + "capture").read().decode()
        found = re.search(r'data-csrf="([^"]+)"', page)
        assert found is not None, "the capture page carries no CSRF token"
        csrf = found.group(1)
        running.server.app.extensions["phieu_capture"].prepared()  # the page warmed it; wait
        times, statuses = [], []
        for photo in photos:
            body, ctype = _multipart("photo", photo.name, photo.read_bytes())
            request = urllib.request.Request(running.url + "capture/photo", data=body, method="POST",
                                             headers={"Content-Type": ctype, "X-CSRF-Token": csrf})
            start = time.perf_counter()
            answer = json.loads(opener.open(request).read())
            times.append(time.perf_counter() - start)
            statuses.append(answer["status"])
    finally:
        running.shutdown()
    return times[0], times[1:], statuses


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of `phieu ARGS`."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run([str(PHIEU), *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def prepare_times(runs: int, root: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """In this process: `prepare_templates` of every shipped form from an empty cache and
    from a filled one, (wall, CPU incl. pdftoppm) each, `runs` times."""
    from forms.library import list_forms
    from pipeline.scan.templates import prepare_templates

    forms = list_forms()
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    for i in range(runs):
        folder = root / f"prepare-cache-{i}"
        for out in (cold, warm):
            cpu, start = time.process_time() + _children_cpu(), time.perf_counter()
            prepare_templates(forms, cache_dir=folder)
            out.append((time.perf_counter() - start, time.process_time() + _children_cpu() - cpu))
    return cold, warm


Timing = tuple[list[tuple[float, float]], list[tuple[float, float]]]


def startup_times(page: Path, root: Path, runs: int) -> dict[str, Timing]:
    """command -> (cold (wall, CPU) runs, warm (wall, CPU) runs)."""
    out: dict[str, Timing] = {"read": ([], []), "scan": ([], [])}
    for i in range(runs):
        cache = root / f"cache-{i}"
        env = {**os.environ, "PHIEU_CACHE_DIR": str(cache)}
        for state in (0, 1):  # cold (empty cache), then warm (filled by the cold run)
            out["read"][state].append(run_timed(["read", str(page)], env, root))
        for state in (0, 1):
            ws = root / f"ws-{i}-{state}"
            subprocess.run([str(PHIEU), "init", str(ws), "--form", "mot-cua"], check=True,
                           capture_output=True, env=env)
            if state == 0:  # cold again: empty what `read` left
                for entry in (cache / "blanks").glob("*.npz"):
                    entry.unlink()
            out["scan"][state].append(run_timed(["scan", str(page), "--survey", str(ws), "-j", "1"],
                                                env, root))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    opts = parser.parse_args()
    from fixtures.box import make_ballot_box

    with tempfile.TemporaryDirectory(prefix="phieu-capture-bench-") as tmp:
        root = Path(tmp)
        make_ballot_box("mot-cua", opts.photos, root / "phone", seed=opts.seed, mix={"phone": 1.0},
                        formats=("images",), comment_rate=0.4)
        make_ballot_box("mot-cua", 1, root / "scan", seed=opts.seed, mix={"scan": 1.0},
                        formats=("images",), comment_rate=1.0)
        photos = sorted((root / "phone").glob("*.jpg"))
        page = sorted((root / "scan").glob("*.jpg"))[0]
        load = os.getloadavg()[0]
        first, rest, statuses = capture_times(photos, root)
        load_after = os.getloadavg()[0]
        print(f"capture: {len(photos)} photos {statuses}; load {load:.1f} → {load_after:.1f}")
        print("| what | median s | min s | max s | runs |\n|---|---:|---:|---:|---:|")
        print(f"| capture: first photo, upload to answer | {first:.2f} | | | 1 |")
        print(f"| capture: next photos, upload to answer | {statistics.median(rest):.2f} | "
              f"{min(rest):.2f} | {max(rest):.2f} | {len(rest)} |")
        load = os.getloadavg()[0]
        timings = {"prepare_templates (all shipped forms, in process)": prepare_times(opts.runs, root)}
        timings.update({f"`phieu {name}` one page": t
                        for name, t in startup_times(page, root, opts.runs).items()})
        print("\n| what | cache | wall median s (min–max) | CPU median s | runs |\n|---|---|---:|---:|---:|")
        for name, (cold, warm) in timings.items():
            for label, values in (("cold", cold), ("warm", warm)):
                walls, cpus = [w for w, _ in values], [c for _, c in values]
                print(f"| {name} | {label} | {statistics.median(walls):.2f} ({min(walls):.2f}–"
                      f"{max(walls):.2f}) | {statistics.median(cpus):.2f} | {len(values)} |")
        print(f"load average {load:.1f} → {os.getloadavg()[0]:.1f} (2 cores, shared)")


if __name__ == "__main__":
    main()
