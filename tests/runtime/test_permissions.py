"""The hierarchical permission policy: defaults < user < workspace, trust, denials."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.contracts.errors import PermissionDenied
from llmgenie.contracts.runs import RunRequest
from llmgenie.wrapper.permissions import check_permissions


def _request(crew: str = "security") -> RunRequest:
    return RunRequest.model_validate({"crew": crew, "workspace": "/tmp"})


def test_defaults_let_every_role_read_and_the_writers_propose() -> None:
    decision = check_permissions(_request(), {})
    assert decision.trusted_workspace and decision.denied == []
    for tools in decision.allowed_tools.values():
        assert {"read_file", "search_code"} <= set(tools)
    assert "propose_edit" in decision.allowed_tools["documentation"]
    assert "report_finding" in decision.allowed_tools["security"]


def test_workspace_policy_overrides_the_user_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user.toml"
    user.write_text(
        '[permissions]\ndeny = ["search_knowledge"]\n'
        '[permissions.roles.security]\ndeny = ["propose_edit"]\n'
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "llmgenie.toml").write_text(
        '[permissions.roles.security]\nallow = ["read_file", "report_finding"]\n'
    )
    monkeypatch.setenv("LLMGENIE_CONFIG_FILE", str(user))
    settings = load_settings(ws)
    audited: list[tuple[str, dict[str, object]]] = []
    decision = check_permissions(
        _request(), settings.permissions, audit=lambda a, d: audited.append((a, d))
    )
    # workspace `allow` replaced the security role's tools; the user's global deny still applies
    assert decision.allowed_tools["security"] == ["read_file", "report_finding"]
    assert "search_knowledge" not in decision.allowed_tools["devops"]
    assert any("search_knowledge denied" in d for d in decision.denied)
    assert audited and all(action == "permission_denied" for action, _ in audited)


def test_untrusted_workspace_is_read_only_whatever_its_config_says() -> None:
    decision = check_permissions(_request(), {"trusted": True}, trusted=False)
    assert not decision.trusted_workspace
    for tools in decision.allowed_tools.values():
        assert "propose_edit" not in tools and "report_finding" not in tools
        assert "read_file" in tools
    assert "propose_edit" in check_permissions(_request(), {}).allowed_tools["coordinator"]
    assert any("untrusted" in d for d in decision.denied)


def test_a_workspace_can_mark_itself_untrusted() -> None:
    decision = check_permissions(_request(), {"trusted": False})
    assert not decision.trusted_workspace


def test_denied_crew_raises_and_is_audited() -> None:
    audited: list[str] = []
    with pytest.raises(PermissionDenied, match="devops crew is not allowed"):
        check_permissions(
            _request("devops"), {"deny_crews": ["devops"]}, audit=lambda a, d: audited.append(a)
        )
    assert audited == ["permission_denied"]


def test_unknown_names_are_reported_not_granted() -> None:
    decision = check_permissions(
        _request(), {"roles": {"security": {"allow": ["read_file", "rm_rf"]}, "hacker": {}}}
    )
    assert decision.allowed_tools["security"] == ["read_file"]
    assert any("rm_rf" in d for d in decision.denied)
    assert any("hacker" in d for d in decision.denied)


def test_malformed_policy_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="deny must be a list"):
        check_permissions(_request(), {"deny": 3})
