"""The job lifecycle in db.queries: create, claim, finish, fail, requeue, cancel, reconcile, progress."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from db import job_queries, queries
from db.models import JOB_STATES, Drawing, Job, Revision


def _job(session: Session, drawing: Drawing, **kwargs: object) -> Job:
    with session.begin():
        return job_queries.create_job(
            session,
            kind="colorize",
            params={"opt": 1},
            drawing_id=drawing.id,
            batch_id=drawing.batch_id,
            **kwargs,
        )


def _claim(session: Session, job_id: int, worker: str = "w1", deadline_s: int = 60) -> Job | None:
    with session.begin():
        return job_queries.claim_job(session, job_id, worker=worker, deadline_s=deadline_s)


def _backdate_deadline(session: Session, job_id: int) -> None:
    with session.begin():
        session.get_one(Job, job_id).deadline_at = datetime.now(UTC) - timedelta(seconds=1)


def test_create_job_is_queued_with_deadline(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing, deadline_s=30)
    session.expunge_all()
    loaded = job_queries.get_job(session, job.id)
    assert loaded is not None
    assert (loaded.state, loaded.attempts, loaded.params, loaded.result) == ("queued", 0, {"opt": 1}, None)
    assert loaded.created_at.tzinfo is not None and loaded.queued_at.tzinfo is not None
    assert timedelta(seconds=29) < loaded.deadline_at - loaded.queued_at <= timedelta(seconds=30)


def test_create_job_with_existing_idempotency_key_returns_existing(
    session: Session, drawing: Drawing
) -> None:
    first = _job(session, drawing, idempotency_key="batch-1/hero")
    second = _job(session, drawing, idempotency_key="batch-1/hero")
    other = _job(session, drawing, idempotency_key="batch-1/villain")
    assert second.id == first.id
    assert other.id != first.id
    assert len(queries.batch_jobs(session, drawing.batch_id)) == 2


def test_create_job_unknown_kind_raises(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown job kind 'paint'"):
        job_queries.create_job(session, kind="paint", params={})


def test_claim_job_marks_running(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    claimed = _claim(session, job.id, worker="gpu-1", deadline_s=120)
    assert claimed is not None
    assert (claimed.state, claimed.attempts, claimed.worker) == ("running", 1, "gpu-1")
    assert claimed.started_at is not None
    assert timedelta(seconds=119) < claimed.deadline_at - claimed.started_at <= timedelta(seconds=120)


def test_claim_job_on_done_job_returns_none(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        job_queries.finish_job(session, job.id, result={}, revision=None)
    assert _claim(session, job.id) is None
    assert _claim(session, job.id, worker="w2") is None


@pytest.mark.parametrize("end", ["failed", "cancelled"])
def test_claim_job_on_failed_or_cancelled_job_returns_none(
    session: Session, drawing: Drawing, end: str
) -> None:
    job = _job(session, drawing)
    with session.begin():
        if end == "failed":
            job_queries.fail_job(session, job.id, error="not an image")
        else:
            job_queries.cancel_job(session, job.id)
    assert _claim(session, job.id) is None


def test_claim_job_unknown_returns_none(session: Session) -> None:
    assert _claim(session, 12345) is None


def test_claim_job_running_elsewhere_within_deadline_returns_none(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id, worker="w1")
    assert _claim(session, job.id, worker="w2") is None
    assert job_queries.get_job(session, job.id).worker == "w1"


def test_claim_job_redelivered_to_same_worker_reclaims(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id, worker="w1")
    again = _claim(session, job.id, worker="w1")
    assert again is not None and again.attempts == 2


def test_claim_job_running_past_deadline_is_taken_over(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id, worker="w1")
    _backdate_deadline(session, job.id)
    taken = _claim(session, job.id, worker="w2")
    assert taken is not None
    assert (taken.worker, taken.attempts) == ("w2", 2)


def test_concurrent_claims_only_one_wins(sessions: sessionmaker[Session], drawing: Drawing) -> None:
    with sessions.begin() as session:
        job_id = job_queries.create_job(session, kind="colorize", params={}, drawing_id=drawing.id).id
    barrier = threading.Barrier(4)
    won: list[str] = []

    def claim(worker: str) -> None:
        with sessions() as session, session.begin():
            barrier.wait()
            if job_queries.claim_job(session, job_id, worker=worker, deadline_s=60) is not None:
                won.append(worker)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1
    with sessions() as session:
        job = job_queries.get_job(session, job_id)
        assert (job.state, job.attempts, job.worker) == ("running", 1, won[0])


def test_claim_waits_for_uncommitted_claim_and_loses(
    sessions: sessionmaker[Session], drawing: Drawing
) -> None:
    with sessions.begin() as session:
        job_id = job_queries.create_job(session, kind="colorize", params={}, drawing_id=drawing.id).id
    results: list[Job | None] = []
    with sessions() as first, first.begin():
        assert job_queries.claim_job(first, job_id, worker="w1", deadline_s=60) is not None

        def claim_second() -> None:
            with sessions() as session:
                results.append(_claim(session, job_id, worker="w2"))

        second = threading.Thread(target=claim_second)
        second.start()
        second.join(timeout=0.3)
        assert second.is_alive()  # blocked on the first claim's lock
    second.join(timeout=30)
    assert results == [None]


def test_finish_job_records_revision_and_marks_done(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        revision = job_queries.finish_job(
            session,
            job.id,
            result={"colored": "c" * 64, "seconds": 1.5},
            revision={
                "assets": {"colored": "c" * 64},
                "inputs": {"line": "a" * 64},
                "model_versions": {"f": "1"},
            },
        )
    assert revision is not None
    session.expunge_all()
    job = job_queries.get_job(session, job.id)
    revision = queries.get_revision(session, revision.id)
    assert (job.state, job.revision_id, job.result["seconds"]) == ("done", revision.id, 1.5)
    assert job.finished_at is not None
    assert (revision.job_id, revision.drawing_id, revision.kind) == (job.id, drawing.id, "colorize")
    assert (revision.review_status, revision.flagged, revision.proof, revision.edits) == (
        "pending_review",
        False,
        {},
        None,
    )
    assert revision.assets == {"colored": "c" * 64}
    assert revision.job.id == job.id and job.revision.id == revision.id


def test_finish_job_twice_returns_first_revision_and_creates_nothing(
    session: Session, drawing: Drawing
) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        first = job_queries.finish_job(
            session, job.id, result={"n": 1}, revision={"assets": {"colored": "1"}}
        )
    with session.begin():
        again = job_queries.finish_job(
            session, job.id, result={"n": 2}, revision={"assets": {"colored": "2"}}
        )
    assert again is not None and again.id == first.id
    assert len(queries.drawing_revisions(session, drawing.id)) == 1
    assert job_queries.get_job(session, job.id).result == {"n": 1}


def test_concurrent_finish_records_one_revision(sessions: sessionmaker[Session], drawing: Drawing) -> None:
    with sessions.begin() as session:
        job_id = job_queries.create_job(session, kind="colorize", params={}, drawing_id=drawing.id).id
    barrier = threading.Barrier(3)
    ids: list[int] = []

    def finish() -> None:
        with sessions() as session, session.begin():
            barrier.wait()
            ids.append(job_queries.finish_job(session, job_id, result={}, revision={"assets": {}}).id)

    threads = [threading.Thread(target=finish) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 3 and len(set(ids)) == 1
    with sessions() as session:
        assert len(queries.drawing_revisions(session, drawing.id)) == 1


def test_finish_job_without_revision(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        assert job_queries.finish_job(session, job.id, result={"blocks": "b" * 64}, revision=None) is None
    job = job_queries.get_job(session, job.id)
    assert (job.state, job.revision_id, job.result) == ("done", None, {"blocks": "b" * 64})


def test_finish_job_on_cancelled_job_records_nothing(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        job_queries.cancel_job(session, job.id)
    with session.begin():
        assert job_queries.finish_job(session, job.id, result={}, revision={"assets": {}}) is None
    assert job_queries.get_job(session, job.id).state == "cancelled"
    assert queries.drawing_revisions(session, drawing.id) == []


def test_finish_job_unknown_job_raises(session: Session) -> None:
    with pytest.raises(LookupError, match="job 999 does not exist"):
        job_queries.finish_job(session, 999, result={}, revision=None)


def test_finish_job_unknown_revision_field_raises(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with pytest.raises(ValueError, match="unknown revision field"):
        job_queries.finish_job(session, job.id, result={}, revision={"colour": "red"})


def test_one_revision_per_job_is_enforced(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        job_queries.finish_job(session, job.id, result={}, revision={"assets": {}})
    with pytest.raises(IntegrityError), session.begin():
        session.add(Revision(drawing_id=drawing.id, job_id=job.id, kind="colorize", assets={}, inputs={}))


def test_fail_job_records_error(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        job_queries.fail_job(session, job.id, error="drawing 'x.png' is not an image")
    job = job_queries.get_job(session, job.id)
    assert (job.state, job.error) == ("failed", "drawing 'x.png' is not an image")
    assert job.finished_at is not None


def test_fail_job_leaves_done_job_done(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        job_queries.finish_job(session, job.id, result={}, revision=None)
        job_queries.fail_job(session, job.id, error="late duplicate")
    assert (job_queries.get_job(session, job.id).state, job_queries.get_job(session, job.id).error) == (
        "done",
        None,
    )


def test_requeue_failed_job(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        job_queries.fail_job(session, job.id, error="storage down")
    with session.begin():
        assert job_queries.requeue_job(session, job.id) is True
    job = job_queries.get_job(session, job.id)
    assert (job.state, job.error, job.worker, job.attempts) == ("queued", None, None, 1)
    assert job.deadline_at > datetime.now(UTC)
    assert _claim(session, job.id, worker="w2").attempts == 2


def test_requeue_done_job_refused(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        job_queries.finish_job(session, job.id, result={}, revision=None)
    with session.begin():
        assert job_queries.requeue_job(session, job.id) is False
    assert job_queries.get_job(session, job.id).state == "done"


def test_requeue_only_stranded_skips_freshly_claimed_job(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    _claim(session, job.id)
    with session.begin():
        assert job_queries.requeue_job(session, job.id, only_stranded=True) is False
    _backdate_deadline(session, job.id)
    with session.begin():
        assert job_queries.requeue_job(session, job.id, only_stranded=True) is True
    assert job_queries.get_job(session, job.id).state == "queued"


def test_cancel_job(session: Session, drawing: Drawing) -> None:
    job = _job(session, drawing)
    with session.begin():
        assert job_queries.cancel_job(session, job.id) is True
        assert job_queries.cancel_job(session, job.id) is False
    assert job_queries.get_job(session, job.id).state == "cancelled"


def test_stranded_jobs_are_active_jobs_past_deadline(session: Session, drawing: Drawing) -> None:
    lost_in_broker = _job(session, drawing)
    dead_worker = _job(session, drawing)
    fresh = _job(session, drawing)
    done = _job(session, drawing)
    _claim(session, dead_worker.id)
    _claim(session, fresh.id)
    with session.begin():
        job_queries.finish_job(session, done.id, result={}, revision=None)
    for job in (lost_in_broker, dead_worker, done):
        _backdate_deadline(session, job.id)
    assert [j.id for j in job_queries.stranded_jobs(session)] == [lost_in_broker.id, dead_worker.id]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert [j.id for j in job_queries.stranded_jobs(session, now=later)] == [
        lost_in_broker.id,
        dead_worker.id,
        fresh.id,
    ]


def test_batch_progress_counts_jobs_per_state(session: Session, drawing: Drawing) -> None:
    jobs = [_job(session, drawing) for _ in range(5)]
    _claim(session, jobs[0].id)
    with session.begin():
        job_queries.finish_job(session, jobs[1].id, result={}, revision=None)
        job_queries.finish_job(session, jobs[2].id, result={}, revision=None)
        job_queries.fail_job(session, jobs[3].id, error="bad")
    progress = queries.batches_progress(session, [drawing.batch_id])[drawing.batch_id]
    assert progress == {"queued": 1, "running": 1, "done": 2, "failed": 1, "cancelled": 0}
    assert set(progress) == set(JOB_STATES)


def test_batch_jobs_in_order_and_list_batches_newest_first(session: Session, drawing: Drawing) -> None:
    jobs = [_job(session, drawing) for _ in range(3)]
    with session.begin():
        newer = queries.create_batch(session, name="second", manifest=[])
    assert [j.id for j in queries.batch_jobs(session, drawing.batch_id)] == [j.id for j in jobs]
    assert queries.batch_jobs(session, newer.id) == []
    assert [b.id for b in queries.list_batches(session)] == [newer.id, drawing.batch_id]
    assert [b.id for b in queries.list_batches(session, limit=1)] == [newer.id]


def test_naive_datetime_is_refused(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        job_queries.stranded_jobs(session, now=datetime(2026, 1, 1))
