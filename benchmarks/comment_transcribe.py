"""Does pre-filling a comment's OCR text save a clerk keystrokes? The figures behind
`pipeline.review.suggest.PREFILL_MIN_CONFIDENCE`.

    .venv/bin/python benchmarks/comment_transcribe.py --sheets 60 --seed 11

Every written comment of a generated deck (both shipped forms; the comment text is drawn
in imitated handwriting FONTS, not written by hand) is read as the scanner reads it; the
comments the reader flags are the ones a clerk keys. For each, the keystrokes of:

- typing the truth into an empty box (Telex: a base letter 1 key, a vowel mark or đ one
  more, a tone one more), then Enter;
- starting from the OCR text: the cheaper of correcting it (a weighted edit distance:
  typing a character costs its Telex keys, deleting one costs 1, plus `NAV_KEYS` to move
  the cursor to each separate stretch of words that differs) and of clearing it (Ctrl+A,
  1) and typing, then Enter.

Printed per band of OCR confidence: comments, mean keys typed from empty, mean keys from
the suggestion, and the share of suggestions a clerk could confirm unchanged. The model
leaves out reading time (a suggestion must be read before it is corrected).
"""
from __future__ import annotations

import argparse
import difflib
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import FORMS, ensure_deck, prepare_deck_templates, read_deck  # noqa: E402
from truth_compare import normalise  # noqa: E402

NAV_KEYS = 2  # moving the cursor to a stretch to correct (Ctrl+arrow jumps, End, Home)
BANDS = (0.0, 50.0, 70.0, 80.0, 88.0, 101.0)
# Vowel marks Telex types with one more key (aa, aw, ee, oo, ow, uw, dd).
_MARKS = {"\u0302", "\u0306", "\u031b"}
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def telex_keys(ch: str) -> int:
    """Keystrokes to type `ch` with Telex (the usual Vietnamese input method)."""
    if ch in "đĐ":
        return 2
    parts = unicodedata.normalize("NFD", ch)
    return 1 + sum(p in _MARKS for p in parts[1:]) + sum(p in _TONES for p in parts[1:])


def typing_keys(text: str) -> int:
    return sum(telex_keys(c) for c in text)


def correction_keys(suggestion: str, truth: str) -> int:
    """Weighted edit distance from `suggestion` to `truth`, plus `NAV_KEYS` per separate
    stretch of differing words."""
    prev = [0]
    for c in truth:
        prev.append(prev[-1] + telex_keys(c))
    for a in suggestion:
        cur = [prev[0] + 1]
        for j, b in enumerate(truth, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + telex_keys(b),
                           prev[j - 1] + (0 if a == b else telex_keys(b))))
        prev = cur
    runs = sum(1 for op in difflib.SequenceMatcher(None, suggestion.split(), truth.split())
               .get_opcodes() if op[0] != "equal")
    return prev[-1] + NAV_KEYS * runs


def collect(sheets: int, seed: int, dpi: int) -> list[tuple[str, str, float, bool]]:
    """(truth, OCR text, confidence, flagged) of every written comment read as written."""
    catalog = prepare_deck_templates()
    rows = []
    for form_id in FORMS:
        out, truth = ensure_deck(form_id, sheets, seed, dpi)
        for rp in read_deck(out, truth, catalog, ocr=True):
            reading = rp.reading
            if not reading or reading.identity.serial != rp.truth.serial:
                continue
            decided = {q.question: q for q in reading.questions}
            for t in reading.texts:
                qt = next(q for q in rp.sheet.questions if q.question == t.question)
                if t.blank or not qt.text.strip():
                    continue
                rows.append((normalise(qt.text), normalise(t.text), t.confidence,
                             decided[t.question].status == "flagged"))
    return rows


def report(rows: list[tuple[str, str, float, bool]]) -> None:
    print(f"{len(rows)} written comments, {sum(r[3] for r in rows)} flagged for a clerk")
    print("confidence band | comments | flagged | keys from empty | keys from suggestion | "
          "suggestion exact")
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        band = [r for r in rows if low <= r[2] < high]
        if not band:
            continue
        empty = [typing_keys(t) + 1 for t, _, _, _ in band]
        fixed = [min(correction_keys(s, t), 1 + typing_keys(t)) + 1 for t, s, _, _ in band]
        exact = sum(s == t for t, s, _, _ in band)
        print(f"[{low:g}, {min(high, 100):g}{')' if high <= 100 else ']'} | {len(band)} | "
              f"{sum(r[3] for r in band)} | {sum(empty) / len(band):.1f} | "
              f"{sum(fixed) / len(band):.1f} | {exact}/{len(band)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=60, help="sheets per form")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    report(collect(args.sheets, args.seed, args.dpi))


if __name__ == "__main__":
    main()
