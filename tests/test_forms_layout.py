"""The layout engine's use of space (issue 13: the SIPAS form asks the field and stays on
two pages): options beside a short question in a column the section shares, option
columns as wide as their labels, a matrix header of two lines, even line breaks. The
design rules themselves (clearances, overlaps, markers) are in test_forms_render.py."""
from __future__ import annotations

from collections import Counter

import pytest

from forms import fonts
from forms.definition import parse_definition
from forms.layout import (
    BOX_MM,
    QUESTION_PT,
    SCALE_PT,
    TextRun,
    _option_grid,
    layout_form,
)
from forms.library import load_form
from forms.model import Option

FORM = """
id: t
version: 1
office: "SỞ A"
title: "PHIẾU"
sections:
  - heading: "PHẦN A"
    questions:
{questions}
"""


def _question(qid: str, text: str, labels: list[str]) -> str:
    options = "".join(f"\n          - {{code: o{i}, label: \"{label}\"}}" for i, label in enumerate(labels))
    return (f"      - id: {qid}\n        type: single\n        text: \"{text}\"\n"
            f"        mark: box\n        options:{options}\n")


def _boxes(layout, qid: str):
    return [t.bbox_mm for p in layout.pages for t in p.geometry.targets if t.question == qid]


def _text_run(layout, text: str) -> TextRun:
    return next(i for p in layout.pages for i in p.items
                if isinstance(i, TextRun) and i.text == text)


def test_short_questions_put_their_options_beside_them_in_one_column():
    layout = layout_form(load_form("sipas"))
    beside = ["linh_vuc", "gioi_tinh", "do_tuoi", "hoc_van"]
    lefts = {round(min(b[0] for b in _boxes(layout, q)), 2) for q in beside}
    assert len(lefts) == 1  # one column, shared
    column = lefts.pop()
    for qid, text in [("linh_vuc", "Thủ tục thuộc lĩnh vực:"), ("do_tuoi", "Độ tuổi:"),
                      ("hoc_van", "Trình độ học vấn:")]:
        run = _text_run(layout, text)
        first_row = min(b[1] for b in _boxes(layout, qid))
        # the text stands on the first row of boxes, not on a line of its own above it
        assert first_row < run.y < first_row + BOX_MM
        assert run.x + fonts.text_width(text, run.font, run.size_pt) < column - 2.0


def test_options_go_beside_only_when_that_saves_height():
    text = "Một câu hỏi có phần chữ khá dài:"
    long_labels = ["Nhãn dài vừa phải số một", "Nhãn dài vừa phải số hai",
                   "Nhãn dài vừa phải số ba"]
    form = parse_definition(FORM.format(questions=_question("a", text, long_labels)))
    layout = layout_form(form)
    run = _text_run(layout, text)
    # one row under the text, two beside it: under it
    boxes = _boxes(layout, "a")
    assert len({b[1] for b in boxes}) == 1 and min(b[1] for b in boxes) > run.y
    short = parse_definition(FORM.format(questions=_question("a", "Câu hỏi:", ["Có", "Không"])
                                         + _question("b", "Tuổi:", [f"Nhóm {i}" for i in range(9)])))
    layout = layout_form(short)
    run = _text_run(layout, "Tuổi:")
    assert min(b[1] for b in _boxes(layout, "b")) < run.y  # beside: a line saved


def test_an_option_column_is_as_wide_as_its_widest_label():
    labels = ["Công chức, viên chức", "Công nhân", "Nông dân", "Kinh doanh, buôn bán",
              "Hưu trí", "Học sinh, sinh viên", "Lao động tự do", "Nghề khác"]
    options = tuple(Option(f"o{i}", label) for i, label in enumerate(labels))
    grid = _option_grid(options, "box", 173.0)
    # equal columns of the widest label would take three rows; columns fitted to their
    # own labels take two
    assert grid.rows == 2 and len(set(round(w, 3) for w in grid.col_widths)) > 1
    assert all(len(lines) == 1 for lines in grid.labels)


def test_the_sipas_matrix_header_is_two_lines_on_both_pages():
    layout = layout_form(load_form("sipas"))
    for page in layout.pages:
        header = [i for i in page.items if isinstance(i, TextRun) and i.size_pt == SCALE_PT
                  and i.anchor == "middle" and not i.text.startswith("Trang")]
        lines = Counter(round(i.x, 2) for i in header)  # lines per column
        assert len(lines) == 5 and max(lines.values()) == 2
        assert {i.text for i in header} >= {"Rất không", "hài lòng"}


@pytest.mark.parametrize("text,width", [
    ("Công chức tuân thủ đúng quy định trong giải quyết công việc", 80.0),
    ("Rất không hài lòng", 15.7),
    ("Cơ quan thông báo kết quả xử lý góp ý, phản ánh, kiến nghị kịp thời", 90.0),
])
def test_balanced_wrapping_keeps_the_lines_and_evens_them(text, width):
    greedy = fonts.wrap(text, fonts.REGULAR, QUESTION_PT, width)
    even = fonts.wrap_balanced(text, fonts.REGULAR, QUESTION_PT, width)
    assert len(even) == len(greedy) >= 2 and " ".join(even) == " ".join(greedy)

    def longest(lines):
        return max(fonts.text_width(line, fonts.REGULAR, QUESTION_PT) for line in lines)

    def shortest(lines):
        return min(fonts.text_width(line, fonts.REGULAR, QUESTION_PT) for line in lines)

    assert longest(even) <= longest(greedy) + 1e-6
    assert shortest(even) >= shortest(greedy) - 1e-6
