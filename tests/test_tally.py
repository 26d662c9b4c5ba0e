"""Tallies and the satisfaction index on hand-made frames with counts worked out by hand,
and on random frames against an independent count."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from forms.errors import BadInput, SurveyError
from pipeline.outputs.tally import INDEX_COLUMNS, TALLY_COLUMNS, quarter_bounds, tally

try:  # tests/ as a package (tests/__init__.py) or as a plain folder of modules
    from tests.test_tally_support import known_frame, mini_form, random_frame
except ImportError:
    from test_tally_support import known_frame, mini_form, random_frame


def count(result, question, option, group="all"):
    rows = [r for r in result.rows
            if r.group == group and r.question == question and r.option == option]
    assert len(rows) == 1, (group, question, option)
    return rows[0]


def test_counts_and_percent_of_valid_answers():
    result = tally(mini_form(), known_frame())
    assert result.sheets == 7 and result.rejected == 1
    assert [count(result, "tc1", c).count for c in "12345"] == [1, 1, 1, 1, 1]
    assert count(result, "tc1", "to_review").count == 2  # flagged + sheet-level needs_review
    assert count(result, "tc1", "no_answer").count == 0
    assert [count(result, "tc2", c).count for c in "12345"] == [0, 1, 1, 2, 1]
    assert count(result, "tc2", "no_answer").count == 1
    assert count(result, "tc2", "4").percent == pytest.approx(40.0)
    assert count(result, "tc2", "no_answer").percent is None
    assert [count(result, "linh_vuc", c).percent for c in ("dat_dai", "ho_tich", "khac")] == \
        pytest.approx([40.0, 40.0, 20.0])


def test_multi_choice_percent_is_of_sheets_that_answered():
    result = tally(mini_form(), known_frame())
    assert [count(result, "kenh", c).count for c in ("web", "niem_yet", "can_bo")] == [2, 1, 2]
    assert count(result, "kenh", "web").percent == pytest.approx(50.0)
    assert (count(result, "kenh", "no_answer").count, count(result, "kenh", "to_review").count) == (2, 1)


def test_satisfaction_index_per_question_group_and_overall():
    result = tally(mini_form(), known_frame())
    tc1 = result.index_row("all", "question", "tc1")
    assert (tc1.valid, tc1.satisfied, tc1.rate, tc1.mean) == (5, 2, pytest.approx(40.0), pytest.approx(3.0))
    tiep_can = result.index_row("all", "criteria_group", "tiep_can")
    assert (tiep_can.valid, tiep_can.satisfied) == (10, 5)
    assert tiep_can.rate == pytest.approx(50.0) and tiep_can.mean == pytest.approx(3.3)
    overall = result.index_row("all", "overall", "all")
    assert (overall.valid, overall.satisfied) == (15, 8)
    assert overall.rate == pytest.approx(800 / 15) and overall.mean == pytest.approx(50 / 15)


def test_provisional_while_flags_are_open():
    result = tally(mini_form(), known_frame())
    assert result.provisional
    assert (result.provisional.answers_to_review, result.provisional.sheets_to_review) == (6, 2)
    assert "tạm tính" in result.provisional.message() and "6" in result.provisional.message()


def test_a_reviewed_decision_changes_the_tally():
    before = known_frame()
    after = before.copy()
    row = after.index[after["serial"] == "1003"][0]
    after.loc[row, ["status", "flagged", "tc1"]] = ["reviewed", "", "4"]
    first, second = tally(mini_form(), before), tally(mini_form(), after)
    assert count(second, "tc1", "4").count == count(first, "tc1", "4").count + 1
    assert count(second, "tc1", "to_review").count == count(first, "tc1", "to_review").count - 1
    assert second.index_row("all", "question", "tc1").valid == 6
    assert second.provisional.answers_to_review == first.provisional.answers_to_review - 1


def test_no_provisional_warning_when_all_decided():
    done = known_frame()
    done = done[~done["status"].eq("needs_review")]
    result = tally(mini_form(), done)
    assert not result.provisional and result.provisional.message() == ""


def test_groups_by_question_batch_and_period():
    form, responses = mini_form(), known_frame()
    by_q = tally(form, responses, by="linh_vuc")
    assert [(g.value, g.sheets) for g in by_q.groups] == [
        ("all", 7), ("dat_dai", 2), ("ho_tich", 2), ("khac", 1), ("no_answer", 1), ("to_review", 1)]
    assert by_q.group_label("ho_tich") == "Hộ tịch"
    assert count(by_q, "cc1", "4", group="dat_dai").count == 1
    by_batch = tally(form, responses, by="batch")
    assert [(g.value, g.sheets) for g in by_batch.groups][1:] == [("1", 3), ("2", 2), ("3", 2)]
    by_quarter = tally(form, responses, period="quarter")
    assert [(g.value, g.label, g.sheets) for g in by_quarter.groups][1:] == [
        ("2026-Q3", "Quý III/2026", 4), ("2026-Q4", "Quý IV/2026", 2),
        ("undated", "Không rõ ngày quét / Scan date unknown", 1)]
    by_month = tally(form, responses, period="month")
    assert [g.value for g in by_month.groups][1:] == ["2026-07", "2026-08", "2026-10", "undated"]


def test_date_filter_is_inclusive_and_notes_undated_sheets():
    start, end = quarter_bounds("2026-Q3")
    result = tally(mini_form(), known_frame(), date_from=start, date_to=end)
    assert (result.sheets, result.rejected) == (4, 1)
    assert any("không rõ ngày" in note for note in result.notes)
    one_day = tally(mini_form(), known_frame(), date_from="2026-07-03", date_to="2026-07-03")
    assert one_day.sheets == 2


def test_frames_have_the_design_columns_and_empty_percent():
    result = tally(mini_form(), known_frame())
    tally_frame, index_frame = result.tally_frame(), result.index_frame()
    assert tuple(tally_frame.columns) == TALLY_COLUMNS
    assert tuple(index_frame.columns) == INDEX_COLUMNS
    assert set(index_frame["scope"]) == {"question", "criteria_group", "overall"}
    no_answer = tally_frame[tally_frame["option"] == "no_answer"]
    assert no_answer["percent"].isna().all()
    assert "y_kien" not in set(tally_frame["question"])  # text goes to the report
    assert tally_frame["count"].dtype == "int64"


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("grouping", [{}, {"by": "linh_vuc"}, {"by": "batch"},
                                      {"period": "quarter"}, {"period": "month"}],
                         ids=["all", "by-linh_vuc", "by-batch", "per-quarter", "per-month"])
def test_random_frames_match_an_independent_count(seed, grouping):
    form, responses = mini_form(), random_frame(300, seed)
    result = tally(form, responses, **grouping)
    expected = _independent_counts(responses, grouping)
    got = {(r.group, r.question, r.option): r.count for r in result.rows}
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    for row in result.index:
        if row.scope == "question":
            assert row.valid == sum(expected.get((row.group, row.id, c), 0) for c in "12345")
            assert row.satisfied == sum(expected.get((row.group, row.id, c), 0) for c in "45")


def _independent_counts(responses: pd.DataFrame, grouping: dict) -> dict:
    """Counts with pandas, written separately from pipeline.outputs.tally."""
    live = responses[responses["status"] != "rejected"].copy()
    flagged = live["flagged"].fillna("").str.split("|")
    sheet_level = live["status"].eq("needs_review") & live["flagged"].fillna("").eq("")

    def classify(qid):
        waits = flagged.apply(lambda f: qid in f) | sheet_level
        return live[qid].where(~waits, "__review__")

    keys = [pd.Series("all", index=live.index)]
    if grouping.get("by") == "batch":
        keys.append(live["batch"].astype(str))
    elif grouping.get("by"):
        keys.append(classify(grouping["by"]).replace({"": "no_answer", "__review__": "to_review"}))
    elif grouping.get("period"):
        stamps = pd.to_datetime(live["scanned_at"].replace("", None))
        fmt = (stamps.dt.year.astype("Int64").astype(str) + "-Q" + stamps.dt.quarter.astype("Int64").astype(str)
               if grouping["period"] == "quarter" else stamps.dt.strftime("%Y-%m"))
        keys.append(fmt.where(stamps.notna(), "undated"))
    out: dict = {}
    for key in keys:
        for qid in ("linh_vuc", "kenh", "tc1", "tc2", "cc1"):
            values = classify(qid)
            for group, value in zip(key, values):
                if value == "__review__":
                    codes = ["to_review"]
                elif value == "":
                    codes = ["no_answer"]
                else:
                    codes = value.split("|")
                for code in codes:
                    out[(group, qid, code)] = out.get((group, qid, code), 0) + 1
    return out


def test_unknown_option_code_is_an_error_not_a_silent_count():
    bad = known_frame()
    bad.loc[0, "tc1"] = "7"
    with pytest.raises(SurveyError, match="1001.*tc1.*'7'"):
        tally(mini_form(), bad)


def test_single_choice_overvote_in_the_frame_is_an_error():
    bad = known_frame()
    bad.loc[0, "linh_vuc"] = "dat_dai|khac"
    with pytest.raises(SurveyError, match="overvote"):
        tally(mini_form(), bad)


def test_missing_column_and_bad_options_are_reported():
    with pytest.raises(SurveyError, match="cc1"):
        tally(mini_form(), known_frame().drop(columns=["cc1"]))
    with pytest.raises(BadInput, match="kenh"):
        tally(mini_form(), known_frame(), by="kenh")
    with pytest.raises(BadInput, match="nope"):
        tally(mini_form(), known_frame(), by="nope")
    with pytest.raises(BadInput, match="cannot be combined"):
        tally(mini_form(), known_frame(), by="batch", period="month")
    with pytest.raises(BadInput, match="after"):
        tally(mini_form(), known_frame(), date_from="2026-10-01", date_to="2026-07-01")
    with pytest.raises(BadInput, match="not a date"):
        tally(mini_form(), known_frame(), date_from="01/07/2026")


def test_quarter_bounds():
    assert quarter_bounds("2026-Q3") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert quarter_bounds("Q4/2026") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    with pytest.raises(BadInput):
        quarter_bounds("2026-Q5")


def test_store_dtypes_give_the_same_tally():
    """responses_frame gives int serials and pandas' `string` dtype (missing = pd.NA)."""
    plain = known_frame()
    typed = plain.astype({c: "string" for c in plain.columns if c != "serial"})
    typed["serial"] = typed["serial"].astype("int64")
    typed.loc[1, "tc2"] = pd.NA
    assert tally(mini_form(), typed).tally_frame().equals(tally(mini_form(), plain).tally_frame())


