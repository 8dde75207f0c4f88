"""Clicks to finish: how many hints a simulated artist gives before every region of a drawing is right.

A true region is right when its median CIEDE2000 over its non-line pixels, against its true flat color,
is < 5; it is fixable when it is right with every region hinted at its point (a color edge with no line
between is no edge for Tint's region engine, so no click can right both sides). The artist starts with no
hints. After each colorize (`pipeline.colorize` with the fill method) it clicks the largest fixable region
that is still wrong, in its true color at its representative point (index.json `point`), until every
fixable region is right, or every wrong one was clicked already (a second click at the same point in the
same color changes nothing), or it has made 2 x regions clicks. Methods:
  model            the shipped colorizer (or --weights)
  NAME             any fill given as --method NAME=module:attr[@weights] (see bench.fills.load_method)
  most_common      the rule: unhinted regions take the most common hint color
  nearest          the rule: unhinted regions take the nearest hinted region's color
  one_per_region   one click per fixable region, the floor of today's tools (Krita's colorize mask),
                   where every region needs its click
Prints mean and median clicks per drawing, the share of drawings finished (every fixable region right),
and mean clicks(method) / mean clicks(one_per_region), the issue's goal being <= 0.7x. Lines and regions
are found once per drawing and reused by every click.

    .venv/bin/python bench/clicks.py [--data DIR ...] [--limit N] [--weights PATH] [--method NAME=SPEC ...]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.colorize import (  # noqa: E402
    Drawing,
    Match,
    judge_result,
    match_regions,
    read_drawings,
    report_progress,
)
from bench.fills import Fill, fill_methods, fill_parser  # noqa: E402
from bench.openmoji import DATA, items, region_points  # noqa: E402
from pipeline.colorize import Found, colorize, find_lines_and_regions  # noqa: E402
from pipeline.hints import hints_from_json  # noqa: E402
from pipeline.regions import assign_line_pixels  # noqa: E402

__all__ = [
    "ONE_PER_REGION",
    "fixable_regions",
    "simulate_artist",
    "clicks_for_fills",
    "clicks_to_finish",
    "main",
]

ONE_PER_REGION = "one_per_region"


def _right_after(
    d: Drawing, clicked: list[dict], *, fill: Fill | None, found: Found, match: Match
) -> np.ndarray:
    """(count + 1,) bool: the true regions right after colorizing with a hint at each clicked region."""
    height, width = d.truth.shape
    hints = hints_from_json({"points": region_points(clicked)}, width=width, height=height)
    result = colorize(d.drawing, hints, fill_unhinted=fill, found=found)
    right, _, _ = judge_result(match, result, truth=d.truth, flats=d.flats)
    right[0] = True  # id 0 (line) is no region
    return right


def fixable_regions(d: Drawing, *, found: Found, match: Match) -> np.ndarray:
    """(count + 1,) bool: the true regions right when every region is hinted at its point, i.e. those
    Tint's region engine can make right at all (a color edge with no line between is no engine edge)."""
    fixable = _right_after(d, d.table, fill=None, found=found, match=match)
    fixable[0] = False
    return fixable


def simulate_artist(
    d: Drawing, fill: Fill, *, found: Found, match: Match, goal: np.ndarray
) -> tuple[int, bool]:
    """(clicks, finished): the simulated artist's clicks on one drawing until every `goal` region is right.

    Each click goes to the largest wrong goal region not clicked yet (ties: lower id)."""
    by_size = [r for r in sorted(d.table, key=lambda r: (-r["area"], r["id"])) if goal[r["id"]]]
    clicked: list[dict] = []
    tried: set[int] = set()
    while True:
        right = _right_after(d, clicked, fill=fill, found=found, match=match)
        if right[goal].all():
            return len(clicked), True
        pick = next((r for r in by_size if not right[r["id"]] and r["id"] not in tried), None)
        if pick is None or len(clicked) >= 2 * len(d.table):
            return len(clicked), False
        clicked.append(pick)
        tried.add(pick["id"])


