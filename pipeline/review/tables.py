"""The review tables, as SQLAlchemy Core `Table` objects (created by migration 0002).

They live in their own `MetaData`: the pipeline's `schema.metadata` describes the scan's
tables, these describe review's. See `pipeline/migrations/versions/0002_review.py` for
why (`subject`, `seq`) is unique and how claims are taken.

Subjects
--------
A *subject* is what one decision is about, as a string key:
``q:<sheet id>:<question>`` (an answer), ``page:<page id>`` (an unreadable page, an
unknown form, a duplicate copy) or ``sheet:<sheet id>:<reason>`` (a missing page, a
blank ballot). Every flag maps to exactly one subject; several flags may share one
(a marginal mark and an overvote on the same question are decided together).
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("flag_id", sa.Integer),
    sa.Column("sheet_id", sa.Integer),
    sa.Column("page_id", sa.Integer),
    sa.Column("question", sa.String(100)),
    sa.Column("reason", sa.String(40), nullable=False, server_default=""),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("value", sa.Text, nullable=False, server_default=""),
    sa.Column("before_text", sa.Text, nullable=False, server_default=""),
    sa.Column("after_text", sa.Text, nullable=False, server_default=""),
    sa.Column("before_state", sa.Text, nullable=False),
    sa.Column("after_state", sa.Text, nullable=False),
    sa.Column("undoes", sa.Integer),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("subject", "seq", name="uq_review_decisions_subject_seq"),
)

claims = sa.Table(
    "review_claims",
    metadata,
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
