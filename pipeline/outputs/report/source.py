"""Where the tally and the report get their data: a survey workspace's store, as the
export frames of `pipeline.outputs.export`, for one of the survey's forms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forms.model import Form
from pipeline.outputs.settings import PublishSettings
from pipeline.store.vocabulary import FlagStatus

if TYPE_CHECKING:
    from pipeline.store.database import Store


@dataclass(frozen=True)
class SurveyData:
    """One form's sheets in a survey workspace, as frames (see `pipeline.outputs.export`)."""

    root: Path  # the workspace: crop paths are relative to it
    office: str  # the survey's office (survey.yaml), "" when not set
    form: Form
    responses: pd.DataFrame
    pages: pd.DataFrame
    comments: pd.DataFrame
    whole_sheet_review: frozenset[str] = frozenset()  # see `whole_sheet_flags`
    settings: PublishSettings = PublishSettings()  # survey.yaml: method, units, document


def load_survey_data(survey_dir: Path | None, form_id: str | None) -> SurveyData:
    """Open the workspace (`survey_dir`, or the one around the current folder) and export
    the sheets of the form `form_id` (chosen as `phieu export responses --form` does:
    `pipeline.store.survey.pick_form`). Raises `SurveyError` when there is no workspace or the
    store cannot be opened, `BadInput` when the form choice is wrong."""
    from pipeline.outputs.export import comments_frame, pages_frame, responses_frame
    from pipeline.outputs.settings import load_publish_settings
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey, load_survey_forms, pick_form

    survey = find_survey(survey_dir)
    form = pick_form(load_survey_forms(survey), form_id)
    settings = load_publish_settings(survey.settings_path)
    store = open_store(survey.store_url, create=False)
    try:
        return SurveyData(
            root=survey.root,
            office=survey.office,
            form=form,
            responses=responses_frame(store, form),
            pages=pages_frame(store),
            comments=comments_frame(store, survey.root),
            whole_sheet_review=whole_sheet_flags(store, form),
            settings=settings,
        )
    finally:
        store.engine.dispose()


def whole_sheet_flags(store: Store, form: Form) -> frozenset[str]:
    """Serials of `form`'s sheets with an open flag that names no question (about the sheet
    or one of its pages: a missing page, a duplicate serial, a blank ballot).

    `responses_frame` lists in `flagged` only the questions waiting; a sheet with both a
    flagged question and a missing page would otherwise count the missing page's questions
    as blank. Read-only; the same flags `pipeline.store.database.refresh_sheet_status` looks at.
    """
    import sqlalchemy as sa

    from pipeline.store import schema

    s, f, p = schema.sheets, schema.flags, schema.pages
    on_page = sa.select(p.c.sheet_id).where(p.c.id == f.c.page_id).scalar_subquery()
    query = (
        sa.select(s.c.serial)
        .where(s.c.form == form.id, s.c.version == form.version)
        .where(sa.exists().where(
            f.c.status == FlagStatus.OPEN, f.c.question.is_(None),
            sa.or_(f.c.sheet_id == s.c.id, on_page == s.c.id),
        ))
    )
    with store.engine.connect() as conn:
        return frozenset(str(serial) for serial in conn.execute(query).scalars())
