"""Persistent records of agent runs and the tamper-evident audit log (SQLite locally).

The schema uses plain portable types (TEXT, BIGINT, DOUBLE PRECISION) so the team server
can create the same tables in PostgreSQL; SQLite-only guards (triggers) live apart.
"""
