"""Recolor properties over random edits: pixels outside edited blocks never change, edited blocks get
exactly the requested color, and edit images / unknown ids behave as documented."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic_drawings import as_drawing, blank, rectangle

from pipeline import (
    BadInput,
    BadPrompt,
    UnknownBlock,
    blockify,
    colorize,
    hints_from_json,
    recolor,
)
from pipeline.recolor import collect_edits, edits_from_image

SIZE = 64


def grid_drawing() -> np.ndarray:
    """A 64 px drawing of nine boxes in a 3x3 grid (ten regions with the background)."""
    grey = blank(SIZE)
    for i in range(3):
        for j in range(3):
            grey = rectangle(grey, x0=4 + 20 * i, y0=4 + 20 * j, x1=18 + 20 * i, y1=18 + 20 * j, thickness=1)
    return as_drawing(grey)


DRAWING = grid_drawing()
PALETTE = ["#d23c3c", "#3c6fd2", "#2e7d32", "#f2c9a5", "#5a3825", "#aaaaaa", "#ffd400", "#7a1fa2", "#00897b"]
PROMPT = {
    "points": [
        {"x": 11 + 20 * i, "y": 11 + 20 * j, "color": PALETTE[3 * i + j]} for i in range(3) for j in range(3)
    ]
}
PARENT = colorize(DRAWING, hints_from_json(PROMPT, width=SIZE, height=SIZE))
BLOCKS = blockify(PARENT.colored, regions=PARENT.regions)
IDS = [b.id for b in BLOCKS.table]

colors = st.tuples(*[st.integers(0, 255)] * 3)
edit_sets = st.dictionaries(st.sampled_from(IDS), colors, min_size=1, max_size=3)


def recolor_with(edits: dict) -> object:
    """What `pipeline.recolor` (the worker's path) makes of PARENT with `edits`: result and locality proof."""
    return recolor(DRAWING, colored=PARENT.colored, regions=PARENT.regions, by_id=edits)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edit_sets)
def test_pixels_outside_edited_blocks_never_change(edits):
    done = recolor_with(edits)
    outside = ~np.isin(BLOCKS.labels, list(edits))
    assert np.array_equal(PARENT.colored[outside], done.result.colored[outside])
    assert done.locality["unchanged_outside"] == 1.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edit_sets)
def test_edited_blocks_get_exactly_the_requested_color(edits):
    done = recolor_with(edits)
    for bid, want in edits.items():
        assert (done.result.colored[done.result.regions == bid] == want).all()
    assert done.locality["edited_max_delta_e"] < 1.0


@settings(max_examples=25, deadline=None)
@given(edits=edit_sets)
def test_edit_image_picks_the_painted_blocks_and_colors(edits):
    painted = BLOCKS.blocks.copy()
    for bid, color in edits.items():
        painted[BLOCKS.labels == bid] = color
    want = {bid: c for bid, c in edits.items() if c != BLOCKS.table[IDS.index(bid)].color}
    assert edits_from_image(painted, blocks=BLOCKS) == want


def test_edit_image_ignores_transparent_pixels():
    rgba = np.dstack([np.zeros_like(BLOCKS.blocks), np.zeros(BLOCKS.labels.shape, np.uint8)])
    assert edits_from_image(rgba, blocks=BLOCKS) == {}


def test_edit_image_of_another_size_is_bad_prompt():
    with pytest.raises(BadPrompt, match="paint over this revision's blocks.png"):
        edits_from_image(np.zeros((8, 8, 3), np.uint8), blocks=BLOCKS)


def test_collect_edits_merges_image_ids_and_points_later_winning():
    painted = BLOCKS.blocks.copy()
    painted[BLOCKS.labels == 4] = (1, 2, 3)
    painted[BLOCKS.labels == 2] = (1, 2, 3)
    x, y = BLOCKS.table[2].point  # a point inside block 3
    edits = collect_edits(
        blocks=BLOCKS, by_id={2: (4, 5, 6), 3: (0, 0, 0)}, at=[(x, y, (7, 8, 9))], edit_image=painted
    )
    assert edits == {4: (1, 2, 3), 2: (4, 5, 6), 3: (7, 8, 9)}


def test_collect_edits_unknown_block_names_it():
    with pytest.raises(UnknownBlock, match=r"block 99 does not exist; this revision has blocks 1\.\.10"):
        collect_edits(blocks=BLOCKS, by_id={99: (1, 2, 3)})


def test_collect_edits_without_any_edit_is_bad_input():
    with pytest.raises(BadInput, match="at least one edit"):
        collect_edits(blocks=BLOCKS, edit_image=BLOCKS.blocks.copy())
