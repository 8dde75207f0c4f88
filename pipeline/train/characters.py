"""Procedural characters: line drawing, flat colors, region map and part labels from one seed.

A character is built in a unit frame (head radius 1, head centre at the origin, y down) from parts in
painter's order: hair behind, neck, legs and clothes, shoes, torso, arms and hands, ears, head, face
(eyes with whites, irises and pupils, brows, mouth, nose), hair in front, then accessories (hat, bow,
headband, scarf, belt, bag, sunglasses, earrings). A pose (arm and leg angles, head tilt), body build,
framing (full body, bust, head close-up) and line style (width, gaps, colored ink) are drawn from the
same seed, so `make_character(seed=s)` is the same character on every machine.

The part labels (`PARTS`) serve the part segmentation model; `colored` (lines over flats) and
`pipeline.train.shading.cel_shade` serve the partition model. `styles` draws the character the hard way
artists do (`pipeline.train.line_styles`): hair as solid ink, strokes that stop short, pinched passages;
without it the output is the same as before styles existed.
"""

from __future__ import annotations

import numpy as np

from pipeline.color import Color
from pipeline.part_maps import PART_NAMES
from pipeline.regions import number_in_reading_order
from pipeline.train.canvas import Canvas, Rendered, blob, capsule, ellipse, region_points, rounded_box
from pipeline.train.line_styles import ink_regions, pinch_regions, pull_back_ends
from pipeline.train.palettes import Palette, draw_palette

__all__ = ["PARTS", "STYLES", "Character", "make_character", "make_characters"]

PARTS: tuple[str, ...] = PART_NAMES
P = {name: i for i, name in enumerate(PARTS)}

Character = Rendered  # what make_character returns; see canvas.Rendered for the fields
STYLES = ("solid", "open", "pinch")  # hair as solid ink, open strokes, pinched passages


class _Frame:
    """Maps unit-frame points to output pixels: scale, small rotation, translation."""

    def __init__(self, *, scale: float, angle: float, offset: tuple[float, float]) -> None:
        a = np.radians(angle)
        self.m = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        self.offset = np.asarray(offset, float)
        self.scale = scale

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        return np.asarray(pts, float) @ self.m.T + self.offset


class _Builder:
    """Draws one character's parts onto a canvas with a shared frame, palette and line style."""

    def __init__(
        self, rng: np.random.Generator, size: int, palette: Palette, *, jitter: np.random.Generator
    ) -> None:
        self.rng, self.pal = jitter, palette  # jitter: per-stroke widths and gaps, which vary by variant
        self.canvas = Canvas(size, line_color=palette.line, rng=jitter)
        self.width = rng.uniform(1.4, 4.2) * size / 256  # line width in output px
        self.gap_prob = rng.choice([0.0, 0.08, 0.2])
        self.frame: _Frame | None = None

    def w(self, factor: float = 1.0) -> float:
        return self.width * factor * self.rng.uniform(0.8, 1.15)

    def shape(self, pts: np.ndarray, color: tuple[int, int, int], part: str, *, width: float = 1.0) -> None:
        assert self.frame is not None
        self.canvas.shape(
            self.frame(pts), color=color, part=P[part], width=self.w(width), gap_prob=self.gap_prob
        )

    def stroke(self, pts: np.ndarray, *, width: float = 0.8) -> None:
        assert self.frame is not None
        self.canvas.stroke(self.frame(pts), width=self.w(width))


def _hair_front(rng: np.random.Generator, hw: float, hh: float) -> np.ndarray:
    """A cap over the top of the head with a jagged fringe (spikes) along its lower edge."""
    top = ellipse((0, -0.05), (hw * 1.1, hh * 1.12), n=48)
    top = top[top[:, 1] <= -0.05]
    top = top[np.argsort(np.arctan2(top[:, 1], top[:, 0]))]  # left (-pi) .. right (0) over the top
    spikes = int(rng.integers(2, 7))
    fringe_y = rng.uniform(-0.55, -0.15)
    xs = np.linspace(hw * 1.1, -hw * 1.1, 2 * spikes + 1)
    ys = np.where(np.arange(len(xs)) % 2 == 1, fringe_y + rng.uniform(0.15, 0.45), fringe_y)
    ys[0] = ys[-1] = rng.uniform(0.0, 0.5)  # sideburns come down
    return np.concatenate([top, np.stack([xs, ys], 1)])


