"""The localization harness on a tiny real git repository: tree replay, BM25, scoring, CLI."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench.bm25_baseline import Bm25FileIndex, tokenize
from bench.git_trees import WorkTree, has_commit
from bench.localization_metrics import gold_rank, summarize
from bench.swebench_localization import LlmgenieRanker, main

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(cwd: Path, *args: str, when: str = "2020-01-01T00:00:00") -> str:
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class TinyRepo:
    bare: Path
    first: str
    second: str


@pytest.fixture()
def tiny_repo(tmp_path: Path) -> TinyRepo:
    """acme/tiny: commit 1 has parser/cache/docs; commit 2 edits parser, drops cache, adds net."""
    src = tmp_path / "src"
    src.mkdir()
    _git(src, "init", "-q", "-b", "main")
    (src / "pkg").mkdir()
    (src / "pkg" / "parser.py").write_text("def parse_header(line):\n    return line.split(':')\n")
    (src / "pkg" / "cache.py").write_text("class LruCache:\n    def evict(self): pass\n")
    (src / "README.md").write_text("# tiny\nA parser and a cache.\n")
    (src / "logo.bin").write_bytes(b"\x89PNG\0\0binary")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "one", when="2020-01-01T00:00:00")
    first = _git(src, "rev-parse", "HEAD")
    (src / "pkg" / "parser.py").write_text(
        "def parse_header(line):\n    name, _, value = line.partition(':')\n    return name\n"
    )
    _git(src, "rm", "-q", "pkg/cache.py")
    (src / "pkg" / "net.py").write_text("def open_socket(host, port):\n    return (host, port)\n")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "two", when="2021-01-01T00:00:00")
    second = _git(src, "rev-parse", "HEAD")
    repos = tmp_path / "repos"
    repos.mkdir()
    _git(tmp_path, "clone", "-q", "--bare", str(src), str(repos / "tiny.git"))
    return TinyRepo(repos / "tiny.git", first, second)


def test_work_tree_follows_commits_and_reports_changes(tiny_repo: TinyRepo, tmp_path: Path) -> None:
    tree = WorkTree(tiny_repo.bare, tmp_path / "trees" / "tiny")
    fresh = tree.checkout(tiny_repo.first)
    assert fresh.fresh
    assert sorted(fresh.added) == ["README.md", "logo.bin", "pkg/cache.py", "pkg/parser.py"]
    assert (tree.root / "pkg" / "cache.py").is_file()

    change = tree.checkout(tiny_repo.second)
    assert not change.fresh
    assert change.added == ["pkg/net.py"]
    assert change.deleted == ["pkg/cache.py"]
    assert change.modified == ["pkg/parser.py"]
    assert not (tree.root / "pkg" / "cache.py").exists()
    assert "partition" in (tree.root / "pkg" / "parser.py").read_text()
    assert sorted(tree.blob_ids()) == ["README.md", "logo.bin", "pkg/net.py", "pkg/parser.py"]

    back = tree.checkout(tiny_repo.first)  # going back in history works too
    assert back.added == ["pkg/cache.py"] and back.deleted == ["pkg/net.py"]
    assert (tree.root / "pkg" / "cache.py").is_file()
    # The shared bare mirror is read-only for the harness: no index file written into it.
    assert not (tiny_repo.bare / "index").exists()
    assert not any(p.name.endswith(".gitindex") for p in tree.root.rglob("*"))


def test_has_commit_distinguishes_missing_commits(tiny_repo: TinyRepo) -> None:
    assert has_commit(tiny_repo.bare, tiny_repo.first)
    assert not has_commit(tiny_repo.bare, "0" * 40)


def test_tokenize_is_plain_lowercase_word_runs() -> None:
    assert tokenize("Foo.barBaz(snake_case, x2)") == ["foo", "barbaz", "snake_case", "x2"]


def test_bm25_ranks_rare_matching_terms_first_and_updates_incrementally() -> None:
    index = Bm25FileIndex()
    index.add("a.py", "def parse_header(line): return line")
    index.add("b.py", "class LruCache: evict evict evict")
    index.add("c.py", "line line line line line line")
    assert [p for p, _ in index.search("LruCache evict is broken", k=3)] == ["b.py"]
    # 'parse_header' is rare (idf high) so a.py beats c.py, which only repeats 'line'.
    assert [p for p, _ in index.search("parse_header line", k=3)][:2] == ["a.py", "c.py"]
    index.remove("b.py")
    assert index.search("LruCache", k=3) == []
    index.add("a.py", "class LruCache: pass")  # re-adding replaces the old text
    assert [p for p, _ in index.search("LruCache", k=3)] == ["a.py"]
    assert index.search("parse_header", k=3) == []
    assert len(index) == 2


def test_bm25_prefers_short_documents_for_equal_term_frequency() -> None:
    index = Bm25FileIndex()
    index.add("short.py", "needle")
    index.add("long.py", "needle " + "hay " * 200)
    assert [p for p, _ in index.search("needle", k=2)] == ["short.py", "long.py"]


def test_scoring_hit_at_k_and_mrr() -> None:
    assert gold_rank(["x.py", "gold.py", "y.py"], ["gold.py"]) == 2
    assert gold_rank(["x.py"], ["gold.py"]) is None
    s = summarize([1, 2, None, 5])
    assert s["n"] == 4
    assert (s["top1"], s["top3"], s["top5"], s["top10"]) == (25.0, 50.0, 75.0, 75.0)
    assert s["mrr"] == round((1 + 0.5 + 0.2) / 4, 3)


def _write_instances(path: Path, repo: TinyRepo) -> None:
    rows = [
        ("acme__tiny-1", repo.first, "LruCache.evict never evicts anything", "pkg/cache.py"),
        ("acme__tiny-2", repo.second, "open_socket ignores the port argument", "pkg/net.py"),
        ("acme__tiny-3", "f" * 40, "a commit the snapshot lacks", "pkg/parser.py"),
    ]
    with path.open("w") as fh:
        for iid, commit, text, gold in rows:
            fh.write(
                json.dumps(
                    {
                        "instance_id": iid,
                        "repo": "acme/tiny",
                        "base_commit": commit,
                        "problem_statement": text,
                        "gold_files": [gold],
                    }
                )
                + "\n"
            )
    classes = path.with_suffix(".csv")
    classes.write_text(
        "instance_id,file location\nacme__tiny-1,None\nacme__tiny-2,Keywords\nacme__tiny-3,None\n"
    )


def test_cli_scores_instances_and_skips_missing_commits(
    tiny_repo: TinyRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "lite.jsonl"
    _write_instances(data, tiny_repo)
    out = tmp_path / "out" / "summary.json"
    ranks = tmp_path / "ranks.jsonl"
    rc = main(
        [
            "--repos", str(tiny_repo.bare.parent),
            "--work", str(tmp_path / "work"),
            "--data", str(data),
            "--classifications", str(data.with_suffix(".csv")),
            "--methods", "bm25,bm25-py",
            "--out", str(out),
            "--ranks", str(ranks),
        ]
    )  # fmt: skip
    assert rc == 0
    summary = json.loads(out.read_text())
    assert [s["instance_id"] for s in summary["skipped"]] == ["acme__tiny-3"]
    for method in ("bm25", "bm25-py"):
        res = summary["methods"][method]
        assert res["overall"]["n"] == 2
        assert res["overall"]["top1"] == 100.0
        assert res["no_file_named"]["n"] == 1
        assert res["per_repo"]["acme/tiny"]["mrr"] == 1.0
    rows = [json.loads(line) for line in ranks.read_text().splitlines()]
    scored = [r for r in rows if r["status"] == "ok" and r["method"] == "bm25-py"]
    assert {r["instance_id"]: r["top"][0] for r in scored} == {
        "acme__tiny-1": "pkg/cache.py",
        "acme__tiny-2": "pkg/net.py",
    }
    # bm25-py never returns non-Python files; the binary file is indexed by neither.
    assert all(p.endswith(".py") for r in scored for p in r["top"])
    assert not any("logo.bin" in r.get("top", []) for r in rows)
    assert "acme/tiny bm25" in capsys.readouterr().out


@pytest.mark.parametrize("sync_mode", ["index", "refresh"])
def test_llmgenie_ranker_follows_commits_incrementally(
    tiny_repo: TinyRepo, tmp_path: Path, sync_mode: str
) -> None:
    ranker = LlmgenieRanker("lexical", sync_mode, tmp_path / "cache")
    tree = WorkTree(tiny_repo.bare, tmp_path / "trees" / "tiny")
    try:
        ranker.sync(tree, tree.checkout(tiny_repo.first))
    except NotImplementedError:
        pytest.skip("WorkspaceEngine not implemented yet")
    try:
        assert ranker.rank("LruCache.evict never evicts anything", 5)[0] == "pkg/cache.py"
        ranker.sync(tree, tree.checkout(tiny_repo.second))
        assert ranker.rank("open_socket ignores the port argument", 5)[0] == "pkg/net.py"
        # The file deleted by the second commit is gone from the index.
        assert "pkg/cache.py" not in ranker.rank("LruCache evict", 5)
    finally:
        ranker.close()


def test_work_tree_survives_blobs_missing_from_a_partial_mirror(
    tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    """Snapshot mirrors may lack their largest blobs: the rest of the tree still updates."""
    src = tmp_path / "src"
    (src / "data").mkdir()
    (src / "data" / "big.dat").write_text("large table that the mirror does not carry\n")
    (src / "pkg" / "net.py").write_text("def open_socket(host, port=80):\n    return host\n")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "three", when="2022-01-01T00:00:00")
    third = _git(src, "rev-parse", "HEAD")
    blob = _git(src, "rev-parse", f"{third}:data/big.dat")
    _git(tiny_repo.bare, "fetch", "-q", str(src), "main:main")
    loose = tiny_repo.bare / "objects" / blob[:2] / blob[2:]
    assert loose.is_file()
    loose.unlink()

    tree = WorkTree(tiny_repo.bare, tmp_path / "trees" / "tiny")
    tree.checkout(tiny_repo.second)
    change = tree.checkout(third)
    assert change.missing == ["data/big.dat"]
    assert "port=80" in (tree.root / "pkg" / "net.py").read_text()
    assert not (tree.root / "data" / "big.dat").exists()
    # Moving on from the degraded state with read-tree works again.
    back = tree.checkout(tiny_repo.first)
    assert (tree.root / "pkg" / "cache.py").is_file() and not (
        tree.root / "pkg" / "net.py"
    ).exists()
    assert back.missing == []
    fresh = WorkTree(tiny_repo.bare, tmp_path / "trees" / "again").checkout(third)
    assert fresh.fresh and fresh.missing == ["data/big.dat"]


def test_cli_scores_chunks_against_the_patched_function_and_filters_by_split(
    tiny_repo: TinyRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bm25-py-chunks ranks chunks; a hit is a chunk of the function the gold patch edits."""
    patch = (
        "diff --git a/pkg/net.py b/pkg/net.py\n--- a/pkg/net.py\n+++ b/pkg/net.py\n"
        "@@ -1,2 +1,2 @@\n def open_socket(host, port):\n-    return (host, port)\n"
        "+    return socket.create_connection((host, port))\n"
    )
    rows = [
        {
            "instance_id": f"acme__tiny-{i}",
            "repo": "acme/tiny",
            "base_commit": tiny_repo.second,
            "problem_statement": "open_socket ignores the port argument",
            "gold_files": ["pkg/net.py"],
            "patch": patch,
        }
        for i in range(4)
    ]
    data = tmp_path / "lite.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "summary.json"
    ranks = tmp_path / "ranks.jsonl"
    args = [
        "--repos", str(tiny_repo.bare.parent),
        "--work", str(tmp_path / "work"),
        "--data", str(data),
        "--classifications", str(tmp_path / "absent.csv"),
        "--methods", "bm25-py,bm25-py-chunks",
        "--out", str(out),
        "--ranks", str(ranks),
    ]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(out.read_text())
    assert summary["split"]["counts"] == {"train": 2, "heldout": 2}
    assert "overlaps a gold span" in summary["chunk_hit_definition"]
    # Only the chunk-ranking method is scored at chunk level.
    assert set(summary["chunks"]) == {"bm25-py-chunks"}
    assert summary["chunks"]["bm25-py-chunks"]["function"]["overall"]["top1"] == 100.0
    assert set(summary["chunks"]["bm25-py-chunks"]["function"]["per_split"]) == {
        "train",
        "heldout",
    }
    scored = [json.loads(line) for line in ranks.read_text().splitlines()]
    chunk_rows = [r for r in scored if r["method"] == "bm25-py-chunks"]
    assert {r["chunk_rank"] for r in chunk_rows} == {1}
    assert chunk_rows[0]["gold_spans"] == ["pkg/net.py:1-2:open_socket"]
    assert chunk_rows[0]["top_chunks"][0] == "pkg/net.py:1-2"
    assert all("chunk_rank" not in r for r in scored if r["method"] == "bm25-py")
    assert "bm25-py-chunks function (all)" in capsys.readouterr().out

    assert main([*args, "--split", "heldout"]) == 0
    held = json.loads(out.read_text())
    assert held["instances_selected"] == 2
    assert held["split"]["counts"] == {"train": 0, "heldout": 2}
    train_ids = {r["instance_id"] for r in scored if r["split"] == "train"}
    held_ids = {json.loads(line)["instance_id"] for line in ranks.read_text().splitlines()}
    assert held_ids and not held_ids & train_ids


