"""Palettes by part name and reference pictures through colorize jobs, and per-character palettes."""

from __future__ import annotations

import json
import shutil

from db.models import Job
from tests.workers.specs import drawing_spec, run_colorize_task
from workers import tasks
from workers.manifest import DrawingSpec, read_manifest
from workers.submit import submit_colorize

NAME = "1F476"


def _run(ctx, spec: DrawingSpec) -> Job:
    return run_colorize_task(ctx, submit_colorize(ctx, spec))


def test_a_palette_colors_the_regions_of_its_parts_and_reports_them(embedded, data_dir):
    job = _run(
        embedded,
        drawing_spec(data_dir, payload={"palette": {"face": "#f2c9a5", "hair": "#5a3825"}}, kind="palette"),
    )
    assert job.state == "done", job.error
    assert job.result["parts"]["parts"]["skin"]["named_as"] == "face"
    assert job.result["proof"]["hint_adherence"] == 1.0


def test_an_unknown_part_name_fails_the_job_listing_the_known_ones(embedded, data_dir):
    job = _run(embedded, drawing_spec(data_dir, payload={"palette": {"tail": "#ff0000"}}, kind="palette"))
    assert job.state == "failed"
    assert "tail" in job.error and "hair" in job.error and "skin" in job.error


def test_a_reference_picture_gives_matched_regions_their_colors(embedded, data_dir):
    colored = (data_dir / "train" / f"{NAME}_color.png").read_bytes()
    job = _run(embedded, drawing_spec(data_dir, payload={}, kind="reference", reference=colored))
    assert job.state == "done", job.error
    matches = job.result["reference_matches"]
    assert matches and all({"region", "source", "confidence"} <= set(m) for m in matches)


def test_a_reference_splits_regions_it_colors_in_pieces_and_the_job_fills_the_refined_map(embedded, data_dir):
    colored = (data_dir / "train" / f"{NAME}_color.png").read_bytes()
    job = _run(embedded, drawing_spec(data_dir, payload={}, kind="reference", reference=colored))
    assert job.state == "done", job.error
    matches = job.result["reference_matches"]
    pieces = [m for m in matches if "split_from" in m]
    assert pieces and all(m["source"] is not None and m["confidence"] > 0.5 for m in pieces)
    assert job.result["region_count"] == len(matches) == max(m["region"] for m in matches)
    assert job.result["proof"]["hint_adherence"] == 1.0


def test_a_recolor_of_a_split_revision_keeps_its_sub_regions(embedded, data_dir):
    from workers.submit import submit_recolor

    colored = (data_dir / "train" / f"{NAME}_color.png").read_bytes()
    job = _run(embedded, drawing_spec(data_dir, payload={}, kind="reference", reference=colored))
    assert any("split_from" in m for m in job.result["reference_matches"]), "the reference split nothing"
    recolor_id = submit_recolor(embedded, revision_id=job.revision_id, edits={"1": "#123456"}, at=[])
    tasks.recolor.apply(args=[recolor_id])
    with embedded.sessions() as session:
        recolor = session.get(Job, recolor_id)
        assert recolor.state == "done", recolor.error
        locality = recolor.result["locality"]
    assert locality["unchanged_outside"] == 1.0
    assert recolor.result["region_count"] == job.result["region_count"]


def test_a_manifest_palette_per_character_applies_to_each_drawing(tmp_path, data_dir):
    shutil.copy(data_dir / "train" / f"{NAME}_line.png", tmp_path / "a.png")
    manifest = {
        "characters": {"baby": {"palette": {"skin": "#f2c9a5"}}},
        "drawings": [
            {"line": "a.png", "character": "baby"},
            {"line": "a.png", "name": "b", "character": "baby", "palette": {"hair": "#000000"}},
        ],
    }
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    _, specs = read_manifest(tmp_path / "m.json")
    assert specs[0].prompt_payload["palette"] == {"skin": "#f2c9a5"} and specs[0].prompt_kind == "palette"
    assert specs[1].prompt_payload["palette"] == {"hair": "#000000"}
