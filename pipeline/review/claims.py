"""Claims: while a reviewer looks at an item, no one else is given it.

A claim is one row per subject in `review_claims`, with a holder (a browser session, or
`cli:NAME`) and an expiry. It is taken in one statement: an INSERT the primary key
guards, or, when a row exists, an UPDATE conditioned on the row being ours or expired.
Never read-then-write, so two sessions asking at the same instant cannot both win.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pipeline.review import tables
from pipeline.store.database import insert_ignore, utcnow
from pipeline.store.queue import QueueEntry, open_items

# Long enough to read a hard comment and type it; short enough that an item left open
# in a closed browser comes back to the queue within the coffee break.
CLAIM_SECONDS = 300


@dataclass(frozen=True)
class Claim:
    """Who holds a subject, until when."""

    subject: str
    holder: str
    reviewer: str
    expires_at: object


def claim(conn: sa.Connection, subject: str, holder: str, reviewer: str,
          seconds: int = CLAIM_SECONDS) -> bool:
    """Take (or renew) the claim on `subject` for `holder`; True when it is ours now.

    False when someone else holds an unexpired claim on it.
    """
    now = utcnow()
    row = {"subject": subject, "holder": holder, "reviewer": reviewer, "claimed_at": now,
           "expires_at": now + timedelta(seconds=seconds)}
    if insert_ignore(conn, tables.claims, row, ["subject"]):
        return True
    c = tables.claims
    taken = conn.execute(
        sa.update(c)
        .where(c.c.subject == subject, sa.or_(c.c.holder == holder, c.c.expires_at < now))
        .values(holder=holder, reviewer=reviewer, claimed_at=now, expires_at=row["expires_at"])
    )
    return taken.rowcount == 1


def release(conn: sa.Connection, holder: str, *, keep: str | None = None) -> int:
    """Drop `holder`'s claims (all but `keep`); returns how many."""
    c = tables.claims
    where = [c.c.holder == holder]
    if keep is not None:
        where.append(c.c.subject != keep)
    return conn.execute(sa.delete(c).where(*where)).rowcount


def active_claim(conn: sa.Connection, subject: str) -> Claim | None:
    """The unexpired claim on `subject`, if any (for messages; never for deciding who
    gets an item, which `claim` does atomically)."""
    c = tables.claims
    row = conn.execute(sa.select(c.c.subject, c.c.holder, c.c.reviewer, c.c.expires_at)
                       .where(c.c.subject == subject, c.c.expires_at >= utcnow())).first()
    return Claim(*row) if row else None


def claim_next(engine: sa.Engine, holder: str, reviewer: str, reason: str | None = None,
               after: int | None = None) -> QueueEntry | None:
    """Claim the first open item (of `reason`, if given) that no one else holds, and
    release `holder`'s other claims. With `after` (a flag id), start after that item in
    queue order and wrap around. Returns the item, or None when nothing is left."""
    with engine.connect() as conn:
        entries = open_items(conn, reason)
    if after is not None:
        ids = [e.flag_id for e in entries]
        if after in ids:
            i = ids.index(after) + 1
            entries = entries[i:] + entries[:i]
    for entry in entries:
        with engine.begin() as conn:
            if claim(conn, entry.subject, holder, reviewer):
                release(conn, holder, keep=entry.subject)
                return entry
    return None
