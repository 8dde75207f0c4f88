"""Recolor by part name: {"hair": "#5a3825"} -> block edits on every region the part map votes as hair.

A revision's blocks are its regions (block id == region id), so a part edit is a set of ordinary block
edits and runs through `pipeline.recolor.recolor` like any other: every other pixel stays bit-identical and
the locality proof covers the part's blocks. A region belongs to the part most of its pixels are predicted
as (`region_parts`), the same vote palette prompts and the batch report use, so after a part edit the
report reads the part as exactly the requested color.
"""

from __future__ import annotations

import numpy as np

from pipeline.color import Color
from pipeline.errors import BadPrompt
from pipeline.hints import format_color
from pipeline.part_maps import PART_NAMES, region_parts
from pipeline.prompts import part_index, resolve_palette

__all__ = ["PartEdits", "parse_part_edits", "part_edits"]

WHERE = "the part edits"
PartEdits = tuple[dict[int, Color], dict]  # (block edits {region id: color}, report)


def parse_part_edits(parts: dict[str, str]) -> dict[int, Color]:
    """Part index -> (r, g, b) from {"hair": "#5a3825"}; an unknown name (the error lists the known
    parts), a bad color or a part named twice is BadPrompt. Front doors call it before a job is made."""
    if not isinstance(parts, dict) or not parts:
        raise BadPrompt('a part edit maps part names to colors, e.g. {"hair": "#5a3825"}.')
    return resolve_palette(parts, where=WHERE)


def part_edits(parts: dict[str, str], *, regions: np.ndarray, part_map: np.ndarray | None) -> PartEdits:
    """Block edits for a revision: every region of each named part takes that part's color.

    regions (H, W) is the revision's region map (0 = line), part_map (H, W) indices into PART_NAMES for its
    line drawing. The report has the palette report's shape: {"regions": {id: part}, "parts": {part:
    {"color", "regions", "named_as"}}, "missing": [named parts with no region here]}. When none of the
    named parts has a region in this drawing there is nothing to recolor: BadPrompt, naming the parts
    it has.
    """
    table = parse_part_edits(parts)
    if part_map is None:
        raise ValueError("part edits need the drawing's part map (pipeline.models.parts).")
    names = {part_index(n, where=WHERE): str(n) for n in parts}
    voted = region_parts(regions, part_map)
    edits = {rid: table[k] for rid, k in sorted(voted.items()) if k in table}
    report: dict = {"regions": {rid: PART_NAMES[k] for rid, k in sorted(voted.items())}, "parts": {}}
    for k, rgb in sorted(table.items()):
        rids = sorted(rid for rid, p in voted.items() if p == k)
        report["parts"][PART_NAMES[k]] = {"color": format_color(rgb), "regions": rids, "named_as": names[k]}
    report["missing"] = [
        PART_NAMES[k] for k in sorted(table) if not report["parts"][PART_NAMES[k]]["regions"]
    ]
    if not edits:
        present = sorted(set(voted.values()))
        have = ", ".join(PART_NAMES[k] for k in present) or "none"
        raise BadPrompt(
            f"no region of this drawing is predicted as {', '.join(report['missing'])}, so there is nothing "
            f"to recolor; its parts are: {have} (`tint parts` shows which region is which)."
        )
    return edits, report
