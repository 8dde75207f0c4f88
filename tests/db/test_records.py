"""Assets, batches, drawings, prompts, revisions, reviews and worker heartbeats in db.queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import job_queries, queries, worker_queries
from db.models import Drawing, Revision, WorkerHeartbeat


@contextmanager
def count_statements(session: Session) -> Iterator[list[str]]:
    """Collects the SQL statements the session's engine sends while the block runs."""
    statements: list[str] = []
    engine = session.get_bind()

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _recolor_chain(session: Session, drawing: Drawing, length: int) -> list[Revision]:
    """A colorize revision followed by `length - 1` recolors, each the parent of the next."""
    revisions: list[Revision] = []
    with session.begin():
        for i in range(length):
            parent = revisions[-1].id if revisions else None
            job = job_queries.create_job(
                session,
                kind="recolor" if parent else "colorize",
                params={"edits": {"3": "#d23c3c"}} if parent else {},
                drawing_id=drawing.id,
                parent_revision_id=parent,
            )
            revision = job_queries.finish_job(
                session,
                job.id,
                result={},
                revision={"assets": {"colored": f"{i:064x}"}, "edits": {"3": "#d23c3c"} if parent else None},
            )
            revisions.append(revision)
    return revisions


def test_add_asset_existing_sha_returns_existing_row(session: Session) -> None:
    with session.begin():
        first = queries.add_asset(
            session, sha256="b" * 64, key="bb/b", media_type="image/png", size=100, width=8, height=4
        )
    session.expunge_all()
    with session.begin():
        again = queries.add_asset(session, sha256="b" * 64, key="other", media_type="image/webp", size=1)
    assert (again.sha256, again.key, again.size, again.width, again.height) == ("b" * 64, "bb/b", 100, 8, 4)
    assert again.created_at == first.created_at
    assert session.scalar(sa.select(sa.func.count()).select_from(sa.table("asset"))) == 1


def test_get_missing_rows_return_none(session: Session) -> None:
    assert queries.get_asset(session, "0" * 64) is None
    assert queries.get_batch(session, 1) is None
    assert queries.get_drawing(session, 1) is None
    assert queries.get_prompt(session, 1) is None
    assert job_queries.get_job(session, 1) is None
    assert queries.get_revision(session, 1) is None


def test_batch_keeps_manifest_as_given(session: Session) -> None:
    manifest = {"drawings": [{"line": "hero.png", "prompt": {"hair": "#5a3825"}}], "note": "ünïcode ✓"}
    with session.begin():
        batch = queries.create_batch(session, name="spring", submitted_by="ana", manifest=manifest)
    session.expunge_all()
    loaded = queries.get_batch(session, batch.id)
    assert (loaded.name, loaded.submitted_by, loaded.manifest) == ("spring", "ana", manifest)
    assert loaded.created_at.tzinfo == UTC
    assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_drawing_belongs_to_batch(session: Session, drawing: Drawing) -> None:
    session.expunge_all()
    loaded = queries.get_drawing(session, drawing.id)
    assert (loaded.name, loaded.character, loaded.view) == ("hero.png", "hero", "front")
    assert loaded.batch.name == "batch"
    assert [d.id for d in loaded.batch.drawings] == [drawing.id]
    assert loaded.line.media_type == "image/png"


def test_drawing_without_batch(session: Session, drawing: Drawing) -> None:
    with session.begin():
        loose = queries.create_drawing(session, batch_id=None, name="loose.png", line_sha=drawing.line_sha)
    assert loose.batch is None and loose.character == ""


def test_drawing_needs_its_line_asset(session: Session) -> None:
    with pytest.raises(sa.exc.IntegrityError), session.begin():
        queries.create_drawing(session, batch_id=None, name="x.png", line_sha="f" * 64)


def test_prompt_history_in_order(session: Session, drawing: Drawing) -> None:
    with session.begin():
        queries.add_asset(session, sha256="d" * 64, key="h", media_type="image/png", size=5)
        made = [
            queries.create_prompt(
                session, drawing_id=drawing.id, kind="palette", payload={"hair": "#5a3825"}
            ),
            queries.create_prompt(
                session, drawing_id=drawing.id, kind="image", payload={}, hint_sha="d" * 64
            ),
            queries.create_prompt(
                session,
                drawing_id=drawing.id,
                kind="points",
                payload={"points": [{"x": 1, "y": 2, "color": "#fff"}]},
            ),
        ]
    session.expunge_all()
    history = queries.prompt_history(session, drawing.id)
    assert [p.id for p in history] == [p.id for p in made]
    assert history[0].payload == {"hair": "#5a3825"}
    assert history[1].hint_sha == "d" * 64


def test_create_prompt_unknown_kind_raises(session: Session, drawing: Drawing) -> None:
    with pytest.raises(ValueError, match="unknown prompt kind 'colours'"):
        queries.create_prompt(session, drawing_id=drawing.id, kind="colours", payload={})


def test_prompt_lineage_root_first_in_one_query(session: Session, drawing: Drawing) -> None:
    with session.begin():
        root = queries.create_prompt(session, drawing_id=drawing.id, kind="points", payload={"points": []})
        unrelated = queries.create_prompt(session, drawing_id=drawing.id, kind="none", payload={})
        target = queries.create_prompt(
            session, drawing_id=drawing.id, kind="target", payload={}, parent_prompt_id=root.id
        )
        again = queries.create_prompt(
            session, drawing_id=drawing.id, kind="target", payload={}, parent_prompt_id=target.id
        )
    session.expunge_all()
    with count_statements(session) as statements:
        lineage = queries.prompt_lineage(session, again.id)
    assert [p.id for p in lineage] == [root.id, target.id, again.id]
    assert len(statements) == 1
    assert unrelated.id not in [p.id for p in lineage]
    assert queries.prompt_lineage(session, 999) == []


