"""The HTTP API on PostgreSQL (the production database), with the embedded broker and worker: submit,
colorize, recolor, approve, list with filters, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_server import manifest_files, running_api, wait_jobs

from workers.settings import Settings

pytestmark = pytest.mark.services


def test_submit_recolor_approve_and_export_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    with running_api(Settings(home=tmp_path, database_url=postgres_url)) as api:
        with api.client("sam") as sam:
            made = sam.post("/api/batches", files=manifest_files("baby"))
            assert made.status_code == 201, made.text
            batch = made.json()["id"]
            assert [j["state"] for j in wait_jobs(sam, batch=batch)] == ["done"]
        with api.client("lea") as lea:
            (drawing,) = lea.get("/api/drawings", params={"batch": batch, "job_state": "done"}).json()[
                "items"
            ]
            parent = drawing["latest_revision_id"]
            table = lea.get(f"/api/revisions/{parent}/blocks").json()["blocks"]
            block = max((b for b in table if b["bbox"][0] > 0), key=lambda b: b["area"])["id"]
            assert lea.post(
                f"/api/revisions/{parent}/recolor", json={"edits": {str(block): "#123456"}}
            ).is_success
            child = wait_jobs(lea, batch=batch)[-1]["revision_id"]
            diff = lea.get(f"/api/revisions/{child}/diff", params={"against": parent}).json()["changed"]
            assert [(c["id"], c["after"]) for c in diff] == [(block, "#123456")]
            assert (
                lea.post(f"/api/revisions/{child}/reviews", json={"verdict": "approved"}).status_code == 201
            )
            approved = lea.get("/api/drawings", params={"review_status": "approved"}).json()
            exported = lea.get(f"/api/batches/{batch}/export", params={"format": "json"}).json()
        with api.client("sue") as sue:
            assert sue.get(f"/api/batches/{batch}").status_code == 403
    assert [d["id"] for d in approved["items"]] == [drawing["id"]]
    assert exported[0]["status"] == "approved" and exported[0]["revision_id"] == child
