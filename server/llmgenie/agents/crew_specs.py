"""What each crew does, as data: who leads, what they are asked, what their answer needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from llmgenie.agents.results import ReportPolicy
from llmgenie.agents.roles import SPECIALISTS, RoleKey
from llmgenie.contracts.ids import CrewName


@dataclass(frozen=True)
class CrewSpec:
    """One crew: its lead agent (the manager when hierarchical), instructions and policy."""

    name: CrewName
    lead: RoleKey
    instructions: str
    policy: ReportPolicy = field(default_factory=ReportPolicy)
    members: tuple[RoleKey, ...] = ()
    # Output-token limit per model call, sized to what the answer needs: without one a
    # small model rambles until its context is full (LLMGENIE_MODEL_MAX_TOKENS overrides).
    max_output_tokens: int = 2000
    # A task that names no file (a prompt, no path) is localized before the agents start
    # (the `localize` tool), and the ranked files and functions go into the briefing.
    localize_first: bool = False

    @property
    def hierarchical(self) -> bool:
        return bool(self.members)


CREWS: dict[str, CrewSpec] = {
    spec.name: spec
    for spec in (
        CrewSpec(
            name="explain",
            max_output_tokens=1200,
            lead="documentation",
            instructions=(
                "Explain the selected code (or the file) to a developer new to it: what it "
                "does, how it works step by step, its inputs, outputs and side effects, and "
                "anything surprising. Read related code with the tools when it matters. Put "
                "the explanation in 'message'; propose no edits."
            ),
            policy=ReportPolicy(message_crew=True),
        ),
        CrewSpec(
            name="document",
            max_output_tokens=2500,
            lead="documentation",
            instructions=(
                "Write documentation for the selected code: a docstring (or JSDoc/comment) "
                "for each undocumented function, class or module in the selection, in the "
                "style the file already uses (Google style if none). Describe behaviour, "
                "parameters, return values and raised errors accurately. Deliver each "
                "docstring as an edit whose old_text is the exact definition line(s) it "
                "attaches to."
            ),
            policy=ReportPolicy(require_edits=True),
        ),
        CrewSpec(
            name="tests",
            localize_first=True,
            max_output_tokens=3000,
            lead="coordinator",
            instructions=(
                "Write unit tests for the selected code with the project's test framework "
                "(find existing tests with search_code; pytest for Python, the configured "
                "runner for JS/TS). Cover normal cases, edge cases and errors. Deliver the "
                "tests as edits: append to an existing test file (old_text = its last lines) "
                "or create a new one (empty old_text) in the project's test directory."
            ),
            policy=ReportPolicy(require_edits=True),
        ),
        CrewSpec(
            name="refactor",
            localize_first=True,
            max_output_tokens=3000,
            lead="coordinator",
            instructions=(
                "Refactor the selected code for clarity and maintainability without changing "
                "its behaviour: better names, smaller functions, less duplication, simpler "
                "control flow. Check callers with find_references before changing a "
                "signature. Deliver the change as edits and explain it in 'message'."
            ),
            policy=ReportPolicy(require_edits=True),
        ),
        CrewSpec(
            name="fix",
            localize_first=True,
            max_output_tokens=2000,
            lead="coordinator",
            instructions=(
                "Fix the diagnostic reported at the selected lines. Find the root cause "
                "(read the code around it and what it calls), make the smallest correct "
                "change, and explain the cause and the fix in 'message'."
            ),
            policy=ReportPolicy(require_edits=True),
        ),
        CrewSpec(
            name="security",
            max_output_tokens=2000,
            lead="security",
            instructions=(
                "Review the code for security problems: injection (SQL, OS command, code), "
                "XSS, path traversal, hard-coded secrets, insecure deserialization, SSRF, "
                "weak cryptography, missing authorization, insecure configuration. Use "
                "search_knowledge for the checklist. Report each real problem as a finding "
                "with its CWE id as the rule (e.g. CWE-89), exact lines, severity and a "
                "concrete fix. Summarise the risk in 'message'."
            ),
            policy=ReportPolicy(finding_rule="cwe"),
        ),
        CrewSpec(
            name="performance",
            max_output_tokens=2000,
            lead="performance",
            instructions=(
                "Review the code for performance problems: algorithmic complexity (nested "
                "loops over the same data), N+1 queries, blocking I/O in async code, "
                "repeated work in loops (regex compilation, string concatenation), "
                "unbounded caches and memory growth. Report each as a finding with a rule "
                "id like PERF-quadratic-loop, exact lines and a concrete fix; estimate the "
                "impact in 'message'."
            ),
        ),
        CrewSpec(
            name="devops",
            max_output_tokens=3000,
            lead="devops",
            instructions=(
                "Containerize the project and set up CI: inspect the project (language, "
                "package manager, entry point, tests) and propose a production-ready "
                "Dockerfile, a .dockerignore and a CI workflow (GitHub Actions unless the "
                "project uses another CI) as edits (empty old_text for new files), or fix "
                "the existing ones. Report problems in existing files as findings."
            ),
        ),
        CrewSpec(
            name="review",
            max_output_tokens=2500,
            lead="coordinator",
            instructions=(
                "Lead a full review of the code. Plan first, then delegate to your "
                "specialists with the delegation tool: the Security Engineer (vulnerabilities, "
                "with CWE ids), the Performance Engineer (hot paths), the Technical Writer "
                "(missing or wrong documentation) and, when the project has deployment "
                "files, the DevOps Engineer. Give each the file path and what to look at. "
                "Specialists record their findings and edits themselves. Finally merge "
                "their results: a prioritised summary in 'message' and any additional "
                "findings or edits not already recorded."
            ),
            policy=ReportPolicy(message_crew=True),
            members=SPECIALISTS,
        ),
    )
}
