"""Tallies and the satisfaction index, as pure functions of a responses frame and its form.

Input: the frame of `pipeline.outputs.export.responses_frame` (DESIGN.md `responses.csv`): one row
per sheet with `serial, status, flagged, batch, scanned_at`, then one column per question id.
Output: a `TallyResult` whose `tally_frame()` and `index_frame()` are DESIGN.md's
`tally.csv` and `index.csv`.

How each answer is classified, per sheet and question (rejected sheets are left out):
- `to_review`: the question is in the sheet's `flagged` list, or the sheet is `needs_review`
  with an open whole-sheet flag (its `sheet_flags` column, or `whole_sheet_review`: a
  duplicate serial, a missing page, a blank ballot: none of its answers is counted until a
  person has looked), or `needs_review` with an empty `flagged` list (frames from before
  `sheet_flags`);
- `no_answer`: not to review and the cell is empty;
- valid: everything else. Percentages and the index are computed over valid answers only.

Figures are never rounded here; the frames round for display (`ROUND_DIGITS`).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, cast

import pandas as pd

from forms.errors import BadInput, SurveyError
from forms.model import Form, Question, Scale
from pipeline.store.vocabulary import AnswerStatus, Channel, SheetStatus

Period = Literal["quarter", "month", "half", "year"]
Scope = Literal["question", "criteria_group", "overall"]
Method = Literal["pooled", "sipas"]
PERIODS: tuple[str, ...] = ("quarter", "month", "half", "year")
METHODS: tuple[str, ...] = ("pooled", "sipas")
UnitSource = Literal["question", "version", "batch"]

SHEET_STATUSES: frozenset[str] = frozenset(SheetStatus)
META_COLUMNS: tuple[str, ...] = ("serial", "status", "flagged", "batch", "scanned_at")
CHANNEL_COLUMN = "channel"  # optional in the frame: a sheet without it came on paper
ALL_GROUP = "all"
NO_ANSWER = AnswerStatus.NO_ANSWER
TO_REVIEW = "to_review"
UNDATED = "undated"
ROUND_DIGITS = 2  # of `percent`, `rate` and `mean` in the exported frames

TALLY_COLUMNS: tuple[str, ...] = ("group", "question", "option", "label", "count", "percent")
INDEX_COLUMNS: tuple[str, ...] = ("group", "scope", "id", "valid", "satisfied", "rate", "mean")

LABEL_ALL = "Tất cả / All"
LABEL_NO_ANSWER = "Không trả lời / No answer"
LABEL_TO_REVIEW = "Chờ xem lại / To review"
LABEL_UNDATED = "Không rõ ngày quét / Scan date unknown"
LABEL_OVERALL = "Chỉ số hài lòng chung / Overall satisfaction index"
LABEL_OTHER_GROUP = "Các tiêu chí khác"
METHOD_LABELS = {
    "pooled": "cộng dồn câu trả lời / pooled answers",
    "sipas": "trung bình theo SIPAS / SIPAS averaging",
}
CHANNEL_LABELS = {
    Channel.PAPER.value: "Phiếu giấy / Paper",
    Channel.ONLINE.value: "Trực tuyến / Online",
    Channel.KIOSK.value: "Ki-ốt / Kiosk",
}
ROMAN_QUARTERS = ("I", "II", "III", "IV")
OFFICE_TIMEZONE = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam: UTC+7 all year


# --- result types --------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """How sheets were split: `kind` is `all`, `question`, `batch`, `period`, `unit` or
    `channel`."""

    kind: Literal["all", "question", "batch", "period", "unit", "channel"]
    key: str = ""  # the question id for `question`, the period kind for `period`
    label: str = LABEL_ALL


@dataclass(frozen=True)
class Units:
    """Which unit (department, field, commune...) each ballot belongs to, as survey.yaml's
    `units:` says: the answer to a single-choice `question`, the form `version`, or the
    scan `batch`. `names` maps a value (option code, version number, batch name) to the
    unit's name; a value without a name shows the option label or the value itself."""

    source: UnitSource
    question: str = ""
    names: tuple[tuple[str, str], ...] = ()
    label: str = "Theo đơn vị / By unit"

    def name(self, value: str, default: str) -> str:
        return dict(self.names).get(value, default)


