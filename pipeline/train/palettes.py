"""Palettes for generated characters: realistic, correlated colors for skin, hair, eyes, clothes, props.

One `draw_palette(rng)` call picks a whole character's colors at once so that parts agree the way real
character designs do: brows match hair, darker skin tones come with darker hair and eyes more often,
clothes follow a scheme (analogous, complementary, neutral + accent, denim), shoes are mostly dark or
neutral, and a small share of characters are fantasy-colored (green skin, pink hair).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from pipeline.color import Color

__all__ = ["Palette", "SKIN_TONES", "HAIR_COLORS", "EYE_COLORS", "draw_palette"]


SKIN_TONES: tuple[Color, ...] = (
    (255, 224, 196),
    (250, 214, 181),
    (242, 201, 165),
    (234, 192, 134),
    (224, 172, 125),
    (198, 134, 66),
    (184, 124, 84),
    (161, 102, 64),
    (141, 85, 36),
    (110, 70, 45),
    (84, 56, 38),
    (252, 220, 70),  # emoji yellow
)
FANTASY_SKIN: tuple[Color, ...] = ((140, 200, 120), (150, 170, 230), (200, 160, 220), (230, 230, 235))
HAIR_COLORS: tuple[Color, ...] = (
    (30, 26, 26),
    (59, 40, 30),
    (90, 56, 37),
    (120, 80, 50),
    (165, 110, 60),
    (183, 82, 46),
    (215, 170, 90),
    (240, 210, 140),
    (150, 150, 150),
    (235, 235, 230),
)
FANTASY_HAIR: tuple[Color, ...] = (
    (240, 120, 180),
    (90, 140, 230),
    (150, 90, 200),
    (80, 190, 170),
    (220, 60, 60),
    (250, 250, 250),
)
EYE_COLORS: tuple[Color, ...] = (
    (70, 45, 30),
    (110, 70, 40),
    (140, 110, 50),
    (60, 120, 60),
    (60, 110, 180),
    (120, 140, 150),
    (190, 130, 40),
)
MOUTH_COLORS: tuple[Color, ...] = (
    (170, 50, 60),
    (200, 80, 90),
    (140, 40, 50),
    (230, 120, 130),
    (120, 30, 40),
)
NEUTRALS: tuple[Color, ...] = (
    (40, 40, 45),
    (70, 70, 75),
    (120, 120, 125),
    (200, 200, 200),
    (245, 245, 240),
    (190, 170, 140),
    (110, 85, 60),
    (40, 50, 80),
)
DENIM: tuple[Color, ...] = ((60, 90, 140), (45, 65, 110), (90, 120, 170), (35, 45, 70))
LINE_COLORS: tuple[Color, ...] = ((0, 0, 0), (20, 20, 20), (40, 30, 30), (60, 40, 30), (30, 30, 60))


@dataclass(frozen=True)
class Palette:
    """One character's colors, by part."""

    skin: Color
    hair: Color
    eyes: Color
    eye_whites: Color
    mouth: Color
    top: Color
    top_second: Color  # collar, jacket, stripes: a second tone of the top
    bottom: Color
    shoes: Color
    accessory: Color
    accent: Color
    line: Color


def _jitter(rng: np.random.Generator, rgb: Color, *, amount: float = 0.04) -> Color:
    """A color a little off the given one, in HSV, so no two characters share exact values."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    h = (h + rng.normal(0, amount / 2)) % 1.0
    s = float(np.clip(s + rng.normal(0, amount), 0, 1))
    v = float(np.clip(v + rng.normal(0, amount), 0, 1))
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, s, v))  # type: ignore[return-value]


def _hsv(h: float, s: float, v: float) -> Color:
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h % 1.0, s, v))  # type: ignore[return-value]


def _pick(rng: np.random.Generator, options: tuple[Color, ...], weights: np.ndarray | None = None) -> Color:
    if weights is not None:
        weights = weights / weights.sum()
    return options[int(rng.choice(len(options), p=weights))]


def _clothes(rng: np.random.Generator) -> tuple[Color, Color, Color, Color]:
    """(top, top_second, bottom, shoes) from a clothing scheme."""
    hue = rng.random()
    scheme = rng.choice(["analogous", "complementary", "neutral_accent", "denim", "mono"])
    sat, val = rng.uniform(0.35, 0.85), rng.uniform(0.45, 0.95)
    top = _hsv(hue, sat, val)
    if scheme == "analogous":
        second = _hsv(hue + rng.uniform(0.05, 0.12), sat, min(1.0, val + 0.1))
        bottom = _hsv(hue - rng.uniform(0.05, 0.15), sat * 0.8, val * 0.6)
    elif scheme == "complementary":
        second = _hsv(hue + 0.5, sat, val)
        bottom = _hsv(hue + 0.5, sat * 0.7, val * 0.55)
    elif scheme == "neutral_accent":
        second = _pick(rng, NEUTRALS)
        bottom = _pick(rng, NEUTRALS)
    elif scheme == "denim":
        second = _hsv(hue, sat * 0.5, min(1.0, val + 0.15))
        bottom = _pick(rng, DENIM)
    else:
        second = _hsv(hue, sat * 0.6, val * 0.75)
        bottom = _hsv(hue, sat * 0.9, val * 0.45)
    shoes = _pick(rng, NEUTRALS + (bottom, top), np.array([3, 3, 1, 1, 2, 1, 2, 1, 1.0, 0.5]))
    return _jitter(rng, top), _jitter(rng, second), _jitter(rng, bottom), _jitter(rng, shoes)


def draw_palette(rng: np.random.Generator) -> Palette:
    """A character's colors: skin first, hair and eyes conditioned on it, clothes from a scheme."""
    fantasy = rng.random() < 0.06
    if fantasy:
        skin = _pick(rng, FANTASY_SKIN)
        tone = 0.5
    else:
        index = int(rng.integers(len(SKIN_TONES)))
        skin = SKIN_TONES[index]
        tone = index / (len(SKIN_TONES) - 2)  # 0 light .. 1 dark (yellow counts as mid)
        tone = min(tone, 1.0) if index < len(SKIN_TONES) - 1 else 0.4
    # darker skin -> darker hair and eyes more likely; light hair mostly on lighter skin
    hair_w = np.array([2 + 3 * tone, 2 + 2 * tone, 2, 2, 1.5, 1.2 - tone, 1.5 - tone, 1.5 - tone, 0.6, 0.4])
    hair = (
        _pick(rng, FANTASY_HAIR)
        if rng.random() < 0.08
        else _pick(rng, HAIR_COLORS, np.clip(hair_w, 0.1, None))
    )
    eye_w = np.array([2 + 3 * tone, 2 + tone, 1, 1.2 - tone, 1.5 - tone, 0.8, 0.5])
    eyes = _pick(rng, EYE_COLORS, np.clip(eye_w, 0.1, None))
    top, second, bottom, shoes = _clothes(rng)
    accessory = _hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.6, 0.95))
    accent = _pick(rng, (top, second, accessory, (250, 210, 60), (230, 230, 235)))
    line = _pick(rng, LINE_COLORS, np.array([6, 2, 1, 1, 1.0]))
    return Palette(
        skin=_jitter(rng, skin, amount=0.02),
        hair=_jitter(rng, hair),
        eyes=_jitter(rng, eyes),
        eye_whites=_jitter(rng, (250, 250, 250), amount=0.01),
        mouth=_jitter(rng, _pick(rng, MOUTH_COLORS)),
        top=top,
        top_second=second,
        bottom=bottom,
        shoes=shoes,
        accessory=accessory,
        accent=accent,
        line=line,
    )
