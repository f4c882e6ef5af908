"""The database pool's gauges on a real PostgreSQL pool: connections in use, and threads
blocked because every connection (pool and overflow) is out."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

from llmgenie.observability.metrics import DB_POOL_IN_USE, DB_POOL_WAITING
from llmgenie.remote.db import Database


def _value(gauge: object) -> float:
    return float(gauge.collect()[0].samples[0].value)  # type: ignore[attr-defined]


def test_the_pool_reports_connections_in_use_and_threads_waiting(pg_database: str) -> None:
    db = Database(pg_database)
    limit = db.engine.pool.size() + 20  # pool 10 + overflow 20
    before = _value(DB_POOL_IN_USE)
    try:
        with ExitStack() as held:
            conns = [held.enter_context(db.engine.connect()) for _ in range(limit)]
            assert _value(DB_POOL_IN_USE) == before + limit
            assert _value(DB_POOL_WAITING) == 0
            got = threading.Event()

            def one_more() -> None:
                with db.engine.connect():
                    got.set()

            waiter = threading.Thread(target=one_more, daemon=True)
            waiter.start()
            deadline = time.monotonic() + 10
            while _value(DB_POOL_WAITING) != 1:  # the thread blocks on the exhausted pool
                assert time.monotonic() < deadline, "no thread counted as waiting"
                time.sleep(0.01)
            assert not got.is_set()
            conns[0].close()  # one back: the waiting thread gets it
            assert got.wait(10)
            waiter.join(10)
            assert _value(DB_POOL_WAITING) == 0
        assert _value(DB_POOL_IN_USE) == before
    finally:
        db.dispose()
