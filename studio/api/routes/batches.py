"""Batches: submit a manifest with its files, list, read with progress, follow job states, export reviews,
the color consistency report, and a part recolored across a character."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from db import api_queries, job_queries, queries
from pipeline.report import DEFAULT_THRESHOLD
from studio.api import events, export
from studio.api.deps import ContextDep, LeadDep, SessionDep, SubmitterDep, owned_batch
from studio.api.routes import ERRORS, IdPath, Limit, Offset
from studio.api.schemas import (
    BatchOut,
    BatchPage,
    BatchReportOut,
    CharacterRecolorIn,
    ErrorOut,
    JobOut,
    PropagateIn,
    PropagateOut,
    batch_out,
    job_out,
)
from studio.api.uploads import submit_uploads
from studio.report import batch_report, report_json
from workers.character_recolor import submit_character_recolor
from workers.propagate import submit_propagate

__all__ = ["router"]

router = APIRouter(prefix="/api/batches", tags=["batches"], responses=ERRORS)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    responses={413: {"model": ErrorOut, "description": "The request or a file is over the size limit."}},
)
async def submit_batch(
    request: Request,
    ctx: ContextDep,
    principal: SubmitterDep,
    manifest: Annotated[
        UploadFile, File(description="The batch manifest (YAML or JSON), as for `tint submit`.")
    ],
    files: Annotated[
        list[UploadFile], File(description="The files the manifest names, uploaded under those names.")
    ] = [],  # noqa: B006
) -> BatchOut:
    """Submit a batch: every image is checked before any job is made; one colorize job per drawing."""
    batch_id = await submit_uploads(
        ctx,
        manifest=manifest,
        files=files,
        submitted_by=principal.name,
        owner_token_id=principal.id,
        max_file_bytes=request.app.state.max_file_bytes,
    )
    with ctx.sessions() as session:
        batch = owned_batch(session, principal, batch_id)
        front = api_queries.batch_fronts(session, [batch_id])[batch_id]
        return batch_out(batch, queries.batches_progress(session, [batch_id])[batch_id], front)


@router.get("", response_model=BatchPage)
def list_batches(
    session: SessionDep, principal: SubmitterDep, limit: Limit = 50, offset: Offset = 0
) -> BatchPage:
    """Batches, newest first (a submitter sees their own)."""
    page = api_queries.page_batches(session, owner=principal.owner_filter, limit=limit, offset=offset)
    ids = [b.id for b in page.items]
    progress, fronts = queries.batches_progress(session, ids), api_queries.batch_fronts(session, ids)
    items = [batch_out(b, progress[b.id], fronts[b.id]) for b in page.items]
    return BatchPage(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: IdPath, session: SessionDep, principal: SubmitterDep) -> BatchOut:
    """One batch: its job counts per state, drawing count, characters and first drawings' thumbnails."""
    batch = owned_batch(session, principal, batch_id)
    front = api_queries.batch_fronts(session, [batch_id])[batch_id]
    return batch_out(batch, queries.batches_progress(session, [batch_id])[batch_id], front)


@router.get(
    "/{batch_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`job` events, then `end`."}},
)
def batch_events(
    batch_id: IdPath,
    request: Request,
    ctx: ContextDep,
    principal: SubmitterDep,
    follow: bool = True,
    timeout_s: Annotated[float, Query(ge=1, le=3600)] = 300,
) -> StreamingResponse:
    """Server-sent events: a `job` event for each job of the batch as its state changes."""
    # A session of its own, closed before streaming: the stream must not hold a transaction open.
    with ctx.sessions() as session:
        owned_batch(session, principal, batch_id)
    stream = events.job_events(ctx, request, batch_id=batch_id, follow=follow, timeout_s=timeout_s)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


@router.get(
    "/{batch_id}/export",
    responses={200: {"content": {"text/csv": {}, "application/json": {}}, "description": "Review state."}},
)
def export_reviews(
    batch_id: IdPath,
    session: SessionDep,
    principal: SubmitterDep,
    format: Literal["csv", "json"] = "csv",  # noqa: A002
) -> Response:
    """Review state per drawing (revision, status, retakes, comments) as CSV or JSON for a tracker."""
    batch = owned_batch(session, principal, batch_id)
    rows = export.review_rows(session, batch)
    filename = f"tint-batch-{batch_id}-review.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "json":
        return Response(json.dumps(rows, indent=1), media_type="application/json", headers=headers)
    return Response(export.rows_to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/{batch_id}/report", response_model=BatchReportOut)
def consistency_report(
    batch_id: IdPath,
    ctx: ContextDep,
    principal: SubmitterDep,
    threshold: Annotated[
        float, Query(ge=0, le=100, description="CIEDE2000 over which a part is flagged.")
    ] = DEFAULT_THRESHOLD,
) -> BatchReportOut:
    """Per character and part, the color each drawing got; flags drawings whose part differs from the rest."""
    with ctx.sessions() as session:  # closed before the images are read and segmented
        owned_batch(session, principal, batch_id)
    return BatchReportOut(**report_json(batch_report(ctx, batch_id, threshold=threshold)))


@router.post("/{batch_id}/recolor", status_code=status.HTTP_202_ACCEPTED, response_model=list[JobOut])
def recolor_character(
    batch_id: IdPath, body: CharacterRecolorIn, ctx: ContextDep, session: SessionDep, principal: LeadDep
) -> list[JobOut]:
    """Recolor parts across a character: one recolor job per colored drawing of it, each parented on the
    drawing's latest colorize or recolor revision; drawings not colored yet are left out."""
    owned_batch(session, principal, batch_id)
    parts = {k.strip(): v.lower() for k, v in body.parts.items()}
    queued = submit_character_recolor(ctx, batch_id=batch_id, character=body.character, parts=parts)
    session.rollback()  # end the read transaction, so the new jobs are visible
    return [job_out(job_queries.get_job(session, job_id)) for *_, job_id in queued.jobs]


@router.post("/{batch_id}/propagate", status_code=status.HTTP_202_ACCEPTED, response_model=PropagateOut)
def propagate_character(
    batch_id: IdPath, body: PropagateIn, ctx: ContextDep, session: SessionDep, principal: LeadDep
) -> PropagateOut:
    """Color every drawing of a character not approved yet from its approved drawings (their colored
    pictures as the reference; each drawing's own hints still win): one colorize job per drawing, each
    revision parented on the drawing's latest. The same call on an unchanged batch queues nothing new."""
    owned_batch(session, principal, batch_id)
    done = submit_propagate(ctx, batch_id=batch_id, character=body.character)
    session.rollback()  # end the read transaction, so the new jobs are visible
    return PropagateOut(
        character=done.character,
        references=list(done.references),
        jobs=[job_out(job_queries.get_job(session, job_id)) for job_id in done.jobs],
    )
