"""Layered files a colorist opens: a revision's images as named layers, written as PSD (through psd-tools)
or OpenRaster (a small writer of the freedesktop format: a zip of PNGs with `stack.xml`). Arrays in,
bytes out; no files are read or written here.

The layers, top to bottom (docs/layered_files.md says why):

| layer         | shown  | pixels                                                           |
|---------------|--------|------------------------------------------------------------------|
| `lines`       | yes    | `lines.png`: ink with its alpha                                  |
| `trace lines` | no     | the revision's trace lines, when it has them (they are filled)   |
| `flats`       | yes    | `flats.png`: one color per region, transparent outside           |
| `colored`     | no     | `colored.png`, opaque: the merged result, for reference          |
| `blocks`      | no     | `blocks.png`, opaque: each block its mean color, when given      |

Every layer covers the whole canvas (the drawing's size) at (0, 0), blends normally at 100% opacity, and
keeps its pixels exactly: a layer read back equals the image it came from.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image

from pipeline.errors import BadInput
from pipeline.images import encode_png

__all__ = [
    "LAYER_NAMES",
    "THUMBNAIL_PX",
    "Layer",
    "revision_layers",
    "flatten",
    "encode_psd",
    "encode_ora",
]

LAYER_NAMES = ("lines", "trace lines", "flats", "colored", "blocks")  # top to bottom
THUMBNAIL_PX = 256  # OpenRaster: the thumbnail fits in 256 x 256
ORA_MIMETYPE = b"image/openraster"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same revision gives the same bytes


@dataclass(frozen=True)
class Layer:
    """One layer: a name, full-canvas straight-alpha RGBA pixels (H, W, 4) uint8, and whether it shows."""

    name: str
    pixels: np.ndarray
    visible: bool = True
    opacity: float = 1.0


def _rgba(image: np.ndarray, *, name: str) -> np.ndarray:
    """(H, W, 4) uint8: RGBA as given, RGB made opaque."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise BadInput(f"layer {name!r} is {image.dtype} {image.shape}; give (H, W, 3 or 4) uint8 pixels.")
    if image.shape[2] == 4:
        return np.ascontiguousarray(image)
    return np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])


def revision_layers(
    *,
    lines: np.ndarray,
    flats: np.ndarray,
    colored: np.ndarray,
    trace_lines: np.ndarray | None = None,
    blocks: np.ndarray | None = None,
) -> list[Layer]:
    """The layers of a revision, top to bottom; trace lines and blocks only when given. Sizes must agree."""
    given = {"lines": lines, "trace lines": trace_lines, "flats": flats, "colored": colored, "blocks": blocks}
    shown = {"lines", "flats"}
    layers = [
        Layer(name=name, pixels=_rgba(image, name=name), visible=name in shown)
        for name, image in given.items()
        if image is not None
    ]
    size = layers[0].pixels.shape[:2]
    for layer in layers:
        if layer.pixels.shape[:2] != size:
            raise BadInput(
                f"layer {layer.name!r} is {layer.pixels.shape[1]}x{layer.pixels.shape[0]} but the canvas is "
                f"{size[1]}x{size[0]}; every layer must have the drawing's size."
            )
    return layers


def flatten(layers: list[Layer]) -> np.ndarray:
    """(H, W, 4) uint8: the shown layers composited bottom up with source-over (straight alpha, rounded)."""
    height, width = layers[0].pixels.shape[:2]
    color = np.zeros((height, width, 3), np.float64)  # premultiplied
    alpha = np.zeros((height, width, 1), np.float64)
    for layer in reversed(layers):
        if not layer.visible:
            continue
        a = layer.pixels[..., 3:4] / 255.0 * layer.opacity
        color = layer.pixels[..., :3] / 255.0 * a + color * (1.0 - a)
        alpha = a + alpha * (1.0 - a)
    straight = np.divide(color, alpha, out=np.zeros_like(color), where=alpha > 0)
    return (np.dstack([straight, alpha]) * 255.0).round().astype(np.uint8)


def encode_psd(layers: list[Layer]) -> bytes:
    """A PSD (8-bit RGB with transparency): the layers in order, top first, and the merged image psd-tools
    renders from them (what viewers without layer support show)."""
    # psd-tools renders the merged image only with its `composite` extra; without it the file would
    # carry a blank one, so fail here instead of writing that.
    import psd_tools.composite  # noqa: F401
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import BlendMode, Compression

    height, width = layers[0].pixels.shape[:2]
    psd = PSDImage.new("RGBA", (width, height), depth=8, compression=Compression.RLE)
    # A negative layer count tells readers the merged image's 4th channel is its transparency; with a
    # positive one (psd-tools' default for a new file) Photoshop and GIMP show that channel as a stray
    # selection ("Alpha 1") and psd-tools writes it blank. psd-tools 1.26 keeps the sign in this field
    # (set from a file it read); tests/pipeline/test_layered.py checks the merged alpha it gives.
    psd._merged_alpha = True
    for layer in reversed(layers):  # a PSD lists layers bottom first
        made = PixelLayer.frompil(
            Image.fromarray(layer.pixels, "RGBA"), psd, layer.name, 0, 0, Compression.RLE
        )
        made.visible = layer.visible
        made.opacity = round(layer.opacity * 255)
        made.blend_mode = BlendMode.NORMAL
    out = io.BytesIO()
    psd.save(out)
    return out.getvalue()


def _stack_xml(layers: list[Layer], sources: list[str], *, width: int, height: int) -> bytes:
    image = ET.Element("image", {"version": "0.0.6", "w": str(width), "h": str(height)})
    stack = ET.SubElement(image, "stack")
    for layer, src in zip(layers, sources, strict=True):  # first child is the top layer
        ET.SubElement(
            stack,
            "layer",
            {
                "name": layer.name,
                "src": src,
                "x": "0",
                "y": "0",
                "opacity": f"{layer.opacity:.3f}",
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": "svg:src-over",
            },
        )
    return ET.tostring(image, encoding="utf-8", xml_declaration=True)


def _thumbnail(merged: np.ndarray) -> np.ndarray:
    image = Image.fromarray(merged, "RGBA")
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    return np.asarray(image)


def encode_ora(layers: list[Layer]) -> bytes:
    """An OpenRaster file: `mimetype` first and stored, `stack.xml`, one PNG per layer under `data/`,
    `mergedimage.png` (the shown layers flattened) and `Thumbnails/thumbnail.png`."""
    height, width = layers[0].pixels.shape[:2]
    sources = [f"data/{layer.name.replace(' ', '_')}.png" for layer in layers]
    merged = flatten(layers)
    members = [
        ("stack.xml", _stack_xml(layers, sources, width=width, height=height)),
        *((src, encode_png(layer.pixels)) for layer, src in zip(layers, sources, strict=True)),
        ("mergedimage.png", encode_png(merged)),
        ("Thumbnails/thumbnail.png", encode_png(_thumbnail(merged))),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as ora:
        # the spec: `mimetype` is the first member, uncompressed, so its bytes sit at a fixed offset
        ora.writestr(zipfile.ZipInfo("mimetype", _ZIP_TIME), ORA_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for name, data in members:
            # PNGs are deflated already: deflating them again costs ~30% of the time for ~15% of the size
            method = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            ora.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=method)
    return out.getvalue()
