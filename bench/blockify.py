"""Blockify benchmark: the partition model vs three baselines on the OpenMoji test split, one table.

    python bench/blockify.py                 # all 259 test drawings (512 px), clean and degraded
    python bench/blockify.py --limit 40      # a quick look
    python bench/blockify.py --tune          # grid-search the baselines' parameters on the train split

Each test drawing's colored image is blockified as it is (clean) and after the seeded degradations of
`pipeline.train.degrade` (cel shading, highlights, gradients, texture, noise, blur, JPEG; seed + a hash
of the name). Measures, against the true region map:
- adjusted Rand index over the true non-line pixels;
- boundary F1 (2 px): both label maps restricted to the true non-line pixels, line pixels given to the
  nearest non-line pixel's label (the same for every method, so no method is scored on the lines
  themselves), then boundary pixels matched within 2 px;
- mean ΔE2000 of block colors to the true flat colors: per true region, the mean over its non-line pixels
  of ΔE(color of the block the pixel is in, the region's flat color); averaged over regions, then drawings.
Baselines (parameters tuned on the train split with `--tune`, drawings upscaled to 512 px, half clean and
half degraded, best mean of ARI and boundary F1): exact-color connected components with specks merged,
`skimage.segmentation.felzenszwalb`, and SLIC; their block color is the mean color of the block.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.metrics import adjusted_rand_index, boundary_f1  # noqa: E402
from pipeline.blockify import blockify, equal_color_components  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.images import decode_label_map  # noqa: E402
from pipeline.models import partition  # noqa: E402
from pipeline.regions import assign_line_pixels, merge_specks, number_in_reading_order  # noqa: E402
from pipeline.train.degrade import degrade_seeded  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
CASES = ("clean", "degraded")
# chosen by `--tune` on the train split at 256 px, best mean of ARI and boundary F1 per case; for the
# 512 px test split, area-like parameters (min_area, scale, min_size) are x4 and felzenszwalb's sigma x2
EXACT = {"clean": {"min_area": 256}, "degraded": {"min_area": 1024}}
FELZENSZWALB = {
    "clean": {"scale": 200, "sigma": 1.0, "min_size": 400},
    "degraded": {"scale": 6400, "sigma": 2.0, "min_size": 200},
}
SLIC = {"clean": {"n_segments": 10, "compactness": 1}, "degraded": {"n_segments": 10, "compactness": 1}}


def mean_region_delta_e(
    labels: np.ndarray, colors: np.ndarray, *, true: np.ndarray, true_colors: np.ndarray
) -> float:
    """Mean over true regions of the mean ΔE2000 between block colors and the region's flat color."""
    valid = true > 0
    pair = true[valid].astype(np.int64) * (int(labels.max()) + 1) + labels[valid]
    keys, counts = np.unique(pair, return_counts=True)
    rid, bid = keys // (int(labels.max()) + 1), keys % (int(labels.max()) + 1)
    de = delta_e2000(rgb_to_lab(colors[bid]), rgb_to_lab(true_colors[rid]))
    per_region = np.bincount(rid, weights=de * counts) / np.maximum(np.bincount(rid, weights=counts), 1)
    present = np.bincount(rid) > 0
    return float(per_region[present].mean())


def score(labels: np.ndarray, colors: np.ndarray, *, true: np.ndarray, true_colors: np.ndarray) -> dict:
    """ARI, boundary F1 and mean ΔE of one method's blocks against one drawing's truth."""
    valid = true > 0
    pred_owner = assign_line_pixels(np.where(valid, labels + 1, 0))
    return {
        "ari": adjusted_rand_index(labels[valid], true[valid]),
        "bf1": boundary_f1(pred_owner, assign_line_pixels(true)),
        "de": mean_region_delta_e(labels, colors, true=true, true_colors=true_colors),
    }


