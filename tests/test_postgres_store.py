"""The survey store on PostgreSQL: `phieu init --store URL`, the same migrations as on
SQLite (tables, columns and unique constraints as the code describes them), and the
errors a wrong URL gives."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from pipeline.review import tables
from pipeline.store import schema
from pipeline.store.database import engine_url, head_revision, open_store
from pipeline.store.survey import load_survey

pytestmark = pytest.mark.slow  # a throwaway PostgreSQL server


def _db(server) -> str:
    return server.new_database(f"t_{uuid.uuid4().hex}")


def test_the_migrations_make_on_postgresql_the_schema_the_code_describes(postgres_server):
    url = _db(postgres_server)
    open_store(url).engine.dispose()
    store = open_store(url)  # a second open is a no-op
    inspector = sa.inspect(store.engine)
    for table in [*schema.metadata.sorted_tables, *tables.metadata.sorted_tables]:
        db_columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert db_columns == {c.name for c in table.columns}, table.name
    # The guards of "never twice" are the database's own constraints.
    uniques = {t: {tuple(sorted(u["column_names"])) for u in inspector.get_unique_constraints(t)}
               for t in ("sources", "pages", "sheets", "answers", "flags", "review_decisions")}
    assert ("sha256",) in uniques["sources"]
    assert ("page_index", "source_id") in uniques["pages"]
    assert ("form", "serial", "version") in uniques["sheets"]
    assert ("question", "sheet_id", "source") in uniques["answers"]
    assert ("key",) in uniques["flags"]
    assert ("seq", "subject") in uniques["review_decisions"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar_one() \
            == head_revision()
    store.engine.dispose()


def test_init_with_a_postgresql_url_makes_the_tables_and_keeps_the_url(postgres_server, tmp_path,
                                                                      run_phieu):
    url = _db(postgres_server).replace("postgresql+psycopg://", "postgresql://")
    run = run_phieu("init", tmp_path / "ws", "--form", "mot-cua", "--store", url)
    assert run.code == 0, run.err
    assert load_survey(tmp_path / "ws").store_url == url
    store = open_store(url, migrate=False)
    assert "sheets" in sa.inspect(store.engine).get_table_names()
    store.engine.dispose()
    assert run_phieu("status", cwd=tmp_path / "ws").code == 0


def test_postgres_urls_get_the_installed_driver():
    assert engine_url("postgresql://a@h/db") == "postgresql+psycopg://a@h/db"
    assert engine_url("postgres://a@h/db") == "postgresql+psycopg://a@h/db"
    assert engine_url("postgresql+psycopg://a@h/db") == "postgresql+psycopg://a@h/db"
    assert engine_url("sqlite:////x/survey.sqlite") == "sqlite:////x/survey.sqlite"


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path, run_phieu):
    # Port 9 (discard) on loopback: nothing listens there.
    url = "postgresql://phieu:s3cret-pw@127.0.0.1:9/khao_sat"
    run = run_phieu("init", tmp_path / "ws", "--form", "mot-cua", "--store", url)
    assert run.code == 4
    assert len(run.err.strip().splitlines()) == 1
    assert "127.0.0.1:9/khao_sat" in run.err and "s3cret-pw" not in run.err
    assert "database server is running" in run.err
    assert not (tmp_path / "ws" / "survey.yaml").exists()  # nothing half-made


def test_the_database_refuses_a_second_counted_copy_of_a_page(postgres_server):
    """The backstop under the recorder's check (migration 0003): on PostgreSQL and SQLite
    alike, a second `read` page for one (sheet, form page) cannot be inserted, while
    duplicates and failed pages can."""
    import pytest

    from pipeline.store.database import get_or_create_batch, utcnow

    for url in (_db(postgres_server), "sqlite://"):
        store = open_store(url)
        with store.engine.begin() as conn:
            batch = get_or_create_batch(conn, "b")
            source = conn.execute(sa.insert(schema.sources).values(
                batch_id=batch, path="/x.pdf", sha256="0" * 64, size=1, kind="pdf",
                page_count=3, status="partial", added_at=utcnow())).inserted_primary_key[0]
            sheet = conn.execute(sa.insert(schema.sheets).values(
                form="f", version=1, serial=7, status="counted", batch_id=batch,
                first_scanned_at=utcnow())).inserted_primary_key[0]

        def page(index: int, status: str, store=store, source=source, sheet=sheet) -> None:
            with store.engine.begin() as conn:
                conn.execute(sa.insert(schema.pages).values(
                    source_id=source, page_index=index, status=status, sheet_id=sheet,
                    page_number=1, scanned_at=utcnow()))

        page(1, "read")
        page(2, "duplicate")
        with pytest.raises(sa.exc.IntegrityError):
            page(3, "read")
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.pages)).scalar() == 2
        store.engine.dispose()
