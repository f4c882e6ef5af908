"""Every name the protocol fixes: crews, commands, custom methods, code-action kinds.

This is the one source of truth for these lists. The language server, the CLI, the team
server and the editor extension all read them from here (the extension through the
generated `extensions/vscode/src/core/generated/catalog.ts`, checked by a test).
Standard library only: `lsp/fastinit.py` imports it before pydantic or pygls load.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import Literal, get_args

CrewName = Literal[
    "explain", "document", "tests", "refactor", "fix", "security", "performance", "devops",
    "review", "chat",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class CrewInfo:
    """One crew as users see it: palette label, what it does, where it is offered."""

    id: CrewName
    label: str
    detail: str
    action_kind: str | None
    """The LSP code-action kind of the crew's actions (None: not offered as an action)."""
    palette: bool = True
    """Offered in the editor's "Run a crew" picker."""
    needs_prompt: bool = False
    """The crew needs a free-form request from the user."""
    heavy: bool = False
    """Long multi-agent work worth running on a team server."""


QUICKFIX_KIND = "quickfix"

CREWS: tuple[CrewInfo, ...] = (
    CrewInfo("explain", "Explain", "Explain the selected code or the current file",
             "refactor.llmgenie.explain"),
    CrewInfo("document", "Document", "Write docstrings/comments for the selection",
             "refactor.rewrite.llmgenie.document"),
    CrewInfo("tests", "Write tests", "Write unit tests for the selection",
             "refactor.llmgenie.tests"),
    CrewInfo("refactor", "Refactor", "Propose a refactoring of the selection",
             "refactor.rewrite.llmgenie.refactor"),
    CrewInfo("fix", "Fix", "Fix a diagnostic at the cursor", QUICKFIX_KIND, palette=False),
    CrewInfo("security", "Security review", "Look for vulnerabilities (findings in Problems)",
             "source.llmgenie.security", heavy=True),
    CrewInfo("performance", "Performance review", "Look for performance problems",
             "source.llmgenie.performance"),
    CrewInfo("devops", "Containerize / add CI", "Dockerfile, CI config, deployment",
             "source.llmgenie.devops", heavy=True),
    CrewInfo("review", "Ask the coordinator", "Free-form request to the whole crew",
             "refactor.llmgenie.review", needs_prompt=True, heavy=True),
    CrewInfo("chat", "Chat", "One chat turn with the coordinator's tools", None,
             palette=False),
)  # fmt: skip

CREW_IDS: tuple[CrewName, ...] = get_args(CrewName)
CREW_BY_ID: dict[str, CrewInfo] = {crew.id: crew for crew in CREWS}

# The kinds the server advertises: the crews' kinds and every parent kind clients filter by.
CODE_ACTION_KINDS: tuple[str, ...] = (
    QUICKFIX_KIND, "refactor", "refactor.rewrite", "refactor.llmgenie", "source",
    "source.llmgenie",
)  # fmt: skip

# A W3C trace context (version-traceid-parentid-flags), as a run request carries it.
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

# workspace/executeCommand: things a user does (any LSP client can bind them).
COMMAND_RUN_CREW = "llmgenie.runCrew"
COMMAND_REINDEX = "llmgenie.reindex"
COMMAND_PAUSE_INDEXING = "llmgenie.pauseIndexing"
COMMAND_RESUME_INDEXING = "llmgenie.resumeIndexing"
COMMAND_CONFIGURE_MODEL = "llmgenie.configureModel"  # no model yet: how to set one
COMMANDS: tuple[str, ...] = (
    COMMAND_RUN_CREW, COMMAND_REINDEX, COMMAND_PAUSE_INDEXING, COMMAND_RESUME_INDEXING,
    COMMAND_CONFIGURE_MODEL,
)  # fmt: skip

# Custom requests: things a client asks (answers carry data; $/cancelRequest works).
METHOD_CHAT = "llmgenie/chat"
METHOD_SEARCH = "llmgenie/search"
METHOD_CONTEXT = "llmgenie/context"
METHOD_REPO_MAP = "llmgenie/repoMap"
METHOD_RUNS_LIST = "llmgenie/runs/list"
METHOD_RUNS_STATUS = "llmgenie/runs/status"
METHOD_RUNS_CANCEL = "llmgenie/runs/cancel"
METHOD_HEALTH = "llmgenie/health"
METHOD_TEAM_RUNS = "llmgenie/team/runs"
METHOD_LOCALIZE = "llmgenie/localize"
METHOD_RUNS_FEEDBACK = "llmgenie/runs/feedback"
METHOD_KNOWLEDGE = "llmgenie/knowledge"
REQUESTS: tuple[str, ...] = (
    METHOD_CHAT, METHOD_SEARCH, METHOD_CONTEXT, METHOD_REPO_MAP, METHOD_RUNS_LIST,
    METHOD_RUNS_STATUS, METHOD_RUNS_CANCEL, METHOD_HEALTH, METHOD_TEAM_RUNS, METHOD_LOCALIZE,
    METHOD_RUNS_FEEDBACK, METHOD_KNOWLEDGE,
)  # fmt: skip

