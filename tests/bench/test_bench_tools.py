"""Small pieces the benchmark reports rest on: percentiles, process-tree RSS, path roles."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.failure_analysis import file_kind, mentions_gold
from bench.index_bench import latency_summary, percentile
from bench.rss import PeakRssSampler, tree_rss


def test_percentile_interpolates_between_order_statistics() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.5
    assert percentile(values, 95) == 95.05
    assert percentile([3.0], 95) == 3.0
    summary = latency_summary([0.010, 0.020, 0.030])
    assert (summary["n"], summary["p50_ms"], summary["max_ms"]) == (3, 20.0, 30.0)


def test_tree_rss_counts_child_processes() -> None:
    alone = tree_rss(os.getpid())
    assert alone > 0
    # A child that touches 64 MiB: the tree's RSS must grow by most of that.
    child = subprocess.Popen(
        [sys.executable, "-c", "b = bytearray(b'x' * (64 << 20)); import time; time.sleep(3)"]
    )
    try:
        with PeakRssSampler(interval_s=0.02) as sampler:
            time.sleep(1.5)
        assert sampler.peak - alone > 48 << 20
    finally:
        child.kill()
        child.wait()


def test_file_kind_separates_tests_docs_and_source() -> None:
    assert file_kind("tests/migrations/test_commands.py") == "test"
    assert file_kind("sympy/core/tests/test_basic.py") == "test"
    assert file_kind("docs/ref/models.txt") == "doc"
    assert file_kind("CHANGES.rst") == "doc"
    assert file_kind("requests/packages/urllib3/response.py") == "vendored"
    assert file_kind("django/db/models/lookups.py") == "source"


def test_mentions_gold_recognises_paths_modules_and_file_names() -> None:
    gold = "sympy/printing/latex.py"
    assert mentions_gold("see sympy/printing/latex.py line 3", gold)
    assert mentions_gold("in sympy.printing.latex the printer", gold)
    assert mentions_gold("File latex.py, line 10", gold)
    assert not mentions_gold("the LaTeX output is wrong", gold)


def test_embedding_quality_pairs_hide_the_docstring_and_rank_the_gold() -> None:
    import numpy as np
    from bench.embeddings_quality import function_pairs, gold_ranks, quality

    source = (
        "def parse_header(line):\n"
        '    """Split an HTTP header line into its name and value."""\n'
        "    name, _, value = line.partition(':')\n"
        "    name = name.strip()\n"
        "    value = value.strip()\n"
        "    return name, value\n"
        "\n"
        "def tiny():\n"
        '    """Too short to be a useful query."""\n'
        "    return 1\n"
    )
    pairs = function_pairs(source, "pkg/http.py")
    assert [p.query for p in pairs] == ["Split an HTTP header line into its name and value."]
    document = pairs[0].document
    assert document.startswith("pkg/http.py: parse_header\n")
    assert "partition" in document and "Split an HTTP" not in document
    # Query i's gold is document i: an exact match ranks first, a swapped pair second.
    docs = np.eye(3, dtype=np.float32)
    queries = docs[[0, 2, 1]] * 0.9 + docs * 0.1
    ranks = gold_ranks(queries, docs)
    assert ranks.tolist() == [0, 1, 1]
    assert quality(ranks) == {"recall@1": 0.3333, "recall@10": 1.0, "mrr@10": 0.6667}


def test_parse_floor_parses_only_files_with_a_grammar(tmp_path: Path) -> None:
    from bench.index_bench import parse_floor

    (tmp_path / "a.py").write_text("def f():\n    return 1\n" * 200)
    (tmp_path / "notes.txt").write_text("no grammar here\n")
    floor = parse_floor(tmp_path, ["a.py", "notes.txt"])
    assert floor["files"] == 1
    if floor["files_per_cpu_s"] is not None:  # None only when the parse took no CPU tick
        cores = len(os.sched_getaffinity(0))
        ceiling = floor["ceiling_files_per_s_all_cores"]
        assert abs(ceiling - floor["files_per_cpu_s"] * cores) <= 0.1 * cores
