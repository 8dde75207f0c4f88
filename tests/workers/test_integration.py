"""The whole path on real services: Redis broker, a real `tint worker` process, PostgreSQL, an S3 server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa

from bench.openmoji import region_points
from tests.workers import harness

pytestmark = pytest.mark.services

GOOD = 18


def _manifest(data_dir: Path, folder: Path) -> Path:
    index = json.loads((data_dir / "index.json").read_text())
    items = [it for it in index["items"] if it["split"] == "train"][:GOOD]
    drawings = []
    for index, it in enumerate(items):
        shutil.copy(data_dir / "train" / f"{it['name']}_line.png", folder / f"{it['name']}.png")
        # half the drawings fully hinted (no region left to the model: it may not run), half not hinted at
        # all (the model decides every region: it must run)
        regions = it["regions"] if index % 2 else []
        points = region_points(regions)
        drawings.append(
            {"line": f"{it['name']}.png", "character": it["annotation"], "hints": {"points": points}}
        )
    (folder / "not_an_image.png").write_text("this is a text file, not a drawing")
    good_png = (folder / f"{items[0]['name']}.png").read_bytes()
    (folder / "truncated.png").write_bytes(good_png[: len(good_png) // 3])
    drawings += [
        {"line": "not_an_image.png", "character": "broken"},
        {"line": "truncated.png", "character": "broken"},
        {
            "line": f"{items[1]['name']}.png",
            "name": "hint_outside",
            "character": "broken",
            "hints": {"points": [{"x": 5000, "y": 3, "color": "#ff0000"}]},
        },
        {
            "line": f"{items[2]['name']}.png",
            "name": "bad_color",
            "character": "broken",
            "hints": {"points": [{"x": 3, "y": 3, "color": "reddish"}]},
        },
    ]
    path = folder / "batch.json"
    path.write_text(json.dumps({"name": "integration", "drawings": drawings}))
    return path


def test_batch_on_real_services_ends_done_or_failed_with_reason(
    worker_env, postgres_url, s3_endpoint, s3_bucket, data_dir, tmp_path
):
    folder = tmp_path / "batch"
    folder.mkdir()
    manifest = _manifest(data_dir, folder)
    submitted = harness.tint("submit", str(manifest), env=worker_env)
    assert submitted.returncode == 0, submitted.stderr
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        batch_id = conn.execute(sa.text("SELECT max(id) FROM batch")).scalar_one()
    counts = harness.wait_batch(engine, batch_id)
    assert counts == {"done": GOOD, "failed": 4}, counts

    with engine.connect() as conn:
        failed = dict(
            conn.execute(
                sa.text(
                    "SELECT d.name, j.error FROM job j JOIN drawing d ON d.id = j.drawing_id "
                    "WHERE j.batch_id = :b AND j.state = 'failed'"
                ),
                {"b": batch_id},
            ).all()
        )
        revisions = (
            conn.execute(
                sa.text(
                    "SELECT r.assets FROM revision r JOIN job j ON j.revision_id = r.id WHERE j.batch_id = :b"
                ),
                {"b": batch_id},
            )
            .scalars()
            .all()
        )
        asset_rows = conn.execute(sa.text("SELECT count(*) FROM asset")).scalar_one()
    assert "not an image" in failed["not_an_image.png"]
    assert "not an image" in failed["truncated.png"] or "truncated" in failed["truncated.png"]
    assert "outside" in failed["hint_outside"]
    assert "reddish" in failed["bad_color"]
    assert len(revisions) == GOOD
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = {o["Key"].rsplit("/", 1)[-1] for o in s3.list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    for assets in revisions:
        assets = assets if isinstance(assets, dict) else json.loads(assets)
        assert {"colored", "flats", "lines", "regions"} <= set(assets)
        assert set(assets.values()) <= keys

    again = harness.tint("submit", str(manifest), env=worker_env)
    assert again.returncode == 0, again.stderr
    counts = harness.wait_batch(engine, batch_id + 1)
    assert counts == {"done": GOOD, "failed": 4}, counts
    keys_after = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM asset")).scalar_one() == asset_rows
    assert len(keys_after) == len(keys)
    engine.dispose()
