"""The cattrs converter: lsprotocol types as usual, custom (llmgenie/…) params as plain dicts.

pygls' default turns untyped params into namedtuples, which renames keys that are Python
keywords and hides the JSON shape; llmgenie validates plain dicts with pydantic instead.
"""

from __future__ import annotations

from typing import Any

import cattrs
from lsprotocol import converters
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage


def _keep_raw(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(**obj)


def make_converter() -> cattrs.Converter:
    """lsprotocol's converter with JSON-RPC messages of unknown methods kept as raw JSON."""
    converter = converters.get_converter()
    for message_type in (JsonRPCRequestMessage, JsonRPCResponseMessage, JsonRPCNotification):
        converter.register_structure_hook(message_type, _keep_raw)
    return converter
