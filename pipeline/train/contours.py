"""Line drawings derived from flat-colored art: the contour recipe for sources that have no line layer.

From the aliased (flat) render of a colored drawing, (H, W, 4) RGBA on transparency:
1. near-identical colors count as one (within `tol` per channel; the most common one wins), and the
   transparent paper around the art is a flat color of its own, apart from white paint;
2. near-black strokes thinner than about 2 * ink_radius + 1 px, small near-black blobs, and near-black
   shapes that are mostly such strokes are the art's own lines and stay line;
3. the flat regions are the 4-connected pieces of one color; specks under `min_area` px merge into the
   neighbour they share the longest border with;
4. lines are the boundaries between two different flat regions (the art's silhouette against the paper
   too), drawn black and anti-aliased, `line_px` wide;
5. the region label map is the connected pieces of what is not line (a line pixel is one whose line value
   is < 128, as in the OpenMoji set), specks merged again, ids 1..N in reading order, 0 = line.
Pure arrays in, arrays out: `pipeline.train.sources` renders the art and writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from pipeline.color import pack_rgb, unpack_rgb_array
from pipeline.regions import merge_specks, number_in_reading_order

__all__ = [
    "Derived",
    "merge_near_colors",
    "find_outline_ink",
    "label_flats",
    "draw_contours",
    "region_table",
    "derive_drawing",
]

PAPER = -1  # color code of the transparent paper around the art (a real color code is 0..2**24 - 1)


@dataclass(frozen=True)
class Derived:
    """One drawing in the paired format: line art, exact flats (as palette + index), true region label map."""

    line: np.ndarray  # (H, W) uint8, 255 = paper, 0 = black line
    palette: np.ndarray  # (K, 3) uint8 flat colors, white for the paper; every entry is used
    index: np.ndarray  # (H, W) int32 into palette
    regions: np.ndarray  # (H, W) int32, 0 = line, 1..N in reading order

    @property
    def flat(self) -> np.ndarray:
        """(H, W, 3) uint8: every pixel exactly one flat color or white."""
        return self.palette[self.index]


def _codes_of(rgba: np.ndarray) -> np.ndarray:
    """(H, W) int64 color codes 0xRRGGBB of the art composited on white; PAPER where nothing is drawn."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = np.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.int64)
    return np.where(rgba[..., 3] == 0, PAPER, pack_rgb(rgb))


