"""Import litellm lazily (it takes seconds) with every network side effect switched off."""

from __future__ import annotations

import os
import threading
from types import ModuleType

_lock = threading.Lock()
_module: ModuleType | None = None


def load_litellm() -> ModuleType:
    """The configured `litellm` module: local cost map, no telemetry, no callbacks, quiet."""
    global _module
    with _lock:
        if _module is not None:
            return _module
        # Must be set before import: otherwise litellm fetches its cost map from GitHub.
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        os.environ.setdefault("LITELLM_LOG", "ERROR")
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True  # it would otherwise print hints to stdout
        litellm.drop_params = True  # a provider that lacks a param must not fail the call
        litellm.num_retries = 0  # retries and fallbacks are ours (llm/client.py)
        litellm.success_callback = []
        litellm.failure_callback = []
        litellm.callbacks = []
        _module = litellm
        return litellm
