"""Celery tasks: thin wrappers that claim a job, call `pipeline`, store the outputs and record them.

The payload is only a job id. A redelivered message finds its job finished and does nothing; bad input
fails the job at once; transient faults retry with exponential backoff and fail the job when retries run
out, with the cause, so `tint retry` can bring it back.
"""

from __future__ import annotations

import json
import logging
import random
import time
import traceback
from collections.abc import Callable

import numpy as np

import pipeline
import workers.embedded  # noqa: F401  (worker signals: heartbeat, fresh connections after fork)
import workers.logs  # job, batch and drawing ids on every log record (signals; bound after the claim)
import workers.metrics  # noqa: F401  (Prometheus metrics from task signals)
from pipeline.errors import BadInput, Transient
from pipeline.hints import parse_color
from pipeline.images import decode_image, decode_label_map
from pipeline.part_maps import part_table, render_part_map
from workers import jobs, models
from workers.celery_app import app
from workers.context import Context, get_context
from workers.manifest import SHADED_REMOVED, check_style

__all__ = [
    "colorize",
    "blockify",
    "recolor",
    "parts",
    "reconcile",
    "execute",
    "run_here",
    "backoff_s",
    "BODIES",
]

log = logging.getLogger("tint.tasks")
MIN_SIDE = 8


def backoff_s(retries: int) -> float:
    """Seconds before retry number `retries` + 1: exponential from 0.5 s, capped at 60 s, with jitter so
    workers that failed together do not retry together."""
    return min(60.0, 0.5 * 2**retries) * random.uniform(0.5, 1.0)


def execute(ctx: Context, job_id: int, *, worker: str, retries: int, max_retries: int) -> None:
    """Claim the job and run its kind's body: the one path every job takes, on a worker or in a command.

    Bad input fails the job at once; a bug fails it with its cause; a transient fault is raised for the
    caller to retry later, or fails the job once `retries` reached `max_retries`. A job already finished
    is left alone.
    """
    job = None
    try:
        job = jobs.start(ctx, job_id, worker=worker)
        if job is None:
            log.info("job %s already finished, cancelled or claimed; nothing to do", job_id)
            return
        workers.logs.bind(batch_id=job.batch_id, drawing_id=job.drawing_id, kind=job.kind)
        BODIES[job.kind](ctx, job)
    except BadInput as exc:
        message = str(exc)
        if job is not None and job.drawing_name and job.drawing_name not in message:
            message = f"{job.drawing_name!r}: {message}"  # every error names its input
        log.info("job %s failed on bad input: %s", job_id, message)
        jobs.fail(ctx, job_id, message)
    except Transient as exc:
        if retries >= max_retries:
            jobs.fail(ctx, job_id, f"gave up after {max_retries} retries: {exc}")
            return
        raise
    except Exception as exc:  # a bug must fail its own job, never the worker or the batch
        log.error("job %s crashed:\n%s", job_id, traceback.format_exc())
        jobs.fail(ctx, job_id, f"internal error ({type(exc).__name__}: {exc}); report it with the job id")


def run_here(ctx: Context, job_id: int, *, worker: str, max_retries: int | None = None) -> None:
    """Run a job in this process through `execute`, retrying transient faults with the task's backoff
    (`max_retries` times; default the setting)."""
    max_retries = ctx.settings.max_retries if max_retries is None else max_retries
    for retries in range(max_retries + 1):
        try:
            execute(ctx, job_id, worker=worker, retries=retries, max_retries=max_retries)
            return
        except Transient as exc:
            delay = backoff_s(retries)
            log.warning("job %s hit a transient fault (%s); retry in %.1fs", job_id, exc, delay)
            time.sleep(delay)


def _run(task, job_id: int) -> None:
    """A Celery task's body: `execute`, with transient faults retried through Celery."""
    ctx = get_context()
    retries, max_retries = task.request.retries, ctx.settings.max_retries
    try:
        execute(
            ctx,
            job_id,
            worker=task.request.hostname or "in-process",
            retries=retries,
            max_retries=max_retries,
        )
    except Transient as exc:
        countdown = backoff_s(retries)
        log.warning("job %s hit a transient fault (%s); retry in %.1fs", job_id, exc, countdown)
        raise task.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc


