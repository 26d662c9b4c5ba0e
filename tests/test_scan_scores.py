"""Every target's raw measures are kept (`pipeline.scan.scores`): a page read,
stored and loaded back re-decides as it was decided, so a new threshold needs no
rescan."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from fixtures.ink import Pen, draw_strokes
from omr import Catalog, decide
from omr.reading import DigitEvidence, PageReading, TargetScore
from pipeline.scan.inputs import PageTask
from pipeline.scan.recorder import record_page
from pipeline.scan.scores import NoEvidence, evidence_json, score_rows, stored_scores, target_from_row
from pipeline.scan.templates import form_infos
from pipeline.scan.workers import PageResult
from pipeline.store import schema
from pipeline.store.database import get_or_create_batch, open_store, utcnow

try:
    from tests.marks_support import PPM, Printed, catalog, printed, read  # noqa: F401 (fixtures)
except ImportError:  # pragma: no cover - run from tests/
    from marks_support import PPM, Printed, catalog, printed, read  # type: ignore[no-redef]  # noqa: F401 (fixtures)

PEN = Pen("ballpoint_blue", 60, 0.5, grain=0.08, skip=0.0)
PENCIL = Pen("pencil", 130, 0.6, grain=0.6, skip=0.1)


def _store(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 'survey.sqlite'}")
    with store.engine.begin() as conn:
        batch = get_or_create_batch(conn, "b1")
        conn.execute(sa.insert(schema.sources).values(
            id=1, batch_id=batch, path="/scans/box.pdf", sha256="0" * 64, size=1, kind="pdf",
            page_count=10, status="partial", added_at=utcnow()))
    return store


def _record(store, index: int, reading: PageReading, printed: dict[str, Printed]) -> int:
    task = PageTask(1, "/scans/box.pdf", "pdf", index, 200)
    forms = form_infos(p.form for p in printed.values())
    with store.engine.begin() as conn:
        record_page(conn, PageResult(task, reading, None, b"jpeg", 4.0, True, (), 0.01), batch_id=1,
                    forms=forms, relative=str, page_path=None, crop_paths={})
        return conn.execute(sa.select(schema.pages.c.id).where(schema.pages.c.page_index == index)).scalar_one()


def _marked(blank: np.ndarray, targets, rng: np.random.Generator) -> np.ndarray:
    """`blank` with a tick, a stroke through, a pencil shading or nothing on each target in turn."""
    page = blank.copy()
    for k, t in enumerate(targets):
        x, y, w, h = t.bbox_mm
        cx, cy = x + w / 2, y + h / 2
        kind = k % 4
        if kind == 0:  # a tick
            draw_strokes(page, PPM, [np.array([[cx - 1.5, cy], [cx - 0.3, cy + 1.4], [cx + 2.0, cy - 2.2]])], PEN, rng)
        elif kind == 1:  # a short stroke through its centre
            a = float(rng.uniform(0, math.pi))
            d = np.array([1.5 * math.cos(a), 1.5 * math.sin(a)])
            draw_strokes(page, PPM, [np.array([[cx, cy] - d, [cx, cy] + d])], PENCIL, rng)
        elif kind == 2:  # a shading over it
            lines = [np.array([[x, y + f * h], [x + w, y + f * h]]) for f in np.linspace(0.1, 0.9, 7)]
            draw_strokes(page, PPM, lines, PENCIL, rng)
    return page


def test_a_targets_measures_come_back_as_they_went_in() -> None:
    """Every field `omr.decide` reads survives the JSON, defaults left out."""
    digit = DigitEvidence(ring=0.875, through_mm=3.25, thick_mm2=-0.125, fill_local=0.5)
    targets = (
        TargetScore("q1", "1", 0.42, "marked", (0.17, -0.33), None, 0.81, True, True, 2.5),
        TargetScore("q2", "3", 0.0, "empty", (0.0, 0.0), DigitEvidence(thick_mm2=0.0)),
        TargetScore("q3", "5", 0.8, "marginal", (0.5, 0.0), digit, digit.solid),
        TargetScore("q4", "2", 0.0, "empty"),
    )

    class Row:
        def __init__(self, t: TargetScore) -> None:
            self.question, self.option, self.score, self.state = t.question, t.option, t.score, t.state
            self.offset_x_mm, self.offset_y_mm = t.offset_mm
            self.evidence = evidence_json(t)

    assert [target_from_row(Row(t)) for t in targets] == list(targets)
    assert evidence_json(targets[3]) == "{}"  # a box with nothing beyond its score: an object all the same
    assert evidence_json(targets[1]) == '{"digit":{}}'  # a digit measured with no evidence stays a digit


@pytest.mark.parametrize(("evidence", "words"), [
    ('{"digit":{"rnig":1.0}}', "rnig"),
    ('{"solld":1.0}', "solld"),
    ('{"digit":5}', "not a JSON object"),
    ("[1]", "not a JSON object"),
])
def test_evidence_this_module_never_writes_is_refused(evidence: str, words: str) -> None:
    """A typo'd key is not silently a default measure."""
    row = type("Row", (), {"question": "q1", "option": "2", "score": 0.5, "state": "marked",
                           "offset_x_mm": 0.0, "offset_y_mm": 0.0, "evidence": evidence})()
    with pytest.raises(ValueError, match=words):
        target_from_row(row)


def test_a_page_stored_before_the_evidence_was_kept_is_not_re_decided(tmp_path: Path) -> None:
    """A row from before migration 0008 (NULL evidence) would come back on its score
    alone: a box marked by a stroke across, as here, would re-decide `marginal`. It
    is refused, not loaded as if its measures were all defaults."""
    store = _store(tmp_path)
    across = TargetScore("q1", "2", 0.08, "marked", (0.0, 0.0), None, 0.0, False, True)
    types, shapes = {"q1": "single"}, {"q1": "box"}
    assert decide((across,), types, shapes)[0][0].state == "marked"
    assert decide((replace(across, across=False),), types, shapes)[0][0].state != "marked"  # what NULL would give
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.pages).values(
            id=1, source_id=1, page_index=1, status="read", scanned_at=utcnow()))
        rows = [{**r, "evidence": None} for r in score_rows(1, (across,))]
        conn.execute(sa.insert(schema.target_scores), rows)
    with store.engine.connect() as conn, pytest.raises(NoEvidence, match="q1/2"):
        stored_scores(conn, 1)


@pytest.mark.slow
def test_a_stored_page_re_decides_as_it_was_read(printed: dict[str, Printed], catalog: Catalog,
                                                tmp_path: Path) -> None:
    """Both shipped forms, marked with ticks, strokes and shadings, read, stored and
    loaded back: deciding the stored targets gives each the state it was read with."""
    store = _store(tmp_path)
    rng = np.random.default_rng(8)
    states: set[str] = set()
    for index, p in enumerate(printed.values(), start=1):
        page = _marked(p.blanks[0], p.pages[0].targets, rng)
        reading = read(catalog, page)
        template = catalog.get(p.form.id, p.form.version)
        assert template is not None
        page_id = _record(store, index, reading, printed)
        with store.engine.connect() as conn:
            stored = stored_scores(conn, page_id)
        assert stored == reading.targets
        types, shapes = template.question_types(), template.target_shapes()
        again, questions = decide(stored, types, shapes)
        assert [t.state for t in again] == [t.state for t in reading.targets]
        read_questions = {q.question: q for q in reading.questions}  # text fields' too
        assert all(q == read_questions[q.question] for q in questions)
        states |= {t.state for t in reading.targets}
    assert {"marked", "empty"} <= states  # not vacuous: marks were read and blanks too
