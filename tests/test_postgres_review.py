"""Review against a PostgreSQL store: the store-facing tests of test_review.py, run again
here on a survey whose store is a PostgreSQL database (pytest collects the imported
test functions with this module's `built` and `ws` fixtures).

The box is scanned once into a database; each test gets its own copy of it
(`CREATE DATABASE … TEMPLATE`, exact and instant) and of the workspace folder. What
this adds over SQLite: claims, versions and decisions under PostgreSQL's concurrency
(several reviewers really writing at once, no single-writer lock to hide a race), and
the failed INSERT of a stale decision aborting only its own transaction.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from review_support import build_box
from test_review import (  # noqa: F401  (collected here, on PostgreSQL)
    test_a_blank_ballot_is_accepted_or_the_sheet_rejected,
    test_a_claimed_item_is_refused_to_others_until_it_expires,
    test_a_decision_sits_beside_the_machine_reading_and_undo_restores_it,
    test_a_sheet_with_no_open_flag_becomes_reviewed,
    test_a_stale_decision_is_refused_with_who_decided,
    test_an_unreadable_page_is_assigned_by_serial_or_refused,
    test_concurrent_reviewers_never_get_the_same_item,
    test_duplicate_keep_first_then_reject_sheet_then_undo,
    test_going_back_to_the_queue_frees_the_item,
    test_in_the_app_a_late_decision_is_refused_not_written_over,
    test_invalid_and_transcribed_text_reach_the_export,
    test_review_list_set_and_export_audit,
    test_review_set_corrects_an_unflagged_answer,
    test_the_box_has_each_kind_of_item,
    test_undo_reverts_only_what_its_decision_changed,
)

from pipeline.review import build_form_catalog
from pipeline.store.database import open_store
from pipeline.store.survey import SETTINGS_FILE, load_survey, load_survey_forms

pytestmark = pytest.mark.slow  # a throwaway PostgreSQL server and a scanned box


def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory, postgres_server) -> Path:
    return build_box(tmp_path_factory.mktemp("review-box-pg"),
                     new_store=lambda: postgres_server.new_database(f"rb_{uuid.uuid4().hex}"))


@pytest.fixture
def ws(built, tmp_path, postgres_server):
    """(survey, store, catalog, form) of a private copy: folder and database."""
    template = _db_name(load_survey(built).store_url)
    url = postgres_server.new_database(f"t_{uuid.uuid4().hex}", template=template)
    root = shutil.copytree(built, tmp_path / "ws")
    settings = yaml.safe_load((root / SETTINGS_FILE).read_text(encoding="utf-8"))
    settings["store"] = url
    (root / SETTINGS_FILE).write_text(yaml.safe_dump(settings, allow_unicode=True),
                                      encoding="utf-8")
    survey = load_survey(root)
    assert survey.store_url == url
    store = open_store(url)
    forms = load_survey_forms(survey)
    yield survey, store, build_form_catalog(forms), forms[0]
    store.engine.dispose()
