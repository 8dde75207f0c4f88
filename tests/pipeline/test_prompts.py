"""Palette and reference prompts: synonyms, clear errors, exact part colors, self-reference reproduces,
regions split along a reference's color-only edges."""

import cv2
import numpy as np
import pytest

from pipeline.colorize import colorize
from pipeline.errors import BadPrompt
from pipeline.hints import format_color, hints_from_json
from pipeline.models import parts as parts_model
from pipeline.models.parts import SHIPPED_PARTS, region_parts
from pipeline.prompts import (
    PART_NAMES,
    SYNONYMS,
    drawing_regions,
    palette_hints,
    part_index,
    resolve_palette,
)
from pipeline.reference import color_regions, reference_hints
from pipeline.train.characters import PARTS, make_character


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("iris", "eyes"),
        ("Shirt", "top"),
        ("jacket", "top"),
        ("pants", "bottom"),
        ("trousers", "bottom"),
        ("skirt", "bottom"),
        ("face", "skin"),
        ("boots", "shoes"),
        ("eye whites", "eye_whites"),
        ("eye-whites", "eye_whites"),
        ("hair", "hair"),
    ],
)
def test_synonyms_resolve(name: str, part: str) -> None:
    assert PART_NAMES[part_index(name)] == part
    assert resolve_palette({name: "#102030"}) == {PART_NAMES.index(part): (16, 32, 48)}


def test_every_synonym_names_a_part() -> None:
    assert set(SYNONYMS.values()) <= set(PART_NAMES)


def test_unknown_part_fails_listing_known_names() -> None:
    with pytest.raises(BadPrompt) as err:
        resolve_palette({"hair": "#000000", "tentacles": "#ff0000"})
    message = str(err.value)
    assert "tentacles" in message
    assert all(name in message for name in PART_NAMES)


def test_bad_palettes_fail_clearly() -> None:
    with pytest.raises(BadPrompt, match="twice"):
        resolve_palette({"shirt": "#000000", "jacket": "#111111"})
    with pytest.raises(BadPrompt):
        resolve_palette({"hair": "brown"})
    with pytest.raises(BadPrompt):
        resolve_palette({})


def _regions(drawing: np.ndarray) -> np.ndarray:
    return drawing_regions(drawing)


def _palette() -> dict[str, str]:
    rng = np.random.default_rng(3)
    return {name: format_color(rng.integers(0, 256, 3)) for name in PART_NAMES}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_palette_with_every_part_colors_every_part_region_exactly(seed: int) -> None:
    c = make_character(seed=seed)
    regions = _regions(c.drawing)
    palette = _palette()
    prompt, report = palette_hints(palette, regions=regions, part_map=c.parts)
    res = colorize(c.drawing, hints_from_json(prompt, width=256, height=256))
    assert np.array_equal(res.regions, regions)
    parts = region_parts(regions, c.parts)
    assert set(parts) == set(range(1, int(regions.max()) + 1))
    for rid, k in parts.items():
        pixels = res.flats[regions == rid]
        assert (pixels == resolve_palette({PART_NAMES[k]: palette[PART_NAMES[k]]})[k]).all(), rid
    assert res.proof["hint_adherence"] == 1.0
    assert report["missing"] == [n for n in PART_NAMES if not report["parts"][n]["regions"]]


def test_palette_leaves_unnamed_parts_unhinted() -> None:
    c = make_character(seed=11)
    regions = _regions(c.drawing)
    prompt, report = palette_hints({"hair": "#5a3825"}, regions=regions, part_map=c.parts)
    hair = {rid for rid, k in region_parts(regions, c.parts).items() if PART_NAMES[k] == "hair"}
    assert len(prompt["points"]) == len(hair) == len(report["parts"]["hair"]["regions"])
    assert {p["color"] for p in prompt["points"]} == {"#5a3825"}


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_reference_of_own_colored_image_reproduces_it(seed: int) -> None:
    c = make_character(seed=seed)
    regions = _regions(c.drawing)
    prompt, _ = palette_hints(_palette(), regions=regions, part_map=c.parts)
    first = colorize(c.drawing, hints_from_json(prompt, width=256, height=256))
    again_prompt, matches, regions_again = reference_hints(first.colored, regions=first.regions)
    assert np.array_equal(regions_again, first.regions)
    again = colorize(c.drawing, hints_from_json(again_prompt, width=256, height=256), regions=regions_again)
    assert np.array_equal(again.flats, first.flats)
    assert np.array_equal(again.colored, first.colored)
    assert all(m["source"] is not None and m["confidence"] > 0.9 for m in matches)


