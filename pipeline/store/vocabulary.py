"""The words the store writes in its status, reason and channel columns, each named once.

Every member is a `StrEnum`: it is stored, compared and exported as its plain value
(`SheetStatus.NEEDS_REVIEW == "needs_review"`), so the CSV contracts in DESIGN.md are these
values. The reader cannot import the store, so its own words stay in `omr`: why a page
failed there is `omr.failures.FailureReason`; why a question is flagged comes from
`omr.decide`, and `FlagReason` lists those beside the ones the pipeline adds (a test checks
the two agree). `tests/test_vocabulary.py` also fails when a word reappears as a bare string
literal in library code.
"""
from __future__ import annotations

from enum import StrEnum


class SourceStatus(StrEnum):
    """An input file: `partial` until every one of its pages is stored."""

    PARTIAL = "partial"
    COMPLETE = "complete"


class PageStatus(StrEnum):
    """One input page in pages.csv."""

    READ = "read"  # registered and identified; its answers are stored
    FAILED = "failed"  # could not be read; `reason` says why
    DUPLICATE = "duplicate"  # a second copy of a page already counted
    REJECTED = "rejected"  # set aside by a person in review


class IngestReason(StrEnum):
    """`pages.reason` of a page that failed before the reader saw it. The reader's own
    failure words are `omr.failures.FailureReason` (the reader cannot import the store); a
    file no decoder opens is its `not_an_image` too."""

    EMPTY_FILE = "empty_file"
    CORRUPT_PDF = "corrupt_pdf"
    ENCRYPTED_PDF = "encrypted_pdf"
    UNREADABLE_FRAME = "unreadable_frame"
    UNREADABLE_FILE = "unreadable_file"
    READER_ERROR = "reader_error"  # the reader raised on this page (a bug): kept as a failed page
    FILE_REPLACED = "file_replaced"  # the file changed under an interrupted scan: its unread pages


class PageNote(StrEnum):
    """`pages.reason` of a page that is neither plainly read nor a failure."""

    DUPLICATE_SERIAL = "duplicate_serial"  # a `duplicate` page: another copy of the serial counts
    KEYED = "keyed"  # a `read` page a person keyed in (review), once failed


class SheetStatus(StrEnum):
    """One ballot (a form version and serial) in responses.csv."""

    COUNTED = "counted"  # read with nothing to review
    NEEDS_REVIEW = "needs_review"  # at least one open flag
    REVIEWED = "reviewed"  # every flag decided by a person
    REJECTED = "rejected"  # set aside by a person: not counted


class AnswerStatus(StrEnum):
    """An answer in `answers.status`. The reader gives the first three (its own words are
    `omr.reading.QuestionStatus`: it cannot import the store; a test checks they agree);
    a person may also find the answer invalid. The review actions `no_answer` and
    `invalid` are named by the status they record."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    FLAGGED = "flagged"  # unsure: waits for a person, counted as nothing meanwhile
    INVALID = "invalid"


class AnswerSource(StrEnum):
    """Who gave an answer: the reader, or a person in review (never overwritten)."""

    MACHINE = "machine"
    PERSON = "person"


class FlagStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FlagReason(StrEnum):
    """Why an item waits for a person."""

    # a question, from the reader (omr.decide)
    MARGINAL = "marginal"
    OVERVOTE = "overvote"
    LOW_CONFIDENCE = "low_confidence"
    NOT_TRANSCRIBED = "not_transcribed"
    OFF_PAGE = "off_page"
    FOLDED = "folded"  # from omr.coverage
    BETWEEN = "between"
    CORRECTION = "correction"
    # a page or a sheet, from the pipeline
    UNREADABLE = "unreadable"
    UNKNOWN_FORM = "unknown_form"
    DUPLICATE = "duplicate"
    MISSING_PAGE = "missing_page"
    BLANK_BALLOT = "blank_ballot"


class Channel(StrEnum):
    """How a ballot reached the survey."""

    PAPER = "paper"
    ONLINE = "online"
    KIOSK = "kiosk"
