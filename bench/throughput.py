"""Throughput of 512×512 colorize jobs on the real services, through 1 and 2 `tint worker` processes.

    python bench/throughput.py                 # 30 jobs per run: 2 min on 2 quiet cores, 4 loaded
    python bench/throughput.py --jobs 200 --workers 1,2,4

Runs, in one process and on the same drawings (OpenMoji test split; by default every other region of
index.json hinted at its point, so the region colorizer decides the rest in every job: `--hinted 1` hints
all, and then most jobs need no model at all), each run writing into a fresh S3 bucket so every output is
stored anew:

- *pipeline*: `pipeline.colorize` called directly on decoded arrays (no I/O): the denominator, run before
  and again after the other runs (a machine's speed drifts by tens of percent over minutes).
- *task, no broker*: the worker's own code path (claim, fetch, decode, hints, colorize, encode, store,
  record) called in this process, job after job: what the job costs without the queue.
- *K workers*: a batch submitted to Redis and worked by K `tint worker` processes (prefork, concurrency 1,
  as deployed), started and ready before the batch is sent.

Per stage it prints median and p95 in ms. Stage times come from each job's `result["timings"]`; claim
and record (the finish transaction) are timed around `jobs.start` / `jobs.finish` in the worker by a shim
that wraps them before running `tint worker`. The queue overhead ratio is the end-to-end time per job,
(last finish − first claim) × K / jobs, divided by the mean `pipeline.colorize` time of the same run.
Needs PostgreSQL and Redis on loopback; starts its own S3 server (moto) unless `--s3-endpoint` names one
(on other hardware its CPU is not on this machine's cores, as in a deployment). On a loaded machine the
numbers are noisy: compare runs of one invocation, and re-run on a quiet machine before quoting them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpu_share import CpuMeter, pids_in_group, pids_named  # noqa: E402
from job_probes import install_probes, read_probes  # noqa: E402
from openmoji import hinted_points  # noqa: E402
from real_services import (  # noqa: E402
    DATA,
    POSTGRES_URL,
    REDIS_URL,
    Services,
    new_bucket,
    real_services,
    service_env,
)
from throughput_report import print_cpu, print_report  # noqa: E402

__all__ = ["main"]


# --- inputs ---------------------------------------------------------------------------------------


def test_items(count: int) -> list[dict]:
    """`count` test-split drawings of index.json (cycled when more are asked than exist)."""
    items = [it for it in json.loads((DATA / "index.json").read_text())["items"] if it["split"] == "test"]
    return [items[i % len(items)] for i in range(count)]


HINTED = {"fraction": 0.5}  # --hinted: the share of each drawing's regions given a hint


def _points(item: dict) -> dict:
    """Hint points for an evenly spread HINTED share of the drawing's regions (index.json order)."""
    return hinted_points(item, HINTED["fraction"])


def write_manifest(items: list[dict], folder: Path) -> Path:
    """A batch manifest of the drawings, lines copied beside it, hints inline."""
    folder.mkdir(parents=True, exist_ok=True)
    drawings = []
    for index, item in enumerate(items):
        line = folder / f"{item['name']}.png"
        if not line.exists():
            line.write_bytes((DATA / "test" / f"{item['name']}_line.png").read_bytes())
        drawings.append(
            {
                "line": line.name,
                "name": f"{index:05d}_{item['name']}",
                "character": item["annotation"],
                "hints": _points(item),
            }
        )
    path = folder / "batch.json"
    path.write_text(json.dumps({"name": "throughput", "drawings": drawings}))
    return path


# --- runs -----------------------------------------------------------------------------------------


def run_pipeline(items: list[dict]) -> tuple[list[float], float]:
    """ms of `pipeline.colorize` (with the region colorizer, as the task runs it) per drawing, arrays
    decoded beforehand (one warm-up call first), and its mean CPU ms per drawing."""
    import cv2

    import pipeline
    from pipeline.hints import hints_from_json
    from pipeline.images import decode_image
    from pipeline.models import regionfill as regionfill_model
    from workers.settings import Settings

    cv2.setNumThreads(1)  # as a worker process does (workers/models.py)
    model = regionfill_model.load(None, device="cpu")
    settings = Settings()
    kwargs = {"gap_px": settings.gap_px, "min_area": settings.min_area, "fill_unhinted": model.fill_unhinted}
    inputs = []
    for item in items:
        drawing = decode_image((DATA / "test" / f"{item['name']}_line.png").read_bytes(), name=item["name"])
        hints = hints_from_json(_points(item), width=drawing.shape[1], height=drawing.shape[0])
        inputs.append((drawing, hints))
    pipeline.colorize(*inputs[0], **kwargs)
    times = []
    cpu0 = time.process_time()
    for drawing, hints in inputs:
        t0 = time.perf_counter()
        pipeline.colorize(drawing, hints, **kwargs)
        times.append((time.perf_counter() - t0) * 1000)
    return times, (time.process_time() - cpu0) * 1000 / len(inputs)


