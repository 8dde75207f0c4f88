"""The Alembic migration and the engine settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import db.job_queries
import db.models
import db.queries
import db.session
from db import job_queries, queries
from db.models import Base
from db.session import (
    HERE,
    SCHEMA_HEAD,
    alembic_config,
    downgrade,
    ensure_schema,
    make_engine,
    make_sessionmaker,
    schema_current,
    upgrade,
)

TABLES = set(Base.metadata.tables)  # every model table; test_migration_matches_models checks columns
ROOT = Path(__file__).resolve().parents[2]


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_every_table(db_url: str) -> None:
    upgrade(db_url)
    assert _tables(db_url) == TABLES


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url)
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) == TABLES


def test_downgrade_with_rows_in_the_job_revision_cycle(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with make_sessionmaker(engine).begin() as session:
        queries.add_asset(session, sha256="a" * 64, key="a", media_type="image/png", size=1)
        drawing = queries.create_drawing(session, batch_id=None, name="d", line_sha="a" * 64)
        job = job_queries.create_job(session, kind="colorize", params={}, drawing_id=drawing.id)
        job_queries.finish_job(session, job.id, result={}, revision={"assets": {}})
    engine.dispose()
    downgrade(db_url)
    assert _tables(db_url) == set()


def test_upgrade_is_idempotent(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    assert _tables(db_url) == TABLES


def test_migration_matches_models(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_postgres_schema_from_url_search_path(postgres_url: str) -> None:
    upgrade(postgres_url)
    schema = postgres_url.rsplit("%3D", 1)[1]
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names(schema=schema)) >= TABLES | {"alembic_version"}
        assert "job" not in sa.inspect(conn).get_table_names(schema="public")
    engine.dispose()


def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tint.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    assert path.exists()
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 30_000, "foreign_keys": 1}


def test_postgres_engine_pings_pool(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert engine.pool._pre_ping
    engine.dispose()


def test_schema_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads() == [SCHEMA_HEAD]


def test_ensure_schema_migrates_once_then_only_reads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tint.db'}"
    engine = make_engine(url)
    assert not schema_current(engine)
    assert ensure_schema(url, engine=engine) is True
    assert schema_current(engine)
    assert ensure_schema(url, engine=engine) is False
    engine.dispose()


def test_migration_files_sit_inside_the_package() -> None:
    assert (HERE / "alembic.ini").is_file()
    assert (HERE / "migrations" / "env.py").is_file()
    assert (HERE / "migrations" / "script.py.mako").is_file()
    assert (HERE / "migrations" / "versions" / "0001_initial.py").is_file()


def test_db_imports_nothing_of_ours() -> None:
    code = (
        "import sys, pkgutil, importlib, db\n"
        "for m in pkgutil.iter_modules(db.__path__, 'db.'): importlib.import_module(m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pipeline', 'workers', 'studio'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [db.models, db.session, db.queries, db.job_queries])
def test_all_names_exist(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert hasattr(module, name), name


def test_downgrade_one_step_and_back_keeps_the_rows(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with make_sessionmaker(engine).begin() as session:
        queries.add_asset(session, sha256="b" * 64, key="b", media_type="image/png", size=2)
        batch = queries.create_batch(session, name="season", manifest={"drawings": [{"line": "x.png"}]})
        drawing = queries.create_drawing(session, batch_id=batch.id, name="hero", line_sha="b" * 64)
        prompt = queries.create_prompt(session, drawing_id=drawing.id, kind="points", payload={"points": []})
        job = job_queries.create_job(
            session,
            kind="colorize",
            params={"style": "flat"},
            drawing_id=drawing.id,
            prompt_id=prompt.id,
            batch_id=batch.id,
        )
        job_queries.finish_job(session, job.id, result={"ok": 1}, revision={"assets": {"colored": "b" * 64}})
    engine.dispose()

    downgrade(db_url, "0001")
    upgrade(db_url)

    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name, manifest FROM batch")).one()[0] == "season"
        assert conn.execute(sa.text("SELECT name FROM drawing")).scalar_one() == "hero"
        assert conn.execute(sa.text("SELECT state FROM job")).scalar_one() == "done"
        assert conn.execute(sa.text("SELECT count(*) FROM revision")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM prompt")).scalar_one() == 1
    engine.dispose()
