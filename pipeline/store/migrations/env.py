"""Alembic environment for the survey store, run programmatically by `pipeline.store.database`.

The caller passes an open connection in `config.attributes["connection"]`; there is
no alembic.ini and no URL here, so the same scripts serve SQLite and PostgreSQL.
Batch mode lets later migrations ALTER tables on SQLite (which rebuilds them).
"""
from alembic import context

from forms.durable import fault_point

connection = context.config.attributes["connection"]
# fault_point: the fault-injection tests stop the process after each migration step
# (all steps run in one transaction: a kill anywhere leaves the store as it was).
context.configure(connection=connection, target_metadata=None, render_as_batch=True,
                  on_version_apply=lambda **_: fault_point("store.migration"))
with context.begin_transaction():
    context.run_migrations()
