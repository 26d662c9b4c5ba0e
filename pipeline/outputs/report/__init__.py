"""The quarterly report: `build_report` computes its `ReportContent` (content.py: every
figure, table, chart and comment), `write_report` lays it out as HTML (html.py) or PDF
(pdf.py); `source.load_survey_data` gathers what it is built from.
"""
from pipeline.outputs.report.content import ReportContent, build_report
from pipeline.outputs.report.write import write_report

__all__ = ["ReportContent", "build_report", "write_report"]
