"""Regions as a graph, and the features a region-level colorizer scores candidate colors with.

A drawing's regions (0 = line) become nodes with shape facts (area, centroid, box, moments) and edges
weighted by how much border two regions share across a line. For an unhinted region and one candidate
color (a hint color of the drawing, or a learned prior color) `pair_features` says how that color sits
around the region: how many hints have it, how much of the region's border touches it, how many hops
away it is, whether a region of the same shape (a twin, or a mirror image: two eyes, two shoes) has it,
whether the region that encloses this one has it, and the color itself. Pure NumPy and OpenCV, so the
model that reads these needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage, sparse

from pipeline.color import Color
from pipeline.regions import assign_line_pixels

__all__ = [
    "RegionGraph",
    "region_graph",
    "pair_features",
    "region_features",
    "PAIR_FEATURES",
    "REGION_FEATURES",
]

PAIR_FEATURES = 14
REGION_FEATURES = 9
_HOPS = 4  # hop distances 1, 2, 3 and "4 or more / never"


@dataclass(frozen=True)
class RegionGraph:
    """Per-region facts of one drawing, indexed by region id (row 0 is the line, unused). Borders are a
    sparse matrix and hop distances are found on demand, so a drawing of thousands of regions stays cheap."""

    count: int
    area: np.ndarray  # (N+1,) pixels
    centre: np.ndarray  # (N+1, 2) centroid (x, y) in 0..1 of the drawing's width and height
    shape: np.ndarray  # (N+1, 4) log area share, box aspect (log w/h), box fill, log Hu moment 1
    border: sparse.csr_matrix  # (N+1, N+1) shared border length between regions (through line pixels)
    outside: np.ndarray  # (N+1,) bool: touches the image border
    _hops: dict = field(default_factory=dict, compare=False, repr=False)

    def border_row(self, rid: int) -> np.ndarray:
        """(N+1,) shared border length of region `rid` with every region."""
        return self.border.getrow(rid).toarray().ravel()

    def hops_from(self, sources) -> np.ndarray:
        """(N+1,) graph distance in steps from the nearest of `sources`, capped at _HOPS (kept per set)."""
        key = tuple(sorted(int(v) for v in sources))
        if key not in self._hops:
            n = self.count + 1
            dist = np.full(n, _HOPS, np.int64)
            frontier = np.zeros(n, bool)
            frontier[list(key)] = True
            reached = frontier.copy()
            dist[frontier] = 0
            for step in range(1, _HOPS):
                frontier = (self.border @ frontier.astype(np.float64) > 0) & ~reached
                dist[frontier] = step
                reached |= frontier
            self._hops[key] = dist
        return self._hops[key]


def region_graph(regions: np.ndarray) -> RegionGraph:
    """The graph of a region map (H, W) int32: areas, centroids, shapes and shared borders."""
    regions = np.asarray(regions, np.int32)
    height, width = regions.shape
    count = int(regions.max(initial=0))
    n = count + 1
    area = np.bincount(regions.ravel(), minlength=n).astype(np.float64)
    ys, xs = np.mgrid[0:height, 0:width]
    safe = np.maximum(area, 1)
    centre = np.stack(
        [
            np.bincount(regions.ravel(), weights=xs.ravel(), minlength=n) / safe / max(width - 1, 1),
            np.bincount(regions.ravel(), weights=ys.ravel(), minlength=n) / safe / max(height - 1, 1),
        ],
        axis=1,
    )
    shape = np.zeros((n, 4))
    for rid, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None:
            continue
        mask = (regions[box] == rid).view(np.uint8)  # the region's bounding box only
        h, w = mask.shape
        hu = cv2.HuMoments(cv2.moments(mask, binaryImage=True)).ravel()
        shape[rid] = (
            np.log(area[rid] / regions.size),
            np.log(w / h),
            area[rid] / (w * h),
            np.log(max(hu[0], 1e-6)),
        )
    owner = assign_line_pixels(regions)
    rows, cols = [], []
    for a, b in ((owner[:, :-1], owner[:, 1:]), (owner[:-1], owner[1:])):
        sel = (a != b) & (a > 0) & (b > 0)
        rows += [a[sel], b[sel]]
        cols += [b[sel], a[sel]]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    border = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    edge = np.concatenate([owner[0], owner[-1], owner[:, 0], owner[:, -1]])
    outside = np.zeros(n, bool)
    outside[np.unique(edge)] = True
    outside[0] = False
    return RegionGraph(count, area, centre, shape, border, outside)


def region_features(
    graph: RegionGraph, rid: int, *, hinted: dict[int, Color], border: np.ndarray
) -> np.ndarray:
    """(REGION_FEATURES,) facts of region `rid` that do not depend on the candidate color; `border` is
    its row of shared border lengths (`graph.border_row`)."""
    neighbours = int((border > 0).sum())
    enclosed = neighbours == 1 and not graph.outside[rid]
    return np.array(
        [
            *graph.shape[rid, :3],
            float(graph.outside[rid]),
            min(neighbours, 8) / 8,
            float(enclosed),
            graph.centre[rid, 1],
            abs(graph.centre[rid, 0] - 0.5),
            len(hinted) / max(graph.count, 1),
        ]
    )


def _twin(graph: RegionGraph, rid: int, others: np.ndarray) -> float:
    """How closely some region in `others` matches region `rid`'s shape, 0..1 (1: same size and shape,
    as a twin or a mirror image is: same height, mirrored x)."""
    if len(others) == 0:
        return 0.0
    d_shape = np.abs(graph.shape[others] - graph.shape[rid]).sum(axis=1)
    mirror = np.abs(graph.centre[others, 0] - (1 - graph.centre[rid, 0])) + np.abs(
        graph.centre[others, 1] - graph.centre[rid, 1]
    )
    return float(np.exp(-(d_shape + np.minimum(mirror, 0.5))).max())


def pair_features(
    graph: RegionGraph,
    rid: int,
    lab: np.ndarray,
    *,
    holders: np.ndarray,
    hinted_area: float,
    n_hinted: int,
    border: np.ndarray,
) -> np.ndarray:
    """(PAIR_FEATURES,) how a candidate color (its CIELAB `lab`) sits around unhinted region `rid`;
    `holders` are the ids of the hinted regions of that color (empty for a prior no hint gave), `border`
    the region's row of shared border lengths."""
    out = np.zeros(PAIR_FEATURES)
    out[0] = lab[0] / 100
    out[1], out[2] = lab[1] / 100, lab[2] / 100
    if len(holders) == 0:
        return out
    out[3] = 1.0
    out[4] = len(holders) / max(n_hinted, 1)
    out[5] = graph.area[holders].sum() / max(hinted_area, 1)
    out[6] = border[holders].sum() / max(border.sum(), 1)
    hop = int(graph.hops_from(holders)[rid])
    out[6 + min(hop, _HOPS)] = 1.0  # 7, 8, 9, 10: one, two, three, four or more hops away
    out[11] = _twin(graph, rid, holders)
    main = int(np.argmax(border)) if border.any() else 0
    out[12] = float(main in set(holders.tolist()) and border[main] > 0.6 * border.sum())
    out[13] = float(np.hypot(*(graph.centre[holders] - graph.centre[rid]).T).min())
    return out
