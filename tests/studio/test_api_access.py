"""Access matrix: every API operation × every role × own or another's batch. No data crosses."""

from __future__ import annotations

import re

import pytest
from api_server import Api, manifest_files, wait_jobs

# Operations only an admin may use, and those a submitter may not (lead or admin only).
ADMIN_ONLY = re.compile(r"^/api/tokens")
LEAD_ONLY = {
    ("post", "/api/revisions/{revision_id}/recolor"),
    ("post", "/api/revisions/{revision_id}/reviews"),
    ("post", "/api/batches/{batch_id}/recolor"),
    ("post", "/api/batches/{batch_id}/propagate"),
}
PUBLIC_OR_SELF = {"/api/me", "/api/session"}


@pytest.fixture(scope="module")
def owned(api: Api) -> dict:
    """Ids of one batch submitted by 'sam': batch, drawing, revision, job."""
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=manifest_files("baby"))
        assert made.status_code == 201, made.text
        jobs = wait_jobs(sam, batch=made.json()["id"])
        drawing = sam.get("/api/drawings", params={"batch": made.json()["id"]}).json()["items"][0]
    return {
        "batch_id": made.json()["id"],
        "drawing_id": drawing["id"],
        "revision_id": drawing["latest_revision_id"],
        "job_id": jobs[0]["id"],
        "token_id": 1,
        "role": "colored",
    }


def _operations(api: Api, owned: dict) -> list[tuple[str, str, str]]:
    with api.client("ada") as admin:
        spec = admin.get("/openapi.json").json()
    ops = []
    for path, methods in spec["paths"].items():
        if path in PUBLIC_OR_SELF or not path.startswith("/api/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(owned[m.group(1)]), path)
        for method in methods:
            if method == "delete" and ADMIN_ONLY.match(path):
                continue  # revoking a token would break the other rows of the matrix
            ops.append((method, path, url))
    return ops


def _request(client, method: str, url: str):
    if url.endswith("/events"):
        return client.request(method, url, params={"follow": "false", "timeout_s": 1})
    return client.request(method, url, json={} if method in ("post", "put", "patch") else None)


def test_the_matrix_covers_the_batch_report(api: Api, owned: dict) -> None:
    ops = {(method, path) for method, path, _ in _operations(api, owned)}
    assert ("get", "/api/batches/{batch_id}/report") in ops


def test_another_submitter_gets_nothing_of_sams_batch(api: Api, owned: dict) -> None:
    with api.client("sue") as sue:
        for method, path, url in _operations(api, owned):
            if "{" not in path and method == "get":
                listing = _request(sue, method, url)
                assert listing.status_code in (200, 403), (path, listing.text)
                assert str(owned["batch_id"]) not in re.findall(r'"batch_id":\s*(\d+)', listing.text), path
                continue
            answer = _request(sue, method, url)
            assert answer.status_code in (403, 404, 405, 409, 422), (
                method,
                path,
                answer.status_code,
                answer.text,
            )
            assert answer.status_code < 200 or answer.status_code >= 300


def test_roles_are_checked_on_every_operation(api: Api, owned: dict) -> None:
    for method, path, url in _operations(api, owned):
        for who in ("sam", "lea", "ada"):
            with api.client(who) as client:
                answer = _request(client, method, url)
            if ADMIN_ONLY.match(path) and who != "ada":
                assert answer.status_code == 403, (who, method, path, answer.status_code)
            elif (method, path) in LEAD_ONLY and who == "sam":
                assert answer.status_code == 403, (who, method, path, answer.status_code)
            else:
                assert answer.status_code not in (401, 403), (
                    who,
                    method,
                    path,
                    answer.status_code,
                    answer.text,
                )
                assert answer.status_code < 500, (who, method, path, answer.text)


def test_no_token_reaches_the_logs(api: Api, owned: dict, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    with api.client("sam") as sam:
        sam.get(f"/api/batches/{owned['batch_id']}")
        sam.get("/api/batches/999999")
    with api.client(None) as anonymous:
        anonymous.get("/api/batches", headers={"Authorization": "Bearer tint_wrong-secret-value"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (*api.tokens.values(), "tint_wrong-secret-value"):
        assert secret not in logged
