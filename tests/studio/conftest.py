"""Fixtures for the studio tests: the HTTP API on the embedded default (see api_server.py), and a real
Kitsu server (see kitsu_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_server import Api, running_api
from kitsu_server import Zou, ZouUnavailable, running_zou

from tests.conftest import _missing
from workers.settings import Settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API on SQLite with local assets (the embedded default)."""
    home = tmp_path_factory.mktemp("api")
    with running_api(Settings(home=home)) as running:
        yield running


@pytest.fixture(scope="session")
def kitsu(tmp_path_factory: pytest.TempPathFactory, postgres_server: str, redis_url: str) -> Iterator[Zou]:
    """A real Kitsu server (Zou) on a loopback port with its admin user; skips with the reason when Zou is
    not installed or does not start (fails under TINT_REQUIRE_SERVICES=1)."""
    try:
        root = tmp_path_factory.mktemp("zou")
        with running_zou(root, postgres_url=postgres_server, redis_url=redis_url) as zou:
            yield zou
    except ZouUnavailable as exc:
        _missing(f"Kitsu (Zou) is not available: {exc}")
