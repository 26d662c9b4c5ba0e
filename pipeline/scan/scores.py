"""Every target's raw measures kept in the store (written by the recorder), so a new threshold re-decides a
page without rescanning it (`omr.decide.decide` takes stored `TargetScore`s).

`target_scores` holds a target's `score`, `state` and snap offset in columns, and
the rest of what `omr.decide` reads in `evidence`, a JSON object of the values
that are not their default: `solid`, `across` and `faint_mm` (a box's measures;
a digit's `solid` too), whether it was read `filled`, and a digit's
`DigitEvidence` under `digit` (an empty object for a digit measured with no
evidence, so a digit decided on its parts is told apart from one decided on its
score). Every row written since migration 0008 has an object, `{}` when every
value is its default, so NULL means one thing: a row stored before, whose
measures beyond the score were not kept. Such a page cannot be re-decided (a box
marked by a stroke across, or a digit marginal on its evidence, would come back
on its score alone and could change state): loading it raises `NoEvidence`, and
the states it was read with stand.
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa

from omr.reading import DigitEvidence, TargetScore
from pipeline.store import schema

_DIGIT_FIELDS = tuple(f.name for f in fields(DigitEvidence))
_TOP_FIELDS = frozenset({"solid", "filled", "across", "faint_mm", "digit"})


class NoEvidence(ValueError):
    """A `target_scores` row stored before migration 0008: its measures beyond the
    score were not kept, so its page cannot be re-decided."""


def evidence_json(target: TargetScore) -> str:
    """`target`'s measures beyond score, state and offset as compact JSON: the values
    that differ from their default (`{}` when none does). A measure that is not a
    finite number would be written as Python's `json` writes it (`NaN`), which it
    reads back; raising here would abort a scan over one measure."""
    found: dict[str, Any] = {}
    if target.solid:
        found["solid"] = float(target.solid)
    if target.filled:
        found["filled"] = True
    if target.across:
        found["across"] = True
    if target.faint_mm:
        found["faint_mm"] = float(target.faint_mm)
    if target.digit is not None:
        found["digit"] = {k: float(v) for k, v in asdict(target.digit).items() if v}
    return json.dumps(found, separators=(",", ":"), sort_keys=True)


def score_rows(page_id: int, targets: tuple[TargetScore, ...]) -> list[dict[str, Any]]:
    """The `target_scores` rows of one page's targets."""
    return [
        {
            "page_id": page_id,
            "question": t.question,
            "option": t.option,
            "score": float(t.score),
            "state": t.state,
            "offset_x_mm": float(t.offset_mm[0]),
            "offset_y_mm": float(t.offset_mm[1]),
            "evidence": evidence_json(t),
        }
        for t in targets
    ]


def target_from_row(row: Any) -> TargetScore:
    """A stored `target_scores` row back as the `TargetScore` it was made from.
    Raises `NoEvidence` for a row stored before migration 0008 (NULL `evidence`),
    and ValueError when `evidence` is not the JSON this module writes (not an
    object, a key it never writes, a `digit` that is not an object of
    `DigitEvidence` fields)."""
    where = f"target_scores {row.question}/{row.option}"
    if row.evidence is None:
        raise NoEvidence(f"{where}: stored before migration 0008, its measures beyond the score were not kept")
    found = json.loads(row.evidence)
    if not isinstance(found, dict):
        raise ValueError(f"{where}: evidence is not a JSON object")
    unknown = set(found) - _TOP_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown evidence {sorted(unknown)}")
    digit = found.get("digit")
    if digit is not None and not isinstance(digit, dict):
        raise ValueError(f"{where}: digit evidence is not a JSON object")
    unknown = set(digit or {}) - set(_DIGIT_FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown digit evidence {sorted(unknown)}")
    return TargetScore(
        question=row.question,
        option=row.option,
        score=float(row.score),
        state=row.state,
        offset_mm=(float(row.offset_x_mm), float(row.offset_y_mm)),
        digit=None if digit is None else DigitEvidence(**{k: float(v) for k, v in digit.items()}),
        solid=float(found.get("solid", 0.0)),
        filled=bool(found.get("filled", False)),
        across=bool(found.get("across", False)),
        faint_mm=float(found.get("faint_mm", 0.0)),
    )


def stored_scores(conn: sa.Connection, page_id: int) -> tuple[TargetScore, ...]:
    """Page `page_id`'s targets as stored, in the order they were read. Raises
    `NoEvidence` when the page was stored before migration 0008."""
    t = schema.target_scores
    rows = conn.execute(sa.select(t).where(t.c.page_id == page_id).order_by(t.c.id))
    return tuple(target_from_row(r) for r in rows)
