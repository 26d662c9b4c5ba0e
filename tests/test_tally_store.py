"""`whole_sheet_flags`: the serials whose open flag is about the whole sheet, from a store."""
from __future__ import annotations

from pipeline.outputs.report.source import whole_sheet_flags
from pipeline.store import schema
from pipeline.store.database import open_store, utcnow

try:  # tests/ as a package (tests/__init__.py) or as a plain folder of modules
    from tests.test_tally_support import mini_form
except ImportError:
    from test_tally_support import mini_form


def test_whole_sheet_flags(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(schema.batches.insert().values(id=1, name="hop-1", created_at=now))
        conn.execute(schema.sources.insert().values(
            id=1, batch_id=1, path="a.pdf", sha256="0" * 64, size=1, kind="pdf",
            page_count=4, status="complete", added_at=now))
        for sheet_id, serial in ((1, 11), (2, 12), (3, 13), (4, 14)):
            conn.execute(schema.sheets.insert().values(
                id=sheet_id, form="mini", version=1, serial=serial, status="needs_review",
                batch_id=1, first_scanned_at=now))
            conn.execute(schema.pages.insert().values(
                id=sheet_id, source_id=1, page_index=sheet_id, status="read", form="mini",
                version=1, page_number=1, serial=serial, sheet_id=sheet_id, scanned_at=now))
        flags = [
            (1, None, "missing_page", "open"),  # 11: about the sheet -> whole
            (2, "tc1", "marginal", "open"),  # 12: one question -> not whole
            (3, None, "duplicate", "resolved"),  # 13: resolved -> not whole
        ]
        for n, (sheet_id, question, reason, status) in enumerate(flags):
            conn.execute(schema.flags.insert().values(
                key=f"k{n}", sheet_id=sheet_id, question=question, reason=reason,
                status=status, created_at=now))
        # 14: a flag on its page (no sheet id, no question) -> whole
        conn.execute(schema.flags.insert().values(
            key="k9", page_id=4, question=None, reason="blank_ballot", status="open",
            created_at=now))
    assert whole_sheet_flags(store, mini_form()) == frozenset({"11", "14"})
