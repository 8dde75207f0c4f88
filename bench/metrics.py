"""Segmentation scores shared by the benches: adjusted Rand index, boundary F1 (px tolerance), merges."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.blockify import label_edges

__all__ = ["adjusted_rand_index", "boundary_f1", "merged_regions"]


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings of the same pixels (1-D int arrays)."""
    a = np.unique(a, return_inverse=True)[1]
    b = np.unique(b, return_inverse=True)[1]
    pairs = np.unique(a.astype(np.int64) * (b.max() + 1) + b, return_counts=True)[1].astype(np.float64)
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    sum_ij = comb(pairs).sum()
    sum_a = comb(np.bincount(a).astype(np.float64)).sum()
    sum_b = comb(np.bincount(b).astype(np.float64)).sum()
    total = comb(float(len(a)))
    expected = sum_a * sum_b / total if total else 0.0
    top = (sum_a + sum_b) / 2
    return float((sum_ij - expected) / (top - expected)) if top != expected else 1.0


def boundary_f1(pred: np.ndarray, true: np.ndarray, *, tol: int = 2) -> float:
    """F1 of boundary pixels, a match being within tol px (Euclidean)."""
    bp, bt = label_edges(pred), label_edges(true)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    dt_true = cv2.distanceTransform((~bt).view(np.uint8), cv2.DIST_L2, 5)
    dt_pred = cv2.distanceTransform((~bp).view(np.uint8), cv2.DIST_L2, 5)
    precision = float((dt_true[bp] <= tol).mean())
    recall = float((dt_pred[bt] <= tol).mean())
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def merged_regions(pred: np.ndarray, true: np.ndarray, *, min_px: int = 20) -> int:
    """True regions (of min_px pixels or more) whose majority predicted region is another's majority too.

    pred, true: 1-D int arrays over the same pixels; a region merged into a bigger one counts once."""
    true, pred = true.astype(np.int64), pred.astype(np.int64)
    keys, counts = np.unique(true * (int(pred.max(initial=0)) + 1) + pred, return_counts=True)
    owner_true, owner_pred = np.divmod(keys, int(pred.max(initial=0)) + 1)
    sizes = np.bincount(true)
    best: dict[int, tuple[int, int]] = {}
    for t, p, c in zip(owner_true.tolist(), owner_pred.tolist(), counts.tolist(), strict=True):
        if sizes[t] >= min_px and (t not in best or c > best[t][1]):
            best[t] = (p, c)
    majority = [p for p, _ in best.values()]
    return len(majority) - len(set(majority))
