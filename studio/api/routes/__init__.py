"""The API's routers, one per resource; `ERRORS` documents the error answers every route can give, and
the parameter aliases bound ids and pages so no value reaches the database out of range."""

from typing import Annotated

from fastapi import Path, Query

from studio.api.schemas import ErrorOut

__all__ = ["ERRORS", "MAX_ID", "IdPath", "IdQuery", "Limit", "Offset"]

MAX_ID = 2**31 - 1  # ids are 32-bit integers on both databases
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

ERRORS: dict[int | str, dict] = {
    401: {"model": ErrorOut, "description": "No API token, or an unknown or revoked one."},
    403: {"model": ErrorOut, "description": "The token's role is too low, or the batch is another's."},
    404: {"model": ErrorOut, "description": "No such resource."},
    422: {"model": ErrorOut, "description": "The request or its input is invalid."},
}
