"""The Celery app and its one config: JSON only, late acks, prefetch 1, a `gpu` queue, time limits.

The broker URL comes from settings: Redis in production, a SQLite file (kombu's SQLAlchemy transport) on
the embedded default, so `tint submit` and `tint worker` work with no server installed.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from workers.broker import broker_url
from workers.settings import Settings, get_settings

__all__ = ["app", "configure", "retarget", "GPU_QUEUE", "CPU_QUEUE", "TASK_QUEUES"]

GPU_QUEUE = "gpu"
CPU_QUEUE = "cpu"
# Colorize, blockify and recolor run the models, so they go to the GPU queue; housekeeping to the CPU one.
TASK_QUEUES = {
    "tint.colorize": GPU_QUEUE,
    "tint.blockify": GPU_QUEUE,
    "tint.recolor": GPU_QUEUE,
    "tint.parts": GPU_QUEUE,
}


def _transport_options(settings: Settings) -> dict:
    if settings.embedded_broker:
        # Passed to create_engine by kombu: wait on SQLite's lock instead of failing when two processes write.
        return {"connect_args": {"timeout": 30}}
    # A task not acked within the visibility timeout is redelivered; it must outlast the longest task.
    return {"visibility_timeout": settings.task_time_limit_s * 2 + 60}


def configure(celery_app: Celery, settings: Settings) -> Celery:
    """Apply Tint's Celery config for `settings` to `celery_app` (also used by tests with their own URLs)."""
    celery_app.conf.update(
        broker_url=broker_url(settings.broker_url) if settings.embedded_broker else settings.broker_url,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=max(1, settings.task_time_limit_s - 30),
        task_queues=[
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in (GPU_QUEUE, CPU_QUEUE)
        ],
        task_default_queue=CPU_QUEUE,
        task_create_missing_queues=False,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        worker_hijack_root_logger=False,
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
    )
    return celery_app


def retarget(settings: Settings) -> Celery:
    """Point the process's app at another broker (a front door or test that built its own settings)."""
    import kombu.pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()  # kombu caches producer pools per connection; a stale one is closed
    return configure(app, settings)


app = configure(Celery("tint", include=["workers.tasks"]), get_settings())
