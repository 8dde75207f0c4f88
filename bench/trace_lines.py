"""Trace-line benchmark: colored shadow and highlight lines filled away, against today's behaviour.

    python bench/trace_lines.py                        # 24 OpenMoji test drawings per set + 24 generated
    python bench/trace_lines.py --limit 40 --generated 40
    python -m pipeline.train.trace_lines               # builds the om-shadows set (~/.cache/tint/trace-lines)

Drawings with trace lines, each with its truth (`pipeline.train.trace_lines`):
- om-shadows: the OpenMoji drawings whose SVGs have a non-empty `skin-shadow` group (14 of 1,300, every
  split), traced along that group's edges, as built by `python -m pipeline.train.trace_lines` (`--traced`);
  left out when not built;
- om-redrawn: OpenMoji test drawings with about half of their ink lines between two inner regions of
  different colors redrawn red, blue or green (the ink's own anti-aliasing), so their regions are the same;
- om-boundaries: OpenMoji test drawings with a trace line (2-3 px, anti-aliased, under the ink) wherever two
  true regions of different colors touch with no ink between;
- generated: characters with shaded parts (a darker or lighter band) bounded by red, blue or green lines.
Every true region is hinted at its point with its true color; default settings. Two methods in the same
run: `trace lines` (Tint now: default trace colors and rules) and `today` (`trace_lines: false`, every line
is ink, as before trace lines existed). Measured on `colored`, per drawing, then averaged:
- flat: flat accuracy, share of non-ink true pixels within ΔE2000 < 5 of their true flat color;
- by rule: share of trace-line core pixels exactly the color of one of the true regions they separate
  (those within twice the pixel's distance to a region, plus 3 px); the check is >= 95%; by rule*: the
  same over the pixels whose regions around came out right (not merged by the region engine into a region
  whose hints conflict, which no trace rule can undo);
- left: share of trace-line pixels (anti-aliased edges included) that still look like a trace color and
  are none of the true colors around them;
- ink kept: share of true ink-line pixels (alpha >= 128) still ink in `lines.png` (alpha >= 128, not a
  trace color); the check is >= 95%;
- proof: the job's own `trace_filled_by_rule`.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import DATA, items  # noqa: E402
from bench.regions import flat_accuracy  # noqa: E402
from pipeline import colorize, hints_from_json  # noqa: E402
from pipeline.hints import format_color  # noqa: E402
from pipeline.trace_lines import looks_traced, trace_rules  # noqa: E402
from pipeline.train.characters import make_character  # noqa: E402
from pipeline.train.trace_lines import (  # noqa: E402
    DEFAULT_OUT,
    Traced,
    redraw_boundaries,
    shade_character,
    trace_boundaries,
    traced_drawing,
)

METHODS = {"today": False, "trace lines": None}  # the prompt's trace_lines for each method
SIDE_PX = 3  # a trace pixel separates the true regions within this many px


def _near_true_color(colored: np.ndarray, t: Traced, *, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of `where`, (N,) bool twice: its color is exactly one of the true region colors around it
    (those within twice its distance to the nearest true region pixel plus SIDE_PX: the regions a trace line
    there separates, however wide the line), and every such region pixel came out its true color."""
    ys, xs = np.nonzero(where)
    height, width = t.regions.shape
    packed = (t.flat[..., 0].astype(np.int64) << 16) | (t.flat[..., 1].astype(np.int64) << 8) | t.flat[..., 2]
    packed = np.where(t.regions > 0, packed, -1)  # ink is no region's color
    wrong = (t.regions > 0) & ~t.footprint & (colored != t.flat).any(axis=2)
    got = colored[ys, xs].astype(np.int64)
    got = (got[:, 0] << 16) | (got[:, 1] << 8) | got[:, 2]
    depth = cv2.distanceTransform((t.regions == 0).view(np.uint8), cv2.DIST_L2, 3)[ys, xs]
    reach = 2 * depth + SIDE_PX
    top = int(np.ceil(reach.max(initial=0)))
    hit, right = np.zeros(len(ys), bool), np.ones(len(ys), bool)
    for dy in range(-top, top + 1):
        for dx in range(-top, top + 1):
            near = dy * dy + dx * dx <= reach * reach
            if near.any():
                ny, nx = np.clip(ys + dy, 0, height - 1), np.clip(xs + dx, 0, width - 1)
                hit |= near & (packed[ny, nx] == got)
                right &= ~(near & wrong[ny, nx])
    return hit, right


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if hits.size else float("nan")


def measure(t: Traced, *, trace_lines: object) -> dict:
    """One drawing colorized with every true region hinted; its figures (see the module docstring)."""
    points = [
        {"x": x, "y": y, "color": format_color(t.colors[rid])} for rid, (x, y) in sorted(t.points.items())
    ]
    height, width = t.regions.shape
    hints = hints_from_json({"points": points}, width=width, height=height)
    result = colorize(
        np.dstack([t.drawing, np.full((height, width), 255, np.uint8)]), hints, trace_lines=trace_lines
    )
    colored = result.colored
    valid = t.regions > 0
    rules = trace_rules()
    foot = t.footprint & ~t.ink
    left = looks_traced(colored[foot], rules=rules) & ~_near_true_color(colored, t, where=foot)[0]
    hit, right = _near_true_color(colored, t, where=t.trace)
    line = result.lines[t.ink]
    kept = (line[:, 3] >= 128) & ~looks_traced(line[:, :3], rules=rules)
    return {
        "flat": flat_accuracy(colored, true_flat=t.flat, valid=valid),
        "rule": _share(hit),
        "rule*": _share(hit[right]),
        "left": _share(left),
        "ink": float(kept.mean()) if t.ink.any() else 1.0,
        "proof": result.proof.get("trace_filled_by_rule"),
    }


