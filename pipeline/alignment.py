"""Alignment of a line drawing onto a colored picture of it: where each drawing pixel lands there.

Affine maps (2, 3) take drawing pixel coordinates (x, y, 1) to the picture's. Candidates: the fit of the two
foreground boxes, similarity transforms (centroids, the square root of the area ratio, a few rotations),
no move at all for a same-size picture, and one refined by ECC (OpenCV `findTransformECC`, affine, coarse to
fine over Gaussian blurs) between the drawing's line mask and the picture's thin dark strokes (a black
top-hat of its grey, as wide as the drawing's lines at the picture's scale), started from the box fit and
from similarities at a few angles, at a working size of at most `WORK` px. The refined map's correlation
(0..1) says how well the lines agree: near 1 for the same drawing moved, scaled and turned.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["WORK", "box", "foreground", "landing", "box_landing", "off_picture", "candidate_alignments"]

WORK = 256  # px: longer side at which the lines are aligned
REFINE_ANGLES = (-8.0, 0.0, 8.0)  # degrees: rotations the ECC refinement starts from


def box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a mask's pixels, ends exclusive; the whole picture when it is empty."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask) if mask.any() else (np.array([0, h - 1]), np.array([0, w - 1]))
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def foreground(rgb: np.ndarray, *, tolerance: int = 24) -> np.ndarray:
    """(H, W) bool: pixels whose color is off the picture's border color (the most common one there)."""
    edge = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int32)
    colors, counts = np.unique(edge, axis=0, return_counts=True)
    paper = colors[counts.argmax()]
    return np.abs(rgb.astype(np.int32) - paper).max(axis=2) > tolerance


def _box_affine(tbox: tuple, rbox: tuple) -> np.ndarray:
    """(2, 3) drawing -> reference affine that maps box tbox onto box rbox (pixel centres kept)."""
    sx = (rbox[2] - rbox[0]) / max(1.0, tbox[2] - tbox[0])
    sy = (rbox[3] - rbox[1]) / max(1.0, tbox[3] - tbox[1])
    return np.array(
        [[sx, 0.0, rbox[0] + (0.5 - tbox[0]) * sx - 0.5], [0.0, sy, rbox[1] + (0.5 - tbox[1]) * sy - 0.5]]
    )


def _similarity(source: tuple, target: tuple, *, scale: float, angle: float) -> np.ndarray:
    """(2, 3) affine that moves point source (x, y) onto target, scaled and turned by angle (degrees)."""
    a = np.radians(angle)
    m = scale * np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return np.hstack([m, (np.asarray(target, np.float64) - m @ np.asarray(source, np.float64))[:, None]])


