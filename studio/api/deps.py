"""Shared route dependencies as `Annotated` aliases: the context, a database session, the caller's token
and its role, and access checks that give 404 for what does not exist and 403 for another's batch.

Roles: `submitter` (submit, read own batches), `lead` (also review, recolor, approve, read every batch),
`admin` (also tokens). A missing or unknown token is 401; a role too low or another's batch is 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from db import auth_queries, job_queries, queries
from db.models import Batch, Drawing, Job, Revision
from workers.context import Context

__all__ = [
    "COOKIE_NAME",
    "Principal",
    "ContextDep",
    "SessionDep",
    "PrincipalDep",
    "SubmitterDep",
    "LeadDep",
    "AdminDep",
    "require_role",
    "owned_batch",
    "owned_drawing",
    "owned_revision",
    "owned_job",
]

COOKIE_NAME = "tint_token"
_bearer = HTTPBearer(auto_error=False, description="An API token from `tint token create`.")
_cookie = APIKeyCookie(name=COOKIE_NAME, auto_error=False, description="Set by POST /api/session.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role."""

    id: int
    name: str
    role: str

    @property
    def owner_filter(self) -> int | None:
        """The token id whose batches this caller may read, or None for every batch."""
        return self.id if self.role == "submitter" else None


def get_context(request: Request) -> Context:
    return request.app.state.ctx


ContextDep = Annotated[Context, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    ctx: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    secret = bearer.credentials if bearer is not None else cookie
    if not secret:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This endpoint needs an API token: send 'Authorization: Bearer TOKEN' (see `tint token create`).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with ctx.sessions() as session:
        token = auth_queries.find_token(session, secret)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "The API token is unknown or revoked; ask an admin for a new one.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Principal(id=token.id, name=token.name, role=token.role)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(role: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only tokens of `role` or higher through (403 otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        if not auth_queries.role_at_least(principal.role, role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"This needs a {role} token; token {principal.name!r} is a {principal.role}.",
            )
        return principal

    return check


SubmitterDep = Annotated[Principal, Depends(require_role("submitter"))]
LeadDep = Annotated[Principal, Depends(require_role("lead"))]
AdminDep = Annotated[Principal, Depends(require_role("admin"))]


def _forbid_unless_owner(principal: Principal, batch_owner: int | None, what: str) -> None:
    if principal.owner_filter is not None and batch_owner != principal.owner_filter:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{what} belongs to a batch token {principal.name!r} did not submit."
        )


def _missing(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} does not exist.")


def owned_batch(session: Session, principal: Principal, batch_id: int) -> Batch:
    """The batch if the caller may read it."""
    batch = queries.get_batch(session, batch_id)
    if batch is None:
        raise _missing(f"Batch {batch_id}")
    _forbid_unless_owner(principal, batch.owner_token_id, f"Batch {batch_id}")
    return batch


def owned_drawing(session: Session, principal: Principal, drawing_id: int) -> Drawing:
    """The drawing if the caller may read its batch."""
    drawing = queries.get_drawing(session, drawing_id)
    if drawing is None:
        raise _missing(f"Drawing {drawing_id}")
    owner = drawing.batch.owner_token_id if drawing.batch is not None else None
    _forbid_unless_owner(principal, owner, f"Drawing {drawing_id}")
    return drawing


def owned_revision(session: Session, principal: Principal, revision_id: int) -> Revision:
    """The revision if the caller may read its drawing's batch."""
    revision = queries.get_revision(session, revision_id)
    if revision is None:
        raise _missing(f"Revision {revision_id}")
    owned_drawing(session, principal, revision.drawing_id)
    return revision


def owned_job(session: Session, principal: Principal, job_id: int) -> Job:
    """The job if the caller may read the batch it belongs to."""
    job = job_queries.get_job(session, job_id)
    if job is None:
        raise _missing(f"Job {job_id}")
    if job.drawing_id is not None:
        owned_drawing(session, principal, job.drawing_id)
    elif job.batch_id is not None:
        owned_batch(session, principal, job.batch_id)
    else:
        _forbid_unless_owner(principal, None, f"Job {job_id}")
    return job