# A user's verdict on an agent's answer (the chat's thumbs): a metric label, so a fixed set.
FeedbackVerdict = Literal["helpful", "unhelpful"]
FEEDBACK_VERDICTS: tuple[FeedbackVerdict, ...] = get_args(FeedbackVerdict)

# The team server's protocol (docs/team-server.md): the same methods as above over a
# WebSocket, plus these. Requests a client sends to the team server:
METHOD_AUTHENTICATE = "llmgenie/authenticate"
METHOD_RUNS_EVENTS = "llmgenie/runs/events"
METHOD_RUNS_SUBSCRIBE = "llmgenie/runs/subscribe"
TEAM_REQUESTS: tuple[str, ...] = (METHOD_AUTHENTICATE, METHOD_RUNS_EVENTS, METHOD_RUNS_SUBSCRIBE)

# ...and requests the team server sends back to the editor while a delegated run works:
# the agents' view of the developer's index, answered from it (redacted) with a deadline.
CALLBACK_READ_FILE = "llmgenie/workspace/readFile"
CALLBACK_SEARCH = "llmgenie/workspace/search"
CALLBACK_SYMBOLS = "llmgenie/workspace/symbols"
CALLBACK_DEFINITIONS = "llmgenie/workspace/definitions"
CALLBACK_REFERENCES = "llmgenie/workspace/references"
CALLBACK_REPO_MAP = "llmgenie/workspace/repoMap"
CALLBACKS: tuple[str, ...] = (
    CALLBACK_READ_FILE, CALLBACK_SEARCH, CALLBACK_SYMBOLS, CALLBACK_DEFINITIONS,
    CALLBACK_REFERENCES, CALLBACK_REPO_MAP,
)  # fmt: skip

# WebSocket close code for an authentication failure: clients stop retrying and ask the
# user to sign in again (never confused with a network drop).
CLOSE_AUTH_FAILED = 4001

# Notifications the server sends.
NOTIFY_STATUS = "llmgenie/status"
NOTIFY_RUN_EVENT = "llmgenie/runEvent"
NOTIFICATIONS: tuple[str, ...] = (NOTIFY_STATUS, NOTIFY_RUN_EVENT)

RunEventKind = Literal["status", "delta", "tool", "progress", "result", "error"]
RUN_EVENT_KINDS: tuple[str, ...] = get_args(RunEventKind)


def catalog() -> dict[str, object]:
    """Every list above as one JSON-ready object (what the extension is generated from)."""
    return {
        "crews": [asdict(crew) for crew in CREWS],
        "codeActionKinds": list(CODE_ACTION_KINDS),
        "commands": {
            "runCrew": COMMAND_RUN_CREW,
            "reindex": COMMAND_REINDEX,
            "pauseIndexing": COMMAND_PAUSE_INDEXING,
            "resumeIndexing": COMMAND_RESUME_INDEXING,
            "configureModel": COMMAND_CONFIGURE_MODEL,
        },
        "methods": {
            "chat": METHOD_CHAT,
            "search": METHOD_SEARCH,
            "context": METHOD_CONTEXT,
            "repoMap": METHOD_REPO_MAP,
            "runsList": METHOD_RUNS_LIST,
            "runsStatus": METHOD_RUNS_STATUS,
            "runsCancel": METHOD_RUNS_CANCEL,
            "health": METHOD_HEALTH,
            "teamRuns": METHOD_TEAM_RUNS,
            "localize": METHOD_LOCALIZE,
            "runsFeedback": METHOD_RUNS_FEEDBACK,
            "knowledge": METHOD_KNOWLEDGE,
            "status": NOTIFY_STATUS,
            "runEvent": NOTIFY_RUN_EVENT,
        },
        "runEventKinds": list(RUN_EVENT_KINDS),
        "feedbackVerdicts": list(FEEDBACK_VERDICTS),
    }


def typescript() -> str:
    """The extension's generated catalog module (`python -m llmgenie.contracts.ids`)."""
    data = catalog()
    lines = [
        "// Generated by `python -m llmgenie.contracts.ids > "
        "extensions/vscode/src/core/generated/catalog.ts`.",
        "// Do not edit: the server's llmgenie/contracts/ids.py is the source of truth",
        "// (tests/unit/test_catalog.py fails when this file is out of date).",
        "",
        "export interface CrewInfo {",
        "  id: string;",
        "  label: string;",
        "  detail: string;",
        "  action_kind: string | null;",
        "  palette: boolean;",
        "  needs_prompt: boolean;",
        "  heavy: boolean;",
        "}",
        "",
    ]
    for key, ts_name, ts_type in (
        ("crews", "CREW_CATALOG", "ReadonlyArray<CrewInfo>"),
        ("codeActionKinds", "CODE_ACTION_KINDS", "ReadonlyArray<string>"),
        ("commands", "SERVER_COMMANDS", None),
        ("methods", "METHODS", None),
        ("runEventKinds", "RUN_EVENT_KINDS", None),
        ("feedbackVerdicts", "FEEDBACK_VERDICTS", None),
    ):
        body = json.dumps(data[key], indent=2)
        if ts_type is None:
            lines.append(f"export const {ts_name} = {body} as const;")
        else:
            lines.append(f"export const {ts_name}: {ts_type} = {body};")
        lines.append("")
    lines.append("export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];")
    lines.append("export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(typescript())
