"""Benchmark palette and reference prompts (issue 7); prints tables.

1. Part segmentation: IoU per part of the parts model on 200 held-out generated characters (256 px,
   seeds 424242 * 100003 + i, never used in training).
2. Palette prompts, same characters: every part named with its true color (the most common true flat
   color of that part's non-line pixels); regions take parts from the model's part map (and, as a
   ceiling, from the true part map); unhinted regions from the shipped colorizer. Flat accuracy = share
   of non-line pixels within CIEDE2000 < 5 of the true flat color, per drawing then averaged.
3. Reference prompts, `test` split of ../shared/data/openmoji (`--split train` to tune on the train split):
   the true colored image, after a seeded shift (+-10%), scale (0.8-1.2) and rotation (+-10 deg), is the
   reference for the untransformed line drawing; flat accuracy of `reference_hints` + colorize on the
   region map it returns (regions split along the reference's color-only edges; colorizer for unmatched
   regions), of the same without splits, against a baseline that copies colors pixel for pixel from the
   reference after aligning the foreground boxes, and the old per-region ceiling: the untransformed true
   flats as reference, one color per line-bounded region (OpenMoji has many color-only boundaries).

    .venv/bin/python bench/prompts.py [--limit N] [--generated 200] [--weights PATH] [--seed 0]
                                      [--split test|train] [--skip-reference]
                                      (--generated 0: only the reference set)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.alignment import box_landing, foreground  # noqa: E402
from pipeline.color import delta_e2000, rgb_to_lab  # noqa: E402
from pipeline.colorize import colorize  # noqa: E402
from pipeline.hints import format_color, hints_from_json  # noqa: E402
from pipeline.lines import extract_lines  # noqa: E402
from pipeline.models import parts as parts_model  # noqa: E402
from pipeline.models import regionfill  # noqa: E402
from pipeline.part_maps import PART_NAMES  # noqa: E402
from pipeline.prompt_hints import prompt_to_hints  # noqa: E402
from pipeline.reference import reference_hints  # noqa: E402
from pipeline.train.characters import STYLES, make_character  # noqa: E402
from pipeline.train.parts import HELD_OUT_SEED, part_iou  # noqa: E402

__all__ = ["flat_accuracy", "true_palette", "transform_reference", "pixel_copy_baseline", "main"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "openmoji"


def flat_accuracy(flats: np.ndarray, truth_flats: np.ndarray, valid: np.ndarray) -> float:
    """Share of valid pixels whose color is within CIEDE2000 < 5 of the true flat color."""
    if not valid.any():
        return 1.0
    de = delta_e2000(rgb_to_lab(flats[valid]), rgb_to_lab(truth_flats[valid]))
    return float((de < 5).mean())


def true_palette(flats: np.ndarray, parts: np.ndarray, valid: np.ndarray) -> dict[str, str]:
    """Part name -> the most common true flat color of its valid pixels (parts present only)."""
    out = {}
    for k, name in enumerate(PART_NAMES):
        px = flats[(parts == k) & valid]
        if len(px):
            colors, counts = np.unique(px, axis=0, return_counts=True)
            out[name] = format_color(colors[counts.argmax()])
    return out


def transform_reference(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seeded shift (+-10%), scale (0.8-1.2) and rotation (+-10 deg) on a white canvas of the same size."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), rng.uniform(0.8, 1.2))
    m[:, 2] += rng.uniform(-0.1, 0.1, 2) * (w, h)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def pixel_copy_baseline(drawing: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(H, W, 3): each drawing pixel copies the reference pixel it lands on after box alignment."""
    ink_box = _box(extract_lines(drawing).mask)
    ref_box = _box(foreground(reference))
    ry, rx = box_landing(drawing.shape[:2], reference.shape[:2], ink_box, ref_box)
    return reference[ry, rx]


def _styles(text: str) -> tuple[str, ...]:
    """--styles: comma-separated names of STYLES."""
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    unknown = [n for n in names if n not in STYLES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown style {unknown[0]!r}; choose from {', '.join(STYLES)}")
    return names


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask) if mask.any() else (np.array([0, mask.shape[0] - 1]), np.array([0, 1]))
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _generated(args: argparse.Namespace, parts, colorizer) -> None:
    total = np.zeros((len(PART_NAMES), 2), np.int64)
    acc_model, acc_true, t_parts = [], [], []
    for i in range(args.generated):
        c = make_character(seed=HELD_OUT_SEED * 100_003 + i, size=256, styles=args.styles)
        t0 = time.perf_counter()
        part_map = parts.part_map(c.drawing)
        t_parts.append(time.perf_counter() - t0)
        total += part_iou(part_map, c.parts)
        valid = c.regions > 0
        palette = true_palette(c.flats, c.parts, valid)
        for pm, acc in ((part_map, acc_model), (c.parts, acc_true)):
            # the worker's path: one prompt -> hints on regions found once, colorize on those regions
            resolved = prompt_to_hints(c.drawing, {"palette": palette}, part_map=lambda _, pm=pm: pm)
            res = colorize(
                c.drawing,
                resolved.hints,
                found=resolved.found,
                regions=resolved.regions,
                fill_unhinted=colorizer.fill_unhinted,
            )
            acc.append(flat_accuracy(res.flats, c.flats, valid))
    iou = total[:, 0] / np.maximum(total[:, 1], 1)
    print(f"\nparts {parts.version} | IoU per part | {args.generated} held-out generated characters")
    print("| part | IoU |\n|---|---|")
    for name, value in zip(PART_NAMES, iou, strict=True):
        print(f"| {name} | {value:.3f} |")
    print(f"| **mean** | **{iou.mean():.3f}** |")
    print(f"parts model forward at 256 px, median: {np.median(t_parts) * 1000:.0f} ms")
    drawn = f" drawn {'+'.join(args.styles)}" if args.styles else ""
    print(f"\npalette prompts (every part named, true colors) | {args.generated} generated{drawn} | dE2000<5")
    print("| part map | flat accuracy |\n|---|---|")
    print(f"| parts model | {np.mean(acc_model):.1%} |")
    print(f"| true parts (ceiling) | {np.mean(acc_true):.1%} |")


