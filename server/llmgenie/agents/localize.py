"""Localization: from an issue or task text to the files and functions it is about.

LocAgent style, bounded: the model gets the task text and the engine's own search ranking
as candidates, may call a few code-graph tools (search, definitions, references, a file's
outline, a line range), at most `max_tool_calls` of them and within a token budget, then
answers a ranked JSON list of {path, symbol, start_line, end_line, reason}. The answer is
read leniently (fences, prose, extra keys, a cut-off list), every item is checked against
the workspace index (paths must be indexed files, symbols definitions in them), and what
does not exist is dropped and reported. The engine's search ranking follows the model's
picks, so a weak model can reorder the top but never lose a file search alone would list.

When the model cannot help (none configured, unreachable, out of budget, no usable answer)
the result is the search ranking with a note saying why: localization never fails where
search alone can answer. Only cancellation propagates.

Framework-free: the crews call it through the `localize` agent tool, the MCP server and the
CLI through the application layer; all of them get the same `Localization` contract.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from llmgenie.agents.lenient_json import answer_text, json_values, recover_truncated
from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.contracts.errors import (
    BudgetExceeded,
    InvalidRequest,
    ModelCallError,
    NoModelConfigured,
    PathEscapeError,
)
from llmgenie.contracts.localization import (
    DroppedItem,
    Localization,
    LocalizationSource,
    LocalizationToolCall,
    LocationHit,
)
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.search import ChunkHit, ScoreReason, SearchResult
from llmgenie.contracts.symbols import Symbol
from llmgenie.llm.models import Completion, ModelClientProtocol
from llmgenie.observability.logging import get_logger
from llmgenie.retrieval.query import MAX_QUERY_CHARS

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

log = get_logger(__name__)

CHARS_PER_TOKEN = 3  # conservative for code, as in briefing.py


@dataclass(frozen=True)
class LocalizeLimits:
    """How far one localization may go: tool calls, tokens, and how much it shows."""

    max_tool_calls: int = 6
    max_tokens: int = 40_000  # prompt + completion tokens over all of its model calls
    max_output_tokens: int = 1000  # per model call
    candidates: int = 10  # files from the engine's search shown to the model (and kept)
    max_model_hits: int = 10  # locations taken from the model's answer
    tool_output_chars: int = 4000
    read_lines: int = 80  # the most lines one read_lines call shows


SYSTEM_PROMPT = (
    "You localize software tasks: given an issue or task description, you find the files "
    "and functions (or classes, methods) that must be read or changed to do it. You start "
    "from candidates ranked by a code search engine, and you may use the tools to check "
    "them: search_code (more candidates), find_definitions and find_references (follow the "
    "code graph), list_symbols (a file's outline) and read_lines (a line range). Tool calls "
    "are limited, so be decisive. Only name files and symbols that exist; never guess a "
    "path. Your final answer is ONE JSON object and nothing else:\n"
    '{"locations": [{"path": "workspace/relative/file.py", "symbol": "Class.method or '
    'function (optional)", "start_line": 10, "end_line": 20, "reason": "one line: why"}]}\n'
    "Best location first, at most 10, most relevant functions rather than whole files."
)
FORCE_ANSWER = (
    "No more tool calls are available. Answer now with the JSON object of locations, "
    "from what you have seen."
)
RETRY_ANSWER = (
    'Your answer held no JSON list of locations. Answer again with only {"locations": '
    '[{"path": ..., "symbol": ..., "reason": ...}]}.'
)


class _SearchArgs(BaseModel):
    query: str = Field(description="identifiers, behaviour or error text to look for")
    k: int = Field(8, ge=1, le=20, description="how many files")


class _NameArgs(BaseModel):
    name: str = Field(description="a function, class, method or variable name")


class _PathArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")


class _ReadArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")
    start_line: int = Field(1, ge=1, description="first line (1-based)")
    end_line: int | None = Field(None, ge=1, description="last line (inclusive)")


_TOOLS: dict[str, tuple[str, type[BaseModel]]] = {
    "search_code": (
        "Search the workspace; returns ranked files with their best matching definitions.",
        _SearchArgs,
    ),
    "find_definitions": (
        "Where a symbol is defined: path, lines, kind, signature.",
        _NameArgs,
    ),
    "find_references": ("Which files use a name, and on which line first.", _NameArgs),
    "list_symbols": ("A file's definitions (functions, classes, methods) with lines.", _PathArgs),
    "read_lines": ("Read a line range of a file (numbered lines).", _ReadArgs),
}


def tool_schemas() -> list[dict[str, Any]]:
    """OpenAI function-calling schemas of the localizer's own tools."""
    out: list[dict[str, Any]] = []
    for name, (description, args) in _TOOLS.items():
        params = args.model_json_schema()
        params.pop("title", None)
        out.append(
            {
                "type": "function",
                "function": {"name": name, "description": description, "parameters": params},
            }
        )
    return out


