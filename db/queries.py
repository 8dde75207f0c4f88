"""Every read and write Tint makes on its tables; the job lifecycle's state changes live here.

Each function takes a `session` and never commits: the caller owns the transaction
(`with session.begin(): ...`), so a revision and its job's `done` land in one commit. Functions flush
when they create rows, so returned objects have their ids. State changes that can race between workers
(claim, finish, requeue) are single conditional UPDATEs, safe on SQLite and PostgreSQL alike.

Job states: queued -> running -> done | failed; cancelled from queued/running; `requeue_job` puts any
job that is not done back to queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from db.models import (
    ACTIVE_JOB_STATES,
    JOB_KINDS,
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
    WorkerHeartbeat,
    utcnow,
)

__all__ = [
    "REVISION_FIELDS",
    "add_asset",
    "add_assets",
    "get_asset",
    "create_batch",
    "get_batch",
    "list_batches",
    "batch_jobs",
    "batch_progress",
    "batch_failures",
    "create_drawing",
    "get_drawing",
    "create_prompt",
    "get_prompt",
    "prompt_history",
    "prompt_lineage",
    "create_job",
    "create_drawing_jobs",
    "get_job",
    "claim_job",
    "finish_job",
    "fail_job",
    "requeue_job",
    "cancel_job",
    "stranded_jobs",
    "get_revision",
    "drawing_revisions",
    "revision_chain",
    "add_review",
    "touch_worker",
    "forget_worker",
    "live_workers",
]

# A chain deeper than this means a cycle in the data; the recursive query stops there instead of looping.
MAX_CHAIN_DEPTH = 10_000

# Revision fields finish_job accepts from the worker; the rest are defaulted from the job.
REVISION_FIELDS = frozenset(
    {
        "drawing_id",
        "prompt_id",
        "parent_revision_id",
        "kind",
        "edits",
        "assets",
        "inputs",
        "model_versions",
        "proof",
        "review_status",
        "flagged",
    }
)


def _insert(session: Session, model: type[Any]) -> Any:
    """A dialect INSERT that supports ON CONFLICT (SQLite and PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"database {name!r} is not supported; use SQLite or PostgreSQL.")


def _check(value: str | None, allowed: Sequence[str | None], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(map(repr, allowed))}.")


def _update_job(session: Session, job_id: int, where: sa.ColumnElement[bool], **values: Any) -> bool:
    """Conditional UPDATE of one job; True if it matched. Follow with _load_job to refresh the ORM copy."""
    stmt = sa.update(Job).where(Job.id == job_id, where).values(**values)
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    return result.rowcount == 1


def _load_job(session: Session, job_id: int) -> Job | None:
    """The job as the database has it now (overwrites a stale copy in the identity map)."""
    return session.get(Job, job_id, populate_existing=True)


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
        _insert(session, Asset)
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
        session.execute(_insert(session, Asset).on_conflict_do_nothing(index_elements=["sha256"]), unique)


def get_asset(session: Session, sha256: str) -> Asset | None:
    return session.get(Asset, sha256)


# --- batches, drawings, prompts -------------------------------------------------------------------


def create_batch(session: Session, *, name: str, submitted_by: str = "", manifest: Any) -> Batch:
    """A new batch holding the manifest exactly as submitted."""
    batch = Batch(name=name, submitted_by=submitted_by, manifest=manifest)
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: int) -> Batch | None:
    return session.get(Batch, batch_id)


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


def batch_progress(session: Session, batch_id: int) -> dict[str, int]:
    """Number of the batch's jobs in each state; every state is present, zero when none."""
    stmt = sa.select(Job.state, sa.func.count()).where(Job.batch_id == batch_id).group_by(Job.state)
    progress = dict.fromkeys(JOB_STATES, 0)
    for state, count in session.execute(stmt):
        progress[state] = count
    return progress


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
    _check(kind, PROMPT_KINDS, "prompt kind")
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


def prompt_lineage(session: Session, prompt_id: int) -> list[Prompt]:
    """The prompt and the prompts it was derived from, root first; one recursive query. [] if unknown."""
    lineage = (
        sa.select(Prompt.id, Prompt.parent_prompt_id, sa.literal(0).label("depth"))
        .where(Prompt.id == prompt_id)
        .cte("lineage", recursive=True)
    )
    lineage = lineage.union_all(
        sa.select(Prompt.id, Prompt.parent_prompt_id, lineage.c.depth + 1)
        .join(lineage, Prompt.id == lineage.c.parent_prompt_id)
        .where(lineage.c.depth < MAX_CHAIN_DEPTH)
    )
    stmt = sa.select(Prompt).join(lineage, Prompt.id == lineage.c.id).order_by(lineage.c.depth.desc())
    return list(session.scalars(stmt))


# --- jobs -----------------------------------------------------------------------------------------


