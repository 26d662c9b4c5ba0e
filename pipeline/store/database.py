"""The survey store: opening it (migrations run on open) and small portable helpers.

SQLAlchemy Core only. The default is a SQLite file in the workspace; nothing here is
SQLite-only SQL, so a PostgreSQL URL can take its place (`store:` in survey.yaml, driver
psycopg 3), shared by several scan stations and reviewers at once.
Duplicate-guarding is done by unique constraints with INSERT ... ON CONFLICT DO NOTHING
(both dialects have it), never by reading first and writing after.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite

from forms.durable import fault_point
from forms.errors import SurveyError
from pipeline.store import schema
from pipeline.store.vocabulary import FlagStatus, SheetStatus

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Store:
    """An open survey store. `engine` is a SQLAlchemy engine; use `engine.begin()`."""

    engine: sa.Engine
    url: str


def utcnow() -> datetime:
    """The current time in UTC (every timestamp in the store is UTC)."""
    return datetime.now(UTC)


def _alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the review app read while a scan writes; the busy timeout makes a second
    # writer wait instead of failing at once; SQLite enforces foreign keys only on request.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def head_revision() -> str:
    """The newest migration revision this code knows."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def engine_url(url: str) -> str:
    """`url` with a driver SQLAlchemy can load: `postgresql://` and `postgres://` (what
    PostgreSQL's own tools write) mean psycopg 3, the driver phieu installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def open_store(url: str, *, migrate: bool = True, create: bool = True) -> Store:
    """Open the store at `url` (a SQLAlchemy URL) and bring its schema up to date.

    With `create=False` (every command but `phieu init`) the store must exist already:
    a SQLite file that is not there, or a database without phieu's tables, is refused
    rather than made — a typo in `store:` must not start a new, empty survey.
    Raises `SurveyError` when the database cannot be opened, does not exist and may not
    be created, or was written by a newer phieu (a revision these migrations do not know).
    """
    if url.split(":", 1)[0].split("+", 1)[0] not in KNOWN_SCHEMES:
        raise SurveyError(
            f"Địa chỉ kho dữ liệu không hợp lệ / not a store address phieu knows: {url!r}",
            "check `store:` in survey.yaml: a SQLite file name (survey.sqlite) or "
            "postgresql://USER@HOST/DB",
        )
    try:
        engine = sa.create_engine(engine_url(url), **_engine_options(url))
    except Exception as err:  # bad URL, missing driver
        raise SurveyError(
            f"Không mở được kho dữ liệu / cannot open the store {url!r}: {err}",
            "check `store:` in survey.yaml",
        ) from err
    if engine.dialect.name == "sqlite":
        _require_sqlite_file(engine, create)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        _migrate(engine, engine.url.render_as_string(hide_password=True), create)
    return Store(engine=engine, url=url)


KNOWN_SCHEMES = frozenset({"sqlite", "postgresql", "postgres"})


def _require_sqlite_file(engine: sa.Engine, create: bool) -> None:
    database = engine.url.database
    if create or not database or database == ":memory:" or Path(database).is_file():
        return
    raise SurveyError(
        f"Không có kho dữ liệu / the store {database} does not exist",
        "check `store:` in survey.yaml (a typo?); only `phieu init` makes a new store",
    )



def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {}
    # A database server is reached over a network that drops idle connections (a
    # station left open over lunch): test a pooled connection before handing it out.
    return {"pool_pre_ping": True}


def _migrate(engine: sa.Engine, url: str, create: bool = True) -> None:
    known = head_revision()
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:
                # A migration that changes a constraint rebuilds the table on SQLite
                # (Alembic's batch mode); with foreign keys enforced, dropping the old
                # table fails while other tables refer to it. The pragma only takes
                # effect outside a transaction (so on the driver's connection, before
                # SQLAlchemy begins one); the check below proves nothing dangles.
                driver: Any = conn.connection.driver_connection
                driver.execute("PRAGMA foreign_keys=OFF")
                # pysqlite commits on its own before DDL (CREATE, ALTER, DROP): a kill
                # during the first open or a migration left half a schema ("table
                # batches already exists" for ever after). Here the transaction is
                # begun explicitly, so the DDL commits with the revision or not at all.
                driver.isolation_level = None
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql("BEGIN")
                _upgrade(conn, url, known, create)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left rows pointing at missing rows")
                fault_point("store.migrate.commit")
            if sqlite:
                driver.isolation_level = ""  # pysqlite's default again for the pool
                driver.execute("PRAGMA foreign_keys=ON")
    except SurveyError:
        raise
    except Exception as err:
        remedy = (
            "check that the file is a phieu store and is not in use by another program"
            if engine.dialect.name == "sqlite" else
            "check the URL, that the database server is running and reachable from here, "
            "and the user's password (~/.pgpass or PGPASSWORD)"
        )
        raise SurveyError(
            f"Không mở được kho dữ liệu / cannot open or upgrade the store {url}: "
            f"{_first_line(err)}",
            remedy,
        ) from err


def _upgrade(conn: sa.Connection, url: str, known: str, create: bool = True) -> None:
    """Bring the store's schema to `known` (the newest migration), refusing a store
    made by a newer phieu, and (unless `create`) a database with no phieu schema."""
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None and not create:
        raise SurveyError(
            f"Cơ sở dữ liệu {url} chưa phải kho phieu / the database {url} holds no phieu store",
            "check `store:` in survey.yaml (a typo?); only `phieu init` makes a new store",
        )
    script = ScriptDirectory.from_config(_alembic_config(conn))
    if current is not None and script.get_revision(current) is None:
        raise SurveyError(
            f"Kho dữ liệu {url} có phiên bản lược đồ {current!r} mới hơn phần mềm "
            f"/ the store's schema revision {current!r} is newer than this phieu "
            f"(knows up to {known!r})",
            "upgrade phieu before opening this survey",
        )
    if current != known:
        command.upgrade(_alembic_config(conn), "head")


def _first_line(err: Exception) -> str:
    # SQLAlchemy wraps the driver's error with the SQL and a link on further lines; the
    # driver's own first line says what went wrong.
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def insert_ignore(
    conn: sa.Connection, table: sa.Table, values: dict[str, Any], conflict: list[str]
) -> bool:
    """INSERT `values` into `table` unless a row with the same `conflict` columns exists.

    Returns True when a row was inserted. The unique constraint decides, in one
    statement, so two writers (or a re-run after a crash) cannot both insert.
    """
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(
            index_elements=conflict
        )
    elif dialect == "postgresql":
        # PostgreSQL's driver reports no row count for an INSERT that returns rows (as
        # SQLAlchemy makes it, for the new id): a returned row is the answer.
        returning = postgresql.insert(table).values(**values).on_conflict_do_nothing(
            index_elements=conflict
        ).returning(sa.literal(1))
        return conn.execute(returning).first() is not None
    else:
        raise SurveyError(
            f"Cơ sở dữ liệu {dialect!r} chưa được hỗ trợ / database {dialect!r} is not supported",
            "use SQLite or PostgreSQL",
        )
    return conn.execute(stmt).rowcount == 1


def get_or_create_batch(conn: sa.Connection, name: str) -> int:
    """The id of the batch called `name`, created if new."""
    insert_ignore(conn, schema.batches, {"name": name, "created_at": utcnow()}, ["name"])
    return int(conn.execute(
        sa.select(schema.batches.c.id).where(schema.batches.c.name == name)
    ).scalar_one())


def flag_key(reason: str, sheet_id: int | None, page_id: int | None, question: str | None) -> str:
    """A flag's natural key: what it is about, so opening the same flag twice is a no-op."""
    return f"{reason}|sheet={sheet_id}|page={page_id}|q={question or ''}"


