"""Image bytes in and out: decode any common format to RGBA arrays, encode arrays to PNG.

The only place in `pipeline` that touches encoded bytes; it never opens files.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import ImageTooLarge, NotAnImage

__all__ = ["decode_image", "decode_label_map", "encode_png"]

_PNG_LEVEL = 1  # fast and still deterministic; DESIGN.md: optimize=True costs 4-6x for a few percent
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _open(data: bytes, *, name: str, max_pixels: int) -> Image.Image:
    """Open the header only, so size limits apply before any pixel is decoded (decompression bombs)."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise NotAnImage(f"{name!r} is empty or not bytes; upload the image file itself (PNG, JPEG, WebP).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(
            f"{name!r} is too large to decode ({exc}); scale it down to at most {max_pixels:,} pixels."
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage(
            f"{name!r} is not an image (no PNG/JPEG/WebP/GIF/BMP/TIFF header). Re-export it as PNG."
        ) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage(f"{name!r} has zero size ({width}x{height}); re-export it with its content.")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{name!r} is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,}; "
            "scale it down or raise the limit."
        )
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format in ("GIF", "PNG", "WEBP"):
        raise NotAnImage(
            f"{name!r} is an animation with {frames} frames; export the one frame to colorize as PNG."
        )
    return image


def _load(image: Image.Image, *, name: str) -> Image.Image:
    """Decode the pixels of the first frame; a truncated or corrupt file is NotAnImage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.seek(0)
            image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise NotAnImage(f"{name!r} is truncated or corrupt ({exc}); export the image again.") from exc
    return image


def _to_8bit(array: np.ndarray, mode: str) -> np.ndarray:
    """Scale a 16/32-bit integer or float single-channel image to uint8."""
    if mode == "F":
        scale = 255.0 if float(np.nanmax(array, initial=0.0)) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(array) * scale + 0.5, 0, 255).astype(np.uint8)
    array = array.astype(np.int64)
    if mode.startswith("I;16") or int(array.max(initial=0)) > 255:
        array = (array + 128) // 257
    return np.clip(array, 0, 255).astype(np.uint8)


def decode_image(data: bytes, *, name: str = "image", max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode image bytes to (H, W, 4) uint8 RGBA, upright per EXIF, refusing bombs before decoding."""
    image = _load(_open(data, name=name, max_pixels=max_pixels), name=name)
    try:
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage(f"{name!r} has unreadable metadata ({exc}); export the image again.") from exc
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        grey = _to_8bit(np.asarray(image), mode)
        rgba = np.empty((*grey.shape, 4), np.uint8)
        rgba[..., :3] = grey[..., None]
        rgba[..., 3] = 255
        return rgba
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    elif mode == "CMYK":
        image = image.convert("RGB")
    rgba = np.asarray(image.convert("RGBA"))
    return np.ascontiguousarray(rgba, dtype=np.uint8)


def decode_label_map(data: bytes, *, name: str = "label map", max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode a single-channel 8- or 16-bit PNG label map to (H, W) int32 ids."""
    image = _load(_open(data, name=name, max_pixels=max_pixels), name=name)
    if image.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L", "I;16N"):
        raise NotAnImage(
            f"{name!r} is a {image.mode} image, not a label map; store label maps as 16-bit grey PNG."
        )
    if image.mode == "P":
        return np.asarray(image, dtype=np.uint8).astype(np.int32)
    return np.asarray(image).astype(np.int32)


def encode_png(array: np.ndarray) -> bytes:
    """Encode an array as PNG: (H, W) uint8 grey, uint16/int32 16-bit grey, (H, W, 3) RGB, (H, W, 4) RGBA.

    Written here rather than by OpenCV: rows unfiltered (filter 0) and zlib level 1. Flat-colored images
    compress as well without PNG's per-row filters, and skipping them makes encoding ~4x faster (a
    colorize job writes four PNGs). Same array, same bytes.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        if array.dtype == np.uint8:
            pixels, depth, color_type = array, 8, 0
        elif array.dtype == bool:
            pixels, depth, color_type = array.astype(np.uint8) * 255, 8, 0
        elif array.dtype.kind in "iu":
            if array.size and (int(array.min()) < 0 or int(array.max()) > 65535):
                raise ValueError(
                    f"label values {int(array.min())}..{int(array.max())} do not fit a 16-bit PNG; "
                    "keep ids in 0..65535."
                )
            pixels, depth, color_type = array.astype(">u2"), 16, 0  # PNG samples are big-endian
        else:
            raise ValueError(f"cannot encode a {array.dtype} image as PNG; pass uint8 or integer labels.")
    elif array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype == np.uint8:
        pixels, depth, color_type = array, 8, 2 if array.shape[2] == 3 else 6
    else:
        raise ValueError(
            f"cannot encode shape {array.shape} {array.dtype} as PNG; pass (H, W), (H, W, 3) or (H, W, 4)."
        )
    height, width = array.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"cannot encode an empty {width}x{height} image as PNG.")
    rows = np.ascontiguousarray(pixels).reshape(height, -1).view(np.uint8)
    scanlines = np.zeros((height, rows.shape[1] + 1), np.uint8)  # a leading 0 per row: filter "none"
    scanlines[:, 1:] = rows
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), _PNG_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
