"""Schemas of llmgenie's command arguments and custom request params (docs/protocol.md),
shared by every server that speaks the protocol (the language server, the team server).

Every handler validates its raw JSON here first, so a wrong type is answered as invalid
params (-32602) naming the field, never a crash deep inside a service.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.ids import TRACEPARENT_PATTERN, CrewName, FeedbackVerdict


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


UINTEGER_MAX = 2**31 - 1  # LSP's uinteger: a larger position is invalid params, not a crash


class WirePosition(_Params):
    line: int = Field(ge=0, le=UINTEGER_MAX)
    character: int = Field(ge=0, le=UINTEGER_MAX)


class WireRange(_Params):
    start: WirePosition
    end: WirePosition


class WireDocument(_Params):
    uri: str = Field(min_length=1)


class HistoryMessage(_Params):
    role: Literal["user", "assistant", "system"]
    content: str


class ChatArgs(_Params):
    prompt: str = Field(min_length=1)
    uri: str | None = None
    range: WireRange | None = None
    history: list[HistoryMessage] = Field(default_factory=list)
    model: str | None = Field(
        None, pattern=r"^\S+$", description="this turn's model (tried first, then the chain)"
    )


class KnowledgeArgs(_Params):
    query: str = Field(min_length=1)
    k: int = Field(5, ge=1, le=20)
    focus: str | None = None


class RunCrewArgs(_Params):
    crew: CrewName
    uri: str | None = None
    range: WireRange | None = None
    diagnostic: str | dict[str, Any] | None = None
    prompt: str = ""
    remote: bool | None = Field(
        None, description="run on the team server (true) or here (false); default: settings"
    )
    traceparent: str | None = Field(
        None,
        pattern=TRACEPARENT_PATTERN,
        description="the editor's W3C trace context: the run's spans join that trace",
    )


class SearchArgs(_Params):
    query: str = Field(min_length=1)
    k: int = Field(10, ge=1, le=200)
    focus: str | None = None


class LocalizeArgs(_Params):
    task: str = Field(min_length=1, description="an issue or task text")
    max_tool_calls: int | None = Field(None, ge=0, le=20)
    focus: str | None = None


class RepoMapArgs(_Params):
    focus: str | None = None
    tokens: int = Field(1024, ge=64, le=32768)


class TeamRunsArgs(_Params):
    limit: int = Field(50, ge=1, le=500)


class RunIdArgs(_Params):
    run_id: str = Field(alias="runId", min_length=1)


class FeedbackArgs(RunIdArgs):
    """A user's verdict on a run's answer (the chat's thumbs up or down)."""

    verdict: FeedbackVerdict
    comment: str | None = Field(None, max_length=2000)


class ContextArgs(_Params):
    text_document: WireDocument = Field(alias="textDocument")
    position: WirePosition


class NoArgs(_Params):
    pass


class ConfigureModelArgs(_Params):
    """`llmgenie.configureModel`: `quiet` when the client shows its own UI for it."""

    quiet: bool = False


P = TypeVar("P", bound=_Params)


def parse_params(model: type[P], raw: Any, what: str) -> P:
    """Validate `raw` against `model` or raise InvalidRequest naming the offending field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{what}: expected an object, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "params"
        raise InvalidRequest(f"{what}: {loc}: {err['msg']}") from exc


def command_argument(arguments: tuple[Any, ...], command: str) -> Any:
    """The single object argument of a command (an absent argument means `{}`)."""
    if len(arguments) > 1:
        raise InvalidRequest(f"{command}: expected one argument object, got {len(arguments)}")
    return arguments[0] if arguments else {}
