"""The shipped forms printed at 200 dpi by the real renderer, with their templates:
what the tests of reading marks draw on (`tests/test_omr_marks.py`,
`tests/test_omr_other_hands.py`, which import the `printed` and `catalog` fixtures)."""
from __future__ import annotations

import numpy as np
import pytest

from forms.geometry import PageGeometry
from forms.layout import layout_form
from forms.library import load_form
from forms.render import render_page_images
from omr import Catalog, prepare_template, read_page
from omr.reading import PageReading

DPI = 200
PPM = DPI / 25.4
FORMS = ("mot-cua", "sipas")


class Printed:
    """One shipped form: its pages' geometry, blank page images and template."""

    def __init__(self, form_id: str) -> None:
        self.form = load_form(form_id)
        self.pages: list[PageGeometry] = [p.geometry for p in layout_form(self.form).pages]
        self.blanks = render_page_images(self.form, DPI, 77)
        self.template = prepare_template(self.form, self.pages, self.blanks)


@pytest.fixture(scope="module")
def printed() -> dict[str, Printed]:
    """Both shipped forms, printed once per test module."""
    return {f: Printed(f) for f in FORMS}


@pytest.fixture(scope="module")
def catalog(printed: dict[str, Printed]) -> Catalog:
    return Catalog.of([p.template for p in printed.values()])


def read(catalog: Catalog, page: np.ndarray) -> PageReading:
    """`omr.read_page` without OCR; the page must be read."""
    reading = read_page(page, catalog, ocr=False)
    assert reading, reading
    return reading
