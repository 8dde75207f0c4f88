"""Manifests: what is read, and what is refused before anything is recorded."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import func, select

from db.models import Batch, Drawing, Job
from pipeline.errors import BadManifest
from workers.manifest import read_manifest
from workers.submit import submit_manifest


@pytest.fixture
def folder(tmp_path, data_dir):
    shutil.copy(data_dir / "train" / "1F476_line.png", tmp_path / "baby.png")
    (tmp_path / "hints.json").write_text(json.dumps({"points": [{"x": 10, "y": 10, "color": "#ff0000"}]}))
    return tmp_path


def _write(folder, drawings, name="m.yaml"):
    import yaml

    path = folder / name
    path.write_text(yaml.safe_dump({"name": "b", "drawings": drawings}))
    return path


def test_manifest_reads_files_and_inline_hints(folder):
    path = _write(
        folder,
        [
            {"line": "baby.png", "character": "baby", "hints": "hints.json"},
            {"line": "baby.png", "name": "again", "hints": {"points": []}},
        ],
    )
    doc, specs = read_manifest(path)
    assert doc["name"] == "b" and len(specs) == 2
    assert specs[0].prompt_payload["points"][0]["color"] == "#ff0000"
    assert specs[0].line.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "line",
    [
        "../baby.png",
        "/etc/passwd",
        "https://example.com/a.png",
        "file:///etc/passwd",
        "s3://bucket/a.png",
        "~/a.png",
        "missing.png",
        "sub/../../x.png",
    ],
)
def test_manifest_refuses_paths_outside_its_folder_and_urls(folder, line):
    with pytest.raises(BadManifest, match="drawing #1"):
        read_manifest(_write(folder, [{"line": line}]))


def test_manifest_refuses_duplicate_names(folder):
    with pytest.raises(BadManifest, match="twice"):
        read_manifest(_write(folder, [{"line": "baby.png"}, {"line": "baby.png"}]))


@pytest.mark.parametrize("text", ["", "drawings: 3", "[1, 2]", "drawings: []", ":\n  - : :"])
def test_manifest_without_drawings_is_refused(folder, text):
    path = folder / "m.yaml"
    path.write_text(text)
    with pytest.raises(BadManifest):
        read_manifest(path)


def test_manifest_asking_for_the_shaded_style_is_refused_in_one_line(folder):
    with pytest.raises(BadManifest, match="drawing #1: the shaded style was removed") as refused:
        read_manifest(_write(folder, [{"line": "baby.png", "style": "shaded"}]))
    assert "\n" not in str(refused.value)


def test_refused_manifest_records_nothing(embedded, folder):
    with pytest.raises(BadManifest):
        submit_manifest(embedded, _write(folder, [{"line": "baby.png"}, {"line": "../../etc/passwd"}]))
    with embedded.sessions() as session:
        for model in (Batch, Drawing, Job):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_submit_records_rows_before_enqueue(embedded, folder):
    batch_id = submit_manifest(embedded, _write(folder, [{"line": "baby.png", "hints": "hints.json"}]))
    with embedded.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.batch_id == batch_id)).all()
    assert [j.state for j in jobs] == ["queued"]