@dataclass(frozen=True)
class GroupInfo:
    """One group of sheets: its value (the `group` column), a readable label, its size."""

    value: str
    label: str
    sheets: int


@dataclass(frozen=True)
class TallyRow:
    """One row of tally.csv. `percent` is of the valid answers; None for no_answer/to_review
    and when the question has no valid answer in the group."""

    group: str
    question: str
    option: str
    label: str
    count: int
    percent: float | None


@dataclass(frozen=True)
class IndexRow:
    """One row of index.csv. `rate` is satisfied/valid in percent, `mean` the mean score of
    the valid scored answers; both None when there is nothing to divide by."""

    group: str
    scope: Scope
    id: str
    valid: int
    satisfied: int
    rate: float | None
    mean: float | None
    label: str = ""  # question text, criteria group label, or LABEL_OVERALL (not exported)


@dataclass(frozen=True)
class QuestionTotal:
    """Per group and question: how many sheets answered validly, left it blank, or wait."""

    group: str
    question: str
    valid: int
    no_answer: int
    to_review: int


@dataclass(frozen=True)
class Provisional:
    """What still waits for a person. Truthy while anything waits: the figures are then
    provisional (tạm tính)."""

    answers_to_review: int  # (sheet, question) pairs classified to_review
    sheets_to_review: int  # sheets with status needs_review

    def __bool__(self) -> bool:
        return self.answers_to_review > 0 or self.sheets_to_review > 0

    def message(self) -> str:
        """One line for a person: empty when nothing waits."""
        if not self:
            return ""
        return (
            f"Số liệu tạm tính: còn {self.answers_to_review} câu trả lời trên "
            f"{self.sheets_to_review} phiếu chờ xem lại (phieu review) / Provisional figures: "
            f"{self.answers_to_review} answers on {self.sheets_to_review} sheets await review."
        )


@dataclass(frozen=True)
class TallyResult:
    """Everything `tally` computed. Rows are in output order: the `all` group first, then
    the groups of the grouping; within a group, questions in form order."""

    form_id: str
    grouping: Grouping
    groups: tuple[GroupInfo, ...]
    rows: tuple[TallyRow, ...]
    index: tuple[IndexRow, ...]
    totals: tuple[QuestionTotal, ...]
    provisional: Provisional
    sheets: int  # sheets tallied (after filters, rejected excluded)
    rejected: int  # rejected sheets left out (after the date filters)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    notes: tuple[str, ...] = ()  # other things a reader must know (Vietnamese / English)
    method: Method = "pooled"

    def tally_frame(self) -> pd.DataFrame:
        """DESIGN.md `tally.csv`: group, question, option, label, count, percent."""
        records = [
            (r.group, r.question, r.option, r.label, r.count, _rounded(r.percent))
            for r in self.rows
        ]
        return _frame(records, TALLY_COLUMNS, ints=("count",))

    def index_frame(self) -> pd.DataFrame:
        """DESIGN.md `index.csv`: group, scope, id, valid, satisfied, rate, mean."""
        records = [
            (r.group, r.scope, r.id, r.valid, r.satisfied, _rounded(r.rate), _rounded(r.mean))
            for r in self.index
        ]
        return _frame(records, INDEX_COLUMNS, ints=("valid", "satisfied"))

    def group_label(self, value: str) -> str:
        for info in self.groups:
            if info.value == value:
                return info.label
        raise KeyError(value)

    def total(self, group: str, question: str) -> QuestionTotal:
        for row in self.totals:
            if row.group == group and row.question == question:
                return row
        raise KeyError((group, question))

    def index_row(self, group: str, scope: Scope, id_: str) -> IndexRow:
        for row in self.index:
            if row.group == group and row.scope == scope and row.id == id_:
                return row
        raise KeyError((group, scope, id_))


