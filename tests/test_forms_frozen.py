"""Frozen layouts (forms/frozen.py): a survey keeps the layout its paper was printed from.

The layout written beside a survey's form reads back equal; every command working on the
survey's forms uses it; a form edited after it was frozen is refused with one message
naming the file (cosmetic edits pass); a workspace made before layouts were frozen is
frozen on first use, with a warning, once. The slow test prints a survey's ballots, then
changes the layout engine, and reads them: 0 failed pages, the truth's answers — while the
shipped form laid out by the changed engine cannot read the same pages.
"""
from __future__ import annotations

import json
import logging

import pytest

import forms.layout as layout_module
from forms.errors import FrozenFormChanged, SurveyError
from forms.frozen import (
    FrozenLayoutError,
    definition_fingerprint,
    frozen_path_for,
    layout_from_json,
    layout_to_json,
    read_frozen,
)
from forms.layout import layout_form
from forms.library import list_forms, load_form
from pipeline.store.survey import init_survey, load_survey, load_survey_forms


@pytest.mark.parametrize("form_id", ["mot-cua", "sipas"])
def test_a_layout_round_trips_exactly_through_json_text(form_id):
    layout = layout_form(load_form(form_id))
    text = json.dumps(layout_to_json(layout), ensure_ascii=False)
    back = layout_from_json(json.loads(text))
    assert back == layout
    # Equal down to every float (== on 0.1 + 0.2 vs 0.3 would not hide a rounding).
    first = layout.pages[-1].items[-1]
    assert repr(back.pages[-1].items[-1]) == repr(first)
    assert back.pages[0].geometry.markers == layout.pages[0].geometry.markers


def test_both_shipped_forms_are_shipped():
    assert {f.id for f in list_forms()} >= {"mot-cua", "sipas"}


@pytest.fixture
def survey(tmp_path):
    return init_survey(tmp_path / "ws", ["mot-cua", "sipas"])


def test_init_freezes_each_form_and_the_survey_uses_the_frozen_layout(survey):
    for path in survey.form_files:
        frozen = read_frozen(frozen_path_for(path))
        assert frozen.frozen_by == "init"
        assert frozen.fingerprint == definition_fingerprint(path.read_text(encoding="utf-8"))
    for form in load_survey_forms(survey):
        assert form.frozen is not None
        assert layout_form(form) is form.frozen.layout
        assert layout_form(form) == layout_form(load_form(form.id))  # same engine today
    # The survey's YAML loaded by path (`--form ws/forms/x.yaml`) comes frozen too.
    assert load_form(survey.form_files[0]).frozen is not None


def test_a_form_edited_after_freezing_is_refused_naming_the_file(survey, run_phieu):
    path = survey.root / "forms" / "mot-cua-v1.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("Thời gian trả hồ sơ", "Thời gian trả kết quả", 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(FrozenFormChanged) as err:
        load_survey_forms(survey)
    assert str(path) in err.value.message
    assert "version" in err.value.remedy
    run = run_phieu("status", "--survey", survey.root)  # status does not load forms
    assert run.code == 0
    run = run_phieu("export", "responses", "--form", "mot-cua", "--survey", survey.root,
                    "-o", survey.root / "r.csv")
    assert run.code == FrozenFormChanged.exit_code == 4
    assert str(path) in run.err and "frozen" in run.err
    assert not (survey.root / "r.csv").exists()
    path.write_text(text, encoding="utf-8")  # undone: fine again
    assert all(f.frozen is not None for f in load_survey_forms(survey))


def test_cosmetic_edits_and_comment_topics_are_not_a_changed_form(survey):
    path = survey.root / "forms" / "mot-cua-v1.yaml"
    before = layout_form(load_survey_forms(survey)[0])
    text = path.read_text(encoding="utf-8")
    assert "comment_topics:" in text
    edited = "# sửa lại chú thích, thêm dòng trống\n\n" + text.replace(
        "comment_topics:", "comment_topics:\n  - {label: Chủ đề mới, keywords: [từ khoá mới]}", 1)
    path.write_text(edited, encoding="utf-8")
    form = next(f for f in load_survey_forms(survey) if f.id == "mot-cua")
    assert form.comment_topics[0].label == "Chủ đề mới"
    assert layout_form(form) == before


