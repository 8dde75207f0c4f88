"""Job bodies: what each kind of job does once claimed. Load its inputs by content hash, call `pipeline`,
store the outputs content-addressed and record the revision with the job's `done` (`workers.jobs`).

`BODIES` maps a job kind to its body; `workers.tasks.execute` runs it inside the one claim / fail / retry
path every job takes, so a body only raises: BadInput for bad input, Transient for faults worth a retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np

import pipeline
from pipeline.errors import BadInput
from pipeline.hints import parse_color
from pipeline.images import decode_image, decode_label_map
from pipeline.part_blocks import blockify_by_parts, part_block_table_json
from pipeline.part_maps import part_table, render_part_map
from pipeline.trace_lines import rules_json
from workers import jobs, models
from workers.context import Context
from workers.manifest import SHADED_REMOVED, check_style

__all__ = ["BODIES", "run_colorize", "run_blockify", "run_recolor", "run_parts"]

MIN_SIDE = 8


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
    """Write a colorize result's images (four, and its trace lines when it has any); bytes already stored
    (a parent's) are not written again."""
    arrays = {
        "colored": result.colored,
        "flats": result.flats_rgba(),
        "lines": result.lines,
        "regions": _region_map(result.regions),
    }
    if result.trace_layer is not None:  # the trace lines as drawn: a layered file's "trace lines" layer
        arrays["trace_lines"] = result.trace_layer
    return jobs.store_arrays(ctx, arrays, timings=timings, stored_already=stored_already)


def _summary(result, stored: jobs.Stored, timings: dict[str, float]) -> dict:
    return {
        "timings": timings,
        "region_count": int(result.regions.max(initial=0)),
        "gaps": result.gaps_json(),
        "trace_lines": result.trace_json(),
        "proof": result.proof,
        "conflicts": result.conflicts,
        "assets": stored.shas,
    }


def _reference_flags(report: dict) -> dict:
    """{"reference_flagged": [region ids]} when a reference colored the drawing, else {}."""
    return {"reference_flagged": report["reference_flagged"]} if "reference_flagged" in report else {}


def run_colorize(ctx: Context, job: jobs.JobInputs) -> None:
    """Colorize the job's drawing with its prompt and record a revision."""
    timings: dict[str, float] = {}
    notes = _style_notes(job.params)
    drawing = _read_drawing(ctx, job.line_sha, name=job.drawing_name, timings=timings)
    hint_image = reference = None
    pictures: list[dict] = []
    if job.hint_sha:
        hint_image = _read_drawing(
            ctx, job.hint_sha, name=f"hint image of {job.drawing_name!r}", timings=timings
        )
    if job.prompt_payload.get("reference"):
        given = job.prompt_payload["reference"]  # {"asset": sha}, or {"assets": [sha, ...]} for a model sheet
        shas = given.get("assets") or [given["asset"]]
        made_by = given.get("revisions") or [None] * len(shas)  # a propagation names approved revisions
        pictures = [{"asset": sha, "revision": rev} for sha, rev in zip(shas, made_by, strict=True)]
        reference = [
            pipeline.over_white(_read_drawing(ctx, sha, name=f"reference picture {i + 1}", timings=timings))
            for i, sha in enumerate(shas)
        ]
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
        "parent_revision_id": job.parent_revision_id,  # set when a propagation recolors a drawing
        "kind": "colorize",
        "assets": stored.shas,
        "inputs": {
            "line": job.line_sha,
            "hint_image": job.hint_sha,
            "prompt_id": job.prompt_id,
            "trace_lines": rules_json(result.trace_rules),  # what a recolor refills trace lines by
        },
        "model_versions": _model_versions(),
        # the regions a reference matched unsurely, for the review page to mark
        "proof": {**result.proof, "gaps": result.gaps_json(), **_reference_flags(prompt.report)},
        "flagged": result.proof.get("hint_adherence", 1.0) < 1.0
        or result.proof.get("trace_filled_by_rule", 1.0) < 1.0
        or bool(prompt.report.get("reference_flagged")),
    }
    summary = {**_summary(result, stored, timings), **_json_safe(prompt.report)}
    if pictures:  # what each match's "picture" indexes
        summary["reference_pictures"] = pictures
    if notes:
        summary["notes"] = notes
    jobs.finish(ctx, job.id, stored=stored, result=summary, revision=revision)


def run_blockify(ctx: Context, job: jobs.JobInputs) -> None:
    """Split a colored image (or a revision, following its regions) into flat color blocks."""
    timings: dict[str, float] = {}
    regions = None
    by_parts = job.params.get("by") == "parts"  # one block per part (submit_blockify asks for a revision)
    if job.params.get("revision_id") is not None:
        revision, drawing_row = jobs.load_revision(ctx, int(job.params["revision_id"]))
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
    if by_parts:
        drawing = _read_drawing(ctx, drawing_row.line_sha, name=drawing_row.name, timings=timings)
        model = models.parts()
        part_map = _timed(timings, "parts", model.part_map, drawing)
        found = _timed(
            timings,
            "blockify",
            blockify_by_parts,
            pipeline.over_white(colored),
            regions=regions,
            part_map=part_map,
        )
        result, table, versions = found.result, part_block_table_json(found), {"parts": model.version}
    else:
        model = None if regions is not None else models.partition()
        result = _timed(
            timings, "blockify", pipeline.blockify, pipeline.over_white(colored), regions=regions, model=model
        )
        table = pipeline.block_table_json(result.table)
        versions = {"partition": model.version if model is not None else "revision-regions"}
    stored = jobs.store_arrays(
        ctx, {"blocks": result.blocks, "block_labels": _region_map(result.labels)}, timings=timings
    )
    jobs.store_json(ctx, stored, "blocks_json", json.dumps(table, sort_keys=True).encode())
    summary = {
        "timings": timings,
        "block_count": len(table),
        "by": "parts" if by_parts else "blocks",
        "assets": stored.shas,
        "model_versions": versions,
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
    parts, part_map, versions = job.params.get("parts") or None, None, _model_versions()
    if parts:  # recolor by part name: the drawing's part map picks the part's regions
        model = models.parts()
        part_map = _timed(timings, "parts", model.part_map, drawing)
        versions["parts"] = model.version
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
        parts=parts,
        part_map=part_map,
        trace_lines=(parent.inputs or {}).get("trace_lines"),
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
            "trace_lines": rules_json(result.trace_rules),
            **({"parts": parts} if parts else {}),
        },
        "model_versions": versions,
        "proof": proof,
        "flagged": result.proof.get("hint_adherence", 1.0) < 1.0
        or result.proof.get("trace_filled_by_rule", 1.0) < 1.0
        or locality.get("unchanged_outside", 1.0) < 1.0,
    }
    new_prompt = {
        "drawing_id": drawing_row.id,
        "kind": "target",
        "payload": target,
        "parent_prompt_id": parent.prompt_id,
    }
    summary = {**_summary(result, stored, timings), "edits": edits_json, "locality": locality}
    if recolored.parts is not None:
        summary["parts"] = _json_safe(recolored.parts)
        if recolored.parts["missing"]:
            summary["notes"] = [
                f"no region of {drawing_row.name!r} is predicted as {', '.join(recolored.parts['missing'])}; "
                "left as it was"
            ]
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
