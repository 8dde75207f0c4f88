"""One path from any color prompt to one hint set: points and strokes, a hint image, a palette by part name,
a reference picture, or any mix, on a drawing whose lines and regions are found once. The prompt's
`trace_lines` (which line colors are trace lines and how each is filled, `pipeline.trace_lines`) is read
and checked here too, so the lines found are the ones colorize fills.

Precedence, lowest first: the reference picture's colors, then the palette's (a named part overrides what
the reference implied), then the hint image, then points and strokes (the user's own marks win). It holds
region by region: a region any hint of a higher form touches takes only that form's hints, however many
pixels a lower form put there. The regions found here are the ones colorize fills
(`colorize(..., found=resolved.found, regions=resolved.regions)`), so a region-level prompt lands on
exactly the regions that get painted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.colorize import Found, find_lines_and_regions
from pipeline.hints import Hints, empty_hints, hints_from_image, hints_from_json
from pipeline.prompts import palette_hints
from pipeline.reference import flagged_matches, reference_hints
from pipeline.regions import assign_line_pixels
from pipeline.trace_lines import trace_rules

__all__ = ["PromptHints", "prompt_to_hints"]

USER_KEYS = ("points", "strokes")


@dataclass
class PromptHints:
    """A prompt resolved on one drawing: its hints, the drawing's lines and regions, the regions colorize
    fills (a reference may split some), what the palette and reference matched, and timings (ms)."""

    hints: Hints
    found: Found
    regions: np.ndarray
    report: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _by_precedence(layers: list[Hints], *, regions: np.ndarray) -> Hints:
    """One hint set from layers given lowest first: each region keeps the hints of the highest layer that
    touches it (regions as colorize assigns hint pixels: line pixels belong to a neighbouring region)."""
    height, width = regions.shape
    if not layers:
        return empty_hints(width=width, height=height)
    if len(layers) == 1:  # the usual prompt: one form, nothing to rank
        return layers[0]
    owner = assign_line_pixels(regions)
    claimed = np.zeros(int(owner.max(initial=0)) + 1, bool)
    rgb = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), bool)
    for layer in reversed(layers):
        keep = layer.mask & ~claimed[owner]
        rgb[keep], mask[keep] = layer.rgb[keep], True
        claimed[np.unique(owner[layer.mask])] = True
    return Hints(rgb=rgb, mask=mask)


def prompt_to_hints(
    drawing: np.ndarray,
    prompt: dict,
    *,
    hint_image: np.ndarray | None = None,
    reference: np.ndarray | Sequence[np.ndarray] | None = None,
    part_map: Callable[[np.ndarray], np.ndarray] | None = None,
    gap_px: int = 3,
    min_area: int = 8,
    line_threshold: float | None = None,
    name: str = "",
) -> PromptHints:
    """Turn a prompt into hints for drawing (H, W, 4) uint8.

    prompt: the JSON prompt as given, {"points": [...], "strokes": [...], "palette": {part: color},
    "trace_lines": {color: rule} or false} (any keys; others are ignored). hint_image: (H, W, 3|4)
    uint8, transparent or white pixels carry no hint.
    reference: (H', W', 3) uint8, a colored picture of the character, or several (a model sheet; the best
    matching one colors the drawing). part_map: drawing -> (H, W) part
    indices, called only when the prompt has a palette (it runs the part model). `name` is quoted in errors.
    """
    height, width = drawing.shape[:2]
    timings: dict[str, float] = {}
    rules = trace_rules(prompt.get("trace_lines"))
    found = find_lines_and_regions(
        drawing,
        gap_px=gap_px,
        min_area=min_area,
        line_threshold=line_threshold,
        timings=timings,
        rules=rules,
    )
    regions, report, points = found.regions, {}, []
    if reference is not None:
        t1 = time.perf_counter()
        derived, matches, regions = reference_hints(reference, regions=regions)
        points += derived["points"]
        report["reference_matches"] = matches
        report["reference_flagged"] = flagged_matches(matches)
        timings["reference"] = _ms(t1)
    palette = prompt.get("palette")
    if palette:
        if part_map is None:
            raise ValueError("a palette prompt needs part_map (e.g. a loaded parts model's part_map).")
        t1 = time.perf_counter()
        derived, report["parts"] = palette_hints(palette, regions=regions, part_map=part_map(drawing))
        points += derived["points"]  # later points win a region: the palette overrides the reference
        timings["palette"] = _ms(t1)
    t1 = time.perf_counter()
    layers = [hints_from_json({"points": points}, width=width, height=height) if points else None]
    if hint_image is not None:
        layers.append(hints_from_image(hint_image, width=width, height=height))
    user = {k: v for k, v in prompt.items() if k in USER_KEYS}
    if user:
        layers.append(hints_from_json(user, width=width, height=height, name=name))
    hints = _by_precedence([layer for layer in layers if layer is not None], regions=regions)
    timings["hints"] = _ms(t1)
    return PromptHints(
        hints=hints,
        found=found,
        regions=regions,
        report=report,
        timings=timings,
    )
