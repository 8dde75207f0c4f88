"""The API test server: the real app served by uvicorn in a thread on loopback, on a fresh database with
its own embedded broker and asset folder, an in-process Celery worker running the jobs, and helpers
to submit the sample drawings and wait for jobs. Imported by bare name (pytest puts this folder on
the path)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from db import auth_queries
from workers.context import Context, make_context, set_context
from workers.settings import Settings, get_settings

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
MAX_FILE_BYTES = 1 * 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024


@dataclass
class Api:
    """A running API: its base URL, context and one token per role (two submitters)."""

    url: str
    ctx: Context
    tokens: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _use_broker(settings: Settings) -> None:
    """Point the Celery app at `settings`' broker."""
    from workers.celery_app import retarget

    retarget(settings)


@contextlib.contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    """Serve the API for `settings` in a thread, with an in-process worker, until the block ends."""
    from studio.api import create_app

    ctx = make_context(settings, migrate=True)
    set_context(ctx)
    _use_broker(settings)
    tokens = {}
    with ctx.sessions() as session, session.begin():
        for name, role in [("ada", "admin"), ("lea", "lead"), ("sam", "submitter"), ("sue", "submitter")]:
            tokens[name] = auth_queries.create_token(session, name=name, role=role)[1]
    app = create_app(
        ctx, start_worker=True, max_request_bytes=MAX_REQUEST_BYTES, max_file_bytes=MAX_FILE_BYTES
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield Api(url=f"http://127.0.0.1:{sock.getsockname()[1]}", ctx=ctx, tokens=tokens)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        set_context(None)
        ctx.engine.dispose()
        _use_broker(get_settings())  # later tests in this process get the environment's broker back


def manifest_files(*names: str, manifest: str | None = None) -> list[tuple[str, tuple[str, bytes]]]:
    """Multipart parts for POST /api/batches: a manifest of the sample drawings `names` and their files."""
    if manifest is None:
        lines = [f"  - {{line: {n}_line.png, character: {n}, hints: {n}_hints.json}}" for n in names]
        manifest = "name: samples\ndrawings:\n" + "\n".join(lines) + "\n"
    parts = [("manifest", ("batch.yaml", manifest.encode()))]
    for n in names:
        for f in (f"{n}_line.png", f"{n}_hints.json"):
            parts.append(("files", (f, (SAMPLES / f).read_bytes())))
    return parts


def wait_jobs(client: httpx.Client, *, batch: int, timeout_s: float = 60) -> list[dict]:
    """Poll until no job of the batch is queued or running; returns its jobs."""
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = client.get("/api/jobs", params={"batch": batch, "limit": 200}).json()["items"]
        if all(j["state"] not in ("queued", "running") for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still running after {timeout_s}s: {jobs}")
        time.sleep(0.1)
