"""Roles per team, and which crews and tools each may use.

viewer (read runs and audit) < member (run crews, cancel own runs) < admin (members,
tokens, policy, any run). What a role may run is the local smart wrapper's permission
model: the server's `[permissions]` table applies to every run, and
`[permissions.team_roles.<role>]` narrows it for a role (same keys: `deny_crews`, `deny`,
`roles`), checked at submit and again on every tool call inside the run.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Role = Literal["viewer", "member", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}


class Forbidden(PermissionError):
    """The caller's role in the team does not allow this."""


def at_least(role: str, needed: Role) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def require(role: str | None, needed: Role, what: str) -> None:
    """Raise Forbidden unless `role` is at least `needed`."""
    if role is None or not at_least(role, needed):
        raise Forbidden(f"{what} needs the {needed} role in this team")


def role_policy(base: dict[str, Any], role: str) -> dict[str, Any]:
    """The permission policy for a run submitted by `role`: the server's policy narrowed by
    the role's table (deny lists are unions; a role can never widen the base)."""
    overrides = ((base.get("team_roles") or {}).get(role)) or {}
    policy = {k: v for k, v in base.items() if k != "team_roles"}
    for key in ("deny_crews", "deny"):
        merged = [*_names(policy.get(key)), *_names(overrides.get(key))]
        if merged:
            policy[key] = sorted(set(merged))
    if "roles" in overrides:
        roles = dict(policy.get("roles") or {})
        for agent, rules in (overrides.get("roles") or {}).items():
            current = dict(roles.get(agent) or {})
            current["deny"] = sorted({*_names(current.get("deny")), *_names(rules.get("deny"))})
            if "allow" in rules and "allow" not in current:
                current["allow"] = list(_names(rules.get("allow")))
            roles[agent] = current
        policy["roles"] = roles
    return policy


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
