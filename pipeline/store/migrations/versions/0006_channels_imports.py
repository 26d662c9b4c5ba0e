"""Ballots that did not come on paper: a sheet's channel, and the files imported.

`sheets.channel` says how a ballot reached the survey (`paper`, `online`, `kiosk`;
existing sheets are paper). `imports` keeps one row per imported file, unique on its
SHA-256, so importing the same file twice adds nothing; its sheets point to it.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("form", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("sheets") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="paper"))
        batch.add_column(sa.Column("import_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_sheets_import", "imports", ["import_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("sheets") as batch:
        batch.drop_constraint("fk_sheets_import", type_="foreignkey")
        batch.drop_column("import_id")
        batch.drop_column("channel")
    op.drop_table("imports")