def mean_colors(rgb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N + 1, 3) uint8 mean color per label."""
    count = int(labels.max()) + 1
    n = np.maximum(np.bincount(labels.ravel(), minlength=count), 1)
    sums = [np.bincount(labels.ravel(), weights=rgb[..., c].ravel(), minlength=count) for c in range(3)]
    return np.clip(np.floor(np.stack(sums, 1) / n[:, None] + 0.5), 0, 255).astype(np.uint8)


def exact_blocks(rgb: np.ndarray, *, min_area: int) -> np.ndarray:
    """Baseline: 4-connected pieces of exactly equal color, pieces under min_area merged into a neighbour."""
    return number_in_reading_order(
        merge_specks(equal_color_components(rgb), min_area=min_area, zero_is_line=False)
    )


def felzenszwalb_blocks(rgb: np.ndarray, *, scale: float, sigma: float, min_size: int) -> np.ndarray:
    """Baseline: skimage felzenszwalb graph segmentation."""
    from skimage.segmentation import felzenszwalb

    return felzenszwalb(rgb, scale=scale, sigma=sigma, min_size=min_size).astype(np.int32)


def slic_blocks(rgb: np.ndarray, *, n_segments: int, compactness: float) -> np.ndarray:
    """Baseline: skimage SLIC superpixels (in Lab, connectivity enforced)."""
    from skimage.segmentation import slic

    return slic(rgb, n_segments=n_segments, compactness=compactness, start_label=0).astype(np.int32)


Method = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def baselines(exact: dict, felz: dict, slic_p: dict) -> dict[str, Method]:
    """The three baselines as image -> (labels, block colors)."""

    def wrap(fn, params):
        def run(rgb):
            labels = fn(rgb, **params)
            return labels, mean_colors(rgb, labels)

        return run

    return {
        "exact-color CC": wrap(exact_blocks, exact),
        "felzenszwalb": wrap(felzenszwalb_blocks, felz),
        "SLIC": wrap(slic_blocks, slic_p),
    }


def model_method(model, **kwargs) -> Method:
    """The partition model through `pipeline.blockify`."""

    def run(rgb):
        result = blockify(rgb, model=model, **kwargs)
        colors = np.zeros((int(result.labels.max()) + 1, 3), np.uint8)
        for block in result.table:
            colors[block.id] = block.color
        return result.labels, colors

    return run


def load_drawing(item: dict, *, size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(colored RGB, true regions, true color per region id) of one drawing, optionally resized."""
    folder = DATA / item["split"]
    rgb = cv2.imread(str(folder / f"{item['name']}_color.png"), cv2.IMREAD_COLOR)[..., ::-1].copy()
    true = decode_label_map((folder / f"{item['name']}_regions.png").read_bytes()).astype(np.int32)
    if size and size != rgb.shape[0]:
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)
        true = cv2.resize(true, (size, size), interpolation=cv2.INTER_NEAREST)
    colors = np.zeros((len(item["regions"]) + 1, 3), np.uint8)
    for r in item["regions"]:
        colors[r["id"]] = [int(r["color"][i : i + 2], 16) for i in (1, 3, 5)]
    return rgb, true, colors


def evaluate(
    items: list[dict], methods: dict[str, Method | dict[str, Method]], *, seed: int, size: int | None = None
) -> dict:
    """Mean of every measure per (case, method), and median ms per method.

    A method is one function, or {"clean": fn, "degraded": fn} when its parameters differ per case.
    """
    rows: dict[tuple[str, str, str], list[float]] = {}
    times: dict[str, list[float]] = {}
    for item in items:
        rgb, true, true_colors = load_drawing(item, size=size)
        degraded = degrade_seeded(
            rgb, labels=assign_line_pixels(true), seed=seed + zlib.crc32(item["name"].encode())
        )
        for case, image in (("clean", rgb), ("degraded", degraded)):
            for name, entry in methods.items():
                method = entry[case] if isinstance(entry, dict) else entry
                t0 = time.perf_counter()
                labels, colors = method(image)
                times.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
                for key, value in score(labels, colors, true=true, true_colors=true_colors).items():
                    rows.setdefault((case, name, key), []).append(value)
    return summarize(rows, times)


def summarize(rows: dict, times: dict) -> dict:
    """Means of the per-drawing rows, medians of the times."""
    out = {k: float(np.mean(v)) for k, v in rows.items()}
    out.update({("time", name, "ms"): float(np.median(v)) for name, v in times.items()})
    out["raw"] = (rows, times)
    return out


