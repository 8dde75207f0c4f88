"""Regions that hold hints of several colors: a fill that leaked through an open outline, cut between them.

When an outline is left open (a stroke that stops short, a gap wider than gap closing reaches), two parts
of the drawing become one region, and the artist's hints for both land in it. Rather than paint the whole
region one color and drop the other hints, `split_conflicts` cuts such a region between its hint colors:
a watershed from each color's hint pixels over the region's depth (distance to its edge) floods the wide
parts first, so the fills meet at the narrowest neck between the hints: where the outline was left open.
Every piece then holds hints of one color and is painted exactly that color; the proof counts the pieces
added (`regions_cut`), and only hints no neck separates are left as conflicts.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from pipeline.color import pack_rgb
from pipeline.hints import Hints
from pipeline.regions import number_in_reading_order

__all__ = ["split_conflicts"]

# A piece whose cut exceeds this x the square root of its area is no separate part: a disc whose whole rim
# is cut scores 2 sqrt(pi) = 3.5, a part cut off through a neck far less. Set on the OpenMoji train split.
_NECK = 2.0
_MAX_COLORS = 8  # regions with hints of more colors than this are not cut


def _flood(mask: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """(h, w) int32: every pixel of mask labelled by a watershed from the markers over the inverted depth:
    wide parts flood first, and two markers' floods meet at the narrowest passage between them."""
    from skimage.segmentation import watershed  # only when a prompt conflicts: keeps colorize's import light

    depth = cv2.distanceTransform(np.pad(mask, 1).view(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    return watershed(-depth, markers=markers, mask=mask, connectivity=1)


def _shared_borders(flooded: np.ndarray, count: int) -> np.ndarray:
    """(count + 1, count + 1) 4-neighbour pixel pairs between pieces 1..count of a flooded region."""
    shared = np.zeros((count + 1, count + 1), np.int64)
    for a, b in ((flooded[:, :-1], flooded[:, 1:]), (flooded[:-1], flooded[1:])):
        cut = (a != b) & (a > 0) & (b > 0)
        np.add.at(shared, (a[cut], b[cut]), 1)
    return shared + shared.T


def _necks_only(flooded: np.ndarray, count: int) -> np.ndarray:
    """The pieces with every piece whose border with the others is long for its size merged into the one it
    borders most: a neck is short; a hint sitting in the middle of another part (a spoke's color at the
    centre of an orange slice) floods a piece whose whole rim is a cut, and that is no leak."""
    while True:
        area = np.bincount(flooded.ravel(), minlength=count + 1)
        shared = _shared_borders(flooded, count)
        ratio = shared.sum(1) / np.sqrt(np.maximum(area, 1))
        ratio[area == 0] = 0
        worst = int(ratio.argmax())
        if ratio[worst] <= _NECK:
            return flooded
        flooded[flooded == worst] = int(shared[worst].argmax())


def split_conflicts(
    regions: np.ndarray, *, owner: np.ndarray, hints: Hints, conflicts: list[dict]
) -> tuple[np.ndarray, dict[int, int]]:
    """(regions, pieces): the map (H, W) int32 with each conflicting region cut between its hint colors,
    renumbered in reading order, and how many pieces each conflicting region (old id) became.

    owner: regions with line pixels given to a neighbour (where hints on lines count); conflicts: as
    `resolve_hints` reports them. A color whose hints all lie on line pixels gets no piece of its own."""
    out = regions.copy()
    next_id = int(regions.max(initial=0)) + 1
    boxes = ndimage.find_objects(owner)
    pieces: dict[int, int] = {}
    for conflict in conflicts:
        rid = int(conflict["region"])
        box = boxes[rid - 1]
        if box is None:
            continue
        inside = regions[box] == rid
        hinted = hints.mask[box] & (owner[box] == rid) & inside
        colors = pack_rgb(hints.rgb[box])
        values = np.unique(colors[hinted])
        if not 2 <= len(values) <= _MAX_COLORS:  # a leak joins a few parts; dozens of colors is a scribble
            continue
        markers = np.zeros(inside.shape, np.int32)
        for k, value in enumerate(values.tolist(), start=1):
            markers[hinted & (colors == value)] = k
        flooded = _necks_only(_flood(inside, markers), len(values))
        view = out[box]
        kept = [k for k in range(1, len(values) + 1) if (flooded == k).any()]
        for k in kept[1:]:  # the first piece keeps the region's id
            view[flooded == k] = next_id
            next_id += 1
        pieces[rid] = len(kept)
    if all(n < 2 for n in pieces.values()):
        return regions, pieces
    return number_in_reading_order(out), pieces