# --- internal sheet model ------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    serial: str
    status: str
    flagged: frozenset[str]
    batch: str
    scanned: dt.date | None
    answers: dict[str, tuple[str, ...]]  # question id -> chosen codes (empty: no answer)
    whole: bool = False  # an open flag is about the whole sheet (missing page, duplicate)
    channel: str = Channel.PAPER.value

    def to_review(self, question_id: str) -> bool:
        if question_id in self.flagged or self.whole:
            return True
        return self.status == SheetStatus.NEEDS_REVIEW and not self.flagged


# --- the public function -------------------------------------------------------------


def tally(
    form: Form,
    responses: pd.DataFrame,
    *,
    by: str | None = None,
    period: Period | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    whole_sheet_review: Iterable[str | int] = (),
    units: Units | None = None,
    method: Method = "pooled",
) -> TallyResult:
    """Count the answers of `responses` for `form`, and compute the satisfaction index.

    Parameters
    ----------
    form
        The form the sheets were printed from; its single- and multi-choice questions are
        tallied (text questions are not: their comments go to the report).
    responses
        One row per sheet, in DESIGN.md's `responses.csv` layout.
    by
        A single-choice question id (groups are its option codes, plus `no_answer` and
        `to_review` when some sheets have those), `"batch"`, `"channel"` (paper, online,
        kiosk: the frame's optional `channel` column) or `"unit"` (needs `units`).
    period
        `"quarter"` (groups like `2026-Q3`), `"month"` (`2026-09`), `"half"` (`2026-H1`)
        or `"year"` (`2026`), from `scanned_at`; sheets without a readable scan date form
        the group `undated`. Not with `by`.
    date_from, date_to
        Keep only sheets scanned on or after / on or before these dates (inclusive; ISO
        strings accepted). Sheets without a readable scan date are then left out and counted
        in `notes`.
    whole_sheet_review
        Serials of `needs_review` sheets with an open flag about the whole sheet (a missing
        page, a duplicate serial), which `flagged` cannot name: every question of theirs
        counts as `to_review`. (A `needs_review` sheet with an empty `flagged` is treated so
        even without this.) See `pipeline.outputs.report.source.whole_sheet_flags`.
    units
        How a ballot's unit is found (survey.yaml `units:`), for `by="unit"`.
    method
        How the criteria-group and overall `rate` and `mean` are made from the questions':
        `"pooled"` sums every valid answer of the group's questions (a question answered
        more weighs more); `"sipas"` (the national SIPAS method) takes a group's figure as
        the mean of its questions' figures, and the overall figure as the mean of the
        groups' (scale questions outside any group count as one more group). `valid` and
        `satisfied` are sums under both.

    Returns
    -------
    TallyResult
        Always holds the `all` group first; with a grouping, its groups follow.

    Raises
    ------
    BadInput
        Unknown `by` question, a `by` question that is not single-choice, `by` together with
        `period`, an unknown period, unreadable dates, `date_from` after `date_to`.
    SurveyError
        The frame lacks a column, has an unknown status, or holds an option code the form
        does not have (the store and the form disagree: counting it would be wrong).
    """
    start, end = _parse_date(date_from, "--from"), _parse_date(date_to, "--to")
    if start and end and start > end:
        raise BadInput(
            f"--from {start.isoformat()} is after --to {end.isoformat()}",
            "swap the two dates (đổi chỗ hai ngày)",
        )
    if method not in METHODS:
        raise BadInput(f"--method {method!r} is unknown", "use sipas or pooled")
    grouping = _grouping(form, by, period, units)
    questions = tuple(q for q in form.questions() if q.type != "text")
    whole = frozenset(_text(s) for s in whole_sheet_review)
    sheets = _sheets(form, responses, questions, whole)
    kept, undated_dropped = _date_filter(sheets, start, end)
    counted = [s for s in kept if s.status != SheetStatus.REJECTED]
    keyed = [(ALL_GROUP, s) for s in counted]
    groups = [GroupInfo(ALL_GROUP, LABEL_ALL, len(counted))]
    if grouping.kind != "all":
        split = _split(form, grouping, counted, units)
        groups.extend(info for info, _ in split)
        keyed.extend((info.value, s) for info, members in split for s in members)
    rows: list[TallyRow] = []
    index: list[IndexRow] = []
    totals: list[QuestionTotal] = []
    for info in groups:
        members = [s for value, s in keyed if value == info.value]
        counts = {q.id: _count(q, members) for q in questions}
        rows.extend(r for q in questions for r in _tally_rows(info.value, q, counts[q.id]))
        index.extend(_index_rows(form, info.value, questions, counts, method))
        totals.extend(QuestionTotal(info.value, q.id, c.valid, c.no_answer, c.to_review)
                      for q, c in ((q, counts[q.id]) for q in questions))
    notes = _notes(undated_dropped, _duplicate_serials(counted))
    all_counts = [r for r in rows if r.group == ALL_GROUP and r.option == TO_REVIEW]
    provisional = Provisional(
        answers_to_review=sum(r.count for r in all_counts),
        sheets_to_review=sum(1 for s in counted if s.status == SheetStatus.NEEDS_REVIEW),
    )
    return TallyResult(
        form_id=form.id,
        grouping=grouping,
        groups=tuple(groups),
        rows=tuple(rows),
        index=tuple(index),
        totals=tuple(totals),
        provisional=provisional,
        sheets=len(counted),
        rejected=len(kept) - len(counted),
        date_from=start,
        date_to=end,
        notes=tuple(notes),
        method=method,
    )


