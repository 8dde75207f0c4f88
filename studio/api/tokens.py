"""Issuing API tokens outside HTTP (`tint token create`), and running the API (`tint serve`)."""

from __future__ import annotations

from db import auth_queries
from pipeline.errors import BadInput
from workers.context import Context
from workers.jobs import session_scope

__all__ = ["issue_token", "serve"]


def issue_token(ctx: Context, *, name: str, role: str) -> tuple[int, str]:
    """Create a token; returns (id, secret). The secret is not stored, only its hash."""
    try:
        with session_scope(ctx) as session:
            token, secret = auth_queries.create_token(session, name=name, role=role)
            return token.id, secret
    except ValueError as exc:
        raise BadInput(str(exc)) from exc


def serve(ctx: Context, *, host: str, port: int, log_level: str = "info") -> None:
    """Run the API and review page until interrupted (with an in-process worker on the embedded default)."""
    import uvicorn

    from studio.api.app import create_app
    from workers.logs import configure_logging

    configure_logging(fmt=ctx.settings.log_format)
    uvicorn.run(create_app(ctx), host=host, port=port, log_level=log_level, access_log=False, log_config=None)
