"""Benchmark the colorizer against two simple rules on real and generated drawings; prints one table.

Sets: the `test` split of ../shared/data/openmoji (512 px) and 200 held-out generated characters (512 px,
seeds never used in training). For each drawing and each share of hinted true regions (0%, 25%, 50%;
seeded choice, one hint point each at the region's representative point, true color), run
`pipeline.colorize` with each way of filling the unhinted regions:
  model         the shipped colorizer (or --weights)
  most_common   unhinted regions take the most common hint color
  nearest       unhinted regions take the color of the nearest hinted region
and measure, on the non-line pixels of the *unhinted true regions*, the share within CIEDE2000 < 10 of the
true flat color and the mean CIEDE2000 (per drawing, then averaged over drawings). With no hints the rules
leave regions white (colorize's default). Also prints the median colorize time (512 px, model included;
the machine's load average is printed with it, since these cores are shared).

    .venv/bin/python bench/colorize.py [--limit N] [--generated 200] [--weights PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import region_points  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.colorize import colorize  # noqa: E402
from pipeline.fill import paint_flats  # noqa: E402
from pipeline.hints import format_color, hints_from_json  # noqa: E402
from pipeline.models import colorizer as colorizer_model  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402
from pipeline.train.characters import make_character  # noqa: E402

__all__ = ["most_common_rule", "nearest_rule", "main"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openmoji"
HELD_OUT_SEED = 424_242  # generated characters use seeds HELD_OUT_SEED * 100003 + i; training never does
SHARES = (0.0, 0.25, 0.5)
WHITE = (255, 255, 255)
Color = tuple[int, int, int]


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


def _openmoji(limit: int | None) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray, list[dict]]]:
    items = [it for it in json.loads((DATA / "index.json").read_text())["items"] if it["split"] == "test"]
    for item in items[:limit]:
        base = DATA / "test" / item["name"]
        drawing = np.asarray(Image.open(f"{base}_line.png").convert("RGBA"))
        flats = np.asarray(Image.open(f"{base}_flat.png").convert("RGB"))
        truth = np.asarray(Image.open(f"{base}_regions.png")).astype(np.int32)
        yield item["name"], drawing, flats, truth, item["regions"]


def _generated(count: int) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray, list[dict]]]:
    for i in range(count):
        c = make_character(seed=HELD_OUT_SEED * 100_003 + i, size=512)
        table = [
            {"id": rid, "color": format_color(c.region_colors[rid]), "point": list(c.points[rid])}
            for rid in sorted(c.region_colors)
        ]
        yield f"gen{i}", c.drawing, c.flats, c.regions, table


def _score(flats: np.ndarray, truth_rgb: np.ndarray, where: np.ndarray) -> tuple[float, float] | None:
    """(share within dE < 10, mean dE) over `where`; colors are few, so dE is computed per color pair."""
    if not where.any():
        return None
    pack = lambda a: (a[..., 0].astype(np.int64) << 16) | (a[..., 1].astype(np.int64) << 8) | a[..., 2]  # noqa: E731
    keys = pack(flats[where]) << 24 | pack(truth_rgb[where])
    uniq, counts = np.unique(keys, return_counts=True)
    pred = np.stack([(uniq >> 40) & 255, (uniq >> 32) & 255, (uniq >> 24) & 255], 1)
    true = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], 1)
    de = delta_e2000(rgb_to_lab(pred), rgb_to_lab(true))
    total = counts.sum()
    return float(counts[de < 10].sum() / total), float((de * counts).sum() / total)


def _run_set(drawings, methods: dict[str, Callable], *, seed: int, times: list[float]) -> dict:
    """{(share, method): [(within, mean), ...]} over the drawings of one set.

    colorize runs once per drawing and share with the model; the rules fill the same regions from the
    same resolved hints exactly as colorize would (white default, rule colors, hints win).
    """
    scores: dict[tuple[float, str], list[tuple[float, float]]] = {}
    for index, (_name, drawing, truth_rgb, truth, table) in enumerate(drawings):
        height, width = truth.shape
        for share in SHARES:
            rng = np.random.default_rng([seed, index, int(share * 100)])
            k = int(round(share * len(table)))
            chosen = [table[i] for i in sorted(rng.choice(len(table), size=k, replace=False))] if k else []
            prompt = {"points": region_points(chosen)}
            hints = hints_from_json(prompt, width=width, height=height)
            hinted_ids = np.zeros(int(truth.max()) + 1, bool)
            hinted_ids[[r["id"] for r in chosen]] = True
            where = (truth > 0) & ~hinted_ids[truth]
            t0 = time.perf_counter()
            result = colorize(drawing, hints, fill_unhinted=methods["model"])
            times.append(time.perf_counter() - t0)
            owner = assign_line_pixels(result.regions)
            for method, fill in methods.items():
                flats = result.flats
                if method != "model":  # the same steps colorize takes, on the same regions and hints
                    colors = {rid: WHITE for rid in range(1, int(result.regions.max()) + 1)}
                    colors.update(fill(drawing, result.regions, dict(result.hinted)))
                    colors.update(result.hinted)
                    flats = paint_flats(owner=owner, region_colors=colors)
                score = _score(flats, truth_rgb, where)
                if score is not None:
                    scores.setdefault((share, method), []).append(score)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="test drawings to use (default: all)")
    parser.add_argument("--generated", type=int, default=200, help="held-out generated characters")
    parser.add_argument("--weights", default=None, help="colorizer safetensors (default: shipped)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hint choice")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    model = colorizer_model.load(args.weights, device="cpu")
    methods = {"model": model.fill_unhinted, "most_common": most_common_rule, "nearest": nearest_rule}
    times: list[float] = []
    sets = {
        "openmoji-test": _run_set(_openmoji(args.limit), methods, seed=args.seed, times=times),
        "generated": _run_set(_generated(args.generated), methods, seed=args.seed, times=times),
    }
    print(f"colorizer {model.version} | unhinted true regions, per drawing then averaged | seed {args.seed}")
    print(f"{'set':<14} {'hinted':>6} {'method':<12} {'n':>4} {'dE<10':>7} {'mean dE':>8}")
    verdict = True
    ratios = []
    for set_name, scores in sets.items():
        for share in SHARES:
            means = {}
            for method in methods:
                rows = scores.get((share, method), [])
                within = float(np.mean([r[0] for r in rows])) if rows else float("nan")
                means[method] = float(np.mean([r[1] for r in rows])) if rows else float("nan")
                row = f"{set_name:<14} {share:>6.0%} {method:<12} {len(rows):>4}"
                print(f"{row} {within:>7.1%} {means[method]:>8.2f}")
            if share > 0:
                ra, rb = means["most_common"] / means["model"], means["nearest"] / means["model"]
                ratios.append(f"{set_name} {share:.0%}: most_common/model {ra:.2f}x, nearest/model {rb:.2f}x")
                verdict &= ra > 1 and rb > 1
    print("mean dE ratios (rule / model; > 1 means the model is better):")
    for line in ratios:
        print("  " + line)
    print(f"model beats both rules at 25% and 50% on both sets: {'yes' if verdict else 'NO'}")
    median_ms = statistics.median(times) * 1000
    load = os.getloadavg()[0]
    print(
        f"colorize 512x512 with the model, CPU, median of {len(times)}: {median_ms:.0f} ms (load {load:.1f})"
    )


if __name__ == "__main__":
    main()
