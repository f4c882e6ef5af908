"""The five roles of the crew, as data: who they are, what they may use, which model.

The smart wrapper's permission step starts from `default_allowed_tools()` and narrows it
with the workspace policy; crews attach each role's tools and the tools re-check the
decision at call time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmgenie.agents.knowledge import Topic

RoleKey = Literal["coordinator", "devops", "security", "performance", "documentation"]

READ_TOOLS: tuple[str, ...] = (
    "localize",
    "search_code",
    "read_file",
    "list_symbols",
    "find_references",
    "repo_map",
    "search_knowledge",
)
ALL_TOOLS: tuple[str, ...] = (*READ_TOOLS, "propose_edit", "report_finding")


@dataclass(frozen=True)
class RoleSpec:
    """One agent role: its CrewAI persona, its tools and its knowledge topic."""

    key: RoleKey
    role: str
    goal: str
    backstory: str
    tools: tuple[str, ...]
    topic: Topic | None = None


ROLES: dict[RoleKey, RoleSpec] = {
    "coordinator": RoleSpec(
        key="coordinator",
        role="Engineering Lead (BOSS)",
        goal=(
            "Understand the request, plan the work, delegate each part to the right "
            "specialist, and merge their results into one clear, correct answer"
        ),
        backstory=(
            "You lead a small senior team inside the user's editor. You read code before "
            "judging it, you split work by expertise (DevOps, Security, Performance, "
            "Documentation), you never invent file contents, and you deliver concise "
            "results the user can act on: exact edits and precise findings."
        ),
        tools=ALL_TOOLS,
    ),
    "devops": RoleSpec(
        key="devops",
        role="DevOps Engineer",
        goal=(
            "Make the project build, ship and run reliably: containers, CI/CD pipelines, "
            "Kubernetes manifests and infrastructure as code"
        ),
        backstory=(
            "You have containerised and deployed many services. You write small, "
            "reproducible Dockerfiles (pinned bases, multi-stage, non-root), CI that "
            "caches and tests, and Kubernetes manifests with probes, limits and least "
            "privilege. You base changes on the project's actual layout and tooling."
        ),
        tools=ALL_TOOLS,
        topic="devops",
    ),
    "security": RoleSpec(
        key="security",
        role="Security Engineer",
        goal=(
            "Find real vulnerabilities, leaked secrets and insecure configuration, each "
            "with its CWE id, exact location, severity and a concrete fix"
        ),
        backstory=(
            "You are an application-security reviewer who knows the OWASP Top 10 and the "
            "CWE catalogue. You trace untrusted input to dangerous sinks, report only what "
            "the code shows (no speculation), and cite the exact lines."
        ),
        tools=(*READ_TOOLS, "report_finding"),
        topic="security",
    ),
    "performance": RoleSpec(
        key="performance",
        role="Performance Engineer",
        goal=(
            "Find the hot paths and fix what makes them slow: algorithmic complexity, "
            "needless I/O, blocking calls, allocations and memory growth"
        ),
        backstory=(
            "You profile before you optimise. You spot quadratic loops, N+1 queries, "
            "blocking I/O in async code and unbounded caches by reading code, estimate "
            "their cost, and propose the simplest change that removes it."
        ),
        tools=(*READ_TOOLS, "report_finding"),
        topic="performance",
    ),
    "documentation": RoleSpec(
        key="documentation",
        role="Technical Writer",
        goal=(
            "Explain code accurately and document it: docstrings in the project's style, "
            "READMEs and architecture notes that stay true to the code"
        ),
        backstory=(
            "You are an engineer who writes. You read the implementation before describing "
            "it, follow the docstring style already used in the file (Google, NumPy, reST, "
            "JSDoc), and keep documentation short, precise and useful."
        ),
        tools=(*READ_TOOLS, "propose_edit"),
        topic="documentation",
    ),
}

SPECIALISTS: tuple[RoleKey, ...] = ("devops", "security", "performance", "documentation")


def default_allowed_tools() -> dict[str, list[str]]:
    """Each role's tools before any workspace policy narrows them."""
    return {key: list(spec.tools) for key, spec in ROLES.items()}


def model_for(role: RoleKey, agent_models: dict[str, str]) -> str | None:
    """The model configured for `role` (by key or title), else the run's default."""
    spec = ROLES[role]
    return agent_models.get(role) or agent_models.get(spec.role) or agent_models.get("default")
