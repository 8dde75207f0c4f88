"""Propagation benchmark: one colored drawing of a character colors another drawing of it, segment by segment.

    python bench/propagate.py                 # every pair set (a few minutes on 2 cores)
    python bench/propagate.py --limit 10      # a quick look: 10 pairs per set
    python bench/propagate.py --split train   # tune here: OpenMoji train targets, generated seeds 8000+
    python bench/propagate.py --misses        # also why Tint's misses are wrong (merged, absent, mismatched)

Pair sets (reference -> target):
- `gen expression`: a generated character (`make_character(seed, pose=0, expression=...)`), same pose,
  another expression; `gen pose`: same expression, another pose (arms, legs, head tilt, placement);
  `gen mirrored`: the expression pairs with the reference flipped left to right.
- `openmoji mirrored`: OpenMoji's right-facing emoji and the left-facing one they mirror (ZWJ 27A1);
  `openmoji variants`: person / man / woman of one role (the same design with other hair and face).

The reference is the colored picture (lines over colors); the target is its line drawing. Measures, as
BasicPBC reports them: segment accuracy (share of the target's true regions whose majority predicted color
is within ΔE2000 < 5 of their true color), the same over regions of more than 10 px, pixel accuracy with
line pixels left out (over all pixels, and over the character's: non-background), and background IoU
(white connected to the picture's border). Rows, all in the same
run: Tint (`pipeline.prompt_to_hints` with the reference, then `pipeline.colorize`, as the worker runs
them), pixel copy after alignment (the colors under the aligned reference, the present baseline), one
color per region from the reference region with the nearest centroid, and the region oracle: each region
Tint finds in the drawing painted its most common true color (the most matching those regions can reach;
the reference's splits can go past it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import DATA, items  # noqa: E402
from pipeline import alignment, colorize, decode_image, decode_label_map, prompt_to_hints  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.colorize import outside_regions  # noqa: E402
from pipeline.models import regionfill  # noqa: E402
from pipeline.reference import color_regions  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402
from pipeline.train.characters import make_character  # noqa: E402
from pipeline.train.regionfill import region_truth  # noqa: E402

Pair = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # name, reference, drawing, flat, regions
METHODS = ("tint", "pixel copy", "nearest centroid", "region oracle")


# --- pairs ----------------------------------------------------------------------------------------------


def generated_pairs(kind: str, *, count: int, first: int, size: int = 256) -> Iterator[Pair]:
    """(name, reference RGB, target drawing RGB, its true flats, its true regions) of generated pairs; seeds
    from `first` (9000 to measure, 8000 to tune: neither is a seed the models train on, s * 100003 + i)."""
    for seed in range(first, first + count):
        ref = make_character(seed=seed, size=size, pose=0, expression=0)
        other = {"pose": 1, "expression": 0} if kind == "pose" else {"pose": 0, "expression": 1}
        target = make_character(seed=seed, size=size, **other)
        colored = ref.colored[:, ::-1] if kind == "mirrored" else ref.colored
        yield (
            f"gen{seed}",
            np.ascontiguousarray(colored),
            target.drawing[..., :3],
            target.flats,
            target.regions,
        )


def _read(root: Path, item: dict, kind: str) -> np.ndarray:
    path = root / item["split"] / f"{item['name']}_{kind}.png"
    if kind == "regions":
        return decode_label_map(path.read_bytes(), name=path.name)
    return decode_image(path.read_bytes(), name=path.name)[..., :3]


def openmoji_pairs(kind: str, *, root: Path, split: str) -> Iterator[Pair]:
    """OpenMoji pairs whose target is in `split` (the reference may be in either split)."""
    by_name = {it["name"]: it for it in items(root)}
    pairs: list[tuple[str, str]] = []
    if kind == "mirrored":
        for name in by_name:
            if name.endswith("-200D-27A1-FE0F"):
                base = name[: -len("-200D-27A1-FE0F")]
                if base in by_name:
                    pairs.append((base, name))
    else:  # person (1F9D1) -> man (1F468) and woman (1F469) of the same role, no skin tone
        for name in by_name:
            if name.startswith("1F9D1-200D-") and "1F3F" not in name:
                pairs += [(name, g + name[5:]) for g in ("1F468", "1F469") if g + name[5:] in by_name]
    for ref_name, target_name in pairs:
        target = by_name[target_name]
        if target["split"] != split:
            continue
        yield (
            target_name,
            _read(root, by_name[ref_name], "color"),
            _read(root, target, "line"),
            _read(root, target, "flat"),
            _read(root, target, "regions"),
        )


# --- methods --------------------------------------------------------------------------------------------


def tint(reference: np.ndarray, drawing: np.ndarray, model: object) -> np.ndarray:
    """Flats (H, W, 3) of the drawing colored from the reference, by the worker's own path."""
    resolved = prompt_to_hints(drawing, {}, reference=reference)
    result = colorize(
        drawing,
        resolved.hints,
        found=resolved.found,
        regions=resolved.regions,
        fill_unhinted=model.fill_unhinted,
    )
    return result.flats


