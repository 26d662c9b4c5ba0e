"""Comparing what phieu read with the truth of a generated deck: shared by the
accuracy benchmarks (`read_accuracy.py` on `omr.read_page`, `scan_accuracy.py`
through the CLI's exports).

- `edit_distance`: Levenshtein distance, the numerator of a character error rate;
- `normalise`: comment text compared with whitespace collapsed (the writer breaks
  lines where the field is full, Tesseract where it sees them);
- `share`: "n/d (p%)" for the benchmarks' tables.
"""
from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insert, delete, substitute)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalise(text: str) -> str:
    """Whitespace collapsed: line breaks are the writer's, not the reader's."""
    return " ".join(text.split())


def share(n: int, d: int) -> str:
    """`n` of `d` with its percentage, or "-" when there is nothing to count."""
    return f"{n}/{d} ({100.0 * n / d:.2f}%)" if d else "-"
