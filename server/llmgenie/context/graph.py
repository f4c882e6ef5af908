"""Definition/reference graph across files, ranked with personalised PageRank.

The ranking idea (as in Aider's repo map): a file that uses a name another file defines
"votes" for that file. Votes are weighted by how often the name is used there (sqrt, so a
hundred calls are not a hundred times one), split among the files that define the name
(an ambiguous name like `run` says little), and down-weighted for private (`_x`) and very
short names. Cheap import edges (Python dotted modules, relative JS/TS paths, C includes,
Rust `mod x;`) add votes too. PageRank over those votes finds the files everything leans
on; personalising the restart vector on the files in focus and on the definers of the
identifiers a query mentions finds the files that matter *for this question*. A symbol's
score is the rank mass that flows to it through the references that name it.

Public API:
    CodeGraph.build(definitions: Iterable[tuple[str, str] | tuple[str, str, str]],
                                                          # (path, name[, kind])
                    references: Iterable[tuple[str, str] | tuple[str, str, int]],
                    imports: Iterable[tuple[str, str]] = (),          # (path, module)
                    files: Iterable[str] = ()) -> CodeGraph
    CodeGraph.rank(focus_files=(), mentioned=(), *, alpha=0.85, max_iter=30,
                   tol=1e-4, top_symbols=5000) -> GraphRanking
    GraphRanking(files: list[tuple[str, float]], symbols: list[tuple[str, str, float]])
    resolve_import(importer: str, module: str, known: KnownPaths) -> str | None
Build once from catalog rows (it is vectorised: ~10k files and ~1M references take well
under a second) and call rank() per query (a few ms on sympy-sized repositories).
"""

from __future__ import annotations

import builtins
import math
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from llmgenie.observability.logging import get_logger
from llmgenie.workspace.classify import is_test_path

_log = get_logger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_DEFINERS = 40  # a name defined in more files than this carries no signal
TOP_SYMBOLS = 5000
# Names that are builtins or conventional parameters in common languages: a use of `str`
# or `self` says nothing about which workspace file is needed, even if some file happens
# to define a method called `str`.
COMMON_NAMES = frozenset(
    {name for name in dir(builtins) if not name.startswith("_")}
    | {"self", "cls", "other", "args", "kwargs", "this", "super", "console", "require",
       "module", "exports", "window", "document", "undefined", "null", "true", "false",
       "fmt", "err", "ctx", "nil", "main", "init",
       "new", "printf", "malloc", "free", "std", "string", "println", "format", "toString",
       "equals", "hashCode", "size", "length", "get", "set", "put", "add", "append", "push",
       "pop", "keys", "values", "items", "update", "copy", "clear", "remove", "apply",
       "call", "run", "test", "setUp", "tearDown", "__init__", "__repr__", "__str__",
       "__eq__", "__hash__", "__call__", "__enter__", "__exit__", "__iter__", "__len__",
       "__getitem__", "__setitem__", "__new__", "__name__", "__main__", "strip", "split",
       "join", "replace", "startswith", "endswith", "lower", "upper", "sort", "extend",
       "insert", "index", "count", "find", "encode", "decode", "read", "write", "close",
       "open", "start", "stop", "reverse", "then", "map", "filter", "reduce", "forEach",
       "log", "error", "warn", "info", "debug", "Errorf", "Sprintf", "unwrap", "clone",
       "to_string", "iter", "collect", "len", "new_"}
)  # fmt: skip
# Definition kinds that are not reference targets (class-level attributes, config keys).
NON_TARGET_KINDS = frozenset({"field", "key", "section", "table"})
IMPORT_WEIGHT = 1.0
PRIVATE_FACTOR = 0.1
TEST_DEFINER_FACTOR = 0.2  # names defined in tests are rarely what other code refers to
SHORT_FACTOR = 0.1


@dataclass(slots=True)
class GraphRanking:
    """Files and (file, symbol name) pairs, best first, with PageRank-derived scores."""

    files: list[tuple[str, float]] = field(default_factory=list)
    symbols: list[tuple[str, str, float]] = field(default_factory=list)

    def file_scores(self) -> dict[str, float]:
        return dict(self.files)


