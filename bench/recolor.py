"""Recolor benchmark: 100 OpenMoji test drawings, 1-3 random blocks edited each, one table.

    python bench/recolor.py                # 100 drawings, pure pipeline path
    python bench/recolor.py --cli 5        # also time `tint recolor` end to end on 5 of them

Each drawing is colorized with a hint at every true region's point (its true flat color): that is the
parent revision. A seeded generator picks 1-3 of its blocks and a random color for each. The recolor job
is then timed as the worker runs it, minus storage and database: decode the line drawing, the parent's
colored image and region map (PNG), blockify by the regions, build the target prompt, colorize again,
measure locality, encode the four output PNGs. Reported: share of pixels outside edited blocks left
unchanged (goal 100%), ΔE2000 of edited blocks to their requested color (goal < 1), and ms per job.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.openmoji import region_points  # noqa: E402
from pipeline import (  # noqa: E402
    colorize,
    decode_image,
    decode_label_map,
    encode_png,
    format_color,
    hints_from_json,
    recolor,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
ROOT = Path(__file__).resolve().parents[1]


def parent_revision(item: dict) -> tuple[bytes, dict, object]:
    """(line PNG bytes, prompt, colorize result) of one drawing hinted at every true region."""
    line = (DATA / item["split"] / f"{item['name']}_line.png").read_bytes()
    drawing = decode_image(line)
    prompt = {"points": region_points(item["regions"])}
    hints = hints_from_json(prompt, width=drawing.shape[1], height=drawing.shape[0])
    return line, prompt, colorize(drawing, hints)


def recolor_job(*, line: bytes, colored_png: bytes, regions_png: bytes, pick) -> tuple[dict, dict]:
    """The recolor job's pipeline work, end to end on bytes: returns (edits, locality)."""
    drawing = decode_image(line)
    colored = decode_image(colored_png)[..., :3]
    regions = decode_label_map(regions_png).astype(np.int32)
    done = recolor(drawing, colored=colored, regions=regions, by_id=pick(regions))
    child = done.result
    for array in (child.colored, child.flats, child.lines, child.regions.astype(np.uint16)):
        encode_png(array)
    return done.edits, done.locality


def picker(seed: int):
    """A function regions -> {block id: random color} for 1-3 random blocks, seeded (a revision's blocks
    are its regions, ids alike)."""

    def pick(regions) -> dict:
        rng = np.random.default_rng(seed)
        ids = [int(i) for i in np.unique(regions[regions > 0])]
        chosen = rng.choice(ids, size=min(len(ids), int(rng.integers(1, 4))), replace=False)
        return {int(b): tuple(int(v) for v in rng.integers(0, 256, 3)) for b in chosen}

    return pick


def cli_times(items: list[dict], *, seed: int) -> list[float]:
    """Seconds per `tint recolor` (in-process worker, embedded defaults in a temporary TINT_HOME)."""
    home = Path(tempfile.mkdtemp(prefix="tint-bench-"))
    env = {**os.environ, "TINT_HOME": str(home)}
    tint = [sys.executable, "-m", "studio.cli"]
    out = []
    try:
        for n, item in enumerate(items):
            line = DATA / item["split"] / f"{item['name']}_line.png"
            _, prompt, _ = parent_revision(item)
            hints = home / f"{n}.json"
            hints.write_text(json.dumps(prompt))
            subprocess.run(
                [*tint, "colorize", str(line), "--hints", str(hints), "-o", str(home / f"c{n}")],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            revision = json.loads((home / f"c{n}" / "result.json").read_text())["revision_id"]
            rng = np.random.default_rng(seed + n)
            color = format_color(tuple(int(v) for v in rng.integers(0, 256, 3)))
            x, y = item["regions"][-1]["point"]
            t0 = time.perf_counter()
            subprocess.run(
                [*tint, "recolor", str(revision), "--at", f"{x},{y}={color}", "-o", str(home / f"r{n}")],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            out.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return out


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--cli", type=int, default=0, help="also time `tint recolor` on this many drawings")
    args = parser.parse_args()
    items = [i for i in json.loads((DATA / "index.json").read_text())["items"] if i["split"] == "test"]
    items = items[: args.count]
    unchanged, edited_de, ms, blocks_edited, jobs_local = [], [], [], 0, 0
    for item in items:
        line, _, parent = parent_revision(item)
        colored_png, regions_png = encode_png(parent.colored), encode_png(parent.regions.astype(np.uint16))
        t0 = time.perf_counter()
        edits, loc = recolor_job(
            line=line,
            colored_png=colored_png,
            regions_png=regions_png,
            pick=picker(args.seed + zlib.crc32(item["name"].encode())),
        )
        ms.append((time.perf_counter() - t0) * 1000)
        unchanged.append(loc["unchanged_outside"])
        jobs_local += loc["unchanged_outside"] == 1.0
        edited_de += [b["delta_e"] for b in loc["edited_blocks"]]
        blocks_edited += len(edits)
    de = np.asarray(edited_de)
    print(
        f"Recolor on {len(items)} OpenMoji test drawings (512 px), {blocks_edited} blocks edited "
        f"(1-3 per drawing, random colors, seed {args.seed}).\n"
    )
    rows = [
        (
            "pixels outside edited blocks unchanged, mean / min",
            f"{np.mean(unchanged):.4%} / {np.min(unchanged):.4%}",
        ),
        ("jobs with every pixel outside edits unchanged", f"{jobs_local} / {len(items)}"),
        ("ΔE2000 of edited blocks to requested color, mean / max", f"{de.mean():.3f} / {de.max():.3f}"),
        ("edited blocks with ΔE2000 < 1", f"{(de < 1).sum()} / {len(de)}"),
        (
            "ms per recolor job, pipeline path (median / p95)",
            f"{np.median(ms):.0f} / {np.percentile(ms, 95):.0f}",
        ),
    ]
    if args.cli:
        secs = cli_times(items[: args.cli], seed=args.seed)
        what = f"s per `tint recolor` end to end, embedded default (median of {len(secs)})"
        rows.append((what, f"{np.median(secs):.2f}"))
    print("| measure | value |")
    print("|---|---:|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
