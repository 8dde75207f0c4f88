"""GET /api/revisions/{id}/export: the layered file download the review page links to, read back (PSD with
psd-tools, OpenRaster as zip + XML) against the revision's own images served by the API."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from api_server import Api, manifest_files, wait_jobs
from psd_tools import PSDImage

from pipeline.images import decode_image


@pytest.fixture(scope="module")
def revision(api: Api) -> int:
    """The colorize revision of the baby sample, submitted by submitter 'sam'."""
    with api.client("sam") as sam:
        made = sam.post("/api/batches", files=manifest_files("baby"))
        assert made.status_code == 201, made.text
        (job,) = wait_jobs(sam, batch=made.json()["id"])
        assert job["state"] == "done", job
        return job["revision_id"]


def _asset(client, revision_id: int, role: str) -> np.ndarray:
    answer = client.get(f"/api/revisions/{revision_id}/assets/{role}")
    assert answer.status_code == 200, answer.text
    return decode_image(answer.content)


def test_psd_download_holds_the_revisions_images(api: Api, revision: int) -> None:
    with api.client("sam") as sam:
        answer = sam.get(f"/api/revisions/{revision}/export", params={"format": "psd"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/vnd.adobe.photoshop"
        disposition = answer.headers["content-disposition"]
        assert disposition == f'attachment; filename="baby_line-r{revision}.psd"'
        psd = PSDImage.open(io.BytesIO(answer.content))
        layers = {layer.name: layer for layer in psd}
        for role in ("lines", "flats", "colored"):
            want = _asset(sam, revision, role)
            assert np.array_equal(np.asarray(layers[role].topil()), want), role
    assert [layer.name for layer in psd][::-1] == ["lines", "flats", "colored", "blocks"]


def test_ora_download_holds_the_revisions_images(api: Api, revision: int) -> None:
    with api.client("lea") as lea:
        answer = lea.get(f"/api/revisions/{revision}/export", params={"format": "ora"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/openraster"
        assert answer.headers["content-disposition"].endswith(f'filename="baby_line-r{revision}.ora"')
        with zipfile.ZipFile(io.BytesIO(answer.content)) as ora:
            assert ora.namelist()[0] == "mimetype"
            stack = ET.fromstring(ora.read("stack.xml")).find("stack")
            for layer in stack.findall("layer")[:2]:
                pixels = decode_image(ora.read(layer.get("src")))
                assert np.array_equal(pixels, _asset(lea, revision, layer.get("name"))), layer.get("name")


def test_export_answers_404_403_and_422_with_a_sentence(api: Api, revision: int) -> None:
    with api.client("sam") as sam:
        missing = sam.get("/api/revisions/999999/export")
        assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
        bad = sam.get(f"/api/revisions/{revision}/export", params={"format": "tiff"})
        assert bad.status_code == 422
    with api.client("sue") as sue:  # another submitter: not her batch
        refused = sue.get(f"/api/revisions/{revision}/export")
        assert refused.status_code == 403 and "did not submit" in refused.json()["detail"]
    with api.client(None) as nobody:
        assert nobody.get(f"/api/revisions/{revision}/export").status_code == 401
