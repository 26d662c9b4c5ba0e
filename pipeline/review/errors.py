"""Errors a reviewer (in the browser or with `phieu review set`) can meet."""
from __future__ import annotations

from forms.errors import PhieuError


class ReviewError(PhieuError):
    """A review request cannot be carried out (unknown item, bad value)."""

    exit_code = 5


class StaleDecision(ReviewError):
    """The item changed since the reviewer saw it (someone else decided first)."""

    exit_code = 6


class ItemTaken(ReviewError):
    """Another reviewer holds the item right now."""

    exit_code = 7


class ReviewServerError(ReviewError):
    """The review server cannot start as asked (no password beyond localhost, port busy)."""

    exit_code = 8
