"""Reads and writes of Tint's records: assets, batches, drawings, prompts, revisions and reviews.

Each function takes a `session` and never commits: the caller owns the transaction
(`with session.begin(): ...`), so a revision and its job's `done` land in one commit. Functions flush
when they create rows, so returned objects have their ids. State changes that can race between workers
(claim, finish, requeue) are single conditional UPDATEs, safe on SQLite and PostgreSQL alike.

The job lifecycle's state changes are in `db.job_queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from db.models import (
    JOB_STATES,
    PROMPT_KINDS,
    REVIEW_VERDICTS,
    Asset,
    Batch,
    Drawing,
    Job,
    Prompt,
    Review,
    Revision,
)

__all__ = [
    "dialect_insert",
    "check_choice",
    "add_asset",
    "add_assets",
    "get_asset",
    "create_batch",
    "get_batch",
    "list_batches",
    "batch_jobs",
    "batches_progress",
    "batch_failures",
    "create_drawing",
    "get_drawing",
    "create_prompt",
    "get_prompt",
    "prompt_history",
    "prompt_lineage",
    "get_revision",
    "drawing_revisions",
    "latest_colored_revisions",
    "revision_chain",
    "add_review",
]

# A chain deeper than this means a cycle in the data; the recursive query stops there instead of looping.
MAX_CHAIN_DEPTH = 10_000


def dialect_insert(session: Session, model: type[Any]) -> Any:
    """A dialect INSERT that supports ON CONFLICT (SQLite and PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"database {name!r} is not supported; use SQLite or PostgreSQL.")


def check_choice(value: str | None, allowed: Sequence[str | None], what: str) -> None:
    """ValueError naming `what` unless `value` is one of `allowed` (states and kinds are plain strings)."""
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(map(repr, allowed))}.")


# --- assets ---------------------------------------------------------------------------------------


