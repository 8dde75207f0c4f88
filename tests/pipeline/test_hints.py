"""Prompts to hints: JSON points and strokes, hint images, merging, and the errors for bad prompts."""

import math

import numpy as np
import pytest

from pipeline import (
    BadColor,
    BadPrompt,
    HintOutOfBounds,
    empty_hints,
    format_color,
    hints_from_image,
    hints_from_json,
    merge_hints,
    parse_color,
)
from pipeline.hints import MAX_POINTS


def test_parse_color_long_and_short():
    assert parse_color("#D23C3C") == (210, 60, 60)
    assert parse_color("#fff") == (255, 255, 255)
    assert format_color((210, 60, 60)) == "#d23c3c"


@pytest.mark.parametrize("value", ["red", "#12345", "d23c3c", "#ggg000", 123, None])
def test_bad_colors_name_the_value(value):
    with pytest.raises(BadColor, match="not #RRGGBB"):
        parse_color(value)


def test_points_and_strokes_rasterise():
    prompt = {
        "points": [{"x": 3, "y": 4, "color": "#d23c3c"}],
        "strokes": [{"points": [[10, 10], [20, 10]], "width": 3, "color": "#3c6fd2"}],
    }
    hints = hints_from_json(prompt, width=32, height=24)
    assert hints.mask[4, 3] and tuple(hints.rgb[4, 3]) == (210, 60, 60)
    assert hints.mask[10, 10:21].all() and tuple(hints.rgb[10, 15]) == (60, 111, 210)
    assert hints.mask[9, 15] and hints.mask[11, 15] and not hints.mask[13, 15]


def test_point_outside_is_hint_out_of_bounds_with_message():
    with pytest.raises(HintOutOfBounds, match=r"hint at \(40, 2\) is outside drawing 'hero.png' \(32x24\)"):
        hints_from_json(
            {"points": [{"x": 40, "y": 2, "color": "#fff"}]}, width=32, height=24, name="hero.png"
        )


def test_stroke_vertex_outside_is_hint_out_of_bounds():
    stroke = {"points": [[0, 0], [5, -1]], "width": 2, "color": "#000"}
    with pytest.raises(HintOutOfBounds):
        hints_from_json({"strokes": [stroke]}, width=8, height=8)


@pytest.mark.parametrize(
    "prompt",
    [
        [],
        {"dots": []},
        {"points": {}},
        {"points": [{"x": 1, "y": 1}]},
        {"points": [{"x": 1, "y": 1, "color": "#fff", "size": 3}]},
        {"points": [{"x": math.nan, "y": 1, "color": "#fff"}]},
        {"points": [{"x": "1", "y": 1, "color": "#fff"}]},
        {"points": [{"x": True, "y": 1, "color": "#fff"}]},
        {"strokes": [{"points": [], "width": 2, "color": "#fff"}]},
        {"strokes": [{"points": [[1, 1]], "width": 0, "color": "#fff"}]},
        {"strokes": [{"points": [[1]], "width": 2, "color": "#fff"}]},
    ],
)
def test_malformed_prompts_are_bad_prompt(prompt):
    with pytest.raises(BadPrompt):
        hints_from_json(prompt, width=8, height=8)


def test_too_many_points_refused():
    points = [{"x": 0, "y": 0, "color": "#fff"}] * (MAX_POINTS + 1)
    with pytest.raises(BadPrompt, match="limit"):
        hints_from_json({"points": points}, width=8, height=8)


def test_hint_image_ignores_transparent_and_white():
    image = np.zeros((4, 5, 4), np.uint8)
    image[0, 0] = (255, 255, 255, 255)
    image[1, 1] = (10, 20, 30, 255)
    image[2, 2] = (10, 20, 30, 100)
    hints = hints_from_image(image, width=5, height=4)
    assert hints.mask.sum() == 1 and tuple(hints.rgb[1, 1]) == (10, 20, 30)


def test_hint_image_of_wrong_size_is_bad_prompt():
    with pytest.raises(BadPrompt, match="5x4"):
        hints_from_image(np.zeros((4, 5, 4), np.uint8), width=6, height=4)


def test_merge_override_wins():
    base = hints_from_json({"points": [{"x": 1, "y": 1, "color": "#ff0000"}]}, width=4, height=4)
    over = hints_from_json({"points": [{"x": 1, "y": 1, "color": "#00ff00"}]}, width=4, height=4)
    merged = merge_hints(base, over)
    assert tuple(merged.rgb[1, 1]) == (0, 255, 0)
    assert merge_hints(base, empty_hints(width=4, height=4)).mask.sum() == 1