def test_revision_chain_of_three_recolors_root_first_in_one_query(session: Session, drawing: Drawing) -> None:
    chain = _recolor_chain(session, drawing, 4)
    _recolor_chain(session, drawing, 2)  # another chain on the same drawing stays out
    session.expunge_all()
    with count_statements(session) as statements:
        read = queries.revision_chain(session, chain[-1].id)
    assert len(statements) == 1
    assert [r.id for r in read] == [r.id for r in chain]
    assert [r.kind for r in read] == ["colorize", "recolor", "recolor", "recolor"]
    assert [r.parent_revision_id for r in read] == [None] + [r.id for r in chain[:-1]]
    assert read[1].edits == {"3": "#d23c3c"}
    assert [r.id for r in queries.revision_chain(session, chain[1].id)] == [chain[0].id, chain[1].id]
    assert queries.revision_chain(session, 999) == []


def test_drawing_revisions_in_order(session: Session, drawing: Drawing) -> None:
    made = _recolor_chain(session, drawing, 3)
    assert [r.id for r in queries.drawing_revisions(session, drawing.id)] == [r.id for r in made]


def test_latest_colored_revisions_pair_each_batch_drawing_with_its_newest_colored_one(
    session: Session, drawing: Drawing
) -> None:
    chain = _recolor_chain(session, drawing, 3)
    with session.begin():
        blank = queries.create_drawing(
            session, batch_id=drawing.batch_id, name="b.png", character="", line_sha="a" * 64
        )
        queries.create_drawing(session, batch_id=None, name="elsewhere.png", line_sha="a" * 64)
        job = job_queries.create_job(session, kind="blockify", params={}, drawing_id=drawing.id)
        job_queries.finish_job(session, job.id, result={}, revision={"kind": "blockify", "assets": {}})
    pairs = queries.latest_colored_revisions(session, drawing.batch_id)
    assert [(d.id, r.id if r else None) for d, r in pairs] == [(drawing.id, chain[-1].id), (blank.id, None)]


def test_review_verdict_sets_review_status(session: Session, drawing: Drawing) -> None:
    (revision,) = _recolor_chain(session, drawing, 1)
    with session.begin():
        comment = queries.add_review(session, revision_id=revision.id, comment="hair too dark", blocks=[3, 7])
    assert queries.get_revision(session, revision.id).review_status == "pending_review"
    with session.begin():
        queries.add_review(session, revision_id=revision.id, verdict="changes_requested", author="lead")
    session.expunge_all()
    loaded = queries.get_revision(session, revision.id)
    assert loaded.review_status == "changes_requested"
    assert [(r.verdict, r.comment, r.blocks) for r in loaded.reviews] == [
        (None, "hair too dark", [3, 7]),
        ("changes_requested", "", []),
    ]
    assert comment.author == ""


def test_review_unknown_verdict_raises(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown review verdict 'meh'"):
        queries.add_review(session, revision_id=1, verdict="meh")


def test_touch_worker_upserts_and_live_workers_sees_it(session: Session) -> None:
    with session.begin():
        worker_queries.touch_worker(session, name="celery@gpu-1", queues="gpu")
        worker_queries.touch_worker(session, name="celery@gpu-1", queues="gpu,cpu")
        worker_queries.touch_worker(session, name="celery@gpu-2", queues="gpu")
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)) == 2
    live = worker_queries.live_workers(session)
    assert [(w.name, w.queues) for w in live] == [("celery@gpu-1", "gpu,cpu"), ("celery@gpu-2", "gpu")]
    assert live[0].last_seen.tzinfo == UTC


def test_live_workers_skips_stale_heartbeats(session: Session) -> None:
    with session.begin():
        session.add(
            WorkerHeartbeat(name="old", queues="gpu", last_seen=datetime.now(UTC) - timedelta(seconds=60))
        )
        worker_queries.touch_worker(session, name="new", queues="gpu")
    assert [w.name for w in worker_queries.live_workers(session)] == ["new"]
    assert [w.name for w in worker_queries.live_workers(session, within_s=120)] == ["new", "old"]


def test_timestamps_in_other_zones_stored_as_utc(session: Session) -> None:
    tokyo = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    with session.begin():
        session.add(WorkerHeartbeat(name="tokyo", queues="gpu", last_seen=tokyo))
    session.expunge_all()
    loaded = session.get(WorkerHeartbeat, "tokyo")
    assert loaded.last_seen == tokyo and loaded.last_seen.tzinfo == UTC
    assert [w.name for w in worker_queries.live_workers(session)] == ["tokyo"]


def test_forget_worker_removes_heartbeat(session: Session) -> None:
    with session.begin():
        worker_queries.touch_worker(session, name="a", queues="gpu")
        worker_queries.touch_worker(session, name="b", queues="gpu")
    with session.begin():
        worker_queries.forget_worker(session, name="a")
        worker_queries.forget_worker(session, name="never-seen")
    assert [w.name for w in worker_queries.live_workers(session)] == ["b"]