def _face(b: _Builder, rng: np.random.Generator, hw: float, hh: float, *, mood: np.random.Generator) -> None:
    """Eyes (whites, irises, pupils), brows, mouth and nose; `mood` draws the expression (gaze, brows,
    mouth)."""
    pal = b.pal
    ex, ey = rng.uniform(0.3, 0.45) * hw, rng.uniform(0.0, 0.25)
    simple = rng.random() < 0.15
    gaze = mood.uniform(-0.05, 0.05, 2)
    for side in (-1, 1):
        cx = side * ex
        if simple:  # emoji-style dot eyes: ink only, no regions
            b.canvas.ink_fill(b.frame(ellipse((cx, ey), (0.08, 0.12), n=24)))
            continue
        aw, ah = rng.uniform(0.16, 0.24), rng.uniform(0.11, 0.2)
        b.shape(ellipse((cx, ey), (aw, ah), n=40), pal.eye_whites, "eye_whites", width=0.8)
        ir = min(aw, ah) * rng.uniform(0.6, 0.9)
        b.shape(ellipse((cx + gaze[0], ey + gaze[1]), (ir, ir), n=32), pal.eyes, "eyes", width=0.6)
        b.canvas.ink_fill(b.frame(ellipse((cx + gaze[0], ey + gaze[1]), (ir * 0.45, ir * 0.45), n=20)))
        by = ey - ah - mood.uniform(0.1, 0.22)
        brow = capsule((cx - side * 0.18, by + 0.03), (cx + side * 0.12, by - 0.02), 0.05, 0.04, n=8)
        b.shape(brow, pal.hair, "hair", width=0.6)
    my = mood.uniform(0.45, 0.65)
    style = mood.choice(["open", "open", "smile", "flat"])
    if style == "open":
        mw, mh = mood.uniform(0.15, 0.35), mood.uniform(0.08, 0.22)
        t = np.linspace(0, np.pi, 20)
        mouth = np.stack([mw * np.cos(t), my + mh * np.sin(t)], 1)
        b.shape(mouth, pal.mouth, "mouth", width=0.8)
    else:
        t = np.linspace(0.15 * np.pi, 0.85 * np.pi, 12)
        curve = mood.uniform(0.02, 0.1) if style == "smile" else 0.0
        b.stroke(np.stack([0.2 * np.cos(t) * 1.2, my + curve * np.sin(t)], 1), width=0.8)
    if rng.random() < 0.7:
        ny = (ey + my) / 2
        b.stroke(np.array([[0.0, ny - 0.1], [-0.05, ny + 0.05], [0.03, ny + 0.07]]), width=0.6)