def _where(matrix: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(qy, qx) float64 maps: where each drawing pixel falls in the reference under the affine matrix."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    qx = matrix[0, 0] * xx + matrix[0, 1] * yy + matrix[0, 2]
    return matrix[1, 0] * xx + matrix[1, 1] * yy + matrix[1, 2], qx


def landing(matrix: np.ndarray, shape: tuple[int, int], ref_shape: tuple[int, int]) -> tuple:
    """(ry, rx) int64 maps: the reference pixel each drawing pixel lands on (clipped to the picture)."""
    qy, qx = _where(matrix, shape)
    ry = np.clip(np.round(qy), 0, ref_shape[0] - 1).astype(np.int64)
    return ry, np.clip(np.round(qx), 0, ref_shape[1] - 1).astype(np.int64)


def off_picture(matrix: np.ndarray, shape: tuple[int, int], ref_shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: drawing pixels that land outside the picture (landing() clips them to its edge)."""
    qy, qx = _where(matrix, shape)
    return (qx < -0.5) | (qy < -0.5) | (qx > ref_shape[1] - 0.5) | (qy > ref_shape[0] - 0.5)


def box_landing(shape: tuple[int, int], ref_shape: tuple[int, int], tbox: tuple, rbox: tuple) -> tuple:
    """(ry, rx) int64 maps: where each drawing pixel lands in the reference when tbox maps onto rbox."""
    return landing(_box_affine(tbox, rbox), shape, ref_shape)


def _line_picture(rgb: np.ndarray, *, width: float) -> np.ndarray:
    """(H, W) float32: the thin dark strokes of a picture (black top-hat of its grey, strokes < width)."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    size = 2 * max(1, int(round(width))) + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, disk).astype(np.float32)


def _resized(f: float) -> np.ndarray:
    """(3, 3) map from a picture's pixel coordinates to those of the picture resized by f."""
    return np.array([[f, 0.0, 0.5 * f - 0.5], [0.0, f, 0.5 * f - 0.5], [0.0, 0.0, 1.0]])


def _refine(
    template: np.ndarray, picture: np.ndarray, matrix: np.ndarray, *, sigmas: tuple[float, ...]
) -> tuple[np.ndarray, float]:
    """(affine, correlation) after ECC alignment of picture onto template, coarse to fine; -1 if lost."""
    warp = matrix.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
    cc = -1.0
    for sigma in sigmas:
        a = cv2.GaussianBlur(template, (0, 0), sigma)
        b = cv2.GaussianBlur(picture, (0, 0), sigma)
        try:
            cc, warp = cv2.findTransformECC(a, b, warp, cv2.MOTION_AFFINE, criteria, None, 1)
        except cv2.error:  # no convergence, or a picture without structure
            return matrix, -1.0
    return warp.astype(np.float64), float(cc)


def _refined(
    regions: np.ndarray, ref: np.ndarray, *, starts: list[np.ndarray], scale: float, unit: float
) -> tuple[np.ndarray, float]:
    """(affine, correlation): the start whose ECC on the lines correlates best, refined coarse to fine."""
    ft, fr = min(1.0, WORK / max(regions.shape)), min(1.0, WORK / max(ref.shape[:2]))
    unit *= ft  # blurs are fractions of the drawing's size, at the working size
    line = regions == 0
    depth = cv2.distanceTransform(line.view(np.uint8), cv2.DIST_L2, 3)[line]
    width = 2.0 * float(np.percentile(depth, 90)) if depth.size else 2.0  # the drawing's line width
    size = (max(8, round(regions.shape[1] * ft)), max(8, round(regions.shape[0] * ft)))
    template = cv2.resize(line.astype(np.float32) * 255, size, interpolation=cv2.INTER_AREA)
    size = (max(8, round(ref.shape[1] * fr)), max(8, round(ref.shape[0] * fr)))
    small = cv2.resize(ref, size, interpolation=cv2.INTER_AREA)
    picture = _line_picture(small, width=1.5 * width * scale * fr)
    to_small = _resized(fr)
    from_small = np.linalg.inv(_resized(ft))
    coarse = [
        _refine(
            template, picture, (to_small @ np.vstack([m, [0, 0, 1]]) @ from_small)[:2], sigmas=(0.04 * unit,)
        )
        for m in starts
    ]
    best, _ = max(coarse, key=lambda pair: pair[1])
    best, cc = _refine(template, picture, best, sigmas=(0.015 * unit, max(0.5, 0.006 * unit)))
    return (np.linalg.inv(to_small) @ np.vstack([best, [0, 0, 1]]) @ _resized(ft))[:2], cc


def candidate_alignments(
    regions: np.ndarray, ref: np.ndarray, *, t_fg: np.ndarray, r_fg: np.ndarray, angles: tuple[float, ...]
) -> tuple[list[np.ndarray], float]:
    """Affines (box fit, similarities, identity, refined last) and the refined one's correlation (or -1)."""
    # regions: the drawing's region map (0 = line); t_fg, r_fg: the drawing's and the reference's foreground
    tbox, rbox = box(t_fg), box(r_fg)
    fit = _box_affine(tbox, rbox)
    if not t_fg.any() or not r_fg.any():
        return [fit], -1.0
    t_centre = np.nonzero(t_fg)[1].mean(), np.nonzero(t_fg)[0].mean()
    r_centre = np.nonzero(r_fg)[1].mean(), np.nonzero(r_fg)[0].mean()
    scale = float(np.sqrt(r_fg.sum() / t_fg.sum()))
    out = [fit] + [_similarity(t_centre, r_centre, scale=scale, angle=a) for a in angles]
    t_mid, r_mid = (((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in (tbox, rbox))
    starts = [fit] + [
        _similarity(source, target, scale=scale, angle=a)
        for a in REFINE_ANGLES
        for source, target in ((t_mid, r_mid), (t_centre, r_centre))
    ]
    if ref.shape[:2] == regions.shape:
        out.append(np.eye(2, 3))
        starts.append(np.eye(2, 3))
    unit = float(np.sqrt((tbox[2] - tbox[0]) * (tbox[3] - tbox[1])))
    refined, cc = _refined(regions, ref, starts=starts, scale=scale, unit=unit)
    return out + ([refined] if cc > 0 else []), cc