def _name_factor(name: str) -> float:
    """Down-weight private and very short names; they rarely identify a specific file."""
    factor = 1.0
    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        factor *= PRIVATE_FACTOR
    if len(name) <= 2:
        factor *= SHORT_FACTOR
    return factor


class KnownPaths:
    """Lookup tables for resolving import strings to workspace files."""

    _SOURCE_EXTS = (".py", ".pyi", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".rs", ".go")

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = set(paths)
        self.by_stem: dict[str, str] = {}
        self.by_basename: dict[str, list[str]] = {}
        for path in sorted(self.paths):
            stem, ext = posixpath.splitext(path)
            if ext in self._SOURCE_EXTS:
                self.by_stem.setdefault(stem, path)
            self.by_basename.setdefault(posixpath.basename(path), []).append(path)

    def stem(self, stem: str) -> str | None:
        """A source file for a path without extension (`a/b` -> a/b.py, a/b/index.ts...)."""
        stem = posixpath.normpath(stem)
        found = self.by_stem.get(stem)
        if found is not None:
            return found
        for init in ("__init__", "index", "mod"):
            found = self.by_stem.get(f"{stem}/{init}")
            if found is not None:
                return found
        return None


def resolve_import(importer: str, module: str, known: KnownPaths) -> str | None:
    """The workspace file an import string refers to, when that is cheap to tell."""
    module = module.strip()
    if not module:
        return None
    directory = posixpath.dirname(importer)
    if importer.endswith((".py", ".pyi")):
        dots = len(module) - len(module.lstrip("."))
        rest = module[dots:].replace(".", "/")
        if dots:
            base = directory
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            return known.stem(posixpath.join(base, rest)) if rest else None
        found = known.stem(rest)
        if found is None:
            # src-layout and similar: try the module path under each top-level directory.
            for prefix in ("src", "lib", "python"):
                found = known.stem(f"{prefix}/{rest}")
                if found is not None:
                    break
        return found
    if module.startswith(("./", "../")):
        target = posixpath.normpath(posixpath.join(directory, module))
        if target in known.paths:
            return target
        return known.stem(target)
    if importer.endswith((".c", ".h", ".cc", ".cpp", ".hpp", ".hh", ".cxx")):
        local = posixpath.normpath(posixpath.join(directory, module))
        if local in known.paths:
            return local
        candidates = known.by_basename.get(posixpath.basename(module), [])
        matching = [c for c in candidates if c.endswith("/" + module) or c == module]
        return matching[0] if len(matching) == 1 else None
    if importer.endswith(".rs") and "::" not in module and "/" not in module:
        return known.stem(posixpath.join(directory, module))
    return None


