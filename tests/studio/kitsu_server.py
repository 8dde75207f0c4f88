"""A real Kitsu server for the publishing tests: Zou from PyPI, in its own virtual environment (made by
deploy/kitsu/install.sh, since its pins differ from Tint's), on the machine's PostgreSQL (a database of its
own, dropped after) and Redis, served by gunicorn on a free loopback port. Its schema, default data and
admin user are made by `zou` commands. Imported by bare name (pytest puts this folder on the path).

Zou's Redis database indexes (0 to 4) are fixed in its code; its memoize cache is set to per process
(CACHE_TYPE=simple, one gunicorn worker) so two test sessions' servers never share cached rows.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

__all__ = ["ZOU_VENV", "ZouUnavailable", "Zou", "running_zou"]

ZOU_VENV = Path(os.environ.get("TINT_ZOU_VENV", "~/.cache/tint/zou-venv")).expanduser()
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "tint-kitsu-test-admin"  # a throwaway server's admin; never a real credential
START_TIMEOUT_S = 90


class ZouUnavailable(RuntimeError):
    """Zou is not installed here or did not start; the message says why."""


@dataclass(frozen=True)
class Zou:
    """A running Zou: the API URL gazu logs in to, its admin's credentials, its database and log."""

    url: str
    email: str
    password: str
    database: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_dsn(postgres_url: str) -> tuple[dict, str]:
    """(Zou's DB_* variables without DB_DATABASE, a libpq DSN to the server's `postgres` database)."""
    url = make_url(postgres_url)
    host, port, user = url.host or "127.0.0.1", str(url.port or 5432), url.username or "postgres"
    env = {"DB_HOST": host, "DB_PORT": port, "DB_USERNAME": user, "DB_PASSWORD": url.password or ""}
    dsn = f"host={host} port={port} user={user} dbname=postgres"
    return env, dsn + (f" password={url.password}" if url.password else "")


def _zou(env: dict, *args: str) -> None:
    """Run `zou ARGS…` in Zou's environment; ZouUnavailable with its last output line when it fails."""
    run = subprocess.run([str(ZOU_VENV / "bin" / "zou"), *args], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines() or ["no output"]
        raise ZouUnavailable(f"`zou {args[0]}` failed ({run.returncode}): {lines[-1]}")


def _wait_until_answering(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ZouUnavailable(f"Zou's gunicorn exited ({server.returncode}): {tail[0]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).json().get("api") == "Zou":
                return
        time.sleep(0.2)
    raise ZouUnavailable(f"Zou did not answer on {url} within {START_TIMEOUT_S}s (log: {log})")


@contextlib.contextmanager
def running_zou(root: Path, *, postgres_url: str, redis_url: str) -> Iterator[Zou]:
    """Zou on a fresh database of its own and a free loopback port until the block ends; then the server
    is stopped and its database dropped."""
    if not (ZOU_VENV / "bin" / "zou").exists():
        raise ZouUnavailable(f"Zou is not installed in {ZOU_VENV}; run deploy/kitsu/install.sh")
    db_env, admin_dsn = _admin_dsn(postgres_url)
    redis = make_url(redis_url)
    database = f"zou_test_{uuid.uuid4().hex[:10]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        **db_env,
        "DB_DATABASE": database,
        "DB_POOL_SIZE": "5",
        "KV_HOST": redis.host or "127.0.0.1",
        "KV_PORT": str(redis.port or 6379),
        "CACHE_TYPE": "simple",
        "PREVIEW_FOLDER": str(root / "previews"),
        "TMP_DIR": str(root / "tmp"),
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "BCRYPT_LOG_ROUNDS": "4",  # a test server: fast password hashing
    }
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    server = None
    try:
        _zou(env, "init-db")
        _zou(env, "init-data")
        port = _free_port()
        log = root / "zou.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [str(ZOU_VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
                + ["--timeout", "120", "--no-control-socket", "zou.app:app"],
                env=env,
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        # the admin is made while gunicorn boots: each `zou` command spends seconds importing Zou
        _zou(env, "create-admin", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
        url = f"http://127.0.0.1:{port}"
        _wait_until_answering(url, server, log)
        yield Zou(url=url, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, database=database, log=log)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
