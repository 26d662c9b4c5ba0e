"""Loading questionnaire YAML: the model it builds, and the messages on broken files
(every problem at once, each with its file, line and what to write instead)."""
from __future__ import annotations

import textwrap

import pytest

from forms.definition import load_definition, parse_definition
from forms.errors import BadInput, FormDefinitionError
from forms.library import list_forms, load_form, new_definition
from forms.model import Matrix

GOOD = """\
id: tiny
version: 2
title: Phiếu thử
office: Cơ quan thử
groups: {g: Nhóm G}
scales:
  s:
    options:
      - {code: "1", label: Một}
      - {code: "2", label: Hai}
    satisfied: ["2"]
sections:
  - heading: Phần một
    questions:
      - id: q1
        type: single
        text: Câu một
        options:
          - {code: a, label: A}
          - {code: b, label: B}
      - id: q2
        type: multi
        text: Câu hai
        mark: box
        options:
          - {code: a, label: A}
          - {code: b, label: B}
      - id: m
        type: matrix
        scale: s
        mark: digit
        group: g
        rows:
          - {id: r1, text: Dòng một}
          - {id: r2, text: Dòng hai}
      - id: note
        type: text
        text: Ý kiến
        lines: 3
"""


def write(tmp_path, text: str, name: str = "form.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(FormDefinitionError) as info:
        load_definition(path)
    assert info.value.path == str(path)
    return info.value.problems


def test_good_file_builds_the_model(tmp_path):
    form = load_definition(write(tmp_path, GOOD))
    assert (form.id, form.version, form.title) == ("tiny", 2, "Phiếu thử")
    assert [q.id for q in form.questions()] == ["q1", "q2", "r1", "r2", "note"]
    q1, q2, r1, _, note = form.questions()
    assert (q1.type, q1.mark, [o.code for o in q1.options]) == ("single", "box", ["a", "b"])
    assert q2.type == "multi"
    assert (r1.type, r1.mark, r1.scale, r1.group, r1.matrix) == ("single", "digit", "s", "g", "m")
    assert [o.score for o in r1.options] == [1, 2]
    assert form.scales["s"].satisfied == frozenset({"2"})
    assert (note.type, note.lines, note.mark) == ("text", 3, None)
    assert isinstance(form.sections[0].blocks[2], Matrix)
    assert "khoanh tròn" in form.instructions  # default text covers the digits used
    assert q1.line == 15 and r1.line == 34  # where each is written, for later messages


def test_shipped_forms_load_and_follow_the_brief():
    forms = {f.id: f for f in list_forms()}
    assert set(forms) == {"mot-cua", "sipas"}
    sipas = forms["sipas"]
    matrix = next(b for s in sipas.sections for b in s.blocks if isinstance(b, Matrix))
    assert len(matrix.rows) >= 20 and matrix.mark == "digit"
    assert {r.group for r in matrix.rows} == set(sipas.groups) and len(sipas.groups) == 5
    assert [o.label for o in sipas.scales[matrix.scale].options] == [
        "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    mot_cua = forms["mot-cua"]
    assert {q.mark for q in mot_cua.questions() if q.type != "text"} == {"box"}
    rated = [q for q in mot_cua.questions() if q.scale == "hai_long"]
    assert {q.id for q in rated} == {"cong_khai", "thai_do", "cntt", "hai_long_chung"}
    assert all(q.group for q in rated)


def test_unknown_keys_name_the_line_and_suggest_the_close_key(tmp_path):
    broken = GOOD.replace("        text: Câu một\n", "        txt: Câu một\n")
    broken = broken.replace("office: Cơ quan thử", "ofice: Cơ quan thử")
    problems = problems_of(tmp_path, broken)
    assert any(":4:" in p and "unknown key 'ofice'" in p and "did you mean 'office'?" in p
               for p in problems), problems
    assert any(":1:" in p and "missing key 'office'" in p for p in problems), problems
    assert any(":17:" in p and "unknown key 'txt'" in p and "did you mean 'text'?" in p
               for p in problems), problems


def test_every_problem_at_once_in_file_order(tmp_path):
    broken = (GOOD.replace("version: 2", "version: two")
              .replace("      - id: q2\n", "      - id: q1\n")
              .replace("          - {code: b, label: B}\n      - id: q1",
                       "          - {code: a, label: B}\n      - id: q1")
              .replace("        type: multi", "        type: multiple")
              .replace("        scale: s\n", "        scale: ss\n")
              .replace("        lines: 3", "        lines: 39"))
    problems = problems_of(tmp_path, broken)
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)
    expect = {
        2: "'version' must be a whole number",
        20: "option code 'a' used twice (first on line 19)",
        21: "duplicate id 'q1' (first used on line 15)",
        22: "did you mean 'multi'?",
        30: "uses an undefined scale 'ss' — ý bạn là 's'? / did you mean 's'?",
        36: "cannot fit on one page",
    }
    for line, text in expect.items():
        assert any(f":{line}: " in p and text in p for p in problems), (line, problems)
    assert len(problems) == len(expect), problems


def test_scale_without_options_and_bad_satisfied(tmp_path):
    broken = GOOD.replace("""    options:
      - {code: "1", label: Một}
      - {code: "2", label: Hai}
    satisfied: ["2"]""", """    options: []""")
    problems = problems_of(tmp_path, broken)
    assert any(":8:" in p and "'options' has no items" in p for p in problems), problems
    # The matrix using the broken scale is not blamed a second time.
    assert not any("undefined scale" in p for p in problems), problems
    other = problems_of(tmp_path, GOOD.replace('satisfied: ["2"]', 'satisfied: ["5"]'))
    assert any(":11:" in p and "codes the scale does not have: ['5']" in p for p in other)


def test_yaml_syntax_error_names_its_line(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace("text: Ý kiến", 'text: "Ý kiến'))
    assert len(problems) == 1 and "YAML syntax error" in problems[0]
    # An unclosed quote surfaces at the end of the file; the message also names
    # the line where the quoted text began.
    assert ":40:" in problems[0] and "(dòng/line 38)" in problems[0], problems
    bad_indent = GOOD.replace("      - id: q2\n", "     - id: q2\n")
    problems = problems_of(tmp_path, bad_indent)
    assert len(problems) == 1 and ":21:" in problems[0] and "YAML" in problems[0], problems


def test_wrong_types_and_reserved_ids(tmp_path):
    broken = (GOOD.replace("title: Phiếu thử", "title: [a, b]")
              .replace("      - id: note\n", "      - id: status\n")
              .replace("        lines: 3", "        lines: many"))
    problems = problems_of(tmp_path, broken)
    assert any(":3:" in p and "'title' must be text (got list)" in p for p in problems)
    assert any(":36:" in p and "reserved column name" in p for p in problems), problems
    assert any(":39:" in p and "'lines' must be a whole number from 1 to 40" in p
               for p in problems), problems


def test_digit_marks_need_short_codes_and_groups_must_exist(tmp_path):
    broken = (GOOD.replace('      - {code: "2", label: Hai}', '      - {code: "two", label: Hai}')
              .replace('satisfied: ["2"]', 'satisfied: ["two"]')
              .replace("          - {id: r2, text: Dòng hai}",
                       "          - {id: r2, text: Dòng hai, group: gg}"))
    problems = problems_of(tmp_path, broken)
    assert any(":31:" in p and "too long to print as digits: ['two']" in p for p in problems)
    assert any(":35:" in p and "undefined group 'gg'" in p and "did you mean 'g'?" in p
               for p in problems), problems


def test_not_a_form_at_all(tmp_path):
    problems = problems_of(tmp_path, "- just\n- a list\n")
    assert len(problems) == 1 and ":1:" in problems[0] and "phieu forms new" in problems[0]


def test_missing_file_and_unknown_id(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        load_definition(tmp_path / "nope.yaml")
    with pytest.raises(BadInput, match="mot-cua, sipas"):
        load_form("nope")


def test_parse_definition_from_text():
    assert parse_definition(GOOD, source="inline").source == "inline"


def test_new_definition_copies_with_a_new_id(tmp_path):
    out = tmp_path / "phieu-quy-3.yaml"
    form = new_definition("mot-cua", out)
    assert form.id == "phieu-quy-3"
    assert "# Phiếu khảo sát tại Bộ phận Một cửa" in out.read_text(encoding="utf-8")
    assert [q.id for q in form.questions()] == [q.id for q in load_form("mot-cua").questions()]
    with pytest.raises(BadInput, match="already exists"):
        new_definition("mot-cua", out)


TOPICS = """comment_topics:
  - label: Cơ sở vật chất
    keywords: [nhà vệ sinh, ghế, quạt]
  - label: Thái độ
    keywords: [thái độ]
"""


def test_comment_topics_are_read_in_file_order(tmp_path):
    form = load_definition(write(tmp_path, GOOD + TOPICS))
    assert [(t.label, t.keywords) for t in form.comment_topics] == [
        ("Cơ sở vật chất", ("nhà vệ sinh", "ghế", "quạt")), ("Thái độ", ("thái độ",))]
    assert load_definition(write(tmp_path, GOOD)).comment_topics == ()
    shipped = {f.id: f for f in list_forms()}
    assert all(f.comment_topics for f in shipped.values())


def test_comment_topic_typos_and_repeats_name_their_line(tmp_path):
    start = GOOD.count("\n") + 1  # the line 'comment_topics:' is on
    typo = TOPICS.replace("    keywords: [thái độ]", "    keyword: [thái độ]")
    problems = problems_of(tmp_path, GOOD + typo)
    assert any(f":{start + 4}:" in p and "unknown key 'keyword'" in p
               and "did you mean 'keywords'?" in p for p in problems), problems
    assert any(f":{start + 3}:" in p and "missing key 'keywords'" in p for p in problems), problems
    repeated = TOPICS.replace("[thái độ]", "[thái độ, Ghế]")
    problems = problems_of(tmp_path, GOOD + repeated)
    assert any(f":{start + 4}:" in p and "keyword 'Ghế' already used on line" in p
               for p in problems), problems
    empty = TOPICS.replace("[thái độ]", "[]")
    assert any("'keywords' must be a list" in p for p in problems_of(tmp_path, GOOD + empty))
