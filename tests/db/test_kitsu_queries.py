"""What `tint publish --kitsu` records in db.kitsu_queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import job_queries, kitsu_queries, queries
from db.models import Drawing, KitsuPublication

IDS = {"project_id": "p" * 36, "entity_id": "e" * 36, "task_id": "t" * 36, "comment_id": "c" * 36}


def _revision(session: Session, drawing: Drawing, *, status: str = "pending_review") -> int:
    with session.begin():
        prompt = queries.create_prompt(session, drawing_id=drawing.id, kind="points", payload={"points": []})
        job = job_queries.create_job(
            session, kind="colorize", params={}, drawing_id=drawing.id, prompt_id=prompt.id
        )
        revision = job_queries.finish_job(
            session, job.id, result={}, revision={"assets": {"colored": "f" * 64}}
        )
        revision.review_status = status
        return revision.id


def _record(session: Session, drawing: Drawing, revision_id: int, **changes: str) -> KitsuPublication:
    values = {**IDS, "task_status": "wfa", "review_status": "pending_review", **changes}
    with session.begin():
        return kitsu_queries.record_publication(
            session,
            drawing_id=drawing.id,
            kitsu_url="http://kitsu/api",
            project="season",
            revision_id=revision_id,
            preview_id="v" * 36,
            **values,
        )


def test_publishing_again_updates_the_one_record(session: Session, drawing: Drawing) -> None:
    first = _revision(session, drawing)
    _record(session, drawing, first)
    second = _revision(session, drawing, status="approved")
    _record(session, drawing, second, task_status="done", review_status="approved", comment_id="d" * 36)
    session.expunge_all()
    (row,) = session.scalars(sa.select(KitsuPublication))
    assert (row.revision_id, row.task_status, row.comment_id) == (second, "done", "d" * 36)
    found = kitsu_queries.get_publication(
        session, drawing_id=drawing.id, kitsu_url="http://kitsu/api", project="season"
    )
    assert found.id == row.id
    assert (
        kitsu_queries.get_publication(
            session, drawing_id=drawing.id, kitsu_url="http://kitsu/api", project="other"
        )
        is None
    )


def test_candidates_carry_the_latest_revision_and_its_prompt(session: Session, drawing: Drawing) -> None:
    _revision(session, drawing)
    latest = _revision(session, drawing, status="approved")
    (candidate,) = kitsu_queries.publish_candidates(session, drawing.batch_id)
    assert (candidate.name, candidate.character, candidate.revision_id) == ("hero.png", "hero", latest)
    assert (candidate.review_status, candidate.colored_sha, candidate.prompt_kind) == (
        "approved",
        "f" * 64,
        "points",
    )