def period_value(day: dt.date, period: Period) -> str:
    """The group value of `day`: `2026-Q3` for a quarter, `2026-09` for a month, `2026-H2`
    for a half year, `2026` for a year."""
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "half":
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    if period == "year":
        return f"{day.year}"
    return f"{day.year}-{day.month:02d}"


def period_label(value: str) -> str:
    """How a person reads a period value: `2026-Q3` -> `Quý III/2026`, `2026-09` ->
    `Tháng 09/2026`, `2026-H1` -> `6 tháng đầu năm 2026`, `2026-H2` -> `6 tháng cuối năm
    2026`, `2026` -> `Năm 2026`; anything else is returned unchanged."""
    year, _, part = value.partition("-")
    if not part and year.isdigit() and len(year) == 4:
        return f"Năm {year}"
    if part in ("H1", "H2") and year.isdigit():
        return f"6 tháng {'đầu' if part == 'H1' else 'cuối'} năm {year}"
    if part.startswith("Q") and part[1:].isdigit() and 1 <= int(part[1:]) <= 4:
        return f"Quý {ROMAN_QUARTERS[int(part[1:]) - 1]}/{year}"
    if part.isdigit() and year.isdigit():
        return f"Tháng {part}/{year}"
    return value


def period_kind(value: str) -> Period:
    """Which kind of period a value names (`2026-Q3` is a quarter...); BadInput when none."""
    text = value.strip().upper()
    if _QUARTER.match(text):
        return "quarter"
    if re.fullmatch(r"\d{4}-?H[12]", text):
        return "half"
    if re.fullmatch(r"\d{4}", text):
        return "year"
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return "month"
    raise BadInput(
        f"period {value!r} is not a quarter, half year, year or month",
        "write 2026-Q3, 2026-H1, 2026 or 2026-09 (quý, 6 tháng, năm hoặc tháng)",
    )


def period_bounds(value: str) -> tuple[dt.date, dt.date]:
    """First and last day of the period `value` (`2026-Q3`, `2026-H1`, `2026`, `2026-09`)."""
    kind = period_kind(value)
    text = value.strip().upper()
    if kind == "quarter":
        return quarter_bounds(text)
    year = int(text[:4])
    if kind == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if kind == "half":
        first_month = 1 if text.endswith("1") else 7
        first = dt.date(year, first_month, 1)
        end = dt.date(year, 7, 1) if first_month == 1 else dt.date(year + 1, 1, 1)
        return first, end - dt.timedelta(days=1)
    month = int(text[5:7])
    first = dt.date(year, month, 1)
    end = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return first, end - dt.timedelta(days=1)