def _summary(clicks: list[int], finished: list[bool], regions: list[int], fixable: list[int]) -> dict:
    return {
        "drawings": len(clicks),
        "mean": float(np.mean(clicks)) if clicks else float("nan"),
        "median": float(statistics.median(clicks)) if clicks else float("nan"),
        "finished": float(np.mean(finished)) if finished else float("nan"),
        "regions": float(np.mean(regions)) if regions else float("nan"),
        "fixable": float(np.mean(fixable)) if fixable else float("nan"),
        "per_drawing": clicks,
    }


def clicks_for_fills(
    data_dir: Path, fills: Mapping[str, Fill], *, split: str = "test", limit: int | None = None
) -> dict[str, dict]:
    """{name: summary} for each fill and for ONE_PER_REGION on data_dir's split; see clicks_to_finish."""
    total = len(items(Path(data_dir), split=split)[:limit])
    runs: dict[str, tuple[list[int], list[bool]]] = {name: ([], []) for name in [*fills, ONE_PER_REGION]}
    regions: list[int] = []
    t0 = time.perf_counter()
    for done, d in enumerate(read_drawings(data_dir, split=split, limit=limit), 1):
        found = find_lines_and_regions(d.drawing)  # once per drawing: no click reruns the region engine
        match = match_regions(truth=d.truth, flats=d.flats, owner=assign_line_pixels(found.regions))
        regions.append(len(d.table))
        goal = fixable_regions(d, found=found, match=match)
        runs[ONE_PER_REGION][0].append(int(goal.sum()))
        runs[ONE_PER_REGION][1].append(True)
        for name, fill in fills.items():
            clicks, finished = simulate_artist(d, fill, found=found, match=match, goal=goal)
            runs[name][0].append(clicks)
            runs[name][1].append(finished)
        report_progress(done, total, t0=t0, what=f"clicks {Path(data_dir).name}")
    fixable = runs[ONE_PER_REGION][0]
    return {name: _summary(clicks, done, regions, fixable) for name, (clicks, done) in runs.items()}


def clicks_to_finish(data_dir: Path, fill: Fill, *, split: str = "test", limit: int | None = None) -> dict:
    """Clicks per drawing of the simulated artist with `fill`, beside one click per region.

    {"drawings", "mean", "median", "finished" (share of drawings with every fixable region right),
    "regions" and "fixable" (mean true and fixable regions), "per_drawing", "one_per_region": the same
    summary for one click per fixable region}."""
    got = clicks_for_fills(data_dir, {"fill": fill}, split=split, limit=limit)
    return {**got["fill"], ONE_PER_REGION: got[ONE_PER_REGION]}


def _print_set(set_name: str, runs: dict[str, dict]) -> None:
    floor = runs[ONE_PER_REGION]["mean"]
    for name, s in runs.items():
        ratio = s["mean"] / floor if floor else float("nan")
        head = f"{set_name:<24} {name:<15} {s['drawings']:>4} {s['regions']:>8.1f} {s['fixable']:>8.1f}"
        print(f"{head} {s['mean']:>6.1f} {s['median']:>6.1f} {s['finished']:>9.0%} {ratio:>8.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = fill_parser(__doc__)
    args = parser.parse_args(argv)
    try:
        fills, version = fill_methods(weights=args.weights, model=not args.no_model, specs=args.method)
    except (ValueError, ImportError, AttributeError) as exc:
        parser.error(str(exc))
    sets = {
        f"{folder.name}-{args.split}": clicks_for_fills(folder, fills, split=args.split, limit=args.limit)
        for folder in args.data or [DATA]
    }
    print(f"colorizer {version} | clicks to finish per drawing | ratio: mean clicks / one_per_region's")
    head = f"{'set':<24} {'method':<15} {'n':>4} {'regions':>8} {'fixable':>8} {'mean':>6} {'median':>6}"
    print(f"{head} {'finished':>9} {'ratio':>9}")
    for set_name, runs in sets.items():
        _print_set(set_name, runs)
    print("goal: clicks to finish <= 0.70x one_per_region")


if __name__ == "__main__":
    main()