def tune(items: list[dict], *, seed: int, only: str = "") -> None:
    """Grid-search each baseline on train drawings at their native 256 px; print every setting and the best.

    Area-like parameters (min_area, felzenszwalb scale and min_size) scale with pixel count, so the test
    split (512 px) uses 4x the tuned value; SLIC's segment count and compactness carry over as they are.
    """
    grids = {
        "exact-color CC": (exact_blocks, {"min_area": [4, 8, 16, 32, 64, 128, 256]}),
        "felzenszwalb": (
            felzenszwalb_blocks,
            {"scale": [25, 50, 100, 200, 400, 800, 1600], "sigma": [0.5, 1.0], "min_size": [12, 25, 50, 100]},
        ),
        "SLIC": (slic_blocks, {"n_segments": [5, 10, 20, 40, 80], "compactness": [0.5, 1, 5, 10, 20]}),
    }
    for name, (fn, grid) in grids.items():
        if only and only != name:
            continue
        results = []
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values, strict=True))
            m = evaluate(items, {name: baselines_one(fn, params)}, seed=seed)
            per_case = {c: float(np.mean([m[(c, name, k)] for k in ("ari", "bf1")])) for c in CASES}
            results.append((per_case, params))
            print(f"{name} {params}: " + ", ".join(f"{c} {v:.4f}" for c, v in per_case.items()), flush=True)
        for case in CASES:
            best = max(results, key=lambda r: r[0][case])
            print(f"BEST {name}, {case}: {best[1]} ({best[0][case]:.4f})", flush=True)


def baselines_one(fn, params) -> Method:
    """One baseline with fixed parameters as a Method."""

    def run(rgb):
        labels = fn(rgb, **params)
        return labels, mean_colors(rgb, labels)

    return run


def print_table(m: dict, *, names: list[str], count: int, seed: int) -> None:
    """The benchmark table in Markdown."""
    print(
        f"Blockify on {count} OpenMoji test drawings (512 px), clean and degraded (seed {seed}).\n"
        "Baseline parameters (tuned on the train split per case, area-like ones x4 for 512 px):\n"
        + "".join(
            f"- {name}: clean {params['clean']}, degraded {params['degraded']}\n"
            for name, params in (("exact-color CC", EXACT), ("felzenszwalb", FELZENSZWALB), ("SLIC", SLIC))
        )
    )
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    labels = {
        "ari": "adjusted Rand index ↑",
        "bf1": "boundary F1 (2 px) ↑",
        "de": "mean ΔE2000 of block colors ↓",
    }
    for case in ("clean", "degraded"):
        for key, label in labels.items():
            values = [m[(case, n, key)] for n in names]
            print(f"| {label}, {case} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    print(
        "| ms per drawing (median, 512 px) | "
        + " | ".join(f"{m[('time', n, 'ms')]:.0f}" for n in names)
        + " |"
    )


def main() -> None:
    """Run the benchmark (or the baseline tuning) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N drawings (0 = all)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--tune", action="store_true", help="tune the baselines on the train split")
    parser.add_argument("--tune-count", type=int, default=16)
    parser.add_argument("--tune-only", default="", help="tune one baseline only (its name in the table)")
    parser.add_argument("--weights", type=Path, default=partition.DEFAULT_WEIGHTS)
    parser.add_argument("--shard", default="", help="K/N: run every N-th drawing from K, save rows to --rows")
    parser.add_argument("--rows", type=Path, help="where a shard saves its per-drawing rows (JSON)")
    parser.add_argument("--merge", type=Path, nargs="*", help="print the table of these saved shards")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    items = json.loads((DATA / "index.json").read_text())["items"]
    if args.tune:
        train = [i for i in items if i["split"] == "train"]
        rng = np.random.default_rng(args.seed)
        tune(
            [train[i] for i in rng.choice(len(train), args.tune_count, replace=False)],
            seed=args.seed,
            only=args.tune_only,
        )
        return
    test = [i for i in items if i["split"] == "test"]
    test = test[: args.limit] if args.limit else test
    names = ["exact-color CC", "felzenszwalb", "SLIC", "partition model"]
    if args.merge:
        rows, times, count = {}, {}, 0
        for path in args.merge:
            saved = json.loads(path.read_text())
            count += saved["count"]
            for key, values in saved["rows"]:
                rows.setdefault(tuple(key), []).extend(values)
            for name, values in saved["times"].items():
                times.setdefault(name, []).extend(values)
        print_table(summarize(rows, times), names=names, count=count, seed=args.seed)
        return
    if args.shard:
        k, n = (int(v) for v in args.shard.split("/"))
        test = test[k::n]
    model = partition.load(args.weights)
    methods = {
        **{
            name: {case: baselines(EXACT[case], FELZENSZWALB[case], SLIC[case])[name] for case in CASES}
            for name in names[:3]
        },
        "partition model": model_method(model),
    }
    t0 = time.perf_counter()
    m = evaluate(test, methods, seed=args.seed)
    if args.shard:
        rows, times = m["raw"]
        saved = {"count": len(test), "rows": [[list(k), v] for k, v in rows.items()], "times": times}
        args.rows.write_text(json.dumps(saved))
        return
    print_table(m, names=names, count=len(test), seed=args.seed)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
