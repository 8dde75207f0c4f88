"""colorize: line drawing + hints -> colored image, flats, lines layer, region map and its own proof.

Stages (each timed): lines (extract_lines, and the trace lines among them), regions (find_regions; both
skipped when the caller passes them found), fill (line pixels given to regions, hints resolved per region,
unhinted regions white or from `fill_unhinted`, then trace lines filled by their rules), proof (adherence,
and the share of trace pixels filled by their rule).
Ink lines are composited only over ink pixels (region 0), so every region pixel of `colored` is exactly
its flat color: hinted regions are exact and blockify/recolor can read colors back without drift. Trace
lines (`pipeline.trace_lines`) divide regions like ink, are never composited, and in the returned region
map belong to the region whose color they took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.blockify import inner_distance
from pipeline.color import Color
from pipeline.conflicts import split_conflicts
from pipeline.errors import BadPrompt
from pipeline.fill import paint_flats, resolve_hints
from pipeline.gaps import Gap
from pipeline.hints import Hints
from pipeline.lines import Lines, as_rgba, extract_lines
from pipeline.proof import measure_adherence
from pipeline.regions import assign_line_pixels, find_regions_and_gaps
from pipeline.trace_lines import (
    TraceRule,
    fill_trace_lines,
    find_trace_lines,
    measure_trace_fill,
    rules_json,
    trace_report,
    trace_rules,
)

__all__ = [
    "ColorizeResult",
    "Found",
    "find_lines_and_regions",
    "outside_regions",
    "colorize",
    "composite",
]

UnhintedFill = Callable[[np.ndarray, np.ndarray, dict[int, Color]], dict[int, Color]]
WHITE: Color = (255, 255, 255)


@dataclass
class ColorizeResult:
    """Everything one colorize job produces; arrays share the drawing's (H, W)."""

    colored: np.ndarray  # (H, W, 3) uint8: lines composited over flats
    flats: np.ndarray  # (H, W, 3) uint8: fills only, line pixels take a neighbouring region's color
    lines: np.ndarray  # (H, W, 4) uint8 RGBA: each ink pixel's own color + line alpha (no trace lines)
    regions: np.ndarray  # (H, W) int32: 0 = ink line, 1..N reading order; trace pixels their fill's region
    region_colors: dict[int, Color]
    hinted: dict[int, Color]
    conflicts: list[dict] = field(default_factory=list)
    proof: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    outside: frozenset[int] = frozenset()  # the regions that are the paper around the drawing
    paper: np.ndarray | None = None  # (H, W) bool: flats pixels of outside regions that are still white
    gaps: tuple[Gap, ...] = ()  # the gaps in the lines that region finding closed, in reading order
    trace: np.ndarray | None = None  # (H, W) uint8: k = a pixel of trace line trace_rules[k - 1]
    trace_rules: tuple[TraceRule, ...] = ()
    trace_layer: np.ndarray | None = None  # (H, W, 4) uint8 RGBA: the trace lines as drawn, when any

    def gaps_json(self) -> dict:
        """The closed gaps for result.json: their count and each one's [x, y, length px]."""
        return {"count": len(self.gaps), "closed": [[g.x, g.y, g.length] for g in self.gaps]}

    def trace_json(self) -> dict:
        """The trace lines for result.json: the rules in force, the colors found and their pixel counts."""
        found = [] if self.trace is None else trace_report(self.trace, rules=self.trace_rules)
        return {
            "rules": rules_json(self.trace_rules),
            "found": found,
            "pixels": sum(row["pixels"] for row in found),
        }

    def flats_rgba(self) -> np.ndarray:
        """(H, W, 4) uint8: the flats, transparent on the paper around the drawing (where it is still paper
        white; a hint of another color makes it opaque), so they stack under the lines in a paint program.
        A recolor, which hints every region with its old color, keeps the same transparency."""
        alpha = np.full(self.regions.shape, 255, np.uint8)
        if self.paper is not None:
            alpha[self.paper] = 0
        return np.dstack([self.flats, alpha])


OUTSIDE_SHARE = 0.05  # a region holding at least this share of the border's free pixels is outside


def outside_regions(regions: np.ndarray) -> frozenset[int]:
    """The regions that are the paper around the drawing: those that hold a good share (OUTSIDE_SHARE)
    of the free pixels on the image's border. A character region the border merely grazes is not one."""
    border = np.concatenate([regions[0], regions[-1], regions[1:-1, 0], regions[1:-1, -1]])
    border = border[border > 0]
    if border.size == 0:
        return frozenset()
    ids, counts = np.unique(border, return_counts=True)
    return frozenset(int(i) for i, c in zip(ids, counts, strict=True) if c >= OUTSIDE_SHARE * border.size)


