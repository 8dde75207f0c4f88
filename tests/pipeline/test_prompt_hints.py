"""prompt_to_hints: every form of prompt becomes one hint set, on regions found once; the user's marks win."""

import numpy as np
import pytest
from synthetic_drawings import as_drawing, blank, rectangle

from pipeline import colorize, prompt_to_hints
from pipeline.errors import HintOutOfBounds
from pipeline.part_maps import PART_NAMES

SKIN, HAIR = PART_NAMES.index("skin"), PART_NAMES.index("hair")


def two_boxes() -> np.ndarray:
    grey = rectangle(blank(80), x0=5, y0=5, x1=40, y1=40, thickness=2)
    return as_drawing(rectangle(grey, x0=45, y0=10, x1=75, y1=70, thickness=3))


def part_map_of(drawing: np.ndarray) -> np.ndarray:
    """Left box hair, right box skin, the rest background: a stand-in for the part model."""
    parts = np.zeros(drawing.shape[:2], np.uint8)
    parts[:, :43] = HAIR
    parts[:, 43:] = SKIN
    parts[:3, :] = parts[:, :3] = 0
    return parts


def color_at(drawing, resolved, x, y) -> list[int]:
    result = colorize(drawing, resolved.hints, found=resolved.found, regions=resolved.regions)
    return result.flats[y, x].tolist()


def test_points_alone_give_the_same_colors_as_colorize_finding_regions_itself():
    drawing = two_boxes()
    prompt = {"points": [{"x": 20, "y": 20, "color": "#d23c3c"}]}
    resolved = prompt_to_hints(drawing, prompt)
    again = colorize(drawing, resolved.hints)
    once = colorize(drawing, resolved.hints, found=resolved.found, regions=resolved.regions)
    assert np.array_equal(once.flats, again.flats) and np.array_equal(once.regions, again.regions)
    assert set(resolved.timings) >= {"lines", "regions", "hints"} and "regions" not in once.timings


def test_a_palette_colors_its_parts_and_the_users_point_wins_over_it():
    drawing = two_boxes()
    prompt = {
        "palette": {"hair": "#5a3825", "skin": "#f2c9a5"},
        "points": [{"x": 60, "y": 40, "color": "#00ff00"}],
    }
    resolved = prompt_to_hints(drawing, prompt, part_map=part_map_of)
    assert color_at(drawing, resolved, 20, 20) == [0x5A, 0x38, 0x25]
    assert color_at(drawing, resolved, 60, 40) == [0, 255, 0]  # the user's own point beats the palette
    assert resolved.report["parts"]["parts"]["hair"]["color"] == "#5a3825"


def test_a_hint_image_is_under_the_points():
    drawing = two_boxes()
    image = np.full((80, 80, 4), 0, np.uint8)
    image[15:25, 15:25] = (10, 20, 30, 255)
    image[35:45, 55:65] = (200, 0, 0, 255)
    resolved = prompt_to_hints(
        drawing, {"points": [{"x": 60, "y": 40, "color": "#0000ff"}]}, hint_image=image
    )
    assert color_at(drawing, resolved, 20, 20) == [10, 20, 30]
    assert color_at(drawing, resolved, 60, 40) == [0, 0, 255]


def test_a_reference_picture_colors_matching_regions():
    drawing = two_boxes()
    reference = np.full((80, 80, 3), 255, np.uint8)
    reference[7:39, 7:39] = (30, 140, 60)
    resolved = prompt_to_hints(drawing, {}, reference=reference)
    assert color_at(drawing, resolved, 20, 20) == [30, 140, 60]
    assert resolved.report["reference_matches"]


def test_a_palette_without_a_part_map_is_a_programming_error():
    with pytest.raises(ValueError, match="part_map"):
        prompt_to_hints(two_boxes(), {"palette": {"hair": "#000000"}})


def test_bad_points_are_bad_input_naming_the_drawing():
    with pytest.raises(HintOutOfBounds, match="hero"):
        prompt_to_hints(two_boxes(), {"points": [{"x": 500, "y": 1, "color": "#000000"}]}, name="hero")


def test_the_part_model_runs_only_for_a_palette():
    calls = []
    prompt_to_hints(two_boxes(), {"points": []}, part_map=lambda d: calls.append(1) or part_map_of(d))
    assert calls == []
