"""`tint propagate`: a character's approved drawings color its other drawings of the batch, as jobs
(`workers.propagate`). Registered on the main `tint` app by `studio.cli`."""

from __future__ import annotations

from typing import Annotated

import typer

from studio import runner
from studio.runner import console, context, friendly

__all__ = ["propagate_app"]

propagate_app = typer.Typer()


@propagate_app.command()
@friendly
def propagate(
    batch: Annotated[int, typer.Argument(help="The batch (its id, as `tint submit` printed).")],
    character: Annotated[str, typer.Option(help="The character whose approved drawings color the rest.")],
    wait: Annotated[
        bool, typer.Option(help="Follow the jobs to the end (--no-wait: queue and return).")
    ] = True,
) -> None:
    """Color every drawing of a character not approved yet from its approved drawings; each becomes a new
    revision whose parent is the drawing's latest. Each drawing's own hints still win."""
    from workers.propagate import submit_propagate

    ctx = context()
    done = submit_propagate(ctx, batch_id=batch, character=character)
    refs = ", ".join(map(str, done.references))
    if not done.jobs:
        console.print(
            f"{character}: nothing to do (every drawing approved, or this propagation was queued already)."
        )
        return
    console.print(
        f"{character}: {len(done.jobs)} drawing(s) queued, colored from approved revision(s) {refs}"
    )
    if not wait:
        return
    finished = runner.wait_jobs(ctx, list(done.jobs), label=f"propagating {character}")
    failed = 0
    for job in finished:
        if job.state != "done":
            failed += 1
            console.print(
                f"  drawing {job.drawing_id}: job {job.id} {job.state}: {job.error}", highlight=False
            )
            continue
        flagged = job.result.get("reference_flagged") or []
        note = f", {len(flagged)} region(s) flagged for review" if flagged else ""
        console.print(f"  drawing {job.drawing_id}: revision {job.revision_id}{note}", highlight=False)
    if failed:
        raise typer.Exit(1)
