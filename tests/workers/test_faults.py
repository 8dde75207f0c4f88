"""Faults on the real services: killed workers, a flushed broker, dropped database connections and an
object store answering errors. Every good drawing must end with exactly one result."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

import boto3
import pytest
import redis
import sqlalchemy as sa

from tests.workers import harness

pytestmark = pytest.mark.services

KILL_JOBS = int(os.environ.get("TINT_FAULT_JOBS", "200"))


@pytest.fixture
def services(postgres_url, redis_url, s3_endpoint, s3_bucket, tmp_path, data_dir):
    """Flushed Redis db, fresh PostgreSQL schema, fresh bucket; yields a dict the tests fill in."""
    redis.Redis.from_url(redis_url).flushdb()
    url = f"{postgres_url}&application_name=tint-fault"
    state = {
        "postgres_url": url,
        "redis_url": redis_url,
        "s3_endpoint": s3_endpoint,
        "bucket": s3_bucket,
        "tmp": tmp_path,
        "data_dir": data_dir,
        "workers": [],
    }
    yield state
    for proc in state["workers"]:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL) if proc.pid else None
        proc.wait(20)


def _env(state, *, endpoint=None, **extra):
    env = harness.service_env(
        postgres_url=state["postgres_url"],
        redis_url=state["redis_url"],
        s3_endpoint=endpoint or state["s3_endpoint"],
        bucket=state["bucket"],
        home=state["tmp"] / "home",
        **extra,
    )
    assert harness.tint("db", "upgrade", env=env).returncode == 0
    return env


def _worker(state, env, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            os.sys.executable,
            "-m",
            "studio.cli",
            "worker",
            "--loglevel",
            "WARNING",
            "--pool",
            kwargs.get("pool", "prefork"),
            "--concurrency",
            str(kwargs.get("concurrency", 2)),
        ],
        env=env,
        stdout=open(state["tmp"] / "worker.log", "a"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )
    state["workers"].append(proc)
    return proc


def _submit(state, env, count: int) -> tuple[sa.Engine, int]:
    manifest = harness.write_batch(state["data_dir"], state["tmp"] / "batch", count=count)
    run = harness.tint("submit", str(manifest), env=env)
    assert run.returncode == 0, run.stderr
    engine = sa.create_engine(state["postgres_url"], pool_pre_ping=True)
    return engine, harness.batch_id_of(engine)


def _assert_exactly_once(state, engine, batch_id, count):
    with engine.connect() as conn:
        per_job = (
            conn.execute(
                sa.text(
                    "SELECT count(r.id) FROM job j LEFT JOIN revision r ON r.job_id = j.id "
                    "WHERE j.batch_id = :b GROUP BY j.id"
                ),
                {"b": batch_id},
            )
            .scalars()
            .all()
        )
        linked = conn.execute(
            sa.text("SELECT count(*) FROM job WHERE batch_id = :b AND revision_id IS NOT NULL"),
            {"b": batch_id},
        ).scalar_one()
        asset_keys = set(conn.execute(sa.text("SELECT key FROM asset")).scalars())
    assert per_job == [1] * count, "every job has exactly one revision"
    assert linked == count
    s3 = boto3.client("s3", endpoint_url=state["s3_endpoint"])
    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=state["bucket"])
        for o in page.get("Contents", [])
    }
    assert keys == asset_keys, "no orphaned object and no asset row without its object"


def _newest_job(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT max(id) FROM job")).scalar_one()


def _wait_job(engine, job_id: int, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            state = conn.execute(sa.text("SELECT state FROM job WHERE id = :j"), {"j": job_id}).scalar_one()
        if state in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.3)


def test_sigkilled_workers_lose_no_job_and_duplicate_nothing(services):
    env = _env(services, TINT_JOB_DEADLINE_S=20, TINT_RECONCILE_EVERY_S=2)
    worker = _worker(services, env)
    engine, batch_id = _submit(services, env, KILL_JOBS)
    rng = random.Random(7)
    kills = {"children": 0, "parent": False}

    def chaos(counts):
        nonlocal worker
        done = counts.get("done", 0)
        if kills["children"] < 4 and done >= (kills["children"] + 1) * KILL_JOBS // 8:
            children = subprocess.run(
                ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
            ).stdout.split()
            if children:
                os.kill(int(rng.choice(children)), signal.SIGKILL)
                kills["children"] += 1
        elif not kills["parent"] and done >= KILL_JOBS * 5 // 8:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
            kills["parent"] = True
            worker = _worker(services, env)

    counts = harness.wait_batch(engine, batch_id, timeout_s=400, during=chaos)
    assert kills == {"children": 4, "parent": True}
    assert counts == {"done": KILL_JOBS}, counts
    _assert_exactly_once(services, engine, batch_id, KILL_JOBS)
    with engine.connect() as conn:
        retried = conn.execute(
            sa.text("SELECT count(*) FROM job WHERE batch_id = :b AND attempts > 1"), {"b": batch_id}
        ).scalar_one()
    assert retried >= 1, "killed jobs ran again and their attempts were recorded"


def test_flushed_broker_is_healed_by_the_periodic_reconciler(services):
    env = _env(services, TINT_JOB_DEADLINE_S=6, TINT_RECONCILE_EVERY_S=2)
    engine, batch_id = _submit(services, env, 60)
    redis.Redis.from_url(services["redis_url"]).flushdb()  # every queued message is gone
    _worker(services, env)
    counts = harness.wait_batch(engine, batch_id, timeout_s=240)
    assert counts == {"done": 60}, counts
    _assert_exactly_once(services, engine, batch_id, 60)


def test_dropped_database_connections_are_retried(services, postgres_server):
    env = _env(services)
    _worker(services, env)
    engine, batch_id = _submit(services, env, 60)
    admin = sa.create_engine(postgres_server)
    stop = threading.Event()
    killed = []

    def terminate():
        while not stop.wait(0.7):
            with admin.begin() as conn:
                killed.extend(
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'tint-fault' AND pid <> pg_backend_pid()"
                        )
                    ).scalars()
                )

    thread = threading.Thread(target=terminate, daemon=True)
    thread.start()
    try:
        time.sleep(4)
    finally:
        stop.set()
        thread.join()
    counts = harness.wait_batch(engine, batch_id, timeout_s=240)
    assert killed, "connections were terminated during the batch"
    assert counts == {"done": 60}, counts
    _assert_exactly_once(services, engine, batch_id, 60)
    admin.dispose()


def test_object_store_errors_are_retried_and_exhausted_retries_fail_then_retry(services):
    proxy = harness.FaultProxy(services["s3_endpoint"])
    try:
        env = _env(services, endpoint=proxy.url)
        _worker(services, env)
        engine, batch_id = _submit(services, env, 30)
        proxy.failing = True
        time.sleep(3)
        proxy.failing = False
        assert proxy.refused > 0, "the object store refused requests during the window"
        counts = harness.wait_batch(engine, batch_id, timeout_s=240)
        assert counts == {"done": 30}, counts
        _assert_exactly_once(services, engine, batch_id, 30)

        short = {**env, "TINT_MAX_RETRIES": "1"}
        for proc in services["workers"]:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        one = harness.write_batch(services["data_dir"], services["tmp"] / "one", count=1, name="one")
        assert harness.tint("submit", str(one), env=short).returncode == 0
        job_id = _newest_job(engine)
        proxy.failing = True
        _worker(services, short)
        assert _wait_job(engine, job_id) == "failed"
        with engine.connect() as conn:
            error = conn.execute(sa.text("SELECT error FROM job WHERE id = :j"), {"j": job_id}).scalar_one()
        assert "gave up after 1 retries" in error and "500" in error, error
        proxy.failing = False
        assert harness.tint("retry", str(job_id), env=short).returncode == 0
        assert _wait_job(engine, job_id) == "done"
    finally:
        proxy.close()