def _refined_landing(reference: np.ndarray, drawing: np.ndarray) -> tuple[np.ndarray, ...]:
    """(ry, rx) reference pixel under each drawing pixel by the refined alignment, and the regions."""
    resolved = prompt_to_hints(drawing, {})
    regions = resolved.found.regions
    border = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    t_fg = (regions == 0) | ~np.isin(regions, border)
    matrices, _ = alignment.candidate_alignments(
        regions, reference, t_fg=t_fg, r_fg=alignment.foreground(reference), angles=(0.0,)
    )
    ry, rx = alignment.landing(matrices[-1], regions.shape, reference.shape[:2])
    return ry, rx, regions


def pixel_copy(reference: np.ndarray, drawing: np.ndarray, model: object) -> np.ndarray:
    """Each drawing pixel takes the reference color under it after alignment."""
    ry, rx, _ = _refined_landing(reference, drawing)
    return reference[ry, rx]


def nearest_centroid(reference: np.ndarray, drawing: np.ndarray, model: object) -> np.ndarray:
    """One color per drawing region: that of the reference region whose centroid (in the foreground box) is
    nearest its own."""
    regions = prompt_to_hints(drawing, {}).found.regions
    ref_regions = color_regions(reference)

    def centroids(labels: np.ndarray, fg: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = alignment.box(fg)
        count = int(labels.max(initial=0))
        yy, xx = np.mgrid[0 : labels.shape[0], 0 : labels.shape[1]]
        area = np.maximum(np.bincount(labels.ravel(), minlength=count + 1), 1)
        cx = np.bincount(labels.ravel(), weights=xx.ravel(), minlength=count + 1) / area
        cy = np.bincount(labels.ravel(), weights=yy.ravel(), minlength=count + 1) / area
        return np.stack([(cx - x0) / max(1.0, x1 - x0), (cy - y0) / max(1.0, y1 - y0)], 1)

    tc = centroids(regions, alignment.foreground(drawing, tolerance=24) | (regions == 0))
    rc = centroids(ref_regions, alignment.foreground(reference))
    ref_ids = ref_regions.ravel()
    first = np.zeros(len(rc), np.int64)
    first[ref_ids[::-1]] = np.arange(ref_ids.size)[::-1]
    ref_color = reference.reshape(-1, 3)[first]
    dist = np.hypot(*(tc[:, None, :] - rc[None, 1:, :]).transpose(2, 0, 1))
    lut = ref_color[1:][dist.argmin(1)]
    out = lut[regions]
    out[regions == 0] = 255
    return out


def region_oracle(drawing: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """One color per region Tint finds in the drawing, its most common true color: the most any matching of
    those regions can reach (the reference's splits left aside)."""
    regions = assign_line_pixels(prompt_to_hints(drawing, {}).found.regions)
    lut = np.full((int(regions.max(initial=0)) + 1, 3), 255, np.uint8)
    for rid, color in region_truth(regions, flat).items():
        lut[rid] = color
    return lut[regions]


# --- measures -------------------------------------------------------------------------------------------


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) bool: ΔE2000 < 5 between two (N, 3) uint8 color lists."""
    return delta_e2000(rgb_to_lab(a), rgb_to_lab(b)) < 5


def _background(flat: np.ndarray) -> np.ndarray:
    """White pixels connected to the picture's border."""
    white = (flat.astype(np.int32) >= 250).all(-1)
    labels, _ = ndimage.label(white)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge[edge > 0])


