"""Job lifecycle on the embedded default: claim once, fail bad input, retry transient faults, reconcile."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry
from sqlalchemy import func, select

from db.models import Job, Revision, utcnow
from pipeline.errors import Transient
from tests.workers.specs import drawing_spec
from workers import tasks
from workers.celery_app import app
from workers.embedded import in_process_worker
from workers.manifest import SHADED_REMOVED
from workers.submit import reconcile, submit_colorize, wait_for_job

NAME = "1F476"


def _count(ctx, model) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_celery_config_is_json_only_late_ack_prefetch_one():
    conf = app.conf
    assert conf.task_serializer == "json" and list(conf.accept_content) == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_create_missing_queues is False
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_routes["tint.colorize"] == {"queue": "gpu"}
    assert conf.task_always_eager is False
    gpu = next(q for q in conf.task_queues if q.name == "gpu")
    assert gpu.routing_key == "gpu" and gpu.exchange.name == "gpu"


def test_a_redelivered_job_records_one_revision(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    tasks.colorize.apply(args=[job_id])
    tasks.colorize.apply(args=[job_id])
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        assert job.state == "done" and job.attempts == 1
    assert _count(embedded, Revision) == 1


def test_bad_input_fails_its_own_job_with_the_reason(embedded, data_dir):
    bad = submit_colorize(embedded, drawing_spec(data_dir, line=b"GIF89a broken"))
    good = submit_colorize(embedded, drawing_spec(data_dir))
    tasks.colorize.apply(args=[bad])
    tasks.colorize.apply(args=[good])
    with embedded.sessions() as session:
        assert session.get(Job, bad).state == "failed"
        assert f"{NAME}.png" in session.get(Job, bad).error
        assert session.get(Job, good).state == "done"


def test_a_job_recorded_shaded_before_the_style_was_removed_runs_flat_and_says_so(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    with embedded.sessions() as session, session.begin():
        session.get(Job, job_id).params = {"style": "shaded"}  # as a rerun of an old shaded revision asks
    tasks.colorize.apply(args=[job_id])
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        revision = session.get(Revision, job.revision_id)
        assert job.state == "done", job.error
        assert job.result["notes"] == [f"{SHADED_REMOVED}; this job ran flat."]
        assert revision.model_versions["style"] == "flat" and "shade" not in revision.model_versions


def test_transient_fault_retries_then_fails_with_the_cause(embedded, data_dir, monkeypatch):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))

    def broken_get(sha):
        raise Transient("storage answered 503")

    monkeypatch.setattr(embedded.storage, "get", broken_get)
    task = SimpleNamespace(
        request=SimpleNamespace(retries=0, hostname="t@h"),
        retry=lambda exc, countdown, max_retries: Retry(exc=exc, when=countdown),
    )
    with pytest.raises(Retry):
        tasks._run(task, job_id)
    task.request.retries = embedded.settings.max_retries
    tasks._run(task, job_id)
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        assert job.state == "failed" and "503" in job.error and job.attempts == 2


def test_max_retries_setting_is_honoured_beyond_eight(embedded, data_dir, monkeypatch):
    monkeypatch.setattr(embedded.settings, "max_retries", 12)
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    monkeypatch.setattr(embedded.storage, "get", lambda sha: (_ for _ in ()).throw(Transient("503")))
    task = SimpleNamespace(
        request=SimpleNamespace(retries=10, hostname="t@h"),
        retry=lambda exc, countdown, max_retries: Retry(exc=exc, when=max_retries),
    )
    with pytest.raises(Retry) as raised:  # retry 11 of 12: still retried, with the setting's limit
        tasks._run(task, job_id)
    assert raised.value.when == 12


def test_backoff_grows_and_is_jittered():
    first = {round(tasks.backoff_s(0), 6) for _ in range(20)}
    assert len(first) > 1 and all(0.25 <= d <= 0.5 for d in first)
    assert all(30.0 <= tasks.backoff_s(9) <= 60.0 for _ in range(20))


def test_reconcile_brings_a_stranded_job_to_done(embedded, data_dir):
    job_id = submit_colorize(embedded, drawing_spec(data_dir))
    with embedded.sessions() as session, session.begin():
        job = session.get(Job, job_id)
        job.state, job.worker = "running", "dead@host"
        job.deadline_at = utcnow() - timedelta(seconds=5)
    # reconciled before a worker starts: a worker's own reconciler could otherwise take it first
    assert reconcile(embedded) == 1
    with in_process_worker():
        job = wait_for_job(embedded, job_id, timeout_s=60)
    assert job.state == "done" and job.revision_id is not None
    assert _count(embedded, Revision) == 1
