"""Hints: every prompt form normalised to one raster of hint colors and a mask of hinted pixels.

JSON points and strokes and hint images all become a `Hints`; later entries draw over earlier ones
(strokes first, then points), and merging lets one hint set override another (recolor edits win).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.errors import BadColor, BadPrompt, HintOutOfBounds

__all__ = [
    "Hints",
    "parse_color",
    "format_color",
    "empty_hints",
    "hints_from_json",
    "hints_from_image",
    "merge_hints",
    "MAX_POINTS",
    "MAX_STROKE_WIDTH",
]

MAX_POINTS = 100_000  # points plus stroke vertices in one prompt
MAX_STROKE_WIDTH = 512
_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True, eq=False)
class Hints:
    """A hint raster: rgb (H, W, 3) uint8 colors, valid where mask (H, W) bool is set."""

    rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the drawing these hints belong to."""
        return int(self.mask.shape[1]), int(self.mask.shape[0])


def parse_color(value: str) -> tuple[int, int, int]:
    """Parse "#rrggbb" or "#rgb" into an (r, g, b) tuple; anything else is BadColor."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise BadColor(f'color {value!r} is not #RRGGBB; write colors as hex, e.g. "#d23c3c".')
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def format_color(rgb: tuple[int, int, int] | np.ndarray | list[int]) -> str:
    """Format an (r, g, b) color as lower-case "#rrggbb"."""
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def empty_hints(*, width: int, height: int) -> Hints:
    """Hints for a drawing of this size with no hinted pixel."""
    return Hints(rgb=np.zeros((height, width, 3), np.uint8), mask=np.zeros((height, width), bool))


def _number(value: object, *, what: str) -> float:
    """A finite JSON number (not a bool), else BadPrompt naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadPrompt(f"{what} is {value!r}, not a finite number; give pixel coordinates as numbers.")
    return float(value)


def _pixel(x: object, y: object, *, width: int, height: int, name: str, what: str) -> tuple[int, int]:
    """Pixel (column, row) of a hint coordinate; HintOutOfBounds when outside the drawing."""
    fx, fy = _number(x, what=f"{what} x"), _number(y, what=f"{what} y")
    px, py = math.floor(fx), math.floor(fy)
    if not (0 <= px < width and 0 <= py < height):
        raise HintOutOfBounds(
            f"hint at ({x}, {y}) is outside drawing {name!r} ({width}x{height}); "
            "hints use pixel coordinates from the top left."
        )
    return px, py


def _keys(entry: object, *, allowed: set[str], what: str) -> dict:
    """Check a JSON object has exactly the allowed keys."""
    if not isinstance(entry, dict):
        raise BadPrompt(
            f"{what} is {type(entry).__name__}, not an object; see the prompt format in DESIGN.md."
        )
    unknown = set(entry) - allowed
    missing = allowed - set(entry)
    if unknown or missing:
        raise BadPrompt(
            f"{what} has keys {sorted(entry)}; it needs exactly {sorted(allowed)} "
            f"(unknown: {sorted(unknown)}, missing: {sorted(missing)})."
        )
    return entry


def _list(value: object, *, what: str) -> list:
    """A JSON array, else BadPrompt."""
    if not isinstance(value, list):
        raise BadPrompt(f"{what} is {type(value).__name__}, not a list; see the prompt format in DESIGN.md.")
    return value


def _stroke_length(stroke: object) -> int:
    """How many vertices a stroke entry claims (1 for anything malformed, checked properly later)."""
    vertices = stroke.get("points") if isinstance(stroke, dict) else None
    return len(vertices) if isinstance(vertices, list) else 1


