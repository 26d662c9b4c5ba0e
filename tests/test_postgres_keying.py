"""Keying in against a PostgreSQL store: the store-facing tests of test_review_keying.py,
run again on a survey whose store is a PostgreSQL database (pytest collects the imported
test functions with this module's `box` and `ws` fixtures; each test gets its own copy of
the scanned database, `CREATE DATABASE … TEMPLATE`, and of the workspace folder)."""
from __future__ import annotations

import shutil
import uuid

import pytest
import yaml
from keying_support import build_keying_box
from test_review_keying import (  # noqa: F401  (collected here, on PostgreSQL)
    test_a_comment_keyed_illegible_is_recorded_as_the_transcription_review_records_it,
    test_a_keyed_copy_of_a_counted_page_is_a_flagged_duplicate_never_counted_twice,
    test_a_missing_page_puts_its_questions_in_flagged_and_names_the_flag,
    test_keying_a_page_of_a_sheet_never_read_creates_the_sheet,
    test_keying_refuses_what_does_not_fit,
    test_keying_the_missing_page_counts_the_sheet_and_undo_restores_it,
    test_typing_only_the_serial_counts_the_machines_reading_as_reviewed,
    test_typing_the_serial_of_a_sheet_counted_already_makes_a_flagged_duplicate,
    test_undoing_a_key_in_set_back_by_the_copy_rule_keeps_a_later_persons_answer,
    test_undoing_a_key_in_that_made_a_duplicate_keeps_the_persons_answers_on_the_sheet,
    test_what_the_machine_was_unsure_of_is_left_to_the_clerk_with_its_reason,
)

from pipeline.review import build_form_catalog
from pipeline.store.database import open_store
from pipeline.store.survey import SETTINGS_FILE, load_survey, load_survey_forms

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def box(tmp_path_factory, postgres_server):
    url = postgres_server.new_database(f"kb_{uuid.uuid4().hex}")
    return build_keying_box(tmp_path_factory.mktemp("keying-box-pg"), store=url)


@pytest.fixture
def ws(box, tmp_path, postgres_server):
    """(survey, store, catalog, forms by id) of a private copy: folder and database."""
    template = load_survey(box.workspace).store_url.rsplit("/", 1)[1]
    url = postgres_server.new_database(f"t_{uuid.uuid4().hex}", template=template)
    root = shutil.copytree(box.workspace, tmp_path / "ws")
    settings = yaml.safe_load((root / SETTINGS_FILE).read_text(encoding="utf-8"))
    settings["store"] = url
    (root / SETTINGS_FILE).write_text(yaml.safe_dump(settings, allow_unicode=True),
                                      encoding="utf-8")
    survey = load_survey(root)
    store = open_store(url)
    forms = load_survey_forms(survey)
    yield survey, store, build_form_catalog(forms), {f.id: f for f in forms}
    store.engine.dispose()
