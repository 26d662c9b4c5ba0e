"""Decisions: raw scores -> target states -> one decision per question.

Pure and cheap, so a store can re-decide every kept score when thresholds
change. Never a guess: a marginal target or two marks on a single-choice
question make the question `flagged`, with reasons a person can act on.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from omr.reading import QuestionReading, TargetScore, TargetState, TextReading
from omr.text import looks_like_words
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds

# Reasons a question is flagged (stored, shown in review).
MARGINAL = "marginal"  # a target in the review band: a faint mark, a dot, an erasure
OVERVOTE = "overvote"  # two or more marks on a single-choice question
LOW_CONFIDENCE = "low_confidence"  # OCR not sure of a written comment
NOT_TRANSCRIBED = "not_transcribed"  # written comment, OCR not run
OFF_PAGE = "off_page"  # part of the question lies outside the captured image (omr.coverage)

REASON_TEXTS: dict[str, str] = {
    MARGINAL: "Dấu mờ hoặc không rõ / faint or unclear mark",
    OVERVOTE: "Đánh dấu nhiều hơn một ô cho câu chọn một / more than one mark on a single-choice question",
    LOW_CONFIDENCE: "Chữ viết khó đọc, cần người nhập lại / handwriting unclear, needs transcription",
    NOT_TRANSCRIBED: "Có ý kiến viết tay chưa được đọc / written comment not yet transcribed",
    OFF_PAGE: "Một phần câu hỏi nằm ngoài ảnh chụp / part of the question is outside the captured image",
}


class Measure(Protocol):
    question: str
    option: str
    score: float


def target_state(score: float, shape: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TargetState:
    """marked (score >= T_mark), marginal (T_empty <= score < T_mark) or empty."""
    t_empty, t_mark = thresholds.pair(shape)
    if score >= t_mark:
        return "marked"
    if score >= t_empty:
        return "marginal"
    return "empty"


def _question(question: str, qtype: str, targets: list[TargetScore]) -> QuestionReading:
    marked = tuple(t.option for t in targets if t.state == "marked")
    reasons: list[str] = []
    if qtype == "single" and len(marked) > 1:
        reasons.append(OVERVOTE)
    if any(t.state == "marginal" for t in targets):
        reasons.append(MARGINAL)
    if reasons:
        return QuestionReading(question, "flagged", (), tuple(reasons))
    if marked:
        return QuestionReading(question, "answered", marked)
    return QuestionReading(question, "no_answer")


def decide(
    measures: Iterable[Measure],
    question_types: Mapping[str, str],
    shapes: Mapping[tuple[str, str], str],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> tuple[tuple[TargetScore, ...], tuple[QuestionReading, ...]]:
    """Apply `thresholds` to raw `measures` (anything with question, option,
    score: fresh `TargetMeasure`s or stored `TargetScore`s).

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
        state = target_state(m.score, shape, thresholds)
        ts = TargetScore(m.question, m.option, m.score, state, getattr(m, "offset_mm", (0.0, 0.0)))
        targets.append(ts)
        by_question.setdefault(m.question, []).append(ts)
    questions = tuple(
        _question(q, question_types.get(q, "single"), ts) for q, ts in by_question.items()
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
