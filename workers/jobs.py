"""A job's life on a worker: claim it, read its inputs, store its outputs, record the result once.

Each function opens its own short transaction. Database faults surface as `Transient`, so the task
retries with backoff; a job already finished is left alone (a redelivered message does nothing).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from db import job_queries, queries
from db.models import Drawing, Job, Prompt, Revision
from pipeline.errors import NotFound, Transient
from pipeline.images import encode_png
from workers.context import Context
from workers.metrics import observe_job
from workers.storage import sha256_hex

__all__ = [
    "JobInputs",
    "Stored",
    "session_scope",
    "start",
    "fail",
    "load_revision",
    "store_arrays",
    "store_json",
    "finish",
]

WRITE_THREADS = 4  # a job writes 4 outputs; one thread each


@dataclass
class JobInputs:
    """A claimed job's row values, detached from the database session."""

    id: int
    kind: str
    attempts: int
    params: dict
    drawing_id: int | None
    drawing_name: str
    line_sha: str | None
    prompt_id: int | None
    prompt_kind: str | None
    prompt_payload: dict
    hint_sha: str | None
    parent_revision_id: int | None
    batch_id: int | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None


@dataclass
class Stored:
    """Assets written to storage for one job, waiting to be recorded with it."""

    shas: dict[str, str] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)


@contextlib.contextmanager
def session_scope(ctx: Context) -> Iterator[Session]:
    """One transaction; database connection faults become `Transient` so the caller retries."""
    try:
        with ctx.sessions() as session, session.begin():
            yield session
    except (OperationalError, DBAPIError) as exc:
        if (
            isinstance(exc, DBAPIError)
            and not isinstance(exc, OperationalError)
            and not exc.connection_invalidated
        ):
            raise
        raise Transient(f"database unavailable ({type(exc.orig).__name__}: {exc.orig}); will retry") from exc


def start(ctx: Context, job_id: int, *, worker: str) -> JobInputs | None:
    """Mark the job running (attempt + 1) and return its inputs; None when it is already finished."""
    with session_scope(ctx) as session:
        job = job_queries.claim_job(session, job_id, worker=worker, deadline_s=ctx.settings.job_deadline_s)
        if job is None:
            return None
        # its drawing and prompt, either of which may be absent, in one read
        found = session.execute(
            sa.select(Drawing.name, Drawing.line_sha, Prompt.kind, Prompt.payload, Prompt.hint_sha)
            .select_from(Job)
            .outerjoin(Drawing, Drawing.id == Job.drawing_id)
            .outerjoin(Prompt, Prompt.id == Job.prompt_id)
            .where(Job.id == job.id)
        ).one()
        return JobInputs(
            id=job.id,
            kind=job.kind,
            attempts=job.attempts,
            params=dict(job.params or {}),
            drawing_id=job.drawing_id,
            drawing_name=found.name or "",
            line_sha=found.line_sha,
            prompt_id=job.prompt_id,
            prompt_kind=found.kind,
            prompt_payload=dict(found.payload or {}),
            hint_sha=found.hint_sha,
            parent_revision_id=job.parent_revision_id,
            batch_id=job.batch_id,
            queued_at=job.queued_at,
            started_at=job.started_at,
        )


def fail(ctx: Context, job_id: int, error: str) -> None:
    """Mark the job failed with a message a person can act on; nothing else is recorded."""
    with session_scope(ctx) as session:
        job = job_queries.fail_job(session, job_id, error=error)
        seen = None if job is None else _times(job)
    if seen is not None:
        observe_job(**seen, state="failed", timings=None)


