"""Real services for benchmarks: a fresh PostgreSQL schema, a Redis database, a moto S3 server on
loopback, and `tint worker` processes pointed at them. Used by bench/soak.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

__all__ = ["Services", "real_services", "write_manifest", "DATA"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openmoji"
POSTGRES = os.environ.get("TINT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TINT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass
class Services:
    """URLs of the running services and the environment a `tint` process needs to use them."""

    database_url: str
    env: dict[str, str]
    bucket: str
    s3_endpoint: str
    workers: list[subprocess.Popen] = field(default_factory=list)

    def tint(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run `tint ARGS` against these services."""
        return subprocess.run(
            [sys.executable, "-m", "studio.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start_workers(self, count: int, *, log: Path) -> None:
        """Start `count` single-process workers (solo pool: one model per process)."""
        for i in range(count):
            self.workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "studio.cli", "worker", "--pool", "solo", "--loglevel", "WARNING"],
                    env={**self.env, "CELERY_HOSTNAME": f"w{i}"},
                    stdout=open(log, "a"),
                    stderr=subprocess.STDOUT,  # noqa: SIM115
                )
            )

    def stop_workers(self) -> None:
        """Warm-stop every worker."""
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            proc.wait(60)
        self.workers.clear()


@contextlib.contextmanager
def real_services(home: Path) -> Iterator[Services]:
    """Fresh schema + Redis db + moto bucket for one benchmark run; everything is removed afterwards."""
    import logging

    import boto3
    import redis
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    redis.Redis.from_url(REDIS).flushdb()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    creds = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(creds)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    env.update(
        creds,
        TINT_HOME=str(home),
        TINT_DATABASE_URL=url,
        TINT_BROKER_URL=REDIS,
        TINT_STORAGE_URL=f"s3://{bucket}",
        TINT_S3_ENDPOINT=endpoint,
    )
    services = Services(database_url=url, env=env, bucket=bucket, s3_endpoint=endpoint)
    try:
        services.tint("db", "upgrade")
        yield services
    finally:
        services.stop_workers()
        server.stop()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def write_manifest(folder: Path, *, count: int, split: str = "train", name: str = "bench") -> Path:
    """A manifest of `count` drawings (cycling through the split) with every region hinted."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [it for it in json.loads((DATA / "index.json").read_text())["items"] if it["split"] == split]
    drawings = []
    for i in range(count):
        it = items[i % len(items)]
        target = folder / f"{it['name']}.png"
        if not target.exists():
            shutil.copy(DATA / split / f"{it['name']}_line.png", target)
        points = [{"x": r["point"][0], "y": r["point"][1], "color": r["color"]} for r in it["regions"]]
        drawings.append({"line": target.name, "name": f"{i:05d}-{it['name']}", "hints": {"points": points}})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "drawings": drawings}))
    return path


def wait_until(predicate, *, timeout_s: float, every_s: float = 0.5) -> bool:
    """Poll `predicate` until true or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return False