def _truth(data: Path, item: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An OpenMoji drawing's grey line art, true region map and true flats."""
    folder, name = data / item["split"], item["name"]
    line = np.asarray(Image.open(folder / f"{name}_line.png").convert("L"))
    regions = np.asarray(Image.open(folder / f"{name}_regions.png"), np.int32)
    return line, regions, np.asarray(Image.open(folder / f"{name}_flat.png").convert("RGB"))


def shadow_drawings(data: Path, *, traced: Path) -> list[tuple[str, Traced]]:
    """The drawings `python -m pipeline.train.trace_lines` traced along shadow groups (every split: few
    OpenMoji SVGs have a non-empty shadow group); none when that folder is not built."""
    if not (traced / "index.json").exists():
        return []
    out = []
    for item in items(traced):
        line, regions, flat = _truth(data, item)
        folder = traced / item["split"]
        drawing = np.asarray(Image.open(folder / f"{item['name']}_traced.png").convert("RGB"))
        alpha = np.asarray(Image.open(folder / f"{item['name']}_trace_alpha.png"), np.float32) / 255
        out.append(
            (
                item["name"],
                traced_drawing(
                    drawing=drawing, ink_alpha=255 - line, regions=regions, flat=flat, alpha=alpha
                ),
            )
        )
    return out


def boundary_drawings(data: Path, *, limit: int, redraw: bool = False) -> list[tuple[str, Traced]]:
    """Up to `limit` OpenMoji test drawings (those that have any) with a trace line on every ink-free color
    boundary, or (redraw) with half their ink lines between two inner regions redrawn as trace lines."""
    out = []
    make = redraw_boundaries if redraw else trace_boundaries
    for item in items(data, split="test"):
        if len(out) >= limit:
            break
        line, regions, flat = _truth(data, item)
        rng = np.random.default_rng(zlib.crc32(item["name"].encode()))
        t = make(line, regions=regions, flat=flat, rng=rng)
        if t.trace.any():
            out.append((item["name"], t))
    return out


def generated_drawings(count: int, *, size: int = 256) -> list[tuple[str, Traced]]:
    """Generated characters with shaded parts bounded by trace lines (seeds 9000...)."""
    out = []
    seed = 9000
    while len(out) < count:
        t = shade_character(make_character(seed=seed, size=size), rng=np.random.default_rng(seed))
        if t.trace.any():
            out.append((f"gen{seed}", t))
        seed += 1
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA, help=f"the OpenMoji set (default {DATA})")
    parser.add_argument(
        "--traced", type=Path, default=DEFAULT_OUT, help=f"built trace drawings ({DEFAULT_OUT})"
    )
    parser.add_argument("--limit", type=int, default=24, help="OpenMoji test drawings (default 24)")
    parser.add_argument("--generated", type=int, default=24, help="generated characters (default 24)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    sets: dict[str, list[tuple[str, Traced]]] = {}
    if args.limit:
        sets["om-shadows"] = shadow_drawings(args.data, traced=args.traced.expanduser())
        sets["om-redrawn"] = boundary_drawings(args.data, limit=args.limit, redraw=True)
        sets["om-boundaries"] = boundary_drawings(args.data, limit=args.limit)
    if args.generated:
        sets["generated"] = generated_drawings(args.generated)
    print(
        "trace lines | om-shadows: OpenMoji drawings traced along their skin-shadow groups "
        f"({args.traced}); om-redrawn: OpenMoji test drawings with half their inner ink boundaries redrawn "
        "red/blue/green; om-boundaries: OpenMoji test drawings traced along every ink-free color boundary; "
        "generated: characters with shaded parts | every true region hinted, default settings"
    )
    head = (
        f"{'set':<14} {'method':<12} {'n':>3} {'flat':>7} {'by rule':>8} {'by rule*':>9} {'left':>7} "
        f"{'ink kept':>9} {'proof':>6}"
    )
    print(head)
    print("-" * len(head))
    for set_name, drawings in sets.items():
        if not drawings:
            print(f"{set_name:<14} (none: build them with python -m pipeline.train.trace_lines)")
            continue
        for method, trace_lines in METHODS.items():
            rows = [measure(t, trace_lines=trace_lines) for _, t in drawings]
            mean = {
                k: float(np.nanmean([r[k] for r in rows])) for k in ("flat", "rule", "rule*", "left", "ink")
            }
            proofs = [r["proof"] for r in rows if r["proof"] is not None]
            proof = f"{np.mean(proofs):.3f}" if proofs else "-"
            print(
                f"{set_name:<14} {method:<12} {len(rows):>3} {mean['flat']:>7.4f} {mean['rule']:>8.4f} "
                f"{mean['rule*']:>9.4f} "
                f"{mean['left']:>7.4f} {mean['ink']:>9.4f} {proof:>6}"
            )
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
