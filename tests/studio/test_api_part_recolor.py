"""Parts through the API: `parts` in a revision's recolor body, blocks by part (`?by=parts`), and a part
recolored across a character (POST /api/batches/{id}/recolor) on PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from api_server import SAMPLES, Api, running_api, wait_jobs
from PIL import Image

from workers.settings import Settings

BROWN, GREEN, PEACH, BLUE = "#5a3825", "#2e7d32", "#f2c9a5", "#3c6fd2"
MANIFEST = f"""
name: hair
characters:
  man: {{palette: {{hair: "{BROWN}", skin: "{PEACH}"}}}}
drawings:
  - {{line: man.png, name: man_front, character: man}}
  - {{line: man.png, name: man_side, character: man}}
  - {{line: man.png, name: man_back, character: man, palette: {{hair: "{GREEN}", skin: "{PEACH}"}}}}
  - {{line: man.png, name: broken, character: man, palette: {{tail: "#ff0000"}}}}
"""


def _submit(api: Api) -> tuple[int, dict[str, dict]]:
    """The batch above submitted by 'sam' and run: (batch id, drawings by name)."""
    files = [
        ("manifest", ("batch.yaml", MANIFEST.encode())),
        ("files", ("man.png", (SAMPLES / "bearded_man_line.png").read_bytes())),
    ]
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=files)
        assert made.status_code == 201, made.text
        batch = made.json()["id"]
        wait_jobs(sam, batch=batch)
        drawings = sam.get("/api/drawings", params={"batch": batch}).json()["items"]
    return batch, {d["name"]: d for d in drawings}


@pytest.fixture(scope="module")
def submitted(api: Api) -> tuple[int, dict[str, dict]]:
    return _submit(api)


def _png(client, url: str) -> np.ndarray:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return np.asarray(Image.open(io.BytesIO(answer.content)))


def test_blocks_by_part_name_each_part_and_its_regions(api: Api, submitted) -> None:
    _, drawings = submitted
    revision = drawings["man_front"]["latest_revision_id"]
    with api.client("lea") as lea:
        by_part = lea.get(f"/api/revisions/{revision}/blocks", params={"by": "parts"}).json()
        by_region = lea.get(f"/api/revisions/{revision}/blocks").json()
        labels = _png(lea, by_part["labels_url"])
        assert lea.get(f"/api/revisions/{revision}/blocks", params={"by": "limbs"}).status_code == 422
    assert {"background", "skin", "hair"} <= {b["part"] for b in by_part["blocks"]}
    assert by_part["labels_url"].endswith("?by=parts")
    covered = sorted(r for b in by_part["blocks"] for r in b["regions"])
    assert covered == sorted(b["id"] for b in by_region["blocks"])  # every region in exactly one part
    assert all(b["part"] is None for b in by_region["blocks"])
    ids = labels[..., 0].astype(np.int64) * 256 + labels[..., 1]
    assert sorted(np.unique(ids).tolist()) == [b["id"] for b in by_part["blocks"]]


def test_recolor_body_parts_recolors_the_part_and_changes_no_other_block(api: Api, submitted) -> None:
    batch, drawings = submitted
    parent = drawings["man_side"]["latest_revision_id"]
    with api.client("lea") as lea:
        hair = next(
            b["regions"]
            for b in lea.get(f"/api/revisions/{parent}/blocks", params={"by": "parts"}).json()["blocks"]
            if b["part"] == "hair"
        )
        bad = lea.post(f"/api/revisions/{parent}/recolor", json={"parts": {"tail": BLUE}})
        assert bad.status_code == 422 and "known parts: background, skin, hair" in bad.json()["detail"]
        made = lea.post(f"/api/revisions/{parent}/recolor", json={"parts": {"hair": BLUE}})
        assert made.status_code == 202, made.text
        job_id = made.json()["id"]
        (job,) = [j for j in wait_jobs(lea, batch=batch) if j["id"] == job_id]
        assert job["state"] == "done", job["error"]
        child = lea.get(f"/api/revisions/{job['revision_id']}").json()
        diff = lea.get(f"/api/revisions/{child['id']}/diff", params={"against": parent}).json()["changed"]
        with api.client("sam") as sam:
            refused = sam.post(f"/api/revisions/{parent}/recolor", json={"parts": {"hair": BLUE}})
    assert child["parent_revision_id"] == parent
    assert child["edits"] == {str(r): BLUE for r in hair}
    assert child["proof"]["locality"]["unchanged_outside"] == 1.0
    assert sorted((c["id"], c["after"]) for c in diff) == [(r, BLUE) for r in hair]
    assert refused.status_code == 403


@pytest.mark.services
def test_recolor_a_character_through_the_api_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    with running_api(Settings(home=tmp_path, database_url=postgres_url)) as api:
        batch, drawings = _submit(api)
        with api.client("lea") as lea:
            before = lea.get(f"/api/batches/{batch}/report").json()["rows"]
            missing = lea.post(
                f"/api/batches/{batch}/recolor", json={"character": "hero", "parts": {"hair": BROWN}}
            )
            made = lea.post(
                f"/api/batches/{batch}/recolor", json={"character": "man", "parts": {"hair": BROWN}}
            )
            assert made.status_code == 202, made.text
            queued = made.json()
            ids = {j["id"] for j in queued}
            jobs = [j for j in wait_jobs(lea, batch=batch) if j["id"] in ids]
            after = lea.get(f"/api/batches/{batch}/report").json()
            revisions = {j["drawing_id"]: lea.get(f"/api/revisions/{j['revision_id']}").json() for j in jobs}
    assert missing.status_code == 422 and "its characters: man" in missing.json()["detail"]
    colored = {n: d for n, d in drawings.items() if n != "broken"}
    assert {j["drawing_id"] for j in queued} == {d["id"] for d in colored.values()}  # "broken" left out
    assert [j["parent_revision_id"] for j in queued] == [d["latest_revision_id"] for d in colored.values()]
    for job in jobs:
        assert (job["state"], job["attempts"]) == ("done", 1), job
        assert revisions[job["drawing_id"]]["parent_revision_id"] == job["parent_revision_id"]
    assert {r["drawing"] for r in before if r["part"] == "hair" and r["flagged"]} == {"man_back"}
    hair = [r for r in after["rows"] if r["part"] == "hair"]
    assert {r["color"] for r in hair} == {BROWN} and not any(r["flagged"] for r in hair)
    assert {r["revision_id"] for r in hair} == {j["revision_id"] for j in jobs}