def create_job(
    session: Session,
    *,
    kind: str,
    params: dict[str, Any],
    batch_id: int | None = None,
    drawing_id: int | None = None,
    prompt_id: int | None = None,
    parent_revision_id: int | None = None,
    idempotency_key: str | None = None,
    deadline_s: int | None = 600,
) -> Job:
    """A queued job. With an `idempotency_key` that already exists, the existing job is returned as is.

    `deadline_s` bounds how long the job may sit queued before the reconciler re-enqueues it.
    """
    _check(kind, JOB_KINDS, "job kind")
    now = utcnow()
    values = dict(
        kind=kind,
        state="queued",
        params=params,
        batch_id=batch_id,
        drawing_id=drawing_id,
        prompt_id=prompt_id,
        parent_revision_id=parent_revision_id,
        idempotency_key=idempotency_key,
        queued_at=now,
        deadline_at=None if deadline_s is None else now + timedelta(seconds=deadline_s),
    )
    if idempotency_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    # INSERT .. ON CONFLICT DO NOTHING: two submitters racing on one key both get the one job.
    session.execute(
        _insert(session, Job).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    job = session.scalars(sa.select(Job).where(Job.idempotency_key == idempotency_key)).one()
    return job


def create_drawing_jobs(
    session: Session,
    *,
    batch_id: int | None,
    drawings: Sequence[dict[str, Any]],
    deadline_s: int | None = 600,
) -> list[int]:
    """For each entry, a drawing, its prompt and a queued colorize job, in three batched INSERTs.

    An entry holds name, character, view, line_sha, prompt_kind, payload, hint_sha and optionally the
    job's params. Returns the job
    ids in the order of `drawings`.
    """
    if not drawings:
        return []
    for entry in drawings:
        _check(entry["prompt_kind"], PROMPT_KINDS, "prompt kind")
    drawing_ids = session.scalars(
        sa.insert(Drawing).returning(Drawing.id, sort_by_parameter_order=True),
        [
            {
                "batch_id": batch_id,
                "name": d["name"],
                "character": d.get("character", ""),
                "view": d.get("view", ""),
                "line_sha": d["line_sha"],
            }
            for d in drawings
        ],
    ).all()
    prompt_ids = session.scalars(
        sa.insert(Prompt).returning(Prompt.id, sort_by_parameter_order=True),
        [
            {
                "drawing_id": drawing_id,
                "kind": d["prompt_kind"],
                "payload": d["payload"],
                "hint_sha": d.get("hint_sha"),
            }
            for drawing_id, d in zip(drawing_ids, drawings, strict=True)
        ],
    ).all()
    now = utcnow()
    deadline = None if deadline_s is None else now + timedelta(seconds=deadline_s)
    return list(
        session.scalars(
            sa.insert(Job).returning(Job.id, sort_by_parameter_order=True),
            [
                {
                    "kind": "colorize",
                    "state": "queued",
                    "params": d.get("params", {}),
                    "batch_id": batch_id,
                    "drawing_id": drawing_id,
                    "prompt_id": prompt_id,
                    "queued_at": now,
                    "deadline_at": deadline,
                }
                for drawing_id, prompt_id, d in zip(drawing_ids, prompt_ids, drawings, strict=True)
            ],
        ).all()
    )


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def claim_job(session: Session, job_id: int, *, worker: str, deadline_s: int) -> Job | None:
    """Mark the job running for `worker` (attempts + 1, started_at, deadline_at); None if it is not claimable.

    Claimable: queued; running past its deadline (its worker is presumed dead); or running under this
    same `worker` name, i.e. a redelivery after that worker died. Name workers per process (for example
    "celery@host:pid") so that two live processes never share a name. Done, failed, cancelled and unknown
    jobs return None. One conditional UPDATE decides, so of two racing claims exactly one wins.
    """
    now = utcnow()
    claimable = sa.or_(
        Job.state == "queued",
        sa.and_(Job.state == "running", sa.or_(Job.deadline_at < now, Job.worker == worker)),
    )
    claimed = _update_job(
        session,
        job_id,
        claimable,
        state="running",
        attempts=Job.attempts + 1,
        worker=worker,
        started_at=now,
        finished_at=None,
        deadline_at=now + timedelta(seconds=deadline_s),
    )
    return _load_job(session, job_id) if claimed else None


def finish_job(
    session: Session, job_id: int, *, result: dict[str, Any], revision: dict[str, Any] | None
) -> Revision | None:
    """Mark the job done with `result` and, if `revision` is given, record the revision it produced.

    Idempotent: a job already done keeps its result and returns its existing revision (None if it had
    none); nothing new is created. A cancelled job is left cancelled and None is returned. `revision`
    holds Revision fields (see REVISION_FIELDS); drawing_id, prompt_id, parent_revision_id and kind
    default to the job's. Raises LookupError for an unknown job.
    """
    if revision is not None and not REVISION_FIELDS.issuperset(revision):
        unknown = ", ".join(sorted(set(revision) - REVISION_FIELDS))
        raise ValueError(
            f"unknown revision field(s) {unknown}; use some of {', '.join(sorted(REVISION_FIELDS))}."
        )
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) first, so a second finisher of
    # the same job waits, then matches nothing and reads the first one's revision.
    finished = _update_job(
        session,
        job_id,
        Job.state.not_in(("done", "cancelled")),
        state="done",
        result=result,
        error=None,
        finished_at=utcnow(),
    )
    job = _load_job(session, job_id)
    if job is None:
        raise LookupError(f"job {job_id} does not exist; it cannot be finished.")
    if not finished:
        return None if job.revision_id is None else session.get(Revision, job.revision_id)
    if revision is None:
        return None
    fields = {
        "drawing_id": job.drawing_id,
        "prompt_id": job.prompt_id,
        "parent_revision_id": job.parent_revision_id,
        "kind": job.kind,
        **revision,
    }
    made = Revision(job_id=job.id, **fields)
    session.add(made)
    session.flush()
    job.revision_id = made.id
    session.flush()
    return made


