"""The full review: a hierarchical CrewAI crew whose manager (the coordinator) delegates to
the specialists and merges their results. Each agent has its own model (per-agent routing),
so the scripted server answers each agent from its own queue."""

from __future__ import annotations

from llmgenie.agents.crews import execute_crew
from tests.agents.conftest import SQL_LINE, Harness, final, system_prompt, tool_messages
from tests.support.model_server import Reply

DELEGATE = "delegate_work_to_coworker"  # CrewAI's delegation tool, as named on the wire


def test_review_delegates_to_specialists_and_merges_their_results(harness: Harness) -> None:
    harness.agent_models = {
        "coordinator": "openai/boss-model",
        "security": "openai/security-model",
        "performance": "openai/perf-model",
    }
    server = harness.server
    server.script(
        Reply.tool_call(
            DELEGATE,
            {
                "task": "Review app/db.py for injection vulnerabilities.",
                "context": "The file builds SQL queries; report findings with CWE ids.",
                "coworker": "Security Engineer",
            },
        ),
        Reply.tool_call(
            DELEGATE,
            {
                "task": "Review app/db.py for slow code.",
                "context": "Look at common_names.",
                "coworker": "Performance Engineer",
            },
        ),
        final(
            "## Review of app/db.py\n1. SQL injection (critical)\n2. Quadratic loop",
            edits=[
                {
                    "path": "app/db.py",
                    "old_text": "def connect(path):\n",
                    "new_text": 'def connect(path):\n    """Open the database."""\n',
                }
            ],
        ),
        model="boss-model",
    )
    server.script(
        Reply.tool_call(
            "report_finding",
            {
                "path": "app/db.py",
                "start_line": SQL_LINE,
                "severity": "error",
                "rule": "CWE-89",
                "message": "f-string SQL with user input",
                "fix": "use a parameterised query",
            },
        ),
        Reply.plain("Found one SQL injection (CWE-89) at app/db.py:12, recorded."),
        model="security-model",
    )
    server.script(
        Reply.tool_call(
            "report_finding",
            {
                "path": "app/db.py",
                "start_line": 17,
                "end_line": 20,
                "rule": "PERF-quadratic-loop",
                "message": "list membership tests inside a loop",
            },
        ),
        Reply.plain("One quadratic loop in common_names, recorded."),
        model="perf-model",
    )

    result = execute_crew(harness.context("review"), harness.env())

    boss = harness.chat_bodies("boss-model")
    security = harness.chat_bodies("security-model")
    perf = harness.chat_bodies("perf-model")
    assert (len(boss), len(security), len(perf)) == (3, 2, 2)
    assert "You are Engineering Lead (BOSS)" in system_prompt(boss[0])
    offered = {t["function"]["name"] for t in boss[0]["tools"]}
    assert DELEGATE in offered and "read_file" not in offered  # the manager only delegates
    assert "You are Security Engineer" in system_prompt(security[0])
    # Only the manager's answer is the JSON report; specialists answer it in prose.
    assert all(body.get("response_format") == {"type": "json_object"} for body in boss)
    assert not any("response_format" in body for body in security + perf)
    assert "Review app/db.py for injection vulnerabilities." in str(security[0]["messages"])
    # the specialist's answer came back to the manager as the delegation's result
    assert "Found one SQL injection" in tool_messages(boss[1])[-1]
    assert sorted((f.rule, f.start_line) for f in result.findings) == [
        ("CWE-89", SQL_LINE),
        ("PERF-quadratic-loop", 17),
    ]
    assert [e.path for e in result.edits] == ["app/db.py"]
    assert result.message.startswith("## Review of app/db.py")
    working = [
        e.data.get("agent") for e in harness.recorder.events if e.data.get("stage") == "agent"
    ]
    assert working[:3] == [
        "Engineering Lead (BOSS)",
        "Security Engineer",
        "Engineering Lead (BOSS)",
    ]
    assert "Performance Engineer" in working
    assert result.model == "openai/boss-model"


def test_review_managers_prose_summary_is_the_message(harness: Harness) -> None:
    """The review's result is its summary: Markdown prose is accepted on the first attempt."""
    harness.agent_models = {"coordinator": "openai/boss-model"}
    harness.server.script(Reply.plain("## Review\nEverything looks fine."), model="boss-model")
    result = execute_crew(harness.context("review"), harness.env())

    assert result.message == "## Review\nEverything looks fine."
    assert len(harness.chat_bodies("boss-model")) == 1


def test_review_managers_broken_json_is_retried(harness: Harness) -> None:
    harness.agent_models = {"coordinator": "openai/boss-model"}
    harness.server.script(
        Reply.plain('{"message": 42, "edits": ['),  # JSON, but no usable message
        final("Everything looks fine."),
        model="boss-model",
    )
    result = execute_crew(harness.context("review"), harness.env())

    assert result.message == "Everything looks fine."
    boss = harness.chat_bodies("boss-model")
    assert len(boss) == 2 and "Still missing: the message" in str(boss[1]["messages"])
