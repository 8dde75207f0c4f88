"""Reads the HTTP API and the review page make: pages of batches, drawings and jobs with filters, a
drawing's review summary, a batch's job states (for server-sent events) and its review state (export),
and what the batch list shows of each batch (drawing count, characters, first drawings for thumbnails).

Like `db.queries`, every function takes a `session` and never commits. `owner` limits rows to batches
submitted by that API token (a submitter reads only their own); None means every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Batch, Drawing, Job, Review, Revision

__all__ = [
    "DrawingSummary",
    "Page",
    "page_batches",
    "page_drawings",
    "page_jobs",
    "page_revisions",
    "retake_counts",
    "batch_job_states",
    "reviews_of_drawings",
    "BatchFront",
    "batch_fronts",
]


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of rows and how many rows match in all."""

    items: list[T]
    total: int


@dataclass
class DrawingSummary:
    """A drawing with what the batch view shows: its latest revision, latest job and retake count."""

    drawing: Drawing
    latest_revision: Revision | None
    latest_job: Job | None
    retakes: int = 0
    revision_count: int = 0


def _count(session: Session, stmt: sa.Select) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def _page(session: Session, stmt: sa.Select, *, limit: int, offset: int) -> Page:
    total = _count(session, stmt)
    return Page(items=list(session.scalars(stmt.limit(limit).offset(offset))), total=total)


def _batch_drawing_ids(batch_id: int) -> sa.Select:
    return sa.select(Drawing.id).where(Drawing.batch_id == batch_id)


def page_batches(session: Session, *, owner: int | None, limit: int, offset: int) -> Page[Batch]:
    """Batches, newest first."""
    stmt = sa.select(Batch).order_by(Batch.id.desc())
    if owner is not None:
        stmt = stmt.where(Batch.owner_token_id == owner)
    return _page(session, stmt, limit=limit, offset=offset)


def _latest(model: type[Revision] | type[Job]) -> sa.Subquery:
    return (
        sa.select(model.drawing_id.label("drawing_id"), sa.func.max(model.id).label("latest_id"))
        .where(model.drawing_id.is_not(None))
        .group_by(model.drawing_id)
        .subquery()
    )


def retake_counts(session: Session, drawing_ids: Sequence[int]) -> dict[int, int]:
    """Times each drawing was sent back: its 'changes_requested' verdicts over all its revisions."""
    stmt = (
        sa.select(Revision.drawing_id, sa.func.count(Review.id))
        .join(Review, Review.revision_id == Revision.id)
        .where(Revision.drawing_id.in_(list(drawing_ids)), Review.verdict == "changes_requested")
        .group_by(Revision.drawing_id)
    )
    return {drawing_id: int(n) for drawing_id, n in session.execute(stmt)}


def _revision_counts(session: Session, drawing_ids: Sequence[int]) -> dict[int, int]:
    stmt = (
        sa.select(Revision.drawing_id, sa.func.count(Revision.id))
        .where(Revision.drawing_id.in_(list(drawing_ids)))
        .group_by(Revision.drawing_id)
    )
    return {drawing_id: int(n) for drawing_id, n in session.execute(stmt)}