def test_scan_dates_in_utc_count_on_the_office_day():
    late = known_frame()
    late.loc[0, "scanned_at"] = "2026-09-30T23:30:00+00:00"  # 06:30 on 1 October in Hà Nội
    result = tally(mini_form(), late, period="quarter")
    assert result.group_label("2026-Q4") == "Quý IV/2026"
    assert [g.sheets for g in result.groups if g.value == "2026-Q4"] == [3]


def test_a_whole_sheet_flag_puts_every_question_of_the_sheet_to_review():
    # 1003 waits on tc1 only; with a missing page as well, none of its answers may count.
    result = tally(mini_form(), known_frame(), whole_sheet_review={"1003", 1004})
    for qid in ("linh_vuc", "kenh", "tc1", "tc2", "cc1"):
        before = count(tally(mini_form(), known_frame()), qid, "to_review").count
        assert count(result, qid, "to_review").count == before + (qid != "tc1")
    assert count(result, "tc2", "2").count == 0  # 1003's tc2 answer no longer counted
    # 1004 is `reviewed`: a serial listed for a sheet no longer waiting changes nothing.
    assert count(result, "tc1", "4").count == 1


def test_a_serial_twice_in_the_frame_is_noted():
    doubled = pd.concat([known_frame(), known_frame().iloc[[0]]], ignore_index=True)
    result = tally(mini_form(), doubled)
    assert any("1001" in note and "nhiều lần" in note for note in result.notes)
    assert not tally(mini_form(), known_frame()).notes
