"""Everything about batches, in four sub-packages by job: `store` (a survey workspace and
its database), `scan` (files -> pages read in worker processes -> one transaction per
page), `review` (the queue of flagged items and every decision) and `outputs` (exports,
tally, report).

`init_survey` / `find_survey` make and find a workspace (`Survey`); `open_store` opens
its database (migrations run on open); `scan` is the driver behind `phieu scan` and
returns a `ScanSummary`; `survey_status` is `phieu status`; `responses_frame`,
`pages_frame` and `comments_frame` are the exports as pandas DataFrames and
`write_frame` writes one as CSV (UTF-8 with BOM) or `.xlsx`. `tally` counts a responses
frame into a `TallyResult` (tally.csv and index.csv frames, the satisfaction index, the
provisional state) and `write_tally` writes it; `build_report` makes the quarterly
report's `ReportContent` and `write_report` writes it as HTML or PDF. The store may be a
PostgreSQL database shared by several stations (`init_survey(..., store=URL)`), and
`scan(..., workers="tcp://HOST:PORT")` reads pages on a Dask cluster
(`cluster_results`; `ClusterError` when it cannot be used).
"""
from pipeline.outputs import (
    ReportContent,
    TallyResult,
    build_report,
    comments_frame,
    pages_frame,
    responses_frame,
    tally,
    write_frame,
    write_report,
    write_tally,
)
from pipeline.scan import ClusterError, ScanEvent, ScanSummary, cluster_results, scan
from pipeline.store import (
    Store,
    Survey,
    SurveyStatus,
    find_survey,
    init_survey,
    load_survey,
    load_survey_forms,
    open_store,
    survey_status,
)

__all__ = [
    "ClusterError",
    "ReportContent",
    "ScanEvent",
    "ScanSummary",
    "Store",
    "Survey",
    "SurveyStatus",
    "TallyResult",
    "build_report",
    "cluster_results",
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
    "tally",
    "write_frame",
    "write_report",
    "write_tally",
]