# ------------------------------------------------------------------------- the answer

_PATH_KEYS = ("path", "file", "file_path", "filepath", "filename", "file_name")
_SYMBOL_KEYS = ("symbol", "function", "qualified_name", "method", "class", "name", "func")
_REASON_KEYS = ("reason", "why", "explanation", "rationale", "description", "note")
_LIST_KEYS = ("locations", "hits", "results", "files", "functions", "answer", "items")
_LOCATION_STRING = re.compile(
    r"^\s*(?P<path>[^\s:]+?)(?:(?:::|:)(?P<rest>[^\s]+))?\s*(?:[-—:]\s*(?P<reason>.*))?$"
)
_LINES = re.compile(r"^(?P<start>\d+)(?:\s*[-–:]\s*(?P<end>\d+))?$")


@dataclass
class _Item:
    """One location as the model wrote it, before validation."""

    raw: dict[str, Any]
    path: str | None
    symbol: str | None
    start: int | None
    end: int | None
    reason: str


def _first_str(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _lines_of(data: dict[str, Any]) -> tuple[int | None, int | None]:
    start = _as_int(data.get("start_line", data.get("line", data.get("start"))))
    end = _as_int(data.get("end_line", data.get("end")))
    lines = data.get("lines", data.get("line_range"))
    if start is None and isinstance(lines, list) and lines:
        start = _as_int(lines[0])
        end = _as_int(lines[-1])
    elif start is None and isinstance(lines, str):
        match = _LINES.match(lines.strip())
        if match:
            start = int(match.group("start"))
            end = int(match.group("end") or start)
    return start, end


def _item_from_string(text: str) -> _Item | None:
    """`path`, `path:Symbol`, `path::Symbol`, `path:10-20`, with an optional ` - reason`."""
    match = _LOCATION_STRING.match(text)
    if not match:
        return None
    path, rest = match.group("path"), match.group("rest")
    symbol = None
    start = end = None
    if rest:
        lines = _LINES.match(rest)
        if lines:
            start = int(lines.group("start"))
            end = int(lines.group("end") or start)
        else:
            symbol = rest
    return _Item({"location": text}, path, symbol, start, end, match.group("reason") or "")


def _item_from(value: Any) -> _Item | None:
    if isinstance(value, str):
        return _item_from_string(value)
    if not isinstance(value, dict):
        return None
    path = _first_str(value, _PATH_KEYS)
    symbol = _first_str(value, _SYMBOL_KEYS)
    if path is None and symbol is None:
        return None
    if path and symbol is None and "::" in path:
        path, _, symbol = path.partition("::")
    start, end = _lines_of(value)
    reason = _first_str(value, _REASON_KEYS) or ""
    return _Item(dict(value), path, symbol, start, end, reason)


def _looks_like_locations(values: list[Any]) -> bool:
    return any(_item_from(v) is not None for v in values if isinstance(v, dict))


def _items_of(value: Any) -> list[_Item] | None:
    """The location items a decoded JSON value holds; None when it holds no list of them."""
    if isinstance(value, list):
        items = [item for item in (_item_from(v) for v in value) if item is not None]
        return items if items or not value else None
    if not isinstance(value, dict):
        return None
    for key in _LIST_KEYS:
        listed = value.get(key)
        if isinstance(listed, list):
            return [item for item in (_item_from(v) for v in listed) if item is not None]
    for listed in value.values():
        if isinstance(listed, list) and _looks_like_locations(listed):
            return [item for item in (_item_from(v) for v in listed) if item is not None]
    if _first_str(value, _PATH_KEYS) and "arguments" not in value:
        single = _item_from(value)
        return [single] if single else None
    return None


def parse_locations(text: str) -> list[_Item] | None:
    """The locations a model's answer holds (lenient), or None when it holds none at all.

    A list inside code fences or prose is found; a list cut off by the output limit keeps
    its complete items; an empty list is an answer (nothing relevant), not a failure.
    """
    cleaned = answer_text(text)
    for value in json_values(cleaned):
        items = _items_of(value)
        if items is not None:
            return items
    recovered = recover_truncated(cleaned)
    if recovered is not None:
        return _items_of(recovered)
    return None


# ------------------------------------------------------------------------- the localizer


@dataclass
class _Run:
    """What one localization accumulates."""

    tokens: int = 0
    model: str | None = None
    calls: list[LocalizationToolCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Localizer:
    """Localizes task texts in one workspace, with an optional model.

    `client` None means search only (the note says no model is configured). `on_completion`
    sees every model answer with the seconds it took (a crew run accounts them).
    """

    def __init__(
        self,
        engine: WorkspaceEngine,
        client: ModelClientProtocol | None,
        *,
        limits: LocalizeLimits | None = None,
        focus: str | None = None,
        on_completion: Callable[[Completion, float], None] | None = None,
        redact: Callable[[str], str] | None = None,
        no_model_note: str = "no model is configured",
    ) -> None:
        self.engine = engine
        self.client = client
        self.limits = limits or LocalizeLimits()
        self.focus = focus
        self.view = WorkspaceView(engine.root, engine)
        self._on_completion = on_completion
        self._redact = redact or (lambda text: text)
        self._no_model_note = no_model_note
        self._tool_chars = self.limits.tool_output_chars

    # -- entry point ---------------------------------------------------------------------

    def localize(self, text: str) -> Localization:
        """The ranked locations for `text`; InvalidRequest for an empty text."""
        query = text.strip()
        if not query:
            raise InvalidRequest("a task or issue text is required")
        started = time.monotonic()
        search = self.engine.search(
            query[:MAX_QUERY_CHARS], k=self.limits.candidates, focus=self.focus
        )
        baseline = self._search_hits(search)
        run = _Run()
        if search.degraded:
            run.notes.append("search: " + "; ".join(search.degraded))
        dropped: list[DroppedItem] = []
        if self.client is None:
            run.notes.append(f"{self._no_model_note}: the engine's search ranking is returned")
            result = self._result(query, "search", baseline, dropped, run)
        else:
            result = self._with_model(query, search, baseline, dropped, run)
        log.info(
            "localization_finished",
            source=result.source,
            hits=len(result.hits),
            dropped=len(result.dropped),
            tool_calls=len(result.tool_calls),
            tokens=result.tokens,
            model=result.model,
            seconds=round(time.monotonic() - started, 3),
        )
        return result

    def _result(
        self,
        query: str,
        source: LocalizationSource,
        hits: list[LocationHit],
        dropped: list[DroppedItem],
        run: _Run,
    ) -> Localization:
        ranked = [
            hit.model_copy(update={"score": round(1.0 / position, 4)})
            for position, hit in enumerate(hits, start=1)
        ]
        return Localization(
            query=query[:500],
            source=source,
            hits=ranked,
            dropped=dropped,
            notes=list(run.notes),
            tool_calls=list(run.calls),
            model=run.model,
            tokens=run.tokens,
        )

    # -- search ranking --------------------------------------------------------------------

    def _search_hits(self, search: SearchResult) -> list[LocationHit]:
        """One hit per searched file, best first, with the file's best chunk as its place."""
        best_chunk: dict[str, ChunkHit] = {}
        for chunk in search.chunks:
            best_chunk.setdefault(chunk.path, chunk)
        hits: list[LocationHit] = []
        for rank, found in enumerate(search.files[: self.limits.candidates], start=1):
            best = best_chunk.get(found.path)
            reasons = [
                ScoreReason(
                    signal="search",
                    rank=rank,
                    contribution=round(found.score, 6),
                    detail=f"search rank {rank}",
                ),
                *found.reasons[:3],
            ]
            hits.append(
                LocationHit(
                    path=found.path,
                    symbol=best.symbol if best else None,
                    kind=self._kind_of(found.path, best.symbol) if best and best.symbol else None,
                    start_line=best.start_line if best else None,
                    end_line=best.end_line if best else None,
                    reasons=reasons,
                )
            )
        return hits

    def _kind_of(self, path: str, symbol: str) -> str | None:
        """The kind of the definition a search chunk is named after (None if unknown)."""
        try:
            found = self._symbol_in(path, symbol)
        except (OSError, ValueError, LookupError):
            return None
        return found.kind if found is not None else None

    def _candidates_text(self, search: SearchResult) -> str:
        symbols_by_file: dict[str, list[str]] = {}
        for chunk in search.chunks:
            if chunk.symbol:
                names = symbols_by_file.setdefault(chunk.path, [])
                label = f"{chunk.symbol} ({chunk.start_line}-{chunk.end_line})"
                if label not in names and len(names) < 4:
                    names.append(label)
        lines = []
        for rank, found in enumerate(search.files[: self.limits.candidates], start=1):
            names = symbols_by_file.get(found.path) or self._outline(found.path, 6)
            shown = f": {', '.join(names)}" if names else ""
            lines.append(f"{rank}. {found.path}{shown}")
        return "\n".join(lines) if lines else "(search found no candidates)"

    def _outline(self, path: str, limit: int) -> list[str]:
        try:
            symbols = self.engine.symbols(path)
        except (OSError, ValueError, LookupError):
            return []
        top = [s for s in symbols if s.parent is None] or symbols
        return [f"{s.qualified_name} ({s.start_line}-{s.end_line})" for s in top[:limit]]

    # -- the model loop ----------------------------------------------------------------------

    def _with_model(
        self,
        query: str,
        search: SearchResult,
        baseline: list[LocationHit],
        dropped: list[DroppedItem],
        run: _Run,
    ) -> Localization:
        assert self.client is not None
        try:
            items = self._ask(query, search, run)
        except Cancelled:
            raise
        except (ModelCallError, NoModelConfigured, BudgetExceeded) as exc:
            run.notes.append(f"the model could not localize ({exc}); search ranking returned")
            return self._result(query, "search", baseline, dropped, run)
        except Exception as exc:  # anything else is the model's failure, not the user's
            log.warning("localization_model_failed", error=f"{type(exc).__name__}: {exc}")
            run.notes.append(
                f"the model could not localize ({type(exc).__name__}: {exc}); "
                "search ranking returned"
            )
            return self._result(query, "search", baseline, dropped, run)
        if items is None:
            run.notes.append("the model gave no usable list of locations; search ranking returned")
            return self._result(query, "search", baseline, dropped, run)
        picked = self._validate(items[: self.limits.max_model_hits * 2], dropped)
        picked = picked[: self.limits.max_model_hits]
        if not picked:
            why = (
                f"none of the model's {len(items)} locations exist in the workspace"
                if items
                else "the model named no location"
            )
            run.notes.append(f"{why}; search ranking returned")
            return self._result(query, "search", baseline, dropped, run)
        return self._result(query, "model", self._merge(picked, baseline), dropped, run)

    def _ask(self, query: str, search: SearchResult, run: _Run) -> list[_Item] | None:
        """Talk to the model until it answers (or its budget is spent); its items or None."""
        client = self.client
        assert client is not None
        limits = self.limits
        window = client.context_window()
        issue_chars = max(2000, min(16_000, window * CHARS_PER_TOKEN // 3))
        issue = query if len(query) <= issue_chars else query[:issue_chars] + "\n… (shortened)"
        # What the window leaves after the prompt and the answer is shared by the tool
        # results, so that a small local model's 8k window holds every one of them.
        free = (window - limits.max_output_tokens - 1500) * CHARS_PER_TOKEN - len(issue)
        share = free // max(1, limits.max_tool_calls)
        self._tool_chars = max(600, min(limits.tool_output_chars, share))
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": (
                    f"Task:\n{issue}\n\nCandidates from the code search (best first):\n"
                    f"{self._candidates_text(search)}\n\nYou may make at most "
                    f"{limits.max_tool_calls} tool calls."
                ),
            },
        ]
        schemas = tool_schemas()
        forced = retried = False
        # Each round either runs tools (bounded) or ends; two more: forced answer and retry.
        for _ in range(limits.max_tool_calls + 3):
            room = len(run.calls) < limits.max_tool_calls and run.tokens < limits.max_tokens
            if not room and not forced:
                if run.tokens >= limits.max_tokens:
                    run.notes.append(f"token budget ({limits.max_tokens}) spent")
                messages.append({"role": "user", "content": FORCE_ANSWER})
                forced = True
            completion = self._complete(messages, schemas if room else None, run)
            if completion.tool_calls and room:
                self._run_tools(completion, messages, run)
                continue
            if completion.tool_calls and not forced:
                forced = True
            items = parse_locations(completion.text or "")
            if items is not None:
                return items
            if retried or (forced and run.tokens >= limits.max_tokens):
                return None
            retried = True
            messages.append({"role": "assistant", "content": completion.text or ""})
            messages.append({"role": "user", "content": FORCE_ANSWER if forced else RETRY_ANSWER})
        return None

    def _complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, run: _Run
    ) -> Completion:
        assert self.client is not None
        started = time.monotonic()
        completion = self.client.complete(
            messages,
            tools=tools,
            max_tokens=self.limits.max_output_tokens,
            json_answer=True,
        )
        run.tokens += completion.prompt_tokens + completion.completion_tokens
        run.model = completion.model
        if self._on_completion is not None:
            self._on_completion(completion, time.monotonic() - started)
        return completion

    def _run_tools(self, completion: Completion, messages: list[dict[str, Any]], run: _Run) -> None:
        messages.append(
            {
                "role": "assistant",
                "content": completion.text or None,
                "tool_calls": completion.tool_calls,
            }
        )
        for index, call in enumerate(completion.tool_calls):
            function = call.get("function") or {}
            name = str(function.get("name") or "")
            raw = function.get("arguments")
            if len(run.calls) >= self.limits.max_tool_calls:
                output = "Not run: the tool-call budget is spent. Answer with the JSON now."
            else:
                arguments = _decode(raw)
                run.calls.append(
                    LocalizationToolCall(
                        name=name, arguments=arguments if isinstance(arguments, dict) else {}
                    )
                )
                output = self._tool(name, arguments)
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call.get("id") or f"call_{len(run.calls)}_{index}",
                    "name": name,
                    "content": output,
                }
            )

    # -- tools --------------------------------------------------------------------------

    def _tool(self, name: str, arguments: dict[str, Any] | str) -> str:
        """One tool's output for the model; bad input or a failure is an error string."""
        spec = _TOOLS.get(name)
        if spec is None:
            return f"Error: unknown tool {name!r}; available: {', '.join(_TOOLS)}"
        if isinstance(arguments, str):
            return arguments
        try:
            args = spec[1].model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            return f"Error: invalid arguments for {name}: {problems}"
        try:
            output = getattr(self, f"_tool_{name}")(args)
        except Cancelled:
            raise
        except PathEscapeError as exc:
            output = f"Error: {exc}. Only workspace files can be read."
        except Exception as exc:
            output = f"Error: {name} failed: {type(exc).__name__}: {exc}"
        output = self._redact(output)
        limit = self._tool_chars
        return output if len(output) <= limit else output[:limit] + "\n… (cut)"

    def _tool_search_code(self, args: _SearchArgs) -> str:
        found = self.engine.search(args.query[:MAX_QUERY_CHARS], k=args.k, focus=self.focus)
        if not found.files:
            return f"No results for {args.query!r}."
        return self._candidates_text(found)

    def _tool_find_definitions(self, args: _NameArgs) -> str:
        found = self.engine.find_definitions(args.name.strip().rstrip("()"))
        if not found:
            return f"No definition named {args.name!r}."
        return "\n".join(_describe_symbol(s) for s in found[:20])

    def _tool_find_references(self, args: _NameArgs) -> str:
        found = self.engine.find_references(args.name.strip().rstrip("()"))
        if not found:
            return f"No references to {args.name!r}."
        first: dict[str, str] = {}
        for ref in found:
            first.setdefault(ref.path, f"{ref.path}:{ref.line} ({ref.kind})")
        shown = list(first.values())[:30]
        more = f"\n… and {len(first) - 30} more files" if len(first) > 30 else ""
        return f"{len(first)} files use {args.name}:\n" + "\n".join(shown) + more

    def _tool_list_symbols(self, args: _PathArgs) -> str:
        rel = self.view.rel(args.path)
        symbols = self.engine.symbols(rel)
        if not symbols:
            return f"No definitions found in {rel} (is the path right?)."
        return "\n".join(_describe_symbol(s, with_path=False) for s in symbols[:80])

    def _tool_read_lines(self, args: _ReadArgs) -> str:
        rel = self.view.rel(args.path)
        start = args.start_line
        end = min(args.end_line or start + self.limits.read_lines - 1, start + 400)
        end = min(end, start + self.limits.read_lines - 1)
        window = self.view.window(rel, start, end)
        if window is None:
            return f"Error: no such file: {rel}"
        body = "\n".join(f"{start + i:>5}| {line}" for i, line in enumerate(window.lines))
        return f"{rel} (lines {start}-{start + len(window.lines) - 1} of {window.total})\n{body}"

    # -- validation ---------------------------------------------------------------------

    def _indexed(self, path: str) -> str | None:
        """The workspace file a model's `path` means, or None: an indexed file, one the
        engine can read (a delegated run's engine answers from the editor's index), a
        dotted module name, or a unique suffix of an indexed path."""
        try:
            rel = self.view.rel(path)
        except (PathEscapeError, ValueError):
            return None
        if self.engine.db.file_entry(rel) is not None or self._readable(rel):
            return rel
        candidates = [rel]
        if "/" not in rel and rel.count(".") > 1 and not rel.endswith(".py"):
            candidates.append(rel.replace(".", "/") + ".py")  # a dotted module name
        with self.engine.db.snapshot() as snapshot:
            indexed = snapshot.files.by_path
            for candidate in candidates:
                if candidate in indexed:
                    return candidate
            # A path given relative to a package directory: unique suffix match.
            tails = [p for p in indexed if p.endswith("/" + rel)]
        return tails[0] if len(tails) == 1 else None

    def _readable(self, rel: str) -> bool:
        try:
            return self.view.window(rel, 1, 1) is not None
        except (OSError, ValueError):  # not a regular file, too large, outside the root
            return False

    def _symbol_in(self, rel: str, name: str) -> Symbol | None:
        cleaned = name.strip().rstrip("()").replace("::", ".")
        symbols = self.engine.symbols(rel)
        tail = cleaned.rsplit(".", 1)[-1]
        exact = [s for s in symbols if s.qualified_name == cleaned]
        nested = [s for s in symbols if s.qualified_name.endswith("." + cleaned)]
        named = [s for s in symbols if s.name == tail]
        for found in (exact, nested, named):
            if found:
                return found[0]
        return None

    def _validate(self, items: list[_Item], dropped: list[DroppedItem]) -> list[LocationHit]:
        """Model items that exist in the index, as hits; the rest go to `dropped`."""
        hits: list[LocationHit] = []
        seen: set[tuple[str, str | None]] = set()
        for rank, item in enumerate(items, start=1):
            hit = self._resolve(item, dropped)
            if hit is None:
                continue
            key = (hit.path, hit.symbol)
            if key in seen or (hit.symbol is None and any(p == hit.path for p, _ in seen)):
                continue
            seen.add(key)
            detail = item.reason or "named by the model"
            hit.reasons.insert(
                0, ScoreReason(signal="model", rank=rank, contribution=1.0, detail=detail[:300])
            )
            hits.append(hit)
        return hits

    def _resolve(self, item: _Item, dropped: list[DroppedItem]) -> LocationHit | None:
        rel = self._indexed(item.path) if item.path else None
        if item.path and rel is None:
            dropped.append(
                DroppedItem(item=item.raw, why=f"{item.path} is not a file in the workspace index")
            )
            return None
        if rel is None:  # a symbol alone: where is it defined?
            assert item.symbol is not None
            definitions = self.engine.find_definitions(item.symbol.strip().rstrip("()"))
            if not definitions:
                dropped.append(
                    DroppedItem(item=item.raw, why=f"no definition named {item.symbol!r}")
                )
                return None
            return _symbol_hit(definitions[0], f"located by the definition of {item.symbol}")
        if item.symbol:
            defined = self._symbol_in(rel, item.symbol)
            if defined is not None:
                return _symbol_hit(defined, None)
            dropped.append(
                DroppedItem(
                    item=item.raw,
                    why=f"{item.symbol!r} is not defined in {rel}; the file is kept without it",
                )
            )
        start, end = item.start, item.end
        if start is not None:
            window = self.view.window(rel, 1, 1)
            total = window.total if window is not None else 0
            if start < 1 or start > total:
                start = end = None
            else:
                end = min(max(end or start, start), total)
        return LocationHit(path=rel, start_line=start, end_line=end)

    @staticmethod
    def _merge(picked: list[LocationHit], baseline: list[LocationHit]) -> list[LocationHit]:
        """The model's picks (with the search's reasons for their files), then every searched
        file the model did not name, in search order."""
        by_path = {hit.path: hit for hit in baseline}
        merged: list[LocationHit] = []
        for hit in picked:
            searched = by_path.get(hit.path)
            if searched is not None:
                hit.reasons.extend(searched.reasons[:1])
            merged.append(hit)
        named = {hit.path for hit in picked}
        merged.extend(hit for hit in baseline if hit.path not in named)
        return merged


