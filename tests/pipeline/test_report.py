"""Part colors of a colored drawing and the consistency check over a batch's drawings of one character."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.models.parts import PART_NAMES
from pipeline.report import (
    NO_CHARACTER,
    DrawingColors,
    PartColor,
    check_consistency,
    part_colors,
)

HAIR, SKIN, TOP = PART_NAMES.index("hair"), PART_NAMES.index("skin"), PART_NAMES.index("top")
BROWN, GREEN, PEACH, NAVY = (90, 56, 37), (46, 125, 50), (242, 201, 165), (34, 51, 102)


def _drawing(*, hair: tuple[int, int, int], speck: bool = False) -> tuple[np.ndarray, ...]:
    """A 20x30 drawing: hair is two regions (rows 0-4 and 6-9), skin one, a line column at x=15."""
    regions = np.zeros((20, 30), np.int32)
    regions[0:5, :15], regions[6:10, :15], regions[10:20, :15], regions[:, 16:] = 1, 2, 3, 4
    part_map = np.full((20, 30), TOP, np.uint8)
    part_map[:10, :15] = HAIR
    part_map[10:, :15] = SKIN
    part_map[12, 0:3] = HAIR  # a few mispredicted pixels: the region still votes skin
    flats = np.zeros((20, 30, 3), np.uint8)
    flats[:10, :15], flats[10:, :15], flats[:, 16:] = hair, PEACH, NAVY
    flats[:, 15] = (0, 0, 0)  # line pixels (region 0) are never counted
    if speck:
        flats[7, 0] = (255, 0, 0)
    return flats, regions, part_map


def _colors(drawing_id: int, *, hair, character: str = "hero") -> DrawingColors:
    flats, regions, part_map = _drawing(hair=hair)
    parts = part_colors(flats, regions=regions, part_map=part_map)
    return DrawingColors(drawing_id=drawing_id, name=f"d{drawing_id}.png", character=character, parts=parts)


def test_a_part_of_several_regions_takes_its_most_common_color():
    flats, regions, part_map = _drawing(hair=BROWN, speck=True)
    colors = {pc.part: pc for pc in part_colors(flats, regions=regions, part_map=part_map)}
    assert set(colors) == {"hair", "skin", "top"}
    assert colors["hair"].color == BROWN and colors["hair"].pixels == 9 * 15
    assert colors["hair"].share == pytest.approx(1 - 1 / 135)
    assert colors["skin"].color == PEACH and colors["top"].color == NAVY


def test_part_colors_refuse_arrays_of_different_sizes():
    flats, regions, part_map = _drawing(hair=BROWN)
    with pytest.raises(ValueError, match="same"):
        part_colors(flats[:10], regions=regions, part_map=part_map)


def test_a_drawing_whose_hair_differs_from_its_characters_other_drawings_is_flagged():
    rows = check_consistency([_colors(1, hair=BROWN), _colors(2, hair=GREEN), _colors(3, hair=BROWN)])
    flagged = [(r.drawing_id, r.part) for r in rows if r.flagged]
    assert flagged == [(2, "hair")]
    hair = [r for r in rows if r.part == "hair"]
    assert [r.median for r in hair] == [BROWN] * 3
    assert hair[1].delta_e > 10 and hair[0].delta_e == 0


def test_identical_drawings_are_not_flagged():
    rows = check_consistency([_colors(i, hair=BROWN) for i in (1, 2, 3)])
    assert len(rows) == 9 and not any(r.flagged for r in rows)
    assert [(r.part, r.drawing_id) for r in rows[:4]] == [("skin", 1), ("skin", 2), ("skin", 3), ("hair", 1)]


def test_characters_are_compared_only_with_themselves():
    rows = check_consistency([_colors(1, hair=BROWN), _colors(2, hair=GREEN, character="villain")])
    assert not any(r.flagged for r in rows)
    assert {r.character for r in rows} == {"hero", "villain"}


def test_drawings_without_a_character_group_together():
    rows = check_consistency([_colors(1, hair=BROWN, character=""), _colors(2, hair=BROWN, character="")])
    assert {r.character for r in rows} == {NO_CHARACTER}


def test_a_small_difference_stays_under_the_threshold():
    near = (BROWN[0] + 2, BROWN[1], BROWN[2])
    rows = check_consistency([_colors(1, hair=BROWN), _colors(2, hair=near), _colors(3, hair=BROWN)])
    assert not any(r.flagged for r in rows)
    strict = check_consistency(
        [_colors(1, hair=BROWN), _colors(2, hair=near), _colors(3, hair=BROWN)], threshold=0.5
    )
    assert [(r.drawing_id, r.part) for r in strict if r.flagged] == [(2, "hair")]


def test_a_part_seen_in_one_drawing_only_is_not_flagged():
    lone = DrawingColors(drawing_id=9, name="x", character="hero", parts=[PartColor("shoes", GREEN, 4, 1.0)])
    rows = check_consistency([_colors(1, hair=BROWN), lone])
    shoes = [r for r in rows if r.part == "shoes"]
    assert len(shoes) == 1 and not shoes[0].flagged and shoes[0].median == GREEN
