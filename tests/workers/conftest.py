"""Fixtures for worker tests: an isolated embedded default (SQLite, SQLite broker, local assets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