def _symbol_hit(symbol: Symbol, note: str | None) -> LocationHit:
    reasons = (
        [] if note is None else [ScoreReason(signal="graph", rank=1, contribution=0.0, detail=note)]
    )
    return LocationHit(
        path=symbol.path,
        symbol=symbol.qualified_name,
        kind=symbol.kind,
        start_line=symbol.start_line,
        end_line=symbol.end_line,
        reasons=reasons,
    )


def _describe_symbol(symbol: Symbol, with_path: bool = True) -> str:
    where = f"{symbol.path}:" if with_path else "lines "
    signature = f": {symbol.signature}" if symbol.signature else ""
    return (
        f"{symbol.kind} {symbol.qualified_name} {where}{symbol.start_line}-{symbol.end_line}"
        f"{signature}"
    )[:300]


def _decode(raw: Any) -> dict[str, Any] | str:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        decoded = json.loads(raw) if str(raw).strip() else {}
    except json.JSONDecodeError as exc:
        return f"Error: tool arguments are not valid JSON: {exc.msg}"
    return decoded if isinstance(decoded, dict) else "Error: tool arguments must be an object"


def _reason_text(reason: ScoreReason) -> str:
    if reason.signal in ("model", "graph"):
        return f"{reason.signal}: {reason.detail}" if reason.detail else reason.signal
    if reason.signal == "search":
        return f"search #{reason.rank}"
    return f"{reason.signal} #{reason.rank}"


def format_localization(result: Localization, limit: int = 10) -> str:
    """A localization as text for an agent (or a terminal): ranked places and their why."""
    lines = [f"Likely locations (ranked by the {result.source}):"]
    for number, hit in enumerate(result.hits[:limit], start=1):
        where = hit.path
        if hit.start_line is not None:
            where += f":{hit.start_line}" + (
                f"-{hit.end_line}" if hit.end_line and hit.end_line != hit.start_line else ""
            )
        what = f" {hit.kind or 'symbol'} {hit.symbol}" if hit.symbol else ""
        why = "; ".join(_reason_text(r) for r in hit.reasons[:3])
        lines.append(f"{number}. {where}{what}" + (f" ({why})" if why else ""))
    if not result.hits:
        lines.append("(nothing found)")
    lines += [f"note: {note}" for note in result.notes]
    lines += [f"dropped: {json.dumps(d.item)[:200]}: {d.why}" for d in result.dropped]
    return "\n".join(lines)
