"""Named prompts through POST /api/batches (a palette per character or drawing, a reference picture) and
the batch's color consistency report, GET /api/batches/{id}/report, on the embedded default."""

from __future__ import annotations

import io

import numpy as np
import pytest
from api_server import SAMPLES, Api, wait_jobs
from PIL import Image

from pipeline.images import decode_image, encode_png
from pipeline.prompts import drawing_regions

BROWN, GREEN, PEACH = "#5a3825", "#2e7d32", "#f2c9a5"
MANIFEST = f"""
name: consistency
characters:
  man: {{palette: {{hair: "{BROWN}", face: "{PEACH}"}}}}
drawings:
  - {{line: man.png, name: man_front, character: man}}
  - {{line: man.png, name: man_side, character: man}}
  - {{line: man.png, name: man_back, character: man, palette: {{hair: "{GREEN}", skin: "{PEACH}"}}}}
  - {{line: man.png, name: from_reference, reference: reference.png}}
  - {{line: man.png, name: bad_part, palette: {{tail: "#ff0000"}}}}
  - {{line: man.png, name: bad_color, palette: {{hair: brown}}}}
"""


def _reference(line: bytes) -> bytes:
    """A colored picture of the drawing: each region its own flat color, lines black."""
    regions = drawing_regions(decode_image(line))
    rng = np.random.default_rng(7)
    table = rng.integers(40, 230, size=(int(regions.max()) + 1, 3), dtype=np.uint8)
    table[0] = 0
    return encode_png(table[regions])


@pytest.fixture(scope="module")
def submitted(api: Api) -> dict:
    """The batch above, submitted by 'sam' with its files and run; {"id", "drawings": name -> row, "jobs"}."""
    line = (SAMPLES / "bearded_man_line.png").read_bytes()
    files = [
        ("manifest", ("batch.yaml", MANIFEST.encode())),
        ("files", ("man.png", line)),
        ("files", ("reference.png", _reference(line))),
    ]
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=files)
        assert made.status_code == 201, made.text
        batch = made.json()["id"]
        jobs = wait_jobs(sam, batch=batch)
        drawings = sam.get("/api/drawings", params={"batch": batch}).json()["items"]
    by_id = {j["drawing_id"]: j for j in jobs}
    return {"id": batch, "drawings": {d["name"]: {**d, "job": by_id[d["id"]]} for d in drawings}}


def _flats(client, revision_id: int) -> np.ndarray:
    answer = client.get(f"/api/revisions/{revision_id}/assets/flats")
    assert answer.status_code == 200, answer.text
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB"))


def test_a_manifest_palette_through_the_api_colors_the_parts_it_names(api: Api, submitted: dict) -> None:
    drawing = submitted["drawings"]["man_back"]
    assert drawing["job"]["state"] == "done", drawing["job"]["error"]
    with api.client("sam") as sam:
        (prompt,) = sam.get(f"/api/drawings/{drawing['id']}/prompts").json()
        flats = _flats(sam, drawing["latest_revision_id"])
        regions = np.asarray(
            Image.open(
                io.BytesIO(sam.get(f"/api/revisions/{drawing['latest_revision_id']}/assets/regions").content)
            )
        )
    assert prompt["kind"] == "palette" and prompt["payload"]["palette"] == {"hair": GREEN, "skin": PEACH}
    for rgb in ((0x2E, 0x7D, 0x32), (0xF2, 0xC9, 0xA5)):  # the parts named: some regions each, whole
        painted = (flats == rgb).all(axis=2) & (regions > 0)
        ids = np.unique(regions[painted])
        assert len(ids) > 0, rgb
        assert painted[np.isin(regions, ids)].all(), f"regions only partly {rgb}"
    assert (flats == (0xF2, 0xC9, 0xA5)).all(axis=2).sum() > 3000  # the face and neck, ~6000 px


def test_a_reference_picture_through_the_api_gives_the_drawing_its_colors(api: Api, submitted: dict) -> None:
    drawing = submitted["drawings"]["from_reference"]
    assert drawing["job"]["state"] == "done", drawing["job"]["error"]
    line = (SAMPLES / "bearded_man_line.png").read_bytes()
    want = np.asarray(Image.open(io.BytesIO(_reference(line))).convert("RGB"))
    with api.client("sam") as sam:
        (prompt,) = sam.get(f"/api/drawings/{drawing['id']}/prompts").json()
        flats = _flats(sam, drawing["latest_revision_id"])
    assert prompt["kind"] == "reference" and len(prompt["payload"]["reference"]["asset"]) == 64
    inside = want.any(axis=2)  # not a line pixel of the reference
    assert (flats[inside] == want[inside]).all(axis=1).mean() > 0.95


def test_an_unknown_part_or_a_bad_color_fails_its_own_job_clearly(submitted: dict) -> None:
    part = submitted["drawings"]["bad_part"]["job"]
    color = submitted["drawings"]["bad_color"]["job"]
    assert part["state"] == "failed" and color["state"] == "failed"
    assert "tail" in part["error"] and "known parts: background, skin, hair" in part["error"]
    assert "'brown' is not #RRGGBB" in color["error"]
    assert submitted["drawings"]["man_front"]["job"]["state"] == "done"  # the rest of the batch goes on


def test_the_report_flags_the_drawing_whose_hair_differs(api: Api, submitted: dict) -> None:
    with api.client("lea") as lea:
        answer = lea.get(f"/api/batches/{submitted['id']}/report")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    flagged = [(r["character"], r["part"], r["drawing"]) for r in report["rows"] if r["flagged"]]
    assert flagged == [("man", "hair", "man_back")] and report["flagged"] == 1
    hair = {r["drawing"]: r for r in report["rows"] if r["character"] == "man" and r["part"] == "hair"}
    assert {name: r["color"] for name, r in hair.items()} == {
        "man_front": BROWN,
        "man_side": BROWN,
        "man_back": GREEN,
    }
    assert hair["man_back"]["median"] == BROWN and hair["man_back"]["delta_e"] > 10
    skin = [r for r in report["rows"] if r["character"] == "man" and r["part"] == "skin"]
    assert [r["color"] for r in skin] == [PEACH] * 3
    assert {r["character"] for r in report["rows"]} == {"man", "(no character)"}
    assert {d["drawing"] for d in report["uncolored"]} == {"bad_part", "bad_color"}


def test_the_report_threshold_is_a_query_parameter(api: Api, submitted: dict) -> None:
    with api.client("sam") as sam:
        loose = sam.get(f"/api/batches/{submitted['id']}/report", params={"threshold": 100}).json()
        refused = sam.get(f"/api/batches/{submitted['id']}/report", params={"threshold": -1})
    assert loose["flagged"] == 0 and loose["threshold"] == 100
    assert refused.status_code == 422


def test_the_report_of_a_missing_or_anothers_batch_is_refused(api: Api, submitted: dict) -> None:
    with api.client("sue") as sue:
        assert sue.get(f"/api/batches/{submitted['id']}/report").status_code == 403
        missing = sue.get("/api/batches/999999/report")
    assert missing.status_code == 404 and "Batch 999999 does not exist" in missing.json()["detail"]
