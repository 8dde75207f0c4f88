"""The HTTP API on the embedded default: real SQLite database, local assets, in-process Celery worker."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import httpx
import pytest
from api_server import MAX_FILE_BYTES, MAX_REQUEST_BYTES, SAMPLES, Api, manifest_files, wait_jobs

from db import job_queries, queries

NEW_COLOR = "#3c6fd2"


@pytest.fixture(scope="module")
def batch(api: Api) -> dict:
    """Two sample drawings submitted by submitter 'sam' and colorized; the batch as the API answers it."""
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=manifest_files("baby", "alien"))
        assert made.status_code == 201, made.text
        jobs = wait_jobs(sam, batch=made.json()["id"])
        assert [j["state"] for j in jobs] == ["done", "done"]
        return sam.get(f"/api/batches/{made.json()['id']}").json()


def _revision(api: Api, batch: dict, character: str = "baby") -> int:
    with api.client("lea") as lea:
        page = lea.get("/api/drawings", params={"batch": batch["id"], "character": character}).json()
    return page["items"][0]["latest_revision_id"]


def _inner_block(client: httpx.Client, revision_id: int) -> dict:
    table = client.get(f"/api/revisions/{revision_id}/blocks").json()
    return max((b for b in table["blocks"] if b["bbox"][0] > 0), key=lambda b: b["area"])


def test_every_operation_refuses_a_missing_or_unknown_token(api: Api) -> None:
    with api.client(None) as anonymous:
        spec = anonymous.get("/openapi.json").json()
        answers = []
        for path, operations in spec["paths"].items():
            if path == "/api/session":  # signing in takes the token in the body
                continue
            url = re.sub(r"\{role\}", "colored", re.sub(r"\{\w+_id\}", "1", path))
            for method in operations:
                for headers in ({}, {"Authorization": "Bearer tint_not-a-token"}):
                    answers.append((method, path, anonymous.request(method, url, headers=headers)))
    for method, path, answer in answers:
        assert answer.status_code == 401, (method, path, answer.text)
        assert "token" in answer.json()["detail"]


def test_batch_progress_counts_its_jobs(batch: dict) -> None:
    assert batch["progress"]["done"] == 2 and batch["submitted_by"] == "sam"


def test_submitter_cannot_read_another_submitters_batch(api: Api, batch: dict) -> None:
    revision = _revision(api, batch)
    with api.client("sue") as sue:
        for url in (
            f"/api/batches/{batch['id']}",
            f"/api/drawings?batch={batch['id']}",
            f"/api/revisions/{revision}",
            f"/api/revisions/{revision}/assets/colored",
            f"/api/batches/{batch['id']}/export",
        ):
            assert sue.get(url).status_code == 403, url
        assert sue.get("/api/batches").json()["total"] == 0
        assert sue.get("/api/drawings").json()["total"] == 0


def test_submitter_may_not_review_recolor_or_manage_tokens(api: Api, batch: dict) -> None:
    revision = _revision(api, batch)
    with api.client("sam") as sam:
        assert sam.get(f"/api/revisions/{revision}").status_code == 200
        assert sam.post(f"/api/revisions/{revision}/reviews", json={"verdict": "approved"}).status_code == 403
        assert (
            sam.post(f"/api/revisions/{revision}/recolor", json={"edits": {"2": "#000000"}}).status_code
            == 403
        )
        assert sam.get("/api/tokens").status_code == 403


def test_admin_creates_a_token_shown_once_and_revokes_it(api: Api) -> None:
    with api.client("ada") as ada:
        made = ada.post("/api/tokens", json={"name": "pipeline", "role": "submitter"})
        assert made.status_code == 201
        secret = made.json()["token"]
        assert httpx.get(f"{api.url}/api/me", headers={"Authorization": f"Bearer {secret}"}).json()[
            "role"
        ] == ("submitter")
        assert all("token" not in t for t in ada.get("/api/tokens").json())
        assert ada.delete(f"/api/tokens/{made.json()['id']}").json()["revoked_at"] is not None
    assert httpx.get(f"{api.url}/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    with api.client("lea") as lea:
        assert lea.post("/api/tokens", json={"name": "x", "role": "admin"}).status_code == 403


def test_a_reference_that_is_not_an_image_is_refused_before_any_job(api: Api) -> None:
    line = (SAMPLES / "bearded_man_line.png").read_bytes()
    parts = manifest_files(manifest="drawings:\n  - {line: hero.png, reference: ref.png}\n")
    parts += [("files", ("hero.png", line)), ("files", ("ref.png", b"not a picture"))]
    with api.client("sam") as sam:
        before = sam.get("/api/jobs").json()["total"]
        answer = sam.post("/api/batches", files=parts)
        assert answer.status_code == 422
        assert "reference picture of hero.png" in answer.json()["detail"]
        assert sam.get("/api/jobs").json()["total"] == before


def test_a_manifest_asking_for_the_shaded_style_is_refused_before_any_job(api: Api) -> None:
    parts = manifest_files(manifest="drawings:\n  - {line: hero.png, style: shaded}\n")
    parts.append(("files", ("hero.png", (SAMPLES / "bearded_man_line.png").read_bytes())))
    with api.client("sam") as sam:
        before = sam.get("/api/jobs").json()["total"]
        answer = sam.post("/api/batches", files=parts)
        assert answer.status_code == 422
        detail = answer.json()["detail"]
        assert "the shaded style was removed until its shading is trained" in detail and "\n" not in detail
        assert sam.get("/api/jobs").json()["total"] == before


def test_a_file_that_is_not_an_image_is_refused_before_any_job(api: Api) -> None:
    parts = manifest_files(manifest="drawings:\n  - {line: hero.png}\n")
    parts.append(("files", ("hero.png", b"this is text, not a drawing")))
    with api.client("sam") as sam:
        before = sam.get("/api/jobs").json()["total"]
        answer = sam.post("/api/batches", files=parts)
        assert answer.status_code == 422
        assert "hero.png" in answer.json()["detail"] and "not an image" in answer.json()["detail"]
        assert sam.get("/api/jobs").json()["total"] == before


@pytest.mark.parametrize(
    ("name", "size", "status"),
    [("big.png", MAX_FILE_BYTES + 1, 413), ("huge.png", MAX_REQUEST_BYTES + 1, 413), ("../x.png", 10, 422)],
)
def test_uploads_over_the_limit_or_with_folders_are_refused(
    api: Api, name: str, size: int, status: int
) -> None:
    parts = manifest_files(manifest="drawings:\n  - {line: big.png}\n")
    parts.append(("files", (name, b"\x89PNG\r\n\x1a\n" + bytes(size))))
    with api.client("sam") as sam:
        answer = sam.post("/api/batches", files=parts)
    assert answer.status_code == status, answer.text


def test_drawings_filter_by_character_review_status_and_job_state(api: Api, batch: dict) -> None:
    with api.client("lea") as lea:
        get = lambda **p: lea.get("/api/drawings", params={"batch": batch["id"], **p}).json()  # noqa: E731
        assert [d["character"] for d in get()["items"]] == ["baby", "alien"]
        assert [d["character"] for d in get(character="alien")["items"]] == ["alien"]
        assert get(job_state="done")["total"] == 2 and get(job_state="failed")["total"] == 0
        page = get(limit=1, offset=1)
        assert page["total"] == 2 and [d["character"] for d in page["items"]] == ["alien"]
        assert get(review_status="pending_review")["total"] >= 1


def test_revision_assets_are_streamed_from_local_storage(api: Api, batch: dict) -> None:
    revision = _revision(api, batch, "alien")
    with api.client("sam") as sam:
        answer = sam.get(f"/api/revisions/{revision}/assets/colored")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        rev = sam.get(f"/api/revisions/{revision}").json()
        line = sam.get(f"/api/drawings/{rev['drawing_id']}/line")
    with api.ctx.sessions() as session:
        sha = queries.get_revision(session, revision).assets["colored"]
    assert answer.content == api.ctx.storage.get(sha)
    assert line.content.startswith(b"\x89PNG")


def test_recolor_makes_a_child_revision_whose_diff_lists_the_block(api: Api, batch: dict) -> None:
    parent = _revision(api, batch)
    with api.client("lea") as lea:
        block = _inner_block(lea, parent)
        job = lea.post(f"/api/revisions/{parent}/recolor", json={"edits": {str(block["id"]): NEW_COLOR}})
        assert job.status_code == 202 and job.json()["kind"] == "recolor"
        jobs = wait_jobs(lea, batch=batch["id"])
        child = next(j for j in jobs if j["id"] == job.json()["id"])["revision_id"]
        chain = [r["id"] for r in lea.get(f"/api/revisions/{child}/chain").json()]
        diff = lea.get(f"/api/revisions/{child}/diff", params={"against": parent}).json()
        prompts = lea.get(f"/api/drawings/{lea.get(f'/api/revisions/{child}').json()['drawing_id']}/prompts")
    assert chain == [parent, child]
    assert [(c["id"], c["after"]) for c in diff["changed"]] == [(block["id"], NEW_COLOR)]
    assert [p["kind"] for p in prompts.json()] == ["points", "target"]


def test_recolor_of_an_unknown_block_is_refused_and_makes_no_job(api: Api, batch: dict) -> None:
    revision = _revision(api, batch, "alien")
    with api.client("lea") as lea:
        before = lea.get("/api/jobs").json()["total"]
        answer = lea.post(f"/api/revisions/{revision}/recolor", json={"edits": {"999": NEW_COLOR}})
        assert answer.status_code == 422 and "999" in answer.json()["detail"]
        outside = lea.post(
            f"/api/revisions/{revision}/recolor", json={"at": [{"x": 9999, "y": 1, "color": "#000"}]}
        )
        assert outside.status_code == 422
        assert lea.get("/api/jobs").json()["total"] == before


def test_events_stream_a_snapshot_of_the_batch_jobs_then_end(api: Api, batch: dict) -> None:
    with api.client("sam") as sam:
        with sam.stream("GET", f"/api/batches/{batch['id']}/events", params={"follow": "false"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            text = "".join(stream.iter_text())
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == {"jobs": len(events) - 1}
    assert {e["state"] for e in events[:-1]} == {"done"} and len(events) >= 3


def test_events_follow_a_recolor_until_it_is_done(api: Api, batch: dict) -> None:
    parent = _revision(api, batch, "alien")
    with api.client("lea") as lea:
        block = _inner_block(lea, parent)
        with lea.stream("GET", f"/api/batches/{batch['id']}/events", params={"timeout_s": 30}) as stream:
            job = lea.post(
                f"/api/revisions/{parent}/recolor", json={"edits": {str(block["id"]): "#aa3300"}}
            ).json()
            states = []
            for line in stream.iter_lines():
                if line.startswith("data: ") and json.loads(line[6:]).get("id") == job["id"]:
                    states.append(json.loads(line[6:])["state"])
                    if states[-1] == "done":
                        break
    assert states[-1] == "done"


def test_reviews_set_the_status_count_retakes_and_export(api: Api, batch: dict) -> None:
    revision = _revision(api, batch, "alien")
    with api.client("lea") as lea:
        block = _inner_block(lea, revision)["id"]
        sent = lea.post(
            f"/api/revisions/{revision}/reviews",
            json={"verdict": "changes_requested", "comment": "eyes too dark", "blocks": [block]},
        )
        assert sent.status_code == 201 and sent.json()["author"] == "lea"
        assert lea.post(f"/api/revisions/{revision}/reviews", json={"blocks": [9999]}).status_code == 422
        assert lea.get(f"/api/revisions/{revision}").json()["review_status"] == "changes_requested"
        exported = lea.get(f"/api/batches/{batch['id']}/export", params={"format": "csv"})
        as_json = lea.get(f"/api/batches/{batch['id']}/export", params={"format": "json"}).json()
    rows = {r["character"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert rows["alien"]["retakes"] == "1" and f"[blocks {block}]: eyes too dark" in rows["alien"]["comments"]
    alien = next(r for r in as_json if r["character"] == "alien")
    assert alien["comments"][0]["comment"] == "eyes too dark" and alien["comments"][0]["blocks"] == [block]


def test_jobs_cancel_and_retry_answer_409_for_a_done_job(api: Api, batch: dict) -> None:
    with api.client("sam") as sam:
        job = sam.get("/api/jobs", params={"batch": batch["id"], "kind": "colorize"}).json()["items"][0]
        assert sam.post(f"/api/jobs/{job['id']}/cancel").status_code == 409
        assert sam.post(f"/api/jobs/{job['id']}/retry").status_code == 409
        assert sam.get(f"/api/jobs/{job['id']}").json()["state"] == "done"


def test_the_review_page_is_served(api: Api) -> None:
    page = httpx.get(f"{api.url}/review")
    assert page.status_code == 200 and "review.js" in page.text
    assert httpx.get(f"{api.url}/static/review.js").status_code == 200


def test_a_session_cookie_authenticates_the_page(api: Api) -> None:
    with httpx.Client(base_url=api.url) as browser:
        assert browser.post("/api/session", json={"token": "tint_wrong"}).status_code == 401
        opened = browser.post("/api/session", json={"token": api.tokens["lea"]})
        assert "httponly" in opened.headers["set-cookie"].lower()
        assert browser.get("/api/me").json()["name"] == "lea"


def test_tint_token_create_prints_a_working_token_once(api: Api) -> None:
    from typer.testing import CliRunner

    from studio.cli import app

    made = CliRunner().invoke(app, ["token", "create", "--role", "lead", "cli-lead"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        me = client.get("/api/me").json()
    assert (me["name"], me["role"]) == ("cli-lead", "lead")
    refused = CliRunner().invoke(app, ["token", "create", "--role", "wizard", "x"])
    assert refused.exit_code == 1 and "unknown role 'wizard'" in refused.output


def test_a_queued_job_can_be_cancelled_then_retried(api: Api, batch: dict) -> None:
    with api.client("sam") as sam:
        done = sam.get("/api/jobs", params={"batch": batch["id"], "kind": "colorize"}).json()["items"][0]
        with api.ctx.sessions() as session, session.begin():  # a job no worker has been told about yet
            job_id = job_queries.create_job(
                session, kind="colorize", params={}, drawing_id=done["drawing_id"], prompt_id=None
            ).id
        cancelled = sam.post(f"/api/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        retried = sam.post(f"/api/jobs/{job_id}/retry")
        assert retried.status_code == 200 and retried.json()["error"] is None
        for _ in range(600):  # the retried job runs: the API's worker was told about it this time
            job = sam.get(f"/api/jobs/{job_id}").json()
            if job["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert job["state"] == "done" and job["attempts"] == 1, job
        assert sam.post(f"/api/jobs/{job_id}/cancel").status_code == 409


def test_a_chunked_body_over_the_limit_is_refused(api: Api) -> None:
    part = b'--tint\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
    mib = b"x" * (1024 * 1024)
    chunks = iter([part, *[mib] * (MAX_REQUEST_BYTES // len(mib) + 2)])  # no length: sent chunked
    headers = {"Content-Type": "multipart/form-data; boundary=tint"}
    with api.client("sam") as sam:
        answer = sam.post("/api/batches", content=chunks, headers=headers)
    assert answer.status_code == 413