def hints_from_json(prompt: dict, *, width: int, height: int, name: str = "drawing") -> Hints:
    """Rasterise a JSON prompt {"points": [...], "strokes": [...]} into hints for a width x height drawing."""
    if not isinstance(prompt, dict):
        raise BadPrompt(f'prompt is {type(prompt).__name__}, not an object with "points" and/or "strokes".')
    unknown = set(prompt) - {"points", "strokes"}
    if unknown:
        raise BadPrompt(
            f'prompt has unknown keys {sorted(unknown)}; a hint prompt takes only "points" and "strokes".'
        )
    points = _list(prompt.get("points", []), what="prompt 'points'")
    strokes = _list(prompt.get("strokes", []), what="prompt 'strokes'")
    total = len(points) + sum(_stroke_length(s) for s in strokes)
    if total > MAX_POINTS:
        raise BadPrompt(
            f"prompt has {total:,} points; the limit is {MAX_POINTS:,}. Use a hint image instead."
        )
    hints = empty_hints(width=width, height=height)
    mask = hints.mask.view(np.uint8)
    for i, stroke in enumerate(strokes):
        what = f"strokes[{i}]"
        stroke = _keys(stroke, allowed={"points", "width", "color"}, what=what)
        color = parse_color(stroke["color"])
        stroke_width = _number(stroke["width"], what=f"{what} width")
        if not 1 <= stroke_width <= MAX_STROKE_WIDTH:
            raise BadPrompt(f"{what} width {stroke['width']!r} must be 1..{MAX_STROKE_WIDTH} pixels.")
        vertices = []
        for j, vertex in enumerate(_list(stroke["points"], what=f"{what} points")):
            if not isinstance(vertex, list | tuple) or len(vertex) != 2:
                raise BadPrompt(f"{what} points[{j}] is {vertex!r}; write each vertex as [x, y].")
            vertices.append(_pixel(vertex[0], vertex[1], width=width, height=height, name=name, what=what))
        if not vertices:
            raise BadPrompt(f"{what} has no points; give at least one [x, y].")
        thickness = max(1, int(round(stroke_width)))
        poly = np.asarray(vertices, np.int32).reshape(-1, 1, 2)
        for target, value in ((hints.rgb, color), (mask, 1)):
            if len(vertices) == 1:
                cv2.circle(target, vertices[0], thickness // 2, value, -1, lineType=cv2.LINE_8)
            else:
                cv2.polylines(target, [poly], False, value, thickness=thickness, lineType=cv2.LINE_8)
    for i, point in enumerate(points):
        what = f"points[{i}]"
        point = _keys(point, allowed={"x", "y", "color"}, what=what)
        color = parse_color(point["color"])
        px, py = _pixel(point["x"], point["y"], width=width, height=height, name=name, what=what)
        hints.rgb[py, px] = color
        mask[py, px] = 1
    return hints


def check_overlay(
    image: np.ndarray, *, width: int, height: int, what: str, under: str, fix: str
) -> np.ndarray:
    """`image` as an (H, W, 3|4) uint8 array painted over `under` (width x height); else BadPrompt."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise BadPrompt(f"{what} has shape {image.shape} {image.dtype}; use an RGB or RGBA image (8 bit).")
    if image.shape[:2] != (height, width):
        raise BadPrompt(
            f"{what} is {image.shape[1]}x{image.shape[0]} but {under} is {width}x{height}; {fix}."
        )
    return image


def hints_from_image(image: np.ndarray, *, width: int, height: int) -> Hints:
    """Hints from an RGBA (or RGB) hint image; transparent (alpha < 128) or pure white pixels carry none."""
    image = check_overlay(
        image,
        width=width,
        height=height,
        what="hint image",
        under="the drawing",
        fix="draw hints on a canvas of the drawing's size",
    )
    rgb = np.ascontiguousarray(image[..., :3])
    mask = ~(rgb == 255).all(axis=2)
    if image.shape[2] == 4:
        mask &= image[..., 3] >= 128
    rgb = np.where(mask[..., None], rgb, 0).astype(np.uint8)
    return Hints(rgb=rgb, mask=mask)


def merge_hints(base: Hints, override: Hints) -> Hints:
    """One hint set from two: override's hints win wherever its mask is set."""
    if base.mask.shape != override.mask.shape:
        raise BadPrompt(
            f"cannot merge hints of size {base.size} and {override.size}; both must match the drawing."
        )
    mask = base.mask | override.mask
    rgb = np.where(override.mask[..., None], override.rgb, base.rgb)
    return Hints(rgb=rgb, mask=mask)
