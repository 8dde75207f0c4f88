"""Layered files: a real drawing colorized, written as PSD and OpenRaster, and read back (PSD with psd-tools,
OpenRaster as zip + XML): layer names, order, visibility, blend, opacity and pixels exactly as given."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from psd_tools import PSDImage
from psd_tools.constants import BlendMode

from pipeline import BadInput, blockify, colorize, decode_image, hints_from_json, over_white
from pipeline.colorize import composite
from pipeline.layered import THUMBNAIL_PX, encode_ora, encode_psd, flatten, revision_layers

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "samples"  # real OpenMoji line art, 256 px


@pytest.fixture(scope="module")
def revision() -> dict:
    """A revision's images as the colorize job stores them: colored, flats (RGBA), lines, and the blocks
    `tint blockify --revision` makes of them. The sample's hints leave the paper unhinted, so flats are
    transparent around the drawing."""
    drawing = decode_image((SAMPLES / "baby_line.png").read_bytes())
    height, width = drawing.shape[:2]
    prompt = json.loads((SAMPLES / "baby_hints.json").read_text())
    result = colorize(drawing, hints_from_json(prompt, width=width, height=height))
    blocks = blockify(over_white(result.colored), regions=result.regions).blocks
    return {"colored": result.colored, "flats": result.flats_rgba(), "lines": result.lines, "blocks": blocks}


@pytest.fixture(scope="module")
def trace_lines(revision) -> np.ndarray:
    """A stand-in trace-line image (RGBA like lines): the ink pixels of the left half, in red."""
    trace = np.zeros_like(revision["lines"])
    half = revision["lines"].shape[1] // 2
    trace[:, :half, 0] = 255
    trace[:, :half, 3] = revision["lines"][:, :half, 3]
    return trace


def _layers(revision, trace=None):
    return revision_layers(
        lines=revision["lines"],
        flats=revision["flats"],
        colored=revision["colored"],
        blocks=revision["blocks"],
        trace_lines=trace,
    )


def _opaque(rgb: np.ndarray) -> np.ndarray:
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def test_layers_come_top_to_bottom_with_only_lines_and_flats_shown(revision, trace_lines):
    layers = _layers(revision, trace_lines)
    assert [layer.name for layer in layers] == ["lines", "trace lines", "flats", "colored", "blocks"]
    assert [layer.visible for layer in layers] == [True, False, True, False, False]
    assert [layer.name for layer in _layers(revision)] == ["lines", "flats", "colored", "blocks"]


def test_shown_layers_flatten_to_the_colored_image(revision):
    ink = revision["lines"][..., 3]
    # the drawing has both cases that matter: transparent flats, and anti-aliased (partial) ink
    assert (revision["flats"][..., 3] == 0).any() and ((ink > 0) & (ink < 255)).any()
    merged = flatten(_layers(revision))
    assert np.array_equal(over_white(merged), revision["colored"])
    # the paper around the drawing stays transparent: the hidden opaque layers do not show
    assert merged[..., 3].min() == 0


def test_psd_layers_read_back_exactly(revision, trace_lines):
    psd = PSDImage.open(io.BytesIO(encode_psd(_layers(revision, trace_lines))))
    height, width = revision["colored"].shape[:2]
    assert (psd.width, psd.height, psd.depth) == (width, height, 8)
    read = list(reversed(list(psd)))  # psd-tools lists bottom first
    assert [layer.name for layer in read] == ["lines", "trace lines", "flats", "colored", "blocks"]
    assert [layer.visible for layer in read] == [True, False, True, False, False]
    want = {
        "lines": revision["lines"],
        "trace lines": trace_lines,
        "flats": revision["flats"],
        "colored": _opaque(revision["colored"]),
        "blocks": _opaque(revision["blocks"]),
    }
    for layer in read:
        assert layer.opacity == 255 and layer.blend_mode == BlendMode.NORMAL, layer.name
        assert layer.bbox == (0, 0, width, height), layer.name
        pixels = np.asarray(layer.topil())
        assert pixels.shape == (height, width, 4) and np.array_equal(pixels, want[layer.name]), layer.name


def test_psd_merged_image_is_the_colored_image_on_paper(revision):
    psd = PSDImage.open(io.BytesIO(encode_psd(_layers(revision))))
    merged = (psd.numpy() * 255).round().astype(np.uint8)  # (H, W, 4): the image data section
    assert np.array_equal(over_white(merged), revision["colored"])


def test_ora_follows_the_openraster_layout(revision):
    data = encode_ora(_layers(revision))
    with zipfile.ZipFile(io.BytesIO(data)) as ora:
        first = ora.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert ora.read("mimetype") == b"image/openraster"
        assert data[30:38] == b"mimetype" and data[38:54] == b"image/openraster"  # no extra field
        names = set(ora.namelist())
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= names
        thumb = decode_image(ora.read("Thumbnails/thumbnail.png"))
        assert max(thumb.shape[:2]) <= THUMBNAIL_PX
    assert encode_ora(_layers(revision)) == data  # same revision, same bytes


def test_ora_layers_read_back_exactly(revision, trace_lines):
    with zipfile.ZipFile(io.BytesIO(encode_ora(_layers(revision, trace_lines)))) as ora:
        image = ET.fromstring(ora.read("stack.xml"))
        height, width = revision["colored"].shape[:2]
        assert (image.get("w"), image.get("h")) == (str(width), str(height))
        layers = image.find("stack").findall("layer")
        assert [layer.get("name") for layer in layers] == [
            "lines",
            "trace lines",
            "flats",
            "colored",
            "blocks",
        ]
        assert [layer.get("visibility") for layer in layers] == [
            "visible",
            "hidden",
            "visible",
            "hidden",
            "hidden",
        ]
        want = {
            "lines": revision["lines"],
            "trace lines": trace_lines,
            "flats": revision["flats"],
            "colored": _opaque(revision["colored"]),
            "blocks": _opaque(revision["blocks"]),
        }
        for layer in layers:
            assert (layer.get("x"), layer.get("y"), layer.get("opacity")) == ("0", "0", "1.000")
            assert layer.get("composite-op") == "svg:src-over"
            pixels = decode_image(ora.read(layer.get("src")))
            assert np.array_equal(pixels, want[layer.get("name")]), layer.get("name")
        merged = decode_image(ora.read("mergedimage.png"))
    assert np.array_equal(over_white(merged), revision["colored"])


def test_flatten_matches_the_colorize_composite_on_opaque_flats(revision):
    flats = _opaque(revision["flats"][..., :3])
    layers = revision_layers(lines=revision["lines"], flats=flats, colored=revision["colored"])
    want = composite(flats=revision["flats"][..., :3], lines=revision["lines"])
    assert np.array_equal(flatten(layers)[..., :3], want)


def test_a_layer_of_another_size_is_refused(revision):
    with pytest.raises(BadInput, match="canvas"):
        revision_layers(lines=revision["lines"][:-1], flats=revision["flats"], colored=revision["colored"])
    with pytest.raises(BadInput, match="uint8"):
        revision_layers(
            lines=revision["lines"].astype(np.float32), flats=revision["flats"], colored=revision["colored"]
        )
