"""The audit log: every review decision, for `phieu export audit`."""
from __future__ import annotations

from datetime import UTC

import pandas as pd
import sqlalchemy as sa

from pipeline.review import tables
from pipeline.store import schema
from pipeline.store.database import Store

AUDIT_COLUMNS = ("decision", "decided_at", "reviewer", "form", "serial", "question", "reason",
                 "action", "value", "before", "after", "undoes", "source", "page")


def audit_frame(store: Store) -> pd.DataFrame:
    """One row per decision, oldest first: `decision` (its id), `decided_at` (ISO 8601,
    UTC), `reviewer`, `form`, `serial`, `question` (empty for a page or sheet), `reason`
    (the flag reasons, `|`-joined), `action`, `value` (the answer codes, the text, or the
    serial a page was assigned to; for an undo the id of the decision undone), `before`
    and `after` (one-line summaries), `undoes`, `source` and `page` (the input file and
    its page, when the item is a page)."""
    d, s, p, src = tables.decisions, schema.sheets, schema.pages, schema.sources
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(d.c.id, d.c.decided_at, d.c.reviewer, sa.func.coalesce(s.c.form, p.c.form),
                      sa.func.coalesce(s.c.serial, p.c.serial), d.c.question, d.c.reason,
                      d.c.action, d.c.value, d.c.before_text, d.c.after_text, d.c.undoes,
                      src.c.path, p.c.page_index)
            .select_from(d.outerjoin(s, s.c.id == d.c.sheet_id)
                         .outerjoin(p, p.c.id == d.c.page_id)
                         .outerjoin(src, src.c.id == p.c.source_id))
            .order_by(d.c.id)
        ).all()
    records = []
    for r in rows:
        when = r[1].replace(tzinfo=UTC) if r[1].tzinfo is None else r[1]
        records.append((r[0], when.isoformat(timespec="seconds"), r[2], r[3] or "",
                        None if r[4] is None else int(r[4]), r[5] or "", r[6], r[7], r[8],
                        r[9], r[10], r[11], r[12] or "", r[13]))
    frame = pd.DataFrame.from_records(records, columns=list(AUDIT_COLUMNS))
    return frame.astype({"serial": "Int64", "undoes": "Int64", "page": "Int64"})
