"""The parts of the report an office publishes beyond one period's figures (issue 13):
the period it covers and its name, the comparison with an earlier period, the results of
each unit ranked, and the wording of the method note. Pure: frames and a form in, plain
values out; `content.build_report` puts them in the `ReportContent`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from forms.errors import BadInput
from forms.model import Form
from pipeline.outputs.tally import (
    ALL_GROUP,
    NO_ANSWER,
    TO_REVIEW,
    IndexRow,
    Method,
    TallyResult,
    Units,
    canonical_period,
    period_bounds,
    period_label,
    period_value,
    previous_period,
    tally,
)
from pipeline.outputs.tally import Period as PeriodKind

PERIOD_KINDS = ("month", "quarter", "half", "year")  # smallest first
METHOD_NOTES = {
    "sipas": (
        "Chỉ số được tính theo phương pháp SIPAS (Chỉ số hài lòng về sự phục vụ hành chính): "
        "tỷ lệ hài lòng của mỗi tiêu chí là số câu trả lời «Hài lòng» hoặc «Rất hài lòng» chia "
        "cho số câu trả lời hợp lệ của tiêu chí đó (không tính câu bỏ trống và câu còn chờ xem "
        "lại); chỉ số của mỗi nhóm tiêu chí là trung bình cộng tỷ lệ của các tiêu chí trong "
        "nhóm; chỉ số hài lòng chung là trung bình cộng chỉ số của các nhóm. Điểm trung bình "
        "(thang 1–5) được tính theo cùng cách."
    ),
    "pooled": (
        "Chỉ số được tính theo phương pháp cộng dồn: tỷ lệ hài lòng là số câu trả lời «Hài "
        "lòng» hoặc «Rất hài lòng» chia cho số câu trả lời hợp lệ (không tính câu bỏ trống và "
        "câu còn chờ xem lại). Chỉ số của mỗi nhóm tiêu chí và chỉ số hài lòng chung cộng dồn "
        "mọi câu trả lời hợp lệ của các câu hỏi trong nhóm (hoặc của mọi câu hỏi theo thang "
        "đo). Điểm trung bình tính theo thang 1–5."
    ),
}
METHOD_NAMES = {"sipas": "phương pháp SIPAS (trung bình theo tiêu chí và nhóm)",
                "pooled": "phương pháp cộng dồn câu trả lời"}


@dataclass(frozen=True)
class Period:
    """What the report covers: dates (None: not filtered) and its name; `value` is the
    named period (`2026-Q3`, `2026-H1`, `2026`, `2026-09`) when it is one."""

    date_from: dt.date | None
    date_to: dt.date | None
    value: str | None = None


def chosen_period(period: str | None, quarter: str | None, date_from: dt.date | str | None,
                  date_to: dt.date | str | None) -> Period:
    """The period asked for: `period` (any kind) or `quarter` set both dates; dates given
    alone are kept, and named when they are exactly a month, quarter, half year or year."""
    named = period or quarter
    if named:
        if date_from or date_to or (period and quarter):
            raise BadInput("a period (--period/--quarter) cannot be combined with --from/--to",
                           "give either a period or dates (chọn kỳ báo cáo hoặc khoảng ngày)")
        start, end = period_bounds(named)
        return Period(start, end, canonical_period(named))
    first = _date(date_from)
    last = _date(date_to)
    return Period(first, last, whole_period(first, last) if first and last else None)


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(f"{value!r} is not a date", "write it as YYYY-MM-DD") from None


def whole_period(start: dt.date, end: dt.date) -> str | None:
    """The month, quarter, half year or year that runs exactly from `start` to `end`."""
    for kind in PERIOD_KINDS:
        value = period_value(start, kind)  # type: ignore[arg-type]
        if period_bounds(value) == (start, end):
            return value
    return None


def smallest_period(days: list[dt.date]) -> str | None:
    """The smallest quarter, half year or year holding every day of `days` (a report with
    no dates given is named by what its ballots cover)."""
    if not days:
        return None
    kinds: tuple[PeriodKind, ...] = ("quarter", "half", "year")
    for kind in kinds:
        values = {period_value(d, kind) for d in days}
        if len(values) == 1:
            return values.pop()
    return None


def period_name(period: Period, days: list[dt.date]) -> tuple[str, str | None]:
    """(the period as printed, its value when it is a named period)."""
    if period.value:
        return period_label(period.value), period.value
    if period.date_from and period.date_to:
        return f"Từ ngày {period.date_from:%d/%m/%Y} đến ngày {period.date_to:%d/%m/%Y}", None
    if not days:
        return "(chưa rõ thời gian)", None
    start, end = period.date_from or min(days), period.date_to or max(days)
    if period.date_from is None and period.date_to is None:
        value = smallest_period(days)
        if value:
            return period_label(value), value
    return f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}", None


# --- comparison with an earlier period ------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The earlier period's index: per criteria group id (and `""` for the overall)."""

    period: str  # as printed: "Quý II/2026"
    sheets: int
    rows: dict[str, IndexRow]  # criteria group id -> row; ALL_GROUP -> the overall row
    units: dict[str, IndexRow]  # unit value -> its overall row (when units are shown)

    def rate(self, key: str) -> float | None:
        row = self.rows.get(key)
        return row.rate if row else None

    def unit_rate(self, key: str) -> float | None:
        row = self.units.get(key)
        return row.rate if row else None


