"""Shared by the reading benchmarks: a generated deck (ballot boxes of the shipped
forms, with their truth), read page by page with `omr`, each target's score
and state lined up with what was really on the paper.

A deck is written once under a cache directory named by its parameters and
reused by `read_calibrate.py` and `read_accuracy.py` (delete it to regenerate).
Pages are written as loose JPEG files at each capture's own quality, and read
back through `omr.decode_image`, as the pipeline does.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from fixtures.box import make_ballot_box
from fixtures.truth import BoxTruth, PageTruth, SheetTruth, load_truth
from forms.layout import layout_form
from forms.library import load_form
from forms.render import render_page_images
from omr import Catalog, PageFailure, Reading, decode_image, prepare_template, read_page

CACHE = Path("/tmp/phieu-read-deck")
FORMS = ("mot-cua", "sipas")
BLANK_DPI = 200  # as the pipeline (pipeline.scan.templates.BLANK_DPI)


def prepare_deck_templates() -> Catalog:
    """Templates of the shipped forms, as the pipeline builds them."""
    templates = []
    for form_id in FORMS:
        form = load_form(form_id)
        layout = layout_form(form)
        blanks = render_page_images(form, BLANK_DPI)
        templates.append(prepare_template(form, [p.geometry for p in layout.pages], blanks))
    return Catalog.of(templates)


def fingerprint(form_id: str) -> str:
    """A hash of the form's layout: a deck printed from another layout is
    stale (its boxes are not where the reader looks). The truth travels with
    the deck, so a change in the generator alone does not make it wrong."""
    layout = layout_form(load_form(form_id))
    return hashlib.sha1(repr([p.geometry for p in layout.pages]).encode()).hexdigest()[:12]


def mix_tag(mix: Mapping[str, float] | None) -> str:
    """A short name of a capture mix for the cache folder ("" for the default)."""
    if not mix:
        return ""
    return "-mix-" + "-".join(f"{k}{v:g}" for k, v in sorted(mix.items()))


def deck_dir(form_id: str, sheets: int, seed: int, dpi: int, mix: Mapping[str, float] | None = None) -> Path:
    return CACHE / f"{form_id}-s{sheets}-seed{seed}-dpi{dpi}{mix_tag(mix)}-{fingerprint(form_id)}"


def ensure_deck(form_id: str, sheets: int, seed: int, dpi: int = 200,
                mix: Mapping[str, float] | None = None) -> tuple[Path, BoxTruth]:
    """The deck's directory and truth, generating it when absent (`mix`: the
    capture kinds' shares, the generator's default when None)."""
    out = deck_dir(form_id, sheets, seed, dpi, mix)
    truth_path = out / "truth.json"
    if truth_path.exists():
        return out, load_truth(truth_path)
    truth = make_ballot_box(form_id, sheets, out, seed=seed, dpi=dpi, formats=("jpg",), mix=mix)
    return out, truth


@dataclass(frozen=True)
class ReadPage:
    """One page of a deck, read: its truth, its sheet's truth, the reading and
    the time taken (decode included)."""

    truth: PageTruth
    sheet: SheetTruth
    reading: Reading
    seconds: float


def read_deck(out: Path, truth: BoxTruth, catalog: Catalog, *, ocr: bool) -> Iterator[ReadPage]:
    """Every page of the deck, decoded and read, in the order written."""
    sheets = {s.serial: s for s in truth.sheets}
    for page in truth.pages:
        data = (out / page.file).read_bytes()
        start = time.perf_counter()
        image = decode_image(data)
        reading = image if isinstance(image, PageFailure) else read_page(image, catalog, ocr=ocr)
        yield ReadPage(page, sheets[page.serial], reading, time.perf_counter() - start)
