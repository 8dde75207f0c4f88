"""Region engine: cut a drawing's free space (everything that is not line) into the areas lines enclose.

Gap closing is a trapped-ball fill done with whole-image morphology instead of a ball walk:
1. dilate the lines by a disk of radius ceil(gap_px / 2), so gaps up to gap_px close;
2. the connected pieces of the free space that remain are the *seeds*;
3. the seeds grow back into the undilated free space (OpenCV watershed over a flat free space walled by
   lines, i.e. geodesic growth that never crosses a line), so regions keep their full shape;
4. a connected piece of free space that holds no seed (a thin region closed on every side, e.g. the
   strip between two close lines) is a region of its own, so thin features without gaps survive;
5. a cut where two grown regions meet is kept only where a line ends and points at it (a gap, or an open
   stroke that stops short of a line); a cut through a narrow passage between unbroken lines is undone
   (`pipeline.gaps.keep_gaps`), so passages never split a region.
Specks under min_area merge into the neighbour they share the longest border with (a speck that touches
only lines becomes line), and ids are renumbered in reading order (first pixel in a raster scan), so the
same drawing always gives the same label map.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.gaps import Gap, keep_gaps

__all__ = [
    "find_regions",
    "find_regions_and_gaps",
    "merge_specks",
    "number_in_reading_order",
    "assign_line_pixels",
]


def _components(mask: np.ndarray) -> tuple[int, np.ndarray]:
    """4-connected components of a uint8 mask: (count incl. background 0, (H, W) int32 labels)."""
    n, labels = cv2.connectedComponents(mask, connectivity=4, ltype=cv2.CV_32S)
    return n, labels


def _seeded_components(free_labels: np.ndarray, *, count: int, seeds: np.ndarray) -> np.ndarray:
    """(count,) bool: which free components hold at least one seed pixel (a masked histogram, no copies)."""
    image = free_labels.astype(np.uint16 if count <= 65536 else np.float32)
    hist = cv2.calcHist([image], [0], (seeds > 0).view(np.uint8), [count], [0, count])
    return hist.ravel() > 0


def _contacts(labels: np.ndarray, *, small: np.ndarray) -> np.ndarray:
    """(K, 3) int64 rows (speck, neighbour, shared border length) over 4-neighbour contacts of specks."""
    n = len(small)
    keys = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        sel = (a != b) & (a > 0) & (b > 0)
        a, b = a[sel].astype(np.int64), b[sel].astype(np.int64)
        keep = small[a] | small[b]
        a, b = a[keep], b[keep]
        keys.append(a * n + b)
        keys.append(b * n + a)
    keys = np.concatenate(keys) if keys else np.empty(0, np.int64)
    keys = keys[small[keys // n]]
    uniq, counts = np.unique(keys, return_counts=True)
    return np.stack([uniq // n, uniq % n, counts], axis=1)


def merge_specks(labels: np.ndarray, *, min_area: int, zero_is_line: bool = True) -> np.ndarray:
    """Merge labels under min_area into the neighbour with the longest shared border (ties: lower id).

    With zero_is_line, label 0 is line: it is never merged into, and a speck touching only lines becomes 0.
    """
    labels = labels.astype(np.int32, copy=False)  # never written in place: each pass maps to a new array
    for _ in range(32):
        n = int(labels.max(initial=0)) + 1
        area = np.bincount(labels.ravel(), minlength=n)
        small = (area < min_area) & (area > 0)
        small[0] = False if zero_is_line else small[0]
        if not small.any():
            break
        rows = _contacts(labels, small=small)
        mapping = np.arange(n, dtype=np.int32)
        if zero_is_line:
            mapping[small] = 0  # specks with no region neighbour become line
        elif int((area > 0).sum()) == 1:
            break
        if len(rows):
            # per speck: the neighbour with the longest border; ties go to the lower id
            order = np.lexsort((rows[:, 1], -rows[:, 2], rows[:, 0]))
            rows = rows[order]
            first = np.ones(len(rows), bool)
            first[1:] = rows[1:, 0] != rows[:-1, 0]
            best = rows[first]
            mapping[best[:, 0]] = best[:, 1]
        # two specks choosing each other: the lower id stays, the other joins it
        mutual = mapping[mapping] == np.arange(n)
        ids = np.arange(n)
        mapping[mutual & (mapping > ids)] = ids[mutual & (mapping > ids)]
        for _ in range(8):
            nxt = mapping[mapping]
            if np.array_equal(nxt, mapping):
                break
            mapping = nxt
        labels = np.take(mapping, labels)
    return labels


def number_in_reading_order(labels: np.ndarray) -> np.ndarray:
    """Renumber ids > 0 as 1..N in the order their first pixel appears in a raster scan; 0 stays 0."""
    labels = np.asarray(labels, np.int32)
    count = int(labels.max(initial=0)) + 1
    # a label's first pixel has neither its left nor its upper neighbour in the same label
    start = np.ones(labels.shape, bool)
    start[:, 1:] = labels[:, 1:] != labels[:, :-1]
    start[1:, :] &= labels[1:, :] != labels[:-1, :]
    where = np.flatnonzero(start)
    flat = labels.ravel()[where]
    first = np.full(count, labels.size, np.int64)
    np.minimum.at(first, flat, where)
    present = np.flatnonzero(first < labels.size)
    present = present[present > 0]
    order = present[np.argsort(first[present], kind="stable")]
    mapping = np.zeros(count, np.int32)
    mapping[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    return np.take(mapping, labels)


def _grow(markers: np.ndarray, *, line: np.ndarray) -> np.ndarray:
    """Grow marker labels over all pixels; free space first (geodesically), lines only after it is full."""
    # OpenCV's watershed overwrites the outermost pixel frame with -1, so flood a copy padded by one pixel
    relief = cv2.copyMakeBorder(
        line.view(np.uint8) * np.uint8(255), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255
    )
    grown = cv2.copyMakeBorder(markers, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.watershed(cv2.cvtColor(relief, cv2.COLOR_GRAY2BGR), grown)
    grown = grown[1:-1, 1:-1]
    # seams where two floods met are -1: each takes the largest label among its free 4-neighbours
    height, width = grown.shape
    for _ in range(8):
        points = cv2.findNonZero((grown < 0).view(np.uint8))
        if points is None:
            break
        xs, ys = points.reshape(-1, 2).T
        best = np.full(len(ys), -1, np.int32)
        for dy, dx in ((0, -1), (-1, 0), (0, 1), (1, 0)):
            ny, nx = np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1)
            best = np.maximum(best, np.where(line[ny, nx] != line[ys, xs], -1, grown[ny, nx]))
        grown[ys, xs] = best
    return np.maximum(grown, 0)


def find_regions(line_mask: np.ndarray, *, gap_px: int = 3, min_area: int = 8) -> np.ndarray:
    """Label map (H, W) int32 of areas enclosed by lines; gaps up to gap_px close so fills don't leak."""
    return find_regions_and_gaps(line_mask, gap_px=gap_px, min_area=min_area)[0]


