"""The drawings the worker tests submit: an OpenMoji drawing as a DrawingSpec, and a job run in-process."""

from __future__ import annotations

from pathlib import Path

from bench.openmoji import find_item, true_prompt
from db.models import Job
from workers.context import Context
from workers.manifest import DrawingSpec

__all__ = ["BABY", "drawing_spec", "run_colorize_task"]

BABY = "1F476"  # a train drawing with 5 regions


def drawing_spec(
    data_dir: Path,
    name: str = BABY,
    *,
    line: bytes | None = None,
    payload: dict | None = None,
    kind: str = "points",
    reference: bytes | None = None,
) -> DrawingSpec:
    """Drawing `name` of the data set; by default its prompt hints every true region at its point."""
    item = find_item(data_dir, name)
    return DrawingSpec(
        name=f"{name}.png",
        character=item["annotation"],
        view="front",
        line=line if line is not None else (data_dir / item["split"] / f"{name}_line.png").read_bytes(),
        prompt_kind=kind,
        prompt_payload=true_prompt(item) if payload is None else payload,
        hint_image=None,
        reference=reference,
    )


def run_colorize_task(ctx: Context, job_id: int) -> Job:
    """Run the colorize task for `job_id` in this process (Celery's `apply`) and return the job, detached."""
    from workers import tasks

    tasks.colorize.apply(args=[job_id])
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job
