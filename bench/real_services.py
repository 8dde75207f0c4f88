"""The real services the throughput benches run on: PostgreSQL in a fresh schema, Redis, an S3 server.

PostgreSQL and Redis must already answer on loopback; the S3 server is moto in server mode, started here
as a subprocess on a free loopback port (so it does not share the bench's interpreter lock), unless an
S3 endpoint is given (MinIO or S3 on other hardware, with the AWS_* credentials of the environment; each
run then makes a bucket there, and leaves it). Everything else the benches make is removed on exit: the
schema is dropped and the Redis database flushed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

__all__ = [
    "fresh_schema",
    "POSTGRES_URL",
    "REDIS_URL",
    "DATA",
    "Services",
    "real_services",
    "new_bucket",
    "service_env",
]

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Services:
    """Where the bench's database, broker and S3 server are."""

    database_url: str  # a fresh schema on the PostgreSQL server
    broker_url: str
    s3_endpoint: str
    home: Path
    s3_pid: int = 0  # the S3 server's process, for bench/cpu_share.py

    def flush_broker(self) -> None:
        """Empty the Redis database: no message of an earlier run is left for the next one."""
        import redis

        redis.Redis.from_url(self.broker_url).flushdb()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the S3 server at {url} did not answer within {timeout_s:.0f}s") from None
            time.sleep(0.2)


@contextlib.contextmanager
def _moto_server(log: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_http(f"http://127.0.0.1:{port}/moto-api/", timeout_s=60)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            proc.wait(20)


@contextlib.contextmanager
def fresh_schema(server_url: str, *, prefix: str = "bench") -> Iterator[str]:
    """A new empty schema on the PostgreSQL server, as a URL whose search_path is it; dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(server_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        raise SystemExit(f"error: PostgreSQL does not answer at {server_url} ({exc.orig}).") from None
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextlib.contextmanager
def real_services(
    *, postgres_url: str, redis_url: str, home: Path, s3_endpoint: str | None = None
) -> Iterator[Services]:
    """PostgreSQL (fresh schema, migrated), Redis (flushed) and an S3 server (moto, started here, or the
    one at `s3_endpoint`), for the block's duration."""
    import redis

    from db.session import upgrade

    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"error: Redis does not answer at {redis_url} ({exc}).") from None
    if s3_endpoint is None:
        os.environ.update(S3_CREDENTIALS)
    home.mkdir(parents=True, exist_ok=True)
    s3 = _moto_server(home / "moto.log") if s3_endpoint is None else contextlib.nullcontext((s3_endpoint, 0))
    with fresh_schema(postgres_url) as database_url, s3 as (endpoint, pid):
        upgrade(database_url)
        services = Services(
            database_url=database_url, broker_url=redis_url, s3_endpoint=endpoint, home=home, s3_pid=pid
        )
        services.flush_broker()
        try:
            yield services
        finally:
            services.flush_broker()


def new_bucket(services: Services) -> str:
    """A new empty bucket, so a run writes every output anew (a put of stored bytes is skipped)."""
    import boto3

    name = f"bench-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=services.s3_endpoint).create_bucket(Bucket=name)
    return name


def service_env(services: Services, *, bucket: str, **extra: str) -> dict[str, str]:
    """Environment for `tint` subprocesses on these services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    if services.s3_pid:  # moto started here: its made-up credentials; else the environment's own
        env.update(S3_CREDENTIALS)
    env.update(
        TINT_HOME=str(services.home),
        TINT_DATABASE_URL=services.database_url,
        TINT_BROKER_URL=services.broker_url,
        TINT_STORAGE_URL=f"s3://{bucket}",
        TINT_S3_ENDPOINT=services.s3_endpoint,
    )
    env.update(extra)
    return env
