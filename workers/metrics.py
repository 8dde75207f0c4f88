"""Prometheus metrics of workers and the API: jobs by state, stage times, queue depth, model load, GPU memory.

Two kinds of metric, for two reasons:

- *Observed* in the process that runs a task: `tint_job_stage_seconds{kind,stage}` from the job's
  `result["timings"]`, `tint_job_seconds`, `tint_job_wait_seconds` and `tint_jobs_finished_total` by
  `workers.jobs` when it finishes or fails a job (`observe_job`, from values it already holds: no read
  back); `tint_task_runs_total` and `tint_gpu_memory_bytes` by a Celery signal connected here; and
  `tint_model_load_seconds` (timed by whoever loads a model, with `time_model_load`).
- *Collected on scrape* by `SystemCollector`, in the process that serves `/metrics`: `tint_jobs{state,kind}`
  and `tint_oldest_queued_job_age_seconds{kind}` (one GROUP BY on the job table), and
  `tint_queue_depth{queue}` (Redis LLEN of the `gpu` and `cpu` lists when the broker is Redis).

A prefork worker runs tasks in child processes but serves `/metrics` from the main one, so observed metrics
go through prometheus_client's multiprocess mode: set PROMETHEUS_MULTIPROC_DIR (an empty directory) in the
environment before the worker starts, and `serve_metrics` merges every process's files on each scrape.
Solo and threads pools (and the in-process worker) need nothing: they run tasks in the serving process.
docs/operations.md argues the choice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import make_asgi_app, start_http_server
from prometheus_client.registry import Collector

from db.models import Job
from workers.celery_app import CPU_QUEUE, GPU_QUEUE, app
from workers.context import get_context

__all__ = [
    "JOB_STAGE_SECONDS",
    "JOB_SECONDS",
    "JOB_WAIT_SECONDS",
    "JOBS_FINISHED",
    "observe_job",
    "TASK_RUNS",
    "MODEL_LOAD_SECONDS",
    "GPU_MEMORY_BYTES",
    "SystemCollector",
    "MetricsServer",
    "multiprocess_dir",
    "metrics_registry",
    "observe_model_load",
    "time_model_load",
    "metrics_asgi_app",
    "serve_metrics",
]

log = logging.getLogger("tint.metrics")

# Stages run from well under a millisecond (hints) to seconds (a model on CPU); jobs up to the time limit.
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
JOB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
WAIT_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)
LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

JOB_STAGE_SECONDS = Histogram(
    "tint_job_stage_seconds",
    "Time of one pipeline stage of a finished job (fetch, decode, hints, lines, regions, fill, …, store).",
    ["kind", "stage"],
    buckets=STAGE_BUCKETS,
)
JOB_SECONDS = Histogram(
    "tint_job_seconds",
    "Time from a job's claim to its finish, by final state.",
    ["kind", "state"],
    buckets=JOB_BUCKETS,
)
JOB_WAIT_SECONDS = Histogram(
    "tint_job_wait_seconds",
    "Time a job waited queued before a worker claimed it.",
    ["kind"],
    buckets=WAIT_BUCKETS,
)
JOBS_FINISHED = Counter(
    "tint_jobs_finished", "Jobs finished by this worker, by final state.", ["kind", "state"]
)
TASK_RUNS = Counter("tint_task_runs", "Celery task runs, by task and Celery outcome.", ["task", "outcome"])
MODEL_LOAD_SECONDS = Histogram(
    "tint_model_load_seconds",
    "Time to load a model (once per worker process).",
    ["model"],
    buckets=LOAD_BUCKETS,
)
GPU_MEMORY_BYTES = Gauge(
    "tint_gpu_memory_bytes",
    "CUDA memory of a worker process after its last task.",
    ["device", "type"],
    multiprocess_mode="liveall",
)


def multiprocess_dir() -> Path | None:
    """The directory of prometheus_client's multiprocess mode, or None when this process runs alone."""
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