def test_a_workspace_without_frozen_layouts_is_frozen_on_first_use_once(survey, caplog):
    for path in survey.form_files:
        frozen_path_for(path).unlink()
    with caplog.at_level(logging.WARNING, logger="pipeline.store.survey"):
        forms = load_survey_forms(survey)
    warned = [r for r in caplog.records if "frozen" in r.getMessage()]
    assert len(warned) == len(survey.form_files)
    assert all(f.frozen is not None for f in forms)
    assert read_frozen(frozen_path_for(survey.form_files[0])).frozen_by == "first_use"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipeline.store.survey"):
        load_survey_forms(survey)
    assert not caplog.records  # said once: the next command finds the frozen files


def test_the_first_use_warning_reaches_the_clerk_on_stderr(survey, run_phieu):
    frozen_path_for(survey.form_files[0]).unlink()
    run = run_phieu("tally", "--form", "mot-cua", "--survey", survey.root)
    assert "frozen" in run.err and "mot-cua-v1.yaml" in run.err
    run = run_phieu("tally", "--form", "mot-cua", "--survey", survey.root)
    assert "frozen" not in run.err


def test_a_damaged_frozen_layout_is_refused_not_replaced(survey):
    frozen = frozen_path_for(survey.form_files[0])
    frozen.write_text(frozen.read_text(encoding="utf-8")[:500], encoding="utf-8")
    with pytest.raises(FrozenLayoutError) as err:
        load_survey_forms(survey)
    assert str(frozen) in err.value.message and isinstance(err.value, SurveyError)
    document = {"phieu_frozen_layout": 99}
    frozen.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(FrozenLayoutError, match="format 99"):
        load_survey_forms(survey)


def test_init_again_keeps_the_frozen_layout_already_there(tmp_path):
    first = init_survey(tmp_path / "ws", ["mot-cua"])
    frozen = frozen_path_for(first.form_files[0])
    kept = frozen.read_bytes()
    first.settings_path.unlink()
    init_survey(tmp_path / "ws", ["mot-cua"])
    assert frozen.read_bytes() == kept


def test_a_new_survey_from_another_surveys_copy_keeps_its_frozen_layout(survey, tmp_path,
                                                                       monkeypatch):
    _changed_engine(monkeypatch)
    copy = survey.root / "forms" / "mot-cua-v1.yaml"
    other = init_survey(tmp_path / "other", [str(copy)])
    (form,) = load_survey_forms(other)
    assert layout_form(form) == layout_form(load_form(copy))
    fresh = layout_form(load_form("mot-cua"))
    assert layout_form(form) != fresh  # the engine did change
    assert layout_form(form).box_border_mm != fresh.box_border_mm


def _changed_engine(monkeypatch):
    """The layout engine of a later phieu: more room between blocks and between options,
    boxes with a thicker border."""
    monkeypatch.setattr(layout_module, "BLOCK_GAP_MM", layout_module.BLOCK_GAP_MM + 1.0)
    monkeypatch.setattr(layout_module, "ITEM_GAP_MM", layout_module.ITEM_GAP_MM + 1.0)
    monkeypatch.setattr(layout_module, "BOX_BORDER_MM", layout_module.BOX_BORDER_MM + 0.25)


