"""The words the store writes in its status, reason and channel columns, each named once.

Every member is a `StrEnum`: it is stored, compared and exported as its plain value
(`SheetStatus.NEEDS_REVIEW == "needs_review"`), so the CSV contracts in DESIGN.md are these
values. Reasons a question is flagged by the reader come from `omr.decide` (the reader
cannot import the store); `FlagReason` lists them beside the ones the pipeline adds, and a
test checks the two agree.
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


class SheetStatus(StrEnum):
    """One ballot (a form version and serial) in responses.csv."""

    COUNTED = "counted"  # read with nothing to review
    NEEDS_REVIEW = "needs_review"  # at least one open flag
    REVIEWED = "reviewed"  # every flag decided by a person
    REJECTED = "rejected"  # set aside by a person: not counted


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