# --- collected on scrape --------------------------------------------------------------------------


class SystemCollector(Collector):
    """Job counts by state and kind from the database, and queue depth from Redis, read on each scrape."""

    def __init__(self) -> None:
        self._redis: Any = None
        self._redis_url = ""
        self._lock = threading.Lock()

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Registration asks for names; answering here keeps it from querying the database at import.
        return self._families()

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "tint_jobs", "Jobs in the database, by state and kind.", labels=["state", "kind"]
            ),
            GaugeMetricFamily(
                "tint_oldest_queued_job_age_seconds", "Age of the oldest queued job.", labels=["kind"]
            ),
            GaugeMetricFamily("tint_queue_depth", "Messages waiting in a broker queue.", labels=["queue"]),
            GaugeMetricFamily(
                "tint_scrape_source_up", "1 when a source answered this scrape, else 0.", labels=["source"]
            ),
        )

    def collect(self) -> Iterable[GaugeMetricFamily]:
        jobs, oldest, depth, up = self._families()
        up.add_metric(["database"], float(self._collect_jobs(jobs, oldest)))
        broker_ok = self._collect_queues(depth)
        if broker_ok is not None:
            up.add_metric(["broker"], float(broker_ok))
        return [jobs, oldest, depth, up]

    def _collect_jobs(self, jobs: GaugeMetricFamily, oldest: GaugeMetricFamily) -> bool:
        stmt = sa.select(Job.state, Job.kind, sa.func.count(), sa.func.min(Job.queued_at)).group_by(
            Job.state, Job.kind
        )
        try:
            with get_context().sessions() as session:
                rows = session.execute(stmt).all()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: job counts unavailable: %s", exc)
            return False
        now = datetime.now(UTC)
        for state, kind, count, first_queued in rows:
            jobs.add_metric([state, kind], float(count))
            if state == "queued" and first_queued is not None:
                first = first_queued if first_queued.tzinfo else first_queued.replace(tzinfo=UTC)
                oldest.add_metric([kind], max(0.0, (now - first).total_seconds()))
        return True

    def _client(self, url: str) -> Any:
        import redis

        with self._lock:
            if self._redis is None or self._redis_url != url:
                self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
                self._redis_url = url
            return self._redis

    def _collect_queues(self, depth: GaugeMetricFamily) -> bool | None:
        url = str(app.conf.broker_url or "")
        if not url.startswith(("redis://", "rediss://")):
            return None  # the embedded SQLite broker has no lists to count
        try:
            pipe = self._client(url).pipeline(transaction=False)
            for queue in (GPU_QUEUE, CPU_QUEUE):
                pipe.llen(queue)
            lengths = pipe.execute()
        except Exception as exc:
            log.warning("metrics: queue depth unavailable: %s", exc)
            return False
        for queue, length in zip((GPU_QUEUE, CPU_QUEUE), lengths, strict=True):
            depth.add_metric([queue], float(length))
        return True


SYSTEM = SystemCollector()
with contextlib.suppress(ValueError):  # a re-import (tests reloading modules) registers it once
    REGISTRY.register(SYSTEM)


# --- observed in the process running a task ------------------------------------------------------


def observe_model_load(model: str, seconds: float) -> None:
    """Record that loading `model` took `seconds`."""
    MODEL_LOAD_SECONDS.labels(model=model).observe(seconds)


@contextlib.contextmanager
def time_model_load(model: str) -> Iterator[None]:
    """Time the block as one load of `model`: `with time_model_load("parts"): net = load(...)`."""
    t0 = time.perf_counter()
    yield
    observe_model_load(model, time.perf_counter() - t0)


def _record_gpu_memory() -> None:
    torch = sys.modules.get("torch")  # never import torch just to report on it
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return
    for index in range(torch.cuda.device_count()):
        device = f"cuda:{index}"
        GPU_MEMORY_BYTES.labels(device, "allocated").set(torch.cuda.memory_allocated(index))
        GPU_MEMORY_BYTES.labels(device, "reserved").set(torch.cuda.memory_reserved(index))
        GPU_MEMORY_BYTES.labels(device, "max_allocated").set(torch.cuda.max_memory_allocated(index))


