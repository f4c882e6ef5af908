"""Step 2, permission check: which agent role may use which tool in this workspace.

The policy is hierarchical: built-in role defaults, narrowed or widened by `[permissions]`
in the user config, then in the workspace's `llmgenie.toml` (the settings loader layers
them, later wins), then workspace trust. Edits are always proposals the user applies; an
untrusted workspace gets read-only tools only. Every refusal is listed in the decision and
audited as `permission_denied`.

    [permissions]
    trusted = true                 # false: read-only tools for every agent
    deny = ["propose_edit"]        # for every role
    deny_crews = ["devops"]        # crews that may not run here at all
    [permissions.roles.security]
    allow = ["search_code", "read_file", "report_finding"]   # replaces the role's tools
    deny = ["search_knowledge"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from llmgenie.contracts.agents import PermissionDecision
from llmgenie.contracts.errors import PermissionDenied
from llmgenie.contracts.runs import RunRequest

# Mirrors llmgenie.agents.roles (used when the agents package cannot be imported).
_READ_TOOLS = (
    "localize",
    "search_code",
    "read_file",
    "list_symbols",
    "find_references",
    "repo_map",
    "search_knowledge",
)
_FALLBACK_EXTRA = {
    "coordinator": ("propose_edit", "report_finding"),
    "devops": ("propose_edit", "report_finding"),
    "security": ("report_finding",),
    "performance": ("report_finding",),
    "documentation": ("propose_edit",),
}


def _defaults() -> tuple[dict[str, list[str]], tuple[str, ...]]:
    try:
        from llmgenie.agents.roles import READ_TOOLS, default_allowed_tools
    except ImportError:
        defaults = {role: [*_READ_TOOLS, *extra] for role, extra in _FALLBACK_EXTRA.items()}
        return defaults, _READ_TOOLS
    return default_allowed_tools(), tuple(READ_TOOLS)


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"permissions: {where} must be a list of names, got {value!r}")


def check_permissions(
    request: RunRequest,
    policy: dict[str, Any],
    *,
    trusted: bool = True,
    audit: Callable[[str, dict[str, object]], None] | None = None,
) -> PermissionDecision:
    """Apply the policy to the built-in defaults; raise PermissionDenied if the crew is refused."""
    allowed, read_tools = _defaults()
    known_tools = {tool for tools in allowed.values() for tool in tools}
    denied: list[str] = []

    def refuse(message: str, **data: object) -> None:
        denied.append(message)
        if audit is not None:
            audit("permission_denied", {"reason": message, **data})

    if request.crew in _names(policy.get("deny_crews"), "deny_crews"):
        refuse(f"crew {request.crew!r} is denied by the workspace policy", crew=request.crew)
        raise PermissionDenied(
            f"the {request.crew} crew is not allowed in this workspace "
            "(permissions.deny_crews in llmgenie.toml)"
        )

    roles_policy = policy.get("roles") or {}
    if not isinstance(roles_policy, dict):
        raise ValueError("permissions.roles must be a table of role -> {allow, deny}")
    for role, rules in roles_policy.items():
        if role not in allowed:
            refuse(f"unknown role {role!r} in permissions.roles (ignored)", role=role)
            continue
        if "allow" in rules:
            wanted = _names(rules["allow"], f"roles.{role}.allow")
            unknown = [t for t in wanted if t not in known_tools]
            for tool in unknown:
                refuse(f"{role}: unknown tool {tool!r} in allow (ignored)", role=role, tool=tool)
            allowed[role] = [t for t in wanted if t in known_tools]
        for tool in _names(rules.get("deny"), f"roles.{role}.deny"):
            if tool in allowed[role]:
                allowed[role].remove(tool)
                refuse(f"{role}: {tool} denied by policy", role=role, tool=tool)

    for tool in _names(policy.get("deny"), "deny"):
        for role, tools in allowed.items():
            if tool in tools:
                tools.remove(tool)
                refuse(f"{role}: {tool} denied by policy (all roles)", role=role, tool=tool)

    workspace_trusted = trusted and bool(policy.get("trusted", True))
    if not workspace_trusted:
        for role, tools in allowed.items():
            writable = [t for t in tools if t not in read_tools]
            if writable:
                allowed[role] = [t for t in tools if t in read_tools]
                refuse(
                    f"{role}: {', '.join(writable)} not allowed in an untrusted workspace "
                    "(read-only tools only)",
                    role=role,
                    tools=writable,
                )
    return PermissionDecision(
        allowed_tools=allowed, denied=denied, trusted_workspace=workspace_trusted
    )
