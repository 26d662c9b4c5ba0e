"""The report as one self-contained HTML file (charts and crops embedded as data URIs)."""
from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.outputs.report.content import (
    COMMENT_SOURCE,
    COMMENTS_NOTE,
    ReportContent,
    format_count,
    format_mean,
    format_percent,
    numbered,
)
from pipeline.outputs.report.official import compared_cells, dated
from pipeline.outputs.report.publish import change, format_change

TEMPLATE = "report.html"


def _environment() -> Environment:
    # Autoescape: comments are citizens' free text and must never become markup.
    return Environment(
        loader=PackageLoader("pipeline.outputs.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def png_data_uri(data: bytes) -> str:
    """`data` (PNG bytes) as a `data:image/png;base64,...` URI."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(content: ReportContent) -> str:
    """The report page: UTF-8 HTML with no external resource, printable on A4."""
    template = _environment().get_template(TEMPLATE)
    return template.render(
        c=content, png=png_data_uri, percent=format_percent, mean=format_mean,
        count=format_count, numbered=numbered, comment_source=COMMENT_SOURCE,
        comments_note=COMMENTS_NOTE, dated=dated, compared=compared_cells,
        change=lambda now, before: format_change(change(now, before)),
    )
