"""recolor: block edits -> a target prompt that reproduces a revision with only the edited blocks changed.

`recolor` is the whole job on arrays (blocks by the parent's regions, edits, target prompt, colorize
again, locality proof); the worker, the tests and bench/recolor.py all call it. The pieces below it are
public for the API, which checks edits before it queues a job.

DESIGN.md recolor step 2: every block is sampled at its center and its boundary ring, the two means are
averaged into one hint at the block's representative point, and edits override. Colorizing the same
drawing with that prompt gives the same regions, every region hinted, so unedited blocks keep their
colors pixel for pixel and edited blocks get exactly the requested color. Trace lines are filled again by
their rules (the parent's `trace_lines`, kept in the target prompt) from the new colors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from pipeline.blockify import BlockifyResult, blockify, inner_distance, label_means
from pipeline.color import Color, delta_e2000, rgb_to_lab
from pipeline.colorize import ColorizeResult, UnhintedFill, colorize
from pipeline.errors import BadInput, HintOutOfBounds, UnknownBlock
from pipeline.hints import check_overlay, format_color, hints_from_json
from pipeline.part_edits import part_edits
from pipeline.trace_lines import rules_json, trace_rules

__all__ = [
    "RecolorResult",
    "recolor",
    "check_edits",
    "collect_edits",
    "edits_at_points",
    "edits_from_image",
    "recolor_locality",
    "target_prompt",
]


def edits_at_points(at: list[tuple[int, int, Color]], *, labels: np.ndarray) -> dict[int, Color]:
    """Turn point edits (x, y, color) into block edits {block id: color}; later points win."""
    height, width = labels.shape
    edits: dict[int, Color] = {}
    for x, y, color in at:
        if not (0 <= int(x) < width and 0 <= int(y) < height):
            raise HintOutOfBounds(
                f"edit at ({x}, {y}) is outside the revision ({width}x{height}); "
                "edits use pixel coordinates from the top left."
            )
        edits[int(labels[int(y), int(x)])] = tuple(int(v) for v in color)
    return edits


def edits_from_image(
    edit_image: np.ndarray, *, blocks: BlockifyResult, min_pixels: int = 1
) -> dict[int, Color]:
    """Block edits from an edit image: the block image with some blocks painted over.

    edit_image (H, W, 3|4) uint8 of the block image's size; transparent pixels (alpha 0) carry nothing.
    A block is edited when at least `min_pixels` of its pixels differ from the block image; its new color
    is the most common of those changed colors (ties: the lowest packed RGB value).
    """
    height, width = blocks.labels.shape
    image = check_overlay(
        edit_image,
        width=width,
        height=height,
        what="edit image",
        under="the block image",
        fix="paint over this revision's blocks.png at its own size",
    )
    changed = (image[..., :3] != blocks.blocks).any(axis=2)
    if image.shape[2] == 4:
        changed &= image[..., 3] > 0
    if not changed.any():
        return {}
    ids = blocks.labels[changed].astype(np.int64)
    rgb = image[..., :3][changed].astype(np.int64)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    keys, counts = np.unique(ids * (1 << 24) + packed, return_counts=True)
    key_ids, key_colors = keys >> 24, keys & 0xFFFFFF
    edits: dict[int, Color] = {}
    per_block = np.bincount(ids)
    # keys are sorted by (id, color): the first maximum per id is the most common, lowest color
    order = np.lexsort((key_colors, -counts, key_ids))
    seen: set[int] = set()
    for k in order:
        bid = int(key_ids[k])
        if bid in seen or per_block[bid] < min_pixels:
            continue
        seen.add(bid)
        c = int(key_colors[k])
        edits[bid] = ((c >> 16) & 255, (c >> 8) & 255, c & 255)
    return edits


def collect_edits(
    *,
    blocks: BlockifyResult,
    by_id: dict[int, Color] | None = None,
    at: list[tuple[int, int, Color]] | None = None,
    edit_image: np.ndarray | None = None,
) -> dict[int, Color]:
    """All of a recolor's edits as {block id: color}: edit image first, then ids, then points (later win).

    Raises UnknownBlock for an id the revision does not have and BadInput when there is no edit at all.
    """
    edits: dict[int, Color] = {}
    if edit_image is not None:
        edits.update(edits_from_image(edit_image, blocks=blocks))
    edits.update({int(k): tuple(int(v) for v in c) for k, c in (by_id or {}).items()})
    edits.update(edits_at_points(list(at or []), labels=blocks.labels))
    if not edits:
        raise BadInput(
            "recolor needs at least one edit: --set BLOCK_ID=#RRGGBB, --at X,Y=#RRGGBB, or an edit image "
            "that changes at least one block's pixels."
        )
    check_edits(edits, blocks=blocks)
    return edits


def check_edits(edits: dict[int, Color], *, blocks: BlockifyResult) -> None:
    """Raise UnknownBlock for an edit naming a block id the revision does not have."""
    valid = {b.id for b in blocks.table}
    for bid in edits:
        if bid not in valid:
            top = max(valid) if valid else 0
            raise UnknownBlock(
                f"block {bid} does not exist; this revision has blocks 1..{top}. "
                "Run blockify and pick an id from its block table."
            )


def _sampled_colors(blocks: BlockifyResult, *, colored: np.ndarray, ring_px: int) -> np.ndarray:
    """(N + 1, 3) uint8 per block: the average of its center mean and its boundary-ring mean."""
    labels = blocks.labels
    valid = blocks.sample_mask
    count = int(labels.max(initial=0))
    point_labels = labels if valid is None else np.where(valid, labels, 0)
    dist = inner_distance(point_labels, valid=valid)
    use = np.ones(labels.shape, bool) if valid is None else valid
    center = use & (dist > ring_px)
    ring = use & ~center
    rgb = colored[..., :3]
    cm, cn = label_means(rgb, ids=np.where(center, labels, 0), count=count)
    rm, rn = label_means(rgb, ids=np.where(ring, labels, 0), count=count)
    has_c, has_r = (cn > 0)[:, None], (rn > 0)[:, None]
    avg = np.where(has_c & has_r, (cm + rm) / 2, np.where(has_c, cm, rm))
    return np.floor(avg + 0.5).astype(np.uint8)


def target_prompt(
    *, blocks: BlockifyResult, colored: np.ndarray, edits: dict[int, Color], ring_px: int = 2
) -> dict:
    """JSON prompt {"points": [...]} with one hint per block at its point; edits override colors."""
    check_edits(edits, blocks=blocks)
    colors = _sampled_colors(blocks, colored=colored, ring_px=ring_px)
    points = []
    for block in blocks.table:
        color = edits.get(block.id, tuple(int(v) for v in colors[block.id]))
        points.append({"x": block.point[0], "y": block.point[1], "color": format_color(color)})
    return {"points": points}


def recolor_locality(
    *,
    parent: np.ndarray,
    child: np.ndarray,
    labels: np.ndarray,
    edits: dict[int, Color],
    line_mask: np.ndarray | None = None,
) -> dict:
    """How local a recolor was: share of pixels outside edited blocks unchanged, ΔE2000 of edited blocks."""
    edited = np.isin(labels, list(edits)) if edits else np.zeros(labels.shape, bool)
    outside = ~edited
    same = (parent[..., :3] == child[..., :3]).all(axis=2)
    unchanged = float(same[outside].mean()) if outside.any() else 1.0
    report = []
    for bid, want in sorted(edits.items()):
        inside = labels == bid
        if line_mask is not None:
            inside &= ~line_mask
        if not inside.any():
            continue
        got = child[..., :3][inside].astype(np.float64).mean(axis=0)
        de = float(delta_e2000(rgb_to_lab(got), rgb_to_lab(np.asarray(want, np.float64))))
        report.append(
            {
                "id": int(bid),
                "requested": format_color(want),
                "got": format_color(np.round(got)),
                "delta_e": de,
            }
        )
    return {
        "unchanged_outside": unchanged,
        "edited_max_delta_e": max((r["delta_e"] for r in report), default=0.0),
        "edited_blocks": report,
    }


@dataclass
class RecolorResult:
    """A recolor's new revision (`result`), the parent's blocks, the edits applied, the target prompt
    that made it, and the locality proof."""

    result: ColorizeResult
    blocks: BlockifyResult
    edits: dict[int, Color]
    target: dict
    locality: dict
    timings: dict[str, float]
    parts: dict | None = None  # with part edits: which regions each named part covered (`part_edits`)


def recolor(
    drawing: np.ndarray,
    *,
    colored: np.ndarray,
    regions: np.ndarray,
    by_id: dict[int, Color] | None = None,
    at: list[tuple[int, int, Color]] | None = None,
    edit_image: np.ndarray | None = None,
    parts: dict[str, str] | None = None,
    part_map: np.ndarray | None = None,
    gap_px: int = 3,
    min_area: int = 8,
    fill_unhinted: UnhintedFill | None = None,
    trace_lines: object = None,
) -> RecolorResult:
    """Recolor a revision: drawing (H, W, 4) uint8 line art, colored (H, W, 3) the parent's colored image,
    regions (H, W) its region map. Blocks follow those regions and the new colorize fills the same ones,
    so every pixel outside the edited blocks comes out as it was; `locality` measures that.

    `parts` {"hair": "#5a3825"} with `part_map` (H, W) (indices into PART_NAMES) edits every block of each
    named part (`pipeline.part_edits`); block ids and points given beside it win.
    trace_lines: the parent prompt's `trace_lines`; trace lines are refilled by those rules."""
    t0 = time.perf_counter()
    blocks = blockify(colored, regions=regions)
    t1 = time.perf_counter()
    part_report = None
    if parts:
        by_part, part_report = part_edits(parts, regions=regions, part_map=part_map)
        by_id = {**by_part, **(by_id or {})}
    edits = collect_edits(blocks=blocks, by_id=by_id, at=at, edit_image=edit_image)
    rules = trace_rules(trace_lines)
    target = {**target_prompt(blocks=blocks, colored=colored, edits=edits), "trace_lines": rules_json(rules)}
    t2 = time.perf_counter()
    hints = hints_from_json({"points": target["points"]}, width=drawing.shape[1], height=drawing.shape[0])
    result = colorize(
        drawing,
        hints,
        gap_px=gap_px,
        min_area=min_area,
        fill_unhinted=fill_unhinted,
        regions=regions,
        trace_lines=rules_json(rules),
    )
    locality = recolor_locality(
        parent=colored, child=result.colored, labels=blocks.labels, edits=edits, line_mask=regions == 0
    )
    timings = {"blockify": round((t1 - t0) * 1000, 2), "target": round((t2 - t1) * 1000, 2), **result.timings}
    return RecolorResult(
        result=result,
        blocks=blocks,
        edits=edits,
        target=target,
        locality=locality,
        timings=timings,
        parts=part_report,
    )
