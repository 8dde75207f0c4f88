"""The job lifecycle on the database: create, claim, finish, fail, requeue, cancel (heartbeats are in
db/worker_queries.py).

Each function takes a `session` and never commits: the caller owns the transaction, so a revision and its
job's `done` land in one commit. State changes that can race between workers (claim, finish, requeue) are
single conditional UPDATEs, safe on SQLite and PostgreSQL alike.

Job states: queued -> running -> done | failed; cancelled from queued/running; `requeue_job` puts any
job that is not done back to queued.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import (
    ACTIVE_JOB_STATES,
    JOB_KINDS,
    PROMPT_KINDS,
    Drawing,
    Job,
    Prompt,
    Revision,
    utcnow,
)
from db.queries import check_choice, dialect_insert

COPY_FROM_ROWS = 200  # below this, the INSERT is as fast and portable

__all__ = [
    "create_job",
    "create_drawing_jobs",
    "get_job",
    "job_by_key",
    "claim_job",
    "finish_job",
    "fail_job",
    "requeue_job",
    "cancel_job",
    "stranded_jobs",
    "job_states",
    "REVISION_FIELDS",
]

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


def _update_job(session: Session, job_id: int, where: sa.ColumnElement[bool], **values: Any) -> bool:
    """Conditional UPDATE of one job; True if it matched. Follow with _load_job to refresh the ORM copy."""
    stmt = sa.update(Job).where(Job.id == job_id, where).values(**values)
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    return result.rowcount == 1


def _load_job(session: Session, job_id: int) -> Job | None:
    """The job as the database has it now (overwrites a stale copy in the identity map)."""
    return session.get(Job, job_id, populate_existing=True)


def _update_returning(
    session: Session, job_id: int, where: sa.ColumnElement[bool], **values: Any
) -> tuple[bool, Job | None]:
    """Conditional UPDATE of one job: (matched, the job as it is now), in one round trip where the
    database returns updated rows (PostgreSQL, SQLite 3.35+), else an UPDATE and a read."""
    if not session.get_bind().dialect.update_returning:
        matched = _update_job(session, job_id, where, **values)
        return matched, _load_job(session, job_id)
    stmt = sa.update(Job).where(Job.id == job_id, where).values(**values).returning(Job)
    options = {"synchronize_session": False, "populate_existing": True}
    job = session.execute(stmt, execution_options=options).scalars().first()
    return (True, job) if job is not None else (False, _load_job(session, job_id))


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
    check_choice(kind, JOB_KINDS, "job kind")
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
        dialect_insert(session, Job)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
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
        check_choice(entry["prompt_kind"], PROMPT_KINDS, "prompt kind")
    now = utcnow()
    deadline = None if deadline_s is None else now + timedelta(seconds=deadline_s)
    drawing_rows = [
        {
            "batch_id": batch_id,
            "name": d["name"],
            "character": d.get("character", ""),
            "view": d.get("view", ""),
            "line_sha": d["line_sha"],
            "created_at": now,
        }
        for d in drawings
    ]
    drawing_ids = _bulk_insert(session, Drawing, drawing_rows)
    prompt_rows = [
        {
            "drawing_id": drawing_id,
            "kind": d["prompt_kind"],
            "payload": d["payload"],
            "hint_sha": d.get("hint_sha"),
            "created_at": now,
        }
        for drawing_id, d in zip(drawing_ids, drawings, strict=True)
    ]
    prompt_ids = _bulk_insert(session, Prompt, prompt_rows)
    job_rows = [
        {
            "kind": "colorize",
            "state": "queued",
            "params": d.get("params", {}),
            "batch_id": batch_id,
            "drawing_id": drawing_id,
            "prompt_id": prompt_id,
            "attempts": 0,
            "created_at": now,
            "queued_at": now,
            "deadline_at": deadline,
        }
        for drawing_id, prompt_id, d in zip(drawing_ids, prompt_ids, drawings, strict=True)
    ]
    return _bulk_insert(session, Job, job_rows)


def _bulk_insert(session: Session, model: type, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) and return their new ids in order.

    On PostgreSQL through psycopg 3 the ids are drawn from the table's sequence in one query and the rows
    go in with COPY: a multi-row INSERT of 10,000 rows spends seconds in the driver's client-side parsing
    of the statement, COPY a fraction of one. Elsewhere, batched INSERT ... RETURNING.
    """
    bind = session.connection()
    if bind.dialect.name != "postgresql" or bind.dialect.driver != "psycopg" or len(rows) < COPY_FROM_ROWS:
        return list(
            session.scalars(sa.insert(model).returning(model.id, sort_by_parameter_order=True), rows).all()
        )
    table = model.__table__
    ids = list(
        session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).all()
    )
    columns = ["id", *rows[0]]
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    quoted = ", ".join(f'"{name}"' for name in columns)
    raw = bind.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for new_id, row in zip(ids, rows, strict=True):
            copy.write_row([new_id, *(json.dumps(v) if k in json_columns else v for k, v in row.items())])
    return ids


def job_by_key(session: Session, idempotency_key: str) -> Job | None:
    """The job made with this idempotency key, if any."""
    return session.scalars(sa.select(Job).where(Job.idempotency_key == idempotency_key)).first()


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
    claimed, job = _update_returning(
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
    return job if claimed else None


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
    finished, job = _update_returning(
        session,
        job_id,
        Job.state.not_in(("done", "cancelled")),
        state="done",
        result=result,
        error=None,
        finished_at=utcnow(),
    )
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


def fail_job(session: Session, job_id: int, *, error: str) -> Job | None:
    """Mark the job failed with a readable `error`; the job if this call failed it. A job already done or
    cancelled is left as it is (None)."""
    failed, job = _update_returning(
        session,
        job_id,
        Job.state.not_in(("done", "cancelled")),
        state="failed",
        error=error,
        finished_at=utcnow(),
    )
    return job if failed else None


def requeue_job(
    session: Session,
    job_id: int,
    *,
    deadline_s: int = 600,
    only_stranded: bool = False,
    only_worker: str | None = None,
) -> bool:
    """Put a job that is not done back to queued (retry, `tint retry`, reconciler); True if it was.

    The error and worker are cleared, attempts kept, and a new deadline set `deadline_s` from now.
    With `only_stranded`, only a queued/running job past its deadline is touched, so a reconciler does
    not yank a job that a worker claimed since it looked; with `only_worker`, only a job still running
    under that worker (one found dead) is.
    """
    now = utcnow()
    where: sa.ColumnElement[bool] = Job.state != "done"
    if only_stranded:
        where = sa.and_(Job.state.in_(ACTIVE_JOB_STATES), Job.deadline_at < now)
    if only_worker is not None:
        where = sa.and_(Job.state == "running", Job.worker == only_worker)
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


def job_states(session: Session, job_ids: Sequence[int]) -> list[sa.Row]:
    """(id, kind, state, worker, queued_at, started_at) of each job in `job_ids`, in one read."""
    stmt = sa.select(Job.id, Job.kind, Job.state, Job.worker, Job.queued_at, Job.started_at).where(
        Job.id.in_(list(job_ids))
    )
    return list(session.execute(stmt))
