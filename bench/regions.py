"""Region engine benchmark: Tint vs a naive baseline on OpenMoji line art, clean and hard, as one table.

    python bench/regions.py                          # all 259 test drawings (several minutes on 2 cores)
    python bench/regions.py --limit 40               # a quick look
    python bench/regions.py --split train --limit 40 # tune thresholds on train, never on test
    python bench/regions.py --data ~/.cache/tint/sources/noto   # a source built by pipeline.train.sources

Measures, for both methods in the same run and per case: flat accuracy (share of true non-line pixels
within ΔE2000 < 5 of the true flat color) with every true region hinted at its point; adjusted Rand index
and boundary F1 (2 px) of the regions against the true region map; true regions merged into another; and
the share of drawings where Tint's flat accuracy is below the baseline's by more than 0.002. Cases:
clean lines; gaps of 1, 2 and 3 px punched into 5% of the line length; and the styles of
`pipeline.train.line_styles`: solid ink over a quarter of the drawing's inside (`solid`) or nearly all of
it (`mostly_solid`), strokes pulled back 2-6 px from the line they met (`open`), and regions pinched to
2-5 px passages (`pinch`), each with its truth changed to match. All cases are seeded per drawing. Also
the time per drawing for region extraction at 256 px and 1024 px. The naive baseline is a fixed threshold
(< 128), scipy.ndimage.label (4-connected) and a fill.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.metrics import adjusted_rand_index, boundary_f1, merged_regions  # noqa: E402
from bench.openmoji import region_points  # noqa: E402
from pipeline import colorize, decode_image, decode_label_map, extract_lines, find_regions, hints_from_json  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.hints import parse_color  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402
from pipeline.train.line_styles import pinch_regions, pull_back_ends, solid_ink  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
GAPS = (1, 2, 3)
GAP_SHARE = 0.05
SOLID_SHARE, MOSTLY_SOLID_SHARE = 0.25, 0.9  # of the drawing's inside (non-line pixels off the paper)
OPEN_PX, OPEN_SHARE = (2, 6), 0.5  # pulled back by 2-6 px, at half the T/Y junctions that part two regions
PINCH_PX, PINCH_COUNT = (2, 5), 2
WORSE_BY = 0.002
CASES = ["clean"] + [f"gap{g}" for g in GAPS] + ["solid", "mostly_solid", "open", "pinch"]
WHERE = {
    "clean": "clean lines",
    **{f"gap{g}": f"gaps of {g} px" for g in GAPS},
    "solid": f"solid ink, {SOLID_SHARE:.0%} of inside",
    "mostly_solid": f"solid ink, {MOSTLY_SOLID_SHARE:.0%} of inside",
    "open": f"open strokes, {OPEN_PX[0]}-{OPEN_PX[1]} px short",
    "pinch": f"pinched to {PINCH_PX[0]}-{PINCH_PX[1]} px",
}

Truth = tuple[np.ndarray, np.ndarray, np.ndarray]  # grey (H, W) uint8, labels (H, W), flat (H, W, 3)


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


def styled(case: str, truth: Truth, *, seed: int, name: str) -> Truth:
    """The drawing and its truth for one case, seeded per drawing; only solid and pinch change the truth."""
    grey, labels, flat = truth
    crc = zlib.crc32(name.encode())
    rng = np.random.default_rng([seed, crc, CASES.index(case)])
    styles: dict[str, Callable[[], Truth]] = {
        "clean": lambda: truth,
        **{
            f"gap{g}": (lambda g=g: (punch_gaps(grey, gap=g, seed=seed + crc + g), labels, flat))
            for g in GAPS
        },
        "solid": lambda: solid_ink(grey, labels, flat, rng=rng, share=SOLID_SHARE),
        "mostly_solid": lambda: solid_ink(grey, labels, flat, rng=rng, share=MOSTLY_SOLID_SHARE),
        "open": lambda: (
            pull_back_ends(grey, rng=rng, px=OPEN_PX, share=OPEN_SHARE, labels=labels),
            labels,
            flat,
        ),
        "pinch": lambda: pinch_regions(grey, labels, flat, rng=rng, width=PINCH_PX, count=PINCH_COUNT),
    }
    return styles[case]()


def truth_points(labels: np.ndarray, regions: list[dict]) -> list[dict]:
    """index.json regions still present, each point moved to its deepest pixel if a style inked it."""
    kept = []
    for r in regions:
        x, y = r["point"]
        if labels[y, x] != r["id"]:
            inside = np.pad(labels == r["id"], 1)
            if not inside.any():
                continue  # inked solid: no longer a region to hint
            dist = cv2.distanceTransform(inside.view(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
            y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        kept.append({**r, "point": [int(x), int(y)]})
    return kept


def evaluate(item: dict, *, seed: int) -> dict[str, float]:
    """All quality figures of one drawing for both methods, every case the drawing has.

    A style that finds nothing to change (no junction to open, no region to pinch) leaves the drawing
    out of that case, so each case averages the drawings it changed."""
    folder = DATA / item["split"]
    name = item["name"]
    grey = cv2.imread(str(folder / f"{name}_line.png"), cv2.IMREAD_GRAYSCALE)
    labels = decode_label_map((folder / f"{name}_regions.png").read_bytes())
    flat = decode_image((folder / f"{name}_flat.png").read_bytes())[..., :3]
    out: dict[str, float] = {}
    for case in CASES:
        image, true, true_flat = styled(case, (grey, labels, flat), seed=seed, name=name)
        if case != "clean" and np.array_equal(image, grey):
            continue
        regions = truth_points(true, item["regions"])
        points = [(r["point"][0], r["point"][1], parse_color(r["color"])) for r in regions]
        prompt = {"points": region_points(regions)}
        hints = hints_from_json(prompt, width=grey.shape[1], height=grey.shape[0])
        true_owner = assign_line_pixels(true)
        valid = true > 0
        added_ink = (true == 0) & (labels > 0)  # pixels a style turned to ink
        result = colorize(image, hints)
        base = naive_regions(image)
        for method, found, flats in (
            ("tint", result.regions, result.flats),
            ("naive", base, naive_flats(base, points=points)),
        ):
            owner = assign_line_pixels(found)
            out[f"{case}/{method}/ari"] = adjusted_rand_index(owner[valid], true[valid])
            out[f"{case}/{method}/bf1"] = boundary_f1(owner, true_owner)
            out[f"{case}/{method}/flat"] = flat_accuracy(flats, true_flat=true_flat, valid=valid)
            out[f"{case}/{method}/merged"] = merged_regions(owner[valid], true[valid])
            if added_ink.any():
                out[f"{case}/{method}/ink"] = float((found[added_ink] == 0).mean())
        out[f"{case}/tint/worse"] = float(out[f"{case}/tint/flat"] < out[f"{case}/naive/flat"] - WORSE_BY)
        out[f"{case}/ink_share"] = float((image < 128).mean())
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


def print_table(results: list[dict[str, float]], speed: dict[int, dict[str, tuple[float, float]]]) -> None:
    """The per-case table (naive / Tint in each cell), then the timing rows."""
    rows: dict[str, list[float]] = {}
    for result in results:
        for key, value in result.items():
            rows.setdefault(key, []).append(value)
    mean = {k: float(np.mean(v)) for k, v in rows.items()}
    print(
        "| case | drawings | flat accuracy (ΔE2000 < 5) | adjusted Rand index | boundary F1 (2 px) "
        "| true regions merged per drawing | Tint worse than naive |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        if f"{case}/tint/flat" not in mean:
            continue
        cells = [
            f"{mean[f'{case}/naive/{m}']:.3f} / {mean[f'{case}/tint/{m}']:.3f}"
            for m in ("flat", "ari", "bf1")
        ]
        cells.append(f"{mean[f'{case}/naive/merged']:.2f} / {mean[f'{case}/tint/merged']:.2f}")
        cells.append(f"{mean[f'{case}/tint/worse']:.1%} ({int(sum(rows[f'{case}/tint/worse']))})")
        print(f"| {WHERE[case]} | {len(rows[f'{case}/tint/flat'])} | " + " | ".join(cells) + " |")
    print("\n(each cell: naive baseline / Tint)\n")
    for case in CASES:
        if f"{case}/tint/ink" in mean:
            shares = np.asarray(rows[f"{case}/ink_share"])  # of the drawings the case changed
            print(
                f"- {case}: ink covers {shares.mean():.0%} of the picture on average, over 40% in "
                f"{int((shares > 0.4).sum())} drawings; the ink the style added is line in Tint's regions: "
                f"{mean[f'{case}/tint/ink']:.3f} (naive {mean[f'{case}/naive/ink']:.3f})"
            )
    print("\n| region extraction ms | naive baseline | Tint |")
    print("|---|---:|---:|")
    for size, res in speed.items():
        naive, tint = res["naive"], res["tint"]
        print(
            f"| {size} px: median / p95 | {naive[0]:.1f} / {naive[1]:.1f} | {tint[0]:.1f} / {tint[1]:.1f} |"
        )


def main() -> None:
    """Run the benchmark and print the table."""
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=int, default=0, help="only the first N drawings of the split (0 = all)"
    )
    parser.add_argument(
        "--split", choices=("train", "test"), default="test", help="train to tune thresholds; test to report"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="a data set in OpenMoji's layout (default: ../shared OpenMoji)",
    )
    parser.add_argument("--timing-limit", type=int, default=40, help="drawings timed per size")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--cv-threads", type=int, default=1, help="OpenCV threads (1, as in one worker process per core)"
    )
    args = parser.parse_args()
    DATA = args.data.expanduser()
    cv2.setNumThreads(args.cv_threads)
    items = [i for i in json.loads((DATA / "index.json").read_text())["items"] if i["split"] == args.split]
    items = items[: args.limit] if args.limit else items
    t0 = time.perf_counter()
    results = []
    for done, item in enumerate(items, start=1):
        results.append(evaluate(item, seed=args.seed))
        if done % 20 == 0:
            print(f"  {done}/{len(items)} drawings, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    timed = items[: args.timing_limit]
    speed = {size: timing(timed, size=size) for size in (256, 1024)}
    size = items[0]["size"] if items else 0
    print(
        f"Region quality on {len(items)} {DATA.name} {args.split} drawings ({size} px); gaps punched into "
        f"{GAP_SHARE:.0%} of line length; seed {args.seed}; timing on {len(timed)} drawings, "
        f"{args.cv_threads} OpenCV thread(s).\n"
    )
    print_table(results, speed)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