def page_drawings(
    session: Session,
    *,
    owner: int | None,
    batch_id: int | None = None,
    character: str | None = None,
    review_status: str | None = None,
    job_state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[DrawingSummary]:
    """Drawings in id order with their latest revision and job; filters apply to those latest ones."""
    rev, job = _latest(Revision), _latest(Job)
    stmt = (
        sa.select(Drawing.id, rev.c.latest_id, job.c.latest_id)
        .outerjoin(rev, rev.c.drawing_id == Drawing.id)
        .outerjoin(job, job.c.drawing_id == Drawing.id)
        .order_by(Drawing.id)
    )
    if owner is not None:
        stmt = stmt.join(Batch, Batch.id == Drawing.batch_id).where(Batch.owner_token_id == owner)
    if batch_id is not None:
        stmt = stmt.where(Drawing.batch_id == batch_id)
    if character:
        stmt = stmt.where(Drawing.character == character)
    if review_status:
        latest_status = sa.select(Revision.review_status).where(Revision.id == rev.c.latest_id)
        stmt = stmt.where(latest_status.scalar_subquery() == review_status)
    if job_state:
        latest_state = sa.select(Job.state).where(Job.id == job.c.latest_id)
        stmt = stmt.where(latest_state.scalar_subquery() == job_state)
    total = _count(session, stmt)
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    ids = [r[0] for r in rows]
    retakes, counts = retake_counts(session, ids), _revision_counts(session, ids)
    items = [
        DrawingSummary(
            drawing=session.get(Drawing, drawing_id),
            latest_revision=session.get(Revision, rev_id) if rev_id else None,
            latest_job=session.get(Job, job_id) if job_id else None,
            retakes=retakes.get(drawing_id, 0),
            revision_count=counts.get(drawing_id, 0),
        )
        for drawing_id, rev_id, job_id in rows
    ]
    return Page(items=items, total=total)


def page_jobs(
    session: Session,
    *,
    owner: int | None,
    batch_id: int | None = None,
    drawing_id: int | None = None,
    state: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Job]:
    """Jobs in id order; a batch's jobs include the recolors of its drawings."""
    stmt = sa.select(Job).order_by(Job.id)
    if owner is not None:
        owned = sa.select(Drawing.id).join(Batch, Batch.id == Drawing.batch_id)
        owned = owned.where(Batch.owner_token_id == owner)
        stmt = stmt.where(Job.drawing_id.in_(owned))
    if batch_id is not None:
        stmt = stmt.where(sa.or_(Job.batch_id == batch_id, Job.drawing_id.in_(_batch_drawing_ids(batch_id))))
    if drawing_id is not None:
        stmt = stmt.where(Job.drawing_id == drawing_id)
    if state:
        stmt = stmt.where(Job.state == state)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return _page(session, stmt, limit=limit, offset=offset)


def page_revisions(
    session: Session,
    *,
    owner: int | None,
    drawing_id: int | None = None,
    review_status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Revision]:
    """Revisions in id order."""
    stmt = sa.select(Revision).order_by(Revision.id)
    if owner is not None:
        stmt = stmt.join(Drawing, Drawing.id == Revision.drawing_id).join(Batch, Batch.id == Drawing.batch_id)
        stmt = stmt.where(Batch.owner_token_id == owner)
    if drawing_id is not None:
        stmt = stmt.where(Revision.drawing_id == drawing_id)
    if review_status:
        stmt = stmt.where(Revision.review_status == review_status)
    return _page(session, stmt, limit=limit, offset=offset)


def batch_job_states(session: Session, batch_id: int) -> list[tuple]:
    """(job id, kind, state, drawing id, revision id, attempts, error) of the batch's jobs and recolors."""
    stmt = (
        sa.select(Job.id, Job.kind, Job.state, Job.drawing_id, Job.revision_id, Job.attempts, Job.error)
        .where(sa.or_(Job.batch_id == batch_id, Job.drawing_id.in_(_batch_drawing_ids(batch_id))))
        .order_by(Job.id)
    )
    return [tuple(row) for row in session.execute(stmt)]


def reviews_of_drawings(session: Session, drawing_ids: Sequence[int]) -> dict[int, list[Review]]:
    """Every review of each drawing's revisions, oldest first."""
    stmt = (
        sa.select(Revision.drawing_id, Review)
        .join(Review, Review.revision_id == Revision.id)
        .where(Revision.drawing_id.in_(list(drawing_ids)))
        .order_by(Review.id)
    )
    out: dict[int, list[Review]] = {d: [] for d in drawing_ids}
    for drawing_id, review in session.execute(stmt):
        out[drawing_id].append(review)
    return out


@dataclass
class BatchFront:
    """What the batch list shows of a batch besides its job counts: how many drawings, which characters,
    and its first drawings with their latest revision (for a strip of thumbnails)."""

    drawing_count: int = 0
    characters: list[str] = field(default_factory=list)
    thumbnails: list[tuple[int, int | None]] = field(default_factory=list)  # (drawing id, revision id)


def batch_fronts(session: Session, batch_ids: Sequence[int], *, thumbnails: int = 8) -> dict[int, BatchFront]:
    """Per batch: its drawing count, its characters (named ones, sorted), and its first `thumbnails`
    drawings in id order with their latest revision id (None before the first). Three queries in all."""
    ids = list(batch_ids)
    out = {batch_id: BatchFront() for batch_id in ids}
    if not ids:
        return out
    counts = (
        sa.select(Drawing.batch_id, sa.func.count(Drawing.id))
        .where(Drawing.batch_id.in_(ids))
        .group_by(Drawing.batch_id)
    )
    for batch_id, n in session.execute(counts):
        out[batch_id].drawing_count = int(n)
    characters = (
        sa.select(Drawing.batch_id, Drawing.character)
        .where(Drawing.batch_id.in_(ids), Drawing.character != "")
        .distinct()
        .order_by(Drawing.batch_id, Drawing.character)
    )
    for batch_id, character in session.execute(characters):
        out[batch_id].characters.append(character)
    rev = _latest(Revision)
    ranked = (
        sa.select(
            Drawing.batch_id,
            Drawing.id.label("drawing_id"),
            rev.c.latest_id,
            sa.func.row_number().over(partition_by=Drawing.batch_id, order_by=Drawing.id).label("n"),
        )
        .outerjoin(rev, rev.c.drawing_id == Drawing.id)
        .where(Drawing.batch_id.in_(ids))
        .subquery()
    )
    first = (
        sa.select(ranked.c.batch_id, ranked.c.drawing_id, ranked.c.latest_id)
        .where(ranked.c.n <= thumbnails)
        .order_by(ranked.c.batch_id, ranked.c.drawing_id)
    )
    for batch_id, drawing_id, revision_id in session.execute(first):
        out[batch_id].thumbnails.append((drawing_id, revision_id))
    return out
