"""Where the tally and the report get their data: a survey workspace's store, as the
export frames of `pipeline.export`, for one of the survey's forms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forms.model import Form


@dataclass(frozen=True)
class SurveyData:
    """One form's sheets in a survey workspace, as frames (see `pipeline.export`)."""

    root: Path  # the workspace: crop paths are relative to it
    office: str  # the survey's office (survey.yaml), "" when not set
    form: Form
    responses: pd.DataFrame
    pages: pd.DataFrame
    comments: pd.DataFrame


def load_survey_data(survey_dir: Path | None, form_id: str | None) -> SurveyData:
    """Open the workspace (`survey_dir`, or the one around the current folder) and export
    the sheets of the form `form_id` (chosen as `phieu export responses --form` does:
    `pipeline.export.pick_form`). Raises `SurveyError` when there is no workspace or the
    store cannot be opened, `BadInput` when the form choice is wrong."""
    from pipeline.export import comments_frame, pages_frame, pick_form, responses_frame
    from pipeline.store import open_store
    from pipeline.workspace import find_survey, load_survey_forms

    survey = find_survey(survey_dir)
    form = pick_form(load_survey_forms(survey), form_id)
    store = open_store(survey.store_url)
    try:
        return SurveyData(
            root=survey.root,
            office=survey.office,
            form=form,
            responses=responses_frame(store, form),
            pages=pages_frame(store),
            comments=comments_frame(store, survey.root),
        )
    finally:
        store.engine.dispose()
