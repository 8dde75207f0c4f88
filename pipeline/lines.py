"""Line extraction: separate a drawing's lines from its paper and keep each line pixel's own color.

Handles black and grey anti-aliased lines on white, lines on transparency (RGBA), colored lines and
noisy JPEG scans. A pixel's *ink* is how far it is from the paper color; its line alpha is its ink
relative to the strongest ink nearby (the line's core), so faint, thin and colored lines are found
with the same rule as thick black ones: a pixel is line when it carries at least half its core's ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Lines", "as_rgba", "extract_lines", "over_white", "paper_color"]

_CORE_WINDOW = 5  # neighbourhood (px) in which a line's core ink is looked up
_MIN_CORE_INK = 48  # 0..255; cores fainter than this are paper texture or JPEG noise, not lines
_NOISE_SIGMAS = 6.0  # auto floor: paper noise level times this
_LIGHT = 96  # 0..255: a border whose brightest channel is under this is ink, not paper


@dataclass
class Lines:
    """A drawing's lines: mask (H, W) bool, alpha (H, W) uint8 and rgb (H, W, 3) uint8 line color."""

    mask: np.ndarray  # (H, W) bool, True = line pixel (separates regions)
    alpha: np.ndarray  # (H, W) uint8, 0 = paper, 255 = solid line
    rgb: np.ndarray | None  # (H, W, 3) uint8, each line pixel's own (un-blended) color; None if not asked
    threshold: float  # the ink floor used, 0..1 of full contrast


def as_rgba(drawing: np.ndarray) -> np.ndarray:
    """View a grey, RGB or RGBA drawing as (H, W, 4) uint8."""
    drawing = np.asarray(drawing)
    if drawing.dtype != np.uint8:
        raise ValueError(f"drawing must be uint8, got {drawing.dtype}; decode it with decode_image.")
    if drawing.ndim == 2:
        return cv2.cvtColor(drawing, cv2.COLOR_GRAY2RGBA)
    if drawing.ndim == 3 and drawing.shape[2] == 3:
        return cv2.cvtColor(drawing, cv2.COLOR_RGB2RGBA)
    if drawing.ndim == 3 and drawing.shape[2] == 4:
        return drawing
    raise ValueError(f"drawing must be (H, W), (H, W, 3) or (H, W, 4), got {drawing.shape}.")


def _histogram_quantile(values: np.ndarray, q: float) -> int:
    """The q-quantile (0..1) of uint8 values, from their 256-bin histogram (no sort)."""
    counts = np.bincount(values.ravel(), minlength=256)
    return int(np.searchsorted(np.cumsum(counts), q * values.size, side="left"))


def _median_color(pixels: np.ndarray) -> tuple[int, int, int]:
    """Per-channel median of (N, 3|4) uint8 pixels."""
    r, g, b = (_histogram_quantile(pixels[:, c], 0.5) for c in range(3))
    return r, g, b


def paper_color(rgb: np.ndarray) -> tuple[int, int, int]:
    """The paper color of an opaque drawing (H, W, 3|4): the median of its border, where paper shows even
    when solid ink (a mass of black hair) covers most of the picture; when the border is dark (the drawing
    runs off the page, or a frame), the median of the largest light connected area. Never the median of
    the whole picture, which solid ink can turn black."""
    height, width = rgb.shape[:2]
    band = max(1, min(height, width) // 64)
    border = np.concatenate(
        [
            rgb[:band].reshape(-1, rgb.shape[2]),
            rgb[-band:].reshape(-1, rgb.shape[2]),
            rgb[:, :band].reshape(-1, rgb.shape[2]),
            rgb[:, -band:].reshape(-1, rgb.shape[2]),
        ]
    )
    paper = _median_color(border)
    if max(paper) >= _LIGHT:
        return paper
    step = max(1, int(np.sqrt(height * width / 65536)))
    sample = np.ascontiguousarray(rgb[::step, ::step, :3])
    light = (sample.max(axis=2) >= _LIGHT).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=4)
    if count < 2:  # nothing light at all: the border's color is the best guess
        return paper
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return _median_color(sample[labels == largest])


def _ink_opaque(image: np.ndarray, paper: tuple[int, int, int]) -> np.ndarray:
    """Ink (H, W) uint8: the largest per-channel distance of each pixel from the paper color.

    Works on RGB or opaque RGBA (the alpha plane of an opaque image differs by 0 and never wins).
    """
    height, width, channels = image.shape
    diff = cv2.absdiff(image, (*paper, 255)[:channels])
    # the max of each pixel's first three bytes, as a 1x3 dilation along the interleaved row
    rows = cv2.dilate(diff.reshape(height, width * channels), np.ones((1, 3), np.uint8), anchor=(0, 0))
    return cv2.extractChannel(rows.reshape(height, width, channels), 0)


