"""Exports people read (`--labels`): the printed Vietnamese question text and option labels
in place of ids and codes. Codes stay the default: programs read those (DESIGN.md).

Also the rule that makes a spreadsheet keep numbers as numbers: a column whose every
filled cell is a whole number or a decimal (the 1-5 answers, counts, rates) is written to
.xlsx as numbers, not text.
"""
from __future__ import annotations

import pandas as pd

from forms.model import Form
from pipeline.outputs.tally import TallyResult
from pipeline.store.vocabulary import Channel, SheetStatus

STATUS_LABELS: dict[str, str] = {
    SheetStatus.COUNTED: "Đã tính",
    SheetStatus.NEEDS_REVIEW: "Chờ xem lại",
    SheetStatus.REVIEWED: "Đã xem lại",
    SheetStatus.REJECTED: "Bị loại",
}
CHANNEL_LABELS: dict[str, str] = {Channel.PAPER: "Phiếu giấy", Channel.ONLINE: "Trực tuyến", Channel.KIOSK: "Ki-ốt"}
META_LABELS = {
    "serial": "Số phiếu",
    "status": "Trạng thái",
    "flagged": "Câu chờ xem lại",
    "batch": "Đợt quét",
    "scanned_at": "Thời gian quét",
    "channel": "Kênh",
}
SCOPE_LABELS = {"question": "Câu hỏi", "criteria_group": "Nhóm tiêu chí", "overall": "Chung"}
MULTI_JOIN = "; "


def question_headings(form: Form) -> dict[str, str]:
    """Question id -> its printed text, made unique (a repeated text gets ` (2)`...)."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for question in form.questions():
        text = question.text.strip().rstrip(":").strip() or question.id
        seen[text] = seen.get(text, 0) + 1
        out[question.id] = text if seen[text] == 1 else f"{text} ({seen[text]})"
    return out


def labelled_responses(form: Form, frame: pd.DataFrame) -> pd.DataFrame:
    """responses.csv with the printed texts: option labels for codes (`; `-joined for a
    multi-choice answer), Vietnamese column names and statuses."""
    headings = question_headings(form)
    out = frame.copy()
    for question in form.questions():
        if question.id not in out.columns or question.type == "text":
            continue
        labels = {o.code: o.label for o in question.options}
        out[question.id] = out[question.id].map(
            lambda value, labels=labels: _labels(value, labels))
    if "status" in out.columns:
        out["status"] = out["status"].map(lambda v: STATUS_LABELS.get(str(v), v))
    if "channel" in out.columns:
        out["channel"] = out["channel"].map(lambda v: CHANNEL_LABELS.get(str(v), v))
    if "flagged" in out.columns:
        out["flagged"] = out["flagged"].map(
            lambda v: MULTI_JOIN.join(headings.get(q, q) for q in str(v).split("|") if q)
            if isinstance(v, str) else v)
    return out.rename(columns={**META_LABELS, **headings})


def _labels(value: object, labels: dict[str, str]) -> object:
    if not isinstance(value, str) or not value:
        return value
    return MULTI_JOIN.join(labels.get(code, code) for code in value.split("|"))


def labelled_tally(form: Form, result: TallyResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """tally.csv and index.csv with the group names, question texts and option labels."""
    headings = question_headings(form)
    groups = {g.value: g.label.split(" / ")[0] for g in result.groups}
    tally = result.tally_frame()
    tally = pd.DataFrame({
        "Nhóm": tally["group"].map(groups),
        "Câu hỏi": tally["question"].map(lambda q: headings.get(q, q)),
        "Lựa chọn": tally["label"].map(lambda t: str(t).split(" / ")[0]),
        "Số phiếu": tally["count"],
        "Tỷ lệ (%)": tally["percent"],
    })
    index = result.index_frame()
    names = {(r.scope, r.id): r.label.split(" / ")[0] for r in result.index}
    index = pd.DataFrame({
        "Nhóm": index["group"].map(groups),
        "Phạm vi": index["scope"].map(SCOPE_LABELS),
        "Tiêu chí": [names.get((s, i), i) for s, i in zip(index["scope"], index["id"], strict=True)],
        "Số câu trả lời hợp lệ": index["valid"],
        "Số câu hài lòng": index["satisfied"],
        "Tỷ lệ hài lòng (%)": index["rate"],
        "Điểm trung bình": index["mean"],
    })
    return tally, index


def numbers_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each text column whose filled cells are all numbers turned numeric
    (integers stay integers), so a spreadsheet sums and sorts them; empty cells stay empty."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
            continue
        filled = series.dropna().astype(str).str.strip()
        filled = filled[filled != ""]
        if filled.empty or not filled.str.fullmatch(r"-?\d+(\.\d+)?").all():
            continue
        numbers = pd.to_numeric(series.astype(str).str.strip().replace("", None), errors="coerce")
        whole = filled.str.fullmatch(r"-?\d+").all()
        out[column] = numbers.astype("Int64") if whole else numbers.astype("float64")
    return out