class CodeGraph:
    """File graph with weighted edges, plus the reference table used to score symbols."""

    def __init__(
        self,
        paths: list[str],
        names: list[str],
        definers: dict[int, list[int]],
        edge_src: IntArray,
        edge_dst: IntArray,
        edge_weight: FloatArray,
        ref_file: IntArray,
        ref_name: IntArray,
        ref_weight: FloatArray,
    ) -> None:
        self.paths = paths
        self.index = {path: i for i, path in enumerate(paths)}
        self.names = names
        self.name_index = {name: i for i, name in enumerate(names)}
        self._lower_index: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            self._lower_index.setdefault(name.lower(), []).append(i)
        self.definers = definers
        n = len(paths)
        out_sum = np.bincount(edge_src, weights=edge_weight, minlength=n) if n else np.zeros(0)
        self._dangling = out_sum == 0
        safe = np.where(out_sum > 0, out_sum, 1.0)
        self._src = edge_src
        self._dst = edge_dst
        self._w = edge_weight / safe[edge_src] if len(edge_src) else edge_weight
        # (name, defining file) pairs, for scoring symbols without Python loops.
        pair_name: list[int] = []
        pair_file: list[int] = []
        for nid, targets in definers.items():
            pair_name.extend([nid] * len(targets))
            pair_file.extend(targets)
        self._pair_name = np.asarray(pair_name, dtype=np.int64)
        self._pair_file = np.asarray(pair_file, dtype=np.int64)
        counts = np.bincount(self._pair_name, minlength=len(names)) if names else np.zeros(0)
        self._pair_share = 1.0 / np.maximum(counts[self._pair_name], 1)
        # Reference contributions, normalised like the edges they created.
        self._ref_file = ref_file
        self._ref_name = ref_name
        self._ref_w = ref_weight / safe[ref_file] if len(ref_file) else ref_weight

    @property
    def edge_count(self) -> int:
        return len(self._src)

    @classmethod
    def build(
        cls,
        definitions: Iterable[tuple[str, str] | tuple[str, str, str]],
        references: Iterable[tuple[str, str] | tuple[str, str, int]],
        imports: Iterable[tuple[str, str]] = (),
        files: Iterable[str] = (),
    ) -> CodeGraph:
        """Build from plain rows (as loaded from the catalog).

        `definitions` rows are (path, name) or (path, name, kind); `references` rows are
        (path, name) or (path, name, count). Unknown names are ignored.
        """
        index: dict[str, int] = {}
        paths: list[str] = []

        def file_id(path: str) -> int:
            found = index.get(path)
            if found is None:
                found = index[path] = len(paths)
                paths.append(path)
            return found

        for path in files:
            file_id(path)
        name_ids: dict[str, int] = {}
        names: list[str] = []
        definers: dict[int, list[int]] = {}
        defined: set[tuple[int, int]] = set()
        for definition in definitions:
            path, name = definition[0], definition[1]
            if name in COMMON_NAMES or (len(definition) > 2 and definition[2] in NON_TARGET_KINDS):
                continue
            nid = name_ids.get(name)
            if nid is None:
                nid = name_ids[name] = len(names)
                names.append(name)
            fid = file_id(path)
            if (nid, fid) not in defined:
                defined.add((nid, fid))
                definers.setdefault(nid, []).append(fid)
        # Aggregate references per (file, name).
        ref_counts: dict[tuple[int, int], int] = {}
        for row in references:
            nid = name_ids.get(row[1])
            if nid is None or nid not in definers:
                continue
            key = (file_id(row[0]), nid)
            count = row[2] if len(row) > 2 else 1
            ref_counts[key] = ref_counts.get(key, 0) + int(count)
        src_list: list[int] = []
        dst_list: list[int] = []
        w_list: list[float] = []
        ref_file_list: list[int] = []
        ref_name_list: list[int] = []
        ref_w_list: list[float] = []
        factors = [_name_factor(name) for name in names]
        in_tests = [is_test_path(path) for path in paths]
        for (fid, nid), count in ref_counts.items():
            targets = definers[nid]
            if len(targets) > MAX_DEFINERS:
                continue
            others = [t for t in targets if t != fid]
            if not others:
                continue
            weight = math.sqrt(count) * factors[nid] / len(targets)
            total = 0.0
            for other in others:
                edge = weight * TEST_DEFINER_FACTOR if in_tests[other] else weight
                src_list.append(fid)
                dst_list.append(other)
                w_list.append(edge)
                total += edge
            ref_file_list.append(fid)
            ref_name_list.append(nid)
            ref_w_list.append(total)
        import_rows = list(imports)
        if import_rows:
            known = KnownPaths([*paths, *(p for p, _ in import_rows)])
            for path, module in import_rows:
                resolved = resolve_import(path, module, known)
                if resolved is None or resolved == path:
                    continue
                src_list.append(file_id(path))
                dst_list.append(file_id(resolved))
                w_list.append(IMPORT_WEIGHT)
        n = len(paths)
        src = np.asarray(src_list, dtype=np.int64)
        dst = np.asarray(dst_list, dtype=np.int64)
        weights = np.asarray(w_list, dtype=np.float64)
        if len(src):
            # Merge parallel edges: one (src, dst) entry with the summed weight.
            keys = src * max(n, 1) + dst
            unique, inverse = np.unique(keys, return_inverse=True)
            weights = np.bincount(inverse, weights=weights).astype(np.float64)
            src, dst = unique // max(n, 1), unique % max(n, 1)
        graph = cls(
            paths,
            names,
            definers,
            src,
            dst,
            weights,
            np.asarray(ref_file_list, dtype=np.int64),
            np.asarray(ref_name_list, dtype=np.int64),
            np.asarray(ref_w_list, dtype=np.float64),
        )
        _log.debug("graph_built", files=n, names=len(names), edges=graph.edge_count)
        return graph

    def _personalization(self, focus_files: Iterable[str], mentioned: Iterable[str]) -> FloatArray:
        n = len(self.paths)
        p = np.zeros(n, dtype=np.float64)
        for path in focus_files:
            fid = self.index.get(path)
            if fid is not None:
                p[fid] += 1.0
        for name in mentioned:
            nids: Sequence[int]
            exact = self.name_index.get(name)
            nids = [exact] if exact is not None else self._lower_index.get(name.lower(), [])
            for nid in nids:
                targets = self.definers.get(nid, [])
                if 0 < len(targets) <= MAX_DEFINERS:
                    share = 0.5 * _name_factor(self.names[nid]) / len(targets)
                    for fid in targets:
                        p[fid] += share
        total = p.sum()
        if total <= 0:
            return np.full(n, 1.0 / n, dtype=np.float64) if n else p
        normalised: FloatArray = p / total
        return normalised

    def rank(
        self,
        focus_files: Iterable[str] = (),
        mentioned: Iterable[str] = (),
        *,
        alpha: float = 0.85,
        max_iter: int = 30,
        tol: float = 1e-4,
        top_symbols: int = TOP_SYMBOLS,
    ) -> GraphRanking:
        """Personalised PageRank from focus files and mentioned identifiers (uniform if none).

        Returns every file, ranked, and the `top_symbols` best (file, name) pairs.
        """
        n = len(self.paths)
        if n == 0:
            return GraphRanking()
        p = self._personalization(focus_files, mentioned)
        r = p.copy()
        # Power iteration: follow weighted votes with prob. alpha, else restart at p;
        # files with no outgoing votes hand their mass back to p. The error shrinks by
        # alpha per step, so 30 steps leave ~1% of it: plenty to order files.
        for _ in range(max_iter):
            flowed = np.bincount(self._dst, weights=self._w * r[self._src], minlength=n)
            dangling = float(r[self._dangling].sum())
            new = alpha * (flowed + dangling * p) + (1.0 - alpha) * p
            delta = float(np.abs(new - r).sum())
            r = new
            if delta < tol:
                break
        order = np.argsort(-r, kind="stable")
        paths = self.paths
        files = list(zip([paths[i] for i in order.tolist()], r[order].tolist(), strict=True))
        return GraphRanking(files=files, symbols=self._symbol_scores(r, top_symbols))

    def _symbol_scores(self, r: FloatArray, top: int) -> list[tuple[str, str, float]]:
        """Rank mass flowing to each (defining file, name) through references to the name."""
        if not self.names or not len(self._pair_name):
            return []
        flow = np.bincount(
            self._ref_name, weights=self._ref_w * r[self._ref_file], minlength=len(self.names)
        )
        scores = flow[self._pair_name] * self._pair_share
        candidates = np.nonzero(scores > 0)[0]
        if len(candidates) > top:
            keep = np.argpartition(-scores[candidates], top - 1)[:top]
            candidates = candidates[keep]
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        paths, names = self.paths, self.names
        return [
            (paths[file_id], names[name_id], score)
            for file_id, name_id, score in zip(
                self._pair_file[candidates].tolist(),
                self._pair_name[candidates].tolist(),
                scores[candidates].tolist(),
                strict=True,
            )
        ]
