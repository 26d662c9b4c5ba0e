"""Speed of reading one page, on one core: pages per second at 200 and 300 dpi
(decode included, OCR excluded), where the time goes, the floor (decoding
alone), OCR time per written comment, and zxing-cpp vs OpenCV on our QR codes.

    .venv/bin/python benchmarks/read_speed.py --sheets 10 --repeats 15 --dpi 200 --steps-only

Each round is a read pass then a decode-only pass over the same pages, so the
floor is measured beside the reads it is compared with (this VM's speed drifts
within a minute); the figures are medians over the rounds.

Another version of the reader is measured with this script by putting its tree
first on the path (`PYTHONPATH=/tmp/before`); `--steps-only` leaves out the
profile, the OCR times and the QR decoder trial.

Pages are feeder scans (JPEG, as the generator writes them) of both shipped
forms, filled by `fixtures`. OpenCV is held to one thread (`cv2.setNumThreads(1)`)
so the figure is per core, as the pipeline runs one reader per core.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import CACHE, FORMS, fingerprint, prepare_deck_templates  # noqa: E402

from fixtures.box import make_ballot_box  # noqa: E402
from fixtures.truth import load_truth  # noqa: E402
from forms.identity import decode_payload  # noqa: E402
from omr import Catalog, decode_image, read_page  # noqa: E402
from omr.align import CHECK_STAGE, measure, quick_check  # noqa: E402
from omr.coverage import TARGET_REACH_MM, fold_extent, folded_questions, judge_folds, outside_capture  # noqa: E402
from omr.decide import decide  # noqa: E402
from omr.decode import to_grey  # noqa: E402
from omr.identify import identify, qr_crop  # noqa: E402
from omr.ink import page_ink_in_view  # noqa: E402
from omr.read_page import FOLD_REACH_MM, scored_areas  # noqa: E402
from omr.register import detect_markers, pyramid, register  # noqa: E402
from omr.score import score_targets  # noqa: E402
from omr.streaks import find_streaks, remove_streaks  # noqa: E402
from omr.text import ocr_crop, ocr_text, read_text_fields  # noqa: E402


def scan_pages(dpi: int, sheets: int, seed: int) -> list[bytes]:
    """JPEG bytes of feeder-scanned pages of both forms at `dpi` (cached, under
    the form layout's fingerprint: pages printed from an older layout fail the
    print check after a costly refit, and timing them measures nothing)."""
    pages = []
    for form_id in FORMS:
        out = CACHE / f"speed-{form_id}-s{sheets}-seed{seed}-dpi{dpi}-{fingerprint(form_id)}"
        if not (out / "truth.json").exists():
            make_ballot_box(form_id, sheets, out, seed=seed, dpi=dpi, mix={"scan": 1.0},
                            formats=("jpg",), comment_rate=0.5)
        truth = load_truth(out / "truth.json")
        pages += [(out / p.file).read_bytes() for p in truth.pages]
    return pages


@dataclass(frozen=True)
class Passes:
    """Read passes (decode + read, no OCR) interleaved with decode-only passes
    over the same pages: this VM's speed drifts by 20-30 % within a minute (the
    decode floor alone has read 8.2-11.8 ms a page in one run), so the two are
    timed in turn, round after round, and their medians compared."""

    read_rates: list[float]  # pages/s of each read pass (wall)
    read_cpu_ms: list[float]  # this process's CPU ms a page, each read pass
    decode_rates: list[float]  # pages/s of each decode-only pass (wall)

    @property
    def rate(self) -> float:
        return statistics.median(self.read_rates)

    @property
    def floor(self) -> float:
        return statistics.median(self.decode_rates)

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.read_cpu_ms)

    @property
    def floor_ratio(self) -> float:
        """Median over rounds of a read pass's time over the decode pass's
        beside it: the reading's cost in units of the machine's own decode."""
        return statistics.median(d / r for r, d in zip(self.read_rates, self.decode_rates))


def timed_passes(pages: list[bytes], catalog: Catalog, repeats: int) -> Passes:
    """`repeats` rounds, each a read pass then a decode-only pass (`Passes`)."""
    read_rates, cpu, decode_rates = [], [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for data in pages:
            read_page(decode_image(data), catalog, ocr=False)
        read_rates.append(len(pages) / (time.perf_counter() - start))
        cpu.append(1000.0 * (time.process_time() - start_cpu) / len(pages))
        start = time.perf_counter()
        for data in pages:
            decode_image(data)
        decode_rates.append(len(pages) / (time.perf_counter() - start))
    return Passes(read_rates, cpu, decode_rates)


def step_times(pages: list[bytes], catalog: Catalog) -> dict[str, tuple[float, float]]:
    """Mean milliseconds per page of each step of `read_page`, timed one by one:
    (wall, this process's CPU). On a shared machine the CPU time moves least."""
    totals: dict[str, tuple[float, float]] = {}

    def timed(name: str, fn, *args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        wall, cpu = totals.get(name, (0.0, 0.0))
        totals[name] = (wall + time.perf_counter() - start, cpu + time.process_time() - start_cpu)
        return result

    def print_check(registration, page, shape):
        tiles = page.print_tiles
        return quick_check(registration, tiles, shape) or measure(
            registration.half, tiles.at(CHECK_STAGE), registration.homography, shape)

    def coverage(registration, page, shape):
        areas = [(t.question, t.bbox_mm, TARGET_REACH_MM) for t in page.geometry.targets]
        outside_capture(areas, registration.homography, shape)
        cells = judge_folds(registration.half, page.folds, registration.homography, shape)
        folded_questions(fold_extent(cells), [(t.question, t.bbox_mm, FOLD_REACH_MM) for t in page.geometry.targets])

    for data in pages:
        image = timed("decode", decode_image, data)
        grey = timed("to grey", to_grey, image)
        grey = timed("scanner streaks", lambda g: remove_streaks(g, find_streaks(g)), grey)
        levels = timed("markers (pyramid, detection)", pyramid, grey)
        found = timed("markers (pyramid, detection)", detect_markers, grey, levels)
        registration = timed("register (homography, warp)", register, grey, levels, found)
        identity = timed("identify (QR)", identify, grey, registration, catalog.qr_boxes())
        template = catalog.get(identity.form_id, identity.version)
        page = template.pages[identity.page]
        timed("print check (sample or grid)", print_check, registration, page, grey.shape)
        ink = timed("page ink (paper, black, blur)", page_ink_in_view, registration, page)
        scored = timed("warp the scored areas", registration.page.ensure, scored_areas(page))
        measures = timed("score targets", score_targets, scored, page, ink)
        timed("decide", decide, measures, template.question_types(), template.target_shapes())
        timed("text fields (blank check)", read_text_fields, grey, registration, page, ocr=False, ink=ink)
        timed("off page and folds", coverage, registration, page, grey.shape)
    return {k: (1000.0 * wall / len(pages), 1000.0 * cpu / len(pages)) for k, (wall, cpu) in totals.items()}


def profile(pages: list[bytes], catalog: Catalog, top: int = 14) -> str:
    """cProfile's top functions by internal time over one pass."""
    prof = cProfile.Profile()
    prof.enable()
    for data in pages:
        read_page(decode_image(data), catalog, ocr=False)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def ocr_times(pages: list[bytes], catalog: Catalog) -> list[float]:
    """Seconds of OCR (crop + Tesseract) per written comment field."""
    times = []
    for data in pages:
        grey = to_grey(decode_image(data))
        registration = register(grey)
        identity = identify(grey, registration, catalog.qr_boxes())
        if not registration or not identity:
            continue
        page = catalog.get(identity.form_id, identity.version).pages[identity.page]
        for reading, tt in zip(read_text_fields(grey, registration, page, ocr=False), page.texts):
            if reading.blank:
                continue
            start = time.perf_counter()
            ocr_text(ocr_crop(grey, registration, tt))
            times.append(time.perf_counter() - start)
    return times


def qr_trial(pages: list[bytes], catalog: Catalog) -> dict[str, tuple[int, int, float]]:
    """Decoders on the QR crop and on the whole page: (read, tried, ms each)."""
    opencv = cv2.QRCodeDetector()
    out: dict[str, list] = {k: [0, 0, 0.0] for k in ("zxing crop", "opencv crop", "zxing page", "opencv page")}
    box = catalog.qr_boxes()[0]
    for data in pages:
        grey = to_grey(decode_image(data))
        registration = register(grey)
        if not registration:
            continue
        crop = qr_crop(grey, registration, box)
        for name, image in (("crop", crop), ("page", grey)):
            start = time.perf_counter()
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            ok = any(decode_payload(r.text) for r in found)
            _add(out[f"zxing {name}"], ok, time.perf_counter() - start)
            start = time.perf_counter()
            text, _, _ = opencv.detectAndDecode(image)
            _add(out[f"opencv {name}"], bool(text) and decode_payload(text) is not None, time.perf_counter() - start)
    return {k: (v[0], v[1], 1000.0 * v[2] / max(1, v[1])) for k, v in out.items()}


def _add(acc: list, ok: bool, seconds: float) -> None:
    acc[0] += ok
    acc[1] += 1
    acc[2] += seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=20, help="sheets per form per resolution")
    ap.add_argument("--repeats", type=int, default=9, help="rounds of a read pass and a decode pass")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300], help="resolutions to measure")
    ap.add_argument("--steps-only", action="store_true", help="pages/s and steps only: no profile, OCR or QR trial")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    catalog = prepare_deck_templates()
    for dpi in args.dpi:
        pages = scan_pages(dpi, args.sheets, args.seed)
        unread = sum(not read_page(decode_image(p), catalog, ocr=False) for p in pages)
        if unread:
            print(f"warning: {unread} of {len(pages)} pages not read: the figures below time failures too")
        passes = timed_passes(pages, catalog, args.repeats)
        print(f"\n## {dpi} dpi: {len(pages)} pages (JPEG, {np.mean([len(p) for p in pages]) / 1e3:.0f} kB avg)")
        print(f"read (decode included, OCR excluded): median {passes.rate:.1f} pages/s "
              f"({1000 / passes.rate:.1f} ms/page); passes: {', '.join(f'{r:.1f}' for r in passes.read_rates)}; "
              f"CPU {passes.cpu_ms:.1f} ms/page (median)")
        print(f"decode alone (the floor), passes interleaved with the reads: median {passes.floor:.1f} pages/s "
              f"({1000 / passes.floor:.1f} ms/page); passes: {', '.join(f'{r:.1f}' for r in passes.decode_rates)}")
        print(f"a page's read over its decode, median of the rounds: {passes.floor_ratio:.2f}")
        print(f"mean ms per page by step: {'wall':>6s} {'CPU':>6s}")
        for name, (wall, cpu) in step_times(pages, catalog).items():
            print(f"  {name:40s} {wall:6.2f} {cpu:6.2f}")
        if dpi == 200 and not args.steps_only:
            print("\nprofile (one pass, by internal time):")
            print(profile(pages, catalog))
            times = ocr_times(pages, catalog)
            if times:
                print(f"OCR per written comment: median {statistics.median(times):.2f} s, "
                      f"max {max(times):.2f} s over {len(times)} comments")
            print("\nQR decoders on these pages (read / tried, ms each):")
            for name, (ok, n, ms) in qr_trial(pages, catalog).items():
                print(f"  {name:12s} {ok}/{n}  {ms:.1f} ms")


if __name__ == "__main__":
    main()
