"""Running workers: the heartbeat/reconcile loop every worker runs, and an in-process worker.

The in-process worker is a real Celery worker consuming the same queues through the same broker, in a
thread of the calling process, so file commands on the embedded default go through the same code path as
production — never `task_always_eager`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

from celery import signals

from db import worker_queries
from workers.celery_app import CPU_QUEUE, GPU_QUEUE, app
from workers.context import after_fork, get_context
from workers.jobs import session_scope

__all__ = ["Heartbeat", "in_process_worker", "worker_is_running"]

log = logging.getLogger("tint.worker")
HEARTBEAT_S = 5.0


class Heartbeat(threading.Thread):
    """Records this worker as alive every few seconds and, unless told not to, runs the reconciler."""

    def __init__(self, *, name: str, queues: str, reconcile: bool = True) -> None:
        super().__init__(name=f"tint-heartbeat-{name}", daemon=True)
        self.worker_name = name
        self.queues = queues
        self.reconcile = reconcile
        self._stop_event = threading.Event()

    def run(self) -> None:
        from workers.submit import reconcile

        ctx = get_context()
        last_reconcile = 0.0
        while not self._stop_event.is_set():
            try:
                with session_scope(ctx) as session:
                    worker_queries.touch_worker(session, name=self.worker_name, queues=self.queues)
                if self.reconcile and time.monotonic() - last_reconcile >= ctx.settings.reconcile_every_s:
                    last_reconcile = time.monotonic()
                    reconcile(ctx)
            except Exception as exc:  # a heartbeat fault must never stop the worker
                log.warning("heartbeat: %s", exc)
            self._stop_event.wait(HEARTBEAT_S)

    def stop(self) -> None:
        """Stop beating and remove this worker's row so file commands stop counting on it."""
        self._stop_event.set()
        with contextlib.suppress(Exception), session_scope(get_context()) as session:
            worker_queries.forget_worker(session, name=self.worker_name)


_beats: dict[str, Heartbeat] = {}


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_: object) -> None:
    name = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}:{os.getpid()}"
    queues = (
        ",".join(sorted(q.name for q in app.amqp.queues.consume_from.values())) if app.amqp.queues else ""
    )
    beat = Heartbeat(name=name, queues=queues)
    _beats[name] = beat
    beat.start()


@signals.worker_process_init.connect
def _after_fork(**_: object) -> None:
    after_fork()


@signals.worker_shutdown.connect
def _stop_heartbeat(sender=None, **_: object) -> None:
    name = getattr(sender, "hostname", None)
    for key in [name] if name in _beats else list(_beats):
        _beats.pop(key).stop()


def worker_is_running() -> bool:
    """True when some worker has beaten recently (so a file command need not start its own)."""
    with session_scope(get_context()) as session:
        return bool(worker_queries.live_workers(session))


@contextlib.contextmanager
def in_process_worker(*, queues: tuple[str, ...] = (GPU_QUEUE, CPU_QUEUE)) -> Iterator[None]:
    """A real Celery worker (solo pool) consuming `queues` in a background thread while the block runs."""
    ready = threading.Event()
    hostname = f"in-process@{socket.gethostname()}:{os.getpid()}"
    worker = app.WorkController(
        hostname=hostname,
        pool_cls="solo",
        concurrency=1,
        queues=list(queues),
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        ready_callback=lambda *_: ready.set(),
        loglevel=logging.WARNING,
    )
    thread = threading.Thread(target=worker.start, name="tint-in-process-worker", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the in-process worker did not start within 30 s")
    try:
        yield
    finally:
        worker.stop(in_sighandler=False)
        thread.join(10)
