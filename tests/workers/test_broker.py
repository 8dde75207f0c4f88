"""The embedded broker deletes a message when a worker takes it, so its file does not grow with jobs."""

from __future__ import annotations

import sqlalchemy as sa

from tests.workers.specs import drawing_spec
from workers.embedded import in_process_worker
from workers.submit import submit_colorize, wait_for_job


def _messages(ctx) -> int:
    engine = sa.create_engine(ctx.settings.broker_url.removeprefix("sqla+"))
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM kombu_message")).scalar()
    engine.dispose()
    return count


def test_a_taken_message_leaves_no_row_behind(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    assert _messages(embedded) == 1
    with in_process_worker():
        job = wait_for_job(embedded, job_id, timeout_s=60)
    assert job.state == "done"
    assert _messages(embedded) == 0
