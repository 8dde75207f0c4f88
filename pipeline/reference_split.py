"""Splitting regions by a reference's colors: parts a line drawing leaves to color alone (a blush, a sleeve
cuff with no line) are cut where the aligned reference's colors change.

A region over which a second reference color lands on a piece large and thick enough (not a sliver along a
line, which is what misalignment leaves) is cut along the landed colors: they are cleaned (ink, off-picture
and rare colors take the nearest kept color, then a mode filter, then pieces too small or too thin join the
neighbour they touch most) and every piece left becomes a sub-region hinted with its color. Sizes are
fractions of the drawing's foreground box side, so they hold at any resolution; thresholds were tuned on the
OpenMoji train split. Used by `pipeline.reference`.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.blockify import bounding_boxes, inner_distance
from pipeline.color import Color, unpack_rgb
from pipeline.hints import format_color
from pipeline.regions import number_in_reading_order

__all__ = ["Piece", "Split", "find_splits", "apply_splits"]

Piece = tuple[np.ndarray, int]  # (h, w) bool mask in a region's box, packed 0xRRGGBB color
Split = tuple[int, tuple, list[Piece]]  # region id, its box as slices, its pieces
_SPLIT_SHARE = 0.03  # a second color must cover this share of a region ...
_SPLIT_AREA = 0.001  # ... and this much area (x box side squared), and every piece must keep this area,
_SPLIT_DEPTH = 0.009  # be this thick (x box side; distance from its middle to its edge),
_SPLIT_WINDOW = 0.02  # after a mode filter this wide (x box side)
_ENCLOSED = 0.5  # a piece cut from the paper must have this share of its rim on the drawing's lines
_RIM_ALIGNED = (
    0.7  # a region is cut only when this share of the lines around it lands on the reference's edges
)


def _nearest_fill(index: np.ndarray, known: np.ndarray) -> np.ndarray:
    """index with every unknown pixel set to the value of its nearest known pixel (L2)."""
    if known.all() or not known.any():
        return index
    _, nearest = cv2.distanceTransformWithLabels(
        (~known).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    lut = np.zeros(int(nearest.max()) + 1, index.dtype)
    lut[nearest[known]] = index[known]
    return lut[nearest]


def _pieces(index: np.ndarray, inside: np.ndarray, *, min_area: float, min_depth: float) -> np.ndarray:
    """(h, w) int32 pieces of equal index in `inside`; small or thin ones join the piece they touch most."""
    pieces = np.zeros(index.shape, np.int32)
    for j in np.unique(index[inside]).tolist():
        _, comp = cv2.connectedComponents((inside & (index == j)).view(np.uint8), connectivity=4)
        pieces = np.where(comp > 0, comp + pieces.max(), pieces)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    while True:
        ids = np.unique(pieces[pieces > 0])
        if len(ids) < 2:
            return pieces
        area = np.bincount(pieces.ravel(), minlength=int(ids.max()) + 1)
        depth = np.zeros(len(area), np.float32)
        np.maximum.at(depth, pieces.ravel(), inner_distance(pieces, valid=inside).ravel())
        bad = [i for i in ids.tolist() if area[i] < min_area or depth[i] < min_depth]
        if not bad:
            return pieces
        worst = min(bad, key=lambda i: (depth[i], area[i], i))
        mask = (pieces == worst).view(np.uint8)
        ring = pieces[(cv2.dilate(mask, cross) > 0) & (mask == 0) & inside]
        ring = ring[ring > 0]
        pieces[mask > 0] = int(np.bincount(ring).argmax()) if len(ring) else int(ids[ids != worst][0])


def _cut(inside: np.ndarray, landed: np.ndarray, *, colors: list[int], unit: float) -> list[Piece]:
    """The pieces of one region (a box around it, `inside` its mask) after cleaning the landed colors."""
    index = np.full(inside.shape, -1, np.int32)
    for j, value in enumerate(colors):
        index[inside & (landed == value)] = j
    index = _nearest_fill(index, index >= 0)
    window = int(round(_SPLIT_WINDOW * unit)) | 1
    if window > 1:  # mode filter: each pixel takes the color most of its window inside the region carries
        votes = np.stack(
            [
                cv2.boxFilter(
                    (inside & (index == j)).astype(np.float32),
                    -1,
                    (window, window),
                    normalize=False,
                    borderType=cv2.BORDER_CONSTANT,
                )
                for j in range(len(colors))
            ]
        )
        index = np.where(inside, np.argmax(votes, 0), -1).astype(np.int32)
    pieces = _pieces(index, inside, min_area=_SPLIT_AREA * unit**2, min_depth=_SPLIT_DEPTH * unit)
    out = []
    for k in np.unique(pieces[pieces > 0]).tolist():
        mask = pieces == k
        out.append((mask, colors[int(np.bincount(index[mask]).argmax())]))
    return out


def _rim_aligned(inside: np.ndarray, *, lines: np.ndarray, edges: np.ndarray) -> bool:
    """Whether at least _RIM_ALIGNED of the line pixels around a region land on the reference's edges."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    rim = (cv2.dilate(inside.view(np.uint8), cross) > 0) & lines
    return bool(rim.any()) and float(edges[rim].mean()) >= _RIM_ALIGNED


