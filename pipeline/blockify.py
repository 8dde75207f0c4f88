"""blockify: colored image -> color blocks (each filled with its mean color), block labels and a block table.

Three ways to find blocks:
1. from a Tint revision's region map (block id == region id, line pixels go to the nearest region, block
   color is the mean over the region's non-line pixels, so a flat region's block color is exactly its flat
   color; a shaded region stays one block);
2. for any colored image, with the partition model (`pipeline.models.partition`): its boundary map is
   thresholded, the connected pieces of the inside are block cores, boundary pixels go to the nearest core,
   specks merge into a neighbour, neighbours of one color with an open seam merge (`merge_equal_blocks`),
   and on a flat-colored image blocks split along exact color edges (`split_flat_pieces`); block color
   is the mean image color over the block's core pixels (see `blocks_from_maps`);
3. without a model: 4-connected components of exactly equal color, specks merged (a baseline, and the
   fallback when no model is given).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.color import Color
from pipeline.errors import BadInput
from pipeline.hints import format_color
from pipeline.regions import assign_line_pixels, merge_specks, number_in_reading_order

__all__ = [
    "Block",
    "BlockifyResult",
    "blockify",
    "block_table_json",
    "blocks_from_maps",
    "merge_equal_blocks",
    "split_flat_pieces",
    "equal_color_components",
    "inner_distance",
    "label_edges",
    "label_modes",
]


@dataclass
class Block:
    """One color block: id, mean color, pixel count, inclusive bbox (x0, y0, x1, y1), representative point."""

    id: int
    color: Color
    area: int
    bbox: tuple[int, int, int, int]
    point: tuple[int, int]  # (x, y): maximum of the distance transform inside the block


@dataclass
class BlockifyResult:
    """Block image (H, W, 3) uint8, block labels (H, W) int32 1..N covering every pixel, and the table."""

    blocks: np.ndarray
    labels: np.ndarray
    table: list[Block]
    # (H, W) bool: pixels whose color speaks for their block (not line); None means every pixel
    sample_mask: np.ndarray | None = None


def equal_color_components(rgb: np.ndarray) -> np.ndarray:
    """(H, W) int32 labels of 4-connected pieces of exactly equal color, 1..K (not yet in reading order).

    OpenCV only labels binary images, so pixels become nodes of a doubled grid whose in-between cells are
    set where two neighbours have equal color; one binary labelling of that grid labels the colors.
    """
    height, width = rgb.shape[:2]
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    grid = np.zeros((2 * height - 1, 2 * width - 1), np.uint8)
    grid[::2, ::2] = 1
    grid[::2, 1::2] = packed[:, :-1] == packed[:, 1:]
    grid[1::2, ::2] = packed[:-1, :] == packed[1:, :]
    _, labels = cv2.connectedComponents(grid, connectivity=4, ltype=cv2.CV_32S)
    return np.ascontiguousarray(labels[::2, ::2])


def inner_distance(labels: np.ndarray, *, valid: np.ndarray | None = None) -> np.ndarray:
    """(H, W) float32 distance of each pixel to its block's edge (other labels, invalid pixels, border)."""
    inner = np.ones(labels.shape, bool)
    same_h = labels[:, 1:] == labels[:, :-1]
    same_v = labels[1:, :] == labels[:-1, :]
    inner[:, 1:] &= same_h
    inner[:, :-1] &= same_h
    inner[1:, :] &= same_v
    inner[:-1, :] &= same_v
    inner[0, :] = inner[-1, :] = False
    inner[:, 0] = inner[:, -1] = False
    if valid is not None:
        inner &= valid
    return cv2.distanceTransform(inner.view(np.uint8), cv2.DIST_L2, 5)


def label_modes(packed: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N + 1,) int64: each label's most common packed color (`pack_rgb`; on a tie the lowest); -1 for
    label 0 and for ids with no pixel."""
    count = int(labels.max(initial=0))
    keys, counts = np.unique(labels.ravel().astype(np.int64) << 24 | packed.ravel(), return_counts=True)
    rid, value = keys >> 24, keys & 0xFFFFFF
    order = np.lexsort((-counts, rid))  # per id, the most common color first
    first = np.ones(len(order), bool)
    first[1:] = rid[order][1:] != rid[order][:-1]
    out = np.full(count + 1, -1, np.int64)
    out[rid[order][first]] = value[order][first]
    out[0] = -1
    return out


def label_means(rgb: np.ndarray, *, ids: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per id 0..count: mean color (count + 1, 3) float64 of rgb over pixels with that id, and pixel count.

    Callers put pixels they want left out under id 0 (np.where is far cheaper than boolean indexing).
    """
    flat = ids.ravel()
    n = np.bincount(flat, minlength=count + 1)[: count + 1]
    sums = np.stack(
        [np.bincount(flat, weights=rgb[..., c].ravel(), minlength=count + 1)[: count + 1] for c in range(3)],
        1,
    )
    return sums / np.maximum(n, 1)[:, None], n


