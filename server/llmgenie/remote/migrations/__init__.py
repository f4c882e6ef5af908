"""Alembic migrations of the team server's database (`llmgenie team migrate`)."""