def add_asset(
    session: Session,
    *,
    sha256: str,
    key: str,
    media_type: str,
    size: int,
    width: int | None = None,
    height: int | None = None,
) -> Asset:
    """Record a stored blob; an existing sha256 returns the existing row (no duplicate, no error)."""
    stmt = (
        dialect_insert(session, Asset)
        .values(sha256=sha256, key=key, media_type=media_type, size=size, width=width, height=height)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    session.execute(stmt)
    asset = session.get(Asset, sha256)
    assert asset is not None
    return asset


def add_assets(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record many stored blobs in one INSERT; rows whose sha256 exists already are left as they are."""
    if rows:
        unique = list({row["sha256"]: row for row in rows}.values())
        session.execute(
            dialect_insert(session, Asset).on_conflict_do_nothing(index_elements=["sha256"]), unique
        )


def get_asset(session: Session, sha256: str) -> Asset | None:
    return session.get(Asset, sha256)


# --- batches, drawings, prompts -------------------------------------------------------------------


def create_batch(session: Session, *, name: str, submitted_by: str = "", manifest: Any) -> Batch:
    """A new batch holding the manifest exactly as submitted."""
    batch = Batch(name=name, submitted_by=submitted_by, manifest=manifest)
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: int, *, with_manifest: bool = True) -> Batch | None:
    """The batch, or None; with_manifest=False leaves its manifest (megabytes for a season) unread."""
    return session.get(Batch, batch_id, options=() if with_manifest else (defer(Batch.manifest),))


def list_batches(session: Session, *, limit: int = 50) -> list[Batch]:
    """The newest batches first (their manifests are not loaded until read)."""
    stmt = sa.select(Batch).options(defer(Batch.manifest)).order_by(Batch.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def batch_failures(session: Session, batch_id: int, *, limit: int = 20) -> list[tuple[int, str, str | None]]:
    """(job id, drawing name, error) of the batch's failed jobs, first `limit` of them."""
    stmt = (
        sa.select(Job.id, Drawing.name, Job.error)
        .outerjoin(Drawing, Drawing.id == Job.drawing_id)
        .where(Job.batch_id == batch_id, Job.state == "failed")
        .order_by(Job.id)
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(stmt)]


def batch_jobs(session: Session, batch_id: int) -> list[Job]:
    """A batch's jobs in submission order."""
    return list(session.scalars(sa.select(Job).where(Job.batch_id == batch_id).order_by(Job.id)))


def batches_progress(session: Session, batch_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Number of each batch's jobs in each state; every state is present, zero when none."""
    out = {bid: dict.fromkeys(JOB_STATES, 0) for bid in batch_ids}
    stmt = (
        sa.select(Job.batch_id, Job.state, sa.func.count())
        .where(Job.batch_id.in_(list(batch_ids)))
        .group_by(Job.batch_id, Job.state)
    )
    for batch_id, state, count in session.execute(stmt):
        out[batch_id][state] = count
    return out


def create_drawing(
    session: Session, *, batch_id: int | None, name: str, character: str = "", view: str = "", line_sha: str
) -> Drawing:
    """A new drawing whose line art is the asset `line_sha` (add the asset first)."""
    drawing = Drawing(batch_id=batch_id, name=name, character=character, view=view, line_sha=line_sha)
    session.add(drawing)
    session.flush()
    return drawing


def get_drawing(session: Session, drawing_id: int) -> Drawing | None:
    return session.get(Drawing, drawing_id)


def create_prompt(
    session: Session,
    *,
    drawing_id: int,
    kind: str,
    payload: Any,
    hint_sha: str | None = None,
    parent_prompt_id: int | None = None,
) -> Prompt:
    """A new prompt, stored as the user gave it; `parent_prompt_id` when it was derived from another."""
    check_choice(kind, PROMPT_KINDS, "prompt kind")
    prompt = Prompt(
        drawing_id=drawing_id,
        kind=kind,
        payload=payload,
        hint_sha=hint_sha,
        parent_prompt_id=parent_prompt_id,
    )
    session.add(prompt)
    session.flush()
    return prompt


def get_prompt(session: Session, prompt_id: int) -> Prompt | None:
    return session.get(Prompt, prompt_id)


def prompt_history(session: Session, drawing_id: int) -> list[Prompt]:
    """A drawing's prompts in the order they were made."""
    return list(session.scalars(sa.select(Prompt).where(Prompt.drawing_id == drawing_id).order_by(Prompt.id)))


def _ancestry(session: Session, model: Any, parent: Any, row_id: int) -> list[Any]:
    """The `model` row and its ancestors along the `parent` column, root first; one recursive query (at
    most MAX_CHAIN_DEPTH steps, so a cycle written by hand cannot loop). [] if the id is unknown."""
    chain = (
        sa.select(model.id, parent.label("parent_id"), sa.literal(0).label("depth"))
        .where(model.id == row_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        sa.select(model.id, parent, chain.c.depth + 1)
        .join(chain, model.id == chain.c.parent_id)
        .where(chain.c.depth < MAX_CHAIN_DEPTH)
    )
    stmt = sa.select(model).join(chain, model.id == chain.c.id).order_by(chain.c.depth.desc())
    return list(session.scalars(stmt))


def prompt_lineage(session: Session, prompt_id: int) -> list[Prompt]:
    """The prompt and the prompts it was derived from, root first; one recursive query. [] if unknown."""
    return _ancestry(session, Prompt, Prompt.parent_prompt_id, prompt_id)


# --- revisions and reviews ------------------------------------------------------------------------


def get_revision(session: Session, revision_id: int) -> Revision | None:
    return session.get(Revision, revision_id)


def drawing_revisions(session: Session, drawing_id: int) -> list[Revision]:
    """A drawing's revisions in the order they were made."""
    stmt = sa.select(Revision).where(Revision.drawing_id == drawing_id).order_by(Revision.id)
    return list(session.scalars(stmt))


def latest_colored_revisions(session: Session, batch_id: int) -> list[tuple[Drawing, Revision | None]]:
    """Each drawing of the batch, in id order, with its latest colorize or recolor revision (None if none)."""
    drawings = sa.select(Drawing.id).where(Drawing.batch_id == batch_id)
    latest = (
        sa.select(Revision.drawing_id, sa.func.max(Revision.id).label("revision_id"))
        .where(Revision.drawing_id.in_(drawings), Revision.kind.in_(("colorize", "recolor")))
        .group_by(Revision.drawing_id)
        .subquery()
    )
    stmt = (
        sa.select(Drawing, Revision)
        .outerjoin(latest, latest.c.drawing_id == Drawing.id)
        .outerjoin(Revision, Revision.id == latest.c.revision_id)
        .where(Drawing.batch_id == batch_id)
        .order_by(Drawing.id)
    )
    return [(drawing, revision) for drawing, revision in session.execute(stmt)]


def revision_chain(session: Session, revision_id: int) -> list[Revision]:
    """The revision and its ancestors (parent_revision_id), root first; one recursive query; [] if unknown."""
    return _ancestry(session, Revision, Revision.parent_revision_id, revision_id)


def add_review(
    session: Session,
    *,
    revision_id: int,
    verdict: str | None = None,
    comment: str = "",
    blocks: Sequence[int] = (),
    author: str = "",
) -> Review:
    """An art lead's verdict (or, with verdict None, a comment); a verdict becomes the review status."""
    check_choice(verdict, (*REVIEW_VERDICTS, None), "review verdict")
    review = Review(
        revision_id=revision_id, verdict=verdict, comment=comment, blocks=list(blocks), author=author
    )
    session.add(review)
    if verdict is not None:
        session.execute(sa.update(Revision).where(Revision.id == revision_id).values(review_status=verdict))
    session.flush()
    return review