def test_reference_with_given_regions_and_shifted_picture() -> None:
    c = make_character(seed=31)
    shifted = np.full_like(c.colored, 255)
    shifted[:, 10:] = c.colored[:, :-10]
    prompt, matches, _ = reference_hints(shifted, regions=c.regions)
    assert len(matches) == int(c.regions.max())
    good = sum(m["color"] == format_color(c.region_colors[m["region"]]) for m in matches)
    assert good / len(matches) > 0.8


def _box_drawing() -> tuple[np.ndarray, np.ndarray]:
    """A 128 px drawing: one box outline with a small circle inside; and its regions."""
    drawing = np.full((128, 128, 3), 255, np.uint8)
    cv2.rectangle(drawing, (16, 20), (110, 104), (0, 0, 0), 3)
    cv2.circle(drawing, (40, 44), 8, (0, 0, 0), 3)
    return drawing, drawing_regions(drawing)


def _colored(drawing: np.ndarray, *, left: tuple, right: tuple, shift: tuple[int, int]) -> np.ndarray:
    """The box drawing colored (left part `left`, right part `right`, circle green), moved by shift."""
    ink = drawing[..., 0] < 128
    colored = np.full_like(drawing, 255)
    colored[20:105, 16:63] = left
    colored[20:105, 63:111] = right
    cv2.circle(colored, (40, 44), 8, (40, 160, 40), -1)
    colored[ink] = 0
    out = np.full_like(colored, 255)
    dx, dy = shift
    out[dy:, dx:] = colored[: 128 - dy, : 128 - dx]
    return out


def test_a_region_the_reference_colors_in_two_halves_is_split_and_each_half_takes_its_color() -> None:
    drawing, regions = _box_drawing()
    red, blue = (200, 40, 30), (30, 60, 200)
    reference = _colored(drawing, left=red, right=blue, shift=(5, 3))
    prompt, matches, refined = reference_hints(reference, regions=regions)
    assert int(refined.max()) == int(regions.max()) + 1  # the box's inside became two sub-regions
    assert np.array_equal(refined == 0, regions == 0)
    inside = int(regions[60, 90])
    pieces = [m for m in matches if m.get("split_from") == inside]
    assert sorted(m["color"] for m in pieces) == sorted([format_color(red), format_color(blue)])
    assert all(m["source"] is not None and m["confidence"] > 0.9 for m in pieces)
    assert len(matches) == int(refined.max())
    res = colorize(drawing, hints_from_json(prompt, width=128, height=128), regions=refined)
    assert res.proof["hint_adherence"] == 1.0
    assert (res.flats[60:100, 22:58] == red).all()
    assert (res.flats[30:100, 70:105] == blue).all()
    assert (res.flats[44, 40] == (40, 160, 40)).all()


def test_a_reference_without_inner_color_edges_changes_nothing() -> None:
    drawing, regions = _box_drawing()
    reference = _colored(drawing, left=(200, 40, 30), right=(200, 40, 30), shift=(5, 3))
    split = reference_hints(reference, regions=regions)
    plain = reference_hints(reference, regions=regions, split=False)
    assert split[2] is regions or np.array_equal(split[2], regions)
    assert split[0] == plain[0] and split[1] == plain[1]
    assert not any("split_from" in m for m in split[1])


def test_a_character_reference_splits_only_where_its_regions_join_two_true_colors() -> None:
    # the generator's parts are bounded by lines, but closing gaps joins a brow to the hair: the only cuts
    # made are those, and each piece takes the true color of most of its pixels
    c = make_character(seed=32)
    regions = _regions(c.drawing)
    shifted = np.full_like(c.colored[..., :3], 255)
    shifted[6:, 9:] = c.colored[:-6, :-9, :3]
    _, matches, refined = reference_hints(shifted, regions=regions)
    pieces = [m for m in matches if "split_from" in m]
    assert pieces
    for m in pieces:
        colors, counts = np.unique(c.flats[refined == m["region"]], axis=0, return_counts=True)
        assert m["color"] == format_color(tuple(int(v) for v in colors[counts.argmax()]))
    for split_from in {m["split_from"] for m in pieces}:  # a region cut in pieces held two true colors
        assert len(np.unique(c.flats[regions == split_from], axis=0)) >= 2


