"""Line extraction: grey anti-aliased, transparent, colored and noisy lines."""

import cv2
import numpy as np

from pipeline import colorize, decode_image, extract_lines, hints_from_json
from pipeline.images import encode_png
from pipeline.lines import paper_color


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


def _solid_ink_drawing(size: int = 160) -> np.ndarray:
    """A white page with a white margin; solid black hair covers most of it, around an outlined face."""
    page = np.full((size, size, 3), 255, np.uint8)
    cv2.rectangle(page, (6, 6), (size - 7, size - 7), (0, 0, 0), -1)  # ~85% of the picture is solid ink
    cv2.circle(page, (size // 2, size // 2 + 10), size // 5, (255, 255, 255), -1)  # the face, paper inside
    return page


def test_paper_is_found_when_solid_ink_covers_most_of_the_picture():
    page = _solid_ink_drawing()
    assert np.median(page) == 0  # the whole picture's median would call the ink paper
    assert paper_color(page) == (255, 255, 255)
    lines = extract_lines(page)
    assert lines.mask[20, 20] and lines.mask[80, 30]  # the solid ink is ink
    assert not lines.mask[90, 80]  # the face is paper


def test_solid_ink_stays_black_divides_regions_and_is_never_a_region_to_color():
    page = _solid_ink_drawing()
    hints = hints_from_json({"points": [{"x": 80, "y": 90, "color": "#f2c9a5"}]}, width=160, height=160)
    result = colorize(page, hints)
    assert result.regions[20, 20] == 0 and result.regions[80, 30] == 0  # ink, not a region
    assert result.colored[90, 80].tolist() == [0xF2, 0xC9, 0xA5]  # the face takes its hint
    assert result.colored[20, 20].tolist() == [0, 0, 0] and result.colored[80, 30].tolist() == [0, 0, 0]
    assert result.regions[2, 2] != result.regions[90, 80]  # the margin and the face are two regions
    assert result.lines[20, 20, 3] == 255


def test_a_dark_frame_around_the_page_is_not_the_paper():
    page = np.full((128, 128, 3), 255, np.uint8)
    cv2.rectangle(page, (0, 0), (127, 127), (0, 0, 0), 8)  # a thick black frame at the border
    cv2.circle(page, (64, 64), 30, (0, 0, 0), 2)
    assert paper_color(page) == (255, 255, 255)


def test_colored_paper_is_the_paper():
    page = np.full((128, 128, 3), (236, 224, 200), np.uint8)
    cv2.circle(page, (64, 64), 30, (20, 20, 20), 2)
    assert paper_color(page) == (236, 224, 200)
    assert extract_lines(page).mask[64, 34] and not extract_lines(page).mask[64, 64]


def test_lines_on_transparency_with_solid_ink():
    rgba = np.zeros((128, 128, 4), np.uint8)
    cv2.rectangle(rgba, (4, 4), (123, 123), (0, 0, 0, 255), -1)  # solid ink over most of a transparent page
    cv2.circle(rgba, (64, 70), 25, (0, 0, 0, 0), -1)  # a transparent (paper) face inside it
    lines = extract_lines(rgba)
    assert lines.mask[10, 10] and not lines.mask[70, 64] and not lines.mask[1, 1]
