"""`tint recolor --batch B --character NAME --part hair=#…`: a part recolored across a character's drawings.

Queues the jobs (`workers.character_recolor`), follows them like every file command, prints one row per
drawing (its parent revision, the new revision, the locality proof or the job's error), and with `-o`
writes each new revision's images and result.json under a folder per drawing.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from studio import runner
from studio.runner import JobFailed, console
from workers.character_recolor import submit_character_recolor
from workers.context import Context

__all__ = ["IMAGES", "recolor_character"]

IMAGES = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}


def recolor_character(
    ctx: Context, *, batch_id: int, character: str, parts: dict[str, str], out: Path | None
) -> None:
    """Recolor `parts` in every colored drawing of `character` in the batch; JobFailed when any failed."""
    queued = submit_character_recolor(ctx, batch_id=batch_id, character=character, parts=parts)
    finished = runner.wait_jobs(
        ctx, [job_id for *_, job_id in queued.jobs], label=f"recoloring {character} in batch {batch_id}"
    )
    table = Table("drawing", "parent", "revision", "unchanged outside", "note", title=f"{character}: {parts}")
    failed = 0
    for (drawing_id, name, parent_id, _), job in zip(queued.jobs, finished, strict=True):
        if job.state != "done":
            failed += 1
            table.add_row(name, str(parent_id), "—", "—", f"[red]job {job.id} {job.state}: {job.error}[/red]")
            continue
        loc = job.result.get("locality", {})
        notes = "; ".join(job.result.get("notes", []))
        table.add_row(
            name, str(parent_id), str(job.revision_id), f"{loc.get('unchanged_outside', 1.0):.2%}", notes
        )
        if out is not None:
            folder = out / f"{drawing_id}-{Path(name).stem}"
            runner.write_assets(ctx, job.result["assets"], folder, IMAGES)
            result = {"revision_id": job.revision_id, "parent_revision_id": parent_id, "job_id": job.id}
            runner.write_json(folder / "result.json", {**result, **job.result})
    console.print(table)
    for drawing_id, name in queued.uncolored:
        console.print(f"not colored yet, skipped: {name} (drawing {drawing_id})", highlight=False)
    done = len(finished) - failed
    console.print(
        f"{done} new revision(s) of {character}; `tint report {batch_id}` checks the colors"
        + (f" → {out}/" if out is not None and done else ""),
        highlight=False,
    )
    if failed:
        raise JobFailed(
            f"{failed} of {len(finished)} recolors of {character!r} failed (see the table above)."
        )
