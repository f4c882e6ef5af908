"""Retrieval quality of the embedding settings: does a faster setting lose answers?

    python -m bench.embeddings_quality [CORPUS] [--pairs 3000] [--seed 0] [--out F]

The task is code search as a user asks it: the first paragraph of a function's docstring
is the query, the function without its docstring (as the index embeds a chunk: path,
symbol, code; `embedding_text`) is the document it should find among all the others.
Pairs come from the `.py` files under CORPUS (default: this venv's site-packages), a
seeded sample of functions with a docstring of 20+ characters and 4+ lines of code.

Variants, all in one run on the same pairs: the local MiniLM at the shipped setting
(int8, 128 tokens) and at 64 / 256 tokens and fp32; a *static* tier distilled from the
same model (model2vec's recipe: every vocabulary token through the encoder once, the
table centred, a text = SIF-weighted mean of its tokens' rows, weights from token
frequencies in the Python standard library's sources); and plain BM25 over the same
documents (bench/bm25_baseline.py) as the lexical reference. Reported: recall@1,
recall@10, MRR@10 and texts embedded per second (queries and documents together).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.bm25_baseline import Bm25FileIndex
from bench.machine import describe, quiet_engine_logs

Vectors = npt.NDArray[np.float32]
MIN_DOC_CHARS = 20
MIN_BODY_LINES = 4


@dataclass(frozen=True, slots=True)
class Pair:
    """A query (docstring paragraph) and the document it describes (code, no docstring)."""

    query: str
    document: str


def function_pairs(source: str, rel_path: str) -> list[Pair]:
    """Pairs of one file: every function with a docstring, its code without the docstring."""
    from llmgenie.index.embedding_jobs import embedding_text

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines()
    pairs: list[Pair] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        doc = ast.get_docstring(node)
        end = node.end_lineno or node.lineno
        if not doc or end - node.lineno < MIN_BODY_LINES:
            continue
        query = doc.strip().split("\n\n")[0].strip()
        if len(query) < MIN_DOC_CHARS:
            continue
        first = node.body[0]  # the docstring statement
        code = lines[node.lineno - 1 : first.lineno - 1] + lines[(first.end_lineno or 0) : end]
        pairs.append(Pair(query, embedding_text(rel_path, node.name, "\n".join(code))))
    return pairs


def collect_pairs(corpus: Path, count: int, seed: int) -> list[Pair]:
    """A seeded sample of `count` pairs (files shuffled, then taken in order)."""
    files = sorted(corpus.rglob("*.py"))
    random.Random(seed).shuffle(files)
    pairs: list[Pair] = []
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        pairs.extend(function_pairs(source, path.relative_to(corpus).as_posix()))
        if len(pairs) >= count:
            break
    return pairs[:count]


def gold_ranks(queries: Vectors, documents: Vectors) -> npt.NDArray[np.int64]:
    """0-based rank of document i for query i among all documents (ties count against)."""
    scores = queries @ documents.T
    gold = scores[np.arange(len(queries)), np.arange(len(queries))]
    return (scores > gold[:, None]).sum(axis=1).astype(np.int64)


def quality(ranks: npt.NDArray[np.int64], k: int = 10) -> dict[str, float]:
    """recall@1, recall@k and MRR@k of 0-based ranks."""
    mrr = np.where(ranks < k, 1.0 / (ranks + 1), 0.0)
    return {
        "recall@1": round(float((ranks < 1).mean()), 4),
        f"recall@{k}": round(float((ranks < k).mean()), 4),
        f"mrr@{k}": round(float(mrr.mean()), 4),
    }


# ---------------------------------------------------------------- the static tier


class StaticEmbedder:
    """model2vec-style static embeddings distilled from a sentence encoder.

    Each vocabulary token's row is the encoder's (pooled, normalised) output for
    `[CLS] token [SEP]`; the table is centred (removes the direction every row shares,
    what model2vec's PCA does at full width); a text is the mean of its tokens' rows
    weighted by smooth inverse frequency a / (a + p(token)), then L2-normalised.
    """

    def __init__(self, table: Vectors, weights: npt.NDArray[np.float64], tokenizer: object) -> None:
        self._table = table
        self._weights = weights.astype(np.float32)
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
        out = np.zeros((len(texts), self._table.shape[1]), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids[1:-1], dtype=np.int64)  # drop [CLS] / [SEP]
            if len(ids):
                out[row] = self._weights[ids] @ self._table[ids]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def distill_static(cache_dir: Path, sif: float = 1e-3) -> tuple[StaticEmbedder, float]:
    """The static tier from the local MiniLM (fp32 graph) and its build time in seconds."""
    from tokenizers import Tokenizer

    from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider
    from llmgenie.index.embeddings.model_package import locate_model

    started = time.perf_counter()
    encoder = LocalMiniLMProvider(cache_dir, precision="fp32", max_tokens=128)
    encoder.load()
    tokenizer = Tokenizer.from_file(str(locate_model().tokenizer))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    size = tokenizer.get_vocab_size()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    table = np.zeros((size, encoder.dim), dtype=np.float32)
    for start in range(0, size, 1024):
        ids = np.arange(start, min(size, start + 1024), dtype=np.int32)
        batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        session = encoder._session  # the provider's graph, fed token triples directly
        table[start : start + len(ids)] = session.run(
            None, {"input_ids": batch, "attention_mask": np.ones_like(batch)}
        )[0]
    table -= table.mean(axis=0)
    counts = np.ones(size, dtype=np.float64)  # add-one: unseen tokens get the top weight
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(stdlib.glob("*.py")):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    for encoding in tokenizer.encode_batch(texts):
        np.add.at(counts, np.asarray(encoding.ids, dtype=np.int64), 1)
    weights = sif / (sif + counts / counts.sum())
    return StaticEmbedder(table, weights, tokenizer), time.perf_counter() - started


# ---------------------------------------------------------------- the run


def bm25_ranks(pairs: list[Pair], k: int) -> npt.NDArray[np.int64]:
    """Ranks under plain BM25 (k for anything past the first k: only @k metrics use them)."""
    index = Bm25FileIndex()
    for i, pair in enumerate(pairs):
        index.add(str(i), pair.document)
    ranks = np.full(len(pairs), k, dtype=np.int64)
    for i, pair in enumerate(pairs):
        hits = [doc for doc, _ in index.search(pair.query, k)]
        if str(i) in hits:
            ranks[i] = hits.index(str(i))
    return ranks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    quiet_engine_logs()
    from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider

    corpus = args.corpus or Path(sysconfig.get_paths()["purelib"])
    pairs = collect_pairs(corpus, args.pairs, args.seed)
    queries, documents = [p.query for p in pairs], [p.document for p in pairs]
    meta = describe("bench.embeddings_quality", sys.argv[1:] if argv is None else argv)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="llmgenie-embq-") as tmp:
        cache = Path(tmp)
        variants: list[tuple[str, Callable[[list[str]], Vectors]]] = []
        for precision, tokens in (("int8", 128), ("int8", 64), ("int8", 256), ("fp32", 256)):
            provider = LocalMiniLMProvider(cache, precision=precision, max_tokens=tokens)
            provider.load()
            shipped = " (shipped)" if (precision, tokens) == ("int8", 128) else ""
            variants.append((f"MiniLM {precision}, {tokens} tokens{shipped}", provider.embed))
        static, build_s = distill_static(cache)
        variants.append(("static, distilled from MiniLM", static.embed))
        for name, embed in variants:
            wall = time.perf_counter()
            q, d = embed(queries), embed(documents)
            elapsed = time.perf_counter() - wall
            ranks = gold_ranks(q, d)
            rows.append(
                {
                    "variant": name,
                    **quality(ranks),
                    "texts_per_s": round(2 * len(pairs) / elapsed, 1),
                }
            )
            print(f"{name}: done", file=sys.stderr, flush=True)
    rows.append(
        {
            "variant": "BM25 (lexical reference)",
            **quality(bm25_ranks(pairs, 10)),
            "texts_per_s": None,
        }
    )
    report = {
        **meta,
        "corpus": corpus.name,
        "pairs": len(pairs),
        "static_build_s": round(build_s, 1),
        "rows": rows,
    }
    print(render(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def render(report: dict[str, object]) -> str:
    """The Markdown table of a run."""
    lines = [
        "## Embedding retrieval quality (docstring → function)",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['cpu']}, {report['nproc']} cores; {report['date_utc']},"
        f" llmgenie {report['llmgenie_commit']}  ",
        f"{report['pairs']} pairs from `{report['corpus']}`; static tier built in"
        f" {report['static_build_s']} s",
        "",
        "| variant | recall@1 | recall@10 | MRR@10 | texts/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:  # type: ignore[attr-defined]
        speed = "–" if row["texts_per_s"] is None else f"{row['texts_per_s']:.0f}"
        lines.append(
            f"| {row['variant']} | {row['recall@1']:.3f} | {row['recall@10']:.3f}"
            f" | {row['mrr@10']:.3f} | {speed} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
