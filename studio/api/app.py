"""The FastAPI app: routers, error handling, the review page, and the in-process worker on the embedded
default (so `tint serve` needs no other server).

Errors from Tint's tree become HTTP answers with the message as `detail`: NotFound 404, an upload over
the size limit 413, other BadInput 422, Transient 503 (with Retry-After), any other TintError 400.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from pipeline.errors import BadInput, NotFound, TintError, Transient
from studio.api.limits import MAX_REQUEST_BYTES, BodyLimit
from studio.api.routes import batches, drawings, jobs, revisions, tokens
from studio.api.uploads import MAX_FILE_BYTES, UploadTooLarge
from workers.context import Context, get_context, set_context

__all__ = ["create_app"]

log = logging.getLogger("tint.api")
STATIC = resources.files("studio") / "static"


def _status_of(exc: TintError) -> int:
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, BadInput):
        return 422
    if isinstance(exc, Transient):
        return 503
    return 400


async def _tint_error(_request: Request, exc: Exception) -> JSONResponse:
    code = _status_of(exc)  # type: ignore[arg-type]
    headers = {"Retry-After": "5"} if code == 503 else None
    return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """Validation errors as one sentence, like every other error (`detail` is always a string)."""
    problems = [
        f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()  # type: ignore[attr-defined]
    ]
    return JSONResponse({"detail": "Invalid request: " + "; ".join(problems) + "."}, status_code=422)


def _worker_needed(ctx: Context, start_worker: bool | None) -> bool:
    if start_worker is not None:
        return start_worker
    from workers.embedded import worker_is_running

    return ctx.settings.embedded_broker and not worker_is_running()


def create_app(
    ctx: Context | None = None,
    *,
    start_worker: bool | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> FastAPI:
    """The API and review page on `ctx` (the process's context by default).

    `start_worker`: run an in-process worker for the app's lifetime; by default only on the embedded
    broker when no worker is beating.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = ctx or get_context()
        set_context(context)  # the in-process worker's tasks read the process context
        app.state.ctx = context
        with contextlib.ExitStack() as stack:
            if _worker_needed(context, start_worker):
                from workers.embedded import in_process_worker

                stack.enter_context(in_process_worker())
                log.info("in-process worker started for the API's lifetime")
            yield

    app = FastAPI(
        title="Tint",
        version="0.1.0",
        summary="Colorize line drawings in batches, review them, recolor blocks.",
        lifespan=lifespan,
    )
    app.state.max_file_bytes = max_file_bytes
    app.add_middleware(BodyLimit, max_bytes=max_request_bytes)
    app.add_exception_handler(TintError, _tint_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for module in (batches, drawings, revisions, jobs, tokens):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/review")

    @app.get("/review", include_in_schema=False)
    def review_page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})

    from workers.metrics import metrics_asgi_app

    app.mount("/metrics", metrics_asgi_app())
    return app
