"""The file-level definition/reference graph, read from the catalog, with personalised
PageRank.

An edge A → B means file A uses a name that file B defines. Names defined in many files
(`__init__`, `get`, `run`) say little about which file is meant, so each edge is weighted
by 1/(number of defining files) and names defined in more than MAX_DEFINERS files are
ignored entirely — the same idea as IDF.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MAX_DEFINERS = 12
DAMPING = 0.85
ITERATIONS = 30
_DEF_KINDS = (
    "class", "function", "method", "struct", "interface", "enum", "trait", "type", "constant",
    "module", "macro", "union", "object", "record",
)  # fmt: skip


@dataclass(slots=True)
class FileGraph:
    """Nodes are file ids; edges carry normalised transition weights."""

    node_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    src: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dst: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    weight: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    index_of: dict[int, int] = field(default_factory=dict)

    @property
    def edge_count(self) -> int:
        return int(self.src.shape[0])

    def personalized_rank(self, seeds: dict[int, float]) -> dict[int, float]:
        """PageRank with restarts at `seeds` (file id -> weight); returns file id -> score.

        Power iteration: r ← (1-d)·p + d·(Wᵀr + dangling·p), where p is the normalised seed
        vector and dangling mass (files with no outgoing edges) also returns to the seeds.
        """
        n = int(self.node_ids.shape[0])
        if n == 0:
            return {}
        p = np.zeros(n)
        for fid, w in seeds.items():
            i = self.index_of.get(fid)
            if i is not None and w > 0:
                p[i] += w
        if p.sum() <= 0:
            p[:] = 1.0
        p /= p.sum()
        has_out = np.zeros(n, dtype=bool)
        has_out[self.src] = True
        r = p.copy()
        for _ in range(ITERATIONS):
            spread = np.bincount(self.dst, weights=self.weight * r[self.src], minlength=n)
            dangling = r[~has_out].sum()
            r_next = (1 - DAMPING) * p + DAMPING * (spread + dangling * p)
            if np.abs(r_next - r).sum() < 1e-6:
                r = r_next
                break
            r = r_next
        order = np.argsort(-r)[:500]
        return {int(self.node_ids[i]): float(r[i]) for i in order if r[i] > 0}

    def global_rank(self) -> dict[int, float]:
        """Plain PageRank (uniform restart): how central each file is overall."""
        return self.personalized_rank({})


def load_file_graph(conn: sqlite3.Connection) -> FileGraph:
    """Build the graph from the refs and symbols tables (one aggregate query)."""
    kinds = ",".join(f"'{k}'" for k in _DEF_KINDS)
    rows = conn.execute(
        f"""
        WITH defs AS (
            SELECT DISTINCT name, file_id FROM symbols WHERE kind IN ({kinds})
        ),
        spread AS (
            SELECT name, count(*) AS n FROM defs GROUP BY name HAVING n <= {MAX_DEFINERS}
        )
        SELECT r.file_id, d.file_id, sum((1.0 + min(r.count, 10) * 0.1) / s.n)
        FROM refs r
        JOIN spread s ON s.name = r.name
        JOIN defs d ON d.name = r.name
        WHERE r.file_id != d.file_id
        GROUP BY r.file_id, d.file_id
        """
    ).fetchall()
    ids = sorted({int(r[0]) for r in rows} | {int(r[1]) for r in rows})
    index_of = {fid: i for i, fid in enumerate(ids)}
    if not rows:
        return FileGraph(index_of=index_of, node_ids=np.array(ids, dtype=np.int64))
    src = np.array([index_of[int(r[0])] for r in rows], dtype=np.int64)
    dst = np.array([index_of[int(r[1])] for r in rows], dtype=np.int64)
    weight = np.array([float(r[2]) for r in rows])
    out_sum = np.bincount(src, weights=weight, minlength=len(ids))
    weight = weight / out_sum[src]
    return FileGraph(
        node_ids=np.array(ids, dtype=np.int64), src=src, dst=dst, weight=weight, index_of=index_of
    )
