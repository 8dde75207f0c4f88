# ruff: noqa: E501  (a table of cases reads best one per line)
"""The catalogue of hostile and broken input Tint must refuse clearly, or convert correctly.

Each case is one row of docs/hostile_input.md; tests/workers/test_hostile_input.py runs every case through
the real path (submission, Celery task, pipeline) and checks the outcome.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

__all__ = ["ImageCase", "PromptCase", "IMAGE_CASES", "PROMPT_CASES", "MANIFEST_CASES", "base_drawing"]


def base_drawing(size: int = 64) -> Image.Image:
    """A small line drawing: a black square outline with a cross inside, on white."""
    img = np.full((size, size), 255, np.uint8)
    img[8:-8, 8] = img[8:-8, -9] = img[8, 8:-8] = img[-9, 8:-8] = 0
    img[size // 2, 8:-8] = 0
    return Image.fromarray(img, "L")


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height with almost no pixel data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    return _save(base_drawing().crop((0, 0, 64, 48)).convert("RGB"), "JPEG", exif=exif, quality=95)


def _animated_gif() -> bytes:
    frames = [base_drawing().convert("P"), base_drawing().transpose(Image.Transpose.ROTATE_90).convert("P")]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def _transparent_lines() -> bytes:
    grey = np.asarray(base_drawing())
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    return _save(Image.fromarray(rgba, "RGBA"), "PNG")


@dataclass(frozen=True)
class ImageCase:
    """A line-drawing file and what must happen to it: `error` words in the failure, or done."""

    id: str
    what: str
    data: bytes = field(repr=False)
    error: tuple[str, ...] = ()  # empty: the drawing is supported and must colorize
    size: tuple[int, int] | None = None  # (width, height) expected of the output when supported


_png = _save(base_drawing(), "PNG")
IMAGE_CASES = [
    ImageCase("not-an-image", "a text file named .png", b"hello, I am not a drawing", ("not an image",)),
    ImageCase("empty", "an empty file", b"", ("empty",)),
    ImageCase("truncated-png", "a PNG cut in half", _png[: len(_png) // 2], ("truncated",)),
    ImageCase("bomb", "PNG header claiming 50,000 x 50,000 pixels", _png_header(50_000, 50_000), ("pixels",)),
    ImageCase("zero-size", "PNG header claiming 0 x 0 pixels", _png_header(0, 0), ("not an image",)),
    ImageCase("one-pixel", "a 1 x 1 image", _save(Image.new("L", (1, 1), 255), "PNG"), ("too small",)),
    ImageCase(
        "svg", "an SVG (vector, not raster)", b'<svg xmlns="http://www.w3.org/2000/svg"/>', ("not an image",)
    ),
    ImageCase("animated-gif", "an animated GIF with 2 frames", _animated_gif(), ("frames",)),
    ImageCase("html", "an HTML page", b"<!doctype html><html></html>", ("not an image",)),
    ImageCase(
        "garbage-jpeg", "JPEG magic followed by garbage", b"\xff\xd8\xff\xe0" + b"\x00" * 200, ("image",)
    ),
    ImageCase(
        "png-16bit",
        "16-bit grey PNG",
        _save(Image.fromarray(np.asarray(base_drawing()).astype(np.uint16) * 257), "PNG"),
        size=(64, 64),
    ),
    ImageCase("png-palette", "palette PNG", _save(base_drawing().convert("P"), "PNG"), size=(64, 64)),
    ImageCase("png-transparent", "black lines on transparency (RGBA)", _transparent_lines(), size=(64, 64)),
    ImageCase("png-la", "grey + alpha PNG", _save(base_drawing().convert("LA"), "PNG"), size=(64, 64)),
    ImageCase(
        "jpeg-cmyk", "CMYK JPEG", _save(base_drawing().convert("CMYK"), "JPEG", quality=95), size=(64, 64)
    ),
    ImageCase("jpeg-exif-rotated", "JPEG with EXIF orientation 6", _exif_rotated(), size=(48, 64)),
    ImageCase("webp", "WebP", _save(base_drawing().convert("RGB"), "WEBP", lossless=True), size=(64, 64)),
]


@dataclass(frozen=True)
class PromptCase:
    """A hint prompt for the 64 x 64 base drawing and the words its failure must contain."""

    id: str
    what: str
    payload: dict
    error: tuple[str, ...]


PROMPT_CASES = [
    PromptCase(
        "hint-outside",
        "a hint point outside the drawing",
        {"points": [{"x": 500, "y": 3, "color": "#ff0000"}]},
        ("outside",),
    ),
    PromptCase(
        "hint-negative",
        "a hint at negative coordinates",
        {"points": [{"x": -1, "y": 3, "color": "#ff0000"}]},
        ("outside",),
    ),
    PromptCase(
        "hint-nan",
        "a hint with NaN coordinates",
        {"points": [{"x": float("nan"), "y": 3, "color": "#ff0000"}]},
        ("finite number",),
    ),
    PromptCase(
        "hint-string-coordinate",
        "a hint whose x is a string",
        {"points": [{"x": "10", "y": 3, "color": "#ff0000"}]},
        ("number",),
    ),
    PromptCase(
        "bad-hex",
        "a color that is not hex",
        {"points": [{"x": 10, "y": 10, "color": "reddish"}]},
        ("reddish", "#RRGGBB"),
    ),
    PromptCase(
        "color-number",
        "a color given as a number",
        {"points": [{"x": 10, "y": 10, "color": 16711680}]},
        ("#RRGGBB",),
    ),
    PromptCase("points-not-list", "'points' that is not a list", {"points": {"x": 1}}, ("list",)),
    PromptCase(
        "unknown-key",
        "an unknown key in a hint",
        {"points": [{"x": 1, "y": 1, "colour": "#ff0000"}]},
        ("colour",),
    ),
    PromptCase(
        "enormous",
        "200,000 hint points",
        {"points": [{"x": 1, "y": 1, "color": "#ff0000"}] * 200_000},
        ("limit",),
    ),
    PromptCase(
        "stroke-width",
        "a stroke 0 pixels wide",
        {"strokes": [{"points": [[1, 1], [5, 5]], "width": 0, "color": "#ff0000"}]},
        ("width",),
    ),
]

MANIFEST_CASES = {
    "path-traversal": ("../../etc/passwd", "outside"),
    "absolute-path": ("/etc/passwd", "relative"),
    "url-http": ("http://169.254.169.254/latest/meta-data", "relative"),
    "url-file": ("file:///etc/passwd", "relative"),
    "url-s3": ("s3://other-team/secret.png", "relative"),
    "home-path": ("~/secret.png", "relative"),
    "missing-file": ("nope.png", "does not exist"),
}