def _body(b: _Builder, rng: np.random.Generator, hh: float, *, pose: np.random.Generator) -> dict[str, float]:
    """Neck, legs, shoes, torso, arms (`pose` draws the stance); returns landmarks accessories need."""
    pal = b.pal
    ys = hh + rng.uniform(0.05, 0.3)  # shoulder line
    torso_len, sw = rng.uniform(1.3, 2.4), rng.uniform(0.85, 1.4)
    hip = ys + torso_len
    leg_len, spread = rng.uniform(1.1, 2.8), pose.uniform(-0.1, 0.5)
    b.shape(rounded_box(-0.25, hh - 0.3, 0.25, ys + 0.3, radius=0.1), pal.skin, "skin")
    legwear = rng.choice(["pants", "pants", "shorts", "skirt"])
    for side in (-1, 1):
        top, foot = (side * sw * 0.45, hip - 0.2), (side * (sw * 0.45 + spread), hip + leg_len)
        if legwear == "pants":
            b.shape(capsule(top, foot, 0.42, 0.34), pal.bottom, "bottom")
        else:
            b.shape(capsule(top, foot, 0.34, 0.26), pal.skin, "skin")
            if legwear == "shorts":
                knee = (top[0] + (foot[0] - top[0]) * 0.45, top[1] + (foot[1] - top[1]) * 0.45)
                b.shape(capsule(top, knee, 0.45, 0.4), pal.bottom, "bottom")
        b.shape(ellipse((foot[0] + side * 0.15, foot[1] + 0.12), (0.45, 0.24)), pal.shoes, "shoes")
    if legwear == "skirt":
        flare = rng.uniform(0.1, 0.6)
        b.shape(
            rounded_box(-sw * 0.9, hip - 0.3, sw * 0.9, hip + leg_len * 0.45, radius=0.1, flare=flare),
            pal.bottom,
            "bottom",
        )
    b.shape(
        rounded_box(-sw, ys, sw, hip, radius=rng.uniform(0.15, 0.45), flare=rng.uniform(-0.1, 0.15)),
        pal.top,
        "top",
    )
    collar = rng.choice(["none", "v", "jacket", "stripe"])
    if collar == "v":
        b.shape(np.array([[-0.45, ys], [0.45, ys], [0.0, ys + rng.uniform(0.4, 0.9)]]), pal.top_second, "top")
    elif collar == "jacket":
        for side in (-1, 1):
            b.shape(
                np.array(
                    [[side * sw, ys + 0.05], [side * 0.3, ys + 0.05], [side * 0.15, hip], [side * sw, hip]]
                ),
                pal.top_second,
                "top",
            )
    elif collar == "stripe":
        y0 = ys + torso_len * rng.uniform(0.3, 0.6)
        b.shape(rounded_box(-sw, y0, sw, y0 + 0.3, radius=0.05), pal.top_second, "top")
    if rng.random() < 0.3:
        b.shape(rounded_box(-sw, hip - 0.25, sw, hip - 0.05, radius=0.04), pal.accessory, "accessory")
    sleeve = rng.choice(["long", "short", "none"])
    arm_len = torso_len * rng.uniform(0.9, 1.15)
    for side in (-1, 1):
        ang = np.radians(pose.uniform(-20, 110))  # 0 = hanging down, 90 = horizontal out
        shoulder = (side * (sw - 0.2), ys + 0.25)
        hand = (shoulder[0] + side * np.sin(ang) * arm_len, shoulder[1] + np.cos(ang) * arm_len)
        elbow = ((shoulder[0] + hand[0]) / 2, (shoulder[1] + hand[1]) / 2)
        if sleeve == "long":
            b.shape(capsule(shoulder, hand, 0.3, 0.24), pal.top, "top")
        else:
            b.shape(capsule(shoulder, hand, 0.24, 0.2), pal.skin, "skin")
            if sleeve == "short":
                b.shape(capsule(shoulder, elbow, 0.33, 0.3), pal.top, "top")
        b.shape(ellipse(hand, (0.26, 0.26), n=28), pal.skin, "skin")
    return {"shoulder_y": ys, "hip": hip, "sw": sw}


