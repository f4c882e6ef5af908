"""Plain file-level BM25: the baseline the localization benchmark reports beside llmgenie.

Deliberately simple, so it stands for "what a textbook lexical search gets": each file is
one document (its path followed by its whole text), tokens are lower-cased runs of letters,
digits and underscores, and scoring is Okapi BM25 with k1=1.2, b=0.75 and the
non-negative Lucene idf. No code-aware splitting, no field boosts, no graph.

The index is an inverted index kept up to date incrementally (add/remove one document), so
the benchmark can move a work tree between commits without rebuilding it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TOKEN_RE = re.compile(r"[A-Za-z0-9_]+")
MAX_FILE_BYTES = 1_048_576
SNIFF_BYTES = 8192


def tokenize(text: str) -> list[str]:
    """Lower-cased alphanumeric/underscore runs: the 'simple tokenizer' of plain BM25."""
    return [tok.lower() for tok in TOKEN_RE.findall(text)]


def read_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """A file's text, or None when it is binary, too large or unreadable (not indexed)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Bm25Params:
    """Okapi BM25 free parameters (standard values by default)."""

    k1: float = 1.2
    b: float = 0.75


class Bm25FileIndex:
    """An incrementally updatable file-level BM25 index."""

    def __init__(self, params: Bm25Params | None = None) -> None:
        self.params = params or Bm25Params()
        self._postings: dict[str, dict[str, int]] = {}
        self._doc_terms: dict[str, Counter[str]] = {}
        self._doc_len: dict[str, int] = {}
        self._total_len = 0

    def __len__(self) -> int:
        return len(self._doc_len)

    def __contains__(self, path: object) -> bool:
        return path in self._doc_len

    def add(self, path: str, text: str, header: str | None = None) -> None:
        """Index (or re-index) one document; its `header` (default: the path itself) is
        part of its text."""
        self.remove(path)
        head = path if header is None else header
        terms = Counter(tokenize(head.replace("/", " ") + "\n" + text))
        self._doc_terms[path] = terms
        length = sum(terms.values())
        self._doc_len[path] = length
        self._total_len += length
        for term, tf in terms.items():
            self._postings.setdefault(term, {})[path] = tf

    def remove(self, path: str) -> None:
        """Forget one document (no-op when absent)."""
        terms = self._doc_terms.pop(path, None)
        if terms is None:
            return
        self._total_len -= self._doc_len.pop(path)
        for term in terms:
            posting = self._postings[term]
            del posting[path]
            if not posting:
                del self._postings[term]

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """The `k` best documents for `query`, best first, as (path, score)."""
        n_docs = len(self._doc_len)
        if n_docs == 0:
            return []
        avg_len = self._total_len / n_docs
        k1, b = self.params.k1, self.params.b
        scores: dict[str, float] = {}
        # Query terms keep their multiplicity (as rank_bm25 and most reference code do).
        for term, qtf in Counter(tokenize(query)).items():
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = math.log(1.0 + (n_docs - len(posting) + 0.5) / (len(posting) + 0.5))
            for path, tf in posting.items():
                norm = k1 * (1.0 - b + b * self._doc_len[path] / avg_len)
                scores[path] = scores.get(path, 0.0) + qtf * idf * tf * (k1 + 1.0) / (tf + norm)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:k]


ChunkKey = tuple[str, int, int]  # (path, start_line, end_line)


class Bm25ChunkIndex:
    """BM25 over chunks: each chunk is one document (its file's path, then its text).

    Same tokenizer and parameters as the file index; only the unit changes. Chunks are
    replaced per file, so the index follows a work tree's changes like the file index.
    """

    def __init__(self, params: Bm25Params | None = None) -> None:
        self._index = Bm25FileIndex(params)
        self._keys: dict[str, ChunkKey] = {}
        self._by_file: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._index)

    def set_file(self, path: str, chunks: Iterable[tuple[int, int, str]]) -> None:
        """Replace the chunks of `path` with (start_line, end_line, text) triples."""
        self.remove_file(path)
        ids: list[str] = []
        for start, end, text in chunks:
            doc_id = f"{path}:{start}-{end}"
            self._index.add(doc_id, text, header=path)
            self._keys[doc_id] = (path, start, end)
            ids.append(doc_id)
        if ids:
            self._by_file[path] = ids

    def remove_file(self, path: str) -> None:
        """Forget every chunk of `path` (no-op when absent)."""
        for doc_id in self._by_file.pop(path, []):
            self._index.remove(doc_id)
            del self._keys[doc_id]

    def search(self, query: str, k: int = 10) -> list[tuple[ChunkKey, float]]:
        """The `k` best chunks for `query`, best first, as ((path, start, end), score)."""
        return [(self._keys[doc_id], score) for doc_id, score in self._index.search(query, k)]


def build_index(
    root: Path, paths: Iterable[str], params: Bm25Params | None = None
) -> Bm25FileIndex:
    """Index the given repository-relative files under `root` (skipping unreadable ones)."""
    index = Bm25FileIndex(params)
    for rel in paths:
        text = read_document(root / rel)
        if text is not None:
            index.add(rel, text)
    return index
