"""Serving stored assets: a redirect to a presigned URL when storage is S3, the file streamed from disk
when it is a local directory. Assets are content-addressed, so clients may cache them forever.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from db import queries
from workers.context import Context
from workers.storage import LocalStorage, S3Storage

__all__ = ["PRESIGN_S", "asset_response"]

PRESIGN_S = 900
_IMMUTABLE = "private, max-age=31536000, immutable"


def asset_response(ctx: Context, session: Session, sha: str, *, filename: str) -> Response:
    """The asset `sha` as a response: 307 to S3, or the bytes, with its recorded media type."""
    asset = queries.get_asset(session, sha)
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Asset {sha} is not recorded.")
    storage = ctx.storage
    if isinstance(storage, S3Storage):
        return RedirectResponse(storage.url(sha, expires_s=PRESIGN_S), status_code=307)
    headers = {"Cache-Control": _IMMUTABLE, "ETag": f'"{sha}"'}
    if isinstance(storage, LocalStorage):
        path = storage.path(sha)
        if not path.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"Asset {sha} is recorded but not in storage.")
        return FileResponse(
            path,
            media_type=asset.media_type,
            headers=headers,
            filename=filename,
            content_disposition_type="inline",
        )
    return Response(storage.get(sha), media_type=asset.media_type, headers=headers)