def comparison(form: Form, responses: pd.DataFrame, *, compare: str | None, current: str | None,
               method: Method, whole_sheet_review: frozenset[str], by: str | None,
               units: Units | None) -> Comparison | None:
    """The comparison asked for (`compare`, a period value), or by default the period just
    before `current` when that has ballots; None when there is nothing to compare with.
    Raises `BadInput` when the period asked for has no ballot."""
    value = canonical_period(compare) if compare else (
        previous_period(current) if current else None)
    if value is None:
        return None
    start, end = period_bounds(value)
    earlier = tally(form, responses, date_from=start, date_to=end, method=method,
                    whole_sheet_review=whole_sheet_review, by=by, units=units)
    if earlier.sheets == 0:
        if compare:
            raise BadInput(f"--compare {compare}: no ballot was counted in {period_label(value)}",
                           "choose a period that has ballots (kỳ so sánh phải có phiếu)")
        return None
    rows = {r.id: r for r in earlier.index if r.group == ALL_GROUP and r.scope == "criteria_group"}
    overall = [r for r in earlier.index if r.group == ALL_GROUP and r.scope == "overall"]
    if overall:
        rows[ALL_GROUP] = overall[0]
    unit_rows = {r.group: r for r in earlier.index if r.group != ALL_GROUP and r.scope == "overall"}
    return Comparison(period_label(value), earlier.sheets, rows, unit_rows)


def change(now: float | None, before: float | None) -> float | None:
    """Points of change of a rate; None when either is missing."""
    return None if now is None or before is None else now - before


def format_change(value: float | None) -> str:
    """`+2,5` / `−1,0` / `0,0` points; `—` when there is no value."""
    if value is None:
        return "—"
    sign = "+" if value > 0.05 else ("−" if value < -0.05 else "")
    return f"{sign}{abs(value):.1f}".replace(".", ",")


# --- units ranked -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitLine:
    rank: int | None  # None for "no answer" / "to review": not a unit
    value: str
    label: str
    sheets: int
    valid: int
    rate: float | None
    mean: float | None
    previous: float | None = None  # the comparison period's rate


@dataclass(frozen=True)
class Breakdown:
    """Each unit's figures, best first, and the ranked chart."""

    title: str  # "Kết quả theo Lĩnh vực"
    lines: tuple[UnitLine, ...]
    chart_png: bytes


def breakdown(result: TallyResult, title: str, compared: Comparison | None) -> Breakdown | None:
    """Each group of `result` (a tally with a grouping) with its overall index, ranked by
    rate (then mean, then size); the groups of sheets that did not say their unit come
    last, unranked. None when `result` has no grouping or no scale question."""
    from pipeline.outputs.report import charts

    overall = {r.group: r for r in result.index if r.scope == "overall"}
    if result.grouping.kind == "all" or not overall:
        return None
    units: list[UnitLine] = []
    others: list[UnitLine] = []
    for info in result.groups:
        if info.value == ALL_GROUP:
            continue
        row = overall.get(info.value)
        line = UnitLine(None, info.value, info.label.split(" / ")[0], info.sheets,
                        row.valid if row else 0, row.rate if row else None,
                        row.mean if row else None,
                        compared.unit_rate(info.value) if compared else None)
        (others if info.value in (NO_ANSWER, TO_REVIEW, "undated") else units).append(line)
    units.sort(key=lambda u: (u.rate is None, -(u.rate or 0.0), -(u.mean or 0.0), -u.sheets))
    ranked = [UnitLine(i, u.value, u.label, u.sheets, u.valid, u.rate, u.mean, u.previous)
              for i, u in enumerate(units, start=1)]
    chart = charts.ranked_chart([u.label for u in ranked], [u.rate for u in ranked],
                                f"Tỷ lệ hài lòng — {title}")
    return Breakdown(f"Kết quả theo {title[:1].lower() + title[1:]}", tuple(ranked + others),
                     chart)
