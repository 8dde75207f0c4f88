"""Prometheus metrics scraped over HTTP after real jobs: in-process worker, Redis queues, prefork pool."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.workers.specs import drawing_spec
from workers import metrics, tasks
from workers.celery_app import retarget
from workers.context import make_context, set_context
from workers.embedded import in_process_worker
from workers.settings import Settings, get_settings
from workers.submit import submit_colorize, wait_for_job

NAMES = ("1F476", "1F600")
STAGES = ("fetch", "decode", "hints", "lines", "regions", "fill", "proof", "encode", "store")
Samples = dict[tuple[str, frozenset], float]


def scrape(port: int) -> Samples:
    """Every sample of the endpoint, keyed by (name, labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape_until(port: int, done: Callable[[Samples], bool], *, timeout_s: float = 15) -> Samples:
    """Scrape until `done` holds: a job is done in the database a moment before its task's signals run."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = scrape(port)
        if done(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


@pytest.fixture
def server() -> Iterator[metrics.MetricsServer]:
    running = metrics.serve_metrics(0, addr="127.0.0.1")
    yield running
    running.close()


def test_scrape_after_real_jobs_counts_jobs_stages_and_outcomes(embedded, data_dir, server):
    before = scrape(server.port)
    good = [submit_colorize(embedded, drawing_spec(data_dir, name)) for name in NAMES]
    bad = submit_colorize(embedded, drawing_spec(data_dir, NAMES[0], line=b"GIF89a not a drawing"))
    with in_process_worker():
        states = [wait_for_job(embedded, job_id, timeout_s=60).state for job_id in [*good, bad]]
    assert states == ["done", "done", "failed"]

    def delta(samples: Samples, name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    after = scrape_until(
        server.port, lambda s: delta(s, "tint_jobs_finished_total", kind="colorize", state="failed") >= 1
    )
    assert value(after, "tint_jobs", state="done", kind="colorize") == 2
    assert value(after, "tint_jobs", state="failed", kind="colorize") == 1
    assert value(after, "tint_scrape_source_up", source="database") == 1
    assert delta(after, "tint_jobs_finished_total", kind="colorize", state="done") == 2
    assert delta(after, "tint_task_runs_total", task="tint.colorize", outcome="SUCCESS") == 3
    for stage in STAGES:
        assert delta(after, "tint_job_stage_seconds_count", kind="colorize", stage=stage) == 2, stage
    assert delta(after, "tint_job_stage_seconds_sum", kind="colorize", stage="regions") > 0
    assert delta(after, "tint_job_seconds_count", kind="colorize", state="failed") == 1
    assert delta(after, "tint_job_wait_seconds_count", kind="colorize") == 3
    # the embedded broker is a SQLite file: no queue lists to report, and no broker source either
    assert not [key for key in after if key[0] == "tint_queue_depth"]


def test_a_redelivered_finished_job_is_counted_once(embedded, data_dir, server):
    job_id = submit_colorize(embedded, drawing_spec(data_dir, NAMES[0]))
    before = scrape(server.port)
    tasks.colorize.apply(args=[job_id])
    tasks.colorize.apply(args=[job_id])  # the job is done: the second run does nothing
    after = scrape(server.port)
    finished = ("tint_jobs_finished_total", frozenset({"kind": "colorize", "state": "done"}.items()))
    runs = ("tint_task_runs_total", frozenset({"task": "tint.colorize", "outcome": "SUCCESS"}.items()))
    assert after.get(finished, 0) - before.get(finished, 0) == 1
    assert after.get(runs, 0) - before.get(runs, 0) == 2


def test_model_load_time_is_a_histogram_per_model(server):
    before = value(scrape(server.port), "tint_model_load_seconds_count", model="test-model")
    with metrics.time_model_load("test-model"):
        time.sleep(0.01)
    samples = scrape(server.port)
    assert value(samples, "tint_model_load_seconds_count", model="test-model") == before + 1
    assert value(samples, "tint_model_load_seconds_sum", model="test-model") >= 0.01


@pytest.mark.services
def test_queue_depth_is_the_length_of_the_redis_lists(tmp_path, redis_url, data_dir, server):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(home=tmp_path / "home", broker_url=redis_url)
    retarget(settings)
    ctx = make_context(settings)
    set_context(ctx)
    try:
        for name in (*NAMES, NAMES[0]):  # queued, with no worker consuming
            submit_colorize(ctx, drawing_spec(data_dir, name))
        samples = scrape(server.port)
    finally:
        set_context(None)
        ctx.engine.dispose()
        retarget(get_settings())
        redis.Redis.from_url(redis_url).flushdb()
    assert value(samples, "tint_queue_depth", queue="gpu") == 3
    assert value(samples, "tint_queue_depth", queue="cpu") == 0
    assert value(samples, "tint_scrape_source_up", source="broker") == 1
    assert value(samples, "tint_jobs", state="queued", kind="colorize") == 3
    assert value(samples, "tint_oldest_queued_job_age_seconds", kind="colorize") >= 0


PREFORK_WORKER = """
import sys
from workers import metrics, tasks  # noqa: F401  (metrics before the pool forks)
from workers.celery_app import app
server = metrics.serve_metrics(int(sys.argv[1]), addr="127.0.0.1")
app.worker_main(["worker", "-Q", "gpu,cpu", "-c", "2", "--pool", "prefork", "-l", "WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_prefork_worker_exports_what_its_pool_processes_observe(embedded, data_dir, tmp_path):
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    env.update(TINT_HOME=str(embedded.settings.home), PROMETHEUS_MULTIPROC_DIR=str(mp_dir))
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-c", PREFORK_WORKER, str(port)],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group, so the pool goes down with it
    )
    try:
        jobs = [submit_colorize(embedded, drawing_spec(data_dir, name)) for name in NAMES]
        assert [wait_for_job(embedded, j, timeout_s=60).state for j in jobs] == ["done", "done"]
        samples = scrape_until(
            port, lambda s: value(s, "tint_jobs_finished_total", kind="colorize", state="done") >= 2
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its pool; a warm shutdown takes seconds
        proc.wait(30)
        log.close()
    assert value(samples, "tint_jobs_finished_total", kind="colorize", state="done") == 2, (
        tmp_path / "worker.log"
    ).read_text()
    assert value(samples, "tint_job_stage_seconds_count", kind="colorize", stage="regions") == 2
    assert value(samples, "tint_jobs", state="done", kind="colorize") == 2
    assert list(mp_dir.glob("*.db")), "pool processes wrote no multiprocess files"
