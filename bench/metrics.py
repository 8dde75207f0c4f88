"""Segmentation scores shared by the benches: adjusted Rand index and boundary F1 with a pixel tolerance."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.blockify import label_edges

__all__ = ["adjusted_rand_index", "boundary_f1"]


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
