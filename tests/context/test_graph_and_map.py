"""The reference graph ranks the files code leans on; the repo map fits its budget."""

from __future__ import annotations

from llmgenie.context.graph import CodeGraph, KnownPaths, resolve_import
from llmgenie.context.parser import parse_document
from llmgenie.context.repomap import estimate_tokens, render_repo_map
from llmgenie.contracts.symbols import Symbol

REPO = {
    "shop/models.py": "class Cart:\n    def total(self):\n        return 0\n",
    "shop/pricing.py": "from .models import Cart\n\ndef price(cart: Cart):\n"
    "    return apply_discount(cart.total())\n\ndef apply_discount(x):\n    return x\n",
    "shop/api.py": "from shop.models import Cart\nfrom shop.pricing import price\n\n"
    "def checkout():\n    return price(Cart())\n",
    "shop/cli.py": "from shop.api import checkout\n\n"
    "def main():\n    print(len(str(checkout())))\n",
    "tools/report.py": "def render_report(rows):\n    return format_rows(rows)\n",
    "tools/fmt.py": "def format_rows(rows):\n    return rows\n\ndef str(x):\n    return x\n",
}


def _graph() -> tuple[CodeGraph, dict[str, list[Symbol]]]:
    parsed = {path: parse_document(path, text) for path, text in REPO.items()}
    definitions = [(s.path, s.name, s.kind) for p in parsed.values() for s in p.symbols]
    references = [(r.path, r.name, r.count) for p in parsed.values() for r in p.references]
    imports = [(path, module) for path, p in parsed.items() for module in p.imports]
    graph = CodeGraph.build(definitions, references, imports, files=list(REPO))
    return graph, {path: p.symbols for path, p in parsed.items()}


def test_global_rank_puts_the_most_depended_on_file_first() -> None:
    graph, _ = _graph()
    ranking = graph.rank()
    assert ranking.files[0][0] == "shop/models.py"
    assert len(ranking.files) == len(REPO)
    assert abs(sum(score for _, score in ranking.files) - 1.0) < 1e-6
    assert ranking.symbols[0][:2] == ("shop/models.py", "Cart")


def test_focus_and_mentioned_identifiers_personalise_the_rank() -> None:
    graph, _ = _graph()
    focused = [path for path, _ in graph.rank(focus_files=["tools/report.py"]).files]
    assert focused[:2] == ["tools/report.py", "tools/fmt.py"]
    mentioned = [path for path, _ in graph.rank(mentioned=["checkout"]).files]
    assert mentioned.index("shop/api.py") < mentioned.index("tools/fmt.py")


def test_builtin_names_do_not_create_edges() -> None:
    graph, _ = _graph()
    # shop/cli.py calls the builtin str(); tools/fmt.py defining `str` must not gain from it.
    scores = dict(graph.rank(focus_files=["shop/cli.py"]).files)
    assert scores["tools/fmt.py"] < scores["shop/api.py"]


def test_imports_resolve_to_workspace_files() -> None:
    known = KnownPaths(["pkg/__init__.py", "pkg/util.py", "src/lib/a.py", "web/b.ts",
                        "web/c/index.ts", "inc/util.h", "src/main.c", "src/m.rs"])  # fmt: skip
    assert resolve_import("pkg/x.py", "pkg.util", known) == "pkg/util.py"
    assert resolve_import("pkg/x.py", ".util", known) == "pkg/util.py"
    assert resolve_import("pkg/sub/x.py", "..util", known) == "pkg/util.py"
    assert resolve_import("pkg/x.py", "pkg", known) == "pkg/__init__.py"
    assert resolve_import("tests/t.py", "lib.a", known) == "src/lib/a.py"
    assert resolve_import("web/a.ts", "./b", known) == "web/b.ts"
    assert resolve_import("web/a.ts", "./c", known) == "web/c/index.ts"
    assert resolve_import("src/main.c", "util.h", known) == "inc/util.h"
    assert resolve_import("src/lib.rs", "m", known) == "src/m.rs"
    assert resolve_import("pkg/x.py", "numpy", known) is None


def test_repo_map_fits_budget_and_grows_with_it() -> None:
    graph, symbols = _graph()
    ranking = graph.rank()
    small = render_repo_map(ranking.files, symbols, 20, ranked_symbols=ranking.symbols)
    large = render_repo_map(ranking.files, symbols, 400, ranked_symbols=ranking.symbols)
    assert 0 < estimate_tokens(small) <= 20
    assert estimate_tokens(large) <= 400
    assert small.splitlines()[0] == "shop/models.py:"
    assert "class Cart" in small
    assert len(large.splitlines()) > len(small.splitlines())
    for path in REPO:
        assert f"{path}:" in large
    assert "    def total(self)" in large  # methods indented under their class
    assert render_repo_map(ranking.files, symbols, 0) == ""


def test_repo_map_focus_and_mentions_come_first() -> None:
    graph, symbols = _graph()
    ranking = graph.rank(focus_files=["tools/report.py"], mentioned=["checkout"])
    text = render_repo_map(
        ranking.files, symbols, 40, focus="tools/report.py",
        ranked_symbols=ranking.symbols, mentioned=["checkout"],
    )  # fmt: skip
    lines = text.splitlines()
    assert lines[0] == "tools/report.py (focus):"
    assert "def checkout()" in text
