"""Part segmentation runs as a `parts` job: one per drawing's content, its outputs stored as assets."""

from __future__ import annotations

import json

from pipeline.images import decode_label_map
from pipeline.part_maps import PART_NAMES
from tests.workers.specs import BABY
from workers.runs import see_jobs_through
from workers.submit import submit_parts


def test_a_parts_job_stores_the_part_map_its_pictures_and_table(embedded, data_dir):
    line = (data_dir / "train" / f"{BABY}_line.png").read_bytes()
    (job,) = see_jobs_through(embedded, [submit_parts(embedded, image=line, name="baby.png")], timeout_s=120)
    assert job.state == "done", job.error
    assets = job.result["assets"]
    assert set(assets) == {"part_map", "parts", "parts_pixels", "parts_json"}
    part_map = decode_label_map(embedded.storage.get(assets["part_map"]))
    assert part_map.shape == (256, 256) and part_map.max() < len(PART_NAMES)
    table = json.loads(embedded.storage.get(assets["parts_json"]))["parts"]
    assert table == job.result["parts"] and {row["part"] for row in table} <= set(PART_NAMES)
    assert job.result["model_versions"]["parts"].startswith("parts-")


def test_the_same_drawing_twice_is_one_job_and_a_failed_one_is_queued_again(embedded, data_dir):
    line = (data_dir / "train" / f"{BABY}_line.png").read_bytes()
    first = submit_parts(embedded, image=line, name="a.png")
    assert submit_parts(embedded, image=line, name="b.png") == first
    broken = submit_parts(embedded, image=b"GIF89a not a drawing", name="broken.png")
    (job,) = see_jobs_through(embedded, [broken], timeout_s=60)
    assert job.state == "failed" and "broken.png" in job.error
    assert submit_parts(embedded, image=b"GIF89a not a drawing", name="broken.png") == broken
    with embedded.sessions() as session:
        from db.models import Job

        assert session.get(Job, broken).state == "queued"
