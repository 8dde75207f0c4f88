"""The candidate ceiling: what the region colorizer could reach if it always picked the right candidate.

For each unhinted region the region colorizer picks one of its candidates (the drawing's hint colors, then
the prior colors no hint is close to: `pipeline.models.regionfill.candidates`). The ceiling fill knows the
true flats and picks the candidate nearest (CIEDE2000) the region's most common true color. No picker over
these candidates can do better, so it bounds what a goal like "2x the best rule" can ask of this design.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.color import Color, delta_e2000, rgb_to_lab
from pipeline.models.regionfill import RegionFill, candidates
from pipeline.region_graph import region_graph
from pipeline.train.regionfill import region_truth

__all__ = ["CEILING", "ceiling_fill"]

CEILING = "ceiling"  # the name benches give this row
Fill = Callable[[np.ndarray, np.ndarray, dict[int, Color]], dict[int, Color]]


def ceiling_fill(model: RegionFill, flats: np.ndarray) -> Fill:
    """A fill for one drawing whose true flats are `flats`: each unhinted region takes its best candidate."""

    def fill(drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> dict[int, Color]:
        graph = region_graph(regions)
        truth = region_truth(regions, flats)
        out: dict[int, Color] = {}
        for rid, true_rgb in truth.items():
            if rid in hinted or graph.area[rid] == 0:
                continue
            colors, _ = candidates(graph, rid, hinted, palette=model.palette, palette_lab=model.palette_lab)
            true_lab = rgb_to_lab(np.array([true_rgb], np.uint8))
            de = delta_e2000(rgb_to_lab(colors), np.repeat(true_lab, len(colors), 0))
            best = colors[int(np.argmin(de))]
            out[rid] = (int(best[0]), int(best[1]), int(best[2]))
        return out

    return fill