def find_regions_and_gaps(
    line_mask: np.ndarray, *, gap_px: int = 3, min_area: int = 8
) -> tuple[np.ndarray, list[Gap]]:
    """find_regions, and the gaps it closed (reading order), so results can show where fills were stopped."""
    line = np.asarray(line_mask, bool)
    if gap_px < 0 or min_area < 0:
        raise ValueError(f"gap_px ({gap_px}) and min_area ({min_area}) must be >= 0.")
    free = (~line).view(np.uint8)
    n_free, free_labels = _components(free)
    gaps: list[Gap] = []
    labels = free_labels
    if gap_px > 0 and n_free > 1:
        radius = (gap_px + 1) // 2
        ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        trapped = cv2.dilate(line.view(np.uint8), ball)
        n_seeds, seeds = _components((trapped == 0).view(np.uint8))
        # free components that contain no seed at all are thin regions closed on every side: keep them
        seeded = _seeded_components(free_labels, count=n_free, seeds=seeds)
        seeded[0] = True
        # unless some seeded piece of free space holds two seeds, no cut was made and nothing grows
        if n_seeds - 1 != int(seeded[1:].sum()):
            markers = seeds
            if not seeded.all():
                orphan = ~seeded[free_labels]
                markers[orphan] = free_labels[orphan] + n_seeds
            labels = _grow(markers, line=line)
            labels *= free  # line pixels back to 0
            labels, gaps = keep_gaps(labels, line=line, gap_px=gap_px)
    if min_area > 1:
        labels = merge_specks(labels, min_area=min_area)
    return number_in_reading_order(labels), gaps


def assign_line_pixels(regions: np.ndarray) -> np.ndarray:
    """Owner map (H, W) int32: region pixels keep their id, line pixels (0) take the nearest region's id."""
    regions = np.asarray(regions, np.int32)
    line = (regions == 0).view(np.uint8)
    if not line.any() or line.all():
        return regions.copy()
    _, nearest = cv2.distanceTransformWithLabels(line, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(nearest.max()) + 1, np.int32)
    free = regions > 0
    lut[nearest[free]] = regions[free]
    return lut[nearest]
