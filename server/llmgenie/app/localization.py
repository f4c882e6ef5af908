"""Localize a task in an open workspace: the front doors' way to `agents.localize`.

The MCP `localize` tool and `llmgenie localize` only convert; this module picks the
engine, brings open buffers in, builds the model client from the folder's settings (the
configured chain with its fallbacks, budget and timeouts; secrets redacted before any call)
and runs the Localizer off the event loop. With no model configured the result is the
engine's search ranking, with a note saying how to configure one.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from llmgenie.app.application import Application
from llmgenie.app.folders import Folder
from llmgenie.config import Settings
from llmgenie.contracts.localization import Localization
from llmgenie.contracts.progress import CancelToken

if TYPE_CHECKING:
    from llmgenie.agents.localize import LocalizeLimits
    from llmgenie.engine import WorkspaceEngine

NO_MODEL_NOTE = (
    "no model is configured (set llm.model, e.g. LLMGENIE_LLM__MODEL=openai/gpt-4o-mini)"
)


def localize_in(
    engine: WorkspaceEngine,
    settings: Settings,
    text: str,
    *,
    model: str | None = None,
    focus: str | None = None,
    limits: LocalizeLimits | None = None,
    cancel: CancelToken | None = None,
) -> Localization:
    """Localize `text` in `engine`'s workspace with the model `settings` configure (`model`
    tried first); blocking. InvalidRequest for an empty text; Cancelled when cancelled."""
    from llmgenie.agents.localize import Localizer
    from llmgenie.contracts.errors import NoModelConfigured
    from llmgenie.llm.client import ModelClient
    from llmgenie.wrapper.environment import make_redactor

    redactor = make_redactor(settings)
    try:
        client = ModelClient.from_settings(settings, model=model, redact=redactor, cancel=cancel)
    except NoModelConfigured:
        client = None
    localizer = Localizer(
        engine, client, limits=limits, focus=focus, redact=redactor, no_model_note=NO_MODEL_NOTE
    )
    return localizer.localize(text)


async def localize(
    app: Application,
    text: str,
    *,
    model: str | None = None,
    focus: Path | None = None,
    max_tool_calls: int | None = None,
) -> tuple[Folder, Localization]:
    """Localize `text` in the focus file's folder (else the first one), seeing every buffer
    the user typed into. Cancelling the awaiting task cancels the model call in flight."""
    from llmgenie.agents.localize import LocalizeLimits

    folder, rel = app.locate(focus) if focus is not None else (app.registry.primary(), None)
    engine = await app.engine(folder)
    assert folder is not None
    await app.documents.flush_all()
    limits = LocalizeLimits() if max_tool_calls is None else LocalizeLimits(max_tool_calls)
    cancel = CancelToken()
    work = functools.partial(
        localize_in,
        engine,
        folder.settings,
        text,
        model=model,
        focus=rel,
        limits=limits,
        cancel=cancel,
    )
    try:
        return folder, await app.in_pool(work)
    except asyncio.CancelledError:
        cancel.cancel()
        raise
