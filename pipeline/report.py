"""Color consistency across a batch: the color each part of a colored drawing came out in, and the drawings
whose part differs from the rest of that character's drawings (the check a studio otherwise does by eye).

- `part_colors`: a region belongs to the part most of its pixels are predicted as (`region_parts`); a
  part's color is the most common flat color over the non-line pixels of all its regions (a part may be
  several regions: both eyes, hair split by a headband).
- `check_consistency`: per character and part, the per-channel median of its drawings' colors, and each
  drawing's CIEDE2000 distance to it; a distance over the threshold flags the drawing. A part seen in one
  drawing only is its own median and is never flagged; with two drawings that differ, both are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.color import Color, delta_e2000, rgb_to_lab
from pipeline.part_maps import PART_NAMES, region_parts

__all__ = [
    "DEFAULT_THRESHOLD",
    "NO_CHARACTER",
    "PartColor",
    "DrawingColors",
    "ConsistencyRow",
    "part_colors",
    "check_consistency",
]

DEFAULT_THRESHOLD = 10.0  # CIEDE2000; about 10 just-noticeable steps, a color an art lead calls different
NO_CHARACTER = "(no character)"


@dataclass(frozen=True)
class PartColor:
    """The color one part of a drawing came out in."""

    part: str
    color: Color
    pixels: int  # non-line pixels of the part's regions
    share: float  # share of those pixels exactly `color` (1.0 on a flat result)


@dataclass(frozen=True)
class DrawingColors:
    """One colored drawing of a batch: its id, name, character and the colors of its parts."""

    drawing_id: int
    name: str
    character: str
    parts: Sequence[PartColor]


@dataclass(frozen=True)
class ConsistencyRow:
    """One drawing's color of one part, against the median of that part over its character's drawings."""

    character: str
    part: str
    drawing_id: int
    drawing: str
    color: Color
    median: Color
    delta_e: float  # CIEDE2000 of color to median
    flagged: bool
    pixels: int


def part_colors(flats: np.ndarray, *, regions: np.ndarray, part_map: np.ndarray) -> list[PartColor]:
    """Colors of the parts present, in PART_NAMES order, from flats (H, W, 3) uint8, regions (H, W) with
    0 = line, and part_map (H, W) indices into PART_NAMES; ties go to the lower packed color."""
    regions = np.asarray(regions, np.int64)
    rgb = np.asarray(flats)[..., :3]
    if rgb.shape[:2] != regions.shape or np.asarray(part_map).shape != regions.shape:
        raise ValueError(
            f"flats {rgb.shape[:2]}, regions {regions.shape} and part map {np.asarray(part_map).shape} "
            "must have the same (H, W); use the revision's own region map and its line drawing."
        )
    lut = np.full(int(regions.max(initial=0)) + 1, -1, np.int64)  # region id -> part index, 0 (line) -1
    for rid, k in region_parts(regions, part_map).items():
        lut[rid] = k
    part_of = lut[regions]  # (H, W)
    sel = part_of >= 0
    packed = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    keys, counts = np.unique((part_of[sel] << 24) | packed[sel], return_counts=True)
    parts = keys >> 24
    out = []
    for k in np.unique(parts):
        mine = parts == k
        best = int(np.argmax(counts[mine]))  # np.unique sorts keys, so ties go to the lower color
        value = int(keys[mine][best]) & 0xFFFFFF
        total = int(counts[mine].sum())
        out.append(
            PartColor(
                part=PART_NAMES[int(k)],
                color=(value >> 16, (value >> 8) & 0xFF, value & 0xFF),
                pixels=total,
                share=float(counts[mine][best]) / total,
            )
        )
    return out


def _median(colors: list[Color]) -> Color:
    r, g, b = np.round(np.median(np.asarray(colors, np.float64), axis=0)).astype(int)
    return int(r), int(g), int(b)


def check_consistency(
    drawings: Sequence[DrawingColors], *, threshold: float = DEFAULT_THRESHOLD
) -> list[ConsistencyRow]:
    """One row per drawing and part, by character, part (PART_NAMES order) and drawing id; a row is
    flagged when its color is over `threshold` CIEDE2000 from the character's median color of that part.
    Drawings with no character name group under NO_CHARACTER."""
    groups: dict[tuple[str, str], list[tuple[DrawingColors, PartColor]]] = {}
    for drawing in drawings:
        for pc in drawing.parts:
            groups.setdefault((drawing.character or NO_CHARACTER, pc.part), []).append((drawing, pc))
    rows = []
    order = {name: i for i, name in enumerate(PART_NAMES)}
    for character, part in sorted(groups, key=lambda key: (key[0], order.get(key[1], len(order)), key[1])):
        members = sorted(groups[character, part], key=lambda m: m[0].drawing_id)
        median = _median([pc.color for _, pc in members])
        distances = delta_e2000(rgb_to_lab([pc.color for _, pc in members]), rgb_to_lab(median))
        for (drawing, pc), delta in zip(members, np.atleast_1d(distances), strict=True):
            rows.append(
                ConsistencyRow(
                    character=character,
                    part=part,
                    drawing_id=drawing.drawing_id,
                    drawing=drawing.name,
                    color=pc.color,
                    median=median,
                    delta_e=round(float(delta), 2),
                    flagged=bool(delta > threshold),
                    pixels=pc.pixels,
                )
            )
    return rows
