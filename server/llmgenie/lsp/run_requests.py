"""Build a RunRequest (1-based lines, workspace-relative path) from LSP-shaped arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from llmgenie.lsp.errors import InvalidParams, RequestFailed
from llmgenie.lsp.params import HistoryMessage, WireRange
from llmgenie.lsp.positions import to_one_based_lines
from llmgenie.runs.models import CrewName, LineRange, RunRequest

if TYPE_CHECKING:
    from llmgenie.lsp.session import Session


def _diagnostic_text(diagnostic: str | dict[str, Any] | None) -> str | None:
    if isinstance(diagnostic, dict):
        message = diagnostic.get("message")
        return str(message) if message is not None else None
    return diagnostic


def _prompt_with_history(prompt: str, history: list[HistoryMessage]) -> str:
    if not history:
        return prompt
    lines = [f"{m.role}: {m.content}" for m in history]
    return "Conversation so far:\n" + "\n".join(lines) + f"\n\nuser: {prompt}"


def build_run_request(
    session: Session,
    crew: CrewName,
    *,
    uri: str | None,
    rng: WireRange | None,
    prompt: str = "",
    diagnostic: str | dict[str, Any] | None = None,
    history: list[HistoryMessage] | None = None,
) -> RunRequest:
    """Resolve the document into its workspace folder and convert the range to lines."""
    rel: str | None = None
    if uri is not None:
        located = session.registry.locate(uri)
        if located is None:
            raise InvalidParams(f"{uri} is not inside an open workspace folder")
        folder, rel = located
    else:
        primary = session.registry.primary()
        if primary is None:
            raise RequestFailed("No workspace folder is open", "no_workspace")
        folder = primary
    line_range = None
    if rng is not None:
        lsp_range = types.Range(
            start=types.Position(line=rng.start.line, character=rng.start.character),
            end=types.Position(line=rng.end.line, character=rng.end.character),
        )
        start, end = to_one_based_lines(lsp_range)
        line_range = LineRange(start_line=start, end_line=end)
    return RunRequest(
        crew=crew,
        workspace=str(folder.root),
        path=rel,
        range=line_range,
        prompt=_prompt_with_history(prompt, history or []),
        diagnostic=_diagnostic_text(diagnostic),
    )
