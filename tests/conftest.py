"""Shared fixtures: real services on loopback, and paths to the real line art.

Tests that need a server use the ``postgres_url``, ``redis_url`` or ``s3_endpoint`` fixture. When the
service does not answer they skip with the reason, or fail when TINT_REQUIRE_SERVICES=1 (as in CI).

``data_dir`` is the OpenMoji subset committed under tests/data (always there); ``full_data_dir`` is the
whole data set in ../shared/data, which a clone on its own lacks: tests on it skip with the reason, or
fail under TINT_REQUIRE_SERVICES=1 like a missing service.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "openmoji"
FULL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openmoji"
POSTGRES_URL = os.environ.get("TINT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _missing(reason: str) -> None:
    if os.environ.get("TINT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (TINT_REQUIRE_SERVICES=1, so this is a failure, not a skip)")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The OpenMoji subset committed under tests/data: real line art with its truth, same format."""
    return DATA


@pytest.fixture(scope="session")
def full_data_dir() -> Path:
    """The whole OpenMoji paired data set in ../shared/data (for tests that need many drawings)."""
    if not (FULL_DATA / "index.json").exists():
        _missing(f"the OpenMoji data set is not at {FULL_DATA} (see ../shared/data/openmoji/README.md)")
    return FULL_DATA


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Base URL of the real PostgreSQL server."""
    if not _port_open("127.0.0.1", 5432):
        _missing("PostgreSQL is not answering on 127.0.0.1:5432")
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema on the real PostgreSQL server; dropped after the test."""
    from bench.real_services import fresh_schema

    with fresh_schema(postgres_server, prefix="t") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis server (database 15, flushed by the tests that use it)."""
    if not _port_open("127.0.0.1", 6379):
        _missing("Redis is not answering on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto in server mode) on a loopback port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        _missing("moto[server] is not installed; pip install -e '.[dev]'")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new empty bucket on the S3 server; returns its name."""
    import boto3

    name = f"tint-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name
