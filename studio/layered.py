"""Layered files of revisions (`tint export`, GET /api/revisions/{id}/export): find the revision, or each
drawing's latest colorize or recolor revision of a batch, read its images from storage, and hand them to
`pipeline.layered`, which writes the PSD or OpenRaster bytes.

A revision's `blocks` layer is computed the way `tint blockify --revision` computes it (its regions
filled with their mean color in `colored`), so it needs no blockify job. Its `trace lines` layer comes
from a `trace_lines` asset (RGBA, like `lines`) when the revision has one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

import pipeline
from db import queries
from db.models import Revision
from pipeline.errors import BadInput, NotFound
from pipeline.images import decode_image, decode_label_map
from pipeline.layered import Layer, encode_ora, encode_psd, revision_layers
from workers.context import Context

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "TRACE_LINES_ROLE",
    "Format",
    "RevisionImages",
    "ExportedBatch",
    "check_format",
    "file_name",
    "images_of",
    "read_revision",
    "layers_of",
    "layered_file",
    "export_revision",
    "export_batch",
]

Format = Literal["psd", "ora"]
FORMATS: tuple[str, ...] = ("psd", "ora")
MEDIA_TYPES = {"psd": "image/vnd.adobe.photoshop", "ora": "image/openraster"}
# The asset role a revision's trace lines (colored boundary lines, RGBA like `lines`) are stored under;
# a revision without it exports no `trace lines` layer.
TRACE_LINES_ROLE = "trace_lines"
_NEEDED = ("colored", "flats", "lines")
_ENCODERS: dict[str, Callable[[list[Layer]], bytes]] = {"psd": encode_psd, "ora": encode_ora}


@dataclass(frozen=True)
class RevisionImages:
    """What exporting one revision needs, copied out of the session: ids, its drawing's name, its assets."""

    revision_id: int
    drawing_id: int
    drawing: str
    assets: dict[str, str]


@dataclass
class ExportedBatch:
    """What `export_batch` wrote, and the drawings it could not export (no colored revision yet)."""

    batch_id: int
    written: list[Path] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"drawing_id", "drawing", "reason"}


def check_format(fmt: str) -> Format:
    """`fmt` lower-cased when it is a layered format Tint writes; BadInput naming the choices otherwise."""
    if fmt.lower() not in FORMATS:
        raise BadInput(f"format {fmt!r} is not a layered format Tint writes; use {' or '.join(FORMATS)}.")
    return fmt.lower()  # type: ignore[return-value]


def file_name(images: RevisionImages, fmt: Format) -> str:
    """`hero_front-r12.psd`: the drawing's file stem (safe characters only) and the revision id."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(images.drawing).stem).strip("._") or "drawing"
    return f"{stem}-r{images.revision_id}.{fmt}"


def images_of(revision: Revision) -> RevisionImages:
    """What exporting `revision` needs, read while its session is open; NotFound when it has no images."""
    missing = [role for role in _NEEDED if role not in revision.assets]
    if missing:
        raise NotFound(
            f"revision {revision.id} has no {', '.join(missing)} image, so it has no layers; "
            "export a colorize or recolor revision."
        )
    return RevisionImages(
        revision_id=revision.id,
        drawing_id=revision.drawing_id,
        drawing=revision.drawing.name,
        assets=dict(revision.assets),
    )


def read_revision(ctx: Context, revision_id: int) -> RevisionImages:
    """The revision's drawing name and assets; NotFound when it does not exist or has no images."""
    with ctx.sessions() as session:
        revision = queries.get_revision(session, revision_id)
        if revision is None:
            raise NotFound(f"revision {revision_id} does not exist; `tint history DRAWING` lists revisions.")
        return images_of(revision)


def layers_of(ctx: Context, images: RevisionImages) -> list[Layer]:
    """The revision's layers, top to bottom, its images read from storage (pixels exactly as stored)."""
    what = f"revision {images.revision_id}"

    def image(role: str) -> np.ndarray:
        data = ctx.storage.get(images.assets[role])
        return decode_image(data, name=f"{role} of {what}", max_pixels=ctx.settings.max_pixels)

    colored = image("colored")
    blocks = None
    if "regions" in images.assets:
        regions = decode_label_map(ctx.storage.get(images.assets["regions"]), name=f"regions of {what}")
        blocks = pipeline.blockify(pipeline.over_white(colored), regions=regions).blocks
    trace = image(TRACE_LINES_ROLE) if TRACE_LINES_ROLE in images.assets else None
    return revision_layers(
        lines=image("lines"), flats=image("flats"), colored=colored[..., :3], trace_lines=trace, blocks=blocks
    )


def layered_file(ctx: Context, images: RevisionImages, fmt: Format) -> bytes:
    """The revision as one layered file's bytes."""
    return _ENCODERS[fmt](layers_of(ctx, images))


def export_revision(ctx: Context, revision_id: int, *, fmt: Format, out: Path) -> Path:
    """Write revision `revision_id` as a layered file at `out` (its folder is made)."""
    data = layered_file(ctx, read_revision(ctx, revision_id), fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


def _batch_images(ctx: Context, batch_id: int, result: ExportedBatch) -> list[RevisionImages]:
    with ctx.sessions() as session:
        if queries.get_batch(session, batch_id, with_manifest=False) is None:
            raise NotFound(f"batch {batch_id} does not exist; `tint status` lists batches.")
        found = []
        for drawing, revision in queries.latest_colored_revisions(session, batch_id):
            if revision is None or any(role not in revision.assets for role in _NEEDED):
                result.skipped.append(
                    {"drawing_id": drawing.id, "drawing": drawing.name, "reason": "no colored revision yet"}
                )
                continue
            found.append(images_of(revision))
        return found


def export_batch(
    ctx: Context,
    batch_id: int,
    *,
    fmt: Format,
    out_dir: Path,
    on_start: Callable[[int], None] = lambda total: None,
    on_each: Callable[[Path], None] = lambda path: None,
) -> ExportedBatch:
    """One layered file per drawing of the batch, from its latest colorize or recolor revision, into
    `out_dir`; `on_start(total)` once, then `on_each(path)` after every file (a progress bar)."""
    result = ExportedBatch(batch_id=batch_id)
    todo = _batch_images(ctx, batch_id, result)
    on_start(len(todo))
    out_dir.mkdir(parents=True, exist_ok=True)
    for images in todo:
        path = out_dir / file_name(images, fmt)
        path.write_bytes(layered_file(ctx, images, fmt))
        result.written.append(path)
        on_each(path)
    return result
