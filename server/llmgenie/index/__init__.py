"""Persistent per-workspace index: SQLite catalog + FTS5 lexical index + ChromaDB vectors."""