def open_flag(
    conn: sa.Connection,
    *,
    reason: str,
    detail: str,
    sheet_id: int | None = None,
    page_id: int | None = None,
    question: str | None = None,
) -> bool:
    """Open a review flag; a no-op when the same flag (same key) already exists.

    The key is built from what the flag is about, so a re-run after a crash, or the end
    of scan check run twice, never doubles a flag. Returns True when a flag was created.
    `reason` is one of `vocabulary.FlagReason`; a reason the reader adds later is stored
    as it comes rather than lost.
    """
    key = flag_key(reason, sheet_id, page_id, question)
    return insert_ignore(
        conn,
        schema.flags,
        {
            "key": key,
            "sheet_id": sheet_id,
            "page_id": page_id,
            "question": question,
            "reason": reason,
            "detail": detail,
            "status": FlagStatus.OPEN,
            "created_at": utcnow(),
        },
        ["key"],
    )


def resolve_flags(
    conn: sa.Connection, *, sheet_id: int, reason: str, resolution: str
) -> int:
    """Mark the open flags of `reason` on a sheet resolved; returns how many."""
    f = schema.flags
    result = conn.execute(
        sa.update(f)
        .where(f.c.sheet_id == sheet_id, f.c.reason == reason, f.c.status == FlagStatus.OPEN)
        .values(status=FlagStatus.RESOLVED, resolved_at=utcnow(), resolution=resolution)
    )
    return result.rowcount


def lock_sheet(conn: sa.Connection, sheet_id: int) -> str:
    """Lock the sheet's row until the transaction ends; returns its status.

    Whoever decides something from the sheet's other rows (is a page already counted?
    is any flag still open?) takes this lock first, so two writers on one sheet — two
    scan stations with copies of one serial, two reviewers on two questions of one
    sheet — take turns, and the second sees what the first committed (PostgreSQL's READ
    COMMITTED reads afresh at each statement). SQLite already lets one writer at a time
    in and renders no FOR UPDATE.
    """
    s = schema.sheets
    return str(conn.execute(
        sa.select(s.c.status).where(s.c.id == sheet_id).with_for_update()
    ).scalar_one())


def refresh_sheet_status(conn: sa.Connection, sheet_id: int) -> str:
    """Recompute a sheet's status from its flags and store it.

    `rejected` stays rejected (a person's decision). Otherwise: any open flag on the
    sheet or on one of its pages -> `needs_review`; else a flag resolved -> `reviewed`;
    else `counted`. Returns the new status. Takes the sheet's lock (`lock_sheet`), so
    concurrent writers to one sheet each count the others' committed flags.
    """
    s, f, p = schema.sheets, schema.flags, schema.pages
    current = lock_sheet(conn, sheet_id)
    if current == SheetStatus.REJECTED:
        return current
    page_ids = sa.select(p.c.id).where(p.c.sheet_id == sheet_id).scalar_subquery()
    about_sheet = sa.or_(f.c.sheet_id == sheet_id, f.c.page_id.in_(page_ids))
    counts: dict[str, int] = dict(
        conn.execute(
            sa.select(f.c.status, sa.func.count()).where(about_sheet).group_by(f.c.status)
        ).all()
    )
    resolved_by_person = conn.execute(
        sa.select(sa.func.count())
        .select_from(f)
        .where(about_sheet, f.c.status == FlagStatus.RESOLVED, ~f.c.resolution.like("machine:%"))
    ).scalar_one()
    if counts.get(FlagStatus.OPEN, 0):
        status = SheetStatus.NEEDS_REVIEW
    elif resolved_by_person:
        status = SheetStatus.REVIEWED
    else:
        status = SheetStatus.COUNTED
    if status != current:
        conn.execute(sa.update(s).where(s.c.id == sheet_id).values(status=status))
    return status
