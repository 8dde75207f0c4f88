"""Celery tasks: thin wrappers that claim a job, call `pipeline`, store the outputs and record them.

The payload is only a job id. A redelivered message finds its job finished and does nothing; bad input
fails the job at once; transient faults retry with exponential backoff and fail the job when retries run
out, with the cause, so `tint retry` can bring it back.
"""

from __future__ import annotations

import logging
import random
import time
import traceback

import workers.embedded  # noqa: F401  (worker signals: heartbeat, fresh connections after fork)
import workers.logs  # job, batch and drawing ids on every log record (signals; bound after the claim)
import workers.metrics  # noqa: F401  (Prometheus metrics from task signals)
from pipeline.errors import BadInput, Transient
from workers import jobs
from workers.bodies import BODIES
from workers.celery_app import app
from workers.context import Context, get_context

__all__ = [
    "colorize",
    "blockify",
    "recolor",
    "parts",
    "reconcile",
    "execute",
    "run_here",
    "backoff_s",
    "BODIES",
]

log = logging.getLogger("tint.tasks")


def backoff_s(retries: int) -> float:
    """Seconds before retry number `retries` + 1: exponential from 0.5 s, capped at 60 s, with jitter so
    workers that failed together do not retry together."""
    return min(60.0, 0.5 * 2**retries) * random.uniform(0.5, 1.0)


def execute(ctx: Context, job_id: int, *, worker: str, retries: int, max_retries: int) -> None:
    """Claim the job and run its kind's body: the one path every job takes, on a worker or in a command.

    Bad input fails the job at once; a bug fails it with its cause; a transient fault is raised for the
    caller to retry later, or fails the job once `retries` reached `max_retries`. A job already finished
    is left alone.
    """
    job = None
    try:
        job = jobs.start(ctx, job_id, worker=worker)
        if job is None:
            log.info("job %s already finished, cancelled or claimed; nothing to do", job_id)
            return
        workers.logs.bind(batch_id=job.batch_id, drawing_id=job.drawing_id, kind=job.kind)
        BODIES[job.kind](ctx, job)
    except BadInput as exc:
        message = str(exc)
        if job is not None and job.drawing_name and job.drawing_name not in message:
            message = f"{job.drawing_name!r}: {message}"  # every error names its input
        log.info("job %s failed on bad input: %s", job_id, message)
        jobs.fail(ctx, job_id, message)
    except Transient as exc:
        if retries >= max_retries:
            jobs.fail(ctx, job_id, f"gave up after {max_retries} retries: {exc}")
            return
        raise
    except Exception as exc:  # a bug must fail its own job, never the worker or the batch
        log.error("job %s crashed:\n%s", job_id, traceback.format_exc())
        jobs.fail(ctx, job_id, f"internal error ({type(exc).__name__}: {exc}); report it with the job id")


def run_here(ctx: Context, job_id: int, *, worker: str, max_retries: int | None = None) -> None:
    """Run a job in this process through `execute`, retrying transient faults with the task's backoff
    (`max_retries` times; default the setting)."""
    max_retries = ctx.settings.max_retries if max_retries is None else max_retries
    for retries in range(max_retries + 1):
        try:
            execute(ctx, job_id, worker=worker, retries=retries, max_retries=max_retries)
            return
        except Transient as exc:
            delay = backoff_s(retries)
            log.warning("job %s hit a transient fault (%s); retry in %.1fs", job_id, exc, delay)
            time.sleep(delay)


def _run(task, job_id: int) -> None:
    """A Celery task's body: `execute`, with transient faults retried through Celery."""
    ctx = get_context()
    retries, max_retries = task.request.retries, ctx.settings.max_retries
    try:
        execute(
            ctx,
            job_id,
            worker=task.request.hostname or "in-process",
            retries=retries,
            max_retries=max_retries,
        )
    except Transient as exc:
        countdown = backoff_s(retries)
        log.warning("job %s hit a transient fault (%s); retry in %.1fs", job_id, exc, countdown)
        raise task.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc


@app.task(name="tint.colorize", bind=True)
def colorize(self, job_id: int) -> None:
    """Colorize one drawing (job id only in the message)."""
    _run(self, job_id)


@app.task(name="tint.blockify", bind=True)
def blockify(self, job_id: int) -> None:
    """Blockify one colored image or revision."""
    _run(self, job_id)


@app.task(name="tint.recolor", bind=True)
def recolor(self, job_id: int) -> None:
    """Make a recolored revision from a revision and block edits."""
    _run(self, job_id)


@app.task(name="tint.parts", bind=True)
def parts(self, job_id: int) -> None:
    """Segment one line drawing into parts."""
    _run(self, job_id)


@app.task(name="tint.reconcile", bind=True)
def reconcile(self) -> int:
    """Re-enqueue jobs left queued or running past their deadline."""
    from workers.submit import reconcile as reconcile_jobs

    return reconcile_jobs(get_context())
