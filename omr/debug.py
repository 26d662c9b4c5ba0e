"""A picture of what the reader saw: every target's region where it was
snapped to, its score and state, and each question's decision (VotingWorks'
`-d` overlays are the model). For `--debug` in the CLI and the pipeline."""
from __future__ import annotations

import cv2
import numpy as np

from omr.decide import REASON_TEXTS
from omr.reading import PageFailure, PageReading, Reading
from omr.template import CANON_PX_PER_MM, FormTemplate, PageTemplate

# BGR colours per state / status.
STATE_COLOURS = {"marked": (0, 160, 0), "marginal": (0, 140, 255), "empty": (170, 170, 170)}
FLAG_COLOUR = (0, 0, 230)


def overlay(image_registered: np.ndarray, reading: PageReading, template: FormTemplate) -> np.ndarray:
    """A BGR copy of the registered page (`reading.page.full()`, canonical scale)
    with every target's counted region outlined at its snapped place in the
    colour of its state (green marked, orange marginal, grey empty), its
    score printed beside it, and flagged questions' targets underlined in red
    with the reason. Text fields are framed, with their ink and confidence."""
    out = cv2.cvtColor(image_registered, cv2.COLOR_GRAY2BGR)
    page = template.pages[reading.identity.page]
    flagged = {q.question: q.reasons for q in reading.questions if q.status == "flagged"}
    scores = {(t.question, t.option): t for t in reading.targets}
    for tt in page.targets:
        ts = scores.get((tt.target.question, tt.target.option))
        if ts is None:
            continue
        dx = int(round(ts.offset_mm[0] * CANON_PX_PER_MM))
        dy = int(round(ts.offset_mm[1] * CANON_PX_PER_MM))
        colour = STATE_COLOURS[ts.state]
        mask = tt.region.astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour, 1, offset=(tt.x0 + dx, tt.y0 + dy))
        h, w = tt.shape
        cv2.putText(
            out, f"{ts.score:.2f}", (tt.x0 + dx, tt.y0 + dy + h + 9),
            cv2.FONT_HERSHEY_PLAIN, 0.7, colour, 1, cv2.LINE_AA,
        )
        if ts.question in flagged:
            y = tt.y0 + dy + h + 1
            cv2.line(out, (tt.x0 + dx, y), (tt.x0 + dx + w, y), FLAG_COLOUR, 2)
    _label_flags(out, page, flagged)
    _frame_texts(out, page, reading)
    return out


def _label_flags(out: np.ndarray, page: PageTemplate, flagged: dict[str, tuple[str, ...]]) -> None:
    done: set[str] = set()
    for tt in page.targets:
        q = tt.target.question
        if q in flagged and q not in done:
            done.add(q)
            cv2.putText(
                out, f"{q}: {','.join(flagged[q])}", (max(0, tt.x0 - 2), max(10, tt.y0 - 3)),
                cv2.FONT_HERSHEY_PLAIN, 0.8, FLAG_COLOUR, 1, cv2.LINE_AA,
            )


def _frame_texts(out: np.ndarray, page: PageTemplate, reading: PageReading) -> None:
    texts = {t.question: t for t in reading.texts}
    for tt in page.texts:
        tr = texts.get(tt.field.question)
        if tr is None:
            continue
        h, w = tt.region.shape
        colour = STATE_COLOURS["empty"] if tr.blank else (200, 80, 0)
        cv2.rectangle(out, (tt.x0, tt.y0), (tt.x0 + w, tt.y0 + h), colour, 1)
        label = "blank" if tr.blank else f"ink {tr.ink:.3f} conf {tr.confidence:.0f}"
        cv2.putText(out, label, (tt.x0 + 2, tt.y0 + h - 3), cv2.FONT_HERSHEY_PLAIN, 0.8, colour, 1, cv2.LINE_AA)


def summary(reading: Reading) -> list[str]:
    """Lines a person reads: the page's identity and quality, then each
    question's decision with its reasons (or why the page failed)."""
    if isinstance(reading, PageFailure):
        return [f"không đọc được / unreadable: {reading.reason}: {reading.message}"]
    ident, q = reading.identity, reading.quality
    lines = [
        f"{ident.form_id} v{ident.version} trang/page {ident.page} số/serial {ident.serial:06d}",
        f"markers {q.markers_found}/4, rotation {q.rotation}°, skew {q.skew_deg:+.1f}°, "
        f"error {q.reprojection_error_mm:.2f} mm, {q.scale_px_per_mm * 25.4:.0f} dpi",
    ]
    if q.streak_columns:
        lines.append(f"vệt dọc của máy quét, đã bỏ / scanner streaks taken out: x = "
                     f"{', '.join(str(x) for x in q.streak_columns)} px (lau kính máy quét / clean its glass)")
    texts = {t.question: t for t in reading.texts}
    for question in reading.questions:
        value = "|".join(question.value)
        if question.question in texts and not texts[question.question].blank:
            value = repr(texts[question.question].text)
        reasons = f" ({', '.join(REASON_TEXTS.get(r, r) for r in question.reasons)})" if question.reasons else ""
        lines.append(f"{question.question}: {question.status} {value}{reasons}".rstrip())
    return lines
