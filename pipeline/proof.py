"""Proof of hint adherence: every result measures, on its own output, how exactly hints were followed.

Hint adherence is the share of non-line pixels of hinted regions whose output color is exactly the
region's hint color (goal: 1.0). A region below 100% is listed, so a revision can be flagged for review.
"""

from __future__ import annotations

import numpy as np

from pipeline.fill import color_table, pack_image, pack_table

__all__ = ["measure_adherence"]


def measure_adherence(
    image: np.ndarray, *, regions: np.ndarray, hinted: dict[int, tuple[int, int, int]]
) -> dict:
    """Hint adherence of image (H, W, 3) over the non-line pixels of the hinted regions of `regions`."""
    if not hinted:
        return {"hint_adherence": 1.0, "hinted_regions": 0, "failed_regions": [], "hinted_pixels": 0}
    count = int(regions.max(initial=0))
    is_hinted = np.zeros(count + 1, bool)
    for rid in hinted:
        if 0 < rid <= count:
            is_hinted[rid] = True
    target = np.take(pack_table(color_table(hinted, count=count)), regions)
    exact_ids = np.where(pack_image(image) == target, regions, 0)
    total = np.bincount(regions.ravel(), minlength=count + 1)
    good = np.bincount(exact_ids.ravel(), minlength=count + 1)
    total[~is_hinted] = 0
    good[~is_hinted] = 0
    failed = [int(r) for r in np.flatnonzero(good < total)]
    pixels = int(total.sum())
    return {
        "hint_adherence": float(good.sum() / pixels) if pixels else 1.0,
        "hinted_regions": int(is_hinted.sum()),
        "failed_regions": failed,
        "hinted_pixels": pixels,
    }