def _rgb_of(codes: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 from color codes; PAPER is white."""
    codes = np.where(codes == PAPER, 0xFFFFFF, codes)
    return unpack_rgb_array(codes).astype(np.uint8)


def merge_near_colors(codes: np.ndarray, *, counts: np.ndarray, tol: int = 6) -> np.ndarray:
    """(K,) index of the color each of K distinct codes becomes: the most common one within `tol` per
    channel (itself when none is); PAPER is never merged."""
    rgb = _rgb_of(codes).astype(np.int32)
    target = np.arange(len(codes))
    kept: list[int] = []
    for i in np.argsort(-counts, kind="stable"):
        if codes[i] != PAPER and kept:
            near = (np.abs(rgb[kept] - rgb[i]).max(axis=1) <= tol) & (codes[kept] != PAPER)
            if near.any():
                target[i] = kept[int(np.argmax(near))]
                continue
        kept.append(int(i))
    return target


def find_outline_ink(codes: np.ndarray, *, index: np.ndarray, radius: int, dark: int = 96) -> np.ndarray:
    """(H, W) bool: near-black pixels (every channel < dark, grey within 48) that are the art's own lines.

    A dark area's *body* is where a disk of `radius` fits, in pieces of at least 16 disks. Pixels outside
    a body are line (strokes, pupils, knots where strokes cross); a dark shape whose bodies hold under
    half its pixels is mostly stroke and is line whole (an outline that thickens in places); the bodies
    of the other dark shapes (black hair, a suit) are regions."""
    rgb = _rgb_of(codes).astype(np.int32)
    grey = (rgb.max(axis=1) < dark) & (np.ptp(rgb, axis=1) < 48) & (codes != PAPER)
    black = grey.astype(np.uint8)[index]
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    _, cores, stats, _ = cv2.connectedComponentsWithStats(
        cv2.morphologyEx(black, cv2.MORPH_OPEN, disk), connectivity=8, ltype=cv2.CV_32S
    )
    big = stats[:, cv2.CC_STAT_AREA] >= 16 * int(disk.sum())
    big[0] = False
    body = big[cores]
    count, shapes = cv2.connectedComponents(black, connectivity=8, ltype=cv2.CV_32S)
    stroke_like = 2 * np.bincount(shapes[body], minlength=count) < np.bincount(
        shapes.ravel(), minlength=count
    )
    return (black > 0) & (~body | stroke_like[shapes])


def label_flats(index: np.ndarray, *, ink: np.ndarray, min_area: int = 8) -> np.ndarray:
    """(H, W) int32: 4-connected pieces of one color index outside `ink` (0 there), specks merged."""
    labels = np.zeros(index.shape, np.int32)
    start = 0
    for color in np.flatnonzero(np.bincount(index[~ink])):
        count, pieces = cv2.connectedComponents(
            ((index == color) & ~ink).view(np.uint8), connectivity=4, ltype=cv2.CV_32S
        )
        labels[pieces > 0] = pieces[pieces > 0] + start
        start += count - 1
    return merge_specks(labels, min_area=min_area)


def draw_contours(labels: np.ndarray, *, width: float) -> np.ndarray:
    """(H, W) float32 line coverage 0..1 along every border between two different regions (ids > 0)."""
    border = np.zeros(labels.shape, bool)
    for a, b, before, after in (
        (labels[:, :-1], labels[:, 1:], border[:, :-1], border[:, 1:]),
        (labels[:-1, :], labels[1:, :], border[:-1, :], border[1:, :]),
    ):
        crack = (a != b) & (a > 0) & (b > 0)
        before |= crack  # views into border
        after |= crack
    # both pixels beside a crack are covered; pixels d further out get the rest of the width, anti-aliased
    distance = ndimage.distance_transform_edt(~border)
    return np.clip(width / 2.0 - distance, 0.0, 1.0).astype(np.float32)


def region_table(regions: np.ndarray, *, index: np.ndarray, palette: np.ndarray) -> list[dict]:
    """Per region: id, majority flat color, area, and the point farthest inside it (image edge counts).

    Regions here touch only line pixels (label 0), never each other, so one distance transform to the
    nearest line or edge pixel serves every region."""
    count, colors = int(regions.max(initial=0)) + 1, len(palette)
    votes = np.bincount((regions * colors + index).ravel(), minlength=count * colors).reshape(count, colors)
    areas = np.bincount(regions.ravel(), minlength=count)
    depth = ndimage.distance_transform_edt(np.pad(regions > 0, 1))[1:-1, 1:-1]
    ids = np.arange(1, count)
    points = ndimage.maximum_position(depth, regions, index=ids) if count > 1 else []
    table = []
    for i, (y, x) in zip(ids.tolist(), points, strict=True):
        r, g, b = palette[int(np.argmax(votes[i]))].tolist()
        table.append(
            {"id": i, "color": f"#{r:02x}{g:02x}{b:02x}", "area": int(areas[i]), "point": [int(x), int(y)]}
        )
    return table


def derive_drawing(
    rgba: np.ndarray, *, line_px: float, ink_radius: int, min_area: int = 8, tol: int = 6
) -> Derived:
    """Line art, flats and true regions from an aliased render (H, W, 4) of flat-colored art."""
    codes, index, counts = np.unique(_codes_of(rgba), return_inverse=True, return_counts=True)
    target = merge_near_colors(codes, counts=counts, tol=tol)
    used, target = np.unique(target, return_inverse=True)  # keep only the colors left after merging
    codes, index = codes[used], target[index.reshape(rgba.shape[:2])].astype(np.int32)
    ink = find_outline_ink(codes, index=index, radius=ink_radius)
    flats = label_flats(index, ink=ink, min_area=min_area)
    ink |= flats == 0  # specks that touched only outline ink became ink
    coverage = np.maximum(draw_contours(flats, width=line_px), ink.astype(np.float32))
    line = np.round(255.0 * (1.0 - coverage)).astype(np.uint8)
    free = (line >= 128).view(np.uint8)
    # every border between two flats is covered by line, so the free pieces are each inside one flat
    _, regions = cv2.connectedComponents(free, connectivity=4, ltype=cv2.CV_32S)
    regions = number_in_reading_order(merge_specks(regions, min_area=min_area))
    line[(regions == 0) & (line >= 128)] = 0  # specks enclosed by lines became line
    return Derived(line=line, palette=_rgb_of(codes), index=index, regions=regions)
