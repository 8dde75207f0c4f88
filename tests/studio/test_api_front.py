"""What the review page's front reads: each batch's drawing count, characters and thumbnails, and each
drawing's flags (why its latest revision needs review)."""

from __future__ import annotations

import pytest
from api_server import SAMPLES, Api, manifest_files, wait_jobs

from db.models import Revision
from pipeline.reference import LOW_CONFIDENCE, flagged_matches
from studio.api.flags import revision_flags

MANIFEST = (
    "name: front\ndrawings:\n"
    "  - {line: baby_line.png, character: baby, hints: baby_hints.json}\n"
    "  - {line: alien_line.png, character: alien, hints: alien_hints.json}\n"
    # another character's drawing as the reference: most regions find no match they can trust
    "  - {line: man.png, character: man, reference: cat.png}\n"
)


@pytest.fixture(scope="module")
def batch(api: Api) -> dict:
    parts = manifest_files("baby", "alien", manifest=MANIFEST)
    parts += [
        ("files", ("man.png", (SAMPLES / "bearded_man_line.png").read_bytes())),
        ("files", ("cat.png", (SAMPLES / "grinning_cat_line.png").read_bytes())),
    ]
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=parts)
        assert made.status_code == 201, made.text
        jobs = wait_jobs(sam, batch=made.json()["id"])
        assert [j["state"] for j in jobs] == ["done"] * 3, jobs
        return sam.get(f"/api/batches/{made.json()['id']}").json()


def test_a_batch_lists_its_drawing_count_characters_and_thumbnails(api: Api, batch: dict) -> None:
    assert batch["drawing_count"] == 3
    assert batch["characters"] == ["alien", "baby", "man"]
    with api.client("sam") as sam:
        drawings = sam.get("/api/drawings", params={"batch": batch["id"]}).json()["items"]
        assert batch["thumbnails"] == [d["thumbnail_url"] for d in drawings]
        assert all("/assets/colored" in url for url in batch["thumbnails"])
        listed = next(b for b in sam.get("/api/batches").json()["items"] if b["id"] == batch["id"])
        assert listed == batch
        assert sam.get(batch["thumbnails"][0]).headers["content-type"] == "image/png"


def test_drawings_with_low_confidence_reference_matches_are_flagged(api: Api, batch: dict) -> None:
    with api.client("lea") as lea:
        drawings = lea.get("/api/drawings", params={"batch": batch["id"]}).json()["items"]
        flags = {d["character"]: d["flags"] for d in drawings}
        assert flags["baby"] == [] and flags["alien"] == []
        (reason,) = flags["man"]
        assert f"under {LOW_CONFIDENCE:.0%} confidence" in reason
        man = next(d for d in drawings if d["character"] == "man")
    with api.ctx.sessions() as session:  # the matches are in the job's result, which the API does not list
        matches = session.get(Revision, man["latest_revision_id"]).job.result["reference_matches"]
    low = flagged_matches(matches)
    assert low and reason.startswith(f"{len(low)} of {len(matches)} ")


def test_hint_adherence_under_100_percent_is_a_flag() -> None:
    revision = Revision(proof={"hint_adherence": 0.975, "failed_regions": [3]}, flagged=True)
    assert revision_flags(revision, None) == ["hint adherence 97.5% (1 region(s) off their hint)"]
    assert revision_flags(Revision(proof={"hint_adherence": 1.0}, flagged=False), {}) == []
    assert revision_flags(None, None) == []
