"""The shipped SIPAS form asks the field (`linh_vuc`, issue 13), so a SIPAS survey's
`units:` can name it: `phieu tally --by unit` and `phieu report --by linh_vuc` split a
scanned SIPAS box by the field each ballot marked, and the split agrees with the answers
exported for the same sheets."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from forms.library import load_form
from forms.render import layout_path_for

pytestmark = pytest.mark.slow

NAMES = {"dat_dai": "Phòng Tài nguyên và Môi trường", "tu_phap": "Phòng Tư pháp"}


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_sipas_form_asks_the_field_with_an_other_option_on_two_pages(tmp_path, run_phieu):
    form = load_form("sipas")
    field = form.question("linh_vuc")
    assert field.type == "single" and field.mark == "box"
    assert field.options[-1].code == "khac" and "khác" in field.options[-1].label
    assert form.question("doi_tuong").type == "single"
    run = run_phieu("forms", "render", "sipas", "--out", tmp_path / "sipas.pdf")
    assert run.code == 0, run.err
    import json

    layout = json.loads(layout_path_for(tmp_path / "sipas.pdf").read_text(encoding="utf-8"))
    assert len(layout["pages"]) == 2


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A scanned SIPAS box in a survey whose survey.yaml takes its units from `linh_vuc`."""
    from cli import main

    root = tmp_path_factory.mktemp("sipas-units")
    assert main(["synth", "--form", "sipas", "--sheets", "12", "--seed", "5", "--mix", "scan=1",
                 "--comment-rate", "0", "--out", str(root / "box")]) == 0
    ws = root / "ws"
    assert main(["init", str(ws), "--form", "sipas", "--name", "SIPAS"]) == 0
    names = "".join(f"\n    {code}: {name}" for code, name in NAMES.items())
    with open(ws / "survey.yaml", "a", encoding="utf-8") as fh:
        fh.write(f"\nmethod: sipas\nunits:\n  from: question\n  question: linh_vuc\n"
                 f"  label: Lĩnh vực\n  names:{names}\n")
    assert main(["scan", str(root / "box"), "--survey", str(ws), "--batch", "hop-1"]) == 0
    assert main(["export", "responses", "--survey", str(ws), "-o", str(ws / "responses.csv")]) == 0
    return ws


def test_tally_by_unit_splits_by_the_field_marked(scanned, run_phieu):
    run = run_phieu("tally", "--survey", scanned, "--by", "unit", "-o", scanned / "t.csv")
    assert run.code == 0, run.err
    responses = _rows(scanned / "responses.csv")
    fields = Counter(r["linh_vuc"] for r in responses if r["linh_vuc"])
    assert len(fields) >= 2  # the box answers more than one field
    tally = [r for r in _rows(scanned / "t.csv") if r["question"] == "linh_vuc"]
    for code, sheets in fields.items():
        counts = {r["option"]: int(r["count"]) for r in tally if r["group"] == code}
        # Each unit's ballots answered the field question with that unit's field, only.
        assert counts.get(code) == sheets, (code, counts)
        assert sum(counts.values()) == sheets, (code, counts)
    shown = run_phieu("tally", "--survey", scanned, "--by", "unit")
    assert shown.code == 0, shown.err
    assert "Nhóm theo / Grouped by: Lĩnh vực" in shown.out
    assert "SIPAS" in shown.out  # survey.yaml `method: sipas`


def test_report_by_field_shows_each_field(scanned, run_phieu):
    run = run_phieu("report", "--survey", scanned, "--by", "linh_vuc", "-o", scanned / "r.html")
    assert run.code == 0, run.err
    html = (scanned / "r.html").read_text(encoding="utf-8")
    responses = _rows(scanned / "responses.csv")
    form = load_form("sipas")
    labels = {o.code: o.label for o in form.question("linh_vuc").options}
    for code in {r["linh_vuc"] for r in responses if r["linh_vuc"]}:
        assert labels[code] in html or NAMES.get(code, "\0") in html, code


def test_the_report_ranks_the_units_survey_yaml_names(scanned, run_phieu):
    run = run_phieu("report", "--survey", scanned, "-o", scanned / "units.html")
    assert run.code == 0, run.err
    html = (scanned / "units.html").read_text(encoding="utf-8")
    marked = {r["linh_vuc"] for r in _rows(scanned / "responses.csv")}
    named = [name for code, name in NAMES.items() if code in marked]
    assert named and all(name in html for name in named)
    assert "Lĩnh vực" in html
