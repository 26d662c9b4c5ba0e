"""The survey store's first schema: batches, sources, pages, sheets, scores, answers,
comments, flags.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("added_at", TS, nullable=False),
    )
    op.create_table(
        "sheets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("serial", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("first_scanned_at", TS, nullable=False),
        sa.UniqueConstraint("form", "serial", name="uq_sheets_form_serial"),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("page_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False, server_default=""),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("form", sa.String(100)),
        sa.Column("version", sa.Integer),
        sa.Column("page_number", sa.Integer),
        sa.Column("serial", sa.BigInteger),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id")),
        sa.Column("markers_found", sa.Integer),
        sa.Column("rotation", sa.Integer),
        sa.Column("reprojection_error_mm", sa.Float),
        sa.Column("skew_deg", sa.Float),
        sa.Column("scale_px_per_mm", sa.Float),
        sa.Column("sharpness", sa.Float),
        sa.Column("image_path", sa.Text),
        sa.Column("image_px_per_mm", sa.Float),
        sa.Column("image_registered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("seconds", sa.Float),
        sa.Column("scanned_at", TS, nullable=False),
        sa.UniqueConstraint("source_id", "page_index", name="uq_pages_source_index"),
    )
    op.create_index("ix_pages_sheet", "pages", ["sheet_id"])
    op.create_table(
        "target_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("option", sa.String(100), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("offset_x_mm", sa.Float, nullable=False, server_default="0"),
        sa.Column("offset_y_mm", sa.Float, nullable=False, server_default="0"),
        sa.UniqueConstraint("page_id", "question", "option", name="uq_target_scores"),
    )
    op.create_index("ix_target_scores_page", "target_scores", ["page_id"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id"), nullable=False),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id")),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("sheet_id", "question", "source", name="uq_answers"),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id"), nullable=False),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("confidence", sa.Float, nullable=False, server_default="0"),
        sa.Column("ink", sa.Float, nullable=False, server_default="0"),
        sa.Column("blank", sa.Boolean, nullable=False),
        sa.Column("crop_path", sa.Text),
        sa.UniqueConstraint("page_id", "question", name="uq_comments"),
    )
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id")),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id")),
        sa.Column("question", sa.String(100)),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_flags_sheet", "flags", ["sheet_id"])
    op.create_index("ix_flags_status", "flags", ["status"])


def downgrade() -> None:
    for table in ("flags", "comments", "answers", "target_scores", "pages", "sheets",
                  "sources", "batches"):
        op.drop_table(table)
