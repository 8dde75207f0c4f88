"""Helpers for tests on the real services: a batch of real drawings, `tint` subprocesses, waiting, and a
fault-injecting HTTP proxy in front of the S3 server."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from bench.openmoji import write_manifest

__all__ = ["write_batch", "service_env", "tint", "start_worker", "wait_batch", "FaultProxy", "batch_id_of"]


def write_batch(data_dir: Path, folder: Path, *, count: int, name: str = "batch") -> Path:
    """A manifest of `count` train drawings with every region hinted; returns its path."""
    return write_manifest(data_dir, folder, split="train", count=count, name=name)


def service_env(
    *, postgres_url: str, redis_url: str, s3_endpoint: str, bucket: str, home: Path, **extra
) -> dict:
    """Environment for `tint` subprocesses on the real services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINT_")}
    env.update(
        {
            "TINT_HOME": str(home),
            "TINT_DATABASE_URL": postgres_url,
            "TINT_BROKER_URL": redis_url,
            "TINT_STORAGE_URL": f"s3://{bucket}",
            "TINT_S3_ENDPOINT": s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def tint(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `tint ARGS` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def start_worker(env: dict, log: Path, *, concurrency: int = 1, pool: str = "solo") -> subprocess.Popen:
    """A real `tint worker` process; its output goes to `log`."""
    out = open(log, "a")  # noqa: SIM115 - closed when the process is reaped by the caller's fixture
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio.cli",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def batch_id_of(engine: sa.Engine) -> int:
    """The newest batch id."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT max(id) FROM batch")).scalar_one()


def job_counts(engine: sa.Engine, batch_id: int) -> dict[str, int]:
    """Jobs of the batch per state."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT state, count(*) FROM job WHERE batch_id = :b GROUP BY state"), {"b": batch_id}
        ).all()
    return {state: count for state, count in rows}


def wait_batch(engine: sa.Engine, batch_id: int, *, timeout_s: float = 180, during=None) -> dict[str, int]:
    """Poll until every job of the batch is done or failed; `during(counts)` is called on each poll."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            counts = job_counts(engine, batch_id)
        except sa.exc.OperationalError:
            time.sleep(0.3)
            continue
        if set(counts) <= {"done", "failed"} or time.monotonic() > deadline:
            return counts
        if during is not None:
            during(counts)
        time.sleep(0.3)


class FaultProxy:
    """A loopback HTTP proxy to the S3 server that can answer 500 for every request while `failing`."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.failing = False
        self.requests = 0
        self.refused = 0  # requests answered 500 while failing
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def _forward(self) -> None:
                proxy.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.failing:
                    proxy.refused += 1
                    msg = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = f"{host}:{port}"
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