@pytest.mark.slow
def test_paper_printed_for_a_survey_reads_after_the_layout_engine_changed(tmp_path, run_phieu,
                                                                        monkeypatch):
    from fixtures.box import make_ballot_box
    from omr import PageFailure, decode_image, read_page
    from pipeline.scan.templates import prepare_templates

    ws = tmp_path / "ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    (printed_form,) = load_survey_forms(load_survey(ws))
    truth = make_ballot_box(printed_form, 4, tmp_path / "box", seed=5, formats=("images",),
                            mix={"scan": 1.0}, comment_rate=0.0)

    printed_layout = layout_form(printed_form)
    _changed_engine(monkeypatch)
    assert layout_form(load_form("mot-cua")) != printed_layout  # the change moves the print

    # Without the freeze (the shipped form, laid out by today's engine) the paper is lost.
    page = next(p for p in sorted((tmp_path / "box").iterdir()) if p.suffix in (".jpg", ".png"))
    catalog = prepare_templates([load_form("mot-cua")], cache=False)
    assert isinstance(read_page(decode_image(page.read_bytes()), catalog, ocr=False), PageFailure)

    run = run_phieu("scan", tmp_path / "box", "--jobs", "1", cwd=ws)
    assert run.code == 0, run.err
    run_phieu("export", "pages", "-o", ws / "pages.csv", cwd=ws)
    import pandas as pd

    pages = pd.read_csv(ws / "pages.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(pages) == len(truth.pages) and set(pages.status) == {"read"}
    run_phieu("export", "responses", "-o", ws / "responses.csv", cwd=ws)
    rows = pd.read_csv(ws / "responses.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False).set_index("serial")
    compared = answered = 0
    for sheet in truth.sheets:
        row = rows.loc[str(sheet.serial)]
        flagged = set(filter(None, row["flagged"].split("|")))
        for q in sheet.questions:
            if q.type == "text" or q.answer is None:
                continue
            answered += 1
            if q.question not in flagged:
                assert row[q.question] == "|".join(q.answer), (sheet.serial, q.question)
                compared += 1
    assert compared >= 0.8 * answered > 0

    # Printing more for the survey after the change prints the frozen layout, not the new one.
    assert run_phieu("forms", "render", "mot-cua", "--survey", ws, "--copies", "1",
                     "--out", tmp_path / "more.pdf").code == 0
    printed = json.loads((tmp_path / "more.layout.json").read_text(encoding="utf-8"))
    frozen_targets = [[round(v, 3) for v in t.bbox_mm]
                      for t in printed_layout.pages[0].geometry.targets]
    assert [t["bbox_mm"] for t in printed["pages"][0]["targets"]] == frozen_targets


def test_init_refuses_a_frozen_layout_left_without_its_form(tmp_path):
    ws = tmp_path / "ws"
    (ws / "forms").mkdir(parents=True)
    stray = ws / "forms" / "mot-cua-v1.frozen-layout.json"
    stray.write_text("{}", encoding="utf-8")
    with pytest.raises(SurveyError, match="without its form"):
        init_survey(ws, ["mot-cua"])
    assert stray.read_text(encoding="utf-8") == "{}" and not (ws / "survey.yaml").exists()


def test_an_engine_that_no_longer_fits_the_form_still_reads_the_surveys_copy(survey, monkeypatch):
    from forms.errors import FormDefinitionError

    before = {f.id: layout_form(f) for f in load_survey_forms(survey)}
    # A later engine whose comment lines are so tall the comment box fills a page.
    monkeypatch.setattr(layout_module, "TEXT_LINE_MM", 120.0)
    with pytest.raises(FormDefinitionError, match="y_kien"):
        load_form("mot-cua")
    assert {f.id: layout_form(f) for f in load_survey_forms(survey)} == before


def test_a_read_only_old_workspace_still_works_laid_out_in_memory(survey, monkeypatch, caplog):
    import forms.frozen
    from forms.errors import BadInput

    def cannot_write(*args, **kwargs):
        raise BadInput("Không ghi được / cannot write: read-only file system")

    frozen_path_for(survey.form_files[0]).unlink()
    monkeypatch.setattr(forms.frozen, "write_frozen", cannot_write)
    with caplog.at_level(logging.WARNING, logger="pipeline.store.survey"):
        forms_ = load_survey_forms(survey)
    assert all(f.frozen is not None for f in forms_)
    assert layout_form(forms_[0]) == layout_form(load_form(forms_[0].id))
    assert any("cannot be written" in r.getMessage() for r in caplog.records)
    assert not frozen_path_for(survey.form_files[0]).exists()
