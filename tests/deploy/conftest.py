"""Fixtures of the live deploy tests: the team tests' PostgreSQL database and scripted model,
and a Redis database index of their own (tests/team flushes index 11 and the benchmarks in
bench/ use 12; worker heartbeats of either, running meanwhile, must not be counted here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.team.conftest import REDIS, pg_database, team_model

__all__ = ["pg_database", "team_model"]  # fixtures, found by pytest under these names

REDIS_DB = 13


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    url = f"{REDIS}/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
