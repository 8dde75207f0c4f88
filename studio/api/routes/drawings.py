"""Drawings: list with filters (batch, character, review status, job state), one with its revision
timeline, prompts and jobs, its prompt history, and its line drawing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from db import api_queries, queries
from db.api_queries import DrawingSummary
from studio.api.assets import asset_response
from studio.api.deps import ContextDep, SessionDep, SubmitterDep, owned_batch, owned_drawing
from studio.api.flags import revision_flags
from studio.api.routes import ERRORS, IdPath, IdQuery, Limit, Offset
from studio.api.schemas import (
    DrawingDetail,
    DrawingOut,
    DrawingPage,
    JobState,
    PromptOut,
    ReviewStatus,
    job_out,
    out_of,
    prompt_out,
    revision_out,
)

__all__ = ["router", "drawing_out"]

router = APIRouter(prefix="/api/drawings", tags=["drawings"], responses=ERRORS)


def drawing_out(summary: DrawingSummary) -> DrawingOut:
    d, rev = summary.drawing, summary.latest_revision
    line_url = f"/api/drawings/{d.id}/line"
    return out_of(
        d,
        DrawingOut,
        line_url=line_url,
        thumbnail_url=f"/api/revisions/{rev.id}/assets/colored"
        if rev and "colored" in rev.assets
        else line_url,
        review_status=rev.review_status if rev else None,
        latest_revision_id=rev.id if rev else None,
        latest_job=job_out(summary.latest_job) if summary.latest_job else None,
        retakes=summary.retakes,
        revision_count=summary.revision_count,
        flags=revision_flags(rev, rev.job.result if rev is not None and rev.job is not None else None),
    )


@router.get("", response_model=DrawingPage)
def list_drawings(
    session: SessionDep,
    principal: SubmitterDep,
    batch: IdQuery = None,
    character: Annotated[str | None, Query(max_length=200)] = None,
    review_status: ReviewStatus | None = None,
    job_state: JobState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DrawingPage:
    """Drawings in id order; `review_status` and `job_state` filter on the latest revision and job."""
    if batch is not None:
        owned_batch(session, principal, batch)
    page = api_queries.page_drawings(
        session,
        owner=principal.owner_filter,
        batch_id=batch,
        character=character,
        review_status=review_status,
        job_state=job_state,
        limit=limit,
        offset=offset,
    )
    return DrawingPage(
        items=[drawing_out(s) for s in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/{drawing_id}", response_model=DrawingDetail)
def get_drawing(drawing_id: IdPath, session: SessionDep, principal: SubmitterDep) -> DrawingDetail:
    """A drawing with its revisions (the timeline; each names its parent), prompts and jobs."""
    drawing = owned_drawing(session, principal, drawing_id)
    page = api_queries.page_jobs(session, owner=None, drawing_id=drawing_id, limit=1000)
    retakes = api_queries.retake_counts(session, [drawing_id]).get(drawing_id, 0)
    revisions = queries.drawing_revisions(session, drawing_id)
    base = drawing_out(
        DrawingSummary(
            drawing=drawing,
            latest_revision=revisions[-1] if revisions else None,
            latest_job=page.items[-1] if page.items else None,
            retakes=retakes,
            revision_count=len(revisions),
        )
    )
    return DrawingDetail(
        **base.model_dump(),
        revisions=[revision_out(r) for r in revisions],
        prompts=[prompt_out(p) for p in queries.prompt_history(session, drawing_id)],
        jobs=[job_out(j) for j in page.items],
    )


@router.get("/{drawing_id}/prompts", response_model=list[PromptOut])
def prompt_history(drawing_id: IdPath, session: SessionDep, principal: SubmitterDep) -> list[PromptOut]:
    """The drawing's prompts in the order they were made (recolor target prompts name their parent)."""
    owned_drawing(session, principal, drawing_id)
    return [prompt_out(p) for p in queries.prompt_history(session, drawing_id)]


@router.get(
    "/{drawing_id}/line",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 307: {"description": "Presigned S3 URL."}},
)
def line_drawing(
    drawing_id: IdPath, ctx: ContextDep, session: SessionDep, principal: SubmitterDep
) -> Response:
    """The line drawing as uploaded."""
    drawing = owned_drawing(session, principal, drawing_id)
    return asset_response(ctx, session, drawing.line_sha, filename=drawing.name)
