"""What to tell a user who has no model configured: a running Ollama, if there is one.

One function for every adapter (the language server's status, `llmgenie doctor`, the
no-model error of a run), so they all say the same. Detection takes at most half a
second and never raises (llm/local.py); call it off the event loop.
"""

from __future__ import annotations

from pydantic import BaseModel

from llmgenie.llm.local import detect_ollama, suggest_model


class LocalModelOffer(BaseModel):
    """A local model the user could use right away, and how to say so."""

    model: str | None  # the litellm model string; None: Ollama runs but has no chat model
    url: str
    message: str


def offer_local_model() -> LocalModelOffer | None:
    """A running Ollama's best model for the crews, or None when no Ollama answers."""
    ollama = detect_ollama()
    if ollama is None:
        return None
    suggested = suggest_model(ollama.models)
    if suggested is None:
        return LocalModelOffer(
            model=None,
            url=ollama.url,
            message=(
                f"Ollama is running at {ollama.url} without a chat model: "
                "`ollama pull qwen2.5-coder:1.5b`, then set LLMGENIE_LLM__MODEL to it"
            ),
        )
    return LocalModelOffer(
        model=suggested.model,
        url=ollama.url,
        message=(
            f"Ollama is running at {ollama.url} with {suggested.name}: set "
            f"LLMGENIE_LLM__MODEL={suggested.model} (or llm.model in llmgenie.toml) to use it"
        ),
    )
