"""Every target's raw measures, not only its score.

`target_scores.evidence` keeps, as JSON, what `omr.decide` reads beyond a target's
score: a box's solid share, a stroke across it and its faint stroke, a digit's
evidence (`pipeline.scan.scores`). With it a new threshold re-decides a stored page
without rescanning. Rows stored before keep NULL: their pages keep the states
they were read with and cannot be re-decided (`NoEvidence`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("target_scores") as batch:
        batch.add_column(sa.Column("evidence", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("target_scores") as batch:
        batch.drop_column("evidence")
