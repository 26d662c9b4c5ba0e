"""Writing a report's content to a file: the renderer is chosen by the file's suffix."""
from __future__ import annotations

from pathlib import Path

from forms.errors import BadInput
from pipeline.outputs.report.content import ReportContent


def write_report(content: ReportContent, path: str | Path) -> Path:
    """Write `content` as HTML (`.html`/`.htm`) or PDF (`.pdf`) to `path`; return it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.parent.is_dir():
        raise BadInput(f"{path}: folder {path.parent} does not exist",
                       "create it first or choose another place")
    if suffix in (".html", ".htm"):
        from pipeline.outputs.report.html import render_html

        path.write_text(render_html(content), encoding="utf-8")
    elif suffix == ".pdf":
        from pipeline.outputs.report.pdf import write_pdf

        write_pdf(content, path)
    else:
        raise BadInput(f"{path}: cannot write a {suffix or 'suffix-less'} report",
                       "end the name with .html or .pdf (đặt tên tệp .html hoặc .pdf)")
    return path
