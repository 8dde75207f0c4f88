"""Region-level colorizer: for each unhinted region, pick one color it could really be, never an average.

Candidates for a region are the drawing's hint colors and a palette of prior colors learned from training
flats (paper white, eye whites, skin tones, hair browns...). A small MLP scores every (region, candidate)
pair from `pipeline.region_graph` features (how the color sits around the region: shared border, hops,
same-shape twins, the enclosing region; the color itself; which prior it is; the region's own shape) and
the region takes the candidate with the least expected CIEDE2000 under the model's softmax over its
candidates: the Bayes choice for the error the benches judge, and always one of the candidates, never a
mix. When the model is sure it is the best-scoring candidate. Runs in NumPy: the weights are a few kB of
safetensors read with safetensors' NumPy loader, so a colorize job never imports torch (`load` follows
the convention of pipeline/models/common.py: `load(path=None, *, device=None)` with `.version`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.color import Color, delta_e2000, rgb_to_lab
from pipeline.models import WEIGHTS, weights_digest
from pipeline.region_graph import (
    PAIR_FEATURES,
    REGION_FEATURES,
    RegionGraph,
    pair_features,
    region_features,
    region_graph,
)

__all__ = ["RegionFill", "candidates", "load", "SHIPPED_WEIGHTS", "SAME_AS_PRIOR"]

SHIPPED_WEIGHTS = WEIGHTS / "regionfill.safetensors"
SAME_AS_PRIOR = 8.0  # ΔE2000 under which a hint color counts as that prior (offered once, not twice)
UNHINTED_SURE = 0.8  # no hints: a prior is painted only at this softmax share or more (tuned on train splits)


def input_size(palette_size: int) -> int:
    """Width of one candidate's feature row."""
    return PAIR_FEATURES + REGION_FEATURES + palette_size


def candidates(
    graph: RegionGraph, rid: int, hinted: dict[int, Color], *, palette: np.ndarray, palette_lab: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(colors (M, 3) uint8, features (M, input_size)) of the candidates for unhinted region `rid`: every
    distinct hint color, then every prior no hint color is already close to."""
    by_color: dict[Color, list[int]] = {}
    for hid, rgb in hinted.items():
        by_color.setdefault(tuple(int(v) for v in rgb), []).append(hid)
    hint_colors = np.array(sorted(by_color), np.uint8).reshape(-1, 3)
    hint_lab = rgb_to_lab(hint_colors) if len(hint_colors) else np.zeros((0, 3))
    k = len(palette)
    if len(hint_colors):
        de = delta_e2000(np.repeat(hint_lab, k, 0), np.tile(palette_lab, (len(hint_colors), 1))).reshape(
            -1, k
        )
    else:
        de = np.zeros((0, k))
    free_priors = np.flatnonzero(~(de < SAME_AS_PRIOR).any(axis=0)) if len(hint_colors) else np.arange(k)
    colors = np.concatenate([hint_colors, palette[free_priors]]).astype(np.uint8)
    labs = np.concatenate([hint_lab, palette_lab[free_priors]])
    hinted_ids = np.array(sorted(hinted), np.int64)
    hinted_area = float(graph.area[hinted_ids].sum()) if len(hinted_ids) else 0.0
    border = graph.border_row(rid)
    own = region_features(graph, rid, hinted=hinted, border=border)
    rows = np.zeros((len(colors), input_size(k)))
    for i, lab in enumerate(labs):
        if i < len(hint_colors):
            holders = np.array(by_color[tuple(int(v) for v in hint_colors[i])], np.int64)
            near = int(np.argmin(de[i]))
            if de[i, near] < SAME_AS_PRIOR:
                rows[i, PAIR_FEATURES + REGION_FEATURES + near] = 1.0
        else:
            holders = np.zeros(0, np.int64)
            rows[i, PAIR_FEATURES + REGION_FEATURES + free_priors[i - len(hint_colors)]] = 1.0
        rows[i, :PAIR_FEATURES] = pair_features(
            graph, rid, lab, holders=holders, hinted_area=hinted_area, n_hinted=len(hinted), border=border
        )
        rows[i, PAIR_FEATURES : PAIR_FEATURES + REGION_FEATURES] = own
    return colors, rows


def pairwise_delta_e(colors: np.ndarray) -> np.ndarray:
    """(M, M) CIEDE2000 between every two of M uint8 RGB colors."""
    lab = rgb_to_lab(np.asarray(colors, np.uint8).reshape(-1, 3))
    m = len(lab)
    return delta_e2000(np.repeat(lab, m, 0), np.tile(lab, (m, 1))).reshape(m, m)


@dataclass
class RegionFill:
    """The loaded model: MLP weights, the prior palette and the version every result records."""

    layers: list[tuple[np.ndarray, np.ndarray]]
    palette: np.ndarray  # (K, 3) uint8
    version: str

    def __post_init__(self) -> None:
        self.palette_lab = rgb_to_lab(self.palette)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """(M,) scores of candidate feature rows (higher is likelier)."""
        h = rows.astype(np.float32)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0)
        return h[:, 0]

    def fill_unhinted(
        self, drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]
    ) -> dict[int, Color]:
        """One candidate color per unhinted region (the hook `pipeline.colorize` takes as fill_unhinted)."""
        graph = region_graph(regions)
        out: dict[int, Color] = {}
        apart = None  # ΔE2000 between candidates: the same candidate list for every region of a drawing
        for rid in range(1, graph.count + 1):
            if rid in hinted or graph.area[rid] == 0:
                continue
            colors, rows = candidates(graph, rid, hinted, palette=self.palette, palette_lab=self.palette_lab)
            scores = self.score(rows)
            best = int(np.argmax(scores))
            share = np.exp(scores - scores[best])
            share /= share.sum()  # softmax: how likely the model finds each candidate
            if not hinted and share[best] < UNHINTED_SURE:
                continue  # with no hint at all, a region the model is unsure of stays paper white
            if hinted:  # the candidate least far, on average, from what the region likely is
                if apart is None:
                    apart = pairwise_delta_e(colors)
                best = int(np.argmin(apart @ share))
            out[rid] = (int(colors[best][0]), int(colors[best][1]), int(colors[best][2]))
        return out


def load(path: str | Path | None = None, *, device: str | None = None) -> RegionFill:
    """The region model in `path` (None: the shipped weights); `device` is accepted for the common
    convention and ignored (NumPy, CPU). Version = "regionfill-" + the file's sha256 prefix."""
    from safetensors import safe_open

    path = Path(SHIPPED_WEIGHTS if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(f"no region model at {path}; train one with `tint train regionfill`.")
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("model") != "regionfill":
        raise ValueError(f"{path} holds a {meta.get('model')!r} model, not a region model.")
    depth = int(json.loads(meta["config"])["layers"])
    layers = [
        (tensors[f"w{i}"].astype(np.float32), tensors[f"b{i}"].astype(np.float32)) for i in range(depth)
    ]
    return RegionFill(
        layers=layers,
        palette=tensors["palette"].astype(np.uint8),
        version=f"regionfill-{weights_digest(path)}",
    )
