"""A `TallyResult` as files (CSV with BOM, or one Excel workbook) and as terminal tables.

Files: `X.csv` gets the tally (DESIGN.md `tally.csv`) and `X-index.csv` beside it the index
(`index.csv`), both UTF-8 with BOM so Excel on Vietnamese Windows shows the diacritics.
`X.xlsx` gets one workbook with the sheets `tally`, `index` and `ghi_chu` (notes: the
grouping, the filters, and the provisional warning when figures wait for review).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.table import Table

from forms.durable import atomic_output, atomic_outputs
from forms.errors import BadInput
from forms.model import Form
from pipeline.outputs.cells import write_csv, write_xlsx
from pipeline.outputs.labels import labelled_tally, numbers_as_numbers
from pipeline.outputs.tally import ALL_GROUP, METHOD_LABELS, NO_ANSWER, TO_REVIEW, TallyResult

CSV_ENCODING = "utf-8-sig"
INDEX_SUFFIX = "-index"


def index_path(path: Path) -> Path:
    """Where the index CSV goes for a tally CSV `path`: `tally.csv` -> `tally-index.csv`."""
    return path.with_name(f"{path.stem}{INDEX_SUFFIX}{path.suffix}")


def write_tally(result: TallyResult, path: str | Path, labels: Form | None = None
                ) -> tuple[Path, ...]:
    """Write `result` to `path` (`.csv` or `.xlsx`); return the paths written. With
    `labels` (the form), the readable columns of `pipeline.outputs.labels.labelled_tally`.

    Raises `BadInput` for another suffix or a folder that does not exist.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput(f"{path}: cannot write a {suffix or 'suffix-less'} file",
                       "end the name with .csv or .xlsx (đặt tên tệp .csv hoặc .xlsx)")
    if not path.parent.is_dir():
        raise BadInput(f"{path}: folder {path.parent} does not exist",
                       "create it first or choose another place")
    if labels is not None:
        tally, index = labelled_tally(labels, result)
    else:
        tally, index = result.tally_frame(), result.index_frame()
    if suffix == ".xlsx":
        with atomic_output(path) as temp:
            write_xlsx({"tally": numbers_as_numbers(tally), "index": numbers_as_numbers(index),
                        "ghi_chu": notes_frame(result)}, temp)
        return (path,)
    # Both files are written in full before either is renamed: never a new tally.csv
    # beside an empty index.
    with atomic_outputs([path, index_path(path)]) as (tally_tmp, index_tmp):
        write_csv(tally, tally_tmp, CSV_ENCODING)
        write_csv(index, index_tmp, CSV_ENCODING)
    return path, index_path(path)


def describe(result: TallyResult) -> list[str]:
    """Lines that say what was tallied: form, sheets, grouping, filters, then the notes."""
    lines = [
        f"Mẫu phiếu / Form: {result.form_id} — {result.sheets} phiếu được tính / sheets tallied, "
        f"{result.rejected} phiếu bị loại / rejected",
        f"Nhóm theo / Grouped by: {result.grouping.label}",
        f"Cách tính chỉ số / Index method: {METHOD_LABELS[result.method]}",
    ]
    if result.date_from or result.date_to:
        start = result.date_from.isoformat() if result.date_from else "…"
        end = result.date_to.isoformat() if result.date_to else "…"
        lines.append(f"Ngày quét / Scanned: {start} → {end}")
    return lines + list(result.notes)


def notes_frame(result: TallyResult) -> pd.DataFrame:
    """The `ghi_chu` sheet: the description, the provisional warning, the group labels."""
    lines = describe(result)
    if result.provisional:
        lines.insert(0, result.provisional.message())
    lines += [f"{g.value}: {g.label} ({g.sheets} phiếu / sheets)" for g in result.groups]
    return pd.DataFrame({"ghi_chu": lines})


def _cell(count: int, percent: float | None) -> str:
    return f"{count}" if percent is None else f"{count} ({percent:.1f}%)"


def tally_table(result: TallyResult, question_texts: dict[str, str]) -> Table:
    """Counts, one row per (question, option), one column per group: `count (percent)`."""
    table = Table(title="Số phiếu theo lựa chọn / Counts per option", show_lines=False)
    table.add_column("Câu hỏi / Question", overflow="fold", max_width=34)
    table.add_column("Lựa chọn / Option", overflow="fold", max_width=28)
    for group in result.groups:
        table.add_column(_group_heading(group.value, group.label), justify="right")
    cells: dict[tuple[str, str, str], str] = {}
    order: list[tuple[str, str, str]] = []
    for row in result.rows:
        cells[(row.group, row.question, row.option)] = _cell(row.count, row.percent)
        if row.group == ALL_GROUP:
            order.append((row.question, row.option, row.label))
    previous = None
    for question, option, label in order:
        heading = "" if question == previous else f"{question} {question_texts.get(question, '')}"
        previous = question
        style = "dim" if option in (NO_ANSWER, TO_REVIEW) else None
        table.add_row(
            heading, label,
            *(cells.get((g.value, question, option), "0") for g in result.groups),
            style=style, end_section=option == TO_REVIEW,
        )
    return table


def index_table(result: TallyResult) -> Table:
    """The satisfaction index: per question, criteria group and overall, one column per
    group: `rate% · mean (valid)`."""
    table = Table(title="Chỉ số hài lòng / Satisfaction index — tỷ lệ hài lòng · điểm trung bình "
                        "(số câu trả lời hợp lệ) / rate · mean (valid answers)")
    table.add_column("Phạm vi / Scope")
    table.add_column("Tiêu chí / Item", overflow="fold", max_width=40)
    for group in result.groups:
        table.add_column(_group_heading(group.value, group.label), justify="right")
    cells = {(r.group, r.scope, r.id): r for r in result.index}
    for row in (r for r in result.index if r.group == ALL_GROUP):
        scope = {"question": "câu hỏi", "criteria_group": "nhóm tiêu chí",
                 "overall": "chung"}[row.scope]
        values = []
        for group in result.groups:
            item = cells.get((group.value, row.scope, row.id))
            values.append(_index_cell(item.rate, item.mean, item.valid) if item else "")
        style = "bold" if row.scope != "question" else None
        table.add_row(scope, f"{row.id} {row.label}" if row.scope == "question" else row.label,
                      *values, style=style)
    return table


def _index_cell(rate: float | None, mean: float | None, valid: int) -> str:
    if rate is None:
        return f"— ({valid})"
    mean_text = f" · {mean:.2f}" if mean is not None else ""
    return f"{rate:.1f}%{mean_text} ({valid})"


def _group_heading(value: str, label: str) -> str:
    if value == ALL_GROUP:
        return "Tất cả / All"
    return label if label.startswith(value) or value in label else f"{value}\n{label}"
