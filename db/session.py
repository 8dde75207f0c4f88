"""Engines, sessions and schema migrations for SQLite (embedded default) and PostgreSQL (production).

`upgrade(url)` runs the Alembic migrations shipped inside this package (db/alembic.ini, db/migrations),
so it works from an installed wheel as well as from a checkout. It holds a lock while it runs (a file
lock beside a SQLite file, an advisory lock on PostgreSQL), so processes that start together migrate
once. `ensure_schema` is what every command start calls: one cheap read of `alembic_version`, and Alembic
only when that is behind `SCHEMA_HEAD`.
"""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "SCHEMA_HEAD",
    "make_engine",
    "make_sessionmaker",
    "alembic_config",
    "schema_current",
    "ensure_schema",
    "upgrade",
    "downgrade",
]

HERE = Path(__file__).resolve().parent
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The newest migration's revision id; a test checks it against Alembic's head, so it cannot go stale.
SCHEMA_HEAD = "0003"
MIGRATION_LOCK_KEY = 0x74696E74  # "tint": the PostgreSQL advisory lock key held while migrating


def _sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # WAL + synchronous=NORMAL: a one-row commit costs ~0.1 ms instead of ~20 ms, and readers never block
    # the writer. busy_timeout lets the CLI, the worker and the broker share one file without "locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Enforce foreign keys as PostgreSQL does, so a bug shows up on the embedded default too.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL; creates the SQLite file's directory if it is missing."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic config for the migrations in this package, pointed at `url`."""
    from alembic.config import Config  # imported here: most commands never migrate

    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    # ConfigParser interpolates '%', and URLs carry escapes such as options=-csearch_path%3Dname.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def schema_current(engine: Engine) -> bool:
    """True when the database's `alembic_version` is SCHEMA_HEAD (False when the table is missing)."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
    except sa.exc.DBAPIError:
        return False


@contextlib.contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Hold the lock that makes concurrent upgrades of one database run one after another."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is None:  # in-memory: no other process can see it
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.migrate-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def _alembic_upgrade(url: str) -> None:
    from alembic import command  # imported here: most commands never migrate

    command.upgrade(alembic_config(url), "head")


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (alembic upgrade head), under the migration lock."""
    with _migration_lock(url):
        _alembic_upgrade(url)


def ensure_schema(url: str, *, engine: Engine | None = None) -> bool:
    """Migrate `url` when its schema is behind; True when it ran Alembic. A current schema costs one read."""
    engine = engine or make_engine(url)
    if schema_current(engine):
        return False
    with _migration_lock(url):
        if schema_current(engine):  # another process migrated while this one waited for the lock
            return False
        _alembic_upgrade(url)
    return True


def downgrade(url: str, revision: str = "base") -> None:
    """Take the database at `url` back to `revision` ("base" drops every Tint table)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)