def fail_job(session: Session, job_id: int, *, error: str) -> None:
    """Mark the job failed with a readable `error`. A job already done or cancelled is left as it is."""
    _update_job(
        session,
        job_id,
        Job.state.not_in(("done", "cancelled")),
        state="failed",
        error=error,
        finished_at=utcnow(),
    )
    _load_job(session, job_id)


def requeue_job(session: Session, job_id: int, *, deadline_s: int = 600, only_stranded: bool = False) -> bool:
    """Put a job that is not done back to queued (retry, `tint retry`, reconciler); True if it was.

    The error and worker are cleared, attempts kept, and a new deadline set `deadline_s` from now.
    With `only_stranded`, only a queued/running job past its deadline is touched, so a reconciler does
    not yank a job that a worker claimed since it looked.
    """
    now = utcnow()
    where: sa.ColumnElement[bool] = Job.state != "done"
    if only_stranded:
        where = sa.and_(Job.state.in_(ACTIVE_JOB_STATES), Job.deadline_at < now)
    requeued = _update_job(
        session,
        job_id,
        where,
        state="queued",
        error=None,
        worker=None,
        started_at=None,
        finished_at=None,
        result=None,
        queued_at=now,
        deadline_at=now + timedelta(seconds=deadline_s),
    )
    _load_job(session, job_id)
    return requeued


def cancel_job(session: Session, job_id: int) -> bool:
    """Cancel a queued or running job; True if it was. A running job's result is then not recorded."""
    cancelled = _update_job(
        session, job_id, Job.state.in_(ACTIVE_JOB_STATES), state="cancelled", finished_at=utcnow()
    )
    _load_job(session, job_id)
    return cancelled


def stranded_jobs(session: Session, *, now: datetime | None = None) -> list[Job]:
    """Jobs queued or running past their deadline: lost by the broker or by a dead worker."""
    now = now or utcnow()
    stmt = sa.select(Job).where(Job.state.in_(ACTIVE_JOB_STATES), Job.deadline_at < now).order_by(Job.id)
    return list(session.scalars(stmt))


# --- revisions and reviews ------------------------------------------------------------------------


def get_revision(session: Session, revision_id: int) -> Revision | None:
    return session.get(Revision, revision_id)


def drawing_revisions(session: Session, drawing_id: int) -> list[Revision]:
    """A drawing's revisions in the order they were made."""
    stmt = sa.select(Revision).where(Revision.drawing_id == drawing_id).order_by(Revision.id)
    return list(session.scalars(stmt))


def revision_chain(session: Session, revision_id: int) -> list[Revision]:
    """The revision and its ancestors (parent_revision_id), root first; one recursive query; [] if unknown."""
    chain = (
        sa.select(Revision.id, Revision.parent_revision_id, sa.literal(0).label("depth"))
        .where(Revision.id == revision_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        sa.select(Revision.id, Revision.parent_revision_id, chain.c.depth + 1)
        .join(chain, Revision.id == chain.c.parent_revision_id)
        .where(chain.c.depth < MAX_CHAIN_DEPTH)
    )
    stmt = sa.select(Revision).join(chain, Revision.id == chain.c.id).order_by(chain.c.depth.desc())
    return list(session.scalars(stmt))


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
    _check(verdict, (*REVIEW_VERDICTS, None), "review verdict")
    review = Review(
        revision_id=revision_id, verdict=verdict, comment=comment, blocks=list(blocks), author=author
    )
    session.add(review)
    if verdict is not None:
        session.execute(sa.update(Revision).where(Revision.id == revision_id).values(review_status=verdict))
    session.flush()
    return review


# --- workers --------------------------------------------------------------------------------------


def touch_worker(session: Session, *, name: str, queues: str) -> None:
    """Record that worker `name` (serving `queues`, comma-separated) is alive now."""
    now = utcnow()
    stmt = _insert(session, WorkerHeartbeat).values(name=name, queues=queues, last_seen=now)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"queues": queues, "last_seen": now})
    session.execute(stmt)


def forget_worker(session: Session, *, name: str) -> None:
    """Remove worker `name`'s heartbeat (a clean shutdown), so it no longer counts as live."""
    session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))


def live_workers(session: Session, *, within_s: float = 15) -> list[WorkerHeartbeat]:
    """Workers seen in the last `within_s` seconds, by name."""
    since = utcnow() - timedelta(seconds=within_s)
    stmt = sa.select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen >= since).order_by(WorkerHeartbeat.name)
    return list(session.scalars(stmt))
