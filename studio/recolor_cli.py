"""`tint recolor`: change chosen blocks, points or parts of a revision, or a part across a character's
drawings (`studio.part_recolor`); everything not edited stays exactly as it was. Registered on the main
`tint` app by `studio.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import BadInput
from studio import runner
from studio.runner import console, context, friendly

__all__ = ["recolor_app", "parse_pairs"]

recolor_app = typer.Typer()


def parse_pairs(values: list[str], *, what: str) -> dict[str, str]:
    """KEY=#RRGGBB options as a dict; one clear line for a malformed one."""
    pairs = {}
    for value in values:
        key, sep, color = value.partition("=")
        if not sep or not key.strip() or not color.strip():
            raise BadInput(f"{what} {value!r} is not KEY=#RRGGBB (for example 12=#aa3300).")
        pairs[key.strip()] = color.strip()
    return pairs


@recolor_app.command()
@friendly
def recolor(
    revision_id: Annotated[
        int | None, typer.Argument(help="The revision to recolor (or --batch with --character).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Folder for the new revision's images and result.json.")
    ] = None,
    set_: Annotated[
        list[str], typer.Option("--set", help="BLOCK_ID=#RRGGBB; repeat for several blocks.")
    ] = [],  # noqa: B006
    at: Annotated[list[str], typer.Option(help="X,Y=#RRGGBB: recolor the block under pixel (X, Y).")] = [],  # noqa: B006
    edit_image: Annotated[
        Path | None,
        typer.Option(help="blocks.png painted over: changed pixels pick the blocks and their new colors."),
    ] = None,
    part: Annotated[
        list[str], typer.Option(help="PART=#RRGGBB (hair, skin, eyes, top…): every region of that part.")
    ] = [],  # noqa: B006
    batch: Annotated[
        int | None, typer.Option(help="With --character and --part: every drawing of the character.")
    ] = None,
    character: Annotated[str | None, typer.Option(help="The character to recolor in --batch.")] = None,
) -> None:
    """Change the color of chosen blocks or parts; everything not edited stays exactly as it was."""
    from workers.submit import submit_recolor

    parts = parse_pairs(part, what="--part")
    if batch is not None or character is not None:
        from studio.part_recolor import recolor_character

        if revision_id is not None or set_ or at or edit_image is not None:
            raise BadInput(
                "--batch recolors by --part only; give no REVISION_ID, --set, --at or --edit-image."
            )
        if batch is None or character is None or not parts:
            raise BadInput("recolor a character with --batch B --character NAME --part PART=#RRGGBB.")
        recolor_character(context(), batch_id=batch, character=character, parts=parts, out=out)
        return
    if revision_id is None or out is None:
        raise BadInput("recolor needs a REVISION_ID and -o OUT (or --batch B --character NAME --part …).")
    edits = parse_pairs(set_, what="--set")
    points = []
    for key, color in parse_pairs(at, what="--at").items():
        x, sep, y = key.partition(",")
        if not sep or not x.strip().lstrip("-").isdigit() or not y.strip().lstrip("-").isdigit():
            raise BadInput(f"--at {key!r} is not X,Y with whole pixel coordinates.")
        points.append([int(x), int(y), color])
    if edit_image is not None and not edit_image.is_file():
        raise BadInput(f"edit image {str(edit_image)!r} does not exist.")
    if not edits and not points and edit_image is None and not parts:
        raise BadInput(
            "recolor needs at least one --set BLOCK_ID=#RRGGBB, --at X,Y=#RRGGBB, --part PART=#RRGGBB "
            "or --edit-image."
        )
    ctx = context()
    job_id = submit_recolor(
        ctx,
        revision_id=revision_id,
        edits=edits,
        at=points,
        edit_image=edit_image.read_bytes() if edit_image is not None else None,
        parts=parts,
    )
    (job,) = runner.wait_jobs(ctx, [job_id], label=f"recoloring revision {revision_id}")
    runner.raise_if_failed(job, what=f"recolor of revision {revision_id}")
    names = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}
    names["trace_lines"] = "trace_lines.png"  # only when the drawing has trace lines
    runner.write_assets(ctx, job.result["assets"], out, names)
    runner.write_json(
        out / "result.json",
        {"revision_id": job.revision_id, "parent_revision_id": revision_id, "job_id": job.id, **job.result},
    )
    loc = job.result.get("locality", {})
    for note in job.result.get("notes", []):
        console.print(f"note: {note}", highlight=False)
    console.print(
        f"revision {job.revision_id} (parent {revision_id}): unchanged outside edits "
        f"{loc.get('unchanged_outside', 1.0):.2%} → {out}/"
    )