def _accessories(
    b: _Builder, rng: np.random.Generator, hw: float, hh: float, marks: dict[str, float]
) -> None:
    """Zero to three props in the accessory colors."""
    pal = b.pal
    kinds = rng.choice(
        ["hat", "bow", "headband", "scarf", "bag", "glasses", "earrings"],
        size=int(rng.choice([0, 1, 1, 2, 3])),
        replace=False,
    )
    for kind in kinds:
        color = pal.accessory if rng.random() < 0.7 else pal.accent
        if kind == "hat":
            b.shape(ellipse((0, -hh * 0.75), (hw * rng.uniform(1.3, 1.8), 0.22)), color, "accessory")
            b.shape(rounded_box(-hw * 0.8, -hh * 1.7, hw * 0.8, -hh * 0.75, radius=0.3), color, "accessory")
        elif kind == "bow":
            cx, cy = rng.choice([-1, 1]) * hw * 0.6, -hh * 0.85
            for side in (-1, 1):
                b.shape(
                    np.array([[cx, cy], [cx + side * 0.45, cy - 0.25], [cx + side * 0.45, cy + 0.25]]),
                    color,
                    "accessory",
                )
            b.shape(ellipse((cx, cy), (0.1, 0.1), n=16), color, "accessory")
        elif kind == "headband":
            t = np.linspace(np.pi * 1.1, np.pi * 1.9, 24)
            outer = np.stack([hw * 1.08 * np.cos(t), -0.1 + hh * 1.1 * np.sin(t)], 1)
            inner = np.stack([hw * 0.95 * np.cos(t[::-1]), -0.1 + hh * 0.95 * np.sin(t[::-1])], 1)
            b.shape(np.concatenate([outer, inner]), color, "accessory")
        elif kind == "scarf" and "shoulder_y" in marks:
            y = marks["shoulder_y"]
            b.shape(rounded_box(-0.7, y - 0.15, 0.7, y + 0.2, radius=0.15), color, "accessory")
        elif kind == "bag" and "hip" in marks:
            side = rng.choice([-1, 1])
            b.stroke(
                np.array([[-side * 0.5, marks["shoulder_y"]], [side * marks["sw"] * 1.05, marks["hip"]]]),
                width=1.2,
            )
            b.shape(
                blob(rng, (side * marks["sw"] * 1.1, marks["hip"]), (0.45, 0.35), wobble=0.05),
                color,
                "accessory",
            )
        elif kind == "glasses":
            ex = rng.uniform(0.3, 0.45) * hw
            for side in (-1, 1):
                b.shape(ellipse((side * ex, 0.12), (0.24, 0.18), n=32), (35, 35, 45), "accessory")
            b.stroke(np.array([[-ex + 0.24, 0.1], [ex - 0.24, 0.1]]), width=0.8)
        elif kind == "earrings":
            for side in (-1, 1):
                b.shape(ellipse((side * hw * 0.98, 0.45), (0.08, 0.08), n=16), color, "accessory", width=0.6)


def _draw_styles(c: Character, *, styles: tuple[str, ...], ink: Color, seed: int) -> Character:
    """The character with the given line styles applied to its drawing and, consistently, its truth."""
    unknown = set(styles) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown line styles {sorted(unknown)}; use some of {STYLES}.")
    rng = np.random.default_rng([seed, 17])  # its own stream: the character itself stays as drawn
    grey, labels, flats = 255 - c.line_alpha, c.regions, c.flats
    if "solid" in styles:
        hair = [rid for rid, part in c.region_parts.items() if part == P["hair"]]
        grey, labels, flats = ink_regions(grey, labels, flats, ids=hair, ink=ink)
    if "pinch" in styles:
        grey, labels, flats = pinch_regions(grey, labels, flats, rng=rng, ink=ink)
    if "open" in styles:
        grey = pull_back_ends(grey, rng=rng, labels=labels)
    regions = number_in_reading_order(labels)
    old = dict(zip(regions[regions > 0].tolist(), labels[regions > 0].tolist(), strict=True))
    alpha = (255 - grey).astype(np.uint8)
    a = alpha[..., None].astype(np.float32) / 255.0
    ink_rgb = np.asarray(ink, np.float32)
    drawing_rgb = np.round(255.0 * (1 - a) + ink_rgb * a).astype(np.uint8)
    return Rendered(
        drawing=np.dstack([drawing_rgb, np.full(alpha.shape, 255, np.uint8)]),
        flats=flats,
        colored=np.round(flats * (1 - a) + ink_rgb * a).astype(np.uint8),
        line_alpha=alpha,
        regions=regions,
        parts=c.parts,
        region_colors={new: c.region_colors[was] for new, was in sorted(old.items())},
        region_parts={new: c.region_parts[was] for new, was in sorted(old.items())},
        points=region_points(regions, count=len(old)),
    )