def observe_job(
    *,
    kind: str,
    state: str,
    queued_at: datetime | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    timings: dict | None,
) -> None:
    """Observe a job this process just finished (done or failed): its stage timings, run and wait time and
    final state. Called by `workers.jobs` after the transaction that finished it, from values it holds, so
    the hot path reads nothing back; a redelivered job already finished is not observed again."""
    try:
        if started_at is not None and finished_at is not None:
            JOB_SECONDS.labels(kind, state).observe(max(0.0, (finished_at - started_at).total_seconds()))
            if queued_at is not None:
                JOB_WAIT_SECONDS.labels(kind).observe(max(0.0, (started_at - queued_at).total_seconds()))
        for stage, ms in (timings or {}).items():
            if isinstance(ms, int | float):
                JOB_STAGE_SECONDS.labels(kind, str(stage)).observe(ms / 1000.0)
        # Last, so a scrape that sees the job finished sees its stage times too.
        JOBS_FINISHED.labels(kind, state).inc()
    except Exception as exc:  # metrics must never fail a job or a worker
        log.warning("metrics: a %s job was not observed: %s", kind, exc)


@signals.task_postrun.connect
def _task_finished(task: Any = None, state: str | None = None, **_: Any) -> None:
    TASK_RUNS.labels(getattr(task, "name", "unknown"), state or "UNKNOWN").inc()
    try:
        _record_gpu_memory()
    except Exception as exc:  # metrics must never fail a job or a worker
        log.warning("metrics: GPU memory not read: %s", exc)


@signals.worker_process_shutdown.connect
def _forget_process(pid: int | None = None, **_: Any) -> None:
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid or os.getpid())


# --- exposing them --------------------------------------------------------------------------------


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: every process's files merged in multiprocess mode, else this process's."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(SYSTEM)
    return registry


def metrics_asgi_app() -> Any:
    """An ASGI app answering Prometheus scrapes, to mount on the API: `app.mount("/metrics", ...)`."""
    return make_asgi_app(registry=metrics_registry())


@dataclass
class MetricsServer:
    """A running `/metrics` HTTP server and the port it listens on."""

    port: int
    _httpd: Any

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()


def _clear_multiprocess_dir(path: Path) -> None:
    if not path.is_dir():
        raise NotADirectoryError(
            f"PROMETHEUS_MULTIPROC_DIR={str(path)!r} is not a directory; create it before the worker starts "
            "(an emptyDir volume in Kubernetes)."
        )
    for stale in path.glob("*.db"):  # left by an earlier run of this container; their pids are gone
        stale.unlink(missing_ok=True)


def serve_metrics(port: int, *, addr: str = "0.0.0.0") -> MetricsServer:
    """Serve `/metrics` on `addr:port` (0: any free port) from a thread of this process.

    Call it in a worker's main process before the pool starts: in multiprocess mode it first clears
    files left by an earlier run, which is only safe while no pool process has written any.
    """
    path = multiprocess_dir()
    if path is not None:
        _clear_multiprocess_dir(path)
    httpd, _thread = start_http_server(port, addr=addr, registry=metrics_registry())
    bound = int(httpd.server_port)
    log.info("metrics on http://%s:%d/metrics (%s)", addr, bound, "multiprocess" if path else "one process")
    return MetricsServer(port=bound, _httpd=httpd)


@signals.worker_init.connect
def _check_pool(sender: Any = None, **_: Any) -> None:
    pool = str(getattr(sender, "pool_cls", "") or "")
    if "prefork" in pool.lower() and multiprocess_dir() is None:
        log.warning(
            "prefork pool without PROMETHEUS_MULTIPROC_DIR: metrics observed in pool processes are not "
            "exported; set it to an empty directory before starting the worker (see docs/operations.md)."
        )
