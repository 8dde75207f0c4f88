"""A command following its own jobs never waits on a job nobody will run (workers.runs)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from db import worker_queries
from db.models import Job, Revision, utcnow
from tests.workers.specs import drawing_spec
from workers import runs
from workers.jobs import session_scope
from workers.submit import submit_colorize

NAME = "1F476"


def _drop_messages(ctx) -> None:
    """Empty the embedded broker, as a command that took the messages and exited would leave it."""
    engine = sa.create_engine(ctx.settings.broker_url.removeprefix("sqla+"))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM kombu_message"))
    engine.dispose()


def _revisions(ctx, job_id: int) -> int:
    with ctx.sessions() as session:
        return session.scalar(sa.select(sa.func.count(Revision.id)).where(Revision.job_id == job_id))


def test_a_job_with_no_live_worker_runs_in_the_waiting_command(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    (job,) = runs.see_jobs_through(embedded, [job_id], timeout_s=60)
    assert job.state == "done" and job.attempts == 1
    assert job.worker.startswith("cli@")
    assert _revisions(embedded, job_id) == 1


def test_a_queued_job_whose_message_was_lost_is_taken_over_despite_a_live_worker(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    _drop_messages(embedded)
    with session_scope(embedded) as session:  # a worker that beats but will never see the message
        worker_queries.touch_worker(session, name="idle@elsewhere", queues="cpu,gpu")
    seen = []
    (job,) = runs.see_jobs_through(embedded, [job_id], timeout_s=60, on_final=seen.append)
    assert job.state == "done" and job.worker.startswith("cli@")
    assert (job.started_at - job.queued_at) >= timedelta(seconds=runs.TAKE_OVER_S)
    assert seen == [job_id]


def test_a_job_held_by_a_dead_worker_is_requeued_and_run_once(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    _drop_messages(embedded)
    long_ago = utcnow() - timedelta(seconds=runs.LIVE_WITHIN_S * 3)
    with session_scope(embedded) as session:
        worker_queries.touch_worker(session, name="gone@host", queues="cpu,gpu")
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(state="running", worker="gone@host", attempts=1, started_at=long_ago)
        )
        session.execute(sa.text("UPDATE worker_heartbeat SET last_seen = :t"), {"t": long_ago})
    (job,) = runs.see_jobs_through(embedded, [job_id], timeout_s=60)
    assert job.state == "done" and job.attempts == 2 and job.worker.startswith("cli@")
    assert _revisions(embedded, job_id) == 1


def test_a_job_running_under_a_live_worker_is_left_to_it(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    with session_scope(embedded) as session:
        worker_queries.touch_worker(session, name="busy@host", queues="cpu,gpu")
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(state="running", worker="busy@host", attempts=1, started_at=utcnow() - timedelta(hours=1))
        )
    final, run = runs._next_to_run(embedded, [job_id], worker="cli@me")
    assert (final, run) == ([], None)