def make_character(
    *,
    seed: int,
    size: int = 256,
    styles: tuple[str, ...] = (),
    pose: int | None = None,
    expression: int | None = None,
) -> Character:
    """One generated character, (size x size); the same seed always gives the same arrays.

    styles: any of STYLES, drawn over the character with the truth kept consistent; () draws it plain.
    pose, expression: the same character (palette, build, hair, clothes, props) in pose number `pose` (arm
    and leg angles, head tilt, placement) with expression number `expression` (gaze, brows, mouth); with
    both None, pose and expression come from the seed's own stream, as before variants existed.
    """
    rng = np.random.default_rng(seed)
    # variants draw pose, expression and line jitter from streams of their own, so the identity's draws
    # (and so the identity) are the same in every variant
    varied = pose is not None or expression is not None
    stance = np.random.default_rng([seed, 1, pose or 0]) if varied else rng
    mood = np.random.default_rng([seed, 2, expression or 0]) if varied else rng
    jitter = np.random.default_rng([seed, 3]) if varied else rng
    pal = draw_palette(rng)
    b = _Builder(rng, size, pal, jitter=jitter)
    hw, hh = rng.uniform(0.85, 1.05), rng.uniform(0.95, 1.15)
    framing = rng.choice(["full", "full", "bust", "head"])
    figure_h = hh + 1.3 + 1.8 + 2.0 + 0.4  # head top .. feet, a typical build
    span = {"full": figure_h + 0.5, "bust": hh * 2 + 2.6, "head": hh * 2.9}[framing]
    scale = size * stance.uniform(0.8, 0.95) / span
    top_y = -hh * 1.25
    offset = (
        size / 2 + stance.uniform(-0.08, 0.08) * size,
        size * 0.06 - top_y * scale + stance.uniform(-4, 4),
    )
    b.frame = _Frame(scale=scale, angle=stance.uniform(-8, 8), offset=offset)
    hair_style = rng.choice(["short", "short", "long", "spiky", "bun", "bald"])
    if hair_style == "long":
        b.shape(blob(rng, (0, hh * 0.9), (hw * 1.35, hh * 1.9), wobble=0.06), pal.hair, "hair")
    if hair_style == "bun":
        b.shape(ellipse((0, -hh * 1.1), (0.45, 0.4)), pal.hair, "hair")
    marks: dict[str, float] = {}
    if framing != "head" or rng.random() < 0.5:
        marks = _body(b, rng, hh, pose=stance)
    for side in (-1, 1):
        b.shape(ellipse((side * hw, 0.1), (0.2, 0.27), n=24), pal.skin, "skin")
    b.shape(ellipse((0, 0), (hw, hh), n=72), pal.skin, "skin")
    if rng.random() < 0.25:  # blush: patches separated from the skin by color alone, as in OpenMoji
        blush = tuple(int(c * 0.9 + d * 0.1) for c, d in zip(pal.skin, (255, 90, 110), strict=True))
        for side in (-1, 1):
            b.canvas.paint(
                b.frame(ellipse((side * 0.55 * hw, 0.38), (0.16, 0.09), n=20)), color=blush, part=P["skin"]
            )
    _face(b, rng, hw, hh, mood=mood)
    if hair_style != "bald":
        front = _hair_front(rng, hw, hh)
        if hair_style == "spiky":
            front[: len(front) // 2, 1] -= np.abs(np.sin(np.linspace(0, 6 * np.pi, len(front) // 2))) * 0.35
        b.shape(front, pal.hair, "hair")
    _accessories(b, rng, hw, hh, marks)
    character = b.canvas.finish()
    return _draw_styles(character, styles=styles, ink=pal.line, seed=seed) if styles else character


def make_characters(
    *, seed: int, count: int, size: int = 256, styles: tuple[str, ...] = ()
) -> list[Character]:
    """`count` characters with seeds seed * 100003 + i, so two sets never overlap by chance."""
    return [make_character(seed=seed * 100_003 + i, size=size, styles=styles) for i in range(count)]
