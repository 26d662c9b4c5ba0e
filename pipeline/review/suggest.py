"""Keying a comment: what the box holds when a clerk opens a comment to transcribe.

The OCR text is put in the box only when starting from it saves keystrokes: correcting a
suggestion costs its errors plus moving to each, and a garbled one costs a select-all on
top of typing; worse, a clerk may confirm it unread. Below `PREFILL_MIN_CONFIDENCE` the box
starts empty and the OCR text is shown beside it, to read, not to edit.
"""
from __future__ import annotations

from omr.text import looks_like_words

# Measured with benchmarks/comment_transcribe.py (BENCHMARKS.md "Keying"): on font-made handwriting
# (two decks, 26 comments sent to a clerk) starting from the suggestion took fewer Telex keys in
# every confidence band with data, e.g. 12 instead of 75 at 80-88, 27-30 instead of 57-79 at
# 70-80; only 2 comments fell below 50 (44 keys instead of 62.5). Below 50 the box starts empty
# all the same: so few comments are no evidence, real hands read far worse there (issue 14:
# 63 % CER, where retyping is cheaper than correcting) and a garbled suggestion can be
# confirmed unread. Re-measure on real ballots before lowering it.
PREFILL_MIN_CONFIDENCE = 50.0


def suggestion(ocr_text: str | None, confidence: float | None) -> str:
    """The text to pre-fill a comment's box with: the OCR text when it reads as words and
    its confidence is at least `PREFILL_MIN_CONFIDENCE`, else ""."""
    if not ocr_text or confidence is None or confidence < PREFILL_MIN_CONFIDENCE:
        return ""
    return ocr_text if looks_like_words(ocr_text) else ""
