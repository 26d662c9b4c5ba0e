"""Keying a comment: what the box holds when a clerk opens a comment to transcribe.

The OCR text is put in the box only when starting from it saves keystrokes: correcting a
suggestion costs its errors plus moving to each, and a garbled one costs a select-all on
top of typing; worse, a clerk may confirm it unread. Below `PREFILL_MIN_CONFIDENCE` the box
starts empty and the OCR text is shown beside it, to read, not to edit.
"""
from __future__ import annotations

from omr.text import looks_like_words

# Measured with benchmarks/comment_keying.py --sheets 60 --seed 11 (BENCHMARKS.md "Keying
# comments"): of the 11 comments that deck sends to a clerk, starting from the suggestion
# took a mean 44.5 keys instead of 114 at confidence 50-70, 27 instead of 78.5 at 70-80 and
# 12 instead of 75 at 80-88 (Telex keys; correcting, or clearing and retyping when cheaper).
# No comment of that deck was read below 50, so nothing shows a suggestion saves keys
# there: below 50 the box starts empty. The deck's handwriting is font-made; real hands read
# far worse (issue 14: 63.5 % CER), so re-measure on real ballots before trusting a lower one.
PREFILL_MIN_CONFIDENCE = 50.0


def suggestion(ocr_text: str | None, confidence: float | None) -> str:
    """The text to pre-fill a comment's box with: the OCR text when it reads as words and
    its confidence is at least `PREFILL_MIN_CONFIDENCE`, else ""."""
    if not ocr_text or confidence is None or confidence < PREFILL_MIN_CONFIDENCE:
        return ""
    return ocr_text if looks_like_words(ocr_text) else ""
