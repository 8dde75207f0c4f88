"""Recolor by part name and blocks by part, on generated characters whose true part map is known."""

import numpy as np
import pytest

from pipeline import BadPrompt, blockify, colorize, hints_from_json, recolor
from pipeline.hints import format_color, parse_color
from pipeline.part_blocks import blockify_by_parts, part_block_table_json
from pipeline.part_edits import parse_part_edits, part_edits
from pipeline.part_maps import PART_NAMES, region_parts
from pipeline.prompts import drawing_regions, palette_hints
from pipeline.train.characters import make_character

NEW_HAIR = "#123456"


def _colored(seed: int):
    """A generated character colorized with a palette over every part: (character, regions, parent)."""
    c = make_character(seed=seed)
    regions = drawing_regions(c.drawing)
    rng = np.random.default_rng(seed)
    palette = {name: format_color(rng.integers(30, 226, 3)) for name in PART_NAMES}
    prompt, _ = palette_hints(palette, regions=regions, part_map=c.parts)
    parent = colorize(c.drawing, hints_from_json(prompt, width=256, height=256), regions=regions)
    return c, regions, parent


def _part_regions(regions: np.ndarray, part_map: np.ndarray, part: str) -> list[int]:
    return sorted(rid for rid, k in region_parts(regions, part_map).items() if PART_NAMES[k] == part)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_part_recolor_changes_every_pixel_of_the_part_and_nothing_else(seed: int) -> None:
    c, regions, parent = _colored(seed)
    hair = _part_regions(regions, c.parts, "hair")
    assert hair, "the generated character has hair"
    done = recolor(
        c.drawing, colored=parent.colored, regions=regions, parts={"hair": NEW_HAIR}, part_map=c.parts
    )
    child, want = done.result, parse_color(NEW_HAIR)
    assert done.edits == {rid: want for rid in hair}
    inside = np.isin(done.blocks.labels, hair)  # the hair blocks: its regions and the lines given to them
    for name in ("colored", "flats", "lines"):
        assert np.array_equal(getattr(parent, name)[~inside], getattr(child, name)[~inside]), name
    assert np.array_equal(parent.regions, child.regions)
    hair_px = np.isin(regions, hair)
    assert (child.flats[hair_px] == want).all() and (child.colored[hair_px] == want).all()
    assert (parent.colored[hair_px] != child.colored[hair_px]).any(axis=1).all()  # every hair pixel changed
    assert done.locality["unchanged_outside"] == 1.0 and done.locality["edited_max_delta_e"] == 0.0
    assert {b["id"] for b in done.locality["edited_blocks"]} == set(hair)
    assert done.parts["parts"]["hair"] == {"color": NEW_HAIR, "regions": hair, "named_as": "hair"}
    assert done.parts["missing"] == []


def test_block_edits_beside_a_part_edit_win_on_their_block() -> None:
    c, regions, parent = _colored(11)
    hair = _part_regions(regions, c.parts, "hair")
    done = recolor(
        c.drawing,
        colored=parent.colored,
        regions=regions,
        parts={"bangs": NEW_HAIR},  # a synonym of hair
        by_id={hair[0]: (1, 2, 3)},
        part_map=c.parts,
    )
    assert done.edits[hair[0]] == (1, 2, 3)
    assert all(done.edits[rid] == parse_color(NEW_HAIR) for rid in hair[1:])
    assert done.parts["parts"]["hair"]["named_as"] == "bangs"


def test_an_unknown_part_name_fails_listing_the_known_parts() -> None:
    with pytest.raises(BadPrompt) as err:
        parse_part_edits({"tail": "#ff0000"})
    message = str(err.value)
    assert "'tail'" in message and "part edits" in message
    assert all(name in message for name in PART_NAMES)
    assert "\n" not in message
    with pytest.raises(BadPrompt, match="twice"):
        parse_part_edits({"hair": "#000000", "bangs": "#111111"})
    with pytest.raises(BadPrompt):
        parse_part_edits({"hair": "brown"})


def test_a_part_the_drawing_lacks_fails_when_alone_and_is_reported_beside_others() -> None:
    c, regions, _ = _colored(11)
    part_map = np.where(c.parts == PART_NAMES.index("shoes"), 0, c.parts)  # a drawing with no shoes
    assert not _part_regions(regions, part_map, "shoes")
    with pytest.raises(BadPrompt, match=r"no region of this drawing is predicted as shoes.*its parts are: "):
        part_edits({"shoes": "#000000"}, regions=regions, part_map=part_map)
    edits, report = part_edits({"shoes": "#000000", "hair": NEW_HAIR}, regions=regions, part_map=part_map)
    assert report["missing"] == ["shoes"] and set(edits) == set(_part_regions(regions, part_map, "hair"))


def test_blocks_by_part_are_one_block_per_part_in_its_mean_color() -> None:
    c, regions, parent = _colored(12)
    by_part = blockify_by_parts(parent.colored, regions=regions, part_map=c.parts)
    rows = part_block_table_json(by_part)
    voted = region_parts(regions, c.parts)
    present = [PART_NAMES[k] for k in sorted(set(voted.values()))]
    assert [r["part"] for r in rows] == present and [r["id"] for r in rows] == list(range(1, len(rows) + 1))
    by_region = blockify(parent.colored, regions=regions)
    for row in rows:
        assert row["regions"] == _part_regions(regions, c.parts, row["part"])
        members = np.isin(by_region.labels, row["regions"])
        assert np.array_equal(by_part.result.labels == row["id"], members)  # lines go where they went
        non_line = np.isin(regions, row["regions"])
        mean = np.floor(parent.colored[non_line].astype(np.float64).mean(axis=0) + 0.5).astype(int)
        assert row["color"] == format_color(mean)
        assert (by_part.result.blocks[members] == mean).all()
        assert row["area"] == int(members.sum())
        x, y = row["point"]
        assert by_part.result.labels[y, x] == row["id"] and regions[y, x] > 0
