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
from llmgenie.remote.ledger import Held, Ledger, StaleAttempt
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
    first = ledger.claim(run.run_id, "worker-1", lease_s=0.0)
    ledger.append_event(run.run_id, first, _event(run.run_id, 1))
    second = ledger.claim(run.run_id, "worker-2")  # its lease ran out: someone else took it
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


def test_a_run_held_by_a_live_worker_is_not_taken_by_a_duplicate_delivery(
    ledger: Ledger, team: tuple[str, str]
) -> None:
    team_id, user_id = team
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    attempt = ledger.claim(run.run_id, "worker-1", lease_s=60)
    with pytest.raises(Held):
        ledger.claim(run.run_id, "worker-2", lease_s=60)
    assert ledger.heartbeat(run.run_id, attempt, 60)
    expired, stale = ledger.reap(stale_queued_s=3600)
    assert run.run_id not in expired and run.run_id not in stale, "a renewed lease is kept"


def test_the_reaper_requeues_an_expired_lease_and_fences_its_old_holder(
    ledger: Ledger, team: tuple[str, str]
) -> None:
    team_id, user_id = team
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    lost = ledger.claim(run.run_id, "worker-dead", lease_s=0.0)  # it stopped renewing
    expired, _ = ledger.reap(stale_queued_s=3600)
    assert expired == [run.run_id]
    assert ledger.get(team_id, run.run_id).status is RunStatus.QUEUED
    assert not ledger.heartbeat(run.run_id, lost, 60), "the old holder learns it lost the run"
    with pytest.raises(StaleAttempt):
        ledger.append_event(run.run_id, lost, _event(run.run_id, 1))
    final = RunEvent(run_id=run.run_id, kind="result", data={"status": "succeeded"})
    assert not ledger.finish(run.run_id, lost, RunStatus.SUCCEEDED, RunResult(), None, final)
    again = ledger.claim(run.run_id, "worker-2", lease_s=60)
    assert again == lost + 1
    audited = [("tool_called", {"tool": "read_file"}, "security")]
    assert ledger.finish(
        run.run_id, again, RunStatus.SUCCEEDED, RunResult(message="ok"), None, final, audited
    )
    actions = [r.action for r in ledger.audit_records(team_id, run.run_id)]
    assert actions == ["run_started", "lease_expired", "tool_called", "run_finished"]
    assert ledger.verify(team_id).ok


def test_cancelling_a_queued_run_ends_it_at_once(ledger: Ledger, team: tuple[str, str]) -> None:
    team_id, user_id = team
    run, _ = ledger.submit(team_id, user_id, _request(), None, None)
    cancelled = ledger.request_cancel(team_id, run.run_id)
    assert cancelled.status is RunStatus.CANCELLED
    assert [e.data["status"] for e in ledger.events_after(run.run_id, 0)] == ["cancelled"]
    with pytest.raises(StaleAttempt):
        ledger.claim(run.run_id, "worker-1")  # its doorbell rings late: nothing happens
    finished = [r for r in ledger.audit_records(team_id, run.run_id) if r.action == "run_finished"]
    assert len(finished) == 1


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
