"""The store's words are named once, and the reader's flag reasons are among them."""
import ast
import importlib
import re
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import get_args

import pytest

from omr.failures import MESSAGES, FailureReason
from pipeline.store import schema, vocabulary
from pipeline.store.vocabulary import AnswerStatus, Channel, FlagReason, SheetStatus

REPO = Path(__file__).resolve().parent.parent

# Every word with a single definition: the store's (`pipeline.store.vocabulary`) and the
# reader's failure reasons (`omr.failures`).
VOCABULARY: tuple[type[StrEnum], ...] = (
    *(v for v in vars(vocabulary).values()
      if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum),
    FailureReason,
)
# `flagged` is also the name of a column of responses.csv and comments.csv (DESIGN.md):
# spelt out as a column name, it is left out of the scan.
WORDS = {member.value for enum in VOCABULARY for member in enum} - {"flagged"}

# Where a word may still be spelt out in library code, how often, and why. Anything else
# spelt like a vocabulary word is a second definition of it.
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("cli.py", "read"): (1, "the `phieu read` command's name, not a page status"),
    ("cli.py", "online"): (1, "IMPORT_CHANNELS: cli.py does not load `pipeline` (over a second); "
                              "test_the_cli_import_channels_are_channels checks them"),
    ("cli.py", "kiosk"): (1, "IMPORT_CHANNELS, as above"),
    ("pipeline/scan/inputs.py", "unreadable"): (1, "UNOPENED_KEY: the tag hashed into the path key "
                                                   "of a file that cannot be opened, not a flag "
                                                   "reason; a new word would re-key known files"),
    ("pipeline/review/decisions.py", "keyed"): (1, "KEYED_STATE: the key of a key-in in stored "
                                                   "decision states, not `PageNote.KEYED`"),
    ("pipeline/review/items.py", "duplicate"): (3, "the `duplicate` item kind (what actions apply), "
                                                   "not the flag reason"),
    ("pipeline/review/i18n.py", "marginal"): (1, "the English label of the marginal target state: "
                                                 "text a person reads"),
    ("pipeline/review/decisions.py", "invalid"): (1, "INVALID_WORDS: what a clerk types, spelt like "
                                                     "the status it records"),
    ("pipeline/review/capture.py", "answered"): (1, "the phone's JSON field: how many questions "
                                                    "were answered"),
    ("pipeline/scan/recorder.py", "answered"): (1, "an omr QuestionReading's status: omr's own "
                                                   "Literal (omr.reading.QuestionStatus)"),
    ("pipeline/scan/recorder.py", "no_answer"): (1, "as above"),
    ("pipeline/review/crops.py", "marginal"): (1, "a target state (omr.reading.TargetState) "
                                                  "coloured in a crop, not a flag reason"),
}
TEMPLATE_ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("pipeline/review/templates/item.html", "marginal"): (1, "a target state's label key"),
    ("pipeline/review/templates/item.html", "duplicate"): (1, "the `duplicate` item kind"),
}


def _library_files() -> list[Path]:
    files = [REPO / "cli.py", *sorted((REPO / "pipeline").rglob("*.py"))]
    # The vocabulary defines the words; a migration is history, written as the schema was.
    return [f for f in files if f.name != "vocabulary.py" and "migrations" not in f.parts]


def _enum_member_values(tree: ast.AST) -> set[int]:
    """ids of the constants that define the members of a StrEnum (another enum's word
    may be spelt like one of ours, e.g. `comments.ShownAs.PERSON`)."""
    ids: set[int] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if any(isinstance(b, ast.Name) and b.id == "StrEnum" for b in cls.bases):
            ids |= {id(s.value) for s in cls.body if isinstance(s, ast.Assign)}
    return ids


def spelt_out_words(source: str) -> Counter[str]:
    """How often each vocabulary word is a bare string constant in `source`."""
    tree = ast.parse(source)
    members = _enum_member_values(tree)
    return Counter(
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS
        and id(node) not in members
    )


def template_words(text: str) -> Counter[str]:
    """How often each vocabulary word is a quoted string inside a Jinja tag of `text`."""
    found: Counter[str] = Counter()
    for tag in re.findall(r"\{[{%](.*?)[%}]\}", text, flags=re.S):
        found.update(w for w in re.findall(r"""['"]([a-z_]+)['"]""", tag) if w in WORDS)
    return found


def _beyond_allowed(found: dict[str, Counter[str]],
                    allowed: dict[tuple[str, str], tuple[int, str]]) -> list[str]:
    return [f"{path}: {word!r} x{n}" for path, words in found.items() for word, n in words.items()
            if n > allowed.get((path, word), (0, ""))[0]]


def test_no_vocabulary_word_is_spelt_out_in_library_code():
    found = {str(f.relative_to(REPO)): spelt_out_words(f.read_text(encoding="utf-8"))
             for f in _library_files()}
    assert _beyond_allowed(found, ALLOWED) == [], "use the vocabulary's member instead"


def test_no_template_compares_with_a_spelt_out_word():
    templates = sorted((REPO / "pipeline").rglob("templates/*.html"))
    assert templates
    found = {str(f.relative_to(REPO)): template_words(f.read_text(encoding="utf-8")) for f in templates}
    assert _beyond_allowed(found, TEMPLATE_ALLOWED) == [], "pass the member from Python"


@pytest.mark.parametrize("source, expected", [
    ('if status == "needs_review": pass', {"needs_review": 1}),
    ('flags = {"duplicate": 1, "missing_page": 2}', {"duplicate": 1, "missing_page": 1}),
    ('failure("no_markers", "detail")', {"no_markers": 1}),
    ("sa.text(\"status = 'read'\")", {}),  # inside SQL text: not a constant of its own
    ('class Shown(StrEnum):\n    PERSON = "person"\nx = "person"', {"person": 1}),
    ('"""read the page"""\nx = "reading"', {}),
], ids=["comparison", "dict-keys", "reader-failure", "sql-text", "enum-definition", "other-words"])
def test_the_scan_finds_spelt_out_words(source, expected):
    assert spelt_out_words(source) == Counter(expected)


def test_the_template_scan_finds_quoted_words_in_tags_only():
    text = """<p id="resolved">{% if 'overvote' in e.reasons %}{{ t("open") }}{% endif %}</p>"""
    assert template_words(text) == Counter({"overvote": 1, "open": 1})


def test_every_allowance_is_still_needed():
    found = {str(f.relative_to(REPO)): spelt_out_words(f.read_text(encoding="utf-8"))
             for f in _library_files()}
    stale = [key for key, (n, _) in ALLOWED.items() if found.get(key[0], Counter())[key[1]] < n]
    assert stale == []


def test_the_cli_import_channels_are_channels():
    cli = importlib.import_module("cli")
    assert set(cli.IMPORT_CHANNELS) == set(Channel) - {Channel.PAPER}


def test_every_status_the_reader_gives_an_answer_is_a_store_answer_status():
    reader = set(get_args(importlib.import_module("omr.reading").QuestionStatus))
    assert reader and reader <= set(AnswerStatus)


def test_every_reader_failure_has_its_message():
    assert set(MESSAGES) == set(FailureReason)


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
