"""Trace lines: colored boundary lines that divide regions like ink lines, then vanish into a fill.

Anime ink-and-paint draws shadow and highlight boundaries as colored (red, blue, green) lines inside the
black outline. A *trace line* is a line pixel whose own (un-blended) color is saturated, bright enough and
within `HUE_TOLERANCE` degrees of hue of one of the drawing's trace colors; every other line pixel is *ink*.
Trace lines take part in region finding (they divide regions and their gaps close), stay out of the line
layer, and once regions are filled each trace pixel is filled by the rule its color names:
- `nearest`: the region it borders most closely (reached through the trace line, never across ink);
- `darker` / `lighter`: the darker or lighter (CIE L*) of the regions on its two sides;
- `#rrggbb`: that color;
- `ink` in a prompt makes a default trace color an ordinary ink line again.
The rules come from a prompt's `trace_lines` object, merged over `DEFAULT_TRACE_LINES`; `false` turns
trace lines off (every line is ink, as before trace lines existed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.color import Color, rgb_to_lab
from pipeline.errors import BadColor, BadPrompt
from pipeline.hints import format_color, parse_color
from pipeline.lines import Lines

__all__ = [
    "DEFAULT_TRACE_LINES",
    "RULES",
    "TraceRule",
    "TraceFill",
    "trace_rules",
    "rules_json",
    "find_trace_lines",
    "looks_traced",
    "fill_trace_lines",
    "trace_report",
    "measure_trace_fill",
]

DEFAULT_TRACE_LINES: dict[str, str] = {"#ff0000": "nearest", "#0000ff": "nearest", "#00ff00": "nearest"}
RULES = ("nearest", "darker", "lighter")
HUE_TOLERANCE = 24.0  # degrees of hue around a trace color (primaries are 120 apart; orange, 30, is not red)
MIN_SATURATION = 0.5  # HSV saturation of a trace line's own color
MIN_VALUE = 0.55  # HSV value: darker saturated lines (sepia, maroon ink) stay ink
_GROW_SATURATION, _GROW_VALUE = 0.25, 0.45  # a line pixel next to a trace line joins it from these
_MIN_TRACE_PX = 3  # smaller trace specks are colored noise in ink, not lines
_MAX_STEPS = 64  # how far (px) through a trace line a fill looks for a region
MAX_TRACE_COLORS = 32


@dataclass(frozen=True)
class TraceRule:
    """One trace color and how its pixels are filled: rule is nearest, darker, lighter or fill (color)."""

    color: Color
    rule: str
    fill: Color | None = None

    def name(self) -> str:
        """The rule as a prompt writes it: "nearest", "darker", "lighter" or "#rrggbb"."""
        return format_color(self.fill) if self.fill is not None else self.rule


def _hsv(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colors as (N, 3) float32 HSV: hue in degrees 0..360, saturation and value 0..1."""
    px = np.ascontiguousarray(np.asarray(rgb, np.uint8).reshape(-1, 1, 3)).astype(np.float32) / 255.0
    return cv2.cvtColor(px, cv2.COLOR_RGB2HSV).reshape(-1, 3)


def _trace_color(value: object) -> Color:
    """A trace color from the prompt: #rrggbb, saturated and bright, else BadPrompt saying why."""
    try:
        rgb = parse_color(value)
    except BadColor as exc:
        raise BadPrompt(f"trace_lines: {exc}") from exc
    _, s, v = _hsv(np.array([rgb], np.uint8))[0]
    if s < MIN_SATURATION or v < MIN_VALUE:
        raise BadPrompt(
            f"trace_lines: color {value!r} is not a saturated, bright color; trace lines are colored lines "
            f'such as "#ff0000" (dark or grey lines are ink lines and need no rule).'
        )
    return rgb


def _rule(color: str, value: object) -> TraceRule | None:
    """The rule a prompt gives a trace color; None for "ink" (lines of that color are ink lines)."""
    rgb = _trace_color(color)
    if isinstance(value, str) and value.strip().lower() in RULES:
        return TraceRule(color=rgb, rule=value.strip().lower())
    if isinstance(value, str) and value.strip().lower() == "ink":
        return None
    try:
        return TraceRule(color=rgb, rule="fill", fill=parse_color(value))
    except BadColor:
        raise BadPrompt(
            f"trace_lines: rule {value!r} for {color!r} is not one of {', '.join(RULES)}, ink or a "
            f'#rrggbb color; write e.g. {{"trace_lines": {{"{color}": "darker"}}}}.'
        ) from None


