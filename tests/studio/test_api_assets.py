"""Assets through the API when storage is S3: a redirect to a presigned URL that serves the bytes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from db import auth_queries, queries
from studio.api import create_app
from workers.context import make_context, set_context
from workers.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
LINE = (Path(__file__).resolve().parents[2] / "studio" / "samples" / "baby_line.png").read_bytes()


def test_line_drawing_on_s3_redirects_to_a_presigned_url(tmp_path: Path, s3_endpoint: str, s3_bucket: str):
    settings = Settings(home=tmp_path, storage_url=f"s3://{s3_bucket}/tint", s3_endpoint=s3_endpoint)
    ctx = make_context(settings)
    sha = ctx.storage.put(LINE)
    with ctx.sessions() as session, session.begin():
        token, secret = auth_queries.create_token(session, name="sam", role="submitter")
        queries.add_asset(
            session, sha256=sha, key=ctx.storage.key(sha), media_type="image/png", size=len(LINE)
        )
        batch = queries.create_batch(session, name="s3", manifest={})
        auth_queries.set_batch_owner(session, batch_id=batch.id, token_id=token.id)
        drawing = queries.create_drawing(session, batch_id=batch.id, name="baby.png", line_sha=sha)
    from fastapi.testclient import TestClient  # imported here so the warning filter applies

    try:
        with TestClient(create_app(ctx, start_worker=False)) as client:
            answer = client.get(
                f"/api/drawings/{drawing.id}/line",
                headers={"Authorization": f"Bearer {secret}"},
                follow_redirects=False,
            )
    finally:
        set_context(None)
        ctx.engine.dispose()
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert location.startswith(f"{s3_endpoint}/{s3_bucket}/tint/") and "X-Amz-Signature=" in location
    assert httpx.get(location).content == LINE
