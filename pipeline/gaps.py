"""Gaps, not passages: which cuts of the trapped-ball fill closed a real gap in a line.

Dilating the lines closes every opening narrower than gap_px: gaps between two line ends or between a
line end and a line, but also narrow passages between two unbroken lines. Each *cut* the dilation made
(a place where two grown regions meet inside one connected piece of free space) is kept only when a line
*ends* next to it and points at it. A line end is an end of the line skeleton whose stroke is line-like
behind it (its width does not grow, so it is neither a spur of the skeleton nor the tip of a wide blob of
ink) and long enough not to be a spur. Every other cut is a passage, and the regions on its two sides are
joined again, so a region connected in the drawing without crossing a closed gap stays one region.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Gap", "keep_gaps"]

_MARGIN = 24  # px of line around a cut looked at (plus gap_px)
_END = 0.75  # end score from which a bank is a line end (a straight wall scores ~0.3, a half-disk ~0.6)
_REACH = 3.0  # line half-widths around a bank looked at
_NEAR = 8  # px around a bank where the line's half-width is read
_NEARBY = 12  # line-edge pixels near a cut (not touching it) tried as line ends, at most
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


@dataclass(frozen=True)
class Gap:
    """A gap closed in the drawing's lines: a pixel of the closure, its length and the line end(s) at it."""

    x: int
    y: int
    length: int  # pixels across the closure


