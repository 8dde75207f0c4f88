"""Benchmark how the colorizer fills the regions no hint reaches, against two simple rules; prints one table.

Sets: the `test` split of each --data folder (default ../shared/data/openmoji; any folder in its layout,
e.g. ~/.cache/tint/sources/<source>) and --generated held-out generated characters (seeds never trained on).
For each drawing and each share of hinted true regions (0%, 25%, 50%; seeded, one hint point each at the
region's representative point, true color), run `pipeline.colorize` with each way to fill the rest:
  model         the shipped colorizer (or --weights)
  NAME          any fill given as --method NAME=module:attr[@weights] (see bench.fills.load_method)
  most_common   unhinted regions take the most common hint color
  nearest       unhinted regions take the color of the nearest hinted region
  ceiling       (--ceiling) each unhinted region takes the region colorizer's candidate nearest its truth:
                what no picker over those candidates can beat (bench/ceiling.py)
and measure on the non-line pixels of the *unhinted true regions*, against the true flat color:
  right    the share of those regions whose median CIEDE2000 is < 5 (what an artist need not touch)
  mean dE  the mean CIEDE2000 over their pixels
  dE<10    the share of their pixels within CIEDE2000 < 10
each per drawing, then averaged. With no hints the rules leave regions white (colorize's default). Ratios
are the issue's goals: model's right / best rule's, and mean dE / best rule's. Lines and regions are found
once per drawing; the median colorize time (both and the model included) is printed with the load average.

    .venv/bin/python bench/colorize.py [--data DIR ...] [--limit N] [--generated 200] [--weights PATH]
        [--method NAME=module:attr[@weights] ...]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ceiling import CEILING  # noqa: E402
from bench.fills import RULES, Fill, fill_methods, fill_parser, most_common_rule, nearest_rule  # noqa: E402
from bench.openmoji import DATA, items, region_points  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.colorize import ColorizeResult, colorize, find_lines_and_regions  # noqa: E402
from pipeline.hints import format_color, hints_from_json  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402
from pipeline.train.characters import make_character  # noqa: E402

__all__ = [
    "SHARES",
    "RULES",
    "Drawing",
    "Match",
    "most_common_rule",
    "nearest_rule",
    "read_drawings",
    "match_regions",
    "judge_regions",
    "judge_result",
    "report_progress",
    "evaluate_fills",
    "evaluate_fill",
    "main",
]

HELD_OUT_SEED = 424_242  # generated characters use seeds HELD_OUT_SEED * 100003 + i; training never does
SHARES = (0.0, 0.25, 0.5)
RIGHT_DE = 5.0  # a region is right when its median CIEDE2000 is below this
Color = tuple[int, int, int]


class Drawing(NamedTuple):
    """One benched drawing: line art (H, W, 4), true flats (H, W, 3), true regions (H, W) and their table."""

    name: str
    drawing: np.ndarray
    flats: np.ndarray
    truth: np.ndarray
    table: list[dict]  # index.json "regions": id, color, area, point


def read_drawings(data_dir: Path, *, split: str = "test", limit: int | None = None) -> Iterator[Drawing]:
    """The drawings of one split of a folder in the OpenMoji layout, in index order."""
    for item in items(Path(data_dir), split=split)[:limit]:
        base = Path(data_dir) / split / item["name"]
        drawing = np.asarray(Image.open(f"{base}_line.png").convert("RGBA"))
        flats = np.asarray(Image.open(f"{base}_flat.png").convert("RGB"))
        truth = np.asarray(Image.open(f"{base}_regions.png")).astype(np.int32)
        yield Drawing(item["name"], drawing, flats, truth, item["regions"])


def _generated(count: int) -> Iterator[Drawing]:
    for i in range(count):
        c = make_character(seed=HELD_OUT_SEED * 100_003 + i, size=512)
        table = [
            {"id": rid, "color": format_color(c.region_colors[rid]), "point": list(c.points[rid])}
            for rid in sorted(c.region_colors)
        ]
        areas = np.bincount(c.regions.ravel())
        for row in table:
            row["area"] = int(areas[row["id"]])
        yield Drawing(f"gen{i}", c.drawing, c.flats, c.regions, table)


@dataclass(frozen=True)
class Match:
    """How one drawing's true regions meet the engine's: pixel counts per (true region, owner, true color).

    colorize paints every owner region (line pixels given to a neighbour) one color, so a fill's error
    on the true regions follows from its region colors alone, without touching pixels again."""

    true_id: np.ndarray  # (P,) int64 true region of each pair
    owner: np.ndarray  # (P,) int64 engine region that paints it
    true_lab: np.ndarray  # (P, 3) the true flat color, Lab
    pixels: np.ndarray  # (P,) int64 pixel count
    count: int  # true regions 1..count


def match_regions(*, truth: np.ndarray, flats: np.ndarray, owner: np.ndarray) -> Match:
    """The Match of true regions (H, W), true flats (H, W, 3) and colorize's owner map (H, W) int32."""
    inside = truth > 0  # the true regions' non-line pixels
    rgb = flats[inside].astype(np.int64)
    key = np.stack([truth[inside], owner[inside], rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]], 1)
    uniq, pixels = np.unique(key, axis=0, return_counts=True)
    true_rgb = np.stack([(uniq[:, 2] >> s) & 255 for s in (16, 8, 0)], 1)
    return Match(uniq[:, 0], uniq[:, 1], rgb_to_lab(true_rgb), pixels, int(truth.max(initial=0)))


