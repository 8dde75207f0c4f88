"""Fixtures for the studio tests: the HTTP API on the embedded default (see api_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_server import Api, running_api

from workers.settings import Settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API on SQLite with local assets (the embedded default)."""
    home = tmp_path_factory.mktemp("api")
    with running_api(Settings(home=home)) as running:
        yield running
