"""What a survey publishes: the exports (`export`: responses, pages, comments as pandas
frames, written as CSV with BOM or .xlsx), the tally and satisfaction index (`tally`,
written by `tally_tables`) and the quarterly report (`report`).
"""
from pipeline.outputs.export import comments_frame, pages_frame, responses_frame, write_frame
from pipeline.outputs.report import ReportContent, build_report, write_report
from pipeline.outputs.tally import TallyResult, tally
from pipeline.outputs.tally_tables import write_tally

__all__ = [
    "ReportContent",
    "TallyResult",
    "build_report",
    "comments_frame",
    "pages_frame",
    "responses_frame",
    "tally",
    "write_frame",
    "write_report",
    "write_tally",
]
