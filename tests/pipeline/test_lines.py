"""Line extraction: grey anti-aliased, transparent, colored and noisy lines."""

import cv2
import numpy as np

from pipeline import decode_image, extract_lines
from pipeline.images import encode_png


def ring(size: int = 64, *, color=(0, 0, 0), thickness: int = 3) -> np.ndarray:
    """(H, W, 3) white paper with an anti-aliased circle outline."""
    paper = np.full((size, size, 3), 255, np.uint8)
    cv2.circle(paper, (size // 2, size // 2), size // 3, color, thickness, lineType=cv2.LINE_AA)
    return paper


def test_antialiased_black_lines_split_inside_from_outside():
    lines = extract_lines(ring())
    n, _ = cv2.connectedComponents((~lines.mask).view(np.uint8), connectivity=4)
    assert n - 1 == 2


def test_grey_lines_are_lines():
    lines = extract_lines(ring(color=(140, 140, 140)))
    assert lines.mask[32, 32 - 21] or lines.mask[32, 32 - 22]
    n, _ = cv2.connectedComponents((~lines.mask).view(np.uint8), connectivity=4)
    assert n - 1 == 2


def test_colored_lines_keep_their_color():
    lines = extract_lines(ring(color=(200, 30, 40)))
    core = lines.mask & (lines.alpha > 250)
    assert core.any()
    assert np.abs(lines.rgb[core].astype(int) - (200, 30, 40)).max() <= 3


def test_lines_on_transparency_use_alpha():
    rgba = np.zeros((64, 64, 4), np.uint8)
    cv2.circle(rgba, (32, 32), 20, (30, 60, 200, 255), 3, lineType=cv2.LINE_AA)
    lines = extract_lines(rgba)
    n, _ = cv2.connectedComponents((~lines.mask).view(np.uint8), connectivity=4)
    assert n - 1 == 2
    assert tuple(lines.rgb[32, 12]) == (30, 60, 200) or tuple(lines.rgb[32, 13]) == (30, 60, 200)


def test_jpeg_noise_is_not_line():
    rng = np.random.default_rng(0)
    noisy = np.clip(ring(128).astype(int) + rng.normal(0, 4, (128, 128, 3)), 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 70])
    lines = extract_lines(decode_image(jpg.tobytes()))
    n, labels = cv2.connectedComponents((~lines.mask).view(np.uint8), connectivity=4)
    sizes = np.bincount(labels.ravel())[1:]
    assert (sizes > 100).sum() == 2  # inside and outside, no noise walls
    assert lines.mask[:20, :20].sum() == 0


def test_threshold_override():
    faint = ring(color=(200, 200, 200))
    assert not extract_lines(faint, line_threshold=0.5).mask.any()
    assert extract_lines(faint, line_threshold=0.1).mask.any()


def test_real_line_art_matches_true_line_pixels(data_dir):
    name = "E010"
    drawing = decode_image((data_dir / "test" / f"{name}_line.png").read_bytes())
    true_line = drawing[..., 0] < 128
    lines = extract_lines(drawing)
    agree = (lines.mask == true_line).mean()
    assert agree > 0.99
    assert encode_png(lines.alpha)  # alpha is a plain uint8 image


def test_opaque_drawing_with_transparent_margin_is_composited_over_white():
    rgba = cv2.cvtColor(ring(), cv2.COLOR_RGB2RGBA)
    rgba[:, :8] = (0, 0, 0, 0)  # transparent margin with black RGB underneath
    lines = extract_lines(rgba)
    assert not lines.mask[:, :8].any()
    n, _ = cv2.connectedComponents((~lines.mask).view(np.uint8), connectivity=4)
    assert n - 1 == 2
