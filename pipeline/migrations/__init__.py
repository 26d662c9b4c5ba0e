"""Alembic migration scripts of the survey store (run by `pipeline.store.open_store`)."""
