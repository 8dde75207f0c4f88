"""Fills the benches compare: the shipped colorizer, fills named on the command line, and the rules.

A fill is what `pipeline.colorize` takes as fill_unhinted: (drawing, regions, hinted) -> region colors.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from collections.abc import Callable
from functools import reduce
from pathlib import Path

import cv2
import numpy as np

from bench.openmoji import DATA
from pipeline.color import Color

__all__ = ["Fill", "RULES", "most_common_rule", "nearest_rule", "load_method", "fill_methods", "fill_parser"]

Fill = Callable[[np.ndarray, np.ndarray, dict[int, Color]], dict[int, Color]]


def most_common_rule(drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> dict[int, Color]:
    """Rule (a): every unhinted region takes the hint color given to the most regions (ties: lower color)."""
    if not hinted:
        return {}
    counts: dict[Color, int] = {}
    for rgb in hinted.values():
        counts[rgb] = counts.get(rgb, 0) + 1
    color = min(counts, key=lambda c: (-counts[c], c))
    return {rid: color for rid in range(1, int(regions.max()) + 1) if rid not in hinted}


def nearest_rule(drawing: np.ndarray, regions: np.ndarray, hinted: dict[int, Color]) -> dict[int, Color]:
    """Rule (b): every unhinted region takes the color of the hinted region nearest to most of its pixels."""
    if not hinted:
        return {}
    count = int(regions.max())
    is_hinted = np.zeros(count + 1, bool)
    is_hinted[list(hinted)] = True
    source = is_hinted[regions]
    _, nearest = cv2.distanceTransformWithLabels(
        (~source).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    lut = np.zeros(int(nearest.max()) + 1, np.int64)
    lut[nearest[source]] = regions[source]
    near = lut[nearest]  # (H, W) id of the nearest hinted region
    free = (regions > 0) & ~source
    keys = regions[free].astype(np.int64) * (count + 1) + near[free]
    uniq, votes = np.unique(keys, return_counts=True)
    best: dict[int, tuple[int, int]] = {}
    for key, v in zip(uniq.tolist(), votes.tolist(), strict=True):
        rid, src = divmod(key, count + 1)
        if rid not in best or v > best[rid][1]:
            best[rid] = (src, v)
    return {rid: hinted[src] for rid, (src, _) in best.items()}


RULES: dict[str, Fill] = {"most_common": most_common_rule, "nearest": nearest_rule}


def _takes_three(obj: Callable) -> bool:
    try:
        inspect.signature(obj).bind(None, None, None)
    except (TypeError, ValueError):
        return False
    return True


def load_method(spec: str) -> Fill:
    """The fill named by "module:attr[@weights]" (module importable, e.g. on PYTHONPATH; attr may be dotted).

    attr is a fill (drawing, regions, hinted) -> colors, an object with .fill_unhinted, or a loader called
    with no arguments (or with the weights path after "@") that returns either of those."""
    target, _, weights = spec.partition("@")
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"method {spec!r} is not module:attr[@weights]; e.g. pipeline.models.colorizer:load")
    obj = reduce(getattr, attr.split("."), importlib.import_module(module_name))
    if not (inspect.isclass(obj) or weights) and hasattr(obj, "fill_unhinted"):
        return obj.fill_unhinted
    if not (inspect.isclass(obj) or weights) and _takes_three(obj):
        return obj
    made = obj(weights) if weights else obj()
    fill = getattr(made, "fill_unhinted", made)
    if not callable(fill):
        raise ValueError(f"method {spec!r} made {type(made).__name__}, which has no fill_unhinted.")
    return fill


def fill_methods(*, weights: str | None, model: bool, specs: list[str]) -> tuple[dict[str, Fill], str]:
    """({name: fill}, model version): the shipped colorizer as "model" (or `weights`; none unless `model`),
    each "NAME=module:attr[@weights]" of `specs` (see load_method), then the rules; on CPU, one thread."""
    import torch

    from pipeline.models import colorizer as colorizer_model

    torch.set_num_threads(1)
    methods: dict[str, Fill] = {}
    version = "none"
    if model:
        colorizer = colorizer_model.load(weights, device="cpu")
        methods["model"], version = colorizer.fill_unhinted, colorizer.version
    for entry in specs:
        name, sep, spec = entry.partition("=")
        if not sep or name in methods or name in RULES or name in {"ms", "one_per_region"}:
            raise ValueError(f"--method {entry!r} needs a new NAME=module:attr[@weights]")
        methods[name] = load_method(spec)
    return {**methods, **RULES}, version


def fill_parser(doc: str) -> argparse.ArgumentParser:
    """The options every fill bench shares: data sets, split, limit, the U-Net's weights and extra fills."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", help=f"data set folder (default {DATA})")
    parser.add_argument("--split", default="test", help="split of each data set (default test)")
    parser.add_argument("--limit", type=int, default=None, help="drawings per data set (default: all)")
    parser.add_argument("--weights", default=None, help="colorizer safetensors (default: shipped)")
    parser.add_argument("--no-model", action="store_true", help="bench only --method fills and the rules")
    parser.add_argument("--method", action="append", default=[], metavar="NAME=SPEC", help="extra fill")
    return parser