def _timed(timings: dict[str, float], stage: str, fn: Callable, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[stage] = round(timings.get(stage, 0.0) + (time.perf_counter() - t0) * 1000, 2)
    return out


def _read_drawing(ctx: Context, sha: str, *, name: str, timings: dict[str, float]) -> np.ndarray:
    data = _timed(timings, "fetch", ctx.storage.get, sha)
    image = _timed(timings, "decode", decode_image, data, name=name, max_pixels=ctx.settings.max_pixels)
    if min(image.shape[:2]) < MIN_SIDE:
        height, width = image.shape[:2]
        raise BadInput(
            f"{name!r} is {width}x{height} pixels, too small; drawings need at least {MIN_SIDE} px a side."
        )
    return image


def _region_map(regions: np.ndarray) -> np.ndarray:
    if regions.max(initial=0) > 65535:
        raise BadInput(f"drawing has {int(regions.max())} regions; at most 65535 fit a 16-bit label map.")
    return regions.astype(np.uint16)


def _colorize_options(ctx: Context) -> dict:
    """The settings and model hook every colorize and recolor passes to `pipeline`. Unhinted regions are
    filled by the region colorizer (NumPy: colorize never imports torch), loaded on the hook's first call."""
    return {
        "gap_px": ctx.settings.gap_px,
        "min_area": ctx.settings.min_area,
        "fill_unhinted": lambda *args: models.regionfill().fill_unhinted(*args),
    }


def _model_versions() -> dict:
    """What a colorize or recolor revision records of the models: the region colorizer that fills unhinted
    regions, and the style (always flat)."""
    return {"colorizer": models.fill_version(), "style": "flat"}


def _style_notes(params: dict) -> list[str]:
    """What a colorize job says of its style. A job recorded before the shaded style was removed (a rerun or
    retry of one) runs flat and says so, rather than failing forever."""
    style = params.get("style", "flat")
    if style == "shaded":
        return [f"{SHADED_REMOVED}; this job ran flat."]
    check_style(style, where="job")
    return []


def _store_result(
    ctx: Context, result, *, timings: dict[str, float], stored_already: frozenset[str] = frozenset()
) -> jobs.Stored:
    """Write a colorize result's four images; bytes already stored (a parent's) are not written again."""
    arrays = {
        "colored": result.colored,
        "flats": result.flats_rgba(),
        "lines": result.lines,
        "regions": _region_map(result.regions),
    }
    return jobs.store_arrays(ctx, arrays, timings=timings, stored_already=stored_already)


def _summary(result, stored: jobs.Stored, timings: dict[str, float]) -> dict:
    return {
        "timings": timings,
        "region_count": int(result.regions.max(initial=0)),
        "gaps": result.gaps_json(),
        "proof": result.proof,
        "conflicts": result.conflicts,
        "assets": stored.shas,
    }


def run_colorize(ctx: Context, job: jobs.JobInputs) -> None:
    """Colorize the job's drawing with its prompt and record a revision."""
    timings: dict[str, float] = {}
    notes = _style_notes(job.params)
    drawing = _read_drawing(ctx, job.line_sha, name=job.drawing_name, timings=timings)
    hint_image = reference = None
    if job.hint_sha:
        hint_image = _read_drawing(
            ctx, job.hint_sha, name=f"hint image of {job.drawing_name!r}", timings=timings
        )
    if job.prompt_payload.get("reference"):
        sha = job.prompt_payload["reference"]["asset"]
        reference = pipeline.over_white(_read_drawing(ctx, sha, name="reference picture", timings=timings))
    prompt = _timed(
        timings,
        "prompt",
        pipeline.prompt_to_hints,
        drawing,
        job.prompt_payload,
        hint_image=hint_image,
        reference=reference,
        part_map=lambda image: models.parts().part_map(image),
        gap_px=ctx.settings.gap_px,
        min_area=ctx.settings.min_area,
        name=job.drawing_name,
    )
    timings.update(prompt.timings)
    result = pipeline.colorize(
        drawing,
        prompt.hints,
        found=prompt.found,
        regions=prompt.regions,
        **_colorize_options(ctx),
    )
    timings.update(result.timings)
    stored = _store_result(ctx, result, timings=timings)
    revision = {
        "drawing_id": job.drawing_id,
        "prompt_id": job.prompt_id,
        "parent_revision_id": None,
        "kind": "colorize",
        "assets": stored.shas,
        "inputs": {"line": job.line_sha, "hint_image": job.hint_sha, "prompt_id": job.prompt_id},
        "model_versions": _model_versions(),
        "proof": {**result.proof, "gaps": result.gaps_json()},
        "flagged": result.proof.get("hint_adherence", 1.0) < 1.0,
    }
    summary = {**_summary(result, stored, timings), **_json_safe(prompt.report)}
    if notes:
        summary["notes"] = notes
    jobs.finish(ctx, job.id, stored=stored, result=summary, revision=revision)


def run_blockify(ctx: Context, job: jobs.JobInputs) -> None:
    """Split a colored image (or a revision, following its regions) into flat color blocks."""
    timings: dict[str, float] = {}
    regions = None
    if job.params.get("revision_id") is not None:
        revision, _ = jobs.load_revision(ctx, int(job.params["revision_id"]))
        colored = _read_drawing(
            ctx, revision.assets["colored"], name=f"revision {revision.id}", timings=timings
        )
        regions = decode_label_map(
            ctx.storage.get(revision.assets["regions"]), name=f"regions of {revision.id}"
        )
    else:
        colored = _read_drawing(
            ctx, job.params["image_sha"], name=job.params.get("name", "image"), timings=timings
        )
    model = None if regions is not None else models.partition()
    result = _timed(
        timings, "blockify", pipeline.blockify, pipeline.over_white(colored), regions=regions, model=model
    )
    stored = jobs.store_arrays(
        ctx, {"blocks": result.blocks, "block_labels": _region_map(result.labels)}, timings=timings
    )
    table = pipeline.block_table_json(result.table)
    jobs.store_json(ctx, stored, "blocks_json", json.dumps(table, sort_keys=True).encode())
    summary = {
        "timings": timings,
        "block_count": len(table),
        "assets": stored.shas,
        "model_versions": {"partition": model.version if model is not None else "revision-regions"},
    }
    jobs.finish(ctx, job.id, stored=stored, result=summary)


def _json_safe(value: object) -> dict:
    """`value` with dict keys as strings and numpy numbers as Python numbers (for JSON columns)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def _parse_edits(params: dict) -> tuple[dict[int, tuple[int, int, int]], list[tuple[int, int, tuple]]]:
    try:
        by_id = {int(k): parse_color(v) for k, v in (params.get("edits") or {}).items()}
        at = [(int(x), int(y), parse_color(c)) for x, y, c in (params.get("at") or [])]
    except (TypeError, ValueError) as exc:
        raise BadInput(f"recolor edits are malformed ({exc}); use BLOCK_ID=#RRGGBB or X,Y=#RRGGBB.") from exc
    return by_id, at


def run_recolor(ctx: Context, job: jobs.JobInputs) -> None:
    """Recolor chosen blocks of a revision: target prompt from its blocks, colorize again, check locality."""
    timings: dict[str, float] = {}
    parent, drawing_row = jobs.load_revision(ctx, job.parent_revision_id)
    drawing = _read_drawing(ctx, drawing_row.line_sha, name=drawing_row.name, timings=timings)
    colored = pipeline.over_white(
        _read_drawing(ctx, parent.assets["colored"], name=f"revision {parent.id}", timings=timings)
    )
    regions = decode_label_map(
        ctx.storage.get(parent.assets["regions"]), name=f"regions of revision {parent.id}"
    )
    by_id, at = _parse_edits(job.params)
    edit_image = None
    if job.params.get("edit_image_sha"):
        edit_image = _read_drawing(ctx, job.params["edit_image_sha"], name="edit image", timings=timings)
    # the parent's own region map: it may refine the drawing's (a reference prompt splits regions);
    # its line layer and region map come out byte for byte the same, so they are not written again
    recolored = pipeline.recolor(
        drawing,
        colored=colored,
        regions=regions,
        by_id=by_id,
        at=at,
        edit_image=edit_image,
        **_colorize_options(ctx),
    )
    result, edits, target, locality = recolored.result, recolored.edits, recolored.target, recolored.locality
    timings.update(recolored.timings)
    stored = _store_result(ctx, result, timings=timings, stored_already=frozenset(parent.assets.values()))
    proof = {**result.proof, "locality": locality, "gaps": result.gaps_json()}
    edits_json = {str(k): pipeline.format_color(v) for k, v in sorted(edits.items())}
    revision = {
        "drawing_id": drawing_row.id,
        "parent_revision_id": parent.id,
        "kind": "recolor",
        "edits": edits_json,
        "assets": stored.shas,
        "inputs": {
            "line": drawing_row.line_sha,
            "parent_colored": parent.assets["colored"],
            "parent_regions": parent.assets["regions"],
        },
        "model_versions": _model_versions(),
        "proof": proof,
        "flagged": result.proof.get("hint_adherence", 1.0) < 1.0
        or locality.get("unchanged_outside", 1.0) < 1.0,
    }
    new_prompt = {
        "drawing_id": drawing_row.id,
        "kind": "target",
        "payload": target,
        "parent_prompt_id": parent.prompt_id,
    }
    summary = {**_summary(result, stored, timings), "edits": edits_json, "locality": locality}
    jobs.finish(ctx, job.id, stored=stored, result=summary, revision=revision, new_prompt=new_prompt)


def run_parts(ctx: Context, job: jobs.JobInputs) -> None:
    """Segment a line drawing into parts: the part map (8-bit part indices), pictures of it by pixel and
    by region, and the table of which regions are which part."""
    timings: dict[str, float] = {}
    name = job.params.get("name") or "line drawing"
    drawing = _read_drawing(ctx, job.params["line_sha"], name=name, timings=timings)
    found = pipeline.find_lines_and_regions(
        drawing, gap_px=ctx.settings.gap_px, min_area=ctx.settings.min_area, timings=timings
    )
    model = models.parts()
    part_map = _timed(timings, "parts", model.part_map, drawing)
    arrays = {
        "part_map": part_map,
        "parts": render_part_map(part_map, regions=found.regions),
        "parts_pixels": render_part_map(part_map),
    }
    stored = jobs.store_arrays(ctx, arrays, timings=timings)
    rows = part_table(found.regions, part_map)
    jobs.store_json(ctx, stored, "parts_json", json.dumps({"parts": rows}, sort_keys=True).encode())
    summary = {
        "timings": timings,
        "parts": rows,
        "assets": stored.shas,
        "model_versions": {"parts": model.version},
    }
    jobs.finish(ctx, job.id, stored=stored, result=summary)


BODIES: dict[str, Callable[[Context, jobs.JobInputs], None]] = {
    "colorize": run_colorize,
    "blockify": run_blockify,
    "recolor": run_recolor,
    "parts": run_parts,
}


@app.task(name="tint.colorize", bind=True)
def colorize(self, job_id: int) -> None:
    """Colorize one drawing (job id only in the message)."""
    _run(self, job_id)


@app.task(name="tint.blockify", bind=True)
def blockify(self, job_id: int) -> None:
    """Blockify one colored image or revision."""
    _run(self, job_id)


@app.task(name="tint.recolor", bind=True)
def recolor(self, job_id: int) -> None:
    """Make a recolored revision from a revision and block edits."""
    _run(self, job_id)


@app.task(name="tint.parts", bind=True)
def parts(self, job_id: int) -> None:
    """Segment one line drawing into parts."""
    _run(self, job_id)


@app.task(name="tint.reconcile", bind=True)
def reconcile(self) -> int:
    """Re-enqueue jobs left queued or running past their deadline."""
    from workers.submit import reconcile as reconcile_jobs

    return reconcile_jobs(get_context())
