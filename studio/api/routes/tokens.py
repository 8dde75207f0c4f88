"""Who am I, a browser session (the token in an HttpOnly cookie, for images and server-sent events), and
API tokens (admin): create (the secret is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from db import auth_queries
from pipeline.errors import BadInput
from studio.api.deps import COOKIE_NAME, AdminDep, ContextDep, PrincipalDep, SessionDep
from studio.api.routes import ERRORS, IdPath
from studio.api.schemas import Me, SessionIn, TokenCreate, TokenCreated, TokenOut

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["auth"], responses=ERRORS)


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """The calling token's name and role."""
    return Me(id=principal.id, name=principal.name, role=principal.role)


@router.post("/session", response_model=Me)
def open_session(body: SessionIn, request: Request, response: Response, ctx: ContextDep) -> Me:
    """Check a token and keep it in an HttpOnly, SameSite=Strict cookie for the review page."""
    with ctx.sessions() as session:
        token = auth_queries.find_token(session, body.token)
    if token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "The API token is unknown or revoked.")
    response.set_cookie(
        COOKIE_NAME,
        body.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
        path="/",
    )
    return Me(id=token.id, name=token.name, role=token.role)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def close_session(response: Response) -> None:
    """Forget the review page's cookie."""
    response.delete_cookie(COOKIE_NAME, path="/")


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: SessionDep, principal: AdminDep) -> list[TokenOut]:
    """Every token, live and revoked (secrets are never shown again)."""
    return [TokenOut.model_validate(t, from_attributes=True) for t in auth_queries.list_tokens(session)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def create_token(body: TokenCreate, session: SessionDep, principal: AdminDep) -> TokenCreated:
    """A new token; its secret is in this answer only."""
    try:
        token, secret = auth_queries.create_token(session, name=body.name, role=body.role)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    session.commit()
    return TokenCreated(**TokenOut.model_validate(token, from_attributes=True).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: IdPath, session: SessionDep, principal: AdminDep) -> TokenOut:
    """Revoke a token; it stops working at once."""
    token = auth_queries.revoke_token(session, token_id)
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Token {token_id} does not exist.")
    session.commit()
    return TokenOut.model_validate(token, from_attributes=True)
