"""A painter's-order canvas for generated characters: closed shapes with outlines, rendered supersampled.

Every shape is filled into a shape-id map (later shapes cover earlier ones), erases the line ink under
it (so hidden outlines disappear) and strokes its own outline, optionally with a small gap. Rendering at
`SUPERSAMPLE`x and area-averaging down gives anti-aliased lines of fractional width; ids are sampled at
pixel centres, so flats and label maps stay exact (no blending). `finish()` turns the canvas into the
arrays a training sample needs: drawing, flats, region map, part map, line alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.measure import label as label_equal_runs

from pipeline.blockify import deepest_points
from pipeline.color import Color
from pipeline.regions import merge_specks, number_in_reading_order

__all__ = ["SUPERSAMPLE", "Rendered", "Canvas", "ellipse", "blob", "capsule", "rounded_box", "region_points"]

SUPERSAMPLE = 4


def ellipse(
    center: tuple[float, float], axes: tuple[float, float], angle: float = 0.0, n: int = 64
) -> np.ndarray:
    """(n, 2) float polygon of an ellipse; angle in degrees."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([axes[0] * np.cos(t), axes[1] * np.sin(t)], 1)
    a = np.radians(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return pts @ rot.T + np.asarray(center)


def blob(
    rng: np.random.Generator,
    center: tuple[float, float],
    axes: tuple[float, float],
    *,
    wobble: float = 0.1,
    n: int = 72,
) -> np.ndarray:
    """An ellipse with a smooth random radial wobble (hair masses, bags, hats)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 5):
        r += wobble / k * rng.normal() * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    return np.stack([center[0] + axes[0] * r * np.cos(t), center[1] + axes[1] * r * np.sin(t)], 1)


def capsule(
    p0: tuple[float, float], p1: tuple[float, float], r0: float, r1: float, n: int = 16
) -> np.ndarray:
    """A limb: two half-discs of radii r0, r1 at p0, p1 joined by tangent-ish sides."""
    p0a, p1a = np.asarray(p0, float), np.asarray(p1, float)
    d = p1a - p0a
    ang = np.arctan2(d[1], d[0])
    t1 = np.linspace(ang - np.pi / 2, ang + np.pi / 2, n)
    t0 = np.linspace(ang + np.pi / 2, ang + 3 * np.pi / 2, n)
    end1 = p1a + r1 * np.stack([np.cos(t1), np.sin(t1)], 1)
    end0 = p0a + r0 * np.stack([np.cos(t0), np.sin(t0)], 1)
    return np.concatenate([end1, end0])


def rounded_box(
    x0: float, y0: float, x1: float, y1: float, *, radius: float, flare: float = 0.0
) -> np.ndarray:
    """A box with rounded corners; flare widens the bottom edge (skirts, shirts) by that many px per side."""
    radius = max(0.5, min(radius, (x1 - x0) / 2, (y1 - y0) / 2))
    corners = [
        (x1 - radius + flare, y1 - radius, 0.0),
        (x0 + radius - flare, y1 - radius, 90.0),
        (x0 + radius, y0 + radius, 180.0),
        (x1 - radius, y0 + radius, 270.0),
    ]
    pts = []
    for cx, cy, start in corners:
        t = np.radians(np.linspace(start, start + 90, 6))
        pts.append(np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], 1))
    return np.concatenate(pts)


def _densify(poly: np.ndarray, step: float) -> np.ndarray:
    """Closed polygon resampled so consecutive points are about `step` apart (gaps are cut in points)."""
    closed = np.concatenate([poly, poly[:1]])
    seg = np.diff(closed, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0], np.cumsum(length)])
    if cum[-1] <= 0:
        return poly
    s = np.arange(0, cum[-1], step)
    return np.stack([np.interp(s, cum, closed[:, 0]), np.interp(s, cum, closed[:, 1])], 1)


@dataclass
class Rendered:
    """A rendered character; every array is (H, W[, C]) at the output size."""

    drawing: np.ndarray  # (H, W, 4) uint8 RGBA: lines on white, opaque
    flats: np.ndarray  # (H, W, 3) uint8: true flat colors (under lines: the shape beneath)
    colored: np.ndarray  # (H, W, 3) uint8: lines composited over flats
    line_alpha: np.ndarray  # (H, W) uint8
    regions: np.ndarray  # (H, W) int32: 0 = line (alpha >= 128), 1..N reading order
    parts: np.ndarray  # (H, W) uint8: part index (see characters.PARTS), also under lines
    region_colors: dict[int, Color]
    region_parts: dict[int, int]
    points: dict[int, tuple[int, int]]  # region id -> (x, y) pixel farthest from its boundary


class Canvas:
    """Shapes in painter's order at SUPERSAMPLE x the output size; coordinates are output pixels."""

    def __init__(self, size: int, *, line_color: Color, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.line_color = line_color
        hi = size * SUPERSAMPLE
        self.shape_map = np.zeros((hi, hi), np.int32)  # id 0 = background
        self.ink = np.zeros((hi, hi), np.uint8)
        self.colors: list[Color] = [(255, 255, 255)]
        self.parts: list[int] = [0]

    def _hi(self, poly: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(poly) * SUPERSAMPLE).astype(np.int32).reshape(-1, 1, 2)

    def shape(
        self,
        poly: np.ndarray,
        *,
        color: Color,
        part: int,
        width: float,
        gap_prob: float = 0.15,
        outline: bool = True,
    ) -> int:
        """Fill a closed shape, hide the ink beneath it, stroke its outline; returns its shape id."""
        sid = len(self.colors)
        self.colors.append(tuple(int(c) for c in color))  # type: ignore[arg-type]
        self.parts.append(part)
        pts = self._hi(poly)
        cv2.fillPoly(self.shape_map, [pts], sid)
        if outline:
            cv2.fillPoly(self.ink, [pts], 0)
            self.outline(poly, width=width, gap_prob=gap_prob)
        return sid

    def outline(self, poly: np.ndarray, *, width: float, gap_prob: float = 0.15) -> None:
        """Stroke a closed polygon; with gap_prob leave one 1..3 px gap (the region engine must close it)."""
        thick = max(1, int(round(width * SUPERSAMPLE)))
        if self.rng.random() < gap_prob:
            dense = _densify(np.asarray(poly, float), step=0.5)
            gap = int(self.rng.uniform(1.0, 3.0) / 0.5 + width)  # the round caps eat about one width
            start = int(self.rng.integers(len(dense)))
            dense = np.roll(dense, -start, axis=0)[gap:]
            if len(dense) > 1:
                cv2.polylines(self.ink, [self._hi(dense)], False, 255, thick, cv2.LINE_8)
            return
        cv2.polylines(self.ink, [self._hi(poly)], True, 255, thick, cv2.LINE_8)

    def stroke(self, pts: np.ndarray, *, width: float) -> None:
        """An open line (nose, smile, folds) that need not enclose anything."""
        thick = max(1, int(round(width * SUPERSAMPLE)))
        cv2.polylines(self.ink, [self._hi(pts)], False, 255, thick, cv2.LINE_8)

    def ink_fill(self, poly: np.ndarray) -> None:
        """A solid ink shape (pupils): line pixels in the drawing, the shape beneath keeps its part."""
        cv2.fillPoly(self.ink, [self._hi(poly)], 255)

    def paint(self, poly: np.ndarray, *, color: Color, part: int) -> None:
        """A fill with no outline (blush, shading patches): a region separated by color alone."""
        self.shape(poly, color=color, part=part, width=0, outline=False)

    def finish(self, *, min_area: int = 8) -> Rendered:
        """Area-average the ink, sample ids at pixel centres, and derive regions, flats and parts."""
        s, half = self.size, SUPERSAMPLE // 2
        alpha = cv2.resize(self.ink, (s, s), interpolation=cv2.INTER_AREA)
        sid = self.shape_map[half::SUPERSAMPLE, half::SUPERSAMPLE]
        colors = np.asarray(self.colors, np.uint8)
        flats = colors[sid]
        line = alpha >= 128
        # regions: 4-connected runs of one shape id on non-line pixels (shapes of equal color stay apart)
        labels = label_equal_runs(np.where(line, 0, sid + 1), background=0, connectivity=1).astype(np.int32)
        labels = number_in_reading_order(merge_specks(labels, min_area=min_area))
        a = alpha[..., None].astype(np.float32) / 255.0
        ink_rgb = np.asarray(self.line_color, np.float32)
        drawing_rgb = np.round(255.0 * (1 - a) + ink_rgb * a).astype(np.uint8)
        colored = np.round(flats * (1 - a) + ink_rgb * a).astype(np.uint8)
        drawing = np.dstack([drawing_rgb, np.full((s, s), 255, np.uint8)])
        count = int(labels.max(initial=0))
        # each region's shape is its most common shape id (specks merged into it may carry another)
        keys = labels.astype(np.int64).ravel() * len(colors) + sid.ravel()
        uniq, counts = np.unique(keys[labels.ravel() > 0], return_counts=True)
        best: dict[int, tuple[int, int]] = {}
        for key, c in zip(uniq.tolist(), counts.tolist(), strict=True):
            rid, shp = divmod(key, len(colors))
            if rid not in best or c > best[rid][1]:
                best[rid] = (shp, c)
        region_colors = {rid: tuple(int(v) for v in colors[shp]) for rid, (shp, _) in best.items()}
        part_lut = np.asarray(self.parts, np.uint8)
        region_parts = {rid: int(part_lut[shp]) for rid, (shp, _) in best.items()}
        points = region_points(labels, count=count)
        return Rendered(
            drawing=drawing,
            flats=flats,
            colored=colored,
            line_alpha=alpha,
            regions=labels,
            parts=part_lut[sid],
            region_colors=region_colors,
            region_parts=region_parts,
            points=points,
        )


def region_points(labels: np.ndarray, *, count: int) -> dict[int, tuple[int, int]]:
    """Per region the pixel farthest from its boundary (image border counts), as the dataset defines it."""
    padded = np.pad(labels, 1, constant_values=0)
    edge = np.zeros_like(padded, bool)
    edge[1:-1, 1:-1] = (
        (padded[1:-1, 1:-1] != padded[:-2, 1:-1])
        | (padded[1:-1, 1:-1] != padded[2:, 1:-1])
        | (padded[1:-1, 1:-1] != padded[1:-1, :-2])
        | (padded[1:-1, 1:-1] != padded[1:-1, 2:])
    )
    inside = (~edge[1:-1, 1:-1]) & (labels > 0)
    dist = cv2.distanceTransform(inside.view(np.uint8), cv2.DIST_L2, 3)
    dist = dist + (labels > 0) * 1e-3  # edge-only regions still get a pixel
    present = np.bincount(labels.ravel(), minlength=count + 1)
    ids = [rid for rid in range(1, count + 1) if present[rid]]
    return dict(zip(ids, deepest_points(dist, labels=labels, ids=ids), strict=True))
