"""Region engine benchmark: Tint vs a naive baseline on the OpenMoji test split, printed as one table.

    python bench/regions.py               # all 259 test drawings (a few minutes on 2 cores)
    python bench/regions.py --limit 40    # a quick look

Measures, for both methods in the same run: adjusted Rand index and boundary F1 (2 px) of the regions
against the true region map; flat accuracy (share of non-line pixels within ΔE2000 < 5 of the true flat
color) with every true region hinted at its point; the same after punching gaps of 1, 2 and 3 px into
5% of the line length (seeded); and time per drawing for region extraction at 256 px and 1024 px.
The naive baseline is a fixed threshold (< 128), scipy.ndimage.label (4-connected) and a fill.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.metrics import adjusted_rand_index, boundary_f1  # noqa: E402
from bench.openmoji import region_points  # noqa: E402
from pipeline import colorize, decode_image, decode_label_map, extract_lines, find_regions, hints_from_json  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.hints import parse_color  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
GAPS = (1, 2, 3)
GAP_SHARE = 0.05


def punch_gaps(grey: np.ndarray, *, gap: int, seed: int) -> np.ndarray:
    """Erase line across its full width at random places, gap px long each, over 5% of the line length."""
    from skimage.morphology import skeletonize

    line = grey < 128
    skeleton = skeletonize(line)
    ys, xs = np.nonzero(skeleton)
    if len(ys) == 0:
        return grey.copy()
    rng = np.random.default_rng(seed)
    cuts = max(1, int(round(GAP_SHARE * len(ys) / gap)))
    thickness = cv2.distanceTransform(line.view(np.uint8), cv2.DIST_L2, 5)
    out = grey.copy()
    yy, xx = np.mgrid[-12:13, -12:13]
    centers: list[tuple[int, int]] = []
    for i in rng.permutation(len(ys)):
        if len(centers) == cuts:
            break
        y, x = int(ys[i]), int(xs[i])
        # cuts stay apart, so two of them never merge into one wider gap
        if any(abs(y - cy) + abs(x - cx) < 4 * gap + 12 for cy, cx in centers):
            continue
        centers.append((y, x))
    for y, x in centers:
        near = (np.abs(ys - y) <= 3) & (np.abs(xs - x) <= 3)
        py, px = ys[near] - y, xs[near] - x
        if len(py) < 2:
            continue
        cov = np.cov(np.stack([px, py]).astype(np.float64))
        direction = np.linalg.eigh(cov)[1][:, -1]  # (dx, dy) along the line
        along = xx * direction[0] + yy * direction[1]
        across = -xx * direction[1] + yy * direction[0]
        half_width = float(thickness[y, x]) + 2.5
        lo = -(gap // 2) - 0.5
        cut = (along >= lo) & (along < lo + gap) & (np.abs(across) <= half_width)
        cy, cx = yy[cut] + y, xx[cut] + x
        ok = (cy >= 0) & (cy < grey.shape[0]) & (cx >= 0) & (cx < grey.shape[1])
        out[cy[ok], cx[ok]] = 255
    return out


def naive_regions(grey: np.ndarray) -> np.ndarray:
    """Baseline: fixed threshold 128 and scipy.ndimage.label (4-connected) of the rest; 0 = line."""
    labels, _ = ndimage.label(grey >= 128)
    return labels.astype(np.int32)


def naive_flats(labels: np.ndarray, *, points: list[tuple[int, int, tuple[int, int, int]]]) -> np.ndarray:
    """Baseline fill: each label takes the color of the last hint point inside it; the rest is white."""
    table = np.full((int(labels.max()) + 1, 3), 255, np.uint8)
    for x, y, rgb in points:
        if labels[y, x] > 0:
            table[labels[y, x]] = rgb
    return table[assign_line_pixels(labels)]


def flat_accuracy(flats: np.ndarray, *, true_flat: np.ndarray, valid: np.ndarray) -> float:
    """Share of valid pixels whose flat color is within ΔE2000 < 5 of the true flat color."""
    pred, true = flats[valid].astype(np.int64), true_flat[valid].astype(np.int64)
    key = (
        (pred[:, 0] << 40) | (pred[:, 1] << 32) | (pred[:, 2] << 24) | (true[:, 0] << 16) | (true[:, 1] << 8)
    )
    pairs, inverse = np.unique(key | true[:, 2], return_inverse=True)
    colors = np.stack([(pairs >> shift) & 255 for shift in (40, 32, 24, 16, 8, 0)], axis=1)
    de = delta_e2000(rgb_to_lab(colors[:, :3]), rgb_to_lab(colors[:, 3:]))
    return float((de[inverse] < 5).mean())


def evaluate(item: dict, *, seed: int) -> dict[str, float]:
    """All quality figures of one drawing for both methods."""
    folder = DATA / item["split"]
    name = item["name"]
    grey = cv2.imread(str(folder / f"{name}_line.png"), cv2.IMREAD_GRAYSCALE)
    true = decode_label_map((folder / f"{name}_regions.png").read_bytes())
    true_flat = decode_image((folder / f"{name}_flat.png").read_bytes())[..., :3]
    true_owner = assign_line_pixels(true)
    valid = true > 0
    points = [(r["point"][0], r["point"][1], parse_color(r["color"])) for r in item["regions"]]
    prompt = {"points": region_points(item["regions"])}
    hints = hints_from_json(prompt, width=grey.shape[1], height=grey.shape[0])
    out: dict[str, float] = {}
    cases = [("clean", grey)] + [
        (f"gap{g}", punch_gaps(grey, gap=g, seed=seed + zlib.crc32(name.encode()) + g)) for g in GAPS
    ]
    for case, image in cases:
        result = colorize(image, hints)
        base = naive_regions(image)
        for method, regions, flats in (
            ("tint", result.regions, result.flats),
            ("naive", base, naive_flats(base, points=points)),
        ):
            owner = assign_line_pixels(regions)
            out[f"{case}/{method}/ari"] = adjusted_rand_index(owner[valid], true[valid])
            out[f"{case}/{method}/bf1"] = boundary_f1(owner, true_owner)
            out[f"{case}/{method}/flat"] = flat_accuracy(flats, true_flat=true_flat, valid=valid)
    return out


def timing(items: list[dict], *, size: int) -> dict[str, tuple[float, float]]:
    """Median and p95 ms of region extraction per drawing at size x size, for both methods."""
    times: dict[str, list[float]] = {"tint": [], "naive": []}
    for item in items:
        grey = cv2.imread(str(DATA / item["split"] / f"{item['name']}_line.png"), cv2.IMREAD_GRAYSCALE)
        interp = cv2.INTER_AREA if size < grey.shape[0] else cv2.INTER_CUBIC
        grey = cv2.resize(grey, (size, size), interpolation=interp)
        drawing = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA)
        for _ in range(2):  # second run is measured: caches and allocator warm
            t0 = time.perf_counter()
            find_regions(extract_lines(drawing, with_colors=False).mask, gap_px=3, min_area=8)
            t1 = time.perf_counter()
            naive_regions(grey)
            t2 = time.perf_counter()
        times["tint"].append((t1 - t0) * 1000)
        times["naive"].append((t2 - t1) * 1000)
    return {k: (float(np.median(v)), float(np.percentile(v, 95))) for k, v in times.items()}


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N test drawings (0 = all)")
    parser.add_argument("--timing-limit", type=int, default=40, help="drawings timed per size")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--cv-threads", type=int, default=1, help="OpenCV threads (1, as in one worker process per core)"
    )
    args = parser.parse_args()
    cv2.setNumThreads(args.cv_threads)
    items = [i for i in json.loads((DATA / "index.json").read_text())["items"] if i["split"] == "test"]
    items = items[: args.limit] if args.limit else items
    t0 = time.perf_counter()
    rows: dict[str, list[float]] = {}
    for done, item in enumerate(items, start=1):
        for key, value in evaluate(item, seed=args.seed).items():
            rows.setdefault(key, []).append(value)
        if done % 20 == 0:
            print(f"  {done}/{len(items)} drawings, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    timed = items[: args.timing_limit]
    speed = {size: timing(timed, size=size) for size in (256, 1024)}
    mean = {k: float(np.mean(v)) for k, v in rows.items()}
    print(
        f"Region quality on {len(items)} OpenMoji test drawings (512 px); gaps punched into "
        f"{GAP_SHARE:.0%} of line length, seed {args.seed}; timing on {len(timed)} drawings, "
        f"{args.cv_threads} OpenCV thread(s).\n"
    )
    print("| measure | naive baseline | Tint |")
    print("|---|---:|---:|")
    labels = {"ari": "adjusted Rand index", "bf1": "boundary F1 (2 px)", "flat": "flat accuracy (ΔE2000 < 5)"}
    for case in ["clean"] + [f"gap{g}" for g in GAPS]:
        where = "clean lines" if case == "clean" else f"gaps of {case[3:]} px"
        for metric, label in labels.items():
            naive, tint = mean[f"{case}/naive/{metric}"], mean[f"{case}/tint/{metric}"]
            print(f"| {label}, {where} | {naive:.3f} | {tint:.3f} |")
    for size, res in speed.items():
        naive, tint = res["naive"], res["tint"]
        print(
            f"| region extraction ms, {size} px: median / p95 | {naive[0]:.1f} / {naive[1]:.1f} "
            f"| {tint[0]:.1f} / {tint[1]:.1f} |"
        )
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
