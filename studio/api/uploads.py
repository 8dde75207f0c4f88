"""Batch submission from uploads: the manifest and the files it names land in a temporary folder, are read
by `workers.submit.read_manifest` exactly as `tint submit` reads them, every image is decoded once (so a
file that is not an image is refused before any job is made), and the batch is recorded with its owner
token in one transaction before its jobs are enqueued.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from pipeline.errors import BadManifest
from workers.context import Context
from workers.submit import submit_manifest

__all__ = ["MAX_FILE_BYTES", "MAX_FILES", "UploadTooLarge", "submit_uploads"]

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_FILES = 2000
_CHUNK = 1024 * 1024


class UploadTooLarge(BadManifest):
    """An uploaded file over the size limit."""


def _file_name(upload: UploadFile, *, what: str) -> str:
    name = upload.filename or ""
    if not name or PurePath(name).name != name or name.startswith(".") or "\\" in name:
        raise BadManifest(
            f"{what} {name!r} is not a plain file name; upload files under the names the manifest uses, "
            "with no folders."
        )
    return name


async def _save(upload: UploadFile, path: Path, *, max_bytes: int) -> None:
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadTooLarge(
                    f"file {path.name!r} is over the upload limit of {max_bytes // 2**20} MiB; "
                    "scale it down or split the batch."
                )
            out.write(chunk)


async def submit_uploads(
    ctx: Context,
    *,
    manifest: UploadFile,
    files: list[UploadFile],
    submitted_by: str,
    owner_token_id: int,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> int:
    """Record a batch from an uploaded manifest and the files it names; returns the batch id."""
    if len(files) > MAX_FILES:
        raise BadManifest(f"{len(files)} files uploaded; a batch takes at most {MAX_FILES}. Split it.")
    manifest_name = _file_name(manifest, what="manifest")
    if not manifest_name.lower().endswith((".yaml", ".yml", ".json")):
        raise BadManifest(f"manifest {manifest_name!r} must be a .yaml, .yml or .json file.")
    with tempfile.TemporaryDirectory(prefix="tint-upload-") as tmp:
        folder = Path(tmp)
        for upload in files:
            name = _file_name(upload, what="file")
            if name == manifest_name or (folder / name).exists():
                raise BadManifest(f"file {name!r} is uploaded twice; each name may appear once.")
            await _save(upload, folder / name, max_bytes=max_file_bytes)
        await _save(manifest, folder / manifest_name, max_bytes=max_file_bytes)
        return await run_in_threadpool(
            submit_manifest,
            ctx,
            folder / manifest_name,
            submitted_by=submitted_by,
            owner_token_id=owner_token_id,
            check_images=True,
        )
