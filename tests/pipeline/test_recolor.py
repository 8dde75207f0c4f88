"""blockify and recolor: block tables, and recolor that changes only the edited block, bit for bit."""

import json

import numpy as np
import pytest
from synthetic_drawings import as_drawing, blank, rectangle

from bench.openmoji import region_points
from pipeline import (
    HintOutOfBounds,
    UnknownBlock,
    block_table_json,
    blockify,
    colorize,
    decode_image,
    edits_at_points,
    hints_from_json,
    recolor,
    target_prompt,
)


def two_boxes() -> np.ndarray:
    grey = rectangle(blank(80), x0=5, y0=5, x1=40, y1=40, thickness=2)
    grey = rectangle(grey, x0=45, y0=10, x1=75, y1=70, thickness=3)
    return as_drawing(grey)


def test_blockify_of_equal_color_areas():
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, 15:] = (200, 10, 10)
    image[5, 5] = (1, 1, 1)  # a speck: merged into its neighbour
    result = blockify(image, min_area=4)
    assert result.labels.min() == 1 and result.labels.max() == 2
    (a, b) = result.table
    assert a.color == (0, 0, 0) and b.color == (200, 10, 10)
    assert a.bbox == (0, 0, 14, 19) and a.area == 300
    assert result.labels[a.point[1], a.point[0]] == a.id
    assert (result.blocks[:, 15:] == (200, 10, 10)).all()
    json.dumps(block_table_json(result.table))


def test_blockify_with_regions_uses_region_ids_and_exact_flat_colors():
    drawing = two_boxes()
    prompt = {"points": [{"x": 20, "y": 20, "color": "#d23c3c"}, {"x": 60, "y": 40, "color": "#3c6fd2"}]}
    result = colorize(drawing, hints_from_json(prompt, width=80, height=80))
    blocks = blockify(result.colored, regions=result.regions)
    assert (blocks.labels > 0).all()
    for block in blocks.table:
        assert block.color == result.region_colors[block.id]
        assert result.regions[block.point[1], block.point[0]] == block.id


def recolor_one(drawing, prompt, *, pick):
    """colorize, then `pipeline.recolor` (the worker's path) with one block edited."""
    height, width = drawing.shape[:2]
    parent = colorize(drawing, hints_from_json(prompt, width=width, height=height))
    bid = pick(blockify(parent.colored, regions=parent.regions))
    done = recolor(drawing, colored=parent.colored, regions=parent.regions, by_id={bid: (17, 201, 99)})
    assert done.edits == {bid: (17, 201, 99)}
    assert done.locality["unchanged_outside"] == 1.0 and done.locality["edited_max_delta_e"] == 0.0
    return parent, done.result, done.blocks, done.edits


def assert_local(parent, child, blocks, edits):
    ((bid, want),) = edits.items()
    outside = blocks.labels != bid
    for name in ("colored", "flats", "lines"):
        assert np.array_equal(getattr(parent, name)[outside], getattr(child, name)[outside]), name
    assert np.array_equal(parent.regions, child.regions)
    assert (child.flats[blocks.labels == bid] == want).all()
    assert (child.colored[child.regions == bid] == want).all()


def test_recolor_changes_only_the_edited_block_synthetic():
    prompt = {"points": [{"x": 20, "y": 20, "color": "#d23c3c"}, {"x": 2, "y": 2, "color": "#a0a0a0"}]}
    assert_local(*recolor_one(two_boxes(), prompt, pick=lambda b: b.table[-1].id))


def test_recolor_changes_only_the_edited_block_real_drawing(data_dir):
    index = {i["name"]: i for i in json.loads((data_dir / "index.json").read_text())["items"]}
    item = index["E010"]
    drawing = decode_image((data_dir / "test" / "E010_line.png").read_bytes())
    prompt = {"points": region_points(item["regions"])}
    assert_local(
        *recolor_one(drawing, prompt, pick=lambda b: max(b.table, key=lambda t: t.area if t.id > 1 else 0).id)
    )


def test_edits_at_points_and_errors():
    labels = np.array([[1, 1, 2], [3, 3, 2]], np.int32)
    assert edits_at_points([(2, 0, (1, 2, 3)), (0, 1, (4, 5, 6))], labels=labels) == {
        2: (1, 2, 3),
        3: (4, 5, 6),
    }
    with pytest.raises(HintOutOfBounds):
        edits_at_points([(3, 0, (1, 2, 3))], labels=labels)


def test_unknown_block_names_the_id_and_range():
    image = np.zeros((8, 8, 3), np.uint8)
    blocks = blockify(image)
    with pytest.raises(UnknownBlock, match=r"block 9 does not exist; this revision has blocks 1\.\.1"):
        target_prompt(blocks=blocks, colored=image, edits={9: (1, 2, 3)})


def test_target_prompt_averages_center_and_ring_of_shaded_blocks():
    image = np.zeros((20, 20, 3), np.uint8)
    image[:] = (100, 100, 100)
    image[8:12, 8:12] = (120, 100, 100)  # a shaded center inside the same block
    blocks = blockify(image, regions=np.ones((20, 20), np.int32))
    prompt = target_prompt(blocks=blocks, colored=image, edits={})
    (point,) = prompt["points"]
    assert point["color"] != "#646464"  # the center shading counts, not only the majority color
