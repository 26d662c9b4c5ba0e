"""The survey on disk: its folder (`Survey`: survey.yaml, forms, images) and its store
(`Store`, a SQLAlchemy engine on SQLite or PostgreSQL; `schema` names the tables, Alembic
`migrations` create and upgrade them on open) and the counts behind `phieu status`.

`init_survey` / `find_survey` / `load_survey` make and find a workspace; `open_store` opens
its database; `survey_status` counts what is in it.
"""
from pipeline.store.database import Store, open_store
from pipeline.store.status import SurveyStatus, survey_status
from pipeline.store.survey import Survey, find_survey, init_survey, load_survey, load_survey_forms

__all__ = [
    "Store",
    "Survey",
    "SurveyStatus",
    "find_survey",
    "init_survey",
    "load_survey",
    "load_survey_forms",
    "open_store",
    "survey_status",
]
