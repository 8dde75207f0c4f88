"""Seeing a command's own jobs through: wait for them, and run here any job no live worker will run.

A file command (`tint colorize`, `blockify`, `recolor`, `rerun`, `submit --wait`, `demo`) submits its jobs
like any front door, then follows them until each is done, failed or cancelled. It runs a job itself,
through the same `workers.tasks.execute` a worker runs, when:
- no live worker consumes the job's queue (nobody else will);
- on the embedded broker, the job is still queued `TAKE_OVER_S` after it was queued: a busy or stuck
  worker, or a message lost by a command that exited, never leaves it waiting;
- the job is running under a worker whose heartbeat has stopped: it is put back to queued first (only
  if still held by that worker), then the rules above apply.
A job run here retries a transient fault `RETRIES_HERE` times at most, since a person is waiting.
Claims are one conditional UPDATE, so a job a worker and a command both reach runs once; the message the
command also sent finds the job done and does nothing. While it runs a job the command beats as a worker
that consumes no queue, so other commands see that the job is alive. Design notes: docs/operations.md.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from db import job_queries, worker_queries
from db.models import FINAL_JOB_STATES, Job, utcnow
from db.worker_queries import LIVE_WITHIN_S
from pipeline.errors import TintError
from workers.celery_app import TASK_QUEUES
from workers.context import Context
from workers.jobs import session_scope

__all__ = ["see_jobs_through", "TAKE_OVER_S"]

# A person waits on a command: a job it runs itself retries a transient fault at most this many times
# (about 0.5 + 1 + 2 s of backoff) before it fails with the cause; `tint retry JOB` brings it back.
RETRIES_HERE = 3
TAKE_OVER_S = 2.0
POLL_MIN_S, POLL_MAX_S = 0.01, 0.1


def _runner_name() -> str:
    return f"cli@{socket.gethostname()}:{os.getpid()}"


def _final_rows(ctx: Context, job_ids: list[int]) -> dict[int, Job]:
    with session_scope(ctx) as session:
        rows = session.query(Job).filter(Job.id.in_(job_ids)).all()
        for row in rows:
            session.expunge(row)
    return {row.id: row for row in rows}


def _run_here(ctx: Context, job_id: int, *, worker: str) -> None:
    from workers.embedded import Heartbeat
    from workers.tasks import run_here

    beat = Heartbeat(name=worker, queues="", reconcile=False)
    beat.start()
    try:
        run_here(ctx, job_id, worker=worker, max_retries=min(RETRIES_HERE, ctx.settings.max_retries))
    finally:
        beat.stop()


def _next_to_run(ctx: Context, job_ids: list[int], *, worker: str) -> tuple[list[int], int | None]:
    """The jobs now final, and one job this command should run itself (None: keep waiting)."""
    now = utcnow()
    with session_scope(ctx) as session:
        rows = job_queries.job_states(session, job_ids)
        live = {w.name: w.queues for w in worker_queries.live_workers(session)}
        final = [r.id for r in rows if r.state in FINAL_JOB_STATES]
        for row in rows:
            queue = TASK_QUEUES.get(f"tint.{row.kind}", "cpu")
            consumers = [name for name, queues in live.items() if queue in queues.split(",")]
            if (
                row.state == "running"
                and row.worker not in live
                and row.worker != worker
                and row.started_at is not None
                and now - row.started_at > timedelta(seconds=LIVE_WITHIN_S)
                and job_queries.requeue_job(
                    session, row.id, deadline_s=ctx.settings.job_deadline_s, only_worker=row.worker
                )
            ):
                return final, row.id  # its worker died holding it
            if row.state == "queued" and (
                not consumers
                or (ctx.settings.embedded_broker and now - row.queued_at > timedelta(seconds=TAKE_OVER_S))
            ):
                return final, row.id
    return final, None


def see_jobs_through(
    ctx: Context,
    job_ids: list[int],
    *,
    timeout_s: float,
    on_final: Callable[[int], None] = lambda _: None,
) -> list[Job]:
    """Follow `job_ids` until each is final, running here those no live worker will; rows in order given."""
    worker = _runner_name()
    pending = list(job_ids)
    seen_final: set[int] = set()
    deadline = time.monotonic() + timeout_s
    delay = POLL_MIN_S
    while pending:
        final, run = _next_to_run(ctx, pending, worker=worker)
        for job_id in final:
            if job_id not in seen_final:
                seen_final.add(job_id)
                on_final(job_id)
        pending = [j for j in pending if j not in seen_final]
        if run is not None:
            _run_here(ctx, run, worker=worker)
            delay = POLL_MIN_S
            continue
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TintError(
                f"{len(pending)} job(s) still not finished after {timeout_s:.0f}s (first: job {pending[0]}); "
                "`tint status` shows them, and `tint worker` runs queued jobs."
            )
        time.sleep(delay)
        delay = min(POLL_MAX_S, delay * 1.5)
    found = _final_rows(ctx, list(job_ids))
    return [found[j] for j in job_ids]
