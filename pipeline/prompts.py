"""Prompts in the studio's words: a palette by part name, or a colored reference picture, turned into hints.

Both return a JSON hint prompt `{"points": [...]}` (one point per region, at the pixel farthest from
its edge), so the result goes through `pipeline.hints.hints_from_json` like any user prompt and
colorize paints each hinted region exactly. Regions must be the label map colorize will find for the
same drawing (`find_regions(extract_lines(drawing).mask, ...)` with the same settings).

- `palette_hints`: each region takes the part most of its pixels are predicted as (a part map from
  `pipeline.models.parts`), and a named part's color goes to all its regions.
- `reference_hints` (in `pipeline.reference`): regions matched to a colored reference picture's regions
  take their colors; regions the reference colors in several pieces are split into sub-regions.
"""

from __future__ import annotations

import numpy as np

from pipeline.blockify import deepest_points, inner_distance
from pipeline.color import Color
from pipeline.errors import BadPrompt
from pipeline.hints import format_color, parse_color
from pipeline.lines import as_rgba, extract_lines
from pipeline.part_maps import PART_NAMES, region_parts
from pipeline.regions import find_regions

__all__ = [
    "PART_NAMES",
    "SYNONYMS",
    "part_index",
    "resolve_palette",
    "region_points",
    "palette_hints",
    "hint_points",
    "drawing_regions",
]

SYNONYMS: dict[str, str] = {
    "bg": "background", "backdrop": "background", "paper": "background",
    "face": "skin", "body": "skin", "skin_tone": "skin", "skintone": "skin", "hands": "skin", "hand": "skin",
    "arms": "skin", "arm": "skin", "legs": "skin", "neck": "skin", "ears": "skin", "ear": "skin",
    "hairs": "hair", "eyebrows": "hair", "eyebrow": "hair", "brows": "hair", "brow": "hair", "bangs": "hair",
    "fringe": "hair", "beard": "hair", "ponytail": "hair",
    "eye": "eyes", "iris": "eyes", "irises": "eyes", "eye_color": "eyes", "eye_colour": "eyes",
    "eye_white": "eye_whites", "whites": "eye_whites", "sclera": "eye_whites",
    "lips": "mouth", "lip": "mouth", "tongue": "mouth", "mouth_inside": "mouth",
    "shirt": "top", "jacket": "top", "coat": "top", "blouse": "top", "sweater": "top", "jumper": "top",
    "hoodie": "top", "t_shirt": "top", "tshirt": "top", "tee": "top", "vest": "top", "dress": "top",
    "torso": "top", "sleeves": "top", "sleeve": "top", "tops": "top", "upper": "top", "collar": "top",
    "bottoms": "bottom", "pants": "bottom", "trousers": "bottom", "skirt": "bottom", "shorts": "bottom",
    "jeans": "bottom", "leggings": "bottom", "lower": "bottom",
    "shoe": "shoes", "boots": "shoes", "boot": "shoes", "sneakers": "shoes", "footwear": "shoes",
    "feet": "shoes", "foot": "shoes", "sandals": "shoes",
    "accessories": "accessory", "hat": "accessory", "cap": "accessory", "bow": "accessory",
    "scarf": "accessory", "bag": "accessory", "glasses": "accessory", "sunglasses": "accessory",
    "headband": "accessory", "belt": "accessory", "earrings": "accessory", "props": "accessory",
}  # fmt: skip


def drawing_regions(
    drawing: np.ndarray, *, gap_px: int = 3, min_area: int = 8, line_threshold: float | None = None
) -> np.ndarray:
    """The region map colorize will find for this drawing with the same settings (hints land on it)."""
    found = extract_lines(as_rgba(drawing), line_threshold=line_threshold)
    return find_regions(found.mask, gap_px=gap_px, min_area=min_area)


def part_index(name: str, *, where: str = "the palette") -> int:
    """Index into PART_NAMES of a part name or synonym (case, spaces and hyphens ignored); else BadPrompt
    naming `where` the name was given."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = SYNONYMS.get(key, key)
    if key not in PART_NAMES:
        raise BadPrompt(
            f"unknown part name {name!r} in {where}; known parts: {', '.join(PART_NAMES)} "
            f"(also accepted: {', '.join(sorted(SYNONYMS))})."
        )
    return PART_NAMES.index(key)


def resolve_palette(palette: dict[str, str], *, where: str = "the palette") -> dict[int, Color]:
    """Part index -> (r, g, b) from {"hair": "#5a3825", "iris": "#2e7d32"}; a part twice is BadPrompt."""
    if not isinstance(palette, dict) or not palette:
        raise BadPrompt('a palette is a non-empty object of part name -> color, e.g. {"hair": "#5a3825"}.')
    out: dict[int, Color] = {}
    named: dict[int, str] = {}
    for name, color in palette.items():
        k = part_index(name, where=where)
        if k in named:
            raise BadPrompt(f"palette names part {PART_NAMES[k]!r} twice ({named[k]!r} and {name!r}).")
        named[k] = name
        out[k] = parse_color(color)
    return out


def region_points(regions: np.ndarray) -> dict[int, tuple[int, int]]:
    """Region id -> (x, y) of its pixel farthest from its edge (ties: first in reading order)."""
    regions = np.asarray(regions, np.int32)
    ids = [int(i) for i in np.unique(regions) if i > 0]
    points = deepest_points(inner_distance(regions, valid=regions > 0), labels=regions, ids=ids)
    return dict(zip(ids, points, strict=True))


def hint_points(colors: dict[int, Color], points: dict[int, tuple[int, int]]) -> dict:
    return {
        "points": [
            {"x": points[rid][0], "y": points[rid][1], "color": format_color(rgb)}
            for rid, rgb in sorted(colors.items())
            if rid in points
        ]
    }


def palette_hints(palette: dict[str, str], *, regions: np.ndarray, part_map: np.ndarray) -> tuple[dict, dict]:
    """({"points": [...]}, report) for a palette; part_map (H, W) holds indices into PART_NAMES.

    The report: {"regions": {id: part name}, "parts": {part: {"color", "regions", "named_as"}},
    "missing": [named parts no region was predicted as]}.
    """
    table = resolve_palette(palette)
    names = {part_index(n): n for n in palette}
    parts = region_parts(regions, part_map)
    colors = {rid: table[k] for rid, k in parts.items() if k in table}
    report: dict = {"regions": {rid: PART_NAMES[k] for rid, k in sorted(parts.items())}, "parts": {}}
    for k, rgb in sorted(table.items()):
        rids = sorted(rid for rid, p in parts.items() if p == k)
        report["parts"][PART_NAMES[k]] = {"color": format_color(rgb), "regions": rids, "named_as": names[k]}
    report["missing"] = [
        PART_NAMES[k] for k in sorted(table) if not report["parts"][PART_NAMES[k]]["regions"]
    ]
    return hint_points(colors, region_points(regions)), report
