"""Palette and reference prompts: synonyms, clear errors, exact part colors, self-reference reproduces."""

import numpy as np
import pytest

from pipeline.colorize import colorize
from pipeline.errors import BadPrompt
from pipeline.hints import format_color, hints_from_json
from pipeline.models.parts import SHIPPED_PARTS, load_parts, region_parts
from pipeline.prompts import (
    PART_NAMES,
    SYNONYMS,
    color_regions,
    drawing_regions,
    palette_hints,
    part_index,
    reference_hints,
    resolve_palette,
)
from pipeline.train.characters import make_character


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
    again_prompt, matches = reference_hints(first.colored, regions=first.regions)
    again = colorize(c.drawing, hints_from_json(again_prompt, width=256, height=256))
    assert np.array_equal(again.flats, first.flats)
    assert np.array_equal(again.colored, first.colored)
    assert all(m["source"] is not None and m["confidence"] > 0.9 for m in matches)


def test_reference_with_given_regions_and_shifted_picture() -> None:
    c = make_character(seed=31)
    shifted = np.full_like(c.colored, 255)
    shifted[:, 10:] = c.colored[:, :-10]
    prompt, matches = reference_hints(shifted, regions=c.regions)
    assert len(matches) == int(c.regions.max())
    good = sum(m["color"] == format_color(c.region_colors[m["region"]]) for m in matches)
    assert good / len(matches) > 0.8


def test_color_regions_split_colors_and_drop_ink() -> None:
    image = np.full((40, 60, 3), 255, np.uint8)
    image[5:35, 5:30] = (200, 30, 30)
    image[5:35, 30:55] = (30, 30, 200)
    image[2:38, 29:31] = 0  # an ink line between them (long and thin)
    labels = color_regions(image)
    assert len(np.unique(labels[labels > 0])) == 3  # paper, red, blue
    assert (labels[2:38, 29:31] == 0).all()


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
    model = load_parts(None, device="cpu")
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
