"""Recolor jobs end to end on the embedded default: chains, edit images, and locality on real drawings."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from db import queries
from db.models import Job, Revision
from pipeline import blockify
from tests.workers.specs import drawing_spec, run_colorize_task
from workers import tasks
from workers.submit import submit_colorize, submit_recolor

NAME = "1F476"


def _colorize(ctx, data_dir) -> Job:
    return run_colorize_task(ctx, submit_colorize(ctx, drawing_spec(data_dir)))


def _job(ctx, job_id: int) -> Job:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
    assert job.state == "done", job.error
    return job


def _image(ctx, sha: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(ctx.storage.get(sha))))


def test_a_chain_of_three_recolors_reads_back_in_order_with_its_prompts(embedded, data_dir):
    job = _colorize(embedded, data_dir)
    revision_ids = [job.revision_id]
    for color in ("#102030", "#405060", "#708090"):
        recolor_id = submit_recolor(embedded, revision_id=revision_ids[-1], edits={"2": color}, at=[])
        tasks.recolor.apply(args=[recolor_id])
        revision_ids.append(_job(embedded, recolor_id).revision_id)
    with embedded.sessions() as session:
        chain = queries.revision_chain(session, revision_ids[-1])
        assert [r.id for r in chain] == revision_ids
        assert [r.parent_revision_id for r in chain] == [None, *revision_ids[:-1]]
        assert chain[-1].edits == {"2": "#708090"}
        prompts = queries.prompt_lineage(session, chain[-1].prompt_id)
        assert [p.id for p in prompts] == [r.prompt_id for r in chain]
        assert [p.kind for p in prompts] == ["points", "target", "target", "target"]


def test_an_edit_image_recolors_the_painted_block_only(embedded, data_dir):
    job = _colorize(embedded, data_dir)
    regions = _image(embedded, job.result["assets"]["regions"]).astype(np.int64)
    colored = _image(embedded, job.result["assets"]["colored"])[..., :3]
    target = int(np.bincount(regions[regions > 1].ravel()).argmax())
    painted = blockify(colored, regions=regions.astype(np.int32)).blocks.copy()  # what `tint blockify` shows
    ys, xs = np.nonzero(regions == target)
    painted[ys[:40], xs[:40]] = (0x12, 0x34, 0x56)  # a few brush pixels inside one block
    buf = io.BytesIO()
    Image.fromarray(painted).save(buf, "PNG")
    recolor_id = submit_recolor(
        embedded, revision_id=job.revision_id, edits={}, at=[], edit_image=buf.getvalue()
    )
    tasks.recolor.apply(args=[recolor_id])
    child = _job(embedded, recolor_id)
    after = _image(embedded, child.result["assets"]["flats"])[..., :3]  # RGBA: alpha 0 on the outside paper
    assert (after[regions == target] == (0x12, 0x34, 0x56)).all()
    assert child.result["locality"]["unchanged_outside"] == 1.0
    assert child.result["edits"] == {str(target): "#123456"}


def test_a_recolor_writes_only_the_images_that_changed(embedded, data_dir, monkeypatch):
    job = _colorize(embedded, data_dir)
    written: list[str] = []
    put = embedded.storage.put
    monkeypatch.setattr(embedded.storage, "put", lambda data, **kw: written.append(kw) or put(data, **kw))
    recolor_id = submit_recolor(embedded, revision_id=job.revision_id, edits={"2": "#123456"}, at=[])
    tasks.recolor.apply(args=[recolor_id])
    recolor = _job(embedded, recolor_id)
    with embedded.sessions() as session:
        parent_assets = dict(session.get(Revision, job.revision_id).assets)
        child_assets = dict(session.get(Revision, recolor.revision_id).assets)
    for role in ("lines", "regions"):
        assert child_assets[role] == parent_assets[role]
    assert child_assets["colored"] != parent_assets["colored"]
    images = [kw for kw in written if kw.get("media_type") == "image/png"]
    assert len(images) == 2  # colored and flats; the line layer and region map are the parent's
    for role in ("colored", "flats", "lines", "regions"):
        assert embedded.storage.get(child_assets[role])  # every asset of the new revision is readable
