"""Writing a report's content to a file: the renderer is chosen by the file's suffix."""
from __future__ import annotations

from pathlib import Path

from forms.durable import atomic_output
from forms.errors import BadInput
from pipeline.outputs.report.content import ReportContent


def write_report(content: ReportContent, path: str | Path) -> Path:
    """Write `content` as HTML (`.html`/`.htm`) or PDF (`.pdf`) to `path`; return it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.parent.is_dir():
        raise BadInput(f"{path}: folder {path.parent} does not exist",
                       "create it first or choose another place")
    if suffix not in (".html", ".htm", ".pdf"):
        raise BadInput(f"{path}: cannot write a {suffix or 'suffix-less'} report",
                       "end the name with .html or .pdf (đặt tên tệp .html hoặc .pdf)")
    with atomic_output(path) as temp:  # a kill or a full disk keeps the previous report
        if suffix == ".pdf":
            from pipeline.outputs.report.pdf import write_pdf

            write_pdf(content, temp)
        else:
            from pipeline.outputs.report.html import render_html

            temp.write_text(render_html(content), encoding="utf-8")
    return path
