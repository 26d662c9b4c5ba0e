"""What an office publishes (issue 13): the SIPAS and pooled indices against hand-computed
values, period labels, units and channels, readable exports, and answers imported from an
online form or a kiosk (round trip through `export responses`, bad rows refused)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from forms.errors import BadInput, SurveyError
from pipeline.outputs.tally import (
    Units,
    canonical_period,
    period_bounds,
    period_label,
    period_value,
    previous_period,
    tally,
)

try:
    from tests.test_tally_support import frame, known_frame, mini_form
except ImportError:
    from test_tally_support import frame, known_frame, mini_form

pytestmark = pytest.mark.slow  # boxes scanned and imported


# --- the index: SIPAS averaging and pooling, by hand ---------------------------------


def _uneven_frame() -> pd.DataFrame:
    """tc1 answered 4 times (all 4: 100 %), tc2 once (1: 0 %), cc1 twice (5 and 2: 50 %)."""
    rows = []
    for serial, tc1, tc2, cc1 in [("1", "4", "1", "5"), ("2", "4", "", "2"),
                                  ("3", "4", "", ""), ("4", "4", "", "")]:
        rows.append((serial, "counted", "", "1", "2026-07-01", "ho_tich", "", tc1, tc2, cc1, ""))
    return frame(rows)


def test_pooled_index_weighs_every_answer():
    result = tally(mini_form(), _uneven_frame(), method="pooled")
    tiep_can = result.index_row("all", "criteria_group", "tiep_can")
    assert (tiep_can.valid, tiep_can.satisfied) == (5, 4)
    assert tiep_can.rate == pytest.approx(80.0)  # 4 of 5 answers
    assert tiep_can.mean == pytest.approx((4 * 4 + 1) / 5)
    overall = result.index_row("all", "overall", "all")
    assert overall.rate == pytest.approx(500 / 7)  # 5 of 7 answers
    assert overall.mean == pytest.approx((16 + 1 + 5 + 2) / 7)


def test_sipas_index_is_the_mean_of_question_rates_then_of_group_rates():
    result = tally(mini_form(), _uneven_frame(), method="sipas")
    assert result.method == "sipas"
    tiep_can = result.index_row("all", "criteria_group", "tiep_can")
    assert (tiep_can.valid, tiep_can.satisfied) == (5, 4)  # counts stay sums
    assert tiep_can.rate == pytest.approx((100.0 + 0.0) / 2)
    assert tiep_can.mean == pytest.approx((4.0 + 1.0) / 2)
    cong_chuc = result.index_row("all", "criteria_group", "cong_chuc")
    assert cong_chuc.rate == pytest.approx(50.0) and cong_chuc.mean == pytest.approx(3.5)
    overall = result.index_row("all", "overall", "all")
    assert overall.rate == pytest.approx((50.0 + 50.0) / 2)
    assert overall.mean == pytest.approx((2.5 + 3.5) / 2)
    # a question's own figures do not depend on the method
    assert result.index_row("all", "question", "tc1").rate == pytest.approx(100.0)


def test_the_two_methods_on_the_known_frame():
    pooled = tally(mini_form(), known_frame(), method="pooled")
    sipas = tally(mini_form(), known_frame(), method="sipas")
    # tc1 40 %, tc2 60 % (5 valid each) -> tiep_can 50 % either way; cc1 60 %
    assert sipas.index_row("all", "criteria_group", "tiep_can").rate == pytest.approx(50.0)
    assert pooled.index_row("all", "overall", "all").rate == pytest.approx(800 / 15)
    assert sipas.index_row("all", "overall", "all").rate == pytest.approx((50.0 + 60.0) / 2)
    assert sipas.index_row("all", "overall", "all").mean == pytest.approx((3.3 + 3.4) / 2)
    with pytest.raises(BadInput):
        tally(mini_form(), known_frame(), method="median")  # type: ignore[arg-type]


# --- periods ------------------------------------------------------------------------


def test_period_labels_values_and_bounds():
    assert period_label("2026") == "Năm 2026"
    assert period_label("2026-H1") == "6 tháng đầu năm 2026"
    assert period_label("2026-H2") == "6 tháng cuối năm 2026"
    assert period_label("2026-Q3") == "Quý III/2026"
    assert period_label("2026-09") == "Tháng 09/2026"
    assert period_value(dt.date(2026, 6, 30), "half") == "2026-H1"
    assert period_value(dt.date(2026, 7, 1), "half") == "2026-H2"
    assert period_value(dt.date(2026, 7, 1), "year") == "2026"
    assert period_bounds("2026-H2") == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert period_bounds("2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert period_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert canonical_period("2026q3") == "2026-Q3" and canonical_period("2026h1") == "2026-H1"
    assert previous_period("2026-Q1") == "2025-Q4"
    assert previous_period("2026-H1") == "2025-H2"
    assert previous_period("2026") == "2025"
    with pytest.raises(BadInput):
        period_bounds("mùa thu")


def test_tally_by_half_year_and_year():
    halves = tally(mini_form(), known_frame(), period="half")
    assert [(g.value, g.label, g.sheets) for g in halves.groups[1:]] == [
        ("2026-H2", "6 tháng cuối năm 2026", 6), ("undated", halves.groups[-1].label, 1)]
    years = tally(mini_form(), known_frame(), period="year")
    assert years.groups[1].label == "Năm 2026"


# --- units and channels -------------------------------------------------------------


def test_units_from_a_question_with_names_from_survey_yaml():
    units = Units("question", "linh_vuc", (("dat_dai", "Phòng Đất đai"),), "Đơn vị")
    result = tally(mini_form(), known_frame(), by="unit", units=units)
    by_question = tally(mini_form(), known_frame(), by="linh_vuc")
    assert [g.value for g in result.groups] == [g.value for g in by_question.groups]
    assert result.group_label("dat_dai") == "Phòng Đất đai"
    assert result.group_label("ho_tich") == "Hộ tịch"  # no name given: the option label
    assert result.rows == by_question.rows


def test_units_from_batch_and_version_and_the_errors():
    units = Units("batch", names=(("1", "UBND xã A"), ("2", "UBND xã B")))
    result = tally(mini_form(), known_frame(), by="unit", units=units)
    assert [(g.label, g.sheets) for g in result.groups[1:]] == [
        ("UBND xã A", 3), ("UBND xã B", 2), ("3", 2)]
    version = tally(mini_form(), known_frame(), by="unit", units=Units("version"))
    assert [g.sheets for g in version.groups] == [7, 7]
    with pytest.raises(BadInput, match="units"):
        tally(mini_form(), known_frame(), by="unit")
    with pytest.raises(BadInput):
        tally(mini_form(), known_frame(), by="unit", units=Units("question", "kenh"))


def test_by_channel_splits_paper_and_online():
    responses = known_frame()
    responses["channel"] = ["paper"] * 5 + ["online", "online", "kiosk"]
    result = tally(mini_form(), responses, by="channel")
    assert [(g.value, g.sheets) for g in result.groups] == [
        ("all", 7), ("paper", 4), ("online", 2), ("kiosk", 1)]
    assert tally(mini_form(), known_frame(), by="channel").groups[1].value == "paper"


# --- readable exports ---------------------------------------------------------------


def test_labels_replace_codes_and_numbers_stay_numbers(tmp_path):
    from pipeline.outputs.export import write_frame
    from pipeline.outputs.labels import labelled_responses
    from pipeline.outputs.tally_tables import write_tally

    form = mini_form()
    responses = known_frame().drop(columns=["batch", "scanned_at"])
    readable = labelled_responses(form, responses)
    assert list(readable.columns[:3]) == ["Số phiếu", "Trạng thái", "Câu chờ xem lại"]
    assert "Lĩnh vực giải quyết" in readable.columns
    first = readable.iloc[0]
    assert first["Lĩnh vực giải quyết"] == "Đất đai"
    assert first["Ông/Bà biết thủ tục qua đâu?"] == "Trang web; Cán bộ"
    assert first["Trạng thái"] == "Đã tính"
    assert readable.iloc[2]["Câu chờ xem lại"] == "Nơi ngồi chờ có đủ chỗ ngồi"

    path = write_frame(responses, tmp_path / "r.xlsx")
    back = pd.read_excel(path)
    assert pd.api.types.is_numeric_dtype(back["tc1"]) and back["tc1"].iloc[0] == 5
    assert back["linh_vuc"].iloc[0] == "dat_dai"  # codes that are words stay text

    result = tally(form, known_frame())
    paths = write_tally(result, tmp_path / "t.csv", form)
    table = pd.read_csv(paths[0], encoding="utf-8-sig")
    assert list(table.columns) == ["Nhóm", "Câu hỏi", "Lựa chọn", "Số phiếu", "Tỷ lệ (%)"]
    assert "Rất hài lòng" in set(table["Lựa chọn"]) and "tc1" not in set(table["Câu hỏi"])
    index = pd.read_csv(paths[1], encoding="utf-8-sig")
    assert "Chỉ số hài lòng chung" in set(index["Tiêu chí"])


# --- survey.yaml publishing settings --------------------------------------------------


def test_publish_settings_are_read_and_checked(tmp_path):
    from pipeline.outputs.settings import load_publish_settings

    (tmp_path / "de-xuat.txt").write_text("Đề nghị một.\ntiếp dòng.\n\n- Ý hai\n- Ý ba\n",
                                          encoding="utf-8")
    data = {
        "method": "sipas",
        "units": {"from": "question", "question": "linh_vuc", "names": {"ho_tich": "Hộ tịch"}},
        "document": {"office": "SỞ TƯ PHÁP", "number": "12/BC-STP", "place": "Ninh Bình",
                     "recipients": ["UBND tỉnh", "Lưu: VT"],
                     "signer": {"title": "GIÁM ĐỐC", "name": "Nguyễn Văn An"},
                     "date": "2026-10-05"},
        "proposals": "de-xuat.txt",
    }
    path = tmp_path / "survey.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = load_publish_settings(path)
    assert settings.method == "sipas"
    assert settings.units == Units("question", "linh_vuc", (("ho_tich", "Hộ tịch"),), "Đơn vị")
    assert settings.document.date == dt.date(2026, 10, 5)
    assert settings.proposals == ("Đề nghị một. tiếp dòng.", "- Ý hai", "- Ý ba")
    del data["document"]["signer"]
    data["method"] = "sipas"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SurveyError, match="signer"):
        load_publish_settings(path)
    path.write_text("method: mean\n", encoding="utf-8")
    with pytest.raises(SurveyError, match="method"):
        load_publish_settings(path)
    path.write_text("forms: [x]\n", encoding="utf-8")
    assert load_publish_settings(path).document is None


# --- import ---------------------------------------------------------------------------


def _answers_csv(path, n: int, seed: int, serials: bool = True) -> pd.DataFrame:
    """`n` random, valid rows for the shipped mot-cua form (codes as on the form)."""
    from forms.library import load_form

    form = load_form("mot-cua")
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {"serial": str(5000 + i)} if serials else {}
        for q in form.questions():
            if q.type == "text":
                row[q.id] = "Cần thêm chỗ ngồi" if rng.random() < 0.3 else ""
            elif q.type == "multi":
                row[q.id] = "|".join(o.code for o in q.options if rng.random() < 0.3)
            else:
                row[q.id] = "" if rng.random() < 0.1 else str(rng.choice([o.code for o in q.options]))
        rows.append(row)
    data = pd.DataFrame(rows)
    data.to_csv(path, index=False, encoding="utf-8-sig")
    return data


def _survey(tmp_path, name):
    from pipeline.store.survey import init_survey

    return init_survey(tmp_path / name, ["mot-cua"])


def test_import_round_trip_equals_the_tally(tmp_path, run_phieu):
    _answers_csv(tmp_path / "online.csv", 30, seed=3)
    a, b = _survey(tmp_path, "a"), _survey(tmp_path, "b")
    run = run_phieu("import", tmp_path / "online.csv", "--channel", "online", "--survey", a.root)
    assert run.code == 0, run.err
    assert "30 phiếu" in run.out
    run = run_phieu("export", "responses", "--survey", a.root, "-o", tmp_path / "a.csv")
    assert run.code == 0, run.err
    run = run_phieu("import", tmp_path / "a.csv", "--channel", "kiosk", "--survey", b.root)
    assert run.code == 0, run.err
    run = run_phieu("tally", "--survey", a.root, "-o", tmp_path / "ta.csv")
    run = run_phieu("tally", "--survey", b.root, "-o", tmp_path / "tb.csv")
    ta = pd.read_csv(tmp_path / "ta.csv", encoding="utf-8-sig")
    tb = pd.read_csv(tmp_path / "tb.csv", encoding="utf-8-sig")
    assert ta["count"].sum() > 0
    pd.testing.assert_frame_equal(ta, tb)
    # the channel is kept and splits the tally
    run = run_phieu("tally", "--survey", b.root, "--by", "channel")
    assert run.code == 0 and "Ki-ốt / Kiosk" in run.out
    # the same file again adds nothing
    run = run_phieu("import", tmp_path / "a.csv", "--channel", "kiosk", "--survey", b.root)
    assert run.code == 0 and "nothing added" in run.out
    run = run_phieu("export", "responses", "--survey", b.root, "-o", tmp_path / "b.csv")
    assert len(pd.read_csv(tmp_path / "b.csv")) == 30


def test_import_xlsx_without_serials_numbers_after_the_survey(tmp_path):
    from forms.library import load_form
    from pipeline.outputs.export import responses_frame
    from pipeline.scan.importer import import_answers
    from pipeline.store.database import open_store

    survey = _survey(tmp_path, "s")
    data = _answers_csv(tmp_path / "k.csv", 5, seed=4)
    import_answers(survey, [load_form("mot-cua")], tmp_path / "k.csv", "kiosk")
    data.drop(columns=["serial"]).to_excel(tmp_path / "o.xlsx", index=False)
    summary = import_answers(survey, [load_form("mot-cua")], tmp_path / "o.xlsx", "online")
    assert (summary.added, summary.first_serial, summary.last_serial) == (5, 5005, 5009)
    frame = responses_frame(open_store(survey.store_url), load_form("mot-cua"))
    assert list(frame["channel"]) == ["kiosk"] * 5 + ["online"] * 5
    assert list(frame["linh_vuc"][:5]) == list(frame["linh_vuc"][5:])


def test_bad_rows_are_named_by_line_and_nothing_is_imported(tmp_path, run_phieu):
    from forms.library import load_form
    from pipeline.outputs.export import responses_frame
    from pipeline.scan.importer import import_answers
    from pipeline.store.database import open_store

    survey = _survey(tmp_path, "s")
    data = _answers_csv(tmp_path / "good.csv", 6, seed=5)
    bad = data.copy()
    bad.loc[2, "linh_vuc"] = "dat_dai"  # not an option of mot-cua
    bad.loc[4, "thoi_gian"] = "som|tre_hen"  # two answers to a single-choice question
    bad.loc[5, "serial"] = bad.loc[0, "serial"]  # the same ballot twice
    bad.to_csv(tmp_path / "bad.csv", index=False, encoding="utf-8-sig")
    run = run_phieu("import", tmp_path / "bad.csv", "--channel", "online", "--survey", survey.root)
    assert run.code == BadInput.exit_code
    assert "line 4" in run.err and "dat_dai" in run.err
    assert "line 6" in run.err and "line 7" in run.err and "nothing imported" in run.err
    assert len(responses_frame(open_store(survey.store_url), load_form("mot-cua"))) == 0
    data.drop(columns=["linh_vuc"]).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(BadInput, match="linh_vuc"):
        import_answers(survey, [load_form("mot-cua")], tmp_path / "cols.csv", "online")
    with pytest.raises(BadInput, match="channel"):
        import_answers(survey, [load_form("mot-cua")], tmp_path / "good.csv", "paper")
    import_answers(survey, [load_form("mot-cua")], tmp_path / "good.csv", "online")
    again = data.copy()
    again.loc[0, "y_kien"] = "khác tệp"  # another file with serials already in the survey
    again.to_csv(tmp_path / "again.csv", index=False)
    with pytest.raises(SurveyError, match="already"):
        import_answers(survey, [load_form("mot-cua")], tmp_path / "again.csv", "online")
    assert len(responses_frame(open_store(survey.store_url), load_form("mot-cua"))) == 6
