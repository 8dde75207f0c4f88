"""Degradations of colored images for the partition model: what shaded art and e-mailed JPEGs do to flats.

Every degradation keeps the true regions as they are (a shaded region is still one region) and works in
units relative to the image size, so 256 px training images and 512 px test images degrade alike:

- cel shading: a hard-edged darker crescent inside a region (the region minus itself shifted toward the
  light), optionally softened into a smooth shade;
- highlights: soft or hard bright ellipses inside regions;
- gradients: a multiplicative linear ramp over the whole image;
- texture: multiplicative low-frequency paper noise, sometimes faint hatching;
- noise: Gaussian pixel noise;
- blur and JPEG compression (quality 25..85), in memory.

`degrade` draws which ones apply from a numpy Generator; `degrade_seeded` is the fixed version the
benchmark uses (same seed, same image).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["degrade", "degrade_seeded", "cel_shade", "add_highlights", "add_gradient", "add_texture", "jpeg"]


def _border_regions(labels: np.ndarray) -> set[int]:
    """Ids of regions touching the image border (the background, which artists rarely shade)."""
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return set(int(v) for v in np.unique(edge))


def _candidates(labels: np.ndarray, *, min_area: int) -> list[int]:
    """Region ids worth shading: big enough and not touching the border."""
    area = np.bincount(labels.ravel())
    skip = _border_regions(labels) | {0}
    return [i for i in np.flatnonzero(area >= min_area) if int(i) not in skip]


def cel_shade(
    image: np.ndarray, *, labels: np.ndarray, rng: np.random.Generator, share: float = 0.7, size: int = 0
) -> np.ndarray:
    """Darken a crescent of each chosen region: the part of it not covered by itself moved toward the light.

    image (H, W, 3) float32 0..255; labels (H, W) owner map (every pixel a region id); size: the whole
    drawing's longer side when `image` is a crop of it (0: the image's own).
    """
    size = size or max(labels.shape)
    angle = rng.uniform(0, 2 * np.pi)
    out = image.copy()
    for rid in _candidates(labels, min_area=int((size * 0.03) ** 2)):
        if rng.random() > share:
            continue
        mask = (labels == rid).view(np.uint8)
        shift = rng.uniform(0.02, 0.08) * size
        dx, dy = np.cos(angle) * shift, np.sin(angle) * shift
        moved = cv2.warpAffine(mask, np.float32([[1, 0, dx], [0, 1, dy]]), mask.shape[::-1])
        shade = ((mask > 0) & (moved == 0)).astype(np.float32)
        if rng.random() < 0.3:  # soft shading: the same crescent, blurred into a smooth ramp
            sigma = rng.uniform(0.01, 0.03) * size
            shade = cv2.GaussianBlur(shade, (0, 0), sigma) * mask
        factor = rng.uniform(0.6, 0.88)
        tint = np.array([1.0, 1.0, 1.0]) + rng.uniform(-0.08, 0.08, 3)  # shadows often lean cool or warm
        mult = 1.0 - shade[..., None] * (1.0 - factor * tint[None, None, :])
        out = out * mult.astype(np.float32)
    return out


def add_highlights(
    image: np.ndarray, *, labels: np.ndarray, rng: np.random.Generator, size: int = 0
) -> np.ndarray:
    """Blend one bright ellipse toward white inside some regions (hard or soft edged)."""
    size = size or max(labels.shape)
    out = image.copy()
    candidates = _candidates(labels, min_area=int((size * 0.05) ** 2))
    for rid in candidates:
        if rng.random() > 0.5:
            continue
        ys, xs = np.nonzero(labels == rid)
        k = rng.integers(len(ys))
        spot = np.zeros(labels.shape, np.float32)
        axes = (max(1, int(rng.uniform(0.01, 0.05) * size)), max(1, int(rng.uniform(0.01, 0.03) * size)))
        cv2.ellipse(spot, (int(xs[k]), int(ys[k])), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        if rng.random() < 0.5:
            spot = cv2.GaussianBlur(spot, (0, 0), max(axes) * 0.5)
        spot *= labels == rid
        strength = rng.uniform(0.3, 0.7)
        out = out + (255.0 - out) * (spot * strength)[..., None]
    return out


def add_gradient(image: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Multiply by a linear ramp of ±(5..25)% across the image in a random direction."""
    height, width = image.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    proj = (xx / width - 0.5) * np.cos(angle) + (yy / height - 0.5) * np.sin(angle)
    ramp = 1.0 + rng.uniform(0.1, 0.5) * proj
    return image * ramp[..., None]


def add_texture(image: np.ndarray, *, rng: np.random.Generator, size: int = 0) -> np.ndarray:
    """Paper-like multiplicative noise at a few scales, sometimes with faint hatching."""
    height, width = image.shape[:2]
    size = size or max(height, width)
    noise = rng.standard_normal((height, width)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.003, 0.02) * size)
    noise /= noise.std() + 1e-6
    texture = 1.0 + rng.uniform(0.02, 0.07) * noise
    if rng.random() < 0.3:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(0.01, 0.03) * size
        texture *= 1.0 + rng.uniform(0.02, 0.06) * np.sin(
            2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period
        )
    return image * texture[..., None]


def jpeg(image: np.ndarray, *, quality: int) -> np.ndarray:
    """Round-trip (H, W, 3) uint8 RGB through JPEG at `quality`, in memory."""
    ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy()


def degrade(
    colored: np.ndarray, *, labels: np.ndarray, rng: np.random.Generator, strength: float = 1.0, size: int = 0
) -> np.ndarray:
    """A degraded copy (H, W, 3) uint8 of a colored image; labels (H, W) is its owner map (no zeros).

    Each degradation applies with probability `strength` times its own share, so strength 0 is clean.
    `size` is the whole drawing's longer side when `colored` is a crop (degradations scale with it).
    """
    size = size or max(labels.shape)
    out = colored[..., :3].astype(np.float32)
    if rng.random() < 0.7 * strength:
        out = cel_shade(out, labels=labels, rng=rng, size=size)
    if rng.random() < 0.4 * strength:
        out = add_highlights(out, labels=labels, rng=rng, size=size)
    if rng.random() < 0.5 * strength:
        out = add_gradient(out, rng=rng)
    if rng.random() < 0.5 * strength:
        out = add_texture(out, rng=rng, size=size)
    if rng.random() < 0.25 * strength:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.2) * size / 512)
    if rng.random() < 0.6 * strength:
        out = out + rng.normal(0, rng.uniform(2, 9), out.shape).astype(np.float32)
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if rng.random() < 0.7 * strength:
        result = jpeg(result, quality=int(rng.integers(25, 86)))
    return result


def degrade_seeded(colored: np.ndarray, *, labels: np.ndarray, seed: int) -> np.ndarray:
    """The benchmark's degraded copy: every drawing always gets the same degradations for one seed."""
    return degrade(colored, labels=labels, rng=np.random.default_rng(seed), strength=1.0)
