"""Decisions: raw scores -> target states -> one decision per question.

Pure and cheap, so a store can re-decide every kept score when thresholds
change. Never a guess: a marginal target or two marks on a single-choice
question make the question `flagged`, with reasons a person can act on.

Counting needs positive evidence of a deliberate mark, and reading blank
needs positive evidence of no new ink; everything between is `marginal`, and
so is a target whose snap found its print only at the edge of its search
(`omr.template.snap_at_reach`: the registration is off there by more than the
snap reaches, and the measure may hold the print's own lines). A
box is decided on its score, and is marked by a stroke crossing it side to
side (`across`: a thin slash corner to corner covers too little of it), and
not blank while a faint stroke runs through it (`faint_mm`). A
digit on its `DigitEvidence`: marked by a circle round it, a stroke of
`digit_stroke_mm` over it, a line or a tick of that length beside it
(clearly its own, by geometry: a tick goes with its vertex), a shading over
its box, or its box blacked out; empty only with no stroke of ink of its own
or of unclear owner near it (a piece shorter than SPECK_MM is a blob, not a
stroke), no shading, its glyph
neither darkened nor thickened beyond its print (a stroke laid along it),
and less new ink on and round it, all told, than a stroke's least.

The printed correction rule ("fill the wrong one completely and mark the
right one"; on the digit form also "or cross out the wrongly circled
digit"): a target filled in solid, or a digit circled and crossed out
(`crossed_out`), beside exactly one other mark on a single-choice question is
read as cancelled and the other one counted (`QuestionReading.corrected`);
any other case with such a target beside other marks is flagged
`correction`, never counted twice, never the cancelled one; and a crossed-out
circle with no other mark is flagged `correction` too (the person took back
their only answer: whether they meant none is for a person). A target inked
like the rule's mark but not read as it (`_like_rule_mark`: a pencil fill, a
lightly pressed ballpoint's, a faint cross over a circle) beside another mark
is `correction` as well, after `overvote` on a single-choice question: the
rule may settle it, and only a person can tell, so review shows them the rule.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from omr.reading import DigitEvidence, QuestionReading, TargetScore, TargetState, TextReading
from omr.template import snap_at_reach
from omr.text import looks_like_words
from omr.thresholds import (
    BLACKOUT_AROUND,
    BLACKOUT_COVER,
    BLACKOUT_MIDDLE,
    CROSSED_MM2,
    DEFAULT_THRESHOLDS,
    SPECK_MM,
    Thresholds,
)

# Reasons a question is flagged (stored, shown in review).
MARGINAL = "marginal"  # a target in the review band: a faint mark, a dot, an erasure
OVERVOTE = "overvote"  # two or more marks on a single-choice question
CORRECTION = "correction"  # the rule's mark (a solid fill, a crossed-out circle) not settled by the printed rule
BETWEEN = "between"  # a stroke between two targets: whose it is is not clear
LOW_CONFIDENCE = "low_confidence"  # OCR not sure of a written comment
NOT_TRANSCRIBED = "not_transcribed"  # written comment, OCR not run
OFF_PAGE = "off_page"  # part of the question lies outside the captured image (omr.coverage)
FOLDED = "folded"  # a fold (the paper gone, or its blank back) lies over the question (omr.coverage)

# The rule printed on the shipped forms, shown beside a correction for review.
CORRECTION_RULE = (
    "Nếu đánh nhầm, hãy tô kín ô sai (hoặc gạch chéo chữ số khoanh nhầm) rồi đánh dấu lựa chọn đúng / "
    "If you marked by mistake, fill the wrong target completely (or cross out the wrongly circled "
    "digit), then mark the right one"
)

REASON_TEXTS: dict[str, str] = {
    MARGINAL: "Dấu mờ hoặc không rõ / faint or unclear mark",
    OVERVOTE: "Đánh dấu nhiều hơn một ô cho câu chọn một / more than one mark on a single-choice question",
    CORRECTION: "Có ô tô kín hoặc chữ số khoanh bị gạch chéo, chưa rõ theo quy tắc sửa / a target filled in, "
                "or a circled digit crossed out, not settled by the correction rule",
    BETWEEN: "Dấu nằm giữa hai lựa chọn / a mark between two options",
    LOW_CONFIDENCE: "Chữ viết khó đọc, cần người nhập lại / handwriting unclear, needs transcription",
    NOT_TRANSCRIBED: "Có ý kiến viết tay chưa được đọc / written comment not yet transcribed",
    OFF_PAGE: "Một phần câu hỏi nằm ngoài ảnh chụp / part of the question is outside the captured image",
    FOLDED: "Một góc phiếu bị gấp che câu hỏi, cần xem tờ phiếu / a folded corner covers the question: check the paper",
}


class Measure(Protocol):
    # read-only, so that frozen dataclasses (`omr.score.TargetMeasure`) are measures
    @property
    def question(self) -> str: ...
    @property
    def option(self) -> str: ...
    @property
    def score(self) -> float: ...


def target_state(score: float, shape: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TargetState:
    """marked (score >= T_mark), marginal (T_empty <= score < T_mark) or empty:
    a box's state, or a digit's when only its summary score is known."""
    t_empty, t_mark = thresholds.pair(shape)
    if score >= t_mark:
        return "marked"
    if score >= t_empty:
        return "marginal"
    return "empty"


def box_state(score: float, across: bool, faint_mm: float,
              thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TargetState:
    """A box's state: marked by its score or by a stroke across it, marginal
    by its score or by a faint stroke through it (`omr.score.box_faint_mm`: a
    light pencil check is not nothing; a piece shorter than SPECK_MM is a blob,
    not a stroke, as round a digit), else empty."""
    if across:
        return "marked"
    state = target_state(score, "box", thresholds)
    if state == "empty" and faint_mm >= SPECK_MM:
        return "marginal"
    return state


def digit_state(ev: DigitEvidence, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TargetState:
    """A digit's state from its evidence (see the module docstring)."""
    t = thresholds
    if (ev.ring >= t.digit_mark or ev.through_mm >= t.digit_stroke_mm or ev.beside_mm >= t.digit_beside_mm
            or ev.tick_mm >= t.digit_tick_mm or ev.fill_local >= t.digit_fill_mark
            or ev.solid >= t.digit_solid):
        return "marked"
    # A piece of ink shorter than a speck is across (SPECK_MM) is a blob, not
    # a stroke, on the glyph as off it: neither its length nor the ring
    # sectors it inks (the ring holds only strokes' ink, so a ring sector
    # without a stroke of extent is a blob's) tell of a mark; its ink is
    # weighed with the rest (new_ink_mm2).
    if (ev.longest_mm >= SPECK_MM or ev.fill >= t.digit_fill_empty or ev.inner_mm2 >= t.digit_inner_empty_mm2
            or ev.thick_mm2 >= t.digit_thick_empty_mm2 or ev.crumbs_mm2 >= t.digit_crumbs_empty_mm2
            or new_ink_mm2(ev) >= t.digit_inner_empty_mm2 or ev.faint_mm >= SPECK_MM):
        return "marginal"
    return "empty"


