"""API tokens and batch ownership: create, look up, list and revoke tokens; who may read which batch.

Like `db.queries`, every function takes a `session` and never commits. Tokens are stored as the sha256 of
the secret only; `find_token` looks the hash up and compares it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import TOKEN_ROLES, ApiToken, Batch, utcnow

__all__ = [
    "TOKEN_PREFIX",
    "hash_token",
    "role_at_least",
    "create_token",
    "find_token",
    "list_tokens",
    "revoke_token",
    "set_batch_owner",
]

TOKEN_PREFIX = "tint_"


def hash_token(secret: str) -> str:
    """The sha256 hex of a token secret (tokens are 32 random bytes, so no salt or slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def role_at_least(role: str, needed: str) -> bool:
    """True when `role` can do what `needed` can (submitter < lead < admin)."""
    return role in TOKEN_ROLES and TOKEN_ROLES.index(role) >= TOKEN_ROLES.index(needed)


def create_token(session: Session, *, name: str, role: str) -> tuple[ApiToken, str]:
    """A new token row and its secret; the secret is returned once and never stored."""
    if role not in TOKEN_ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(TOKEN_ROLES)}.")
    if not name.strip():
        raise ValueError("a token needs a name, such as the person or pipeline that will use it.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip(), role=role, token_hash=hash_token(secret))
    session.add(token)
    session.flush()
    return token, secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The live (not revoked) token with this secret, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = hash_token(secret)
    token = session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == digest)).one_or_none()
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, live and revoked, oldest first."""
    return list(session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Revoke a token (it stops working at once); None when there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def set_batch_owner(session: Session, *, batch_id: int, token_id: int | None) -> None:
    """Record which token submitted the batch."""
    session.execute(sa.update(Batch).where(Batch.id == batch_id).values(owner_token_id=token_id))
