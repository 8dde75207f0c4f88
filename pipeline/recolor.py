"""recolor: block edits -> a target prompt that reproduces a revision with only the edited blocks changed.

DESIGN.md recolor step 2: every block is sampled at its center and its boundary ring, the two means are
averaged into one hint at the block's representative point, and edits override. Colorizing the same
drawing with that prompt gives the same regions, every region hinted, so unedited blocks keep their
colors pixel for pixel and edited blocks get exactly the requested color.
"""

from __future__ import annotations

import numpy as np

from pipeline.blockify import BlockifyResult, inner_distance
from pipeline.color import delta_e2000, rgb_to_lab
from pipeline.errors import HintOutOfBounds, UnknownBlock
from pipeline.hints import format_color

__all__ = ["edits_at_points", "target_prompt", "recolor_locality", "check_edits"]

Color = tuple[int, int, int]


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
    rgb = colored[..., :3].reshape(-1, 3).astype(np.float64)
    ids = labels.ravel()
    use = np.ones(ids.shape, bool) if valid is None else valid.ravel()
    center = use & (dist.ravel() > ring_px)
    ring = use & ~center
    means = []
    for part in (center, ring):
        n = np.bincount(ids[part], minlength=count + 1).astype(np.float64)
        sums = np.stack(
            [np.bincount(ids[part], weights=rgb[part, c], minlength=count + 1) for c in range(3)], 1
        )
        means.append((sums / np.maximum(n, 1)[:, None], n > 0))
    (cm, has_c), (rm, has_r) = means
    both = has_c & has_r
    avg = np.where(both[:, None], (cm + rm) / 2, np.where(has_c[:, None], cm, rm))
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