def test_variants_rerank_on_the_same_index_and_restore_the_constants(
    tiny_repo: TinyRepo, tmp_path: Path
) -> None:
    from llmgenie.retrieval import hybrid, lexical

    data = tmp_path / "lite.jsonl"
    _write_instances(data, tiny_repo)
    ranks = tmp_path / "ranks.jsonl"
    before = (dict(hybrid.FILE_WEIGHTS), lexical.B)
    # "blind": every file signal off but the path: the tiny issues no longer rank their file.
    blind = {f"hybrid.FILE_WEIGHTS.{name}": 0.0 for name in hybrid.FILE_WEIGHTS}
    variants = {"same": {"lexical.B": 0.75}, "blind": {**blind, "hybrid.STEM_WEIGHT": 0.0}}
    rc = main(
        [
            "--repos", str(tiny_repo.bare.parent),
            "--work", str(tmp_path / "work"),
            "--data", str(data),
            "--classifications", str(data.with_suffix(".csv")),
            "--methods", "llmgenie",
            "--variants", json.dumps(variants),
            "--out", str(tmp_path / "summary.json"),
            "--ranks", str(ranks),
        ]
    )  # fmt: skip
    assert rc == 0
    rows = [json.loads(line) for line in ranks.read_text().splitlines()]
    by_method: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        if row.get("status") == "ok":
            by_method.setdefault(str(row["method"]), []).append(row)
    assert set(by_method) == {"llmgenie", "llmgenie:same", "llmgenie:blind"}
    # Overrides equal to the defaults give the same ranking; the blind one finds nothing.
    assert [r["top"] for r in by_method["llmgenie:same"]] == [
        r["top"] for r in by_method["llmgenie"]
    ]
    assert all(r["rank"] == 1 for r in by_method["llmgenie"])
    assert all(r["rank"] != 1 for r in by_method["llmgenie:blind"])
    # Only the base ranker synced the index: the variants' sync time is nil.
    assert all(float(str(r["sync_s"])) < 0.05 for r in by_method["llmgenie:blind"])
    assert (dict(hybrid.FILE_WEIGHTS), lexical.B) == before
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["variants"] == variants
