"""Two versions of the reader on the same pages, compared target by target: a
change meant to make reading faster must not change what is read.

    git archive 7639d00 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python benchmarks/read_decisions.py /tmp/before .

The pages are those of three benchmarks, loaded once here and written as
lossless PNG files, so both versions read the very same pixels:

- `styles`: the wider-mark decks of `read_styles.py` (`style_deck.py`, both
  forms, `--styles-sheets` sheets of each seed in `--styles-seeds`);
- `scan`: the boxes `scan_accuracy.py` makes with `phieu synth` (`--scan-sheets`,
  `--scan-seed`; its hard mix, PDF/TIFF/JPEG files), loaded page by page as the
  pipeline loads them (`pipeline.scan.inputs.load_page` at the default scan dpi);
- `print`: the decks of `read_by_print.py` with each page's QR code painted over
  (`paint_over_qr`), so the page is identified and registered by its print.

Each version (a source tree) reads every page in its own process (`omr.read_page`,
OCR off, OpenCV on one thread). Per page the outcome (read, or the failure's
reason), identity and registration (`PageQuality`) are compared; per target its
state (the decision) and its raw score; per question its status, value and
reasons; per text field blank or written, its ink and the crop shown for review
(and, for a page read by its print, the reading it carries). Exit status 1 when
any decision differs.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import pickle
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageRecord:
    """What one version read on one page, in plain values (the two versions'
    classes are not the same classes)."""

    outcome: str  # "read", or the failure's reason
    identity: tuple | None = None
    quality: tuple | None = None
    # (question, option) -> (state, the raw TargetScore's repr)
    targets: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # question -> (status, value, reasons)
    questions: dict[str, tuple] = field(default_factory=dict)
    # question -> (blank, ink, sha1 of the review crop or "")
    texts: dict[str, tuple] = field(default_factory=dict)


def _record(reading: Any) -> PageRecord:
    failed = not reading
    read = reading.reading if failed else reading
    outcome = str(reading.reason) if failed else "read"
    if read is None:
        quality = getattr(reading, "quality", None)
        return PageRecord(outcome, quality=None if quality is None else tuple(asdict(quality).values()))
    crop = {t.question: hashlib.sha1(t.crop.tobytes()).hexdigest() if t.crop is not None else "" for t in read.texts}
    return PageRecord(
        outcome,
        tuple(asdict(read.identity).values()),
        tuple(asdict(read.quality).values()),
        {(t.question, t.option): (str(t.state), repr(t)) for t in read.targets},
        {q.question: (str(q.status), q.value, q.reasons) for q in read.questions},
        {t.question: (t.blank, t.ink, crop[t.question]) for t in read.texts},
    )


def worker(src: str, manifest: Path, out: Path) -> None:
    """Read every page listed in `manifest` with the reader of source tree `src`."""
    sys.path[:0] = [src, src + "/benchmarks"]
    import cv2

    cv2.setNumThreads(1)
    from read_deck import prepare_deck_templates

    import omr
    from omr import read_page

    if not omr.__file__ or not omr.__file__.startswith(src):
        raise SystemExit(f"omr imported from {omr.__file__}, not from {src}")
    catalog = prepare_deck_templates()
    records = {}
    for line in manifest.read_text().splitlines():
        label, path = line.split("\t")
        grey = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        records[label] = _record(read_page(grey, catalog, ocr=False))
    out.write_bytes(pickle.dumps(records))


def style_pages(sheets: int, seeds: list[int]) -> Iterator[tuple[str, Any]]:
    from read_deck import FORMS
    from style_deck import ensure_style_deck

    from omr import decode_image

    for seed in seeds:
        for form_id in FORMS:
            out, truth = ensure_style_deck(form_id, sheets, seed)
            for page in truth.pages:
                yield f"styles/{seed}/{form_id}/{page.file}", decode_image((out / page.file).read_bytes())


def scan_pages(sheets: int, seed: int) -> Iterator[tuple[str, Any]]:
    from scan_accuracy import FORMS, HARD_MIX, make_box

    from pipeline.scan.inputs import count_pages, load_page, probe, scanned_pdf_pages
    from pipeline.store.survey import DEFAULT_SCAN_DPI

    cache = Path(tempfile.gettempdir()) / "phieu-scan-accuracy"
    for form_id in FORMS:
        box = make_box(form_id, sheets, seed, 200, HARD_MIX, cache)
        for path in sorted(p for p in box.iterdir() if p.name != "truth.json"):
            source = probe(path)
            count = count_pages(source)
            assert isinstance(count, int), count
            direct = scanned_pdf_pages(path, count) if source.kind == "pdf" else {}
            for index in range(1, count + 1):
                grey = load_page(path, source.kind, index, DEFAULT_SCAN_DPI, direct.get(index, 0.0))
                assert not hasattr(grey, "reason"), grey
                yield f"scan/{form_id}/{path.name}/{index}", grey


def print_pages(sheets: int, seed: int, mix: str) -> Iterator[tuple[str, Any]]:
    from read_by_print import paint_over_qr
    from read_deck import FORMS, ensure_deck

    from fixtures.box import mix_from_text
    from omr import decode_image

    for form_id in FORMS:
        out, truth = ensure_deck(form_id, sheets, seed, 200, mix_from_text(mix))
        for n, page in enumerate(truth.pages):
            damaged = paint_over_qr(decode_image((out / page.file).read_bytes()), n)
            if damaged is not None:
                yield f"print/{form_id}/{page.file}", damaged


def write_pages(pages: Iterable[tuple[str, Any]], folder: Path) -> Path:
    """Every page as a PNG file in `folder`, listed (label, path) in its manifest."""
    import cv2

    lines = []
    for i, (label, grey) in enumerate(pages):
        path = folder / f"{i:05d}.png"
        cv2.imwrite(str(path), grey, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        lines.append(f"{label}\t{path}")
    manifest = folder / "manifest.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def compare(a: dict[str, PageRecord], b: dict[str, PageRecord]) -> tuple[Counter, list[str]]:
    """Counts of what was compared and what differs, and the differences (decisions first)."""
    c: Counter = Counter()
    decisions, raw = [], []
    for label in a:
        x, y = a[label], b[label]
        deck = label.split("/")[0]
        c[f"{deck} pages"] += 1
        c[f"{deck} pages {x.outcome}"] += 1
        if (x.outcome, x.identity) != (y.outcome, y.identity):
            decisions.append(f"{label}: {x.outcome} {x.identity} -> {y.outcome} {y.identity}")
        if x.quality != y.quality:
            raw.append(f"{label}: quality {x.quality} -> {y.quality}")
        for key in sorted(set(x.targets) | set(y.targets)):
            c[f"{deck} targets"] += 1
            s, t = x.targets.get(key), y.targets.get(key)
            if s is None or t is None or s[0] != t[0]:
                decisions.append(f"{label} {key}: {s and s[0]} -> {t and t[0]}")
            elif s[1] != t[1]:
                raw.append(f"{label} {key}: {s[1]} -> {t[1]}")
        for q in sorted(set(x.questions) | set(y.questions)):
            c[f"{deck} questions"] += 1
            if x.questions.get(q) != y.questions.get(q):
                decisions.append(f"{label} {q}: {x.questions.get(q)} -> {y.questions.get(q)}")
        for q in sorted(set(x.texts) | set(y.texts)):
            c[f"{deck} text fields"] += 1
            s, t = x.texts.get(q), y.texts.get(q)
            if s is None or t is None or s[0] != t[0]:
                decisions.append(f"{label} {q}: blank {s and s[0]} -> {t and t[0]}")
            elif s != t:
                raw.append(f"{label} {q}: text {s} -> {t}")
    c["decisions differing"] = len(decisions)
    c["raw values differing (scores, quality, ink, crops)"] = len(raw)
    return c, decisions + raw


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="*", help="the two source trees: before, after")
    ap.add_argument("--styles-sheets", type=int, default=60)
    ap.add_argument("--styles-seeds", type=int, nargs="*", default=[31, 32])
    ap.add_argument("--scan-sheets", type=int, default=20)
    ap.add_argument("--scan-seed", type=int, default=33)
    ap.add_argument("--print-sheets", type=int, default=20)
    ap.add_argument("--print-seed", type=int, default=21)
    ap.add_argument("--print-mix", default="tight=0.35,corners_out=0.35,scan=0.3")
    ap.add_argument("--decks", nargs="+", default=["styles", "scan", "print"], choices=["styles", "scan", "print"])
    ap.add_argument("--show", type=int, default=20, help="differences listed")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), Path(args.worker[2]))
        return 0
    if len(args.trees) != 2:
        ap.error("give two source trees: before, after")
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    import cv2

    cv2.setNumThreads(1)
    decks = {
        "styles": lambda: style_pages(args.styles_sheets, args.styles_seeds),
        "scan": lambda: scan_pages(args.scan_sheets, args.scan_seed),
        "print": lambda: print_pages(args.print_sheets, args.print_seed, args.print_mix),
    }
    pages = itertools.chain.from_iterable(decks[name]() for name in args.decks)
    with tempfile.TemporaryDirectory(prefix="phieu-decisions-") as tmp:
        folder = Path(tmp)
        manifest = write_pages(pages, folder)
        trees = [str(Path(t).resolve()) for t in args.trees]
        outs = [folder / f"records-{i}.pkl" for i in range(2)]
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", t, str(manifest), str(o)])
                 for t, o in zip(trees, outs)]
        if any(p.wait() != 0 for p in procs):
            raise SystemExit("a reader failed")
        before, after = (pickle.loads(o.read_bytes()) for o in outs)
    counts, differences = compare(before, after)
    print(f"before: {trees[0]}\nafter:  {trees[1]}")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    for line in differences[:args.show]:
        print("  " + line)
    return 1 if counts["decisions differing"] else 0


if __name__ == "__main__":
    sys.exit(main())