def _mean_colors(rgb: np.ndarray, *, labels: np.ndarray, count: int, valid: np.ndarray | None) -> np.ndarray:
    """(count + 1, 3) uint8 mean color per label over valid pixels, rounded half up."""
    ids = labels if valid is None else np.where(valid, labels, 0)
    means, _ = label_means(rgb, ids=ids, count=count)
    return np.floor(means + 0.5).astype(np.uint8)


def deepest_points(dist: np.ndarray, *, labels: np.ndarray, ids: list[int]) -> list[tuple[int, int]]:
    """(x, y) per id: its pixel where `dist` (H, W) is largest, the first in reading order on ties.

    The one rule for where a block's, a region's or a generated region's hint point sits."""
    count = int(labels.max(initial=0))
    flat_labels, flat_dist = labels.ravel(), dist.ravel()
    best = np.full(count + 1, -np.inf, flat_dist.dtype)  # in dist's own type, so the maxima compare equal
    np.maximum.at(best, flat_labels, flat_dist)
    at_max = np.flatnonzero(flat_dist == best[flat_labels])
    first = np.full(count + 1, flat_labels.size, np.int64)
    np.minimum.at(first, flat_labels[at_max], at_max)
    width = labels.shape[1]
    return [(int(first[i] % width), int(first[i] // width)) for i in ids]


def label_edges(labels: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels with a 4-neighbour of another label."""
    edge = np.zeros(labels.shape, bool)
    h = labels[:, 1:] != labels[:, :-1]
    v = labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= h
    edge[:, :-1] |= h
    edge[1:, :] |= v
    edge[:-1, :] |= v
    return edge


def bounding_boxes(labels: np.ndarray, *, count: int) -> np.ndarray:
    """(count + 1, 4) int64 inclusive (x0, y0, x1, y1) per id; only edge pixels are visited.

    A label's extreme pixels always have a 4-neighbour of another label or lie on the image border.
    """
    height, width = labels.shape
    edge = label_edges(labels)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    ys, xs = np.nonzero(edge)
    ids = labels[ys, xs]
    box = np.empty((count + 1, 4), np.int64)
    box[:, :2] = (width, height)
    box[:, 2:] = -1
    np.minimum.at(box[:, 0], ids, xs)
    np.minimum.at(box[:, 1], ids, ys)
    np.maximum.at(box[:, 2], ids, xs)
    np.maximum.at(box[:, 3], ids, ys)
    return box


def _table(
    labels: np.ndarray, *, colors: np.ndarray, point_labels: np.ndarray, dist: np.ndarray
) -> list[Block]:
    """The block table: area, bbox and representative point of every block id present."""
    count = len(colors) - 1
    area = np.bincount(labels.ravel(), minlength=count + 1)
    boxes = bounding_boxes(labels, count=count)
    ids = [i for i in range(1, count + 1) if area[i] > 0]
    # point_labels excludes line pixels, so the point is a pixel of the region itself
    positions = deepest_points(dist, labels=point_labels, ids=ids)
    table = []
    for rid, (px, py) in zip(ids, positions, strict=True):
        table.append(
            Block(
                id=rid,
                color=tuple(int(v) for v in colors[rid]),
                area=int(area[rid]),
                bbox=tuple(int(v) for v in boxes[rid]),
                point=(int(px), int(py)),
            )
        )
    return table


def _nearest(cores: np.ndarray) -> np.ndarray:
    """(H, W) int32: every pixel takes the id of the nearest pixel with an id > 0 (ids kept where > 0)."""
    empty = (cores == 0).view(np.uint8)
    if not empty.any() or empty.all():
        return np.where(cores > 0, cores, 1).astype(np.int32)
    _, nearest = cv2.distanceTransformWithLabels(empty, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(nearest.max()) + 1, np.int32)
    lut[nearest[cores > 0]] = cores[cores > 0]
    return lut[nearest]


def blocks_from_maps(
    boundary: np.ndarray, *, min_area: int = 8, threshold: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Blocks from the partition model's boundary map: (labels (H, W) int32 1..N, core mask (H, W) bool).

    boundary (H, W) float 0..1 comes from `partition.predict`. The inside (boundary < threshold) is eroded
    by about 1 px per 512 px of image so a one-pixel leak in a predicted boundary cannot join two regions;
    its 4-connected pieces of at least min_area pixels are the cores; every other pixel joins the nearest
    core, then specks merge. Threshold and erosion were chosen on the train split (bench/blockify.py).
    """
    core = boundary < threshold
    radius = max(1, round(max(boundary.shape) / 512))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    _, cores = cv2.connectedComponents(cv2.erode(core.view(np.uint8), disk), connectivity=4, ltype=cv2.CV_32S)
    area = np.bincount(cores.ravel())
    area[0] = 0
    cores[area[cores] < max(1, min_area)] = 0
    labels = number_in_reading_order(merge_specks(_nearest(cores), min_area=min_area, zero_is_line=False))
    return labels, core


def _core_colors(rgb: np.ndarray, *, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
    """(N + 1, 3) uint8 block colors: the mean image color over each block's core pixels (away from the
    predicted boundaries, so lines and anti-aliased edges do not tint it); a block without core pixels
    takes the mean over all its pixels."""
    count = int(labels.max(initial=0))
    means, n = label_means(rgb, ids=np.where(core, labels, 0), count=count)
    whole, _ = label_means(rgb, ids=labels, count=count)
    return np.floor(np.where((n > 0)[:, None], means, whole) + 0.5).astype(np.uint8)


def merge_equal_blocks(
    labels: np.ndarray, *, rgb: np.ndarray, colors: np.ndarray, max_delta_e: float = 3.0, min_open: int = 4
) -> np.ndarray:
    """Merge neighbouring blocks of the same color (ΔE2000 < max_delta_e) whose shared seam is open: at
    least min_open seam pixels are that color too, i.e. no line runs there. This undoes gaps the model
    closed between line ends that the drawing leaves open. Returns the relabelled (H, W) int32 map."""
    from pipeline.color import delta_e2000, rgb_to_lab

    count = int(labels.max(initial=0))
    keys, seams = [], []
    for a, b, ca, cb in (
        (labels[:, :-1], labels[:, 1:], rgb[:, :-1], rgb[:, 1:]),
        (labels[:-1, :], labels[1:, :], rgb[:-1, :], rgb[1:, :]),
    ):
        differ = a != b
        lo, hi = np.minimum(a[differ], b[differ]), np.maximum(a[differ], b[differ])
        keys.append(lo.astype(np.int64) * (count + 1) + hi)
        seams.append((ca[differ].astype(np.float64) + cb[differ]) / 2)
    key = np.concatenate(keys)
    if not len(key):
        return labels
    lab = rgb_to_lab(colors.astype(np.float64))
    lo, hi = key // (count + 1), key % (count + 1)
    same = delta_e2000(lab[lo], lab[hi]) < max_delta_e
    open_px = same & (
        delta_e2000(rgb_to_lab(np.concatenate(seams)), (lab[lo] + lab[hi]) / 2) < 2 * max_delta_e
    )
    pairs, counts = np.unique(key[open_px], return_counts=True)
    parent = np.arange(count + 1)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pair in pairs[counts >= min_open]:
        rx, ry = root(int(pair // (count + 1))), root(int(pair % (count + 1)))
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    mapping = np.array([root(i) for i in range(count + 1)], np.int32)
    return number_in_reading_order(mapping[labels])


def split_flat_pieces(
    labels: np.ndarray,
    *,
    rgb: np.ndarray,
    core: np.ndarray,
    min_share: float = 0.95,
    min_frac: float = 0.0005,
) -> np.ndarray:
    """Split model blocks along exact color edges when the image is flat-colored (returns relabelled map).

    On a flat image two regions of different flat colors are two blocks even where no line divides them;
    the boundary model, trained to ignore shading, can miss that. The image counts as flat when at least
    min_share of the core pixels lie in exact-color pieces holding min_frac of the image's pixels in core;
    a block holding two or more such pieces is split, its other pixels going to the nearest piece.
    Noisy or JPEG images have no such pieces, so they pass through unchanged. Thresholds: train split.
    """
    pieces = equal_color_components(rgb)
    count = int(pieces.max(initial=0)) + 1
    in_core = np.bincount(pieces[core], minlength=count)
    big = core & (in_core[pieces] >= max(8, int(min_frac * labels.size)))
    if big.sum() < min_share * max(int(core.sum()), 1):
        return labels
    pairs = np.unique(labels[big].astype(np.int64) * count + pieces[big])
    owners, per_block = np.unique(pairs // count, return_counts=True)
    out, next_id = labels.copy(), int(labels.max(initial=0)) + 1
    boxes = bounding_boxes(labels, count=next_id - 1)
    for block in owners[per_block >= 2]:
        x0, y0, x1, y1 = (int(v) for v in boxes[block])
        inside = labels[y0 : y1 + 1, x0 : x1 + 1] == block
        seeds = big[y0 : y1 + 1, x0 : x1 + 1] & inside
        _, piece_of = np.unique(pieces[y0 : y1 + 1, x0 : x1 + 1][seeds], return_inverse=True)
        cores = np.zeros(inside.shape, np.int32)
        cores[seeds] = piece_of + next_id
        out[y0 : y1 + 1, x0 : x1 + 1][inside] = _nearest(cores)[inside]
        next_id += int(piece_of.max()) + 1
    return number_in_reading_order(merge_specks(out, min_area=8, zero_is_line=False))


def blockify(
    colored: np.ndarray,
    *,
    regions: np.ndarray | None = None,
    min_area: int = 8,
    model: object | None = None,
    threshold: float = 0.1,
    merge_delta_e: float = 3.0,
) -> BlockifyResult:
    """Split a colored image (H, W, 3) into color blocks.

    With a Tint region map, blocks are its regions; else with `model` (a loaded partition model), blocks
    follow its predicted boundaries (`threshold` on the boundary map; `merge_delta_e` > 0 merges
    same-colored neighbours with an open seam); else blocks are connected pieces of exactly equal color.
    """
    rgb = np.asarray(colored)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4) or rgb.dtype != np.uint8:
        raise BadInput(f"colored image has shape {rgb.shape} {rgb.dtype}; pass (H, W, 3) uint8 RGB.")
    rgb = np.ascontiguousarray(rgb[..., :3])
    if regions is not None:
        regions = np.asarray(regions, np.int32)
        if regions.shape != rgb.shape[:2]:
            raise BadInput(
                f"region map is {regions.shape[1]}x{regions.shape[0]} but the image is "
                f"{rgb.shape[1]}x{rgb.shape[0]}; pass the region map of this revision."
            )
        valid = regions > 0
        if not valid.any():
            regions = np.ones_like(regions)
            valid = None
        labels = assign_line_pixels(regions)
        point_labels = regions
    elif model is not None:
        from pipeline.models.partition import predict

        maps = predict(model, rgb)
        labels, core = blocks_from_maps(maps.boundary, min_area=min_area, threshold=threshold)
        colors = _core_colors(rgb, labels=labels, core=core)
        if merge_delta_e > 0:
            labels = merge_equal_blocks(labels, rgb=rgb, colors=colors, max_delta_e=merge_delta_e)
        labels = split_flat_pieces(labels, rgb=rgb, core=core)
        colors = _core_colors(rgb, labels=labels, core=core)
        dist = inner_distance(labels)
        table = _table(labels, colors=colors, point_labels=labels, dist=dist)
        return BlockifyResult(blocks=colors[labels], labels=labels, table=table, sample_mask=None)
    else:
        valid = None
        labels = number_in_reading_order(
            merge_specks(equal_color_components(rgb), min_area=min_area, zero_is_line=False)
        )
        point_labels = labels
    count = int(labels.max(initial=0))
    colors = _mean_colors(rgb, labels=labels, count=count, valid=valid)
    dist = inner_distance(point_labels, valid=valid)
    table = _table(labels, colors=colors, point_labels=point_labels, dist=dist)
    return BlockifyResult(blocks=colors[labels], labels=labels, table=table, sample_mask=valid)


def block_table_json(table: list[Block]) -> list[dict]:
    """The block table as JSON-able dicts: id, "#rrggbb" color, area, bbox [x0, y0, x1, y1], point [x, y]."""
    return [
        {
            "id": b.id,
            "color": format_color(b.color),
            "area": b.area,
            "bbox": list(b.bbox),
            "point": list(b.point),
        }
        for b in table
    ]
