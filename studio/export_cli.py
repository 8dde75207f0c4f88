"""`tint export`: a revision, or each drawing of a batch, as a layered file (PSD or OpenRaster) a colorist
opens; the files are written by `studio.layered`. Registered on the main `tint` app by `studio.cli`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.errors import BadInput
from studio.runner import console, context, err_console, friendly

__all__ = ["export_app"]

export_app = typer.Typer()


class LayeredFormat(StrEnum):
    """The layered formats `tint export` writes."""

    psd = "psd"
    ora = "ora"


def _format_for(out: Path, given: LayeredFormat | None, *, batch: bool) -> str:
    """The format: as given, else from the file's suffix, else PSD; a file suffix naming the other one is
    refused rather than written under a misleading name."""
    suffix = out.suffix.lower().lstrip(".")
    if batch:
        return (given or LayeredFormat.psd).value
    if given is None:
        return suffix if suffix in ("psd", "ora") else "psd"
    if suffix in ("psd", "ora") and suffix != given.value:
        raise BadInput(f"-o {str(out)!r} ends in .{suffix} but --format is {given.value}; make them agree.")
    return given.value


@export_app.command()
@friendly
def export(
    revision: Annotated[int | None, typer.Argument(help="The revision to export (`tint history`).")] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="The file to write; with --batch, a folder.")
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Export each drawing's latest revision of this batch instead.")
    ] = None,
    format_: Annotated[
        LayeredFormat | None,
        typer.Option("--format", "-f", help="psd or ora (default: from -o's suffix, else psd)."),
    ] = None,
) -> None:
    """Write layered files: lines on top, flats below (transparent outside), colored and blocks hidden."""
    from studio.layered import export_batch, export_revision

    if (revision is None) == (batch is None):
        raise BadInput("give either a REVISION id or --batch ID.")
    if out is None:
        raise BadInput("give -o FILE (one revision) or -o FOLDER (--batch) to write to.")
    fmt = _format_for(out, format_, batch=batch is not None)
    ctx = context()
    if revision is not None:
        path = export_revision(ctx, revision, fmt=fmt, out=out)
        console.print(f"revision {revision} → {path}", highlight=False)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    bar = Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)
    with bar as progress:
        task = progress.add_task(f"exporting batch {batch}", total=None)
        result = export_batch(
            ctx,
            batch,
            fmt=fmt,
            out_dir=out,
            on_start=lambda total: progress.update(task, total=total),
            on_each=lambda _: progress.advance(task),
        )
    for skipped in result.skipped:
        console.print(f"skipped {skipped['drawing']} (drawing {skipped['drawing_id']}): {skipped['reason']}")
    console.print(f"{len(result.written)} {fmt.upper()} file(s) → {out}/", highlight=False)
