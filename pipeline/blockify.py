"""blockify: colored image -> color blocks (each filled with its mean color), block labels and a block table.

Two ways to find blocks: from a Tint revision's region map (block id == region id, line pixels go to the
nearest region, block color is the mean over the region's non-line pixels, so a flat region's block color
is exactly its flat color), or, for any colored image, 4-connected components of equal color with specks
merged into their neighbour. The partition model (a later issue) will add a third for shaded images.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from pipeline.errors import BadInput
from pipeline.hints import format_color
from pipeline.regions import assign_line_pixels, merge_specks, number_in_reading_order

__all__ = [
    "Block",
    "BlockifyResult",
    "blockify",
    "block_table_json",
    "equal_color_components",
    "inner_distance",
]

Color = tuple[int, int, int]


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


def _mean_colors(rgb: np.ndarray, *, labels: np.ndarray, count: int, valid: np.ndarray | None) -> np.ndarray:
    """(count + 1, 3) uint8 mean color per label over valid pixels, rounded half up."""
    ids = labels.ravel() if valid is None else labels[valid]
    pixels = rgb.reshape(-1, 3) if valid is None else rgb[valid]
    n = np.bincount(ids, minlength=count + 1).astype(np.float64)
    out = np.zeros((count + 1, 3), np.uint8)
    for c in range(3):
        total = np.bincount(ids, weights=pixels[:, c], minlength=count + 1)
        out[:, c] = np.floor(total / np.maximum(n, 1) + 0.5).astype(np.uint8)
    return out


def _table(
    labels: np.ndarray, *, colors: np.ndarray, point_labels: np.ndarray, dist: np.ndarray
) -> list[Block]:
    """The block table: area, bbox and representative point of every block id present."""
    count = len(colors) - 1
    area = np.bincount(labels.ravel(), minlength=count + 1)
    slices = ndimage.find_objects(labels, max_label=count)
    ids = [i for i in range(1, count + 1) if slices[i - 1] is not None]
    # point_labels excludes line pixels, so the point is a pixel of the region itself
    positions = ndimage.maximum_position(dist, point_labels, index=ids) if ids else []
    table = []
    for rid, (py, px) in zip(ids, positions, strict=True):
        sy, sx = slices[rid - 1]
        table.append(
            Block(
                id=rid,
                color=tuple(int(v) for v in colors[rid]),
                area=int(area[rid]),
                bbox=(sx.start, sy.start, sx.stop - 1, sy.stop - 1),
                point=(int(px), int(py)),
            )
        )
    return table


def blockify(colored: np.ndarray, *, regions: np.ndarray | None = None, min_area: int = 8) -> BlockifyResult:
    """Split a colored image (H, W, 3) into color blocks; with a Tint region map, blocks are its regions."""
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
