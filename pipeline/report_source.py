"""Where the tally and the report get their data: a survey workspace's store, as the
export frames of `pipeline.export`, for one of the survey's forms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forms.errors import SurveyError
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


def choose_form(forms: tuple[Form, ...], wanted: str | None, where: str) -> Form:
    """The form named by `wanted` (`ID` or `ID:VERSION`) among `forms`, or the only one.

    Raises `SurveyError` naming the choices when `wanted` is missing but needed, unknown,
    or names an id that has several versions without saying which.
    """
    choices = ", ".join(f"{f.id}:{f.version}" for f in forms)
    if wanted is None:
        if len(forms) == 1:
            return forms[0]
        raise SurveyError(f"{where} has {len(forms)} forms ({choices})",
                          "say which with --form ID (chọn mẫu phiếu bằng --form)")
    form_id, _, version = wanted.partition(":")
    matches = [f for f in forms if f.id == form_id and (not version or str(f.version) == version)]
    if not matches:
        raise SurveyError(f"{where} has no form {wanted!r}", f"use one of: {choices}")
    if len(matches) > 1:
        raise SurveyError(f"{where} has several versions of form {form_id!r} ({choices})",
                          f"say which, e.g. --form {form_id}:{matches[-1].version}")
    return matches[0]


def load_survey_data(survey_dir: Path | None, form_id: str | None) -> SurveyData:
    """Open the workspace (`survey_dir`, or the one around the current folder) and export
    the sheets of the chosen form. Raises `SurveyError` when there is no workspace, the
    store cannot be opened, or the form choice is wrong."""
    from pipeline.export import comments_frame, pages_frame, responses_frame
    from pipeline.store import open_store
    from pipeline.workspace import find_survey, load_survey_forms

    survey = find_survey(survey_dir)
    form = choose_form(tuple(load_survey_forms(survey)), form_id, str(survey.root))
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