def _cut_pieces(labels: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Cuts between different regions in contact: (count incl. 0, piece map, stats, (K, 3) piece/a/b rows).

    The piece map and stats are of the whole image, but components are labelled only inside the box that
    holds every cut (cuts are few and small; a 1024 px drawing is not labelled twice)."""
    a, b = labels[:, :-1], labels[:, 1:]
    across = (a != b) & (a > 0) & (b > 0)
    c, d = labels[:-1], labels[1:]
    down = (c != d) & (c > 0) & (d > 0)
    cut = np.zeros(labels.shape, np.uint8)
    cut[:, :-1] |= across
    cut[:, 1:] |= across
    cut[:-1] |= down
    cut[1:] |= down
    pieces = np.zeros(labels.shape, np.int32)
    stats = np.zeros((1, 5), np.int32)
    x0, y0, w, h = cv2.boundingRect(cut)
    if w == 0:
        return 1, pieces, stats, np.zeros((0, 3), np.int64)
    count, box, stats, _ = cv2.connectedComponentsWithStats(
        cut[y0 : y0 + h, x0 : x0 + w], connectivity=8, ltype=cv2.CV_32S
    )
    pieces[y0 : y0 + h, x0 : x0 + w] = box
    stats[1:, 0] += x0
    stats[1:, 1] += y0
    keys = []
    for mask, (dy, dx) in ((across, (0, 1)), (down, (1, 0))):
        ys, xs = np.nonzero(mask[y0 : y0 + h, x0 : x0 + w])
        ys, xs = ys + y0, xs + x0
        first, second = labels[ys, xs].astype(np.int64), labels[ys + dy, xs + dx].astype(np.int64)
        keys.append(
            (pieces[ys, xs].astype(np.int64) << 42)
            | (np.minimum(first, second) << 21)
            | np.maximum(first, second)
        )
    keys = np.unique(np.concatenate(keys))
    mask21 = (1 << 21) - 1
    return count, pieces, stats, np.stack([keys >> 42, (keys >> 21) & mask21, keys & mask21], 1)


def _end_score(line: np.ndarray, dist: np.ndarray, bank: np.ndarray, *, along: np.ndarray) -> float:
    """How much the line at `bank` (line pixels touching a cut) ends there, 0..1, from that line's pixels
    within a few line widths: the length of their mean direction from the bank (a stroke that ends at the
    cut lies all on one side of it), or how one-sided they lie `along` the way through the cut (strokes
    that stop side by side at it). A wall of a passage, or a wide bulge, runs both ways and scores low."""
    ys, xs = np.nonzero(bank)
    cy, cx = float(ys.mean()), float(xs.mean())
    # the line's half-width: its deepest pixel near the bank (the bank itself is on the line's edge)
    near = dist[max(0, int(cy) - _NEAR) : int(cy) + _NEAR + 1, max(0, int(cx) - _NEAR) : int(cx) + _NEAR + 1]
    half = float(near.max()) if near.size else 1.0
    radius = min(_REACH * half + 3.0, _MARGIN - 1.0)
    height, width = line.shape
    top, left = max(0, int(cy - radius)), max(0, int(cx - radius))
    bottom, right = min(height, int(cy + radius) + 2), min(width, int(cx + radius) + 2)
    yy, xx = np.mgrid[top:bottom, left:right]
    reach = np.hypot(yy - cy, xx - cx)
    disk = line[top:bottom, left:right] & (reach <= radius)
    # each line the bank touches, as it runs inside the disk, on its own (two line ends either side of
    # a gap touch one cut together, and must not cancel out)
    _, parts = cv2.connectedComponents(disk.view(np.uint8), connectivity=8)
    here = bank[top:bottom, left:right] & disk
    best = 0.0
    for part in np.unique(parts[here]):
        if part == 0:
            continue
        by, bx = np.nonzero(here & (parts == part))
        oy, ox = yy[parts == part] - (top + by.mean()), xx[parts == part] - (left + bx.mean())
        far = np.hypot(oy, ox)
        keep = far >= 1.0
        if not keep.any():
            best = max(best, 1.0)  # a speck of line: nothing runs past the bank
            continue
        uy, ux = oy[keep] / far[keep], ox[keep] / far[keep]
        one_side = abs(float((uy * along[0] + ux * along[1]).mean()))
        best = max(best, float(np.hypot(ux.mean(), uy.mean())), one_side)
    return best


def _is_gap(line: np.ndarray, piece: np.ndarray, *, gap_px: int) -> bool:
    """Whether the cut `piece` (a crop of the same window as `line`) closes a gap: some line ends at it."""
    touching = cv2.dilate(piece.view(np.uint8), _CROSS).view(bool) & line
    count, banks = cv2.connectedComponents(touching.view(np.uint8), connectivity=8)
    if count < 2:
        return False
    dist = cv2.distanceTransform(line.view(np.uint8), cv2.DIST_L2, 3)
    sizes = np.bincount(banks.ravel())[1:]
    first, second = (1 + np.argsort(-sizes))[:2] if count > 2 else (1, 1)
    centres = [np.argwhere(banks == i).mean(axis=0) for i in (first, second)]
    across = centres[0] - centres[1]  # from one bank to the other: the cut's own direction
    if np.hypot(*across) < 1e-6:
        ys, xs = np.nonzero(piece)
        across = np.array([np.ptp(ys), np.ptp(xs)], np.float64) + 1e-6
    along = np.array([across[1], -across[0]]) / np.hypot(*across)  # (dy, dx) of the way through the cut
    if any(_end_score(line, dist, banks == i, along=along) >= _END for i in range(1, count)):
        return True
    # a line end next to the cut but not touching it (floods of two seeds can meet a few px off the gap)
    edge = line & ~cv2.erode(line.view(np.uint8), _CROSS).view(bool) & ~touching
    reach = cv2.distanceTransform((~piece).view(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.nonzero(edge & (reach <= gap_px + 1))
    for i in np.linspace(0, len(ys) - 1, min(len(ys), _NEARBY)).astype(int) if len(ys) else []:
        spot = np.zeros_like(line)
        spot[ys[i], xs[i]] = True
        if _end_score(line, dist, spot, along=along) >= _END:
            return True
    return False


def keep_gaps(labels: np.ndarray, *, line: np.ndarray, gap_px: int) -> tuple[np.ndarray, list[Gap]]:
    """Join the regions of every cut that no line end explains; (labels, the gaps kept in reading order)."""
    count, pieces, stats, pairs = _cut_pieces(labels)
    if count < 2:
        return labels, []
    height, width = labels.shape
    margin = gap_px + _MARGIN
    is_gap = np.zeros(count, bool)
    for pid in range(1, count):
        x0, y0, w, h = (int(v) for v in stats[pid, :4])
        top, left = max(0, y0 - margin), max(0, x0 - margin)
        bottom, right = min(height, y0 + h + margin), min(width, x0 + w + margin)
        window = pieces[top:bottom, left:right] == pid
        is_gap[pid] = _is_gap(line[top:bottom, left:right], window, gap_px=gap_px)
    # union-find over the regions joined by a passage
    parent = np.arange(int(labels.max()) + 1, dtype=np.int32)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for pid, a, b in pairs:
        if not is_gap[pid]:
            ra, rb = root(int(a)), root(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    mapping = np.array([root(i) for i in range(len(parent))], np.int32)
    joined = np.take(mapping, labels)
    gaps = []
    for pid in np.flatnonzero(is_gap):
        sides = pairs[pairs[:, 0] == pid]
        if not np.any(mapping[sides[:, 1]] != mapping[sides[:, 2]]):
            continue  # both sides joined through a passage elsewhere: nothing was closed here
        x0, y0, w, h = (int(v) for v in stats[pid, :4])
        ys, xs = np.nonzero(pieces[y0 : y0 + h, x0 : x0 + w] == pid)
        centre = int(np.argmin(np.hypot(ys - ys.mean(), xs - xs.mean())))
        gaps.append(Gap(x=x0 + int(xs[centre]), y=y0 + int(ys[centre]), length=int(max(w, h))))
    gaps.sort(key=lambda g: (g.y, g.x))
    return joined, gaps
