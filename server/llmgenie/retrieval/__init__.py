"""Hybrid search: lexical (FTS5) + dense (ChromaDB) + graph signals fused with RRF."""
