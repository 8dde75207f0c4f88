"""Synthetic line drawings for the pipeline tests: outlined shapes on white, with optional gaps."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["blank", "rectangle", "as_drawing"]


def blank(size: int = 96) -> np.ndarray:
    """(size, size) uint8 white paper."""
    return np.full((size, size), 255, np.uint8)


def rectangle(
    paper: np.ndarray, *, x0: int, y0: int, x1: int, y1: int, thickness: int = 2, gap: int = 0, value: int = 0
) -> np.ndarray:
    """Draw a rectangle outline; with gap > 0 erase gap px of its top side (a hole in the line)."""
    out = paper.copy()
    cv2.rectangle(out, (x0, y0), (x1, y1), value, thickness)
    if gap:
        mid = (x0 + x1) // 2
        top = y0 - thickness
        out[max(0, top) : y0 + thickness + 1, mid : mid + gap] = 255
    return out


def as_drawing(grey: np.ndarray) -> np.ndarray:
    """(H, W) grey paper to the (H, W, 4) RGBA a decoded drawing has."""
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA)
