"""Cel shading for generated characters: the shaded renders the partition model learns to see through.

`cel_shade` darkens the side of every region facing away from a light (a crescent: the region minus
itself shifted toward the light), adds a small highlight crescent on the lit side of chosen parts (hair,
eyes) and an optional soft vertical gradient, then composites the lines on top. Region boundaries do not
move, so the character's region map stays the truth for the shaded image.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["shade_factor", "cel_shade"]


def _shift(labels: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """labels moved by (dx, dy) pixels; uncovered border pixels get -1."""
    out = np.full_like(labels, -1)
    h, w = labels.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = labels[ys, xs]
    return out


def shade_factor(
    owner: np.ndarray,
    *,
    light: tuple[float, float] = (-0.7, -0.7),
    depth: float = 0.06,
    shadow: float = 0.78,
    highlight: float = 1.12,
    highlight_mask: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W) float32 multiplier: `shadow` on each region's side away from the light, else 1.

    owner: (H, W) int32 region ids with line pixels already given to regions; light: unit direction the
    light comes from (x, y); depth: crescent width as a share of the image size.
    """
    h, w = owner.shape
    d = max(1, int(round(depth * max(h, w))))
    lx, ly = np.asarray(light, float) / max(1e-6, float(np.hypot(*light)))
    factor = np.ones((h, w), np.float32)
    # pixel p is in shadow when the pixel d steps toward the light is another region: its far side
    toward = _shift(owner, int(round(-lx * d)), int(round(-ly * d)))
    factor[(toward != owner) & (owner > 0)] = shadow
    if highlight_mask is not None:
        dh = max(1, d // 2)
        away = _shift(owner, int(round(lx * dh)), int(round(ly * dh)))
        factor[(away != owner) & highlight_mask & (factor == 1)] = highlight
    return factor


def cel_shade(
    *,
    flats: np.ndarray,
    owner: np.ndarray,
    line_alpha: np.ndarray,
    line_color: tuple[int, int, int],
    rng: np.random.Generator,
    highlight_mask: np.ndarray | None = None,
    gradient: bool = True,
) -> np.ndarray:
    """(H, W, 3) uint8 cel-shaded render: shadows and highlights by region, a soft gradient, lines on top."""
    angle = rng.uniform(0, 2 * np.pi)
    factor = shade_factor(
        owner,
        light=(float(np.cos(angle)), float(np.sin(angle))),
        depth=rng.uniform(0.02, 0.08),
        shadow=rng.uniform(0.6, 0.85),
        highlight_mask=highlight_mask,
    )
    image = flats.astype(np.float32) * factor[..., None]
    if gradient:
        ramp = np.linspace(
            1.0 + rng.uniform(0, 0.08), 1.0 - rng.uniform(0, 0.12), owner.shape[0], dtype=np.float32
        )
        image *= ramp[:, None, None]
    image = cv2.GaussianBlur(image, (0, 0), 0.6)
    a = line_alpha[..., None].astype(np.float32) / 255.0
    image = image * (1 - a) + np.asarray(line_color, np.float32) * a
    return np.clip(np.round(image), 0, 255).astype(np.uint8)