def judge_regions(match: Match, region_colors: Mapping[int, Color]) -> tuple[np.ndarray, np.ndarray]:
    """(right, de): right (count + 1,) bool per true region (median CIEDE2000 < 5, 0 unused), and the
    CIEDE2000 of each pair of `match` under colorize's region colors."""
    top = max(int(match.owner.max(initial=0)), max(region_colors, default=0))
    table = np.full((top + 1, 3), 255, np.uint8)
    for rid, rgb in region_colors.items():
        table[rid] = rgb
    de = delta_e2000(rgb_to_lab(table)[match.owner], match.true_lab)
    size = np.bincount(match.true_id, weights=match.pixels, minlength=match.count + 1)
    close = np.bincount(match.true_id, weights=match.pixels * (de < RIGHT_DE), minlength=match.count + 1)
    return close * 2 > size, de  # the median is below 5 when more than half the pixels are


def judge_result(
    match: Match, result: ColorizeResult, *, truth: np.ndarray, flats: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Match]:
    """judge_regions on the map colorize filled, and the match it used: hints of several colors in one
    region cut it (`pipeline.conflicts`), so the match is made again on the cut map then."""
    if result.proof.get("regions_cut"):
        match = match_regions(truth=truth, flats=flats, owner=assign_line_pixels(result.regions))
    right, de = judge_regions(match, result.region_colors)
    return right, de, match


def _chosen(table: list[dict], *, share: float, seed: int, index: int) -> list[dict]:
    rng = np.random.default_rng([seed, index, int(share * 100)])
    k = int(round(share * len(table)))
    return [table[i] for i in sorted(rng.choice(len(table), size=k, replace=False))] if k else []


def report_progress(done: int, total: int | None, *, t0: float, what: str) -> None:
    """One progress line on stderr, rewritten in place on a terminal."""
    of = f"/{total}" if total else ""
    line = f"{what}: {done}{of} drawings, {time.perf_counter() - t0:.0f} s"
    if sys.stderr.isatty():
        print("\r" + line, end="" if done != total else "\n", file=sys.stderr, flush=True)
    elif done % 10 == 0 or done == total:
        print(line, file=sys.stderr, flush=True)


def _evaluate(
    drawings: Iterable[Drawing],
    fills: Mapping[str, Fill],
    *,
    shares: tuple[float, ...],
    seed: int,
    what: str = "colorize",
    total: int | None = None,
    ceiling: Callable[[np.ndarray], Fill] | None = None,
) -> dict[str, dict]:
    """{method: {share: figures}, "ms": {method: median ms}} over drawings; see evaluate_fill. ceiling: makes
    a fill from a drawing's true flats (bench.ceiling), scored as the method "ceiling"."""
    rows: dict[tuple[str, float], list[tuple[float, float, float]]] = {}
    times: dict[str, list[float]] = {name: [] for name in fills}
    t0 = time.perf_counter()
    for done, d in enumerate(drawings, 1):
        index = done - 1
        height, width = d.truth.shape
        t1 = time.perf_counter()
        found = find_lines_and_regions(d.drawing)
        find_ms = (time.perf_counter() - t1) * 1000
        match = match_regions(truth=d.truth, flats=d.flats, owner=assign_line_pixels(found.regions))
        for share in shares:
            chosen = _chosen(d.table, share=share, seed=seed, index=index)
            hints = hints_from_json({"points": region_points(chosen)}, width=width, height=height)
            unhinted = np.ones(match.count + 1, bool)
            unhinted[[0, *(r["id"] for r in chosen)]] = False
            if not unhinted[match.true_id].any():
                continue
            here_fills = dict(fills) if ceiling is None else {**fills, CEILING: ceiling(d.flats)}
            for name, fill in here_fills.items():
                t1 = time.perf_counter()
                result = colorize(d.drawing, hints, fill_unhinted=fill, found=found)
                times.setdefault(name, []).append(find_ms + (time.perf_counter() - t1) * 1000)
                right, de, used = judge_result(match, result, truth=d.truth, flats=d.flats)
                here = unhinted[used.true_id]
                de, pixels = de[here], used.pixels[here]
                figures = (
                    float(right[unhinted].mean()),
                    float((de * pixels).sum() / pixels.sum()),
                    float(pixels[de < 10].sum() / pixels.sum()),
                )
                rows.setdefault((name, share), []).append(figures)
        report_progress(done, total, t0=t0, what=what)
    out: dict[str, dict] = {name: {} for name in [*fills, *([CEILING] if ceiling else [])]}
    for (name, share), got in rows.items():
        right, mean, within = (float(np.mean(col)) for col in zip(*got, strict=True))
        out[name][share] = {"n": len(got), "right": right, "mean_de": mean, "within_10": within}
    out["ms"] = {name: statistics.median(ms) if ms else float("nan") for name, ms in times.items()}
    return out


