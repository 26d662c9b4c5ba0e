"""Everything about batches: a survey workspace and its store, scanning files into it
(ingest -> read pages in worker processes -> one transaction per page), status and
exports. Review, tally and report live in their own modules of this package.

`init_survey` / `find_survey` make and find a workspace (`Survey`); `open_store` opens
its database (migrations run on open); `scan` is the driver behind `phieu scan` and
returns a `ScanSummary`; `survey_status` is `phieu status`; `responses_frame`,
`pages_frame` and `comments_frame` are the exports as pandas DataFrames and
`write_frame` writes one as CSV (UTF-8 with BOM) or `.xlsx`.
"""
from pipeline.export import comments_frame, pages_frame, responses_frame, write_frame
from pipeline.scan import ScanEvent, ScanSummary, scan
from pipeline.status import SurveyStatus, survey_status
from pipeline.store import Store, open_store
from pipeline.workspace import Survey, find_survey, init_survey, load_survey, load_survey_forms

__all__ = [
    "ScanEvent",
    "ScanSummary",
    "Store",
    "Survey",
    "SurveyStatus",
    "comments_frame",
    "find_survey",
    "init_survey",
    "load_survey",
    "load_survey_forms",
    "open_store",
    "pages_frame",
    "responses_frame",
    "scan",
    "survey_status",
    "write_frame",
]
