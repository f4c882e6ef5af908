"""Field types whose validation must match the JSON Schema the contracts publish."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator


def _integral(value: object) -> object:
    """JSON Schema counts 3.0 as an integer; strict pydantic would refuse it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral)]
"""An integer as JSON Schema means it: 3 and 3.0, never "3" or true (even in strict mode)."""
