"""Fixtures for worker tests: an isolated embedded default (SQLite, SQLite broker, local assets), and a
real `tint worker` on the real services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.workers import harness
from workers.celery_app import retarget
from workers.context import Context, make_context, set_context
from workers.settings import Settings, get_settings


@pytest.fixture
def embedded(tmp_path) -> Iterator[Context]:
    """The process's context and Celery app pointed at a fresh embedded home under tmp_path."""
    settings = Settings(home=tmp_path / "home")
    retarget(settings)
    ctx = make_context(settings)
    set_context(ctx)
    yield ctx
    set_context(None)
    ctx.engine.dispose()
    retarget(get_settings())


@pytest.fixture
def worker_env(postgres_url, redis_url, s3_endpoint, s3_bucket, tmp_path) -> Iterator[dict]:
    """A real `tint worker` on the services (Redis, PostgreSQL, S3), one job at a time; yields the
    environment `tint` commands need to reach them."""
    redis.Redis.from_url(redis_url).flushdb()
    env = harness.service_env(
        postgres_url=postgres_url,
        redis_url=redis_url,
        s3_endpoint=s3_endpoint,
        bucket=s3_bucket,
        home=tmp_path / "home",
    )
    upgrade = harness.tint("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    proc = harness.start_worker(env, tmp_path / "worker.log")
    yield env
    proc.terminate()
    proc.wait(20)
