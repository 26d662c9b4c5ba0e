"""The survey's forms, prepared once per scan for the reader and for the recorder."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from pipeline.record import FormInfo
from pipeline.workspace import Survey, load_survey_forms

# Blank reference pages are rendered at this resolution and resampled by omr to its
# canonical scale (6 px/mm, ~152 dpi); rendering above it keeps printed edges crisp
# after resampling, and it is done once per scan.
BLANK_DPI = 200


@dataclass(frozen=True)
class ReaderSetup:
    """The omr `Catalog` of the survey's forms and, per (form id, version), its `FormInfo`."""

    catalog: object  # omr.template.Catalog
    forms: Mapping[tuple[str, int], FormInfo]


def form_info(form: object, layout: object | None = None) -> FormInfo:
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


def reader_setup(survey: Survey) -> ReaderSetup:
    """Load the survey's forms, lay them out, render their blank pages and prepare the
    reader's templates. Raises `SurveyError` / `FormDefinitionError` for bad form files."""
    from forms.layout import layout_form
    from forms.render import render_page_images
    from omr import Catalog, prepare_template

    templates, infos = [], {}
    for form in load_survey_forms(survey):
        layout = layout_form(form)
        blanks = render_page_images(form, BLANK_DPI)
        templates.append(prepare_template(form, [p.geometry for p in layout.pages], blanks))
        infos[(form.id, form.version)] = form_info(form, layout)
    return ReaderSetup(catalog=Catalog.of(templates), forms=infos)
