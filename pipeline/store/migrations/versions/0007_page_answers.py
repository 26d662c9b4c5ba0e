"""The machine's answers of a page whose sheet is unknown.

A page whose QR code cannot be read but whose print identifies its form and page is read
all the same (`omr.read_page`); only its serial, printed in the QR code alone, is
unknown. `page_answers` keeps that reading per page (no sheet is known to put it on),
never counted, until a person types the serial (review keying starts from it). Its
target scores go to `target_scores` as for any read page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False, server_default=""),
        sa.Column("confidence", sa.Float),
        sa.Column("crop_path", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("page_id", "question", name="uq_page_answers"),
    )


def downgrade() -> None:
    op.drop_table("page_answers")