def composite(*, flats: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Lines (H, W, 4) RGBA over flats (H, W, 3): out = (flat * (255 - a) + line * a) / 255, rounded.

    Where alpha is 0 the result is exactly the flat color (255 * x / 255 is exact in float32).
    """
    alpha = lines[..., 3].astype(np.float32)
    line_rgb = np.ascontiguousarray(lines[..., :3])
    return cv2.blendLinear(flats, line_rgb, 255.0 - alpha, alpha)


def _refinement(regions: np.ndarray, *, found: np.ndarray) -> np.ndarray:
    """regions as int32 when it refines `found` (same line pixels, each region inside one); else BadPrompt."""
    regions = np.asarray(regions)
    if regions.shape != found.shape:
        raise BadPrompt(
            f"a region map of {regions.shape[1]}x{regions.shape[0]} was given for a drawing of "
            f"{found.shape[1]}x{found.shape[0]}; pass the map found for this drawing (or none)."
        )
    regions = regions.astype(np.int32)
    pairs = np.unique(regions.astype(np.int64) << 32 | found)
    if not np.array_equal((regions == 0), (found == 0)) or len(np.unique(pairs >> 32)) != len(pairs):
        raise BadPrompt(
            "the given region map does not refine this drawing's regions (its lines differ, or a region "
            "spans two line-bounded regions); find it with the same gap_px, min_area and line_threshold."
        )
    return regions


@dataclass(frozen=True)
class Found:
    """A drawing's lines, the regions they enclose (H, W) int32 and the gaps closed, as colorize finds;
    trace (H, W) uint8 marks the line pixels that are trace lines of `rules` (k = rules[k - 1])."""

    lines: Lines
    regions: np.ndarray
    gaps: tuple[Gap, ...] = ()
    trace: np.ndarray | None = None
    rules: tuple[TraceRule, ...] = ()


def find_lines_and_regions(
    drawing: np.ndarray,
    *,
    gap_px: int = 3,
    min_area: int = 8,
    line_threshold: float | None = None,
    timings: dict[str, float] | None = None,
    rules: tuple[TraceRule, ...] | None = None,
) -> Found:
    """The lines and region map of a drawing: what colorize fills, and what hints by region land on.
    rules: the trace colors (default `trace_rules()`; () finds none). Adds "lines" and "regions" (ms) to
    `timings` when given."""
    t0 = time.perf_counter()
    rules = trace_rules() if rules is None else tuple(rules)
    lines = extract_lines(as_rgba(drawing), line_threshold=line_threshold)
    trace = find_trace_lines(lines, rules=rules)
    t1 = time.perf_counter()
    regions, gaps = find_regions_and_gaps(lines.mask, gap_px=gap_px, min_area=min_area)
    if timings is not None:
        timings["lines"] = round((t1 - t0) * 1000, 2)
        timings["regions"] = round((time.perf_counter() - t1) * 1000, 2)
    return Found(lines=lines, regions=regions, gaps=tuple(gaps), trace=trace, rules=rules)


def colorize(
    drawing: np.ndarray,
    hints: Hints,
    *,
    gap_px: int = 3,
    min_area: int = 8,
    line_threshold: float | None = None,
    fill_unhinted: UnhintedFill | None = None,
    regions: np.ndarray | None = None,
    found: Found | None = None,
    trace_lines: object = None,
) -> ColorizeResult:
    """Colorize a drawing (H, W, 4) uint8: hinted regions exactly their hint, the rest white or modelled.

    regions: fill this refinement of the found region map instead (e.g. the one `reference_hints` splits,
    or a revision's own map, whose trace pixels are taken as line again).
    found: the drawing's lines and regions when the caller found them already (`prompt_to_hints` does,
    with the same settings), so they are not found twice; timings then have no "lines" or "regions".
    trace_lines: a prompt's `trace_lines` value (`trace_rules`), used when found is None.
    """
    rgba = as_rgba(drawing)
    height, width = rgba.shape[:2]
    if hints.mask.shape != (height, width):
        raise BadPrompt(
            f"hints are {hints.mask.shape[1]}x{hints.mask.shape[0]} but the drawing is {width}x{height}; "
            "make hints for this drawing's size."
        )
    timings: dict[str, float] = {}
    if found is None:
        found = find_lines_and_regions(
            rgba,
            gap_px=gap_px,
            min_area=min_area,
            line_threshold=line_threshold,
            timings=timings,
            rules=trace_rules(trace_lines),
        )
    t2 = time.perf_counter()
    ink = found.lines
    index = found.trace if found.trace is not None else np.zeros((height, width), np.uint8)
    trace = index > 0
    has_trace = bool(trace.any())
    if regions is not None and has_trace:
        regions = np.where(trace, 0, regions)
    regions = found.regions if regions is None else _refinement(regions, found=found.regions)
    owner = assign_line_pixels(regions)
    hinted, conflicts = resolve_hints(owner=owner, hints=hints)
    cuts: dict[int, int] = {}
    if conflicts:  # hints of several colors in one region: a fill that leaked, cut at its narrowest neck
        regions, cuts = split_conflicts(regions, owner=owner, hints=hints, conflicts=conflicts)
        cuts = {rid: n for rid, n in cuts.items() if n > 1}
        if cuts:
            owner = assign_line_pixels(regions)
            hinted, conflicts = resolve_hints(owner=owner, hints=hints)
    if conflicts:  # what no neck separates: break ties by how deep inside the region each hint lies
        depth = inner_distance(regions, valid=regions > 0)
        hinted, conflicts = resolve_hints(owner=owner, hints=hints, depth=depth)
    count = int(regions.max(initial=0))
    region_colors: dict[int, Color] = {rid: WHITE for rid in range(1, count + 1)}
    outside = outside_regions(regions)
    if fill_unhinted is not None and len(hinted) < count:  # the model decides only what no hint does
        modelled = fill_unhinted(rgba, regions, dict(hinted))
        for rid, rgb in modelled.items():  # the paper around the drawing stays paper unless hinted
            if rid in region_colors and rid not in hinted and rid not in outside:
                region_colors[int(rid)] = tuple(int(v) for v in rgb)
    region_colors.update(hinted)
    filled = None
    ink_line = regions == 0
    if has_trace:  # trace pixels take their rule's color (and region); the rest of a line's pixels are ink
        filled = fill_trace_lines(
            index=index, regions=regions, owner=owner, region_colors=region_colors, rules=found.rules
        )
        owner = np.where(trace, filled.region, owner)
        ink_line &= ~trace
    flats = paint_flats(owner=owner, region_colors=region_colors)
    if filled is not None:
        flats[trace] = filled.rgb[trace]
        regions = np.where(trace, filled.region, regions)
    still_paper = [rid for rid in outside if region_colors[rid] == WHITE]
    paper = np.isin(owner, still_paper) if still_paper else None
    # the line layer covers ink pixels only, so region pixels of `colored` stay exactly their flat color
    alpha = cv2.bitwise_and(ink.alpha, 255, mask=ink_line.view(np.uint8))
    rgb = cv2.bitwise_and(ink.rgb, ink.rgb, mask=(alpha > 0).view(np.uint8))
    lines = cv2.merge([rgb, alpha])
    trace_layer = None
    if has_trace:  # the trace lines as drawn, for a colorist's layered file (never composited)
        t_alpha = cv2.bitwise_and(ink.alpha, 255, mask=trace.view(np.uint8))
        trace_layer = cv2.merge(
            [cv2.bitwise_and(ink.rgb, ink.rgb, mask=(t_alpha > 0).view(np.uint8)), t_alpha]
        )
    colored = composite(flats=flats, lines=lines)
    t3 = time.perf_counter()
    proof = measure_adherence(colored, regions=regions, hinted=hinted)
    proof["regions_cut"] = sum(cuts.values()) - len(cuts)  # pieces added by cutting leaked regions
    if filled is not None:
        proof.update(measure_trace_fill(colored, index=index, fill=filled))
    t4 = time.perf_counter()
    timings.update({"fill": (t3 - t2) * 1000, "proof": (t4 - t3) * 1000})
    return ColorizeResult(
        colored=colored,
        flats=flats,
        lines=lines,
        regions=regions,
        region_colors=region_colors,
        hinted=hinted,
        conflicts=conflicts,
        proof=proof,
        timings=timings,
        outside=outside,
        paper=paper,
        gaps=found.gaps,
        trace=index,
        trace_rules=found.rules,
        trace_layer=trace_layer,
    )
