"""A sheet is one printed ballot of one form VERSION: unique on (form, version, serial).

0001 made sheets unique on (form, serial). An office that prints version 2 of its form
with serials starting at 1 again (the default of `phieu forms render`) would then have
had its version-2 pages joined to the version-1 ballots of the same numbers: flagged as
duplicates where the page was already there, silently mixed into one sheet where it was
not. The version is part of what the QR code says a page is, so it is part of the key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot drop a constraint in place, so Alembic copies the table.
    with op.batch_alter_table("sheets") as batch:
        batch.drop_constraint("uq_sheets_form_serial", type_="unique")
        batch.create_unique_constraint("uq_sheets_form_version_serial", ["form", "version", "serial"])


def downgrade() -> None:
    with op.batch_alter_table("sheets") as batch:
        batch.drop_constraint("uq_sheets_form_version_serial", type_="unique")
        batch.create_unique_constraint("uq_sheets_form_serial", ["form", "serial"])