def canonical_period(value: str) -> str:
    """`value` written the way the groups name it: `2026q3` -> `2026-Q3`, `2026h1` ->
    `2026-H1`."""
    kind = period_kind(value)
    return period_value(period_bounds(value)[0], kind)


def previous_period(value: str) -> str:
    """The period of the same kind just before `value` (`2026-Q1` -> `2025-Q4`)."""
    kind = period_kind(value)
    first, _ = period_bounds(value)
    return period_value(first - dt.timedelta(days=1), kind)


def quarter_bounds(value: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter written `2026-Q3` (also `2026Q3` or `Q3/2026`)."""
    match = _QUARTER.match(value)
    if not match:
        raise BadInput(
            f"quarter {value!r} is not like 2026-Q3",
            "write the year, a dash, Q and the quarter number (viết dạng 2026-Q3)",
        )
    year = int(match.group(1) or match.group(4))
    quarter = int(match.group(2) or match.group(3))
    first = dt.date(year, 3 * quarter - 2, 1)
    next_first = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, next_first - dt.timedelta(days=1)


_QUARTER = re.compile(r"^\s*(?:(\d{4})\s*-?\s*Q([1-4])|Q([1-4])\s*[/-]\s*(\d{4}))\s*$", re.I)


# --- parsing -------------------------------------------------------------------------


def _parse_date(value: dt.date | str | None, flag: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(
            f"{flag} {value!r} is not a date", "write it as YYYY-MM-DD (viết dạng 2026-07-01)"
        ) from None


def _grouping(form: Form, by: str | None, period: str | None, units: Units | None) -> Grouping:
    if by and period:
        raise BadInput(
            f"--by {by} and --period {period} cannot be combined",
            "group by one of them and filter with --from/--to (chọn một cách nhóm)",
        )
    if period:
        if period not in PERIODS:
            raise BadInput(f"--period {period!r} is unknown", "use quarter, half, year or month")
        label = {"quarter": "Theo quý / By quarter", "month": "Theo tháng / By month",
                 "half": "Theo 6 tháng / By half year", "year": "Theo năm / By year"}[period]
        return Grouping("period", period, label)
    if by == "channel":
        return Grouping("channel", "channel", "Theo kênh / By channel")
    if by == "unit":
        if units is None:
            raise BadInput(
                "--by unit: survey.yaml says nothing about units",
                "add `units:` to survey.yaml (see DESIGN.md), or group by a question or batch",
            )
        if units.source == "question":
            _grouping(form, units.question, None, None)  # the same checks as --by QUESTION
        return Grouping("unit", units.source, units.label)
    if not by:
        return Grouping("all")
    if by == "batch":
        return Grouping("batch", "batch", "Theo đợt quét / By batch")
    try:
        question = form.question(by)
    except KeyError:
        known = ", ".join(q.id for q in form.questions() if q.type == "single")
        raise BadInput(
            f"--by {by!r}: form {form.id!r} has no such question",
            f"use batch or one of: {known}",
        ) from None
    if question.type != "single":
        raise BadInput(
            f"--by {by!r} is a {question.type} question; only single-choice questions group",
            "choose a single-choice question (chọn câu hỏi một lựa chọn)",
        )
    return Grouping("question", by, question.text)


def _is_empty(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return str(value).strip() == ""


def _text(value: object) -> str:
    if _is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a CSV read back may turn codes "1".."5" into floats
    return str(value).strip()


def _sheets(
    form: Form, frame: pd.DataFrame, questions: tuple[Question, ...], whole: frozenset[str]
) -> list[_Sheet]:
    missing = [c for c in (*META_COLUMNS, *(q.id for q in questions)) if c not in frame.columns]
    if missing:
        raise SurveyError(
            f"responses of form {form.id!r} lack the column(s) {', '.join(missing)}",
            "export them with this form's current version (phieu export responses --form)",
        )
    known = {q.id: frozenset(o.code for o in q.options) for q in questions}
    out = []
    for record in frame.to_dict("records"):
        serial = _text(record["serial"])
        status = _text(record["status"])
        if status not in SHEET_STATUSES:
            raise SurveyError(
                f"sheet {serial}: status {status!r} is unknown",
                f"expected one of {', '.join(sorted(SHEET_STATUSES))}",
            )
        flagged = frozenset(f for f in _text(record["flagged"]).split("|") if f)
        # `sheet_flags` (responses.csv since issue 11) names the open whole-sheet flags,
        # so a responses.csv read back is tallied as the store is; older frames lack it.
        sheet_level = bool(_text(record.get("sheet_flags", "")))
        answers = {q.id: _codes(form, q, known[q.id], serial, record[q.id]) for q in questions}
        channel = _text(record.get(CHANNEL_COLUMN)) or Channel.PAPER.value
        out.append(
            _Sheet(serial, status, flagged, _text(record["batch"]),
                   scan_day(record["scanned_at"]), answers,
                   whole=(serial in whole or sheet_level) and status == SheetStatus.NEEDS_REVIEW,
                   channel=channel)
        )
    return out


def _codes(
    form: Form, question: Question, known: frozenset[str], serial: str, value: object
) -> tuple[str, ...]:
    text = _text(value)
    if not text:
        return ()
    if text in known:  # the common case: one known code
        return (text,)
    codes = tuple(c for c in text.split("|") if c)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise SurveyError(
            f"sheet {serial}, question {question.id}: option {unknown[0]!r} is not on form "
            f"{form.id!r} (options {', '.join(sorted(known))})",
            "the responses come from another form or version; tally with the right --form",
        )
    if question.type == "single" and len(codes) > 1:
        raise SurveyError(
            f"sheet {serial}, question {question.id}: single-choice answer holds "
            f"{'|'.join(codes)}",
            "the store should have flagged this overvote; review the sheet (phieu review)",
        )
    return codes


def scan_day(value: object) -> dt.date | None:
    """The office's calendar day of a `scanned_at` value, or None when it is empty or not a
    date. Times with a zone (the store writes UTC) are moved to Vietnam's time (UTC+7, no
    summer time) first, so a sheet scanned at 06:30 on 1 October counts in October."""
    if _is_empty(value):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        stamp = pd.Timestamp(value if isinstance(value, dt.datetime) else str(value).strip())
    except (ValueError, TypeError):
        return None
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(OFFICE_TIMEZONE)
    day: dt.date = stamp.date()
    return day


# --- filtering and grouping ----------------------------------------------------------


def _date_filter(
    sheets: list[_Sheet], start: dt.date | None, end: dt.date | None
) -> tuple[list[_Sheet], int]:
    if start is None and end is None:
        return sheets, 0
    kept = [
        s for s in sheets
        if s.scanned is not None
        and (start is None or s.scanned >= start)
        and (end is None or s.scanned <= end)
    ]
    undated = sum(1 for s in sheets if s.scanned is None)
    return kept, undated


def _split(
    form: Form, grouping: Grouping, sheets: list[_Sheet], units: Units | None = None
) -> list[tuple[GroupInfo, list[_Sheet]]]:
    order: list[tuple[str, str]]
    key: Callable[[_Sheet], str]
    if grouping.kind == "unit" and units is not None:
        order, key = _unit_order(form, units, sheets)
    elif grouping.kind == "question":
        order, key = _question_order(form, grouping.key)
    elif grouping.kind == "batch":
        values = sorted({s.batch for s in sheets}, key=_natural)
        order = [(v, f"Đợt / Batch {v}" if v else "Không rõ đợt / No batch") for v in values]

        def key(s: _Sheet) -> str:
            return s.batch
    elif grouping.kind == "channel":
        known = list(CHANNEL_LABELS)
        values = known + sorted({s.channel for s in sheets} - set(known))
        order = [(v, CHANNEL_LABELS.get(v, v)) for v in values]

        def key(s: _Sheet) -> str:
            return s.channel
    else:
        period = cast(Period, grouping.key)
        values = sorted({period_value(s.scanned, period) for s in sheets if s.scanned})
        order = [(v, period_label(v)) for v in values] + [(UNDATED, LABEL_UNDATED)]

        def key(s: _Sheet) -> str:
            return period_value(s.scanned, period) if s.scanned else UNDATED
    members: dict[str, list[_Sheet]] = {}
    for sheet in sheets:
        members.setdefault(key(sheet), []).append(sheet)
    return [
        (GroupInfo(value, label, len(members[value])), members[value])
        for value, label in order
        if value in members
    ]


def _question_order(
    form: Form, question_id: str
) -> tuple[list[tuple[str, str]], Callable[[_Sheet], str]]:
    question = form.question(question_id)
    order = [(o.code, o.label) for o in question.options]
    order += [(NO_ANSWER, LABEL_NO_ANSWER), (TO_REVIEW, LABEL_TO_REVIEW)]

    def key(s: _Sheet) -> str:
        if s.to_review(question.id):
            return TO_REVIEW
        return s.answers[question.id][0] if s.answers[question.id] else NO_ANSWER

    return order, key


def _unit_order(
    form: Form, units: Units, sheets: list[_Sheet]
) -> tuple[list[tuple[str, str]], Callable[[_Sheet], str]]:
    """Groups of `units`: a unit question's options (named by `units.names` when given),
    the batches, or the one form version these sheets were printed from."""
    if units.source == "question":
        order, key = _question_order(form, units.question)
        return [(v, units.name(v, label)) for v, label in order], key
    if units.source == "batch":
        values = sorted({s.batch for s in sheets}, key=_natural)
        return [(v, units.name(v, v or "Không rõ đợt / No batch")) for v in values], (
            lambda s: s.batch)
    version = str(form.version)
    return [(version, units.name(version, f"Mẫu phiếu {form.id} phiên bản {version}"))], (
        lambda s: version)


def _notes(undated_dropped: int, duplicates: list[str]) -> list[str]:
    notes = []
    if undated_dropped:
        notes.append(
            f"{undated_dropped} phiếu không rõ ngày quét bị bỏ ra khi lọc theo ngày / "
            f"{undated_dropped} sheets without a scan date were left out by the date filter."
        )
    if duplicates:
        listed = ", ".join(duplicates)
        notes.append(f"Số sê-ri xuất hiện nhiều lần: {listed} — kiểm tra lại hòm phiếu / "
                     f"Serials seen more than once: {listed} — check the box.")
    return notes


def _natural(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


def _duplicate_serials(sheets: Iterable[_Sheet]) -> list[str]:
    seen = Counter(s.serial for s in sheets if s.serial)
    return sorted((serial for serial, n in seen.items() if n > 1), key=_natural)


# --- counting ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    valid: int
    no_answer: int
    to_review: int
    options: dict[str, int]  # code -> sheets that chose it among the valid


def _count(question: Question, sheets: list[_Sheet]) -> _Counts:
    options = {o.code: 0 for o in question.options}
    valid = no_answer = to_review = 0
    for sheet in sheets:
        if sheet.to_review(question.id):
            to_review += 1
        elif not sheet.answers[question.id]:
            no_answer += 1
        else:
            valid += 1
            for code in sheet.answers[question.id]:
                options[code] += 1
    return _Counts(valid, no_answer, to_review, options)


def _tally_rows(group: str, question: Question, counts: _Counts) -> list[TallyRow]:
    rows = [
        TallyRow(group, question.id, o.code, o.label, counts.options[o.code],
                 _percent(counts.options[o.code], counts.valid))
        for o in question.options
    ]
    rows.append(TallyRow(group, question.id, NO_ANSWER, LABEL_NO_ANSWER, counts.no_answer, None))
    rows.append(TallyRow(group, question.id, TO_REVIEW, LABEL_TO_REVIEW, counts.to_review, None))
    return rows


@dataclass(frozen=True)
class _Pool:
    """Sums over valid answers of scale questions, pooled across questions."""

    valid: int = 0
    satisfied: int = 0
    scored: int = 0  # valid answers whose option has a score
    score_sum: int = 0

    def __add__(self, other: _Pool) -> _Pool:
        return _Pool(self.valid + other.valid, self.satisfied + other.satisfied,
                     self.scored + other.scored, self.score_sum + other.score_sum)

    def row(self, group: str, scope: Scope, id_: str, label: str) -> IndexRow:
        mean = self.score_sum / self.scored if self.scored else None
        return IndexRow(group, scope, id_, self.valid, self.satisfied,
                        _percent(self.satisfied, self.valid), mean, label)


def _pool(form: Form, question: Question, counts: _Counts) -> _Pool:
    satisfied_codes = scale_of(form, question).satisfied
    scored = [(counts.options[o.code], o.score) for o in question.options if o.score is not None]
    return _Pool(
        valid=counts.valid,
        satisfied=sum(counts.options[c] for c in satisfied_codes if c in counts.options),
        scored=sum(n for n, _ in scored),
        score_sum=sum(n * score for n, score in scored),
    )


def scale_of(form: Form, question: Question) -> Scale:
    """The scale a scale question is answered on (the definition checked it exists)."""
    if question.scale is None:
        raise ValueError(f"question {question.id} is not on a scale")
    return form.scales[question.scale]


def is_scale_question(form: Form, question: Question) -> bool:
    """True for a single-choice question answered on one of the form's scales: those make
    the satisfaction index."""
    return question.type == "single" and question.scale in form.scales


def _index_rows(
    form: Form, group: str, questions: tuple[Question, ...], counts: dict[str, _Counts],
    method: Method = "pooled",
) -> list[IndexRow]:
    scale_questions = [q for q in questions if is_scale_question(form, q)]
    pools = {q.id: _pool(form, q, counts[q.id]) for q in scale_questions}
    rows = [pools[q.id].row(group, "question", q.id, q.text) for q in scale_questions]
    group_rows = []
    for group_id, label in form.groups.items():
        members = [q.id for q in scale_questions if q.group == group_id]
        if members:
            group_rows.append(_combine(method, [pools[m] for m in members], [
                r for r in rows if r.id in members], group, "criteria_group", group_id, label))
    rows.extend(group_rows)
    if scale_questions:
        if method == "sipas":
            # groups are the parts of the overall index; ungrouped questions make one more
            ungrouped = [q.id for q in scale_questions if q.group not in form.groups]
            parts = list(group_rows)
            if ungrouped:
                parts.append(_combine(method, [pools[q] for q in ungrouped],
                                      [r for r in rows if r.scope == "question" and r.id in ungrouped],
                                      group, "criteria_group", "", LABEL_OTHER_GROUP))
            total = sum(pools.values(), _Pool())
            rows.append(_averaged(total, parts, group, "overall", ALL_GROUP, LABEL_OVERALL))
        else:
            rows.append(sum(pools.values(), _Pool()).row(group, "overall", ALL_GROUP, LABEL_OVERALL))
    return rows


def _combine(method: Method, pools: list[_Pool], parts: list[IndexRow], group: str,
             scope: Scope, id_: str, label: str) -> IndexRow:
    total = sum(pools, _Pool())
    if method == "pooled":
        return total.row(group, scope, id_, label)
    return _averaged(total, parts, group, scope, id_, label)


def _averaged(total: _Pool, parts: list[IndexRow], group: str, scope: Scope, id_: str,
              label: str) -> IndexRow:
    """SIPAS: the unweighted mean of the parts' rates and means (parts without a figure
    are left out, as a question nobody answered has no rate); counts stay sums."""
    rates = [p.rate for p in parts if p.rate is not None]
    means = [p.mean for p in parts if p.mean is not None]
    return IndexRow(group, scope, id_, total.valid, total.satisfied,
                    sum(rates) / len(rates) if rates else None,
                    sum(means) / len(means) if means else None, label)


# --- small helpers -------------------------------------------------------------------


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, ROUND_DIGITS)


def _frame(records: list[tuple], columns: tuple[str, ...], *, ints: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for column in columns:
        if column in ints:
            frame[column] = frame[column].astype("int64")
        elif column in ("percent", "rate", "mean"):
            frame[column] = frame[column].astype("float64")  # None -> NaN -> empty in CSV
    return frame
