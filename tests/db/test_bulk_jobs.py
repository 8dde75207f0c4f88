"""Bulk submission rows: drawings, prompts and queued jobs in one call, by INSERT or (PostgreSQL) COPY."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from db import job_queries
from db.models import Drawing, Job


@pytest.mark.parametrize("count", [3, job_queries.COPY_FROM_ROWS + 50])
def test_create_drawing_jobs_in_bulk_reads_back_in_order(
    session: Session, drawing: Drawing, count: int
) -> None:
    """Small batches go in with INSERT, large ones (on PostgreSQL) with COPY: the rows read back alike."""
    entries = [
        {
            "name": f"d{i:04d}.png",
            "character": "hero" if i % 2 else "villain",
            "view": "side",
            "line_sha": "a" * 64,
            "prompt_kind": "points",
            "payload": {"points": [{"x": i, "y": 2, "color": "#ff0000"}], "note": "ünï"},
            "params": {"style": "flat"},
        }
        for i in range(count)
    ]
    with session.begin():
        job_ids = job_queries.create_drawing_jobs(
            session, batch_id=drawing.batch_id, drawings=entries, deadline_s=60
        )
    session.expunge_all()
    assert len(job_ids) == count and job_ids == sorted(job_ids)
    for i in (0, count // 2, count - 1):
        job = session.get_one(Job, job_ids[i])
        assert (job.kind, job.state, job.attempts, job.params) == ("colorize", "queued", 0, {"style": "flat"})
        assert job.created_at.tzinfo is not None and job.deadline_at - job.queued_at == timedelta(seconds=60)
        assert job.drawing.name == f"d{i:04d}.png" and job.drawing.character == entries[i]["character"]
        assert job.prompt.payload == entries[i]["payload"] and job.prompt.drawing_id == job.drawing_id
    session.rollback()  # end the reads' transaction
    with session.begin():  # the sequences moved past the copied ids: ordinary inserts still work
        later = job_queries.create_job(session, kind="colorize", params={}, drawing_id=drawing.id)
    assert later.id > job_ids[-1]
