"""A small scanned ballot box with something of every common kind to review.

Six mot-cua sheets with high overvote and comment rates, plus a second copy of sheet 2 (a
duplicate) and a blank page (unreadable), scanned into a fresh workspace. Built once per
test module (~10 s); tests copy it. The generator's seed is the first of `SEEDS` whose box
has an overvote (one not also a correction), a comment the OCR is unsure of whose text review
prefills, a duplicate and an unreadable page (seed 17 today: seed 3 lost its unsure comment
when scanner streaks were taken out, seed 11 has neither of the two), so a change in the
generator or the reader moves the seed instead of silently dropping what the tests need.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SEEDS = (3, 11, 17, 23, 29)
SHEETS = 6
NEEDED = frozenset({"overvote", "low_confidence", "duplicate", "unreadable", "overvote_alone",
                    "prefilled_comment"})


def _reasons(workspace: Path) -> set[str]:
    """The flag reasons of the box, and two the tests need besides: `overvote_alone`
    (an overvote item not also a correction: the printed rule is not shown on it) and
    `prefilled_comment` (a comment to transcribe whose OCR text review prefills)."""
    import sqlalchemy as sa

    from pipeline.review import open_items
    from pipeline.store import schema
    from pipeline.store.database import open_store
    from pipeline.store.survey import load_survey

    store = open_store(load_survey(workspace).store_url)
    with store.engine.connect() as conn:
        found = set(conn.execute(sa.select(schema.flags.c.reason).distinct()).scalars())
        if any(e.reason == "overvote" and "correction" not in e.reasons for e in open_items(conn)):
            found.add("overvote_alone")
        if prefilled_comment_flag(conn) is not None:
            found.add("prefilled_comment")
    store.engine.dispose()
    return found


def prefilled_comment_flag(conn) -> int | None:
    """The id of an open `low_confidence` flag whose comment review prefills with its
    OCR text (confidence at least `PREFILL_MIN_CONFIDENCE`), or None."""
    import sqlalchemy as sa

    from pipeline.review.suggest import PREFILL_MIN_CONFIDENCE
    from pipeline.store import schema

    f, c = schema.flags, schema.comments
    return conn.execute(
        sa.select(f.c.id).select_from(f.join(c, (c.c.sheet_id == f.c.sheet_id) & (c.c.question == f.c.question)))
        .where(f.c.reason == "low_confidence", f.c.status == "open", c.c.confidence >= PREFILL_MIN_CONFIDENCE,
               c.c.text != "")
        .order_by(f.c.id).limit(1)).scalar()


def build_box(root: Path, new_store: Callable[[], str] | None = None) -> Path:
    """Generate and scan the box under `root` (the first seed of `SEEDS` whose box has
    every reason in `NEEDED`); returns the workspace folder. `new_store` gives the store
    of each attempt (an empty database's URL); default: the workspace's SQLite file."""
    for seed in SEEDS:
        store = new_store() if new_store is not None else "survey.sqlite"
        workspace = _build(root / f"seed-{seed}", seed, store)
        if NEEDED <= _reasons(workspace):
            return workspace
        shutil.rmtree(root / f"seed-{seed}")
    raise AssertionError(f"no seed of {SEEDS} gives a box with {sorted(NEEDED)} to review")


def _build(root: Path, seed: int, store: str) -> Path:
    from fixtures.box import make_ballot_box
    from fixtures.respond import FillOptions
    from pipeline.scan.driver import scan
    from pipeline.store.survey import init_survey

    fill = FillOptions(overvote_rate=0.1, marginal_rate=0.06)
    make_ballot_box("mot-cua", SHEETS, root / "box", seed=seed, mix={"scan": 1.0},
                    comment_rate=0.9, fill=fill)
    extra = root / "extra"
    extra.mkdir(parents=True)
    # Page 2 of the feeder PDF is sheet 2: scanned again as a loose image, it is a duplicate.
    subprocess.run(["pdftoppm", "-r", "200", "-f", "2", "-l", "2", "-png", "-singlefile",
                    str(root / "box" / "batch-001.pdf"), str(extra / "again")], check=True)
    Image.fromarray(np.full((1100, 850), 250, np.uint8)).save(extra / "white.png")
    survey = init_survey(root / "ws", ["mot-cua"], store=store)
    scan(survey, [root / "box" / "batch-001.pdf"], batch="hop-1", jobs=1)
    scan(survey, [extra / "again.png", extra / "white.png"], batch="hop-2", jobs=1)
    return survey.root


def copy_workspace(built: Path, target: Path) -> Path:
    """A private copy of a built workspace (its store and images)."""
    shutil.copytree(built, target)
    return target


def csrf_token(client) -> str:
    """The CSRF token of a Flask test `client`'s session (a first request makes it)."""
    client.get("/login")
    with client.session_transaction() as s:
        return s["csrf"]


def signed_in(app, reviewer: str):
    """(a test client of the review `app` that has given its name `reviewer`, its CSRF token)."""
    client = app.test_client()
    token = csrf_token(client)
    client.post("/name", data={"reviewer": reviewer, "csrf": token})
    return client, token


# Fixtures of the review tests: a module imports them (`from review_support import built,
# ws`) and gets the box scanned once for the module, a private copy of it for each test.


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The box, built and scanned once for the test module."""
    return build_box(tmp_path_factory.mktemp("review-box"))


@pytest.fixture
def ws(built, tmp_path):
    """(survey, store, catalog, first form) of a private copy of the scanned box."""
    from pipeline.review import build_form_catalog
    from pipeline.store.database import open_store
    from pipeline.store.survey import load_survey, load_survey_forms

    survey = load_survey(copy_workspace(built, tmp_path / "ws"))
    store = open_store(survey.store_url)
    forms = load_survey_forms(survey)
    yield survey, store, build_form_catalog(forms), forms[0]
    store.engine.dispose()


@contextmanager
def review_server(survey):
    """`phieu review` for `survey` on a free loopback port, in a thread: yields its URL."""
    from pipeline.review import make_review_server

    running = make_review_server(survey, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running.url
    finally:
        running.shutdown()
        thread.join(timeout=5)
