"""Whether two versions of the reader read alike, target by target: for a change
meant to make reading faster without changing any decision.

    # read_styles.py caches its readings under the scoring code's hash: run it
    # on each version, then compare the two caches of a deck
    .venv/bin/python benchmarks/readings_diff.py styles OLD.pkl NEW.pkl
    # scan_accuracy.py --keep DIR writes every target's score and state, the
    # answers and the exports: run it on each version into two folders
    .venv/bin/python benchmarks/readings_diff.py scan OLD_DIR NEW_DIR

`styles`: every page of the deck (the same pages read, the same pages not read
and why), every target's state, `filled`, snap offset, score, solid and each
part of its digit evidence; states must be equal, numbers are counted as equal,
as differing only in their last rounded digit (floating-point noise), or as
differing more. `scan`: every file `--keep` writes, line by line, except the
timings in pages.csv and the temporary survey folder's name. Exits 1 when any state, answer or export differs.
"""
from __future__ import annotations

import argparse
import math
import pickle
import re
import sys
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from omr.reading import DigitEvidence, TargetScore  # noqa: E402

NOISE = 1.01e-3  # the last digit of a number rounded to 3 places (or finer)


def _numbers(t: TargetScore) -> dict[str, float]:
    """A target's numbers by name (its digit evidence's parts prefixed `digit.`)."""
    out = {"score": t.score, "solid": t.solid, "offset_x": t.offset_mm[0], "offset_y": t.offset_mm[1]}
    if t.digit is not None:
        out.update({f"digit.{f.name}": getattr(t.digit, f.name) for f in fields(DigitEvidence)})
    return out


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


class _Unpickler(pickle.Unpickler):
    """read_styles.py pickles its pages as a script: its classes are `__main__`'s."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__":
            import read_styles

            return getattr(read_styles, name)
        return super().find_class(module, name)


def _load(path: Path) -> Any:
    with path.open("rb") as f:
        return _Unpickler(f).load()


def compare_styles(old_path: Path, new_path: Path) -> int:
    """Print how the readings of one deck differ; the number of differing states."""
    old_pages, old_failures = _load(old_path)
    new_pages, new_failures = _load(new_path)
    problems = 0
    if old_failures != new_failures:
        print(f"pages not read differ: {dict(old_failures)} vs {dict(new_failures)}")
        problems += 1
    old_keys = [(p.form, p.sheet.serial, len(p.targets)) for p in old_pages]
    new_keys = [(p.form, p.sheet.serial, len(p.targets)) for p in new_pages]
    if old_keys != new_keys:
        print("the pages read differ")
        return problems + 1
    counts: Counter[str] = Counter()
    examples: list[str] = []
    for old, new in zip(old_pages, new_pages):
        if old.covered != new.covered:
            problems += 1
            examples.append(f"{old.form} {old.sheet.serial}: covered {sorted(old.covered)} vs {sorted(new.covered)}")
        for a, b in zip(old.targets, new.targets):
            counts["targets"] += 1
            where = f"{old.form} {old.sheet.serial} {a.question}={a.option}"
            if (a.question, a.option) != (b.question, b.option) or a.state != b.state or a.filled != b.filled:
                problems += 1
                counts["state differs"] += 1
                examples.append(f"{where}: {a.state} -> {b.state}")
            for name, x in _numbers(a).items():
                y = _numbers(b).get(name, float("nan"))
                if _same(x, y):
                    continue
                kind = "noise" if abs(x - y) <= NOISE else "more"
                counts[f"number differs ({kind})"] += 1
                if kind == "more" or len(examples) < 20:
                    examples.append(f"{where}: {name} {x} -> {y}")
    print(f"{old_path.name} vs {new_path.name}: {len(old_pages)} pages read, not read {dict(old_failures)}; "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for e in examples[:40]:
        print("  " + e)
    return problems


def _lines(path: Path) -> list[str]:
    # The survey's folder is a new temporary one on every run (image paths name it).
    lines = [re.sub(r"phieu-acc-[^/]+/", "phieu-acc-*/", line)
             for line in path.read_text(encoding="utf-8-sig").splitlines()]
    if path.name != "pages.csv" or not lines:
        return lines
    header = lines[0].split(",")
    drop = {i for i, name in enumerate(header) if name in {"seconds", "scanned_at"}}
    return [",".join(v for i, v in enumerate(line.split(",")) if i not in drop) for line in lines]


def compare_scan(old_dir: Path, new_dir: Path) -> int:
    """Print which kept files of two `scan_accuracy.py --keep` runs differ; their number."""
    problems = 0
    for old in sorted(old_dir.iterdir()):
        new = new_dir / old.name
        a, b = _lines(old), _lines(new) if new.exists() else []
        same = sum(x == y for x, y in zip(a, b))
        if a == b:
            print(f"{old.name}: {len(a)} lines, identical")
            continue
        problems += 1
        print(f"{old.name}: {len(a)} vs {len(b)} lines, {same} equal")
        for x, y in [(x, y) for x, y in zip(a, b) if x != y][:10]:
            print(f"  - {x}\n  + {y}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("styles", "scan"))
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    args: Any = ap.parse_args(argv)
    problems = compare_styles(args.old, args.new) if args.kind == "styles" else compare_scan(args.old, args.new)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