def _flats(line: np.ndarray, prompt: dict, regions: np.ndarray, colorizer) -> np.ndarray:
    """Flats of colorize on the given region map: the prompt's regions exact, the rest from the colorizer."""
    hints = hints_from_json(prompt, width=line.shape[1], height=line.shape[0])
    return colorize(line, hints, fill_unhinted=colorizer.fill_unhinted, regions=regions).flats


def _openmoji(args: argparse.Namespace, colorizer) -> None:
    index = json.loads((DATA / "index.json").read_text())["items"]
    items = [it for it in index if it["split"] == args.split][: args.limit]
    rng = np.random.default_rng(args.seed)
    ours, unsplit, base, ceiling, matched, split, t_ref = [], [], [], [], [], [], []
    for item in items:
        stem = DATA / args.split / item["name"]
        line = np.asarray(Image.open(f"{stem}_line.png").convert("RGBA"))
        color = np.asarray(Image.open(f"{stem}_color.png").convert("RGB"))
        flat = np.asarray(Image.open(f"{stem}_flat.png").convert("RGB"))
        truth = np.asarray(Image.open(f"{stem}_regions.png")).astype(np.int32)
        reference = transform_reference(color, rng)
        valid = truth > 0
        t0 = time.perf_counter()
        resolved = prompt_to_hints(line, {}, reference=reference)  # the worker's path
        t_ref.append(time.perf_counter() - t0)
        matches, regions = resolved.report["reference_matches"], resolved.found.regions
        ours.append(
            flat_accuracy(
                colorize(
                    line,
                    resolved.hints,
                    found=resolved.found,
                    regions=resolved.regions,
                    fill_unhinted=colorizer.fill_unhinted,
                ).flats,
                flat,
                valid,
            )
        )
        prompt, _, _ = reference_hints(reference, regions=regions, split=False)
        unsplit.append(flat_accuracy(_flats(line, prompt, regions, colorizer), flat, valid))
        base.append(flat_accuracy(pixel_copy_baseline(line, reference), flat, valid))
        # the most one color per line-bounded region can reach: the true flats, untransformed
        prompt, _, _ = reference_hints(flat, regions=regions, split=False)
        ceiling.append(flat_accuracy(_flats(line, prompt, regions, colorizer), flat, valid))
        matched.append(np.mean([m["source"] is not None for m in matches]) if matches else 0.0)
        split.append(sum("split_from" in m for m in matches))
    print(f"\nreference prompts | openmoji {args.split}, {len(items)} drawings | seed {args.seed} | dE2000<5")
    print("| method | flat accuracy |\n|---|---|")
    print(f"| reference_hints + colorizer (regions split along reference colors) | {np.mean(ours):.1%} |")
    print(f"| reference_hints without splits + colorizer | {np.mean(unsplit):.1%} |")
    print(f"| pixel copy after box alignment (baseline) | {np.mean(base):.1%} |")
    print(f"| one color per line-bounded region, untransformed true flats | {np.mean(ceiling):.1%} |")
    print(
        f"regions matched: {np.mean(matched):.1%}; drawings with split regions: "
        f"{np.mean(np.array(split) > 0):.1%} ({np.mean(split):.1f} sub-regions each on average); "
        f"prompt_to_hints with a reference (regions + matching) median {np.median(t_ref) * 1000:.0f} ms"
    )
    print(f"beats the baseline: {'yes' if np.mean(ours) > np.mean(base) else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="at most N drawings per set (default: all)")
    parser.add_argument("--generated", type=int, default=200, help="held-out generated characters")
    parser.add_argument("--weights", default=None, help="parts safetensors (default: shipped)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the reference transforms")
    parser.add_argument(
        "--styles",
        type=_styles,
        default=(),
        help="draw the generated characters as artists do: any of solid,open,pinch (comma-separated)",
    )
    parser.add_argument(
        "--split", choices=("test", "train"), default="test", help="OpenMoji split (tune on train)"
    )
    parser.add_argument("--skip-reference", action="store_true", help="only the generated characters")
    args = parser.parse_args()
    if args.limit is not None:
        args.generated = min(args.generated, args.limit)
    import torch

    torch.set_num_threads(1)
    parts = parts_model.load(args.weights, device="cpu")
    colorizer = regionfill.load(None, device="cpu")  # what fills unhinted regions in the worker
    if args.generated:
        _generated(args, parts, colorizer)
    if not args.skip_reference:
        _openmoji(args, colorizer)


if __name__ == "__main__":
    main()
