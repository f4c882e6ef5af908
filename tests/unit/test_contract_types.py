"""Run submissions validate as their published JSON Schema says (schemathesis found 3.0)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmgenie.contracts.team import RunSubmission


def _submission(end_line: str) -> str:
    return '{"crew": "chat", "range": {"start_line": 3, "end_line": ' + end_line + "}}"


def test_an_integral_float_is_an_integer_as_json_schema_says() -> None:
    run = RunSubmission.model_validate_json(_submission("12.0"), strict=True)
    assert run.range is not None and run.range.end_line == 12
    assert isinstance(run.range.end_line, int)


@pytest.mark.parametrize("value", ['"12"', "true", "12.5", "0"])
def test_strings_booleans_fractions_and_line_zero_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        RunSubmission.model_validate_json(_submission(value), strict=True)
