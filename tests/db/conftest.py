"""Fixtures for the db tests: every test runs on SQLite (a file under tmp_path) and on real PostgreSQL.

The schema comes from `db.session.upgrade(url)`, so every test also exercises the Alembic migration
(on SQLite, migrated once and copied).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import queries
from db.models import Drawing
from db.session import make_engine, make_sessionmaker, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL; the SQLite file sits in a directory that does not exist yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'tint.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once with `upgrade`; copying it is faster than migrating for every test."""
    path = tmp_path_factory.mktemp("template") / "tint.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite":
        target = Path(url.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
    else:
        upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def drawing(session: Session) -> Drawing:
    """A committed drawing (with its line asset) in a committed batch."""
    with session.begin():
        queries.add_asset(session, sha256="a" * 64, key="aa/" + "a" * 64, media_type="image/png", size=10)
        batch = queries.create_batch(session, name="batch", manifest={"drawings": ["hero.png"]})
        return queries.create_drawing(
            session, batch_id=batch.id, name="hero.png", character="hero", view="front", line_sha="a" * 64
        )
