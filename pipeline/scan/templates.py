"""The survey's forms, prepared for the recorder (`form_infos`, cheap) and for the
reader (`prepare_templates`: blank pages rendered and templates precomputed, ~1 s a form)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.scan.recorder import FormInfo

# Blank reference pages are rendered at this resolution and resampled by omr to its
# canonical scale (6 px/mm, ~152 dpi); rendering above it keeps printed edges crisp
# after resampling, and it is done once per scan.
BLANK_DPI = 200


def form_info(form: Any, layout: Any | None = None) -> FormInfo:
    """A form's page count, question types and question pages (from its layout)."""
    from forms.layout import layout_form

    layout = layout or layout_form(form)
    return FormInfo(
        form_id=form.id,
        version=form.version,
        page_count=len(layout.pages),
        question_types={q.id: q.type for q in form.questions()},
        question_pages=dict(layout.question_pages),
    )


def form_infos(forms: Iterable[Any]) -> dict[tuple[str, int], FormInfo]:
    """`FormInfo` of each form, keyed by (form id, version)."""
    return {(f.id, f.version): form_info(f) for f in forms}


def prepare_templates(forms: Iterable[Any]) -> Any:
    """The omr `Catalog` of `forms`: each form laid out, its blank pages rendered at
    `BLANK_DPI`, its reading templates prepared."""
    from forms.layout import layout_form
    from forms.render import render_page_images
    from omr import Catalog, prepare_template

    templates = []
    for form in forms:
        layout = layout_form(form)
        blanks = render_page_images(form, BLANK_DPI)
        templates.append(prepare_template(form, [p.geometry for p in layout.pages], blanks))
    return Catalog.of(templates)
