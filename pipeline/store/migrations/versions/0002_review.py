"""Review: every person's decision on record, and claims so two clerks never get the
same item at once.

`review_decisions` keeps each decision (and each undo, itself a decision) beside the
machine's reading: who, when, on what (`subject`), the state before and after (JSON) and
a readable summary of both. (`subject`, `seq`) is unique: a decision carries the version
it was based on and takes `seq = version + 1`, so of two clerks deciding on the same
version only the first insert succeeds; the second is refused as stale.

`review_claims` holds one row per subject being reviewed; taking a claim is an INSERT
guarded by the primary key or a conditional UPDATE of an expired claim, never a read
followed by a write.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.id")),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id")),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id")),
        sa.Column("question", sa.String(100)),
        sa.Column("reason", sa.String(40), nullable=False, server_default=""),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("before_text", sa.Text, nullable=False, server_default=""),
        sa.Column("after_text", sa.Text, nullable=False, server_default=""),
        sa.Column("before_state", sa.Text, nullable=False),
        sa.Column("after_state", sa.Text, nullable=False),
        sa.Column("undoes", sa.Integer, sa.ForeignKey("review_decisions.id")),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.UniqueConstraint("subject", "seq", name="uq_review_decisions_subject_seq"),
    )
    op.create_index("ix_review_decisions_sheet", "review_decisions", ["sheet_id"])
    op.create_table(
        "review_claims",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("claimed_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_claims")
    op.drop_table("review_decisions")
