"""Turn what a client asked into a RunRequest: the folder, a workspace-relative path,
1-based lines, and a chat history folded into the prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llmgenie.app.folders import FolderRegistry
from llmgenie.contracts.errors import InvalidRequest, RequestFailed
from llmgenie.contracts.ids import CrewName
from llmgenie.contracts.runs import LineRange, RunRequest


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One earlier message of a conversation."""

    role: Literal["user", "assistant", "system"]
    content: str


def prompt_with_history(prompt: str, history: Sequence[ChatTurn]) -> str:
    """The prompt a crew sees: the conversation so far, then the new question."""
    if not history:
        return prompt
    lines = [f"{turn.role}: {turn.content}" for turn in history]
    return "Conversation so far:\n" + "\n".join(lines) + f"\n\nuser: {prompt}"


def build_run_request(
    registry: FolderRegistry,
    crew: CrewName,
    *,
    path: Path | None,
    lines: tuple[int, int] | None = None,
    prompt: str = "",
    diagnostic: str | None = None,
    history: Sequence[ChatTurn] = (),
    model: str | None = None,
) -> RunRequest:
    """The request for `crew` on `path` (or the first open folder when there is none).

    InvalidRequest if `path` is outside every open folder; RequestFailed (no_workspace)
    if no folder is open at all.
    """
    rel: str | None = None
    if path is not None:
        located = registry.locate(path)
        if located is None:
            raise InvalidRequest(f"{path} is not inside an open workspace folder")
        folder, rel = located
    else:
        primary = registry.primary()
        if primary is None:
            raise RequestFailed("No workspace folder is open", "no_workspace")
        folder = primary
    line_range = None if lines is None else LineRange(start_line=lines[0], end_line=lines[1])
    return RunRequest(
        crew=crew,
        workspace=str(folder.root),
        path=rel,
        range=line_range,
        prompt=prompt_with_history(prompt, history),
        diagnostic=diagnostic,
        model=model,
    )