ASSETS = {"where": "s3"}  # --assets: "s3" (the S3 server) or "local" (a directory: no object-store cost)


def _storage_url(services: Services, bucket: str) -> str:
    """Where a run writes its outputs: the run's fresh bucket, or a fresh local directory."""
    if ASSETS["where"] == "local":
        return str(services.home / f"assets-{bucket}")
    return f"s3://{bucket}"


def _context(services: Services, bucket: str) -> Any:
    from workers.celery_app import app, retarget
    from workers.context import make_context, set_context
    from workers.settings import Settings

    settings = Settings(
        home=services.home,
        database_url=services.database_url,
        broker_url=services.broker_url,
        storage_url=_storage_url(services, bucket),
        s3_endpoint=services.s3_endpoint,
    )
    if app.conf.broker_url != settings.broker_url:
        # once: retargeting to the same URL again leaves kombu's cached producer pool closed
        retarget(settings)
    ctx = make_context(settings, migrate=False)
    set_context(ctx)
    return ctx


def _job_rows(ctx: Any, batch_id: int) -> list[Any]:
    import sqlalchemy as sa

    from db.models import Job

    stmt = sa.select(Job.id, Job.state, Job.result, Job.started_at, Job.finished_at, Job.error).where(
        Job.batch_id == batch_id
    )
    with ctx.sessions() as session:
        return list(session.execute(stmt))


def _meter(services: Services, worker_pids: Callable[[], list[int]], *, bench: bool) -> CpuMeter:
    """CPU by process for a run: the worker(s), the S3 server, PostgreSQL, Redis (and this bench process
    when it is not itself the worker)."""
    groups = {
        "worker": worker_pids,
        "S3 server": lambda: [services.s3_pid] if services.s3_pid else [],  # 0: elsewhere, not counted
        "PostgreSQL": lambda: pids_named("postgres"),
        "Redis": lambda: pids_named("redis-server"),
    }
    if bench:
        groups["bench"] = lambda: [os.getpid()]
    return CpuMeter(groups)


def _open_jobs(ctx: Any, batch_id: int) -> int:
    """Jobs of the batch not yet done or failed (one cheap count: the bench polls it while workers run)."""
    import sqlalchemy as sa

    from db.models import Job

    stmt = sa.select(sa.func.count()).where(Job.batch_id == batch_id, Job.state.not_in(("done", "failed")))
    with ctx.sessions() as session:
        return int(session.execute(stmt).scalar_one())


def run_task_path(services: Services, manifest: Path, probes: Path) -> dict:
    """The worker's code path called in this process, job by job, with no broker in between."""
    from workers import bodies, jobs
    from workers.submit import submit_manifest

    ctx = _context(services, new_bucket(services))
    batch_id = submit_manifest(ctx, manifest)
    services.flush_broker()  # the messages are not needed: this run calls the task body itself
    uninstall = install_probes(probes)
    meter = _meter(services, lambda: [os.getpid()], bench=False)
    try:
        meter.start()
        t0 = time.perf_counter()
        for row in sorted(_job_rows(ctx, batch_id)):
            job = jobs.start(ctx, row.id, worker="bench@direct")  # the probed function
            bodies.run_colorize(ctx, job)
        wall = time.perf_counter() - t0
        cpu = meter.stop()
    finally:
        uninstall()
    rows = _job_rows(ctx, batch_id)
    return {"rows": rows, "probes": read_probes(probes), "wall": wall, "workers": 1, "cpu": cpu}


