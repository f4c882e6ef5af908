"""Step 1, context analysis: what the request is about, gathered from the workspace engine.

The file, its language, the selected lines, the enclosing symbol, related code (from the
engine's position analysis and a hybrid search), a repository map, project guidance and
workspace traits. Every text is redacted here, before anything can reach a model. Engine
failures degrade the context (logged), they never fail the run; a path outside the
workspace does (PathEscapeError).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunRequest
from llmgenie.contracts.search import ChunkHit
from llmgenie.observability.logging import get_logger
from llmgenie.redaction import redact_path_text
from llmgenie.workspace.files import resolve_inside, to_rel
from llmgenie.workspace.traits import workspace_traits
from llmgenie.wrapper.guidance import project_guidance

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

log = get_logger(__name__)

MAX_FILE_CHARS = 120_000
MAX_RELATED = 6
REPO_MAP_TOKENS = 1024


def normalise_request(request: RunRequest) -> RunRequest:
    """The request with `path` made workspace-relative; PathEscapeError if it leaves."""
    if not request.path:
        return request
    root = Path(request.workspace)
    resolved = resolve_inside(root, request.path, allow_absolute=True)
    return request.model_copy(update={"path": to_rel(root, resolved)})


def _selection(text: str, request: RunRequest) -> str:
    if request.range is None:
        return ""
    lines = text.splitlines()
    start = max(1, request.range.start_line)
    end = min(len(lines), max(start, request.range.end_line))
    return "\n".join(lines[start - 1 : end])


def _fill_text(engine: WorkspaceEngine, hit: ChunkHit, cache: dict[str, list[str]]) -> ChunkHit:
    if hit.text:
        return hit
    if hit.path not in cache:
        try:
            cache[hit.path] = engine.read_text(hit.path).splitlines()
        except (OSError, ValueError):
            cache[hit.path] = []
    lines = cache[hit.path][hit.start_line - 1 : hit.end_line]
    return hit.model_copy(update={"text": "\n".join(lines)})


def _related(
    engine: WorkspaceEngine, request: RunRequest, symbol: str | None, seed: list[ChunkHit]
) -> list[ChunkHit]:
    """Position chunks first, then search hits for the prompt/symbol, deduplicated."""
    hits = list(seed)
    query = " ".join(
        part for part in (request.prompt, symbol or "", request.diagnostic or "") if part
    )
    if query.strip():
        try:
            hits.extend(engine.search(query[:500], k=MAX_RELATED, focus=request.path).chunks)
        except Exception as exc:
            log.warning("context_search_failed", run_id=request.run_id, error=str(exc))
    seen: set[tuple[str, int]] = set()
    out: list[ChunkHit] = []
    for hit in hits:
        key = (hit.path, hit.start_line)
        in_selection = (
            request.range is not None
            and hit.path == request.path
            and hit.start_line >= request.range.start_line
            and hit.end_line <= request.range.end_line
        )
        if key in seen or in_selection:
            continue
        seen.add(key)
        out.append(hit)
        if len(out) >= MAX_RELATED:
            break
    return out


def analyze_context(
    request: RunRequest,
    engine: WorkspaceEngine,
    redact: Callable[[str], str],
) -> tuple[AnalyzedContext, dict[str, object]]:
    """Build the AnalyzedContext (all text redacted); also returns a summary for logs."""
    request = normalise_request(request)
    root = Path(request.workspace)
    language: str | None = None
    file_text = ""
    symbol: str | None = None
    seed: list[ChunkHit] = []
    if request.path:
        try:
            file_text = engine.read_text(request.path)[:MAX_FILE_CHARS]
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no such file in the workspace: {request.path}") from exc
        line = request.range.start_line if request.range else 1
        try:
            position = engine.analyze_position(request.path, line)
            language = position.language
            if position.enclosing_symbol is not None:
                symbol = position.enclosing_symbol.qualified_name
            seed = list(position.chunks)
        except Exception as exc:
            log.warning("context_position_failed", run_id=request.run_id, error=str(exc))
    related = _related(engine, request, symbol, seed)
    cache: dict[str, list[str]] = {}
    related = [_fill_text(engine, hit, cache) for hit in related]
    related = [
        hit.model_copy(update={"text": redact_path_text(redact, hit.path, hit.text or "")})
        for hit in related
    ]
    try:
        repo_map = engine.repo_map(focus=request.path, tokens=REPO_MAP_TOKENS)
    except Exception as exc:
        log.warning("context_repo_map_failed", run_id=request.run_id, error=str(exc))
        repo_map = ""
    ctx = AnalyzedContext(
        request=request.model_copy(
            update={
                "prompt": redact(request.prompt),
                "diagnostic": redact(request.diagnostic) if request.diagnostic else None,
            }
        ),
        language=language,
        file_text=redact_path_text(redact, request.path or "", file_text),
        selection_text=redact_path_text(redact, request.path or "", _selection(file_text, request)),
        enclosing_symbol=symbol,
        related=related,
        repo_map=redact(repo_map),
        guidance=project_guidance(root, redact, request.path),
        workspace_traits=workspace_traits(root),
    )
    summary: dict[str, object] = {
        "path": request.path,
        "language": language,
        "symbol": symbol,
        "related": len(related),
        "guidance": len(ctx.guidance),
        "file_chars": len(file_text),
    }
    return ctx, summary