def _enclosed(pieces: list[Piece], *, lines: np.ndarray) -> list[Piece]:
    """The pieces of the paper that lines mostly enclose (a sleeve behind an open stroke), the rest given
    back to the largest piece: where a moved arm lay in the reference, the drawing's paper has no line."""
    if len(pieces) < 2:
        return pieces
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    main = max(range(len(pieces)), key=lambda i: int(pieces[i][0].sum()))
    keep, paper = [], pieces[main][0].copy()
    for i, (mask, value) in enumerate(pieces):
        if i == main:
            continue
        rim = (cv2.dilate(mask.view(np.uint8), cross) > 0) & ~mask
        if rim.any() and (rim & lines).sum() >= _ENCLOSED * rim.sum():
            keep.append((mask, value))
        else:
            paper |= mask
    return [(paper, pieces[main][1]), *keep]


def find_splits(
    regions: np.ndarray,
    *,
    landed: np.ndarray,
    unit: float,
    outside: frozenset[int] = frozenset(),
    edges: np.ndarray | None = None,
) -> list[tuple[int, tuple, list[Piece]]]:
    """(region id, its box as slices, pieces) for each region cut in two or more pieces by landed colors.

    A region of `outside` (the paper around the drawing) needs no share of its area for a second color: an
    open stroke joins a sleeve or a tie to the paper, and the paper is far larger than they are. edges (H, W)
    bool: drawing pixels that land on (or beside) an edge of the reference; a region is cut only where the
    lines around it land on them (the region itself is aligned, not only the drawing as a whole)."""
    # landed (H, W) int64: the packed reference color each drawing pixel lands on, -1 where unknown
    sel = (regions > 0) & (landed >= 0)
    keys, counts = np.unique(regions[sel].astype(np.int64) << 24 | landed[sel], return_counts=True)
    count = int(regions.max(initial=0))
    area = np.bincount(regions.ravel(), minlength=count + 1)
    rid, value = keys >> 24, keys & 0xFFFFFF
    paper = np.isin(rid, np.array(sorted(outside), np.int64))
    big = (counts >= _SPLIT_AREA * unit**2) & ((counts >= _SPLIT_SHARE * area[rid]) | paper)
    many = np.bincount(rid[big], minlength=count + 1) >= 2
    boxes = bounding_boxes(regions, count=count)
    out = []
    for t in np.flatnonzero(many).tolist():
        x0, y0, x1, y1 = boxes[t].tolist()
        box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
        grown = (slice(max(0, y0 - 1), y1 + 2), slice(max(0, x0 - 1), x1 + 2))  # the rim lies just outside
        if edges is not None and not _rim_aligned(
            regions[grown] == t, lines=regions[grown] == 0, edges=edges[grown]
        ):
            continue
        colors = value[(rid == t) & big].tolist()
        pieces = _cut(regions[box] == t, landed[box], colors=colors, unit=unit)
        if t in outside:
            pieces = _enclosed(pieces, lines=regions[box] == 0)
        if len(pieces) > 1:
            out.append((t, box, pieces))
    return out


def apply_splits(
    regions: np.ndarray,
    splits: list[Split],
    *,
    matches: list[dict],
    colors: dict[int, Color],
    landed: np.ndarray,
    sources: np.ndarray,
) -> tuple[dict[int, Color], list[dict], np.ndarray]:
    """(colors, matches, regions) with split regions replaced by their pieces, ids in reading order."""
    # a piece's confidence: the share of its pixels landing on its color; source: where most of those land
    count = int(regions.max(initial=0))
    refined = regions.copy()
    pieces: dict[int, dict] = {}
    for t, box, parts in splits:
        for mask, value in parts:
            tid = count + 1 + len(pieces)
            refined[box][mask] = tid
            got = landed[box][mask]
            known = got >= 0
            on = sources[box][mask][got == value]
            pieces[tid] = {
                "source": int(np.bincount(on).argmax()) if len(on) else None,
                "confidence": round(float((got[known] == value).mean()) if known.any() else 0.0, 3),
                "color": value,
                "split_from": t,
            }
    final = number_in_reading_order(refined)
    new_id = np.zeros(int(refined.max()) + 1, np.int32)
    new_id[refined.ravel()] = final.ravel()
    split_ids = {t for t, _, _ in splits}
    out_colors = {int(new_id[t]): rgb for t, rgb in colors.items() if t not in split_ids}
    out = [{**m, "region": int(new_id[m["region"]])} for m in matches if m["region"] not in split_ids]
    for tid, piece in pieces.items():
        rgb = unpack_rgb(piece["color"])
        out_colors[int(new_id[tid])] = rgb
        out.append({"region": int(new_id[tid]), **piece, "color": format_color(rgb)})
    return out_colors, sorted(out, key=lambda m: m["region"]), final