def _start_workers(services: Services, bucket: str, count: int, probes: Path, logs: Path) -> list:
    env = service_env(
        services, bucket=bucket, TINT_LOG_LEVEL="WARNING", TINT_STORAGE_URL=_storage_url(services, bucket)
    )
    procs = []
    for index in range(count):
        out = open(logs / f"worker-{index}.log", "w")  # noqa: SIM115 - closed with the process
        shim = [sys.executable, str(Path(__file__).with_name("job_probes.py")), str(probes), "--"]
        args = "worker --queues gpu,cpu --pool prefork --concurrency 1 --loglevel WARNING".split()
        args += ["--hostname", f"bench{index}@%h"]  # one name per process: the bench waits for each heartbeat
        procs.append(
            (
                subprocess.Popen(
                    [*shim, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                ),
                out,
            )
        )
    return procs


def _wait(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"error: {what} within {timeout_s:.0f}s")
        time.sleep(0.2)


def run_workers(services: Services, manifest: Path, count: int, probes: Path, logs: Path) -> dict:
    """A batch through `count` `tint worker` processes, started and beating before it is submitted."""
    from db import worker_queries
    from workers.submit import submit_manifest

    bucket = new_bucket(services)
    ctx = _context(services, bucket)
    procs = _start_workers(services, bucket, count, probes, logs)
    try:
        with ctx.sessions() as session:
            known = {w.name for w in worker_queries.live_workers(session, within_s=3600)}

        def ready() -> bool:
            with ctx.sessions() as session:
                return len({w.name for w in worker_queries.live_workers(session)} - known) >= count

        _wait(ready, timeout_s=180, what=f"{count} workers did not start (see {logs})")
        pool = [proc.pid for proc, _ in procs]
        meter = _meter(services, lambda: [p for pgid in pool for p in pids_in_group(pgid)], bench=True)
        meter.start()
        t0 = time.perf_counter()
        batch_id = submit_manifest(ctx, manifest)
        submit_s = time.perf_counter() - t0

        def finished() -> bool:
            return _open_jobs(ctx, batch_id) == 0

        _wait(finished, timeout_s=120 + 30 * len(_job_rows(ctx, batch_id)), what="the batch did not finish")
        cpu = meter.stop()
    finally:
        for proc, out in procs:
            os.killpg(proc.pid, signal.SIGKILL)  # idle now; a warm shutdown of prefork takes seconds
            proc.wait(30)
            out.close()
        with ctx.sessions() as session, session.begin():
            for worker in worker_queries.live_workers(session, within_s=3600):
                worker_queries.forget_worker(session, name=worker.name)
        services.flush_broker()
    return {
        "rows": _job_rows(ctx, batch_id),
        "probes": read_probes(probes),
        "workers": count,
        "submit": submit_s,
        "cpu": cpu,
    }


def _stop(signum: int, _frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so the workers and the S3 server are cleaned up


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30, help="colorize jobs per run (default 30)")
    parser.add_argument("--workers", default="1,2", help="worker process counts to run, comma-separated")
    parser.add_argument(
        "--assets",
        choices=("s3", "local"),
        default="s3",
        help="outputs to the S3 server (default) or a local directory, to see the object store's share",
    )
    parser.add_argument(
        "--hinted",
        type=float,
        default=0.5,
        help="share of each drawing's regions hinted (default 0.5: the model decides the rest in every job)",
    )
    parser.add_argument(
        "--s3-endpoint",
        help="an S3 server to use instead of starting moto on this machine (MinIO, or S3 on other "
        "hardware; AWS_* credentials from the environment)",
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",") if c]
    ASSETS["where"] = args.assets
    if not 0 < args.hinted <= 1:
        parser.error("--hinted must be in (0, 1]")
    HINTED["fraction"] = args.hinted
    items = test_items(args.jobs)
    with tempfile.TemporaryDirectory(prefix="tint-bench-") as tmp:
        tmp_path = Path(tmp)
        manifest = write_manifest(items, tmp_path / "batch")
        servers = {"postgres_url": args.postgres_url, "redis_url": args.redis_url}
        with real_services(home=tmp_path, s3_endpoint=args.s3_endpoint, **servers) as services:
            print(
                f"{args.jobs} jobs of 512x512 drawings, {args.hinted:.0%} of regions hinted; services: "
                f"PostgreSQL schema, Redis {args.redis_url}, assets: {args.assets} "
                f"(S3 server {services.s3_endpoint})",
                flush=True,
            )
            pipeline_ms, pipeline_cpu = run_pipeline(items)
            runs = {}
            (tmp_path / "probes-direct").mkdir()
            runs["task, no broker"] = run_task_path(services, manifest, tmp_path / "probes-direct")
            for count in counts:
                name = f"{count} worker(s)"
                probes = tmp_path / f"probes-{count}"
                probes.mkdir()
                print(f"running {name}…", flush=True)
                runs[name] = run_workers(services, manifest, count, probes, tmp_path)
            # again after the runs: the machine's speed drifts, so the denominator is the mean of both
            after_ms, after_cpu = run_pipeline(items)
            print(
                f"pipeline only: {statistics.fmean(pipeline_ms):.1f} ms per drawing before the runs, "
                f"{statistics.fmean(after_ms):.1f} after; the ratios divide by the mean of both"
            )
            pipeline_ms, pipeline_cpu = pipeline_ms + after_ms, (pipeline_cpu + after_cpu) / 2
            print_report(pipeline_ms, runs)
            print_cpu(pipeline_ms, pipeline_cpu, runs, cores=os.cpu_count() or 1)
            for name, run in runs.items():
                if "submit" in run:
                    print(f"submit of {args.jobs} drawings before '{name}': {run['submit']:.2f} s")


if __name__ == "__main__":
    main()
