"""Trace lines through the jobs: result.json lists them, a recolor refills them, manifests set their rules."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from db.models import Job, Prompt, Revision
from pipeline.errors import BadManifest
from pipeline.images import decode_image, encode_png
from workers import tasks
from workers.manifest import DrawingSpec, read_manifest
from workers.submit import submit_colorize, submit_recolor

SIZE = 96
TOP, BOTTOM = "#f2c9a5", "#5a3c78"


def _drawing() -> bytes:
    """A black box split by an anti-aliased red shadow line, as PNG."""
    paper = np.full((SIZE, SIZE, 3), 255, np.uint8)
    cv2.rectangle(paper, (10, 10), (85, 85), (0, 0, 0), 2, lineType=cv2.LINE_AA)
    cv2.line(paper, (12, 48), (83, 48), (255, 0, 0), 2, lineType=cv2.LINE_AA)
    return encode_png(paper)


def _spec(payload: dict) -> DrawingSpec:
    return DrawingSpec(
        name="shadow-box.png",
        character="box",
        view="front",
        line=_drawing(),
        prompt_kind="points",
        prompt_payload=payload,
        hint_image=None,
    )


def _finished(ctx, job_id: int) -> tuple[Job, Revision]:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        revision = session.get(Revision, job.revision_id)
        session.expunge_all()
        return job, revision


def test_colorize_and_recolor_jobs_fill_trace_lines_by_the_prompts_rule(embedded):
    points = [{"x": 40, "y": 25, "color": TOP}, {"x": 40, "y": 70, "color": BOTTOM}]
    job_id = submit_colorize(embedded, _spec({"points": points, "trace_lines": {"#ff0000": "darker"}}))
    tasks.colorize.apply(args=[job_id])
    job, revision = _finished(embedded, job_id)
    assert job.state == "done", job.error
    traced = job.result["trace_lines"]
    assert traced["rules"]["#ff0000"] == "darker" and traced["rules"]["#0000ff"] == "nearest"
    assert traced["found"] == [{"color": "#ff0000", "rule": "darker", "pixels": traced["pixels"]}]
    assert traced["pixels"] > 100
    assert job.result["proof"]["trace_filled_by_rule"] == 1.0 and not revision.flagged
    assert revision.inputs["trace_lines"]["#ff0000"] == "darker"
    colored = decode_image(embedded.storage.get(revision.assets["colored"]))
    lines = decode_image(embedded.storage.get(revision.assets["lines"]))
    assert tuple(colored[48, 40][:3]) == (0x5A, 0x3C, 0x78)  # the darker of the two sides
    assert lines[48, 40, 3] == 0 and lines[10, 40, 3] == 255  # ink only in lines.png
    traced_layer = decode_image(embedded.storage.get(revision.assets["trace_lines"]))
    assert traced_layer[48, 40, 3] == 255 and tuple(traced_layer[48, 40, :3]) == (255, 0, 0)
    assert traced_layer[10, 40, 3] == 0  # the trace lines as drawn, for the layered file; no ink

    recolor_id = submit_recolor(embedded, revision_id=revision.id, edits={}, at=[[40, 25, "#141e28"]])
    tasks.recolor.apply(args=[recolor_id])
    job, child = _finished(embedded, recolor_id)
    assert job.state == "done", job.error
    colored = decode_image(embedded.storage.get(child.assets["colored"]))
    assert tuple(colored[48, 40][:3]) == (0x14, 0x1E, 0x28)  # the top is darker now; the line follows it
    assert job.result["trace_lines"]["pixels"] == traced["pixels"]
    with embedded.sessions() as session:
        target = session.get(Prompt, child.prompt_id)
        assert target.payload["trace_lines"]["#ff0000"] == "darker"  # kept in the prompt history


def test_manifest_trace_lines_merge_batch_character_and_drawing(tmp_path):
    (tmp_path / "a.png").write_bytes(_drawing())
    (tmp_path / "b.png").write_bytes(_drawing())
    (tmp_path / "batch.yaml").write_text(
        "trace_lines: {'#ff0000': darker}\n"
        "characters:\n  hero: {trace_lines: {'#0000ff': lighter}}\n"
        "drawings:\n"
        "  - {line: a.png, character: hero, trace_lines: {'#00ff00': '#112233'}}\n"
        "  - {line: b.png, trace_lines: false}\n"
    )
    _, specs = read_manifest(tmp_path / "batch.yaml")
    assert specs[0].prompt_payload["trace_lines"] == {
        "#ff0000": "darker",
        "#0000ff": "lighter",
        "#00ff00": "#112233",
    }
    assert specs[1].prompt_payload["trace_lines"] is False
    assert specs[0].prompt_kind == "none"


def test_a_manifest_with_a_bad_trace_rule_names_the_drawing(tmp_path):
    (tmp_path / "a.png").write_bytes(_drawing())
    (tmp_path / "batch.yaml").write_text("drawings:\n  - {line: a.png, trace_lines: {'#ff0000': blur}}\n")
    with pytest.raises(BadManifest, match=r"drawing #1: trace_lines: rule 'blur'"):
        read_manifest(tmp_path / "batch.yaml")
