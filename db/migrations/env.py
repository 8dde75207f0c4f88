"""Alembic environment: runs Tint's migrations against the URL in the config's `sqlalchemy.url`.

The URL is used exactly as given, so PostgreSQL connection options such as `options=-csearch_path=...`
decide the schema. SQLite gets batch mode (render_as_batch), which rebuilds a table to alter it.
"""

from __future__ import annotations

from alembic import context

from db.models import Base
from db.session import make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit(
            "no database URL: call db.session.upgrade(url), run `tint db upgrade`, "
            "or pass `-x url=sqlite:///tint.db` to alembic."
        )
    return url


def run_migrations_offline() -> None:
    """Emit the SQL to stdout instead of running it (alembic upgrade --sql)."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode drops and renames tables; SQLite must not check foreign keys meanwhile.
                # The pragma is a no-op inside a transaction, so it runs before Alembic begins one.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
