"""The wider-mark deck shared by `read_styles.py`: ballot boxes of both shipped
forms filled with `fixtures.respond.FillOptions(wide_marks=True)` (every style
of mark in `fixtures.marks.DIGIT_WIDE_MARKED_KINDS` / `BOX_WIDE_MARKED_KINDS`,
corrections by the printed rule, specks anywhere near), written as loose JPEG
pages and cached under /tmp/phieu-read-deck (delete it to regenerate).
"""
from __future__ import annotations

from pathlib import Path

from read_deck import CACHE, fingerprint

from fixtures.box import make_ballot_box
from fixtures.respond import FillOptions
from fixtures.truth import BoxTruth, load_truth

# The mark model's version, in the cache folder's name: a deck drawn by an
# older model is not this one (2: strikes struck through beyond the digit's
# box; short strokes within it are "nick", marginal).
MODEL = 2
WIDE = FillOptions(wide_marks=True, correction_rate=0.06, overvote_rate=0.04, marginal_rate=0.06,
                   noise_rate=0.08, pencil_rate=0.25, comment_rate=0.0)


def ensure_style_deck(form_id: str, sheets: int, seed: int, dpi: int = 200) -> tuple[Path, BoxTruth]:
    """The wide deck's directory and truth, generated when absent."""
    out = CACHE / f"wide{MODEL}-{form_id}-s{sheets}-seed{seed}-dpi{dpi}-{fingerprint(form_id)}"
    if (out / "truth.json").exists():
        return out, load_truth(out / "truth.json")
    truth = make_ballot_box(form_id, sheets, out, seed=seed, dpi=dpi, formats=("jpg",),
                            comment_rate=0.0, fill=WIDE)
    return out, truth
