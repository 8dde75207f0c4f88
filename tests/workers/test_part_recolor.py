"""Recolor by part name and blocks by part as jobs: one revision on the embedded default, and a part
recolored across a character's drawings on the real services (Redis, a `tint worker`, PostgreSQL, S3)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from db.models import Job, Revision
from pipeline import assign_line_pixels
from pipeline.errors import BadInput, BadPrompt
from pipeline.part_maps import PART_NAMES, region_parts
from tests.workers import harness
from workers import models, tasks
from workers.manifest import DrawingSpec
from workers.submit import submit_blockify, submit_colorize, submit_recolor

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"
BROWN, GREEN, PEACH = "#5a3825", "#2e7d32", "#f2c9a5"


def _image(ctx, sha: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(ctx.storage.get(sha))))


def _done(ctx, job_id: int) -> Job:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
    assert job.state == "done", job.error
    return job


def _man(ctx) -> tuple[Job, bytes]:
    """The bearded man sample colorized with its hints: (the job, its line drawing's bytes)."""
    line = (SAMPLES / "bearded_man_line.png").read_bytes()
    hints = json.loads((SAMPLES / "bearded_man_hints.json").read_text())
    spec = DrawingSpec(
        name="man.png",
        character="man",
        view="front",
        line=line,
        prompt_kind="points",
        prompt_payload=hints,
        hint_image=None,
    )
    job_id = submit_colorize(ctx, spec)
    tasks.colorize.apply(args=[job_id])
    return _done(ctx, job_id), line


def _hair_regions(ctx, line: bytes, regions: np.ndarray) -> list[int]:
    part_map = models.parts().part_map(np.asarray(Image.open(io.BytesIO(line)).convert("RGBA")))
    return sorted(r for r, k in region_parts(regions, part_map).items() if PART_NAMES[k] == "hair")


def test_a_part_recolor_job_recolors_the_part_and_keeps_every_other_pixel(embedded):
    parent, line = _man(embedded)
    regions = _image(embedded, parent.result["assets"]["regions"]).astype(np.int64)
    hair = _hair_regions(embedded, line, regions)
    assert hair
    job_id = submit_recolor(embedded, revision_id=parent.revision_id, edits={}, at=[], parts={"hair": GREEN})
    tasks.recolor.apply(args=[job_id])
    child = _done(embedded, job_id)
    assert child.result["edits"] == {str(r): GREEN for r in hair}
    assert child.result["parts"]["parts"]["hair"]["regions"] == hair
    assert child.result["locality"]["unchanged_outside"] == 1.0
    assert child.result["locality"]["edited_max_delta_e"] == 0.0
    before = _image(embedded, parent.result["assets"]["flats"])
    after = _image(embedded, child.result["assets"]["flats"])
    inside = np.isin(assign_line_pixels(regions.astype(np.int32)), hair)
    assert np.array_equal(before[~inside], after[~inside])
    assert (after[np.isin(regions, hair)][:, :3] == (0x2E, 0x7D, 0x32)).all()
    with embedded.sessions() as session:
        revision = session.get(Revision, child.revision_id)
        assert revision.parent_revision_id == parent.revision_id
        assert revision.inputs["parts"] == {"hair": GREEN}
        assert revision.model_versions["parts"].startswith("parts-")
        assert revision.proof["locality"]["unchanged_outside"] == 1.0


def test_an_unknown_part_is_refused_before_any_job_and_a_missing_part_fails_its_job(embedded):
    parent, _ = _man(embedded)
    with embedded.sessions() as session:
        jobs_before = session.query(Job).count()
    with pytest.raises(BadPrompt, match=r"unknown part name 'tail'.*known parts: background, skin, hair"):
        submit_recolor(embedded, revision_id=parent.revision_id, edits={}, at=[], parts={"tail": GREEN})
    with embedded.sessions() as session:
        assert session.query(Job).count() == jobs_before
    job_id = submit_recolor(embedded, revision_id=parent.revision_id, edits={}, at=[], parts={"shoes": GREEN})
    tasks.recolor.apply(args=[job_id])
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        assert job.state == "failed" and job.revision_id is None
        assert "no region of this drawing is predicted as shoes" in job.error
        assert "its parts are:" in job.error


def test_blockify_by_parts_gives_one_named_block_per_part(embedded):
    parent, line = _man(embedded)
    job_id = submit_blockify(embedded, revision_id=parent.revision_id, by="parts")
    tasks.blockify.apply(args=[job_id])
    job = _done(embedded, job_id)
    table = json.loads(embedded.storage.get(job.result["assets"]["blocks_json"]))
    regions = _image(embedded, parent.result["assets"]["regions"]).astype(np.int64)
    hair = _hair_regions(embedded, line, regions)
    assert job.result["by"] == "parts" and job.result["block_count"] == len(table)
    names = [row["part"] for row in table]
    assert len(set(names)) == len(names) and set(names) <= set(PART_NAMES)
    covered = sorted(r for row in table for r in row["regions"])
    assert covered == sorted(int(r) for r in np.unique(regions[regions > 0]))  # each region in one part
    (hair_row,) = [row for row in table if row["part"] == "hair"]
    assert hair_row["regions"] == hair
    labels = _image(embedded, job.result["assets"]["block_labels"])
    assert sorted(np.unique(labels).tolist()) == [row["id"] for row in table]
    with pytest.raises(BadInput, match="need a revision"):
        submit_blockify(embedded, image=line, by="parts")


MANIFEST = f"""
name: hair-everywhere
characters:
  man: {{palette: {{hair: "{BROWN}", skin: "{PEACH}"}}}}
drawings:
  - {{line: man.png, name: man_front, character: man}}
  - {{line: man.png, name: man_side, character: man, palette: {{hair: "#aa2222", skin: "{PEACH}"}}}}
  - {{line: man.png, name: man_back, character: man, palette: {{hair: "{GREEN}", skin: "{PEACH}"}}}}
  - {{line: baby.png, name: baby, character: baby, hints: baby_hints.json}}
  - {{line: man.png, name: broken, character: man, palette: {{tail: "#ff0000"}}}}
"""


def _report(env: dict, batch_id: int) -> dict[tuple[str, str], dict]:
    run = harness.tint("report", str(batch_id), "--json", env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    return {(r["drawing"], r["part"]): r for r in json.loads(run.stdout)["rows"]}


@pytest.mark.services
def test_a_part_recolored_across_a_character_on_real_services(worker_env, postgres_url, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(SAMPLES / "bearded_man_line.png", folder / "man.png")
    shutil.copy(SAMPLES / "baby_line.png", folder / "baby.png")
    shutil.copy(SAMPLES / "baby_hints.json", folder / "baby_hints.json")
    (folder / "batch.yaml").write_text(MANIFEST)
    assert harness.tint("submit", str(folder / "batch.yaml"), env=worker_env).returncode == 0
    engine = sa.create_engine(postgres_url)
    batch_id = harness.batch_id_of(engine)
    assert harness.wait_batch(engine, batch_id) == {"done": 4, "failed": 1}
    before = _report(worker_env, batch_id)
    assert {before[d, "hair"]["color"] for d in ("man_front", "man_side", "man_back")} == {
        BROWN,
        "#aa2222",
        GREEN,
    }
    with engine.connect() as conn:
        colorized = dict(
            conn.execute(
                sa.text(
                    "SELECT d.name, r.id FROM revision r JOIN drawing d ON d.id = r.drawing_id "
                    "WHERE d.batch_id = :b"
                ),
                {"b": batch_id},
            ).all()
        )

    def recolor_man(color: str) -> subprocess.CompletedProcess:
        run = harness.tint(
            "recolor",
            "--batch",
            str(batch_id),
            "--character",
            "man",
            "--part",
            f"hair={color}",
            env=worker_env,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run

    run = recolor_man(BROWN)
    assert "not colored yet, skipped: broken" in run.stdout and "3 new revision(s) of man" in run.stdout
    after = _report(worker_env, batch_id)
    for drawing in ("man_front", "man_side", "man_back"):
        assert after[drawing, "hair"]["color"] == BROWN and not after[drawing, "hair"]["flagged"]
        for part in ("skin", "background"):  # every other part as it was
            assert after[drawing, part]["color"] == before[drawing, part]["color"], (drawing, part)
    assert after["baby", "skin"] == before["baby", "skin"]

    recolor_man("#101010")  # again: each new revision's parent is the one the first recolor made
    query = sa.text(
        "SELECT d.name, j.id, j.state, j.attempts, j.parent_revision_id, j.revision_id, "
        "r.parent_revision_id, r.job_id FROM job j JOIN drawing d ON d.id = j.drawing_id "
        "LEFT JOIN revision r ON r.id = j.revision_id "
        "WHERE d.batch_id = :b AND j.kind = 'recolor' ORDER BY j.id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"b": batch_id}).all()
    engine.dispose()
    assert [r[0] for r in rows] == ["man_front", "man_side", "man_back"] * 2
    for name, job_id, state, attempts, job_parent, _, parent, made_by in rows:
        assert (state, attempts, made_by) == ("done", 1, job_id), name  # every job done, exactly once
        assert parent == job_parent
    first, second = rows[:3], rows[3:]
    assert [r[4] for r in first] == [colorized[n] for n in ("man_front", "man_side", "man_back")]
    assert [r[4] for r in second] == [r[5] for r in first]
    final = _report(worker_env, batch_id)
    assert {final[d, "hair"]["color"] for d in ("man_front", "man_side", "man_back")} == {"#101010"}
