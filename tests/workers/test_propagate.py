"""A character across a batch: a model sheet in the manifest, propagating an approved drawing, then a part
recolored for the whole character; on the embedded default and on the real services (Redis, a `tint
worker`, PostgreSQL, S3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session

from db import queries
from db.models import Job, Revision
from pipeline.errors import BadInput, NotFound
from pipeline.train.characters import make_character
from tests.workers import harness
from workers.manifest import read_manifest
from workers.propagate import submit_propagate
from workers.runs import see_jobs_through
from workers.submit import submit_manifest

SEED = 9_201
VARIANTS = ((0, 0), (0, 1), (0, 2), (1, 0))  # (pose, expression) of the hero's drawings


def _write(path: Path, array: np.ndarray) -> str:
    Image.fromarray(array).save(path)
    return path.name


def _batch(folder: Path, *, sheet: bool = True) -> Path:
    """A manifest of the hero in four variants and a sidekick; the hero's sheet is its first variant."""
    folder.mkdir(parents=True, exist_ok=True)
    drawings = []
    for pose, expression in VARIANTS:
        c = make_character(seed=SEED, pose=pose, expression=expression)
        name = _write(folder / f"hero_{pose}{expression}.png", c.drawing[..., :3])
        drawings.append({"line": name, "character": "hero", "view": f"pose {pose}, expression {expression}"})
    side = make_character(seed=SEED + 1)
    drawings.append({"line": _write(folder / "sidekick.png", side.drawing[..., :3]), "character": "sidekick"})
    drawings[1]["hints"] = {"points": [{"x": 2, "y": 2, "color": "#123456"}]}  # its own hint wins
    doc: dict = {"name": "hero batch", "drawings": drawings}
    if sheet:
        ref = make_character(seed=SEED, pose=0, expression=0).colored
        doc["characters"] = {"hero": {"reference": [_write(folder / "hero_sheet.png", ref)]}}
    path = folder / "batch.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_character_sheet_colors_every_drawing_of_the_character_without_a_reference(tmp_path):
    _, specs = read_manifest(_batch(tmp_path / "b"))
    hero = [s for s in specs if s.character == "hero"]
    assert all(len(s.sheet) == 1 for s in hero)
    assert [s.prompt_kind for s in hero] == ["reference", "mixed", "reference", "reference"]
    assert [s for s in specs if s.character == "sidekick"][0].reference_pictures() == []


def test_propagate_colors_the_unapproved_drawings_from_the_approved_one(embedded, tmp_path):
    batch_id = submit_manifest(embedded, _batch(tmp_path / "b", sheet=False))
    with embedded.sessions() as session:
        job_ids = [j.id for j in queries.batch_jobs(session, batch_id)]
    see_jobs_through(embedded, job_ids, timeout_s=120)
    with embedded.sessions() as session, session.begin():
        rows = queries.latest_colored_revisions(session, batch_id)
        latest = {d.name: r.id for d, r in rows}
        queries.add_review(session, revision_id=latest["hero_00.png"], verdict="approved")
    with embedded.sessions() as session:  # approving queued nothing by itself
        assert len(queries.batch_jobs(session, batch_id)) == len(job_ids)

    done = submit_propagate(embedded, batch_id=batch_id, character="hero")
    assert done.references == (latest["hero_00.png"],)
    assert len(done.jobs) == 3
    finished = see_jobs_through(embedded, list(done.jobs), timeout_s=120)
    assert [j.state for j in finished] == ["done"] * 3, [j.error for j in finished]
    with embedded.sessions() as session:
        for job in finished:
            revision = session.get(Revision, job.revision_id)
            drawing = queries.get_drawing(session, job.drawing_id)
            assert revision.parent_revision_id == latest[drawing.name]
            prompt = queries.get_prompt(session, revision.prompt_id)
            assert prompt.payload["reference"]["revisions"] == [latest["hero_00.png"]]
            if drawing.name == "hero_01.png":  # its own hint stays in the prompt, under the reference
                assert prompt.payload["points"][0]["color"] == "#123456"
            assert job.result["reference_matches"] and "reference_flagged" in job.result
            assert [p["revision"] for p in job.result["reference_pictures"]] == [latest["hero_00.png"]]
            assert {m["picture"] for m in job.result["reference_matches"]} == {0}
    assert submit_propagate(embedded, batch_id=batch_id, character="hero").jobs == ()  # queued already


def test_propagate_says_what_is_missing(embedded, tmp_path):
    batch_id = submit_manifest(embedded, _batch(tmp_path / "b", sheet=False))
    with pytest.raises(NotFound, match="no drawing of character 'villain'"):
        submit_propagate(embedded, batch_id=batch_id, character="villain")
    with pytest.raises(BadInput, match="approve one"):
        submit_propagate(embedded, batch_id=batch_id, character="hero")


@pytest.mark.services
def test_sheet_then_propagate_then_a_part_for_the_whole_character_on_real_services(
    worker_env, postgres_url, tmp_path
):
    env = worker_env
    engine = sa.create_engine(postgres_url)
    try:
        submitted = harness.tint("submit", str(_batch(tmp_path / "b")), env=env)
        assert submitted.returncode == 0, submitted.stderr
        batch_id = harness.batch_id_of(engine)
        assert harness.wait_batch(engine, batch_id) == {"done": 5}
        with Session(engine) as session, session.begin():
            rows = queries.latest_colored_revisions(session, batch_id)
            first = {d.name: r.id for d, r in rows}
            hero = [r for d, r in rows if d.character == "hero"]
            assert all(r.proof for r in hero)
            queries.add_review(session, revision_id=first["hero_00.png"], verdict="approved")

        out = harness.tint("propagate", str(batch_id), "--character", "hero", env=env, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "3 drawing(s) queued" in out.stdout
        with Session(engine) as session:
            rows = queries.latest_colored_revisions(session, batch_id)
            second = {d.name: r for d, r in rows}
            for name in ("hero_01.png", "hero_02.png", "hero_10.png"):
                assert second[name].parent_revision_id == first[name]
            assert second["hero_00.png"].id == first["hero_00.png"]
            assert second["sidekick.png"].id == first["sidekick.png"]  # another character: untouched

        out = harness.tint(
            "recolor", "--batch", str(batch_id), "--character", "hero", "--part", "hair=#5a3825",
            "-o", str(tmp_path / "out"), env=env, timeout=300,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        assert harness.wait_batch(engine, batch_id).keys() <= {"done", "failed"}
        with Session(engine) as session:
            rows = queries.latest_colored_revisions(session, batch_id)
            for drawing, revision in rows:
                if drawing.character == "hero":
                    assert revision.kind == "recolor"
                    assert revision.parent_revision_id == second[drawing.name].id
            jobs = session.scalars(sa.select(Job).where(Job.batch_id == batch_id)).all()
            assert all(j.state == "done" and j.attempts == 1 for j in jobs), [(j.id, j.state) for j in jobs]
            made = session.scalars(
                sa.select(Revision.job_id).where(Revision.job_id.in_([j.id for j in jobs]))
            )
            assert sorted(made) == sorted(j.id for j in jobs)  # every job made exactly one revision
    finally:
        engine.dispose()
