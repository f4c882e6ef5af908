"""Alembic environment: the connection comes from llmgenie.remote.migrate (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from llmgenie.remote.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
