"""The ledger on real PostgreSQL: fenced writes, idempotent submits, dense sequence
numbers, the team audit chain; and the Redis rate limiter."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from llmgenie.contracts.runs import RunEvent, RunRequest, RunResult, RunStatus
from llmgenie.remote import migrate
from llmgenie.remote.db import Database
from llmgenie.remote.ledger import Ledger, StaleAttempt
from llmgenie.remote.live import MemoryRateLimiter, RedisRateLimiter


@pytest.fixture(scope="module")
def ledger(pg_database: str) -> Iterator[Ledger]:
    db = Database(pg_database)
    migrate.upgrade(db)
    assert migrate.drift(db) == [], "the migrations and the models agree"
    try:
        yield Ledger(db)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def team(ledger: Ledger) -> tuple[str, str]:
    team_id = ledger.create_team("ledger-tests")
    user_id = ledger.ensure_user("ledger@example.com")
    ledger.set_member(team_id, user_id, "member")
    return team_id, user_id


def _request() -> RunRequest:
    return RunRequest(crew="explain", workspace="/w", prompt="why?")


def _event(run_id: str, n: int) -> RunEvent:
    return RunEvent(run_id=run_id, kind="status", message=f"step {n}")


def test_a_stale_attempt_cannot_write(ledger: Ledger, team: tuple[str, str]) -> None:
    team_id, user_id = team
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    first = ledger.claim(run.run_id)
    ledger.append_event(run.run_id, first, _event(run.run_id, 1))
    second = ledger.claim(run.run_id)  # the run was handed to someone else
    with pytest.raises(StaleAttempt):
        ledger.append_event(run.run_id, first, _event(run.run_id, 2))
    final = RunEvent(run_id=run.run_id, kind="result", data={"status": "succeeded"})
    assert not ledger.finish(run.run_id, first, RunStatus.SUCCEEDED, RunResult(), None, final)
    assert ledger.finish(
        run.run_id, second, RunStatus.SUCCEEDED, RunResult(message="ok"), None, final
    )
    assert not ledger.finish(run.run_id, second, RunStatus.FAILED, None, "twice", final)
    ended = ledger.get(team_id, run.run_id)
    assert ended.status is RunStatus.SUCCEEDED and ended.result is not None
    seqs = [e.seq for e in ledger.events_after(run.run_id, 0)]
    assert seqs == [1, 2], "the stale write left no event; the final event is the last one"
    with pytest.raises(StaleAttempt):
        ledger.claim(run.run_id)  # an ended run is never taken again


def test_the_same_idempotency_key_twice_at_once_gives_one_run(
    ledger: Ledger, team: tuple[str, str]
) -> None:
    team_id, user_id = team
    results: list[str] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        run, _ = ledger.submit(team_id, user_id, _request(), None, "same-key")
        results.append(run.run_id)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 8 and len(set(results)) == 1


def test_sequence_numbers_are_dense_under_concurrent_writers(
    ledger: Ledger, team: tuple[str, str]
) -> None:
    team_id, user_id = team
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    attempt = ledger.claim(run.run_id)

    def write(n: int) -> None:
        for i in range(10):
            ledger.append_event(run.run_id, attempt, _event(run.run_id, n * 100 + i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [e.seq for e in ledger.events_after(run.run_id, 0)] == list(range(1, 41))
    assert [e.seq for e in ledger.events_after(run.run_id, 35)] == [36, 37, 38, 39, 40]


def test_the_team_chain_verifies_and_names_a_tampered_record(
    ledger: Ledger, team: tuple[str, str]
) -> None:
    team_id, _ = team
    threads = [
        threading.Thread(target=ledger.audit, args=(team_id, "tool_called", {"n": n}))
        for n in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    report = ledger.verify(team_id)
    assert report.ok and report.records >= 10
    with ledger.db.session() as s:
        s.execute(
            text("UPDATE audit_log SET actor='mallory' WHERE team_id=:t AND seq=3"), {"t": team_id}
        )
    broken = ledger.verify(team_id)
    assert not broken.ok and broken.first_bad_seq == 3 and "modified" in broken.reason


def test_erasing_a_user_keeps_a_tombstone_in_the_chain(ledger: Ledger) -> None:
    team_id = ledger.create_team("erasure")
    user_id = ledger.ensure_user("leaver@example.com")
    ledger.set_member(team_id, user_id, "member")
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    exported = ledger.export_user(team_id, user_id)
    assert [r["run_id"] for r in exported["runs"]] == [run.run_id]
    counts = ledger.erase_user(team_id, user_id, by="admin")
    assert counts["runs"] == 1
    assert ledger.runs(team_id) == []
    records = ledger.audit_records(team_id)
    assert records[-1].action == "user_erased" and records[-1].data["user_id"] == user_id
    assert ledger.verify(team_id).ok


def test_retention_drops_payloads_of_old_runs_and_keeps_the_chain(ledger: Ledger) -> None:
    team_id = ledger.create_team("retention")
    user_id = ledger.ensure_user("keeper@example.com")
    ledger.set_member(team_id, user_id, "member")
    secret_prompt = "why is the invoice total wrong for ACME?"
    request = RunRequest(crew="explain", workspace="/w", prompt=secret_prompt)
    run, _ = ledger.submit(team_id, user_id, request, {"analyzed": {"x": 1}}, None)
    attempt = ledger.claim(run.run_id)
    ledger.append_event(run.run_id, attempt, _event(run.run_id, 1))
    final = RunEvent(run_id=run.run_id, kind="result", data={"status": "succeeded"})
    ledger.finish(run.run_id, attempt, RunStatus.SUCCEEDED, RunResult(message="m"), None, final)
    assert ledger.purge_payloads(older_than_s=3600) == 0, "recent runs keep their payload"
    assert ledger.purge_payloads(older_than_s=-1) >= 1
    purged = ledger.get(team_id, run.run_id)
    assert purged.status is RunStatus.SUCCEEDED and purged.result is None
    assert purged.request.prompt == "" and ledger.context_of(run.run_id) is None
    assert ledger.events_after(run.run_id, 0) == []
    assert ledger.verify(team_id).ok
    assert ledger.purge_payloads(older_than_s=-1) == 0, "purged once"


def test_rate_limits_hold_in_redis_and_in_memory(redis_url: str) -> None:
    for limiter in (RedisRateLimiter(redis_url, 50), MemoryRateLimiter(50)):
        allowed = sum(limiter.allow("busy-user") for _ in range(200))
        # Redis counts in batches per process: the limit holds to within one batch.
        assert 50 <= allowed <= 50 + RedisRateLimiter.SYNC_EVERY, type(limiter).__name__
        assert limiter.allow("another-user")
