"""Which tool protocol the CrewAI adapter picks for a model."""

from __future__ import annotations

from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox
from llmgenie.llm.capabilities import supports_native_tools
from tests.agents.conftest import Harness
from tests.support.model_server import Reply


def test_native_function_calling_unless_litellm_knows_better() -> None:
    assert supports_native_tools("openai/gpt-4o-mini") is True
    assert supports_native_tools("openai/some-custom-deployment") is True  # unknown: native
    assert supports_native_tools("ollama/llama2") is False  # known to lack tools: ReAct text


def test_react_text_protocol_runs_tools_through_the_adapter(harness: Harness) -> None:
    """Models without function calling: CrewAI's Thought/Action/Final Answer text format."""
    from crewai import Agent, Task

    from llmgenie.agents.crewai_crew import GenieCrew
    from llmgenie.agents.crewai_tools import crewai_tools
    from llmgenie.agents.llm_adapter import GenieLLM

    harness.server.script(
        Reply.plain(
            "Thought: I should read the function.\nAction: read_file\n"
            'Action Input: {"path": "app/db.py", "start_line": 10, "end_line": 11}\n'
            "Observation: (the model must not invent this)"
        ),
        Reply.plain("Thought: I know it now.\nFinal Answer: It looks a user up by name."),
    )
    env = harness.env()
    state = RunState(ctx=harness.context("explain"), env=env)
    llm = GenieLLM.for_agent(env.client, state, model="", agent_role="Reader")
    llm.native_tools = False
    agent = Agent(
        role="Reader",
        goal="read code",
        backstory="careful",
        llm=llm,
        tools=crewai_tools(AgentToolbox(state, "coordinator"), ("read_file",)),
        max_retry_limit=0,
        respect_context_window=False,
    )
    task = Task(description="What does find_user do?", expected_output="one line", agent=agent)
    output = GenieCrew(agents=[agent], tasks=[task], tracing=False).kickoff()

    assert output.raw == "It looks a user up by name."
    first, second = harness.chat_bodies()
    assert "tools" not in first  # plain completions, the tools are described in the prompt
    assert "Action Input" in str(first["messages"])
    sent = str(second["messages"])
    assert "Observation:" in sent and "def find_user(conn, name):" in sent
    assert "the model must not invent this" not in sent  # cut at the stop word
    assert state.tokens > 0 and state.model_calls == 2
