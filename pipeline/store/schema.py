"""The survey store's tables, as SQLAlchemy Core `Table` objects.

These describe the schema as the code uses it *today*; the database itself is
created and upgraded only by the Alembic scripts in `pipeline/store/migrations/`
(a test checks that the two agree). Only portable types are used so that a
PostgreSQL URL can replace the default SQLite file.

Tables
------
batches        a named scanning session ("2026-11-23", "hom-phieu-thang-10").
sources        an input file, known by its SHA-256; `complete` once every page is stored.
pages          one row per input page, in (source, page_index) order: status
               `read` | `failed` | `duplicate` | `rejected`, the registration's quality and
               the path of the compressed page image kept for review.
sheets         one physical ballot, unique per (form, serial); its pages point to it.
target_scores  every target's raw measures (score, evidence) and state, per page.
answers        per (sheet, question, source): the machine's reading and, beside it, a
               person's decision (source `person`); the person's never overwrites the machine's.
comments       free-text fields: OCR text, confidence, ink, crop image path.
page_answers   the machine's answer to each question of a page read but not on a sheet:
               its QR code unread, identified by its print (migration 0007). Never
               counted: they wait for a person to type the serial (review keying).
imports        a file of answers collected online or at a kiosk (`phieu import`), unique
               by its SHA-256 (migration 0006); its rows are sheets of that channel.
serial_ranges  serials handed out per form id for printing (never overlapping).
flags          review work with its reason; `key` is a natural key that makes re-creating
               the same flag a no-op (the unique constraint guards, not a prior read).
"""
from __future__ import annotations

import sqlalchemy as sa

from pipeline.store.vocabulary import Channel, PageStatus, SheetStatus

metadata = sa.MetaData()

# The values of the status and reason columns are named once, in `vocabulary`.
SHEET_STATUSES = tuple(SheetStatus)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # pdf | tiff | image
    sa.Column("page_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)

imports = sa.Table(
    "imports",
    metadata,
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

sheets = sa.Table(
    "sheets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("serial", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("first_scanned_at", sa.DateTime(timezone=True), nullable=False),
    # how the ballot came (vocabulary.Channel) and, when imported, from which file (0006)
    sa.Column("channel", sa.String(16), nullable=False, server_default=Channel.PAPER.value),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", name="fk_sheets_import")),
    # one printed ballot of one form version (migration 0004)
    sa.UniqueConstraint("form", "version", "serial", name="uq_sheets_form_version_serial"),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("page_index", sa.Integer, nullable=False),  # 1-based within the file
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False, server_default=""),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("form", sa.String(100)),
    sa.Column("version", sa.Integer),
    sa.Column("page_number", sa.Integer),  # the form's page (1, 2, ...), from the QR code
    sa.Column("serial", sa.BigInteger),
    sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id")),
    sa.Column("markers_found", sa.Integer),
    sa.Column("rotation", sa.Integer),
    sa.Column("reprojection_error_mm", sa.Float),
    sa.Column("skew_deg", sa.Float),
    sa.Column("scale_px_per_mm", sa.Float),
    sa.Column("sharpness", sa.Float),
    sa.Column("image_path", sa.Text),  # relative to the workspace
    sa.Column("image_px_per_mm", sa.Float),  # scale of the stored image
    sa.Column("image_registered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seconds", sa.Float),  # time spent reading the page (worker side)
    sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source_id", "page_index", name="uq_pages_source_index"),
)

target_scores = sa.Table(
    "target_scores",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
    sa.Column("question", sa.String(100), nullable=False),
    sa.Column("option", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("offset_x_mm", sa.Float, nullable=False, server_default="0"),
    sa.Column("offset_y_mm", sa.Float, nullable=False, server_default="0"),
    # What `omr.decide` reads beyond the score, as JSON (`pipeline.scan.scores`). Migration 0008;
    # NULL only on rows stored before it, whose pages cannot be re-decided.
    sa.Column("evidence", sa.Text),
    sa.UniqueConstraint("page_id", "question", "option", name="uq_target_scores"),
)

answers = sa.Table(
    "answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id"), nullable=False),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id")),
    sa.Column("question", sa.String(100), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # machine | person
    # Option codes joined by "|" (in form order), or the text of a text question.
    sa.Column("value", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),  # answered | no_answer | flagged
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("sheet_id", "question", "source", name="uq_answers"),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id"), nullable=False),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
    sa.Column("question", sa.String(100), nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("confidence", sa.Float, nullable=False, server_default="0"),
    sa.Column("ink", sa.Float, nullable=False, server_default="0"),
    sa.Column("blank", sa.Boolean, nullable=False),
    sa.Column("crop_path", sa.Text),  # relative to the workspace
    sa.UniqueConstraint("page_id", "question", name="uq_comments"),
)

# The machine's reading of a page whose serial is unknown (`omr` read it by its print, its
# QR code unread): kept per page, since no sheet is known, and never counted itself. When
# a person keys the page in, they start from it (`pipeline.review.keying`). Migration 0007.
page_answers = sa.Table(
    "page_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
    sa.Column("question", sa.String(100), nullable=False),
    # as in `answers`: codes "|"-joined in form order, or the OCR text of a text question
    sa.Column("value", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),  # answered | no_answer | flagged
    sa.Column("reasons", sa.String(200), nullable=False, server_default=""),  # why flagged, "|"
    sa.Column("confidence", sa.Float),  # a text question's OCR confidence 0..100
    sa.Column("crop_path", sa.Text),  # a written text field's crop, relative to the workspace
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("page_id", "question", name="uq_page_answers"),
)

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id")),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id")),
    sa.Column("question", sa.String(100)),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.Text, nullable=False, server_default=""),
)

# Serials handed out by `phieu forms render --survey` (migration 0005): ranges of one
# form id never overlap, so two offices never print the same serial.
serial_ranges = sa.Table(
    "serial_ranges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("first_serial", sa.Integer, nullable=False),
    sa.Column("last_serial", sa.Integer, nullable=False),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("form", "first_serial", name="uq_serial_ranges_form_first"),
)

sa.Index("ix_pages_sheet", pages.c.sheet_id)
sa.Index("ix_flags_sheet", flags.c.sheet_id)
sa.Index("ix_flags_status", flags.c.status)
sa.Index("ix_target_scores_page", target_scores.c.page_id)
# At most one counted (`read`) page per sheet and form page (migration 0003).
sa.Index("uq_pages_one_counted", pages.c.sheet_id, pages.c.page_number, unique=True,
         sqlite_where=pages.c.status == PageStatus.READ.value,
         postgresql_where=pages.c.status == PageStatus.READ.value)
