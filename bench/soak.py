"""Soak: N colorize jobs at 256 px through 2 worker processes on Redis, PostgreSQL and an S3 server.

Prints jobs/s, job latency percentiles, worker memory at start and end, and the final counts of jobs,
revisions and assets against what was submitted (they must be equal).

    python bench/soak.py --jobs 5000          # the full soak
    python bench/soak.py --jobs 300           # a quick one
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import write_manifest  # noqa: E402
from bench.real_services import (  # noqa: E402
    DATA,
    POSTGRES_URL,
    REDIS_URL,
    new_bucket,
    real_services,
    service_env,
)

__all__ = ["main"]


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _wait_until(predicate, *, timeout_s: float, every_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(every_s)


def _tint(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "studio.cli", *args], env=env, check=True, capture_output=True)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    """Run the soak and print its table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        with real_services(postgres_url=POSTGRES_URL, redis_url=REDIS_URL, home=home) as services:
            bucket = new_bucket(services)
            env = service_env(services, bucket=bucket, TINT_LOG_LEVEL="WARNING")
            manifest = write_manifest(DATA, Path(tmp) / "batch", split="train", count=args.jobs, name="soak")
            engine = sa.create_engine(services.database_url)
            log = open(Path(tmp) / "workers.log", "w")  # noqa: SIM115 - closed below
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "studio.cli",
                        "worker",
                        "--pool",
                        "solo",
                        "--loglevel",
                        "WARNING",
                        "--hostname",
                        f"soak{i}@%h",
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                for i in range(args.workers)
            ]
            try:
                t0 = time.monotonic()
                _tint(env, "submit", str(manifest))
                submitted = time.monotonic() - t0

                def done_count() -> int:
                    with engine.connect() as conn:
                        return conn.execute(
                            sa.text("SELECT count(*) FROM job WHERE state IN ('done', 'failed')")
                        ).scalar_one()

                # Memory at start is read once the workers are warm (models loaded, first jobs done).
                _wait_until(lambda: done_count() >= max(10, args.jobs // 20), timeout_s=3600, every_s=0.5)
                mem_start = [_rss_mib(p.pid) for p in workers]
                _wait_until(lambda: done_count() >= args.jobs, timeout_s=6 * 3600, every_s=1.0)
                wall = time.monotonic() - t0
                mem_end = [_rss_mib(p.pid) for p in workers]
            finally:
                for proc in workers:
                    proc.terminate()
                for proc in workers:
                    proc.wait(60)
                log.close()
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT state, EXTRACT(EPOCH FROM finished_at - created_at) FROM job")
                ).all()
                revisions = conn.execute(sa.text("SELECT count(*) FROM revision")).scalar_one()
                assets = conn.execute(sa.text("SELECT count(*) FROM asset")).scalar_one()
            engine.dispose()
            s3 = boto3.client("s3", endpoint_url=services.s3_endpoint)
            objects = sum(
                len(page.get("Contents", []))
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            )
    latencies = [float(s) for state, s in rows if state == "done"]
    done = len(latencies)
    growth = [(e - s) / s * 100 for s, e in zip(mem_start, mem_end, strict=True)]
    p50, p95, p99 = (_pct(latencies, q) for q in (0.5, 0.95, 0.99))
    rss = ", ".join(f"{s:.0f} → {e:.0f} MiB" for s, e in zip(mem_start, mem_end, strict=True))
    print(f"\nsoak: {args.jobs} jobs at 256 px, {args.workers} worker processes (solo pool), real services")
    print("| measure | value |\n|---|---|")
    print(f"| submit (rows + messages) | {submitted:.1f} s |")
    print(f"| jobs/s | {done / wall:.2f} |")
    print(f"| job latency p50 / p95 / p99 (submit → done) | {p50:.1f} / {p95:.1f} / {p99:.1f} s |")
    print(f"| mean latency | {statistics.fmean(latencies):.1f} s |" if latencies else "| mean latency | - |")
    print(f"| worker RSS start → end | {rss} |")
    print(f"| worker memory growth | {', '.join(f'{g:+.1f}%' for g in growth)} (goal < 10%) |")
    print(f"| jobs submitted / done / failed | {args.jobs} / {done} / {len(rows) - done} |")
    print(f"| revisions | {revisions} (must equal done) |")
    print(f"| asset rows / objects in the bucket | {assets} / {objects} (must be equal) |")


if __name__ == "__main__":
    main()
