"""Decoding image bytes to RGBA and encoding arrays to PNG."""

import io

import numpy as np
import pytest
from PIL import Image

from pipeline import ImageTooLarge, NotAnImage, decode_image, decode_label_map, encode_png


def save(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
def test_decode_common_formats_to_rgba(fmt):
    image = Image.new("RGB", (7, 5), (200, 10, 10))
    out = decode_image(save(image, fmt))
    assert out.shape == (5, 7, 4) and out.dtype == np.uint8
    assert (out[..., 3] == 255).all()
    assert abs(int(out[2, 3, 0]) - 200) < 12


def test_decode_palette_with_transparency_keeps_alpha():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.putpixel((1, 1), 1)
    out = decode_image(save(image, "PNG", transparency=0))
    assert out[0, 0, 3] == 0 and tuple(out[1, 1]) == (0, 255, 0, 255)


def test_decode_16bit_grey_scales_to_8bit():
    image = Image.fromarray(np.full((3, 3), 65535, np.uint16))
    assert decode_image(save(image, "PNG"))[0, 0, 0] == 255


def test_decode_la_and_cmyk():
    assert tuple(decode_image(save(Image.new("LA", (2, 2), (10, 20)), "PNG"))[0, 0]) == (10, 10, 10, 20)
    cmyk = decode_image(save(Image.new("CMYK", (2, 2), (0, 0, 0, 0)), "JPEG"))
    assert cmyk.shape == (2, 2, 4) and cmyk[0, 0, 0] > 240


def test_decode_applies_exif_rotation():
    image = Image.new("RGB", (6, 2), (0, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = decode_image(save(image, "JPEG", exif=exif))
    assert out.shape[:2] == (6, 2)


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n"])
def test_non_images_are_not_an_image(data):
    with pytest.raises(NotAnImage, match="hero.png"):
        decode_image(data, name="hero.png")


def test_truncated_file_is_not_an_image():
    data = save(Image.effect_noise((64, 64), 40).convert("RGB"), "PNG")
    with pytest.raises(NotAnImage, match="truncated"):
        decode_image(data[: len(data) // 2], name="cut.png")


def test_too_many_pixels_refused_before_decoding():
    data = save(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(ImageTooLarge, match="3000x3000"):
        decode_image(data, name="big.png", max_pixels=1_000_000)


def test_encode_png_round_trips_every_kind():
    rng = np.random.default_rng(0)
    for array in (
        rng.integers(0, 255, (5, 6), dtype=np.uint8),
        rng.integers(0, 255, (5, 6, 3), dtype=np.uint8),
        rng.integers(0, 255, (5, 6, 4), dtype=np.uint8),
    ):
        back = np.asarray(Image.open(io.BytesIO(encode_png(array))))
        assert np.array_equal(back, array)


def test_encoded_png_is_read_alike_by_opencv_and_pillow():
    import cv2

    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 255, (7, 9, 4), dtype=np.uint8)
    labels = rng.integers(0, 65535, (7, 9)).astype(np.uint16)
    assert np.array_equal(
        cv2.imdecode(np.frombuffer(encode_png(rgba), np.uint8), -1), rgba[..., [2, 1, 0, 3]]
    )
    assert np.array_equal(cv2.imdecode(np.frombuffer(encode_png(labels), np.uint8), -1), labels)
    assert np.array_equal(decode_image(encode_png(rgba[..., :3]))[..., :3], rgba[..., :3])


def test_label_maps_round_trip_as_16bit():
    labels = np.arange(30, dtype=np.int32).reshape(5, 6) * 2000
    data = encode_png(labels)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    assert np.array_equal(decode_label_map(data), labels)


def test_encode_png_is_deterministic():
    array = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    assert encode_png(array) == encode_png(array.copy())


def test_labels_over_16bit_are_refused():
    with pytest.raises(ValueError, match="65535"):
        encode_png(np.full((2, 2), 70000, np.int32))


def test_rgb_image_is_not_a_label_map():
    with pytest.raises(NotAnImage, match="label map"):
        decode_label_map(save(Image.new("RGB", (2, 2)), "PNG"))
