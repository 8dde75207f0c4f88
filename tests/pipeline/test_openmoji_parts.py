"""OpenMoji part masks from an inline SVG's named groups, offline (no npm)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cairosvg")

from pipeline.train.openmoji_parts import render_part_masks  # noqa: E402

# a blue shirt square, a skin square over its right half, hair on top of the skin's top half, lines on top
SVG = b"""<svg id="emoji" viewBox="0 0 72 72" xmlns="http://www.w3.org/2000/svg">
  <g id="color"><path fill="#92D3F5" d="M0,0h36v36H0z"/></g>
  <g id="skin"><path fill="#FCEA2B" d="M18,0h18v36H18z"/></g>
  <g id="hair"><path fill="#F1B31C" d="M18,0h18v18H18z"/></g>
  <g id="line"><path fill="none" stroke="#000" stroke-width="2" d="M0,0h36v36H0z"/></g>
</svg>"""


def render() -> np.ndarray:
    return render_part_masks(SVG, viewbox="0 0 36 36", size=36)


def test_skin_and_hair_groups_become_labels_1_and_2():
    parts = render()
    assert parts[27, 27] == 1 and parts[9, 27] == 2


def test_other_groups_are_0():
    assert render()[18, 9] == 0


def test_a_later_group_covers_an_earlier_one():
    parts = render()
    assert (parts[:18, 18:] == 2).all() and (parts[18:, 18:] == 1).all()


def test_the_line_group_is_not_a_part():
    assert set(render()[:, :18].ravel()) == {0}


def test_masks_are_on_the_given_viewbox_and_size():
    parts = render_part_masks(SVG, viewbox="18 0 18 18", size=12)  # the hair square only
    assert parts.shape == (12, 12) and (parts == 2).all()
