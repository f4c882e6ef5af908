"""Load the context package's CodeGraph (definition/reference PageRank) from the catalog."""

from __future__ import annotations

import sqlite3

from llmgenie.context.graph import CodeGraph
from llmgenie.index.schema import ref_kind_code


def load_code_graph(conn: sqlite3.Connection) -> CodeGraph:
    """Build the graph from catalog rows (definitions, references with counts, imports)."""
    paths = {int(fid): str(path) for fid, path in conn.execute("SELECT id, path FROM files")}
    definitions = [
        (paths[int(fid)], str(name), str(kind))
        for fid, name, kind in conn.execute("SELECT file_id, name, kind FROM symbols")
        if int(fid) in paths
    ]
    references = [
        (paths[int(fid)], str(name), int(count))
        for fid, name, count in conn.execute(
            "SELECT file_id, name, sum(count) FROM refs WHERE kind IS NOT ? GROUP BY file_id, name",
            (ref_kind_code("import"),),
        )
        if int(fid) in paths
    ]
    imports = [
        (paths[int(fid)], str(module))
        for fid, module in conn.execute("SELECT file_id, module FROM imports")
        if int(fid) in paths
    ]
    return CodeGraph.build(definitions, references, imports, files=paths.values())