def test_colorize_rejects_a_region_map_that_does_not_refine_the_drawings() -> None:
    drawing, regions = _box_drawing()
    merged = np.where(regions > 0, 1, 0).astype(np.int32)  # one region across lines' two sides
    with pytest.raises(BadPrompt):
        colorize(drawing, hints_from_json({"points": []}, width=128, height=128), regions=merged)
    with pytest.raises(BadPrompt):
        colorize(drawing, hints_from_json({"points": []}, width=128, height=128), regions=regions[:-1])


def test_color_regions_split_colors_and_drop_ink() -> None:
    image = np.full((40, 60, 3), 255, np.uint8)
    image[5:35, 5:30] = (200, 30, 30)
    image[5:35, 30:55] = (30, 30, 200)
    image[2:38, 29:31] = 0  # an ink line between them (long and thin)
    labels = color_regions(image)
    assert len(np.unique(labels[labels > 0])) == 3  # paper, red, blue
    assert (labels[2:38, 29:31] == 0).all()


def test_color_regions_drop_a_heavy_pen_and_the_small_ink_pieces_beside_it() -> None:
    # lines 7 px wide: deeper than `line_width` where they cross, yet long; an eye's ring of the same ink
    # apart from them; a dark filled disc far thicker than the lines stays a region
    image = np.full((200, 200, 3), 255, np.uint8)
    ink = (30, 30, 60)
    image[20:180, 20:180] = (230, 180, 140)
    for a in (20, 100, 173):
        image[a : a + 7, 20:180] = ink
        image[20:180, a : a + 7] = ink
    yy, xx = np.mgrid[0:200, 0:200]
    ring = np.hypot(yy - 60, xx - 60)
    image[(ring > 8) & (ring < 11)] = ink
    image[np.hypot(yy - 140, xx - 140) < 20] = (40, 30, 50)  # a dark fill, no line
    labels = color_regions(image)
    assert (labels[100:107, 30:90] == 0).all() and (labels[100:107, 100:107] == 0).all()  # the crossing
    assert (labels[(ring > 8.5) & (ring < 10.5)] == 0).all()  # the eye's ring
    assert (labels[135:145, 135:145] > 0).all()  # the disc is a region, not ink


def test_color_regions_keep_a_dark_iris_whose_edge_pixels_blend_into_the_ink() -> None:
    # a generated character's dark brown irises, a thin ring between the eye's outline and the pupil: their
    # edge pixels blend towards the ink, so the piece's color must be its most common one, not its first
    c = make_character(seed=8020, size=512, pose=0, expression=0)
    iris = (c.parts == PARTS.index("eyes")) & (c.colored[..., :3] == c.flats).all(axis=2)
    assert iris.sum() > 500 and (c.flats[iris].max(axis=1) < 128).all()  # dark, near the ink's color
    labels = color_regions(c.colored[..., :3])
    assert (labels[iris] > 0).mean() > 0.95


def test_part_rendering_and_table() -> None:
    from pipeline.models.parts import PART_COLORS, part_table, render_part_map

    c = make_character(seed=41)
    regions = _regions(c.drawing)
    picture = render_part_map(c.parts, regions=regions)
    assert picture.shape == (256, 256, 3) and picture.dtype == np.uint8
    assert (picture[regions == 0] == 0).all()
    rows = part_table(regions, c.parts)
    assert sum(len(r["regions"]) for r in rows) == int(regions.max())
    assert render_part_map(c.parts)[0, 0].tolist() == list(PART_COLORS[int(c.parts[0, 0])])


@pytest.mark.skipif(not SHIPPED_PARTS.exists(), reason="parts weights not shipped yet")
def test_palette_with_the_shipped_model_colors_every_region_by_its_predicted_part() -> None:
    model = parts_model.load(None, device="cpu")
    c = make_character(seed=424242 * 100_003 + 7)
    regions = drawing_regions(c.drawing)
    palette = _palette()
    part_map = model.part_map(c.drawing)
    prompt, _ = palette_hints(palette, regions=regions, part_map=part_map)
    res = colorize(c.drawing, hints_from_json(prompt, width=256, height=256))
    table = resolve_palette(palette)
    for rid, k in region_parts(regions, part_map).items():
        assert (res.flats[regions == rid] == table[k]).all(), rid
    truth = region_parts(regions, c.parts)
    agree = np.mean([truth[rid] == k for rid, k in region_parts(regions, part_map).items()])
    assert agree > 0.6
