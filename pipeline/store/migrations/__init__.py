"""Alembic migration scripts of the survey store (run by `pipeline.store.database.open_store`)."""
