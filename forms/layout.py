"""The layout engine: a validated `Form` -> pages of geometry and drawing items, in mm.

Every position on a printed form is computed here, once (DESIGN.md: geometry has
one source). The result is a `Layout`: per page a `forms.geometry.PageGeometry`
(targets, text fields, QR and serial boxes, markers) for the reader and the
layout JSON, and the drawing items (text runs, rules, frames) the renderer
prints. The renderer adds nothing but the per-sheet content (QR code, serial)
in the boxes this module reserved.

Page plan (A4 portrait, mm from the top-left corner):

- the four ArUco markers at `forms.geometry.marker_bbox`, each with
  `MARKER_QUIET_MM` of white around it;
- the QR code (`QR_SIZE_MM`) at the top right, left of the top-right marker's
  quiet zone, with `QR_QUIET_MM` of white around it, and the serial under it;
- the office and title between the top markers and the QR code; the rest of the
  content in `CONTENT_LEFT`..`CONTENT_RIGHT`, from below the header to
  `CONTENT_BOTTOM` (above the bottom markers' quiet zone); the page number
  centred between the bottom markers.

Targets: a box is `BOX_MM` square with a `BOX_BORDER_MM` border and nothing else
printed within `BOX_CLEAR_MM` of it; a digit to circle has nothing else printed
within `DIGIT_CLEAR_MM` of its centre, so digits stand at least twice that apart.
Questions flow down the page and onto further pages; a question never splits
across pages, except a rating matrix, which splits between rows and repeats its
column header.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from forms import fonts
from forms.errors import FormDefinitionError
from forms.geometry import (
    MARKER_MARGIN_MM,
    MARKER_QUIET_MM,
    MARKER_SIZE_MM,
    PAGE_SIZE_MM,
    BBox,
    PageGeometry,
    Target,
    TextField,
)
from forms.model import Form, MarkStyle, Matrix, Option, Question

PAGE_W, PAGE_H = PAGE_SIZE_MM
MARKER_ZONE = MARKER_MARGIN_MM + MARKER_SIZE_MM + MARKER_QUIET_MM  # 25 mm from each edge

CONTENT_LEFT = 15.0
CONTENT_RIGHT = PAGE_W - 15.0
CONTENT_BOTTOM = PAGE_H - MARKER_ZONE - 1.0

QR_SIZE_MM = 20.0
QR_QUIET_MM = 4.0  # ≥ 4 modules of the QR code at any version we print
QR_X = PAGE_W - MARKER_ZONE - QR_QUIET_MM - QR_SIZE_MM
QR_Y = 6.0
QR_BBOX: BBox = (QR_X, QR_Y, QR_SIZE_MM, QR_SIZE_MM)
SERIAL_PT = 9.0
SERIAL_BBOX: BBox = (QR_X - 2.0, QR_Y + QR_SIZE_MM + QR_QUIET_MM, QR_SIZE_MM + 4.0, 4.0)
HEADER_LEFT = MARKER_ZONE + 2.0
HEADER_RIGHT = QR_X - QR_QUIET_MM
HEADER_MIN_BOTTOM = SERIAL_BBOX[1] + SERIAL_BBOX[3] + 1.5  # content starts below the serial

BOX_MM = 5.0
BOX_BORDER_MM = 0.35
BOX_CLEAR_MM = 2.0
DIGIT_PT = 11.0
DIGIT_CLEAR_MM = 4.5  # the reader measures a ring up to ~3.5 mm from the centre
DIGIT_PAD_MM = 0.2  # a digit target's bbox = its ink box grown by this much

TEXT_LINE_MM = 8.0  # writing-line pitch of a comment box
GUIDE_GREY = 0.78  # faint guide lines inside a comment box
RULE_GREY = 0.55

# Type sizes (pt) and leading factor.
OFFICE_PT, TITLE_PT, INTRO_PT, HELP_PT = 9.0, 12.0, 9.0, 8.5
HEADING_PT, QUESTION_PT, LABEL_PT, MATRIX_PT, SCALE_PT = 10.5, 9.5, 9.0, 8.5, 7.5
FOOTER_PT = 7.5
LEADING = 1.25
INDENT_MM = 7.0  # question text and options hang right of the question number
BLOCK_GAP_MM = 3.0
ITEM_GAP_MM = 3.0  # between one option's label and the next option's mark zone
LABEL_GAP_MM = 0.5  # between a mark zone and its label: a box keeps > 2 mm of white
ANSWER_GAP_MM = 4.0  # between a question's text and options on the same line
HEADER_PAD_MM = 0.3  # a matrix column header's label keeps this much of its column free


@dataclass(frozen=True)
class TextRun:
    """One line of text. `y` is the baseline; `anchor` says where `x` is on the line."""

    x: float
    y: float
    text: str
    font: str
    size_pt: float
    anchor: Literal["start", "middle", "end"] = "start"
    grey: float = 0.0  # 0 black .. 1 white


@dataclass(frozen=True)
class Rule:
    """A straight line from (x1, y1) to (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    grey: float = 0.0


@dataclass(frozen=True)
class Frame:
    """An outlined rectangle (a comment box, the instructions frame)."""

    bbox: BBox
    width: float
    grey: float = 0.0


Item = TextRun | Rule | Frame


@dataclass(frozen=True)
class PageLayout:
    """One printed page: the reader's geometry and the renderer's drawing items.

    Box targets are drawn from `geometry.targets` (so what is printed is what is
    read); digit targets are text runs in `items`, and their bbox was measured
    from the same run's glyph outlines.
    """

    geometry: PageGeometry
    items: tuple[Item, ...]

    @property
    def number(self) -> int:
        return self.geometry.page


@dataclass(frozen=True)
class Layout:
    """Where everything of one form is printed, page by page."""

    form_id: str
    version: int
    pages: tuple[PageLayout, ...]
    question_pages: dict[str, int]  # question id -> page it is printed on
    # How the renderer draws what the geometry holds: the boxes' border (the reader's blank
    # must have the paper's border, or a thicker printed border reads as new ink) and the
    # serial's type size. Kept here so a frozen layout keeps them too.
    box_border_mm: float = BOX_BORDER_MM
    serial_pt: float = SERIAL_PT

    def page(self, number: int) -> PageLayout:
        """The page with 1-based `number`."""
        return self.pages[number - 1]


# --- building blocks --------------------------------------------------------------


@dataclass
class _Page:
    """A page while it is being filled (local to one layout run)."""

    number: int
    items: list[Item] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    fields: list[TextField] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


Place = Callable[[_Page, float], None]  # draws a piece with its top at y


@dataclass(frozen=True)
class _Piece:
    """An unsplittable slice of the flow: `height` mm, drawn by `place`.

    `keep` keeps it on the same page as the next piece; `header` is drawn first
    when this piece starts a new page (a matrix's column header); `owner` is the
    block it belongs to, for messages.
    """

    height: float
    place: Place
    gap_before: float = 0.0
    keep: bool = False
    header: _Piece | None = None
    owner: Question | Matrix | None = None


def _leading(size_pt: float) -> float:
    return size_pt * fonts.PT_MM * LEADING


def _baseline_offset(size_pt: float) -> float:
    """From a line's top to its baseline: room above for stacked diacritics."""
    return size_pt * fonts.PT_MM * 1.0


def _paragraph(lines: list[str], x: float, top: float, font: str, size_pt: float,
               anchor: Literal["start", "middle", "end"] = "start",
               grey: float = 0.0) -> list[TextRun]:
    lead, base = _leading(size_pt), _baseline_offset(size_pt)
    return [TextRun(x, top + base + i * lead, line, font, size_pt, anchor, grey)
            for i, line in enumerate(lines)]


def _numbered_text(number: str, text: str, x0: float, x1: float, font: str, size_pt: float,
                   balanced: bool = False) -> tuple[list[str], Callable[[float], list[TextRun]]]:
    """Wrap `text` with a hanging `number` (`balanced`: lines as even as they can be);
    returns the lines and a drawer at top y."""
    wrap = fonts.wrap_balanced if balanced else fonts.wrap
    lines = wrap(text, font, size_pt, x1 - x0 - INDENT_MM)

    def runs(top: float) -> list[TextRun]:
        out = [TextRun(x0, top + _baseline_offset(size_pt), number, fonts.BOLD, size_pt)]
        return out + _paragraph(lines, x0 + INDENT_MM, top, font, size_pt)

    return lines, runs


def _paragraph_place(lines: list[str], x0: float, font: str, pt: float) -> Place:
    def place(page: _Page, top: float) -> None:
        page.items.extend(_paragraph(lines, x0, top, font, pt))

    return place


def _mark_of(q: Question) -> MarkStyle:
    """A choice question's mark style (the definition gives every choice question one)."""
    if q.mark is None:
        raise ValueError(f"question {q.id} has no mark style: not a choice question")
    return q.mark


def _zone(mark: str) -> float:
    """Side of the square kept clear around one target (the target included)."""
    return BOX_MM + 2 * BOX_CLEAR_MM if mark == "box" else 2 * DIGIT_CLEAR_MM


def _target_at(page: _Page, qid: str, option: Option, mark: str, cx: float, cy: float) -> None:
    """Print one target centred on (cx, cy) and record its geometry."""
    if mark == "box":
        bbox = (cx - BOX_MM / 2, cy - BOX_MM / 2, BOX_MM, BOX_MM)
        page.targets.append(Target(qid, option.code, "box", bbox))
        return
    left, top, right, bottom = fonts.ink_box(option.code, fonts.BOLD, DIGIT_PT)
    x = cx - (left + right) / 2
    baseline = cy - (top + bottom) / 2
    page.items.append(TextRun(x, baseline, option.code, fonts.BOLD, DIGIT_PT))
    bbox = (x + left - DIGIT_PAD_MM, baseline + top - DIGIT_PAD_MM,
            right - left + 2 * DIGIT_PAD_MM, bottom - top + 2 * DIGIT_PAD_MM)
    page.targets.append(Target(qid, option.code, "digit", bbox))


# --- choice questions -------------------------------------------------------------


@dataclass(frozen=True)
class _OptionGrid:
    columns: int
    col_widths: tuple[float, ...]
    labels: tuple[tuple[str, ...], ...]  # wrapped label lines per option

    @property
    def rows(self) -> int:
        return -(-len(self.labels) // self.columns)

    def x(self, column: int) -> float:
        """Left edge of `column`, from the grid's left edge."""
        return sum(self.col_widths[:column])


def _natural_width(option: Option, mark: str) -> float:
    """An option on one line: its mark zone, its label and the gap to the next option."""
    return (_zone(mark) + LABEL_GAP_MM + fonts.text_width(option.label, fonts.REGULAR, LABEL_PT)
            + ITEM_GAP_MM)


def _column_widths(natural: list[float], columns: int) -> list[float]:
    """Each column as wide as its widest option (options fill the grid row by row)."""
    return [max(natural[c::columns]) for c in range(columns)]


def _option_grid(options: tuple[Option, ...], mark: str, width: float,
                 packed: bool = False) -> _OptionGrid:
    """Columns for the options: as many as fit on one line each, a column as wide as
    its widest option (so one long label does not widen every column); all in one row
    when two-line labels make that possible; one column (wrapped) at worst. `packed`:
    options that fill one row stand one mark zone apart from the left instead of spread
    over the width (beside a question's text, "□ Nam  □ Nữ", not a box at each end)."""
    natural = [_natural_width(o, mark) for o in options]
    n = len(options)

    def fits(c: int) -> bool:
        return sum(_column_widths(natural, c)) <= width

    columns = next((c for c in range(n, 0, -1) if fits(c)), 1)
    # Balance the rows (6 options in 3 + 3 rather than 4 + 2): same row count,
    # wider columns.
    rows = -(-n // columns)
    balanced = -(-n // rows)
    if fits(balanced):
        columns = balanced
    if packed and columns == n:
        widths = [w + _zone(mark) for w in natural]
    elif max(natural) * columns <= width:
        # Equal columns when they fit: the options stand on a regular grid.
        widths = [width / columns] * columns
    else:
        widths = _column_widths(natural, columns)
        extra = max(width - sum(widths), 0.0) / columns
        widths = [w + extra for w in widths]
    zone = _zone(mark)
    labels = tuple(
        tuple(fonts.wrap(o.label, fonts.REGULAR, LABEL_PT,
                         widths[i % columns] - zone - LABEL_GAP_MM - ITEM_GAP_MM))
        for i, o in enumerate(options))
    return _OptionGrid(columns, tuple(widths), labels)


def _label_height(lines: tuple[str, ...], zone: float) -> float:
    """Height of one option row: the zone, or the label if it runs lower."""
    size = LABEL_PT * fonts.PT_MM
    below_centre = 0.37 * size + (len(lines) - 1) * _leading(LABEL_PT) + 0.3 * size
    return max(zone, zone / 2 + below_centre + 1.0)


def _choice_piece(q: Question, number: str, x0: float, x1: float,
                  answer_x: float | None = None) -> _Piece:
    """A choice question: its options on its own line when they fit there (`_inline`),
    else in a grid beside its text from `answer_x` (the section's answer column, see
    `_answer_column`) when given, else in a grid under its text."""
    zone = _zone(_mark_of(q))
    beside = answer_x is not None
    text_x1 = answer_x - ANSWER_GAP_MM if answer_x is not None else x1
    text_lines, text_runs = _numbered_text(number, q.text, x0, text_x1, fonts.REGULAR,
                                           QUESTION_PT, balanced=beside)
    text_h = len(text_lines) * _leading(QUESTION_PT)
    inline = None if beside else _inline_widths(q, text_lines, x0, x1)
    if inline is not None:
        return _Piece(max(zone, text_h), _inline_place(q, text_lines, text_runs, inline, x0, x1),
                      BLOCK_GAP_MM, owner=q)
    grid_x = answer_x if answer_x is not None else x0 + INDENT_MM
    grid = _option_grid(q.options, _mark_of(q), x1 - grid_x, packed=beside)
    rows = [q.options[i:i + grid.columns] for i in range(0, len(q.options), grid.columns)]
    row_heights = [
        max(_label_height(grid.labels[r * grid.columns + c], zone) for c in range(len(row)))
        for r, row in enumerate(rows)
    ]
    # Beside: the text starts on the first row's line, as on an inline question.
    text_top = (zone - _leading(QUESTION_PT)) / 2 if beside else 0.0
    grid_top = 0.0 if beside else text_h
    height = max(text_top + text_h, grid_top + sum(row_heights))

    def place(page: _Page, top: float) -> None:
        page.items.extend(text_runs(top + text_top))
        y = top + grid_top
        for r, row in enumerate(rows):
            for c, option in enumerate(row):
                _option_at(page, q, option, grid.labels[r * grid.columns + c],
                           grid_x + grid.x(c), y, zone)
            y += row_heights[r]
        page.questions.append(q.id)

    return _Piece(height, place, BLOCK_GAP_MM, owner=q)


def _width_in_lines(text: str, lines: int) -> float:
    """The width of `text`'s longest line when wrapped as narrow as `lines` lines allow."""
    full = fonts.text_width(text, fonts.REGULAR, QUESTION_PT)
    # No narrower than an even split; at the full width it is one line.
    hi = fonts.narrowest_width(text, fonts.REGULAR, QUESTION_PT, lines, full / lines - 0.01, full + 0.01)
    return max(fonts.text_width(line, fonts.REGULAR, QUESTION_PT)
               for line in fonts.wrap(text, fonts.REGULAR, QUESTION_PT, hi))


def _answer_column(questions: list[Question], number: int, x0: float,
                   x1: float) -> tuple[float, set[str]]:
    """Where a section's options may start beside their questions' texts, and which
    questions put them there.

    Options go beside a question's text, in a column shared by the section (so the
    options of several questions line up), when that makes the question shorter than
    its text with the options under it, or, for options that fill one row, when it
    costs nothing: the text, wrapped to the room left of the column, is no taller than
    the options beside it, and wraps to no more lines than they have rows. The column
    stands just after one of the texts, set on one, two or three lines; of those places,
    the one that saves the most height (among equals, the one that wraps the fewest
    texts, then the nearest to the texts); none when nothing is saved. `number` is the
    section's first question number.
    """
    choice = [q for q in questions if q.type != "text"]
    candidates = sorted({w for q in choice for k in (1, 2, 3)
                         if (w := _width_in_lines(q.text, k)) <= x1 - x0 - INDENT_MM})
    under = [_choice_piece(q, f"{number + i}.", x0, x1).height for i, q in enumerate(choice)]
    best: tuple[float, int, float, set[str]] = (0.0, 0, 0.0, set())
    for stop in candidates:
        answer_x = x0 + INDENT_MM + stop + ANSWER_GAP_MM + 0.01  # the text fits exactly
        chosen, saved, wrapped = set(), 0.0, 0
        for i, q in enumerate(choice):
            there = _choice_piece(q, f"{number + i}.", x0, x1, answer_x)
            rows = _option_grid(q.options, _mark_of(q), x1 - answer_x, packed=True).rows
            lines = len(fonts.wrap(q.text, fonts.REGULAR, QUESTION_PT, stop + 0.01))
            # A text beside its options wraps to no more lines than they have rows: a
            # line of text beside each row, never a narrow column of broken words.
            if lines > rows:
                continue
            if there.height < under[i] - 1e-6 or (rows == 1 and there.height <= under[i] + 1e-6):
                chosen.add(q.id)
                saved += max(under[i] - there.height, 0.0)
                wrapped += lines - 1
        # The most height saved; among equals, the fewest wrapped texts, then the
        # column nearest to the texts.
        if saved > best[0] + 1e-6 or (abs(saved - best[0]) <= 1e-6 and saved > 0
                                      and wrapped < best[1]):
            best = (saved, wrapped, answer_x, chosen)
    return best[2], best[3]


def _option_at(page: _Page, q: Question, option: Option, lines: tuple[str, ...],
               x: float, top: float, zone: float) -> None:
    """One option: its target centred in a zone at (x, top), its label to the right."""
    cx, cy = x + zone / 2, top + zone / 2
    _target_at(page, q.id, option, _mark_of(q), cx, cy)
    baseline = cy + 0.37 * LABEL_PT * fonts.PT_MM
    for i, line in enumerate(lines):
        page.items.append(TextRun(x + zone + LABEL_GAP_MM, baseline + i * _leading(LABEL_PT), line,
                                  fonts.REGULAR, LABEL_PT))


def _inline_widths(q: Question, text_lines: list[str], x0: float, x1: float) -> list[float] | None:
    """Option widths when the options fit on the question's own (single) line."""
    if len(text_lines) != 1:
        return None
    zone = _zone(_mark_of(q))
    widths = [zone + LABEL_GAP_MM + fonts.text_width(o.label, fonts.REGULAR, LABEL_PT) + ITEM_GAP_MM
              for o in q.options]
    text_end = x0 + INDENT_MM + fonts.text_width(text_lines[0], fonts.REGULAR, QUESTION_PT)
    return widths if text_end + ANSWER_GAP_MM + sum(widths) <= x1 else None


def _inline_place(q: Question, text_lines: list[str],
                  text_runs: Callable[[float], list[TextRun]], widths: list[float],
                  x0: float, x1: float) -> Place:
    zone = _zone(_mark_of(q))
    text_end = x0 + INDENT_MM + fonts.text_width(text_lines[0], fonts.REGULAR, QUESTION_PT)
    free = x1 - (text_end + ANSWER_GAP_MM) - sum(widths)  # ≥ 0, checked by _inline_widths
    # Options sit right-aligned on the question's line, spread over the free room
    # up to one extra zone apart, so short questions do not leave a ragged gap.
    spacing = min(free / max(len(widths) - 1, 1), zone)
    start = x1 - sum(widths) - spacing * (len(widths) - 1)

    def place(page: _Page, top: float) -> None:
        text_top = top + zone / 2 - _leading(QUESTION_PT) / 2
        page.items.extend(text_runs(text_top))
        x = start
        for option, width in zip(q.options, widths):
            _option_at(page, q, option, (option.label,), x, top, zone)
            x += width + spacing
        page.questions.append(q.id)

    return place


# --- text questions ---------------------------------------------------------------


def _text_piece(q: Question, number: str, x0: float, x1: float) -> _Piece:
    text_lines, text_runs = _numbered_text(number, q.text, x0, x1, fonts.REGULAR, QUESTION_PT)
    text_h = len(text_lines) * _leading(QUESTION_PT) + 1.0
    box_h = q.lines * TEXT_LINE_MM

    def place(page: _Page, top: float) -> None:
        page.items.extend(text_runs(top))
        bbox = (x0 + INDENT_MM, top + text_h, x1 - x0 - INDENT_MM, box_h)
        page.items.append(Frame(bbox, 0.3, 0.25))
        for i in range(1, q.lines):
            y = bbox[1] + i * TEXT_LINE_MM
            page.items.append(Rule(bbox[0] + 2.0, y, bbox[0] + bbox[2] - 2.0, y, 0.15, GUIDE_GREY))
        page.fields.append(TextField(q.id, bbox))
        page.questions.append(q.id)

    return _Piece(text_h + box_h, place, BLOCK_GAP_MM, owner=q)


# --- rating matrices --------------------------------------------------------------


def _header_labels(options: tuple[Option, ...], col_w: float) -> list[list[str]]:
    return [fonts.wrap_balanced(o.label, fonts.BOLD, SCALE_PT, col_w - HEADER_PAD_MM)
            for o in options]


def _matrix_columns(options: tuple[Option, ...], x0: float, x1: float) -> tuple[float, float]:
    """(x where the scale columns start, column width).

    A column is 15 mm (narrower when many share 80 mm, never under a digit's clear
    zone); it widens, up to its share of 80 mm, when that keeps the column header to
    two lines ("Rất không / hài lòng", not "Rất / không / hài lòng"): a header line
    is printed on every page the matrix reaches, the statements lose only a little
    width.
    """
    n = len(options)
    widest = max(2 * DIGIT_CLEAR_MM + 1.0, 80.0 / n)
    col_w = max(2 * DIGIT_CLEAR_MM + 1.0, min(15.0, widest))
    while (max(len(lines) for lines in _header_labels(options, col_w)) > 2
           and col_w + 0.5 <= widest + 1e-6):
        col_w += 0.5
    if max(len(lines) for lines in _header_labels(options, col_w)) > 2:
        col_w = max(2 * DIGIT_CLEAR_MM + 1.0, min(15.0, widest))  # no width helps
    return x1 - n * col_w, col_w


def _matrix_pieces(form: Form, mx: Matrix, first: int, x0: float, x1: float) -> list[_Piece]:
    """The matrix's pieces; its rows are questions numbered on from `first` (one numbering
    for the whole form), its text an unnumbered lead-in."""
    options = form.scales[mx.scale].options
    xs, col_w = _matrix_columns(options, x0, x1)
    zone = _zone(mx.mark)
    pieces: list[_Piece] = []
    if mx.text:
        lines = fonts.wrap(mx.text, fonts.REGULAR, QUESTION_PT, x1 - x0)
        pieces.append(_Piece(len(lines) * _leading(QUESTION_PT) + 1.5,
                             lambda page, top: page.items.extend(
                                 _paragraph(lines, x0, top, fonts.REGULAR, QUESTION_PT)),
                             BLOCK_GAP_MM, keep=True, owner=mx))
    header = _matrix_header(options, x0, x1, xs, col_w, mx)
    pieces.append(_Piece(header.height, header.place, 0.0 if mx.text else BLOCK_GAP_MM,
                         keep=True, owner=mx))
    group = None
    for i, row in enumerate(mx.rows):
        if mx.group_headings and row.group != group and row.group is not None:
            label = form.groups.get(row.group, row.group)
            pieces.append(_group_piece(label, x0, x1, xs, header, mx))
        group = row.group
        pieces.append(_matrix_row(row, f"{first + i}.", options, x0, x1, xs, col_w, zone, header))
    return pieces


def _matrix_header(options: tuple[Option, ...], x0: float, x1: float, xs: float,
                   col_w: float, mx: Matrix) -> _Piece:
    labels = _header_labels(options, col_w)
    lead = _leading(SCALE_PT)
    height = max(len(lines) for lines in labels) * lead + 2.5

    def place(page: _Page, top: float) -> None:
        page.items.append(Rule(x0, top, x1, top, 0.3, 0.2))
        page.items.append(TextRun(x0 + 1.0, top + height / 2 + 1.0, "Nội dung",
                                  fonts.BOLD, SCALE_PT, grey=0.25))
        for c, lines in enumerate(labels):
            cx = xs + (c + 0.5) * col_w
            first_top = top + (height - len(lines) * lead) / 2
            page.items.extend(_paragraph(lines, cx, first_top, fonts.BOLD, SCALE_PT, "middle"))
        page.items.append(Rule(x0, top + height, x1, top + height, 0.3, 0.2))

    return _Piece(height, place, owner=mx)


def _group_piece(label: str, x0: float, x1: float, xs: float, header: _Piece,
                 mx: Matrix) -> _Piece:
    lines = fonts.wrap(label, fonts.BOLD, MATRIX_PT, x1 - x0 - 2.0)
    height = len(lines) * _leading(MATRIX_PT) + 2.0

    def place(page: _Page, top: float) -> None:
        page.items.extend(_paragraph(lines, x0 + 1.0, top + 1.0, fonts.BOLD, MATRIX_PT))
        page.items.append(Rule(x0, top + height, x1, top + height, 0.15, RULE_GREY))

    return _Piece(height, place, keep=True, header=header, owner=mx)


def _matrix_row(row: Question, number: str, options: tuple[Option, ...], x0: float,
                x1: float, xs: float, col_w: float, zone: float, header: _Piece) -> _Piece:
    lines, runs = _numbered_text(number, row.text, x0 + 1.0, xs - 2.0, fonts.REGULAR, MATRIX_PT,
                                 balanced=True)
    text_h = len(lines) * _leading(MATRIX_PT)
    # The row rules must stay outside a box's 2 mm of white (half a rule's width
    # and antialiasing); a digit's zone already exceeds the reader's ring.
    height = max(zone + (0.6 if row.mark == "box" else 0.0), text_h + 2.0)

    def place(page: _Page, top: float) -> None:
        page.items.extend(runs(top + (height - text_h) / 2))
        cy = top + height / 2
        for c, option in enumerate(options):
            _target_at(page, row.id, option, _mark_of(row), xs + (c + 0.5) * col_w, cy)
        page.items.append(Rule(x0, top + height, x1, top + height, 0.15, RULE_GREY))
        page.questions.append(row.id)

    return _Piece(height, place, header=header, owner=row)


# --- sections and the page flow ---------------------------------------------------


def _section_pieces(form: Form, x0: float, x1: float) -> list[_Piece]:
    pieces: list[_Piece] = []
    number = 0
    for section in form.sections:
        lines = fonts.wrap(section.heading, fonts.BOLD, HEADING_PT, x1 - x0)
        pieces.append(_Piece(
            len(lines) * _leading(HEADING_PT) + 0.5,
            _paragraph_place(lines, x0, fonts.BOLD, HEADING_PT),
            BLOCK_GAP_MM + 1.5, keep=True))
        if section.intro:
            intro = fonts.wrap(section.intro, fonts.OBLIQUE, INTRO_PT, x1 - x0)
            pieces.append(_Piece(
                len(intro) * _leading(INTRO_PT),
                _paragraph_place(intro, x0, fonts.OBLIQUE, INTRO_PT),
                1.0, keep=True))
        plain = [b for b in section.blocks if isinstance(b, Question)]
        answer_x, beside = (_answer_column(plain, number + 1, x0, x1)
                            if len(plain) == len(section.blocks) else (0.0, set()))
        for block in section.blocks:
            if isinstance(block, Matrix):
                pieces.extend(_matrix_pieces(form, block, number + 1, x0, x1))
                number += len(block.rows)
                continue
            number += 1
            label = f"{number}."
            if block.type == "text":
                pieces.append(_text_piece(block, label, x0, x1))
            else:
                pieces.append(_choice_piece(block, label, x0, x1,
                                            answer_x if block.id in beside else None))
    return pieces


def _header(form: Form, page: _Page) -> float:
    """Draw the page's header (office, title; on page 1 also intro and instructions);
    return the y where the questions may start."""
    cx = (HEADER_LEFT + HEADER_RIGHT) / 2
    width = HEADER_RIGHT - HEADER_LEFT
    y = MARKER_MARGIN_MM + 1.0
    office = fonts.wrap(form.office, fonts.BOLD, OFFICE_PT, width)
    page.items.extend(_paragraph(office, cx, y, fonts.BOLD, OFFICE_PT, "middle"))
    y += len(office) * _leading(OFFICE_PT) + 1.5
    title_pt = TITLE_PT if page.number == 1 else OFFICE_PT
    title_font = fonts.BOLD if page.number == 1 else fonts.REGULAR
    title = title_lines(form.title, title_font, title_pt, width)
    page.items.extend(_paragraph(title, cx, y, title_font, title_pt, "middle"))
    y = max(y + len(title) * _leading(title_pt), HEADER_MIN_BOTTOM)
    if page.number > 1:
        return y
    x0, x1 = CONTENT_LEFT, CONTENT_RIGHT
    if form.intro:
        intro = fonts.wrap(form.intro, fonts.REGULAR, INTRO_PT, x1 - x0)
        page.items.extend(_paragraph(intro, x0, y + 1.0, fonts.REGULAR, INTRO_PT))
        y += len(intro) * _leading(INTRO_PT) + 2.0
    help_lines = fonts.wrap(form.instructions, fonts.OBLIQUE, HELP_PT, x1 - x0 - 4.0)
    frame_h = len(help_lines) * _leading(HELP_PT) + 2.5
    page.items.append(Frame((x0, y + 1.0, x1 - x0, frame_h), 0.2, 0.45))
    page.items.extend(_paragraph(help_lines, x0 + 2.0, y + 2.2, fonts.OBLIQUE, HELP_PT))
    return y + 1.0 + frame_h + 2.0


# A title line breaks between phrases, never inside a word of several syllables ("TỔ
# CHỨC"): after a comma, or before one of these words that open a phrase in a Vietnamese
# title ("... CỦA NGƯỜI DÂN, TỔ CHỨC | ĐỐI VỚI SỰ PHỤC VỤ").
PHRASE_OPENERS = ("CỦA", "VỀ", "ĐỐI VỚI", "TẠI", "TRONG", "THEO")


def _phrases(text: str) -> list[str]:
    words = text.split()
    phrases: list[list[str]] = [[]]
    for i, word in enumerate(words):
        rest = " ".join(words[i:i + 2]).upper()
        opens = any(rest == o or rest.startswith(o + " ") for o in PHRASE_OPENERS)
        if phrases[-1] and opens:
            phrases.append([])
        phrases[-1].append(word)
        if word.endswith(","):
            phrases.append([])
    return [" ".join(p) for p in phrases if p]


def title_lines(text: str, font: str, size_pt: float, width: float) -> list[str]:
    """`text` wrapped so that each line ends between phrases (see `PHRASE_OPENERS`), never
    inside one, as long as every phrase fits a line; a longer phrase wraps by words."""
    lines: list[str] = []
    for phrase in _phrases(text):
        joined = f"{lines[-1]} {phrase}" if lines else phrase
        if lines and fonts.text_width(joined, font, size_pt) <= width:
            lines[-1] = joined
        else:
            lines.extend(fonts.wrap(phrase, font, size_pt, width))
    return lines


def _footer(form: Form, page: _Page, total: int) -> None:
    # Citizens read this page: no ids (the QR code carries the form, version and serial).
    text = f"Trang {page.number}/{total}"
    page.items.append(TextRun(PAGE_W / 2, PAGE_H - MARKER_MARGIN_MM - 3.0, text,
                              fonts.REGULAR, FOOTER_PT, "middle", 0.3))


def _runs(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Pieces grouped so that each `keep` piece stays with the piece after it."""
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    for piece in pieces:
        current.append(piece)
        if not piece.keep:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _flow(form: Form, pieces: list[_Piece]) -> list[_Page]:
    pages = [_Page(1)]
    y = _header(form, pages[0])
    fresh = True  # nothing placed on the current page yet
    for run in _runs(pieces):
        needed = sum(p.height for p in run) + (0.0 if fresh else run[0].gap_before)
        # A run that does not fit goes to a new page; on a fresh page 1 too,
        # whose header leaves less room than the pages after it.
        if y + needed > CONTENT_BOTTOM and (not fresh or len(pages) == 1):
            pages.append(_Page(len(pages) + 1))
            y = _header(form, pages[-1])
            fresh = True
            header = run[0].header
            if header is not None:
                header.place(pages[-1], y)
                y += header.height
        for piece in run:
            if not fresh:
                y += piece.gap_before
            if y + piece.height > CONTENT_BOTTOM + 1e-6:
                owner = piece.owner.id if piece.owner else "?"
                raise FormDefinitionError(form.source or form.id, [
                    f"'{owner}' không vừa một trang / does not fit on a page"])
            piece.place(pages[-1], y)
            y += piece.height
            fresh = False
    return pages


def layout_form(form: Form) -> Layout:
    """Lay `form` out on A4 pages (see the module docstring for the page plan); a survey's
    form carries the layout it was printed from (`Form.frozen`, see `forms.frozen`), and
    that is returned as it is: paper already printed stays readable whatever this engine
    does later."""
    if form.frozen is not None:
        return form.frozen.layout
    pieces = _section_pieces(form, CONTENT_LEFT, CONTENT_RIGHT)
    pages = _flow(form, pieces)
    out: list[PageLayout] = []
    question_pages: dict[str, int] = {}
    for page in pages:
        _footer(form, page, len(pages))
        geometry = PageGeometry(page.number, tuple(page.targets), tuple(page.fields),
                                QR_BBOX, SERIAL_BBOX)
        out.append(PageLayout(geometry, tuple(page.items)))
        for qid in page.questions:
            question_pages[qid] = page.number
    return Layout(form.id, form.version, tuple(out), question_pages, BOX_BORDER_MM, SERIAL_PT)


def header_overflow(form: Form) -> tuple[float, float] | None:
    """(bottom of page 1's header, lowest it may reach) when the office, title, intro and
    instructions run past the content area into the bottom markers' zone, else None.
    Used by the loader's validation: printed over a marker, the page cannot be read."""
    bottom = _header(form, _Page(1))
    return (bottom, CONTENT_BOTTOM) if bottom > CONTENT_BOTTOM else None


def oversized_blocks(form: Form) -> list[tuple[Question | Matrix, float, float]]:
    """Blocks (or matrix rows) too tall for any page: (block, needed mm, available mm).

    Used by the loader's validation, so a form that loads always lays out.
    """
    available = CONTENT_BOTTOM - _header(form, _Page(2))
    out = []
    seen: set[str] = set()
    for run in _runs(_section_pieces(form, CONTENT_LEFT, CONTENT_RIGHT)):
        header = run[0].header
        needed = sum(p.height for p in run) + (header.height if header else 0.0)
        owner = run[-1].owner
        if needed > available and owner is not None and owner.id not in seen:
            seen.add(owner.id)
            out.append((owner, needed, available))
    return out
