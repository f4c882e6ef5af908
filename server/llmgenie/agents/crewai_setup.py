"""Load CrewAI with telemetry, tracing and first-run prompts switched off.

CrewAI reads these variables at import and at kickoff; they must be set before the first
`import crewai`, so every module here imports CrewAI through `load_crewai()`.
"""

from __future__ import annotations

import logging
import os
import threading
from types import ModuleType

# Offline-first: no telemetry export, no trace upload, no interactive "enable tracing?"
# prompt (stdin is the LSP channel in stdio mode).
_OFFLINE_ENV = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
    # CrewAI derives its data directory from the current directory's name (and creates it
    # at import); give it one fixed, recognisable name instead.
    "CREWAI_STORAGE_DIR": "llmgenie-crewai",
}

_lock = threading.Lock()


def offline_environment() -> None:
    """Set CrewAI's opt-out variables (only where the user has not chosen otherwise)."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    # Telemetry must stay off even if a user's shell enabled it: nothing leaves the machine.
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"
    os.environ["OTEL_SDK_DISABLED"] = "true"


def load_crewai() -> ModuleType:
    """Import and return the `crewai` module with the offline environment in place."""
    with _lock:
        offline_environment()
        import crewai

        # CrewAI logs a failed step's exception itself ("Error executing listener …"); the
        # run reports every failure once, in its own words, so that copy is noise.
        logging.getLogger("crewai.flow.runtime").setLevel(logging.CRITICAL)
        return crewai


def preload() -> None:
    """Import CrewAI and the crew modules now, so that the first crew does not wait.

    Meant for a background thread once the language server has answered `initialize`
    (importing CrewAI takes several seconds).
    """
    import importlib

    for name in (
        "llmgenie.agents.llm_adapter",
        "llmgenie.agents.crewai_tools",
        "llmgenie.agents.crewai_crew",
    ):
        importlib.import_module(name)