def _times(job: Job) -> dict:
    """The job's kind and timestamps, read in its transaction, for `observe_job` once it has committed."""
    return {
        "kind": job.kind,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def load_revision(ctx: Context, revision_id: int) -> tuple[Revision, Drawing]:
    """A revision and its drawing, detached; NotFound names the id."""
    with session_scope(ctx) as session:
        revision = session.get(Revision, revision_id)
        if revision is None:
            raise NotFound(f"revision {revision_id} does not exist; `tint history DRAWING` lists revisions.")
        drawing = session.get(Drawing, revision.drawing_id)
        session.expunge(revision)
        session.expunge(drawing)
        return revision, drawing


_writer: ThreadPoolExecutor | None = None
_writer_pid: int | None = None


def _write_pool() -> ThreadPoolExecutor:
    """This process's thread pool for encoding and writing outputs (made after any fork, never shared)."""
    global _writer, _writer_pid
    if _writer is None or _writer_pid != os.getpid():
        _writer, _writer_pid = (
            ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="tint-write"),
            os.getpid(),
        )
    return _writer


def store_arrays(
    ctx: Context,
    arrays: dict[str, np.ndarray],
    *,
    timings: dict[str, float],
    stored_already: frozenset[str] = frozenset(),
) -> Stored:
    """Encode each array as PNG and write it content-addressed, all at once in threads.

    PNG encoding (zlib) and storage I/O both release the GIL, so the outputs of a job are written in
    about the time of the slowest one. Bytes whose sha256 is in `stored_already` (e.g. a parent revision's
    line layer and region map, which a recolor reproduces) are not written again. Adds "encode" and
    "store" (summed over outputs) and "write" (wall).
    """

    def one(item: tuple[str, np.ndarray]) -> tuple[str, dict, float, float]:
        role, array = item
        t0 = time.perf_counter()
        data = encode_png(array)
        t1 = time.perf_counter()
        sha = sha256_hex(data)
        if sha not in stored_already:
            ctx.storage.put(data, media_type="image/png", fresh=True)
        row = {
            "sha256": sha,
            "key": ctx.storage.key(sha),
            "media_type": "image/png",
            "size": len(data),
            "width": int(array.shape[1]),
            "height": int(array.shape[0]),
        }
        return role, row, (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000

    stored = Stored()
    t_start = time.perf_counter()
    results = list(_write_pool().map(one, arrays.items()))
    for role, row, _, _ in results:
        stored.shas[role] = row["sha256"]
        stored.rows.append(row)
    timings["encode"] = round(sum(r[2] for r in results), 2)
    timings["store"] = round(sum(r[3] for r in results), 2)
    timings["write"] = round((time.perf_counter() - t_start) * 1000, 2)
    return stored


def store_json(ctx: Context, stored: Stored, role: str, data: bytes) -> None:
    """Write a JSON document content-addressed and add it to `stored`."""
    sha = ctx.storage.put(data, media_type="application/json")
    stored.shas[role] = sha
    stored.rows.append(
        {"sha256": sha, "key": ctx.storage.key(sha), "media_type": "application/json", "size": len(data)}
    )


def finish(
    ctx: Context,
    job_id: int,
    *,
    stored: Stored,
    result: dict,
    revision: dict | None = None,
    new_prompt: dict | None = None,
) -> int | None:
    """Record assets, an optional new prompt and revision, and mark the job done, in one transaction.

    Returns the revision id (the existing one when the job was already done, so a retry records nothing).
    """
    with session_scope(ctx) as session:
        # the row lock first: of two finishers of one job, the second waits here, then sees it done
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"job {job_id} does not exist")
        if job.state == "done":
            return job.revision_id
        queries.add_assets(session, stored.rows)
        if revision is not None and new_prompt is not None:
            prompt = queries.create_prompt(session, **new_prompt)
            session.flush()
            revision = {**revision, "prompt_id": prompt.id}
        rev = job_queries.finish_job(session, job_id, result=result, revision=revision)
        seen = _times(job) if job.state == "done" else None  # not when the job was cancelled meanwhile
        rev_id = rev.id if rev is not None else None
    if seen is not None:
        observe_job(**seen, state="done", timings=result.get("timings"))
    return rev_id
