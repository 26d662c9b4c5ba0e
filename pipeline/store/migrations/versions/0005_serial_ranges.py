"""Serial ranges: each printing for a survey takes the next free range of serials.

Two offices that printed the same serials (both from 1, `phieu forms render`'s default)
had their ballots merged: every sheet a duplicate, and pages of different citizens'
ballots joined under one serial. `serial_ranges` records every range handed out per
form id (all versions: a serial then names one paper sheet whatever the version);
unique (`form`, `first_serial`) lets two stations taking "the next range" at once get
different ones (the second insert fails and takes the range after).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serial_ranges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_serial", sa.Integer, nullable=False),
        sa.Column("last_serial", sa.Integer, nullable=False),
        sa.Column("label", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("form", "first_serial", name="uq_serial_ranges_form_first"),
    )


def downgrade() -> None:
    op.drop_table("serial_ranges")
