"""Line art as artists draw it, made from clean line art with its truth: solid ink, open strokes, pinches.

Each function takes a line drawing `grey` (H, W) uint8 (0 = ink, 255 = paper) and, where the truth changes,
its region map `labels` (H, W) int (0 = line) and true flats `flat` (H, W, 3) uint8, and returns new arrays
that stay consistent: `solid_ink` fills inner regions solid black (manga hair), which become line in the
truth; `pull_back_ends` stops strokes a few px short of the line they met (open strokes; the truth keeps
both regions, as the artist means them); `pinch_regions` narrows a region to a 2-5 px passage with a wide
bulge of ink and no gap in any line (the region stays one). All randomness comes from the `rng` given.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

__all__ = ["ink_regions", "solid_ink", "pull_back_ends", "pinch_regions"]

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # grey, labels, flat
Ink = tuple[int, int, int]


def _inner_regions(labels: np.ndarray, *, min_area: int) -> list[int]:
    """Ids of regions of at least min_area px that do not touch the image border (the paper)."""
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    area = np.bincount(labels.ravel())
    skip = set(np.unique(edge).tolist()) | {0}
    return [int(i) for i in np.flatnonzero(area >= min_area) if int(i) not in skip]


def _distance(zero: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel of `zero`."""
    return cv2.distanceTransform(np.where(zero, 0, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def ink_regions(
    grey: np.ndarray, labels: np.ndarray, flat: np.ndarray, *, ids: list[int], ink: Ink = (0, 0, 0)
) -> Arrays:
    """The given regions filled solid ink: ink in grey, line (0) in labels, the ink color in flat."""
    mask = np.isin(labels, ids)
    grey, labels, flat = grey.copy(), labels.copy(), flat.copy()
    grey[mask], labels[mask], flat[mask] = 0, 0, ink
    return grey, labels, flat


def solid_ink(
    grey: np.ndarray,
    labels: np.ndarray,
    flat: np.ndarray,
    *,
    rng: np.random.Generator,
    share: float = 0.25,
    keep: int = 1,
    ink: Ink = (0, 0, 0),
) -> Arrays:
    """Fill inner regions solid ink until about `share` of the drawing's inside (non-line, non-paper) is ink.

    Bigger regions are likelier picks (ink masses are big); the paper is never filled and `keep` inner
    regions stay to color. A high share (0.85) gives a drawing that is mostly solid ink.
    """
    cands = _inner_regions(labels, min_area=max(16, labels.size // 500))
    area = np.bincount(labels.ravel()).astype(np.float64)
    inside = float(area[_inner_regions(labels, min_area=1)].sum())
    if len(cands) <= keep:
        return grey.copy(), labels.copy(), flat.copy()
    order = rng.choice(cands, size=len(cands), replace=False, p=area[cands] / area[cands].sum())
    chosen: list[int] = []
    filled = 0.0
    for rid in order.tolist():
        if filled >= share * inside or len(cands) - len(chosen) <= keep:
            break
        if filled + area[rid] <= (share + 0.15) * inside:  # no one region overshoots the share by much
            chosen.append(rid)
            filled += area[rid]
    if not chosen:
        chosen = [min(cands, key=lambda i: area[i])]
    return ink_regions(grey, labels, flat, ids=chosen, ink=ink)


def _junction_cut(
    grey: np.ndarray, skel: np.ndarray, half: np.ndarray, labels: np.ndarray | None, *, at, gap: int
) -> tuple[slice, slice, np.ndarray] | None:
    """The pixels to erase so one branch of the junction at `at` stops `gap` px short of the others."""
    cy, cx = at
    r0 = float(half[cy, cx]) + 2.0  # the crossing itself: where the branches' ink merges
    rad = int(3 * r0 + gap + 16)
    win = (slice(max(0, cy - rad), cy + rad + 1), slice(max(0, cx - rad), cx + rad + 1))
    g, sk, hw = grey[win], skel[win], half[win]
    cy, cx = cy - win[0].start, cx - win[1].start
    yy, xx = np.indices(g.shape)
    dist = np.hypot(yy - cy, xx - cx)
    n, comp = cv2.connectedComponents((sk & (dist > r0)).view(np.uint8), connectivity=8)
    branches = [comp == k for k in range(1, n)]
    branches = [b for b in branches if dist[b].min() <= r0 + 2 and dist[b].max() >= r0 + gap + 8]
    if len(branches) != 3:  # a T or Y; crossings and spurs are left alone
        return None
    dirs = []
    for b in branches:
        near = b & (dist <= r0 + 8)
        d = np.array([xx[near].mean() - cx, yy[near].mean() - cy])
        dirs.append(d / (np.linalg.norm(d) + 1e-9))
    straight = [float(dirs[(i + 1) % 3] @ dirs[(i + 2) % 3]) for i in range(3)]
    i = int(np.argmin(straight))
    if straight[i] > -0.5 or max(float(dirs[i] @ dirs[j]) for j in range(3) if j != i) > 0.6:
        return None  # the other two branches must read as one line the stroke runs into
    other = np.zeros(g.shape, np.uint8)
    for j in range(3):
        if j != i:
            other[branches[j]] = 1
            k = int(np.argmin(np.where(branches[j], dist, np.inf)))
            cv2.line(other, (cx, cy), (int(xx.flat[k]), int(yy.flat[k])), 1, 1)
    w_other = float(np.median(hw[(other > 0) & (dist <= r0 + 12)]))
    w_branch = float(np.median(hw[branches[i] & (dist <= r0 + gap + 8)]))
    dx, dy = dirs[i]
    along, across = (xx - cx) * dx + (yy - cy) * dy, (yy - cy) * dx - (xx - cx) * dy
    d_other = _distance(other > 0)
    start = w_other - 0.5  # the first pixel ring outside the other line's ink
    cut = (along > 0) & (np.abs(across) <= w_branch + 1.5) & (d_other >= start) & (d_other < start + gap)
    cut &= g < 255
    # the two sides of the branch, next to the new gap, must be apart before and joined after
    mid, side = start + gap / 2, w_branch + 3
    probes = [(round(cy + mid * dy + s * side * dx), round(cx + mid * dx - s * side * dy)) for s in (1, -1)]
    if not all(0 <= py < g.shape[0] and 0 <= px < g.shape[1] and g[py, px] >= 128 for py, px in probes):
        return None
    if labels is not None:
        lab = [int(labels[win][p]) for p in probes]
        if 0 in lab or lab[0] == lab[1]:
            return None
    before = cv2.connectedComponents((g >= 128).view(np.uint8), connectivity=4)[1]
    after = g.copy()
    after[cut] = 255
    joined = cv2.connectedComponents((after >= 128).view(np.uint8), connectivity=4)[1]
    if before[probes[0]] == before[probes[1]] or joined[probes[0]] != joined[probes[1]]:
        return None
    return win[0], win[1], cut


def pull_back_ends(
    grey: np.ndarray,
    *,
    rng: np.random.Generator,
    px: tuple[int, int] = (2, 6),
    share: float = 0.5,
    labels: np.ndarray | None = None,
) -> np.ndarray:
    """Open strokes: at `share` of the T/Y junctions, one stroke stops px[0]..px[1] px short of the line.

    The last px of the branch next to the other line are erased across the branch's full width. With
    `labels`, only branches that part two different true regions are pulled back (a real leak).
    """
    line = grey < 128
    skel = skeletonize(line)
    half = cv2.distanceTransform(line.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    neighbours = cv2.filter2D(skel.view(np.uint8), -1, np.ones((3, 3)), borderType=cv2.BORDER_CONSTANT)
    n, _, _, centers = cv2.connectedComponentsWithStats((skel & (neighbours >= 4)).view(np.uint8))
    sep = (
        6 * float(np.median(half[skel])) + 2 * px[1] + 10 if skel.any() else 0
    )  # cuts stay apart, so two never form one wider opening
    cuts: list[tuple[tuple[int, int], tuple[slice, slice, np.ndarray]]] = []
    for k in (rng.permutation(n - 1) + 1).tolist():
        at = (int(round(centers[k][1])), int(round(centers[k][0])))
        if not skel[at] or any(np.hypot(at[0] - a[0], at[1] - a[1]) < sep for a, _ in cuts):
            continue
        gap = int(rng.integers(px[0], px[1] + 1))
        found = _junction_cut(grey, skel, half, labels, at=at, gap=gap)
        if found is not None:
            cuts.append((at, found))
    out = grey.copy()
    take = rng.permutation(len(cuts))[: max(1, int(round(share * len(cuts))))] if cuts else []
    for idx in take:
        rows, cols, cut = cuts[int(idx)][1]
        out[rows, cols][cut] = 255
    return out


def _march(mask: np.ndarray, c: np.ndarray, u: np.ndarray) -> float:
    """Distance from c along u to the first pixel outside mask (mask is False at its own border)."""
    steps = np.arange(0.5, sum(mask.shape), 0.5)
    ys, xs = np.clip(
        np.round(c[:, None] + u[:, None] * steps).astype(int), 0, np.array(mask.shape)[:, None] - 1
    )
    return float(steps[np.argmax(~mask[ys, xs])])


def _pieces(mask: np.ndarray, *, square: int, min_area: float = 0) -> int:
    """8-connected pieces of at least min_area px left after eroding mask by a square x square block."""
    eroded = cv2.erode(mask.view(np.uint8), np.ones((square, square), np.uint8), borderValue=0)
    n, _, stats, _ = cv2.connectedComponentsWithStats(eroded, connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] >= min_area).sum())


def _is_pinch(region: np.ndarray, rest: np.ndarray, *, width: tuple[int, int]) -> bool:
    """Whether `rest` is still one 4-connected region, a width[0] block still passes everywhere it did,
    and a block wider than width[1] no longer passes between two big parts of it."""
    if cv2.connectedComponents(rest.view(np.uint8), connectivity=4)[0] != 2:
        return False
    if _pieces(rest, square=width[0]) != _pieces(region, square=width[0]):
        return False
    big, wide = 0.1 * rest.sum(), width[1] + 1
    return _pieces(rest, square=wide, min_area=big) > _pieces(region, square=wide, min_area=big)


def _pinch(
    grey: np.ndarray, region: np.ndarray, *, rng: np.random.Generator, width: tuple[int, int], line_w: float
) -> np.ndarray | None:
    """A bulge mask (inside `region`) that narrows it to a passage of width px, or None when none fits."""
    target = int(rng.integers(width[0], width[1] + 1))
    dt = cv2.distanceTransform(region.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    sites = np.argwhere(skeletonize(region) & (dt >= target / 2 + 3) & (dt <= 3 * line_w + 10))
    yy, xx = np.indices(region.shape)
    outside = np.argwhere(~region).astype(np.float64)
    for c in sites[rng.permutation(len(sites))[:8]].astype(np.float64):
        u = outside[np.argmin(np.hypot(*(outside - c).T))] - c  # toward the nearest side
        u *= (1 if rng.random() < 0.5 else -1) / np.linalg.norm(u)  # the bulge grows from either side
        s_plus, s_minus = _march(region, c, u), _march(region, c, -u)
        ends = [np.round(c + s * u).astype(int) for s in (s_plus, -s_minus)]
        if any(grey[y, x] >= 128 for y, x in ends):
            continue  # both sides must be drawn lines, not a color edge, or the bulge would float
        chord = s_plus + s_minus
        two = rng.random() < 0.5 and chord > target + 12
        # the passage spans t -+ target/2 along u: against the far side, or anywhere between two bulges
        t = rng.uniform(-s_minus + target / 2 + 3, s_plus - target / 2 - 3) if two else -s_minus + target / 2
        bulges = []
        for sign in (1, -1) if two else (1,):
            rho = max(rng.uniform(0.55, 1.0) * chord, 1.5 * line_w)
            at = c + (t + sign * (target / 2 + 0.5 + rho)) * u
            bulges.append((np.hypot(yy - at[0], xx - at[1]) <= rho) & region)
        bulge = np.logical_or.reduce(bulges)
        rest = region & ~bulge
        if rest.sum() < 0.6 * region.sum() or not _is_pinch(region, rest, width=width):  # measured by erosion
            continue
        mid = np.round(c + t * u).astype(int)
        if rest[mid[0], mid[1]]:  # the passage lies where it was meant to
            return bulge
    return None


def pinch_regions(
    grey: np.ndarray,
    labels: np.ndarray,
    flat: np.ndarray,
    *,
    rng: np.random.Generator,
    width: tuple[int, int] = (2, 5),
    count: int = 2,
    ink: Ink = (0, 0, 0),
) -> Arrays:
    """Narrow up to `count` inner regions to a passage width[0]..width[1] px wide, with no gap in any line.

    A wide disk of ink grows into the region from one side (or two), much wider than a line, so the
    passage reads as a narrow part of the region, not as a line end. The region stays one 4-connected
    region; the bulge becomes line (0) in labels and `ink` (black) in flat.
    """
    line, skel = grey < 128, skeletonize(grey < 128)
    line_w = 2 * float(np.median(_distance(~line)[skel])) if skel.any() else 2.0  # typical line width
    grey, labels, flat = grey.copy(), labels.copy(), flat.copy()
    done = 0
    for rid in rng.permutation(_inner_regions(labels, min_area=max(64, labels.size // 400))).tolist():
        if done == count:
            break
        ys, xs = np.nonzero(labels == rid)
        pad = int(line_w) + 8  # the crop keeps the region's lines; no region to pinch touches the border
        y0, x0 = max(0, ys.min() - pad), max(0, xs.min() - pad)
        box = np.s_[y0 : ys.max() + pad + 1, x0 : xs.max() + pad + 1]
        bulge = _pinch(grey[box], labels[box] == rid, rng=rng, width=width, line_w=line_w)
        if bulge is None:
            continue
        grey[box][bulge], labels[box][bulge], flat[box][bulge] = 0, 0, ink
        done += 1
    return grey, labels, flat
