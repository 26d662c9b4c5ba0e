"""Alembic environment for the survey store, run programmatically by `pipeline.store.database`.

The caller passes an open connection in `config.attributes["connection"]`; there is
no alembic.ini and no URL here, so the same scripts serve SQLite and PostgreSQL.
Batch mode lets later migrations ALTER tables on SQLite (which rebuilds them).
"""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
