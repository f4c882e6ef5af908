"""Every bad credential is refused with the documented answer, on both front doors, and
no token ever reaches the server's log."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.team.conftest import JWT_KEY, TeamServerProcess

CLOSE_AUTH_FAILED = 4001


def _jwt(key: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "nobody", "iss": "llmgenie-team", "typ": "access", "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, key, algorithm="HS256")


def _alg_none(user_id: str) -> str:
    return jwt.encode(
        {"sub": user_id, "iss": "llmgenie-team", "typ": "access", "iat": 1, "exp": 2**40},
        key="",
        algorithm="none",
    )


@pytest.fixture(scope="module")
def people(team_server: TeamServerProcess) -> dict[str, Any]:
    viewer_id, viewer = team_server.add_member("viewer@example.com", "viewer")
    member_id, member = team_server.add_member("member@example.com", "member")
    other = team_server.create_team("other-team", "other-admin@example.com")
    with team_server.api(member) as api:
        revocable = api.post("/tokens", json={"name": "to revoke", "expires_in_days": 1}).json()
        api.delete(f"/tokens/{revocable['token_id']}")
    return {
        "viewer": viewer,
        "member": member,
        "member_id": member_id,
        "viewer_id": viewer_id,
        "other": other,
        "revoked": revocable["token"],
    }


def _get(server: TeamServerProcess, path: str, header: str | None) -> httpx.Response:
    headers = {"Authorization": header} if header is not None else {}
    return httpx.get(server.url + "/api/v1" + path, headers=headers, timeout=30)


def test_bad_credentials_are_401_on_rest(
    team_server: TeamServerProcess, people: dict[str, Any]
) -> None:
    cases = {
        "missing": None,
        "not bearer": "Basic dXNlcjpwYXNz",
        "malformed": "Bearer not-a-token",
        "malformed pat": "Bearer lgp_only-two",
        "expired": "Bearer " + _jwt(JWT_KEY, sub=people["member_id"], exp=int(time.time()) - 5),
        "wrong key": "Bearer " + _jwt("another-key-" + "x" * 40, sub=people["member_id"]),
        "alg none": "Bearer " + _alg_none(people["member_id"]),
        "revoked": "Bearer " + people["revoked"],
        "refresh as access": "Bearer lgr_0123456789abcdef_secret",
    }
    for name, header in cases.items():
        response = _get(team_server, "/me", header)
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"] == "unauthorized", name
        assert response.headers.get("www-authenticate") == "Bearer", name
    assert _get(team_server, "/me", "Bearer " + people["member"]).status_code == 200


def test_a_token_in_the_query_string_is_refused(
    team_server: TeamServerProcess, people: dict[str, Any]
) -> None:
    response = httpx.get(
        team_server.url + "/api/v1/me",
        params={"access_token": people["member"]},
        headers={"Authorization": "Bearer " + people["member"]},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"] == "token_in_query"
    with (
        pytest.raises(ConnectionClosed) as closed,
        connect(team_server.ws_url + "?token=" + people["member"], open_timeout=30) as ws,
    ):
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_AUTH_FAILED
    assert "query string" in closed.value.rcvd.reason


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer lgp_deadbeefdeadbeef_nope", None])
def test_websocket_auth_failures_close_4001(
    team_server: TeamServerProcess, header: str | None
) -> None:
    headers = {"Authorization": header} if header else None
    with (
        pytest.raises(ConnectionClosed) as closed,
        connect(team_server.ws_url, additional_headers=headers, open_timeout=30) as ws,
    ):
        if header is None:  # no header: the first message must authenticate
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_AUTH_FAILED


def test_websocket_authenticates_by_header_or_first_message(
    team_server: TeamServerProcess, people: dict[str, Any]
) -> None:
    hello = {"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {}}
    with connect(
        team_server.ws_url,
        additional_headers={"Authorization": "Bearer " + people["member"]},
        open_timeout=30,
    ) as ws:
        ws.send(json.dumps(hello))
        answer = json.loads(ws.recv(timeout=30))
        assert answer["result"]["user"]["email"] == "member@example.com"
    with connect(team_server.ws_url, open_timeout=30) as ws:
        auth = {"jsonrpc": "2.0", "id": 1, "method": "llmgenie/authenticate",
                "params": {"token": people["viewer"]}}  # fmt: skip
        ws.send(json.dumps(auth))
        assert json.loads(ws.recv(timeout=30))["result"] == {"authenticated": True}
        ws.send(json.dumps(hello))
        assert json.loads(ws.recv(timeout=30))["result"]["user"]["email"] == "viewer@example.com"


def test_roles_and_teams_are_enforced(
    team_server: TeamServerProcess, people: dict[str, Any]
) -> None:
    team = team_server.team_id
    body = {"crew": "explain", "files": {"a.py": "x = 1\n"}, "path": "a.py"}
    with team_server.api(people["viewer"]) as viewer:
        refused = viewer.post(f"/teams/{team}/runs", json=body)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert viewer.get(f"/teams/{team}/runs").status_code == 200
        assert viewer.post(f"/teams/{team}/members", json={"email": "x@y.z"}).status_code == 403
    other = people["other"]
    with team_server.api(other["token"]) as outsider:
        assert outsider.get(f"/teams/{team}/runs").status_code == 404
        assert outsider.get(f"/teams/{team}/audit/verify").status_code == 404
    with team_server.api(people["member"]) as member:
        mine = member.post(f"/teams/{team}/runs", json=body, headers={"Idempotency-Key": "k1"})
        assert mine.status_code == 202, mine.text
        run_id = mine.json()["run_id"]
        again = member.post(f"/teams/{team}/runs", json=body, headers={"Idempotency-Key": "k1"})
        assert again.status_code == 200 and again.json()["run_id"] == run_id
        assert member.get(f"/teams/{other['team_id']}/runs").status_code == 404
    with team_server.api(other["token"]) as outsider:
        assert outsider.get(f"/teams/{team}/runs/{run_id}").status_code == 404
        assert outsider.get(f"/teams/{other['team_id']}/runs/{run_id}").status_code == 404
        assert outsider.post(f"/teams/{other['team_id']}/runs/{run_id}/cancel").status_code == 404


def test_no_token_reaches_the_log(team_server: TeamServerProcess, people: dict[str, Any]) -> None:
    logs = team_server.logs()
    for token in (people["viewer"], people["member"], people["revoked"], team_server.admin_token):
        secret = token.split("_", 2)[-1]  # lgp_<id>_<secret>: the secret may contain "_"
        assert len(secret) >= 32 and secret not in logs
