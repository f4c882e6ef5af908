"""CrewAI `BaseTool` wrappers over `AgentToolbox` (imports CrewAI: load lazily)."""

from __future__ import annotations

from typing import Any

from llmgenie.agents.crewai_setup import load_crewai
from llmgenie.agents.tools import TOOL_SPECS, AgentToolbox

load_crewai()

from crewai.tools import BaseTool  # noqa: E402  (after the offline environment is set)
from pydantic import PrivateAttr  # noqa: E402


def _never_cache(_args: Any, _result: Any) -> bool:
    """Tool results depend on the live workspace and record proposals: never cache them."""
    return False


class WorkspaceTool(BaseTool):
    """One of our tools as CrewAI sees it; the work is done by the shared toolbox."""

    _toolbox: AgentToolbox = PrivateAttr()

    def _run(self, **kwargs: Any) -> str:
        return self._toolbox.call(self.name, kwargs)


def crewai_tools(toolbox: AgentToolbox, names: tuple[str, ...]) -> list[BaseTool]:
    """CrewAI tools for `names`, bound to `toolbox` (permission is checked per call)."""
    tools: list[BaseTool] = []
    for name in names:
        spec = TOOL_SPECS[name]
        tool = WorkspaceTool(
            name=name,
            description=spec.description,
            args_schema=spec.args,
            cache_function=_never_cache,
        )
        tool._toolbox = toolbox
        tools.append(tool)
    return tools
