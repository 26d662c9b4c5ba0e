"""The store's words are named once, and the reader's flag reasons are among them."""
import importlib
import re

from pipeline.store import schema
from pipeline.store.vocabulary import FlagReason, SheetStatus


def test_every_reason_the_reader_flags_is_a_store_flag_reason():
    omr_decide = importlib.import_module("omr.decide")  # `omr.decide` the package attribute is a function
    reader_reasons = {
        value for name, value in vars(omr_decide).items()
        # the reason words (lower-case identifiers), not the texts shown beside them
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value)
    }
    assert reader_reasons, "omr.decide names its flag reasons as module constants"
    assert reader_reasons <= set(FlagReason)
    assert importlib.import_module("omr.coverage").FOLDED in set(FlagReason)


def test_the_schema_lists_the_vocabulary_values():
    assert schema.SHEET_STATUSES == ("counted", "needs_review", "reviewed", "rejected")
    assert SheetStatus.NEEDS_REVIEW == "needs_review"
    assert f"{SheetStatus.NEEDS_REVIEW}" == "needs_review"
