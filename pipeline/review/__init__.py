"""Reviewing flagged ballots: the queue of open flags, one item at a time in a browser
(or from the command line), every decision on record.

`make_review_server` binds the Flask app `create_app` (loopback by default; a password
is required beyond it) and `open_browser` opens it. `open_items` / `queue_counts` list
what waits; `claim_next` gives a reviewer the next item no one else holds; `decide` and
`undo` record decisions (each beside the machine's reading, with reviewer, time, before
and after; refused as `StaleDecision` when someone decided first); `set_answer` and
`open_item_lines` are `phieu review set` / `list`; `audit_frame` is `phieu export audit`.
"""
from pipeline.review.app import create_app
from pipeline.review.audit import audit_frame
from pipeline.review.claims import claim_next
from pipeline.review.decisions import DecisionRecord, decide, undo
from pipeline.review.errors import ItemTaken, ReviewError, ReviewServerError, StaleDecision
from pipeline.review.items import FormCatalog, build_form_catalog
from pipeline.review.scripted import open_item_lines, set_answer
from pipeline.review.serve import ReviewServer, make_review_server, open_browser
from pipeline.store.queue import open_items, queue_counts

__all__ = [
    "DecisionRecord",
    "FormCatalog",
    "ItemTaken",
    "ReviewError",
    "ReviewServer",
    "ReviewServerError",
    "StaleDecision",
    "audit_frame",
    "build_form_catalog",
    "claim_next",
    "create_app",
    "decide",
    "make_review_server",
    "open_browser",
    "open_item_lines",
    "open_items",
    "queue_counts",
    "set_answer",
    "undo",
]
