"""Line art derived from flat colors: lines part the flats, the label map counts them, flats stay exact."""

from __future__ import annotations

import numpy as np

from pipeline.train.contours import derive_drawing, region_table

RED, BLUE, GREEN = (220, 40, 40), (40, 60, 220), (40, 180, 60)


def shapes(size: int = 256) -> np.ndarray:
    """(size, size, 4) RGBA: a red square and a blue square that touch, and a green disk apart."""
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[60:140, 40:120] = (*RED, 255)
    rgba[60:140, 120:200] = (*BLUE, 255)
    yy, xx = np.mgrid[:size, :size]
    rgba[(yy - 200) ** 2 + (xx - 128) ** 2 < 30**2] = (*GREEN, 255)
    return rgba


def derive(rgba: np.ndarray):
    return derive_drawing(rgba, line_px=2.0, ink_radius=3)


def test_line_separates_touching_flats():
    drawn = derive(shapes())
    # the red and blue squares meet between columns 119 and 120: a line runs along the whole shared edge
    assert (drawn.line[62:138, 119] < 128).all() and (drawn.line[62:138, 120] < 128).all()
    assert (drawn.line[100, 60:110] == 255).all()  # and not through the middle of a square
    left, right = drawn.regions[100, 80], drawn.regions[100, 160]
    assert left > 0 and right > 0 and left != right


def test_label_map_counts_the_shapes_and_the_paper():
    drawn = derive(shapes())
    assert int(drawn.regions.max()) == 4  # paper, red, blue, green
    assert sorted(np.unique(drawn.regions).tolist()) == [0, 1, 2, 3, 4]
    assert drawn.regions[0, 0] == 1  # reading order: the paper's first pixel comes first


def test_line_pixels_are_label_zero():
    drawn = derive(shapes())
    assert np.array_equal(drawn.line < 128, drawn.regions == 0)


def test_flats_are_exact_after_merging_near_colors():
    rgba = shapes()
    rgba[80:90, 50:110, :3] = (RED[0] + 3, RED[1] - 2, RED[2])  # a near-identical stripe: the same red
    drawn = derive(rgba)
    colors = {tuple(c) for c in drawn.flat.reshape(-1, 3).tolist()}
    assert colors == {RED, BLUE, GREEN, (255, 255, 255)}
    assert int(drawn.regions.max()) == 4


def test_distinct_color_is_its_own_region():
    rgba = shapes()
    rgba[80:100, 60:100, :3] = (250, 200, 40)  # a yellow patch inside the red square
    assert int(derive(rgba).regions.max()) == 5


def test_thin_dark_outline_stays_line_and_large_dark_area_stays_region():
    rgba = shapes()
    rgba[56:60, 36:204] = (20, 20, 20, 255)  # a 4 px near-black stroke above the squares
    rgba[160:250, 200:250] = (10, 10, 10, 255)  # a large black block
    drawn = derive(rgba)
    assert (drawn.line[56:60, 40:200] < 128).all()
    assert drawn.regions[205, 225] > 0  # the block is a region, outlined
    assert int(drawn.regions.max()) == 5  # paper, red, blue, green, black block; the stroke is not one


def test_dark_outline_that_thickens_in_places_is_line_whole():
    rgba = np.zeros((256, 256, 4), np.uint8)
    rgba[40:216, 40:216] = (60, 55, 50, 255)  # a dark frame, 4 px wide ...
    rgba[44:212, 44:212] = (*RED, 255)
    rgba[40:70, 40:70] = (60, 55, 50, 255)  # ... with a 30 px blob at one corner
    drawn = derive(rgba)
    assert (drawn.line[40:70, 40:70] < 128).all()  # the blob is part of the line, not a region
    assert int(drawn.regions.max()) == 2  # paper and the red square


def test_region_points_lie_inside_their_regions():
    drawn = derive(shapes())
    table = region_table(drawn.regions, index=drawn.index, palette=drawn.palette)
    assert [r["id"] for r in table] == [1, 2, 3, 4]
    for r in table:
        x, y = r["point"]
        assert drawn.regions[y, x] == r["id"]
        assert r["area"] == int((drawn.regions == r["id"]).sum())
    by_color = {r["color"]: r for r in table}
    assert {"#dc2828", "#283cdc", "#28b43c", "#ffffff"} == set(by_color)
    x, y = by_color["#28b43c"]["point"]
    assert abs(x - 128) <= 2 and abs(y - 200) <= 2  # the farthest point inside a disk is its centre
