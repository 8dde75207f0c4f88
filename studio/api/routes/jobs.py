"""Jobs: list with filters, read one (state, attempts, error), cancel, retry."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from db import api_queries, job_queries
from studio.api.deps import ContextDep, SessionDep, SubmitterDep, owned_batch, owned_job
from studio.api.routes import ERRORS, IdPath, IdQuery, Limit, Offset
from studio.api.schemas import ErrorOut, JobKind, JobOut, JobPage, JobState, job_out
from workers.submit import retry_job

__all__ = ["router"]

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=ERRORS)
CONFLICT = {409: {"model": ErrorOut, "description": "The job is not in a state that allows this."}}


@router.get("", response_model=JobPage)
def list_jobs(
    session: SessionDep,
    principal: SubmitterDep,
    batch: IdQuery = None,
    drawing: IdQuery = None,
    state: JobState | None = None,
    kind: JobKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JobPage:
    """Jobs in id order; a batch's jobs include the recolors of its drawings."""
    if batch is not None:
        owned_batch(session, principal, batch)
    page = api_queries.page_jobs(
        session,
        owner=principal.owner_filter,
        batch_id=batch,
        drawing_id=drawing,
        state=state,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return JobPage(items=[job_out(j) for j in page.items], total=page.total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: IdPath, session: SessionDep, principal: SubmitterDep) -> JobOut:
    """One job: kind, state, attempts, error, timings and the revision it made."""
    return job_out(owned_job(session, principal, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, responses=CONFLICT)
def cancel_job(job_id: IdPath, session: SessionDep, principal: SubmitterDep) -> JobOut:
    """Cancel a queued or running job (a running job's result is then not recorded)."""
    job = owned_job(session, principal, job_id)
    if not job_queries.cancel_job(session, job_id):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Job {job_id} is {job.state}; only queued or running jobs can be cancelled.",
        )
    session.commit()
    return job_out(job_queries.get_job(session, job_id))


@router.post("/{job_id}/retry", response_model=JobOut, responses=CONFLICT)
def retry(job_id: IdPath, ctx: ContextDep, session: SessionDep, principal: SubmitterDep) -> JobOut:
    """Queue a failed or cancelled job again."""
    job = owned_job(session, principal, job_id)
    if job.state not in ("failed", "cancelled"):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Job {job_id} is {job.state}; only failed or cancelled jobs can be retried.",
        )
    session.rollback()  # end the read transaction before retry_job writes in its own
    retry_job(ctx, job_id)
    return job_out(job_queries.get_job(session, job_id))