def new_ink_mm2(ev: DigitEvidence) -> float:
    """All the new ink measured on and round a digit (mm2): over its box, on and
    beside its glyph, and in crumbs near it. A stroke laid mostly along the glyph
    leaves a little in each, none of them a stroke's least ink alone (0.25 over
    the box and 0.17 on the glyph: read blank); together they are. The parts
    overlap at the glyph's rim, so this never understates the ink."""
    return ev.inner_mm2 + ev.thick_mm2 + ev.crumbs_mm2


def crossed_out(ev: DigitEvidence) -> bool:
    """Whether a digit was circled and then crossed out (the SIPAS form's
    printed rule: "gạch chéo chữ số khoanh nhầm"; see `CROSSED_MM2`): its
    ring inked all round, as a circle inks it and a cross, reaching out in
    four arms, never does; a stroke's least ink over its middle, where a
    circle round it never comes, reaching further than a speck; and its box
    not covered (a shading or a blackout)."""
    return _ink_in_circled_middle(ev) and ev.middle_mm >= SPECK_MM and ev.fill < BLACKOUT_COVER


def _ink_in_circled_middle(ev: DigitEvidence) -> bool:
    """A digit's ring inked all round and a stroke's least ink over its middle,
    where a circle round it never comes: what a cross over a circled digit leaves."""
    return ev.ring >= BLACKOUT_AROUND and ev.middle_mm2 >= CROSSED_MM2