def measure(pred: np.ndarray, *, flat: np.ndarray, regions: np.ndarray) -> dict[str, float]:
    """BasicPBC's measures of predicted flats against the true flats and true regions."""
    valid = regions > 0
    right = np.zeros(valid.shape, bool)
    right[valid] = _close(pred[valid], flat[valid])
    count = int(regions.max(initial=0))
    area = np.bincount(regions.ravel(), minlength=count + 1)
    hits = np.bincount(regions.ravel(), weights=right.ravel(), minlength=count + 1)
    ok = hits[1:] > area[1:] / 2  # the region's majority predicted color is right
    big = area[1:] > 10
    true_bg, pred_bg = _background(flat) & valid, _background(pred) & valid
    union = (true_bg | pred_bg).sum()
    return {
        "segment": float(ok.mean()) if count else 1.0,
        "segment>10": float(ok[big].mean()) if big.any() else 1.0,
        "pixel": float(right[valid].mean()) if valid.any() else 1.0,
        "fg pixel": float(right[valid & ~true_bg].mean()) if (valid & ~true_bg).any() else 1.0,
        "bg iou": float((true_bg & pred_bg).sum() / union) if union else 1.0,
    }


MISSES = ("merged", "absent", "mismatched")


def misses(
    pred: np.ndarray, *, reference: np.ndarray, oracle: np.ndarray, flat: np.ndarray, regions: np.ndarray
) -> dict[str, int]:
    """How many true regions there are ("true") and why those `pred` gets wrong are wrong, a count of each
    kind and of them under 30 px (kind + " <30"):
    merged (the region oracle misses it too: Tint's regions join it to a neighbour), absent (no region of
    the reference, its ink and paper left aside, has its color) or mismatched (one has, another was taken)."""
    labels = color_regions(reference)  # ink is 0
    paper = outside_regions(labels)
    held = np.array(
        [c for i, c in region_truth(labels, reference).items() if i not in paper], np.uint8
    ).reshape(-1, 3)
    truths = region_truth(regions, flat)
    out = dict.fromkeys(("true",) + MISSES + tuple(f"{k} <30" for k in MISSES), 0)
    for rid in range(1, int(regions.max(initial=0)) + 1):
        where = regions == rid
        area = int(where.sum())
        out["true"] += area > 0
        if area == 0 or _close(pred[where], flat[where]).mean() > 0.5:
            continue
        truth = np.array(truths[rid], np.uint8)
        if _close(oracle[where], flat[where]).mean() <= 0.5:
            kind = "merged"
        elif len(held) == 0 or not _close(np.repeat(truth[None], len(held), 0), held).any():
            kind = "absent"
        else:
            kind = "mismatched"
        out[kind] += 1
        out[f"{kind} <30"] += area < 30
    return out


# --- the run --------------------------------------------------------------------------------------------