def trace_rules(spec: object = None) -> tuple[TraceRule, ...]:
    """The trace rules of a prompt's `trace_lines` value (None: the defaults; false: none; an object of
    color -> rule merged over the defaults), in color order; BadPrompt names what is wrong."""
    if spec is None or spec is True:
        spec = {}
    elif spec is False:
        return ()
    if not isinstance(spec, dict):
        raise BadPrompt(
            'trace_lines must be an object of line color -> rule, e.g. {"#ff0000": "darker"}, or false.'
        )
    if len(spec) > MAX_TRACE_COLORS:
        raise BadPrompt(f"trace_lines names {len(spec)} colors; at most {MAX_TRACE_COLORS} are allowed.")
    merged: dict[Color, TraceRule | None] = {}
    for color, value in {**DEFAULT_TRACE_LINES, **spec}.items():
        merged[_trace_color(color)] = _rule(color, value)  # "#F00" and "#ff0000" are one color
    return tuple(rule for _, rule in sorted(merged.items()) if rule is not None)


def rules_json(rules: Sequence[TraceRule]) -> dict[str, str] | bool:
    """Rules as a prompt's `trace_lines` value: every color spelled out (false when there are none)."""
    return {format_color(r.color): r.name() for r in rules} if rules else False


def _nearest_hue(hsv: np.ndarray, rules: Sequence[TraceRule]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) index into rules of the trace color nearest in hue to each HSV color, and whether it is near."""
    hues = _hsv(np.array([r.color for r in rules], np.uint8))[:, 0]
    off = np.abs(hsv[:, :1] - hues[None, :])
    off = np.minimum(off, 360.0 - off)  # (N, K) degrees of hue to each trace color
    best = np.argmin(off, axis=1)
    return best, off[np.arange(len(best)), best] <= HUE_TOLERANCE


def looks_traced(rgb: np.ndarray, *, rules: Sequence[TraceRule]) -> np.ndarray:
    """(...) bool: which colors (..., 3) uint8 look like one of the trace colors, its faded edges included
    (what a result must not show where a trace line was)."""
    rgb = np.asarray(rgb, np.uint8)
    if not rules or rgb.size == 0:
        return np.zeros(rgb.shape[:-1], bool)
    hsv = _hsv(rgb.reshape(-1, 3))
    _, near = _nearest_hue(hsv, rules)
    return (near & (hsv[:, 1] >= _GROW_SATURATION) & (hsv[:, 2] >= _GROW_VALUE)).reshape(rgb.shape[:-1])


def find_trace_lines(lines: Lines, *, rules: Sequence[TraceRule]) -> np.ndarray:
    """(H, W) uint8: 0 = not trace, k = a pixel of trace line rules[k - 1], from each line pixel's own color.

    Line pixels of weaker color next to a trace line (its anti-aliased edge blended with ink) join it."""
    index = np.zeros(lines.mask.shape, np.uint8)
    if not rules or lines.rgb is None or not lines.mask.any():
        return index
    ys, xs = np.nonzero(lines.mask)
    own = lines.rgb[ys, xs]
    # only pixels with some chroma can be trace: grey and black line art is done after one cheap pass
    chroma = own.max(axis=1).astype(np.int16) - own.min(axis=1)
    colorful = chroma >= int(_GROW_SATURATION * 255 * _GROW_VALUE)
    if not colorful.any():
        return index
    ys, xs, own = ys[colorful], xs[colorful], own[colorful]
    hsv = _hsv(own)
    best, near = _nearest_hue(hsv, rules)
    strong = near & (hsv[:, 1] >= MIN_SATURATION) & (hsv[:, 2] >= MIN_VALUE)
    if not strong.any():
        return index
    index[ys[strong], xs[strong]] = (best[strong] + 1).astype(np.uint8)
    weak = np.zeros_like(lines.mask)
    weak[ys, xs] = near & (hsv[:, 1] >= _GROW_SATURATION) & (hsv[:, 2] >= _GROW_VALUE)
    for _ in range(2):
        grown = cv2.dilate(index, np.ones((3, 3), np.uint8))
        join = weak & (index == 0) & (grown > 0)
        if not join.any():
            break
        index[join] = grown[join]
    count, parts, stats, _ = cv2.connectedComponentsWithStats((index > 0).view(np.uint8), connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < _MIN_TRACE_PX)
    small = small[small > 0]
    if len(small):
        index[np.isin(parts, small)] = 0
    return index


def _reach(regions: np.ndarray, *, trace: np.ndarray, value: np.ndarray, op: str, steps: int) -> np.ndarray:
    """(H, W) float32: per trace pixel the min/max of `value` over the region pixels it reaches through
    trace pixels within `steps` px, or (steps=0) of those it reaches first; ink pixels block the way.
    Trace pixels no region reaches stay inf (min) or -inf (max)."""
    neutral = np.float32(np.inf if op == "min" else -np.inf)
    image = np.where(regions > 0, value[regions], neutral).astype(np.float32)
    grow, pick = (cv2.erode, np.minimum) if op == "min" else (cv2.dilate, np.maximum)
    kernel = np.ones((3, 3), np.uint8)
    for step in range(_MAX_STEPS):
        open_ = trace & ~np.isfinite(image)
        if step >= steps and not open_.any():
            break
        nxt = grow(image, kernel, borderType=cv2.BORDER_REPLICATE)
        update = open_ if steps == 0 else trace
        updated = np.where(update, pick(image, nxt), image)
        if np.array_equal(updated, image):
            break
        image = updated
    return image


@dataclass
class TraceFill:
    """How a drawing's trace pixels were filled: region (H, W) int32 whose color each took (0 for a rule
    with its own color, and off trace lines), and rgb (H, W, 3) uint8 their colors."""

    region: np.ndarray
    rgb: np.ndarray


def fill_trace_lines(
    *,
    index: np.ndarray,
    regions: np.ndarray,
    owner: np.ndarray,
    region_colors: dict[int, Color],
    rules: Sequence[TraceRule],
) -> TraceFill:
    """Fill every trace pixel by its color's rule from filled regions (H, W) int32 (0 on every line pixel).

    owner: every pixel's nearest region (`assign_line_pixels`), used where no region can be reached through
    the trace line. Regions of equal lightness: darker takes the lower id, lighter the higher."""
    trace = index > 0
    region = np.zeros(regions.shape, np.int32)
    rgb = np.zeros((*regions.shape, 3), np.uint8)
    if not trace.any():
        return TraceFill(region=region, rgb=rgb)
    count = int(regions.max(initial=0))
    colors = np.full((count + 1, 3), 255, np.uint8)
    for rid, c in region_colors.items():
        if 0 < rid <= count:
            colors[rid] = c
    dist = cv2.distanceTransform(trace.view(np.uint8), cv2.DIST_L2, 3)
    steps = int(np.clip(np.ceil(2 * np.percentile(dist[trace], 95)) + 1, 2, 8))
    ids = np.arange(count + 1, dtype=np.float32)
    lightness = rgb_to_lab(colors)[:, 0]
    order = np.lexsort((np.arange(count + 1), lightness))  # darkest first, ties by id
    rank = np.empty(count + 1, np.float32)
    rank[order] = np.arange(count + 1, dtype=np.float32)
    wanted = {r.rule for r in rules if r.fill is None}
    picks: dict[str, np.ndarray] = {}
    if "nearest" in wanted:  # the first region reached through the trace line (ties: the higher id)
        picks["nearest"] = _reach(regions, trace=trace, value=ids, op="max", steps=0)
    for rule, op in (("darker", "min"), ("lighter", "max")):
        if rule in wanted:
            ranked = _reach(regions, trace=trace, value=rank, op=op, steps=steps)
            finite = np.isfinite(ranked)
            picks[rule] = np.where(finite, order[np.where(finite, ranked, 0).astype(np.int64)], np.nan)
    for k, rule in enumerate(rules, start=1):
        here = index == k
        if not here.any():
            continue
        if rule.fill is not None:
            rgb[here] = rule.fill
            continue
        got = picks[rule.rule][here]
        got = np.where(np.isfinite(got) & (got > 0), got, owner[here]).astype(np.int32)
        region[here] = got
        rgb[here] = colors[got]
    return TraceFill(region=region, rgb=rgb)


def trace_report(index: np.ndarray, *, rules: Sequence[TraceRule]) -> list[dict]:
    """The trace colors found in a drawing: one row per color with pixels, its rule and pixel count."""
    counts = np.bincount(index.ravel(), minlength=len(rules) + 1)
    return [
        {"color": format_color(r.color), "rule": r.name(), "pixels": int(counts[k])}
        for k, r in enumerate(rules, start=1)
        if counts[k]
    ]


def measure_trace_fill(image: np.ndarray, *, index: np.ndarray, fill: TraceFill) -> dict:
    """Share of trace pixels of image (H, W, 3) exactly the color their rule gave them (goal 1.0)."""
    trace = index > 0
    pixels = int(trace.sum())
    if not pixels:
        return {"trace_pixels": 0, "trace_filled_by_rule": 1.0}
    good = int((image[trace] == fill.rgb[trace]).all(axis=1).sum())
    return {"trace_pixels": pixels, "trace_filled_by_rule": good / pixels}
