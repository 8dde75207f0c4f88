"""Reads and writes of what `tint publish --kitsu` sent: one `KitsuPublication` row per drawing, Kitsu
server and project, updated in place when the drawing is published again.

Each function takes a `session` and never commits; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import Drawing, KitsuPublication, Prompt, Revision, utcnow
from db.queries import latest_colored_revisions

__all__ = ["PublishCandidate", "publish_candidates", "get_publication", "record_publication"]


@dataclass(frozen=True)
class PublishCandidate:
    """One drawing of a batch and what publishing it needs, copied out of the session."""

    drawing_id: int
    name: str
    character: str
    revision_id: int | None  # its latest colorize or recolor revision; None when it has none yet
    review_status: str | None
    colored_sha: str | None
    prompt_kind: str | None
    prompt_payload: object
    edits: object


def publish_candidates(session: Session, batch_id: int) -> list[PublishCandidate]:
    """Each drawing of the batch with its latest colored revision and that revision's prompt, in id order."""
    rows = latest_colored_revisions(session, batch_id)
    prompt_ids = [r.prompt_id for _, r in rows if r is not None and r.prompt_id is not None]
    prompts = {p.id: p for p in session.scalars(sa.select(Prompt).where(Prompt.id.in_(prompt_ids)))}
    out = []
    for drawing, revision in rows:
        prompt = prompts.get(revision.prompt_id) if revision is not None else None
        out.append(
            PublishCandidate(
                drawing_id=drawing.id,
                name=drawing.name,
                character=drawing.character,
                revision_id=revision.id if revision is not None else None,
                review_status=revision.review_status if revision is not None else None,
                colored_sha=(revision.assets or {}).get("colored") if revision is not None else None,
                prompt_kind=prompt.kind if prompt is not None else None,
                prompt_payload=prompt.payload if prompt is not None else None,
                edits=revision.edits if revision is not None else None,
            )
        )
    return out


def get_publication(
    session: Session, *, drawing_id: int, kitsu_url: str, project: str
) -> KitsuPublication | None:
    """The record of what was last published for the drawing to that Kitsu project, or None."""
    stmt = sa.select(KitsuPublication).where(
        KitsuPublication.drawing_id == drawing_id,
        KitsuPublication.kitsu_url == kitsu_url,
        KitsuPublication.project == project,
    )
    return session.scalars(stmt).one_or_none()


def record_publication(
    session: Session,
    *,
    drawing_id: int,
    kitsu_url: str,
    project: str,
    revision_id: int,
    review_status: str,
    task_status: str,
    project_id: str,
    entity_id: str,
    task_id: str,
    comment_id: str,
    preview_id: str | None,
    published_at: datetime | None = None,
) -> KitsuPublication:
    """Create or update the drawing's publication record for that Kitsu project (one row, never two)."""
    row = get_publication(session, drawing_id=drawing_id, kitsu_url=kitsu_url, project=project)
    if row is None:
        if session.get(Drawing, drawing_id) is None or session.get(Revision, revision_id) is None:
            raise ValueError(f"drawing {drawing_id} or revision {revision_id} does not exist.")
        row = KitsuPublication(drawing_id=drawing_id, kitsu_url=kitsu_url, project=project)
        session.add(row)
    row.revision_id = revision_id
    row.review_status = review_status
    row.task_status = task_status
    row.project_id = project_id
    row.entity_id = entity_id
    row.task_id = task_id
    row.comment_id = comment_id
    row.preview_id = preview_id
    row.published_at = published_at or utcnow()
    session.flush()
    return row
