"""At most one counted page per (sheet, form page): "never counted twice" held by the
database itself.

A page is `read` (it counts) only when no other page of the same sheet and form page was
read before; a later copy is stored as `duplicate`. The recorder checks that under the
sheet's row lock (`store.lock_sheet`), which is what makes two scan stations on one
PostgreSQL survey take turns; this partial unique index is the backstop: should any code
path ever skip the check, its transaction fails and nothing is written, rather than a
sheet counting twice. Review never sets a page to `read`, so no decision can trip it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTED = sa.text("status = 'read'")


def upgrade() -> None:
    op.create_index("uq_pages_one_counted", "pages", ["sheet_id", "page_number"], unique=True,
                    sqlite_where=COUNTED, postgresql_where=COUNTED)


def downgrade() -> None:
    op.drop_index("uq_pages_one_counted", table_name="pages")
