"""Server-sent events for a batch: one `job` event per job state change (the batch's colorize jobs and the
recolors of its drawings), polled from the database, which is the source of truth.

The first events are a snapshot of every job; then only changes. `follow=false` ends the stream after the
snapshot; otherwise it ends after `timeout_s` (EventSource clients reconnect) or when the client leaves.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from db import api_queries
from workers.context import Context

__all__ = ["POLL_S", "KEEPALIVE_S", "job_events"]

POLL_S = 0.5
KEEPALIVE_S = 15.0
FIELDS = ("id", "kind", "state", "drawing_id", "revision_id", "attempts", "error")


def _states(ctx: Context, batch_id: int) -> list[tuple]:
    with ctx.sessions() as session:
        return api_queries.batch_job_states(session, batch_id)


def _event(name: str, data: dict, event_id: int) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def job_events(
    ctx: Context, request: Request, *, batch_id: int, follow: bool, timeout_s: float
) -> AsyncIterator[str]:
    """The event stream: `job` events, a `keepalive` comment now and then, and `end` when it stops."""
    seen: dict[int, tuple] = {}
    counter = 0
    started = last_sent = time.monotonic()
    yield "retry: 2000\n\n"
    while True:
        for row in await run_in_threadpool(_states, ctx, batch_id):
            if seen.get(row[0]) != row:
                seen[row[0]] = row
                counter += 1
                last_sent = time.monotonic()
                yield _event("job", dict(zip(FIELDS, row, strict=True)), counter)
        now = time.monotonic()
        if not follow or now - started >= timeout_s or await request.is_disconnected():
            break
        if now - last_sent >= KEEPALIVE_S:
            last_sent = now
            yield ": keepalive\n\n"
        await asyncio.sleep(POLL_S)
    counter += 1
    yield _event("end", {"jobs": len(seen)}, counter)
