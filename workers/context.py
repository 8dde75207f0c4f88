"""The per-process runtime: settings, database sessions and asset storage, built once and shared."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.session import ensure_schema, make_engine, make_sessionmaker
from workers.settings import Settings, get_settings
from workers.storage import Storage, open_storage

__all__ = ["Context", "make_context", "get_context", "set_context", "after_fork"]


@dataclass
class Context:
    """What a front door or a worker process needs to run jobs.

    Storage opens on first use, so commands that only read the database (`tint status`) never build an S3
    client; pass `storage` to use one already open.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _storage: Storage | None = field(default=None, repr=False)
    _storage_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def storage(self) -> Storage:
        """The asset store named by the settings, opened once."""
        with self._storage_lock:
            if self._storage is None:
                self._storage = _storage(self.settings)
            return self._storage

    @storage.setter
    def storage(self, value: Storage | None) -> None:
        with self._storage_lock:
            self._storage = value


_lock = threading.Lock()
_current: Context | None = None


def _storage(settings: Settings) -> Storage:
    return open_storage(
        settings.storage_url, s3_endpoint=settings.s3_endpoint, create_bucket=settings.s3_create_bucket
    )


def make_context(settings: Settings, *, migrate: bool | None = None) -> Context:
    """Open the database and storage named by `settings`; SQLite databases are migrated on first use.

    Migrating is one read of the schema version when it is current, and takes a lock when it is not, so
    any number of commands starting at once on a fresh home migrate it once."""
    if migrate is None:
        migrate = settings.database_url.startswith("sqlite")
    engine = make_engine(settings.database_url)
    if migrate:
        ensure_schema(settings.database_url, engine=engine)
    return Context(settings=settings, engine=engine, sessions=make_sessionmaker(engine))


def get_context() -> Context:
    """The process's context, made from the environment's settings on first call."""
    global _current
    with _lock:
        if _current is None:
            _current = make_context(get_settings())
        return _current


def set_context(context: Context | None) -> None:
    """Replace the process's context (a front door that built its own, or a test)."""
    global _current
    with _lock:
        _current = context


def after_fork() -> None:
    """In a forked worker child: drop the parent's pooled connections and storage client."""
    with _lock:
        if _current is not None:
            _current.engine.dispose(close=False)
            _current._storage_lock = threading.Lock()  # a lock held at fork time stays held in the child
            _current.storage = None  # reopened on first use in this process