def run(
    sets: dict[str, Iterator[Pair]], *, limit: int | None, weights: Path | None = None, why: bool = False
) -> dict[str, dict[str, list[dict]]]:
    """Per pair set and method, the measures of every pair (`weights`: a region colorizer, None: shipped);
    with `why`, also "misses": Tint's misses of each pair by kind (see `misses`)."""
    model = regionfill.load(weights, device="cpu")
    methods: dict[str, Callable] = {
        "tint": tint,
        "pixel copy": pixel_copy,
        "nearest centroid": nearest_centroid,
    }
    out: dict[str, dict[str, list[dict]]] = {}
    for set_name, pairs in sets.items():
        rows: dict[str, list[dict]] = {m: [] for m in METHODS}
        t0 = time.perf_counter()
        for i, (_, ref, drawing, flat, truth) in enumerate(pairs):
            if limit is not None and i >= limit:
                break
            preds = {method: fn(ref, drawing, model) for method, fn in methods.items()}
            oracle = region_oracle(drawing, flat)
            for method, pred in preds.items():
                rows[method].append(measure(pred, flat=flat, regions=truth))
            rows["region oracle"].append(measure(oracle, flat=flat, regions=truth))
            if why:
                rows.setdefault("misses", []).append(
                    misses(preds["tint"], reference=ref, oracle=oracle, flat=flat, regions=truth)
                )
        out[set_name] = rows
        print(f"  {set_name}: {len(rows['tint'])} pairs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def print_table(results: dict[str, dict[str, list[dict]]]) -> None:
    """One markdown table: a row per pair set and method, BasicPBC's measures as means over pairs."""
    keys = ("segment", "segment>10", "pixel", "fg pixel", "bg iou")
    print(
        "| pairs | n | method | segment acc | segment acc >10 px | pixel acc (no lines) "
        "| non-background pixel acc | background IoU |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for set_name, rows in results.items():
        for method in METHODS:
            got = rows[method]
            if not got:
                continue
            means = [100 * float(np.mean([r[k] for r in got])) for k in keys]
            print(f"| {set_name} | {len(got)} | {method} | " + " | ".join(f"{m:.1f}%" for m in means) + " |")


def print_misses(results: dict[str, dict[str, list[dict]]]) -> None:
    """One markdown table: per pair set, Tint's missed true regions by kind (of them under 30 px)."""
    print(
        "\n| pairs | true regions | missed | merged by Tint's regions | color absent from the reference "
        "| mismatched |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for set_name, rows in results.items():
        counts = rows.get("misses", [])
        if not counts:
            continue
        total = {k: sum(c[k] for c in counts) for k in counts[0]}
        cells = " | ".join(f"{total[k]} ({total[k + ' <30']} under 30 px)" for k in MISSES)
        print(f"| {set_name} | {total['true']} | {sum(total[k] for k in MISSES)} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="pairs per set (default: all)")
    parser.add_argument("--generated", type=int, default=40, help="generated characters per set")
    parser.add_argument("--size", type=int, default=256, help="generated drawings' side in pixels")
    parser.add_argument("--split", default="test", choices=("train", "test"), help="OpenMoji targets' split")
    parser.add_argument("--data", type=Path, default=DATA, help="the OpenMoji data set")
    parser.add_argument("--weights", type=Path, default=None, help="region colorizer (default: shipped)")
    parser.add_argument("--misses", action="store_true", help="also a table of why Tint's misses are wrong")
    args = parser.parse_args()
    first = 8_000 if args.split == "train" else 9_000
    sets = {
        "gen expression": generated_pairs("expression", count=args.generated, first=first, size=args.size),
        "gen pose": generated_pairs("pose", count=args.generated, first=first, size=args.size),
        "gen mirrored": generated_pairs("mirrored", count=args.generated, first=first, size=args.size),
        "openmoji mirrored": openmoji_pairs("mirrored", root=args.data, split=args.split),
        "openmoji variants": openmoji_pairs("variants", root=args.data, split=args.split),
    }
    results = run(sets, limit=args.limit, weights=args.weights, why=args.misses)
    print_table(results)
    if args.misses:
        print_misses(results)


if __name__ == "__main__":
    main()