def is_filled(m: Measure, shape: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """Whether a target carries the correction rule's mark: a box filled in
    solid, enough of it under dark ink; a digit blacked out, its middle
    hidden, its box covered and its ink all round it too (`BLACKOUT_MIDDLE`,
    `BLACKOUT_COVER`, `BLACKOUT_AROUND`: a heavy circle or cross is not), or
    circled and crossed out (`crossed_out`)."""
    solid = float(getattr(m, "solid", 0.0))
    if shape != "digit":
        return solid >= thresholds.box_solid
    evidence = getattr(m, "digit", None)
    if isinstance(evidence, DigitEvidence):
        if crossed_out(evidence):
            return True
        if evidence.hidden <= BLACKOUT_MIDDLE or evidence.fill < BLACKOUT_COVER or evidence.ring < BLACKOUT_AROUND:
            return False
    return solid >= thresholds.digit_solid


def _like_rule_mark(t: TargetScore, thresholds: Thresholds) -> bool:
    """Inked like the correction rule's mark though not read as it: half its box under dark
    ink, or (a box) its interior almost wholly covered, as a ballpoint fill leaves it; or (a
    digit) circled all round with a stroke's least ink over its middle, where a circle never
    comes (a cross over it too faint, or too far off the centre, to be read as crossed out)."""
    covered = t.digit is None and t.score >= thresholds.box_covered
    crossed = t.digit is not None and _ink_in_circled_middle(t.digit)
    return t.solid >= thresholds.unsure_fill or covered or crossed


def _question(question: str, qtype: str, targets: list[TargetScore],
              thresholds: Thresholds = DEFAULT_THRESHOLDS) -> QuestionReading:
    # One pass over the question's targets (a page decides ~15 questions).
    marked: list[TargetScore] = []
    filled_list: list[str] = []
    plain_list: list[str] = []
    marginal = False
    for t in targets:
        if t.state == "marked":
            marked.append(t)
            (filled_list if t.filled else plain_list).append(t.option)
        elif t.state == "marginal":
            marginal = True
    filled, plain = tuple(filled_list), tuple(plain_list)
    reasons: list[str] = []
    corrected: tuple[str, ...] = ()
    value = tuple(t.option for t in marked)
    if filled and plain:
        corrected, value = filled, plain
        if not (qtype == "single" and len(filled) == 1 and len(plain) == 1):
            reasons.append(CORRECTION)
    elif any(t.digit is not None and crossed_out(t.digit) for t in marked):
        reasons.append(CORRECTION)  # crossed out with nothing beside it: taken back, or meant?
    elif len(marked) > 1:
        if qtype == "single":
            reasons.append(OVERVOTE)
        if any(_like_rule_mark(t, thresholds) for t in marked):
            # The rule's mark, not read as it (a pencil fill, a faint cross over a circle),
            # or a second answer? Only a person can tell, shown the rule; never count both.
            reasons.append(CORRECTION)
    if marginal:
        reasons.append(MARGINAL)
        if any(t.state == "marginal" and t.digit is not None and t.digit.between_mm >= SPECK_MM for t in targets):
            reasons.append(BETWEEN)
    if reasons:
        return QuestionReading(question, "flagged", (), tuple(reasons), corrected)
    if value:
        return QuestionReading(question, "answered", value, (), corrected)
    return QuestionReading(question, "no_answer")


def decide(
    measures: Iterable[Measure],
    question_types: Mapping[str, str],
    shapes: Mapping[tuple[str, str], str],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> tuple[tuple[TargetScore, ...], tuple[QuestionReading, ...]]:
    """Apply `thresholds` to raw `measures` (anything with question, option,
    score and, for digits, `digit` evidence: fresh `TargetMeasure`s or stored
    `TargetScore`s; a digit without evidence is decided on its score).

    `question_types` maps question id -> "single" | "multi"; `shapes` maps
    (question, option) -> "box" | "digit" (see `FormTemplate`). Returns the
    targets with their states (input order) and one `QuestionReading` per
    question, in order of first appearance. A question of unknown type is
    treated as single choice: an overvote then gets flagged, not counted.
    """
    targets: list[TargetScore] = []
    by_question: dict[str, list[TargetScore]] = {}
    for m in measures:
        shape = shapes.get((m.question, m.option), "box")
        evidence = getattr(m, "digit", None) if shape == "digit" else None
        across = shape != "digit" and bool(getattr(m, "across", False))
        faint = float(getattr(m, "faint_mm", 0.0)) if shape != "digit" else 0.0
        offset = getattr(m, "offset_mm", (0.0, 0.0))
        state: TargetState
        if snap_at_reach(offset):
            state = "marginal"  # not found where the registration puts it: a person looks
        elif evidence is not None:
            state = digit_state(evidence, thresholds)
        elif shape == "digit":
            state = target_state(m.score, shape, thresholds)
        else:
            state = box_state(m.score, across, faint, thresholds)
        ts = TargetScore(m.question, m.option, m.score, state, offset,
                         evidence, float(getattr(m, "solid", 0.0)),
                         state == "marked" and is_filled(m, shape, thresholds), across, faint)
        targets.append(ts)
        by_question.setdefault(m.question, []).append(ts)
    questions = tuple(
        _question(q, question_types.get(q, "single"), ts, thresholds)
        for q, ts in by_question.items()
    )
    return tuple(targets), questions


def decide_text(reading: TextReading, ocr_done: bool, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> QuestionReading:
    """The decision for a text question: no answer when blank; answered when
    OCR is sure (`ocr_sure`); flagged `low_confidence` or `not_transcribed`
    otherwise (the text itself stays in the `TextReading`)."""
    if reading.blank:
        return QuestionReading(reading.question, "no_answer")
    if not ocr_done:
        return QuestionReading(reading.question, "flagged", (), (NOT_TRANSCRIBED,))
    if not ocr_sure(reading.text, reading.confidence, thresholds):
        return QuestionReading(reading.question, "flagged", (), (LOW_CONFIDENCE,))
    return QuestionReading(reading.question, "answered")


def ocr_sure(text: str | None, confidence: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """The one rule by which OCR text stands without a person: confidence at least
    `thresholds.ocr_min_confidence` and text that reads as words
    (`omr.text.looks_like_words`). The reader flags by it; the report and the exports
    print a comment's OCR text by it (anything else is shown as its image)."""
    if confidence is None or text is None:
        return False
    return confidence >= thresholds.ocr_min_confidence and looks_like_words(text)
