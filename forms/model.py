"""What a questionnaire *is*, once its YAML has been validated.

Plain frozen dataclasses; nothing here knows about pages or pixels. The loader
(`forms.definition`) builds these, the layout engine (`forms.layout`) places them.

A rating matrix is a layout unit (statements x a shared scale), but each of its
statements is an answerable single-choice `Question` of its own, with its own id:
that is what the reader reads, the store keeps and the exports have as a column.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from forms.frozen import FrozenLayout

QuestionType = Literal["single", "multi", "text"]
MarkStyle = Literal["box", "digit"]


@dataclass(frozen=True)
class Option:
    """One answer a person can mark. `code` is what gets exported; `label` is printed."""

    code: str
    label: str
    score: int | None = None  # numeric value on a scale (1..5), None for plain options


@dataclass(frozen=True)
class Scale:
    """A shared ordered answer scale, e.g. the five SIPAS levels.

    `satisfied` holds the option codes that count as satisfied ("Hài lòng",
    "Rất hài lòng") for the satisfaction rate.
    """

    id: str
    options: tuple[Option, ...]
    satisfied: frozenset[str]


@dataclass(frozen=True)
class Question:
    """One answerable item: a column in responses.csv."""

    id: str
    type: QuestionType
    text: str
    options: tuple[Option, ...] = ()
    mark: MarkStyle | None = None  # None for text questions
    lines: int = 0  # text questions: lines of the comment box
    scale: str | None = None  # id of the Scale the options come from, if any
    group: str | None = None  # criteria group (for the satisfaction index), if any
    matrix: str | None = None  # id of the Matrix this statement belongs to, if any
    line: int = 0  # line in the YAML file where it is defined (for messages)

    def option(self, code: str) -> Option:
        for opt in self.options:
            if opt.code == code:
                return opt
        raise KeyError(f"question {self.id!r} has no option {code!r}")


@dataclass(frozen=True)
class Matrix:
    """A rating grid: `rows` (single-choice questions) answered on one scale."""

    id: str
    text: str
    scale: str
    mark: MarkStyle
    rows: tuple[Question, ...]
    line: int = 0
    group_headings: bool = True  # print each criteria group's name above its rows


Block = Question | Matrix


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]
    intro: str = ""


@dataclass(frozen=True)
class CommentTopic:
    """A topic the report sorts written comments into: a comment whose text contains one of
    `keywords` (whole words, case and Unicode form ignored) belongs to it. The office edits
    these in the form's YAML (`comment_topics`); a comment matching none is "other"."""

    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Form:
    """A validated questionnaire definition."""

    id: str
    version: int
    title: str
    office: str
    intro: str
    instructions: str
    sections: tuple[Section, ...]
    scales: dict[str, Scale] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # criteria group id -> label
    source: str = ""  # path of the YAML it came from
    comment_topics: tuple[CommentTopic, ...] = ()  # in file order
    # The layout a survey printed this form from (`forms.frozen`), when the form is a
    # survey's copy: `layout_form` returns it instead of laying the form out again.
    frozen: FrozenLayout | None = field(default=None, repr=False)

    def questions(self) -> tuple[Question, ...]:
        """Every answerable question in form order (matrix rows expanded)."""
        out: list[Question] = []
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Matrix):
                    out.extend(block.rows)
                else:
                    out.append(block)
        return tuple(out)

    def question(self, question_id: str) -> Question:
        for q in self.questions():
            if q.id == question_id:
                return q
        raise KeyError(f"form {self.id!r} has no question {question_id!r}")
