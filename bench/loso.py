"""Leave-one-source-out: does the region colorizer carry over to art it was never trained on? One table.

For each held-out source S: train a fold model on the train splits of every other source (the same
trainer as the shipped model, `pipeline.train.regionfill.train`, on a smaller budget), then measure it on
S's test split against the two rules and the fold model's candidate ceiling (bench/ceiling.py: the best
candidate for every region, what no picker over them can beat), in the same run: unhinted regions
right and mean ΔE2000 at 25% and 50% hinted (bench/colorize.py), the same with no hints, and clicks to
finish (bench/clicks.py) against one click per region. Prints each goal of issue 18 with its ratio and
whether it is met.

    python bench/loso.py --hold-out openmoji --hold-out noto --hold-out fluent-emoji-flat \
        --budget-s 300 --train-limit 300 --limit 40
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ceiling import CEILING, ceiling_fill  # noqa: E402
from bench.clicks import ONE_PER_REGION, clicks_for_fills  # noqa: E402
from bench.colorize import RULES, evaluate_fills  # noqa: E402
from pipeline.models import regionfill  # noqa: E402
from pipeline.train.regionfill import TrainConfig, train  # noqa: E402

OPENMOJI = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"
SOURCES = Path("~/.cache/tint/sources").expanduser()
ALL = (
    "openmoji",
    "fluent-emoji-flat",
    "noto",
    "emojione",
    "fxemoji",
    "streamline-emojis",
    "flat-color-icons",
)


def folder(name: str) -> Path:
    """A source's data folder: OpenMoji in ../shared, the rest where `pipeline.train.sources` builds them."""
    return OPENMOJI if name == "openmoji" else SOURCES / name


def fold(held_out: str, *, limit: int, out: Path, recipe: dict) -> dict:
    """Train without `held_out` (`recipe`: TrainConfig fields, e.g. limit, budget_s, hidden, generated),
    then measure on it: {"colorize": ..., "clicks": ..., "train": ...}."""
    others = tuple(folder(s) for s in ALL if s != held_out and (folder(s) / "index.json").is_file())
    weights = out / f"fold-{held_out}.safetensors"
    summary = train(TrainConfig(data=others, out=weights, **recipe))
    model = regionfill.load(weights)
    fills = {"model": model.fill_unhinted, **RULES}
    scores = evaluate_fills(folder(held_out), fills, limit=limit, ceiling=partial(ceiling_fill, model))
    clicks = clicks_for_fills(folder(held_out), fills, limit=limit)
    return {"colorize": scores, "clicks": clicks, "train": summary}


def _goal(name: str, value: float, goal: str, met: bool) -> str:
    return f"| {name} | {value:.2f}x | {goal} | {'met' if met else '**missed**'} |"


def report(held_out: str, result: dict) -> list[str]:
    """Markdown rows for one held-out source: figures, then each goal with its ratio."""
    scores, clicks = result["colorize"], result["clicks"]
    lines = [
        f"\n**held out: {held_out}** ({scores['model'][0.25]['n']} test drawings; fold trained on "
        f"{result['train']['examples']} regions in {result['train']['seconds']:.0f} s)\n",
        "| measure | model | most common hint | nearest hinted region | candidate ceiling |",
        "|---|---:|---:|---:|---:|",
    ]
    for share in (0.0, 0.25, 0.5):
        row = [scores[m][share] for m in ("model", "most_common", "nearest", CEILING)]
        lines.append(
            f"| {share:.0%} hinted: unhinted regions right | "
            + " | ".join(f"{r['right']:.1%}" for r in row)
            + " |"
        )
        lines.append(
            f"| {share:.0%} hinted: unhinted mean ΔE2000 | "
            + " | ".join(f"{r['mean_de']:.2f}" for r in row)
            + " |"
        )
    lines.append(
        "| clicks to finish, mean (one per region: "
        f"{clicks[ONE_PER_REGION]['mean']:.1f}) | "
        + " | ".join(f"{clicks[m]['mean']:.1f}" for m in ("model", "most_common", "nearest"))
        + " | - |"
    )
    lines += ["", "| goal | ratio | target | | the ceiling's ratio |", "|---|---:|---:|---|---:|"]
    for share in (0.25, 0.5):
        best_right = max(scores[m][share]["right"] for m in RULES)
        best_de = min(scores[m][share]["mean_de"] for m in RULES)
        right, top_right = (
            scores[m][share]["right"] / best_right if best_right else float("inf") for m in ("model", CEILING)
        )
        de, top_de = (
            scores[m][share]["mean_de"] / best_de if best_de else float("inf") for m in ("model", CEILING)
        )
        if share == 0.25:
            lines.append(
                _goal("unhinted regions right at 25%, model / best rule", right, ">= 2x", right >= 2)
                + f" {top_right:.2f}x |"
            )
        lines.append(
            _goal(f"mean ΔE at {share:.0%}, model / best rule", de, "<= 0.85x", de <= 0.85)
            + f" {top_de:.2f}x |"
        )
    ratio = clicks["model"]["mean"] / clicks[ONE_PER_REGION]["mean"]
    lines.append(_goal("clicks to finish, model / one per region", ratio, "<= 0.7x", ratio <= 0.7) + " - |")
    none = scores["model"][0.0]
    best_none = min(scores[m][0.0]["mean_de"] for m in RULES)
    lines.append(
        _goal(
            "no hints: mean ΔE, model / best rule",
            none["mean_de"] / best_none,
            "<= 1x",
            none["mean_de"] <= best_none + 1e-9,
        )
        + " - |"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run every fold and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold-out", action="append", choices=ALL, help="a source to leave out (repeat)")
    parser.add_argument("--budget-s", type=float, default=300.0, help="training seconds per fold")
    parser.add_argument("--train-limit", type=int, default=300, help="training drawings per source per fold")
    parser.add_argument("--limit", type=int, default=40, help="test drawings of the held-out source")
    parser.add_argument("--out", type=Path, default=Path("/tmp/tint-loso"), help="where fold weights go")
    parser.add_argument("--generated", type=int, default=0, help="generated characters in each fold")
    parser.add_argument("--max-share", type=float, default=0.7, help="most of a drawing training hints cover")
    parser.add_argument("--hidden", default="64,32", help="hidden layer widths of the fold models")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    lines = []
    recipe = {
        "limit": args.train_limit,
        "budget_s": args.budget_s,
        "generated": args.generated,
        "max_share": args.max_share,
        "hidden": tuple(int(v) for v in args.hidden.split(",")),
    }
    for held_out in args.hold_out or ["openmoji", "noto", "fluent-emoji-flat"]:
        result = fold(held_out, limit=args.limit, out=args.out, recipe=recipe)
        lines += report(held_out, result)
        print("\n".join(lines[-20:]), file=sys.stderr)
    print(
        f"Leave-one-source-out, region colorizer: fold budget {args.budget_s:.0f} s, {args.train_limit} "
        f"training drawings per source (0: all), hidden {args.hidden}, {args.generated} generated "
        f"characters, hints up to {args.max_share:.0%}, {args.limit} test drawings held out "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
