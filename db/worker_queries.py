"""Worker heartbeats on the database: a worker (or a command running its own job) records that it is
alive; file commands and the reconciler ask which workers are."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import WorkerHeartbeat, utcnow
from db.queries import dialect_insert

__all__ = ["LIVE_WITHIN_S", "touch_worker", "forget_worker", "live_workers"]

LIVE_WITHIN_S = 15.0  # a worker not seen for this long is presumed dead (it beats every 5 s)


def touch_worker(session: Session, *, name: str, queues: str) -> None:
    """Record that worker `name` (serving `queues`, comma-separated) is alive now."""
    now = utcnow()
    stmt = dialect_insert(session, WorkerHeartbeat).values(name=name, queues=queues, last_seen=now)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"queues": queues, "last_seen": now})
    session.execute(stmt)


def forget_worker(session: Session, *, name: str) -> None:
    """Remove worker `name`'s heartbeat (a clean shutdown), so it no longer counts as live."""
    session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))


def live_workers(session: Session, *, within_s: float = LIVE_WITHIN_S) -> list[WorkerHeartbeat]:
    """Workers seen in the last `within_s` seconds, by name."""
    since = utcnow() - timedelta(seconds=within_s)
    stmt = sa.select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen >= since).order_by(WorkerHeartbeat.name)
    return list(session.scalars(stmt))
