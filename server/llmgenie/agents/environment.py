"""RunEnvironment: everything a crew needs to execute, prepared by the smart wrapper.

The wrapper (the layer above) builds one per run from the settings and the permission
decision; the crews only use it, so they never touch settings or provider keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmgenie.contracts.agents import PermissionDecision
from llmgenie.contracts.progress import CancelToken
from llmgenie.contracts.runs import RunEvent
from llmgenie.llm.models import ModelClientProtocol

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine


@dataclass
class RunEnvironment:
    """Step 3 output: the run's engine, model client, permissions, redaction and hooks."""

    engine: WorkspaceEngine
    client: ModelClientProtocol
    agent_models: dict[str, str]
    permissions: PermissionDecision
    redact: Callable[[str], str]
    emit: Callable[[RunEvent], None]
    cancel: CancelToken = field(default_factory=CancelToken)
    audit: Callable[[str, dict[str, object]], None] = lambda action, data: None
