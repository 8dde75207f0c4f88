"""Every row of the hostile-input catalogue through the real path: each bad input fails only its own job
with a message naming the input and the reason; odd-but-supported inputs colorize correctly."""

from __future__ import annotations

import json
import pickle
import re
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from kombu import Connection
from PIL import Image
from sqlalchemy import func, select

from db.models import Job, Revision
from pipeline.errors import BadManifest, NotFound
from tests.workers import catalogue
from tests.workers.specs import run_colorize_task
from workers import tasks
from workers.embedded import in_process_worker
from workers.manifest import DrawingSpec, read_manifest
from workers.submit import submit_colorize, submit_recolor, wait_for_job

DOC = Path(__file__).resolve().parents[2] / "docs" / "hostile_input.md"


def _spec(line: bytes, *, name: str = "hero_front.png", payload: dict | None = None) -> DrawingSpec:
    return DrawingSpec(
        name=name,
        character="hero",
        view="front",
        line=line,
        prompt_kind="points",
        prompt_payload=payload or {},
        hint_image=None,
    )


def _run(ctx, spec: DrawingSpec) -> Job:
    return run_colorize_task(ctx, submit_colorize(ctx, spec))


@pytest.mark.parametrize("case", catalogue.IMAGE_CASES, ids=lambda c: c.id)
def test_image_catalogue(embedded, case):
    job = _run(embedded, _spec(case.data))
    if case.error:
        assert job.state == "failed", f"{case.id} should fail"
        assert "hero_front.png" in job.error, job.error
        for word in case.error:
            assert word.lower() in job.error.lower(), job.error
        assert job.revision_id is None
    else:
        assert job.state == "done", job.error
        colored = Image.open(embedded.storage.path(job.result["assets"]["colored"]))
        assert colored.size == case.size
        lines = np.asarray(Image.open(embedded.storage.path(job.result["assets"]["lines"])))
        regions = np.asarray(Image.open(embedded.storage.path(job.result["assets"]["regions"])))
        assert lines[..., 3].max() > 200, "the lines were found"
        assert job.result["region_count"] == 3, "outside, and the two halves of the square"
        assert regions.shape == colored.size[::-1]


@pytest.mark.parametrize("case", catalogue.PROMPT_CASES, ids=lambda c: c.id)
def test_prompt_catalogue(embedded, case):
    png = catalogue._png
    job = _run(embedded, _spec(png, payload=case.payload))
    assert job.state == "failed"
    assert "hero_front.png" in job.error or "prompt" in job.error, job.error
    for word in case.error:
        assert word.lower() in job.error.lower(), job.error


def test_a_bad_drawing_does_not_stop_the_next_one(embedded):
    bad = _run(embedded, _spec(b"not an image"))
    good = _run(embedded, _spec(catalogue._png, payload={"points": [{"x": 20, "y": 20, "color": "#ff0000"}]}))
    assert bad.state == "failed" and good.state == "done"
    with embedded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Revision)) == 1


@pytest.mark.parametrize("case_id", sorted(catalogue.MANIFEST_CASES))
def test_manifest_catalogue(tmp_path, case_id):
    line, words = catalogue.MANIFEST_CASES[case_id]
    (tmp_path / "m.json").write_text(json.dumps({"drawings": [{"line": line}]}))
    with pytest.raises(BadManifest, match=words):
        read_manifest(tmp_path / "m.json")


def test_manifest_not_utf8_is_refused(tmp_path):
    (tmp_path / "m.yaml").write_bytes(b"drawings:\n  - line: h\xe9ro.png\n")
    with pytest.raises(BadManifest, match="not valid"):
        read_manifest(tmp_path / "m.yaml")


def test_recolor_of_missing_revision_records_nothing(embedded):
    with pytest.raises(NotFound, match="revision 42 does not exist"):
        submit_recolor(embedded, revision_id=42, edits={"1": "#000000"}, at=[])
    with embedded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_recolor_of_missing_block_fails_its_job_and_records_no_revision(embedded):
    parent = _run(
        embedded, _spec(catalogue._png, payload={"points": [{"x": 20, "y": 20, "color": "#ff0000"}]})
    )
    job_id = submit_recolor(embedded, revision_id=parent.revision_id, edits={"999": "#000000"}, at=[])
    tasks.recolor.apply(args=[job_id])
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        assert job.state == "failed" and "999" in job.error
        assert session.scalar(select(func.count()).select_from(Revision)) == 1


def test_a_pickled_celery_message_is_refused(embedded, monkeypatch):
    monkeypatch.setattr("workers.submit.enqueue", lambda ctx, jobs: 0)
    job_id = submit_colorize(embedded, _spec(catalogue._png))  # rows only: its one message is the pickle
    monkeypatch.undo()
    with Connection(embedded.settings.broker_url, transport="workers.broker:Transport") as conn:
        body = pickle.dumps(
            ([job_id], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
        )
        conn.Producer().publish(
            body,
            exchange="gpu",
            routing_key="gpu",
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={"task": "tint.colorize", "id": "evil-1", "lang": "py"},
        )
    good = submit_colorize(embedded, _spec(catalogue._png))
    with in_process_worker():
        assert wait_for_job(embedded, good, timeout_s=60).state == "done"
        time.sleep(0.5)
    with embedded.sessions() as session:
        job = session.get(Job, job_id)
        assert job.attempts == 0 and job.state == "queued", "the pickled message never ran"
    engine = sa.create_engine(embedded.settings.broker_url.removeprefix("sqla+"))
    with engine.connect() as conn:  # the worker took it (a taken message leaves no row) and refused it
        assert conn.execute(sa.text("SELECT count(*) FROM kombu_message")).scalar() == 0
    engine.dispose()


def test_the_catalogue_document_lists_every_case():
    text = DOC.read_text(encoding="utf-8")
    ids = (
        {c.id for c in catalogue.IMAGE_CASES}
        | {c.id for c in catalogue.PROMPT_CASES}
        | set(catalogue.MANIFEST_CASES)
    )
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.M))
    assert ids <= listed, sorted(ids - listed)