def over_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: an (H, W, 4) uint8 image composited over white paper (3 channels pass as they are).

    The one compositing rule for drawings, references and revisions read back for blockify or recolor."""
    if rgba.shape[2] == 3:
        return rgba
    a = cv2.cvtColor(np.ascontiguousarray(rgba[..., 3]), cv2.COLOR_GRAY2RGB)
    rgb = cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2RGB)
    return cv2.add(cv2.multiply(rgb, a, scale=1 / 255), cv2.bitwise_not(a))


def _auto_floor(ink: np.ndarray) -> int:
    """Ink floor from the paper's own noise: a robust spread of the ink of the paper-like pixels."""
    step = max(1, int(np.sqrt(ink.size / 65536)))
    counts = np.bincount(ink[::step, ::step].ravel(), minlength=256)[:64]  # paper-like pixels only
    total = int(counts.sum())
    noise = int(np.searchsorted(np.cumsum(counts), 0.9 * total, side="left")) if total else 0
    return int(max(_MIN_CORE_INK, min(160, noise * _NOISE_SIGMAS)))


def extract_lines(
    drawing: np.ndarray, *, line_threshold: float | None = None, with_colors: bool = True
) -> Lines:
    """Find line pixels, their alpha and own colors; line_threshold (0..1 ink) overrides the auto rule.

    with_colors=False skips un-blending line colors (rgb is then None) when only the mask is needed.
    """
    rgba = as_rgba(drawing)
    alpha_channel = cv2.extractChannel(rgba, 3)
    opaque = int(alpha_channel.min()) == 255
    transparent = not opaque and int(np.median(alpha_channel[::4, ::4])) < 128
    rgb = None
    if transparent:
        # Lines on transparency: the alpha channel is the ink, the color is the line's own color.
        ink = alpha_channel
        paper = (255, 255, 255)
    elif opaque:
        paper = paper_color(rgba)
        ink = _ink_opaque(rgba, paper)
    else:
        # transparent margins hide arbitrary (often black) RGB: look at the drawing over white paper
        rgb = over_white(rgba)
        paper = paper_color(rgb)
        ink = _ink_opaque(rgb, paper)
    if line_threshold is not None:
        if not 0.0 < float(line_threshold) <= 1.0:
            raise ValueError(f"line_threshold {line_threshold!r} must be in (0, 1]; pass e.g. 0.5.")
        floor = max(1, int(round(float(line_threshold) * 255)))
        mask = ink >= floor
        core = np.full_like(ink, 255)
        threshold = float(line_threshold)
    else:
        floor = _auto_floor(ink)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_CORE_WINDOW, _CORE_WINDOW))
        core = cv2.dilate(ink, kernel)
        # a pixel is line when it has at least half its core's ink and the core is above the noise floor
        mask = (cv2.subtract(core, ink) <= ink) & (core >= floor)
        threshold = floor / 255.0
    if transparent:
        alpha = ink.copy()
    else:
        alpha = cv2.divide(ink, core, scale=255)  # x / 0 is 0 in OpenCV
        alpha = cv2.bitwise_and(alpha, alpha, mask=(core >= _MIN_CORE_INK // 2).view(np.uint8))  # paper noise
    alpha = cv2.max(alpha, mask.view(np.uint8))  # every line pixel has some alpha
    line_rgb = None
    if with_colors:
        if rgb is None:
            rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)
        line_rgb = rgb if transparent else _unblend(rgb, alpha=alpha, paper=paper)
    return Lines(mask=mask, alpha=alpha, rgb=line_rgb, threshold=threshold)


def _unblend(rgb: np.ndarray, *, alpha: np.ndarray, paper: tuple[int, int, int]) -> np.ndarray:
    """Each pixel's line color before anti-aliasing blended it with the paper: paper - (paper - pix) / a."""
    inked = (alpha > 0).view(np.uint8)
    channels = []
    for level, plane in zip(paper, cv2.split(rgb), strict=True):
        ink_c = cv2.divide(cv2.subtract(level, plane), alpha, scale=255)  # x / 0 is 0 in OpenCV
        own = cv2.subtract(level, ink_c)
        channels.append(cv2.bitwise_and(own, own, mask=inked))
    return cv2.merge(channels)