def evaluate_fills(
    data_dir: Path,
    fills: Mapping[str, Fill],
    *,
    split: str = "test",
    limit: int | None = None,
    shares: tuple[float, ...] = SHARES,
    seed: int = 0,
    ceiling: Callable[[np.ndarray], Fill] | None = None,
) -> dict[str, dict]:
    """evaluate_fill for several fills on the same drawings and hints: {name: {share: figures}, "ms": ...};
    with `ceiling`, also the method "ceiling" (see _evaluate)."""
    total = len(items(Path(data_dir), split=split)[:limit])
    drawings = read_drawings(data_dir, split=split, limit=limit)
    return _evaluate(
        drawings, fills, shares=shares, seed=seed, what=Path(data_dir).name, total=total, ceiling=ceiling
    )


def evaluate_fill(
    data_dir: Path,
    fill: Fill,
    *,
    split: str = "test",
    limit: int | None = None,
    shares: tuple[float, ...] = SHARES,
    seed: int = 0,
) -> dict:
    """{share: {"n", "right", "mean_de", "within_10"}, "ms": median ms} of one fill on data_dir's split.

    right: share of unhinted true regions with median CIEDE2000 < 5; mean_de: mean CIEDE2000 over their
    non-line pixels; within_10: share of those pixels within 10; each per drawing, averaged over n."""
    got = evaluate_fills(data_dir, {"fill": fill}, split=split, limit=limit, shares=shares, seed=seed)
    return {**got["fill"], "ms": got["ms"]["fill"]}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else ("1.00x" if a == b else "inf")


def _print_set(set_name: str, scores: dict[str, dict], *, shares: tuple[float, ...]) -> None:
    """Every method's figures per share, then each non-rule method's ratios to the best rule."""
    models = [name for name in scores if name not in RULES and name != "ms"]
    for share in shares:
        for name in [*models, *RULES]:
            f = scores[name].get(share)
            if f is None:
                continue
            head = f"{set_name:<24} {share:>6.0%} {name:<14} {f['n']:>4}"
            print(f"{head} {f['right']:>7.1%} {f['mean_de']:>8.2f} {f['within_10']:>7.1%}")
        rules = [scores[r][share] for r in RULES if share in scores[r]]
        if not rules:
            continue
        best_right = max(f["right"] for f in rules)
        best_mean = min(f["mean_de"] for f in rules)
        for name in models:
            f = scores[name].get(share)
            if f is not None:
                print(
                    f"{'':<24} {'':>6} {name + ' / best rule':<27} right {_ratio(f['right'], best_right)}"
                    f" (goal >= 2x)  mean dE {_ratio(f['mean_de'], best_mean)} (goal <= 0.85x)"
                )


def main(argv: list[str] | None = None) -> None:
    parser = fill_parser(__doc__)
    parser.add_argument("--generated", type=int, default=200, help="held-out generated characters")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hint choice")
    parser.add_argument(
        "--ceiling", action="store_true", help="also the candidate ceiling of the shipped region colorizer"
    )
    args = parser.parse_args(argv)
    try:
        methods, version = fill_methods(weights=args.weights, model=not args.no_model, specs=args.method)
    except (ValueError, ImportError, AttributeError) as exc:
        parser.error(str(exc))
    ceiling = None
    if args.ceiling:
        from bench.ceiling import ceiling_fill
        from pipeline.models import regionfill

        region_model = regionfill.load()
        ceiling = partial(ceiling_fill, region_model)
    sets: dict[str, dict] = {}
    for folder in args.data or [DATA]:
        scores = evaluate_fills(
            folder, methods, split=args.split, limit=args.limit, seed=args.seed, ceiling=ceiling
        )
        sets[f"{folder.name}-{args.split}"] = scores
    if args.generated:
        drawings = _generated(args.generated)
        sets["generated"] = _evaluate(
            drawings, methods, shares=SHARES, seed=args.seed, total=args.generated, ceiling=ceiling
        )
    print(f"colorizer {version} | unhinted true regions, per drawing then averaged | seed {args.seed}")
    print(f"{'set':<24} {'hinted':>6} {'method':<14} {'n':>4} {'right':>7} {'mean dE':>8} {'dE<10':>7}")
    for set_name, scores in sets.items():
        _print_set(set_name, scores, shares=SHARES)
    timed = "model" if "model" in methods else next(iter(methods))
    load = os.getloadavg()[0]
    for set_name, scores in sets.items():
        ms = scores["ms"][timed]
        what = f"colorize {set_name} with {timed}, lines and regions included, CPU median"
        print(f"{what}: {ms:.0f} ms (load {load:.1f})")


if __name__ == "__main__":
    main()
