"""Line drawings with colored trace lines, and their truth: shaded parts bounded by red, blue, green lines.

    python -m pipeline.train.trace_lines --out ~/.cache/tint/trace-lines [--limit N]

Anime ink-and-paint draws the edge of a shadow or highlight as a colored line inside the black outline;
the painter fills both sides and the line disappears. Two sources of such drawings, with truth to match:
- `shade_character`: a generated character (`pipeline.train.characters`) whose larger inner regions get a
  shaded part, a band of darker (shadow) or lighter (highlight) color along one side, bounded by a trace
  line of a default trace color; the band is a true region of its own.
- `redraw_boundaries`: a real drawing whose ink lines between two inner regions are, in part, redrawn in a
  trace color (the same anti-aliasing, the ink's alpha), so the drawing's regions stay as they were.
- `trace_boundaries`: a real drawing (the OpenMoji set) with a trace line drawn wherever two true regions
  of different colors touch with no ink between them. OpenMoji paints shadows and highlights as groups with
  no outline (`skin-shadow`, ...), so those edges are exactly where a colorist's trace line would be; the
  command renders those groups from the openmoji 17.0.0 SVGs (as `pipeline.train.openmoji_parts` renders
  its part groups) and draws trace lines along their edges only, writing `{split}/{name}_traced.png`.
Trace lines are drawn anti-aliased under the ink (multiplied), so where one meets an ink line the ink stays.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pipeline.color import Color
from pipeline.colorize import outside_regions
from pipeline.regions import assign_line_pixels, number_in_reading_order
from pipeline.train.canvas import Rendered, region_points

__all__ = [
    "TRACE_COLORS",
    "Traced",
    "color_boundaries",
    "draw_trace_lines",
    "traced_drawing",
    "trace_boundaries",
    "redraw_boundaries",
    "shade_character",
    "main",
]

TRACE_COLORS: tuple[Color, ...] = ((255, 0, 0), (0, 0, 255), (0, 255, 0))  # the default trace colors
SHADE_PARTS = (1, 2, 6, 7)  # skin, hair, top, bottom (indices of PART_NAMES)
SHADOW, HIGHLIGHT = 0.72, 1.18  # band color factors
SHADE_GROUPS = ("shadow", "highlight", "shade", "light")  # OpenMoji group ids holding one of these words
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "openmoji"
DEFAULT_OUT = Path("~/.cache/tint/trace-lines").expanduser()


@dataclass
class Traced:
    """A drawing with trace lines and its truth; arrays (H, W[, 3])."""

    drawing: np.ndarray  # (H, W, 3) uint8: ink over anti-aliased trace lines on white
    regions: np.ndarray  # (H, W) int32 true regions: 0 = ink; trace pixels keep the region beneath
    flat: np.ndarray  # (H, W, 3) uint8 true flat colors
    ink: np.ndarray  # (H, W) bool: true ink-line pixels (ink alpha >= 128)
    trace: np.ndarray  # (H, W) bool: trace-line core pixels (trace alpha >= 0.5, not ink)
    footprint: np.ndarray  # (H, W) bool: every pixel a trace line tints
    alpha: np.ndarray  # (H, W) float32 0..1: the trace lines' alpha
    colors: dict[int, Color]  # true region id -> flat color
    points: dict[int, tuple[int, int]]  # true region id -> (x, y) inside it, for hints


def color_boundaries(
    regions: np.ndarray, flat: np.ndarray, *, skip: frozenset[int] = frozenset()
) -> np.ndarray:
    """(H, W) bool: pixels with a 4-neighbour of another true region of another color, no ink between
    (both > 0) and neither region in `skip` (the paper around the drawing)."""
    packed = (flat[..., 0].astype(np.int32) << 16) | (flat[..., 1].astype(np.int32) << 8) | flat[..., 2]
    keep = (regions > 0) & ~np.isin(regions, list(skip))
    out = np.zeros(regions.shape, bool)
    for a, b in (
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
        ((slice(None, -1),), (slice(1, None),)),
    ):
        edge = keep[a] & keep[b] & (regions[a] != regions[b]) & (packed[a] != packed[b])
        out[a] |= edge
        out[b] |= edge
    return out


def draw_trace_lines(
    drawing: np.ndarray, *, along: np.ndarray, color: Color, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """(drawing (H, W, 3) with an anti-aliased line of `width` px centred on the `along` pixels drawn under
    its ink, the line's alpha (H, W) float32 0..1). `along` marks both sides of a boundary."""
    dist = cv2.distanceTransform((~along).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    alpha = np.clip(width / 2.0 - dist, 0.0, 1.0).astype(np.float32)  # an along pixel is 0.5 px off centre
    a = alpha[..., None]
    pencil = 255.0 * (1.0 - a) + np.asarray(color, np.float32) * a
    out = np.round(pencil * (drawing.astype(np.float32) / 255.0)).astype(np.uint8)  # ink multiplies over it
    return out, alpha


def traced_drawing(
    *, drawing: np.ndarray, ink_alpha: np.ndarray, regions: np.ndarray, flat: np.ndarray, alpha: np.ndarray
) -> Traced:
    """A traced drawing (H, W, 3) with its truth: ink alpha and trace alpha (0..1) (H, W), true regions
    and flats; each true region's color is read at its point."""
    ink = ink_alpha >= 128
    count = int(regions.max(initial=0))
    ids = np.flatnonzero(np.bincount(regions.ravel(), minlength=count + 1))
    points = region_points(regions, count=count)
    colors = {}
    for rid in ids[ids > 0]:
        x, y = points[int(rid)]
        colors[int(rid)] = tuple(int(v) for v in flat[y, x])
    return Traced(
        drawing=drawing,
        regions=regions,
        flat=flat,
        ink=ink,
        trace=(alpha >= 0.5) & ~ink,
        footprint=alpha > 0,
        alpha=alpha,
        colors=colors,
        points={rid: points[rid] for rid in colors},
    )


def trace_boundaries(
    line: np.ndarray,
    *,
    regions: np.ndarray,
    flat: np.ndarray,
    rng: np.random.Generator,
    within: np.ndarray | None = None,
    width: tuple[float, float] = (2.0, 3.0),
) -> Traced:
    """A real drawing's grey line art (H, W) uint8 with trace lines along its color boundaries (only those
    within `within`, e.g. the edges of shadow groups, when given), each edge in one of TRACE_COLORS."""
    along = color_boundaries(regions, flat, skip=outside_regions(regions))
    if within is not None:
        along &= within
    drawing = cv2.cvtColor(line, cv2.COLOR_GRAY2RGB)
    alpha = np.zeros(line.shape, np.float32)
    count, pieces = cv2.connectedComponents(along.view(np.uint8), connectivity=8)
    w = float(rng.uniform(*width))
    for k in range(1, count):
        color = TRACE_COLORS[int(rng.integers(len(TRACE_COLORS)))]
        drawing, a = draw_trace_lines(drawing, along=pieces == k, color=color, width=w)
        alpha = np.maximum(alpha, a)
    return traced_drawing(drawing=drawing, ink_alpha=255 - line, regions=regions, flat=flat, alpha=alpha)


def redraw_boundaries(
    line: np.ndarray,
    *,
    regions: np.ndarray,
    flat: np.ndarray,
    rng: np.random.Generator,
    share: float = 0.5,
) -> Traced:
    """A real drawing's grey line art (H, W) uint8 with about `share` of its inner boundaries, the ink
    between two inner regions of different colors, redrawn in trace colors with the ink's own alpha."""
    outside = list(outside_regions(regions))
    stroke = (regions == 0) & (line < 255)
    owner = assign_line_pixels(regions)  # each line pixel's nearest true region: the line's two halves
    half = cv2.distanceTransform(stroke.view(np.uint8), cv2.DIST_L2, 3)
    reach = int(np.ceil(np.percentile(half[stroke], 90))) + 2 if stroke.any() else 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    inner = np.where(np.isin(owner, outside), 0, owner).astype(np.float32)
    big = np.float32(int(regions.max(initial=0)) + 1)
    low = cv2.erode(np.where(inner > 0, inner, big), disk).astype(np.int64)  # smallest inner id nearby
    high = cv2.dilate(inner, disk).astype(np.int64)  # largest inner id nearby
    near_outside = cv2.dilate(np.isin(owner, outside).view(np.uint8), disk).view(bool)
    packed = (flat[..., 0].astype(np.int64) << 16) | (flat[..., 1].astype(np.int64) << 8) | flat[..., 2]
    colors = np.full(int(big) + 1, -1, np.int64)
    colors[regions[regions > 0]] = packed[regions > 0]
    two = stroke & (low < int(big)) & (high > low) & ~near_outside
    two &= colors[np.minimum(low, int(big))] != colors[high]
    ink_alpha = (255 - line).astype(np.float32) / 255.0
    drawing = cv2.cvtColor(line, cv2.COLOR_GRAY2RGB)
    alpha = np.zeros(line.shape, np.float32)
    count, pieces = cv2.connectedComponents(two.view(np.uint8), connectivity=8)
    for k in range(1, count):
        if rng.random() >= share:
            continue
        piece = pieces == k
        color = np.asarray(TRACE_COLORS[int(rng.integers(len(TRACE_COLORS)))], np.float32)
        a = ink_alpha[piece][:, None]
        drawing[piece] = np.round(255.0 * (1.0 - a) + color * a).astype(np.uint8)
        alpha[piece] = ink_alpha[piece]
    ink = np.where(alpha > 0, 0, 255 - line).astype(np.uint8)
    return traced_drawing(drawing=drawing, ink_alpha=ink, regions=regions, flat=flat, alpha=alpha)


def _band(region: np.ndarray, *, toward: tuple[float, float], share: float) -> np.ndarray:
    """The part of `region` (H, W) bool farthest along direction `toward`: about `share` of its pixels."""
    ys, xs = np.nonzero(region)
    along = xs * toward[0] + ys * toward[1]
    cut = np.quantile(along, 1.0 - share)
    band = np.zeros_like(region)
    band[ys[along > cut], xs[along > cut]] = True
    return band


def shade_character(c: Rendered, *, rng: np.random.Generator, share: float = 0.5) -> Traced:
    """A generated character with shaded parts: about `share` of its larger inner skin, hair and clothes
    regions get a shadow (darker) or highlight (lighter) band bounded by a trace line, as a true region."""
    regions, flat = c.regions.copy(), c.flats.copy()
    size = regions.shape[0]
    outside = outside_regions(regions)
    light = rng.uniform(0, 2 * np.pi)
    toward = (float(np.cos(light)), float(np.sin(light)))
    area = np.bincount(regions.ravel())
    chosen = [
        rid
        for rid, part in sorted(c.region_parts.items())
        if part in SHADE_PARTS
        and rid not in outside
        and area[rid] >= (size / 16) ** 2
        and rng.random() < share
    ]
    bands: list[tuple[np.ndarray, Color]] = []
    for rid in chosen:
        region = regions == rid
        highlight = rng.random() < 0.3
        band = _band(
            region, toward=(-toward[0], -toward[1]) if highlight else toward, share=rng.uniform(0.25, 0.45)
        )
        n, parts = cv2.connectedComponents(band.view(np.uint8), connectivity=4)
        if n != 2 or not (region & ~band).any():
            continue  # a band in pieces would be several regions; keep the truth simple
        factor = HIGHLIGHT if highlight else SHADOW
        tone = tuple(int(np.clip(round(v * factor), 0, 255)) for v in c.region_colors[rid])
        regions[band] = int(regions.max()) + 1
        flat[band] = tone
        bands.append((band, TRACE_COLORS[1] if highlight else TRACE_COLORS[int(rng.choice([0, 2]))]))
    drawing = c.drawing[..., :3].copy()
    alpha = np.zeros(regions.shape, np.float32)
    width = float(rng.uniform(1.8, 3.0)) * size / 256
    for band, color in bands:
        near = cv2.dilate(band.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        along = color_boundaries(regions, flat) & near
        drawing, a = draw_trace_lines(drawing, along=along, color=color, width=width)
        alpha = np.maximum(alpha, a)
    return traced_drawing(
        drawing=drawing,
        ink_alpha=c.line_alpha,
        regions=number_in_reading_order(regions),
        flat=flat,
        alpha=alpha,
    )


def _shade_edges(svg: bytes, *, viewbox: str, size: int) -> np.ndarray | None:
    """(size, size) bool: the 3 px wide edges of the SVG's shadow and highlight groups (None: it has none)."""
    from pipeline.train.openmoji_parts import render_group_alpha

    root = ET.fromstring(svg)
    masks = [
        render_group_alpha(root, k, viewbox=viewbox, size=size) > 0
        for k, child in enumerate(root)
        if any(word in (child.get("id") or "") for word in SHADE_GROUPS)
    ]
    if not masks:
        return None
    shade = np.any(masks, axis=0).view(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    return (cv2.dilate(shade, kernel) - cv2.erode(shade, kernel)).view(bool)


def build(*, data: Path, svgs: Path, out: Path, limit: int | None) -> dict:
    """Write `{split}/{name}_traced.png` for each drawing with shadow or highlight groups; the index."""
    items = json.loads((data / "index.json").read_text())["items"]
    items = sorted(items, key=lambda it: it["split"] != "test")  # test first, order kept within a split
    rows, scanned = [], 0
    for item in items:
        if limit is not None and len(rows) >= limit:
            break
        scanned += 1
        size = int(item["size"])
        edges = _shade_edges(
            (svgs / f"{item['hexcode']}.svg").read_bytes(), viewbox=item["viewbox"], size=size
        )
        if edges is None:
            continue
        split, name = item["split"], item["name"]
        line = np.asarray(Image.open(data / split / f"{name}_line.png").convert("L"))
        regions = np.asarray(Image.open(data / split / f"{name}_regions.png"), np.int32)
        flat = np.asarray(Image.open(data / split / f"{name}_flat.png").convert("RGB"))
        seed = zlib.crc32(name.encode())
        traced = trace_boundaries(
            line, regions=regions, flat=flat, rng=np.random.default_rng(seed), within=edges
        )
        pixels = int(traced.trace.sum())
        if pixels == 0:
            continue
        (out / split).mkdir(parents=True, exist_ok=True)
        Image.fromarray(traced.drawing, "RGB").save(out / split / f"{name}_traced.png")
        alpha = np.round(np.where(traced.footprint, traced.alpha, 0) * 255).astype(np.uint8)
        Image.fromarray(alpha, "L").save(out / split / f"{name}_trace_alpha.png")
        rows.append({"name": name, "split": split, "annotation": item["annotation"], "trace_px": pixels})
    index = {
        "source": f"openmoji 17.0.0 (npm), trace lines along groups named {', '.join(SHADE_GROUPS)}",
        "license": "CC BY-SA 4.0, OpenMoji - the open-source emoji and icon project (https://openmoji.org)",
        "files": "{split}/{name}_traced.png: RGB, the line drawing with trace lines; {name}_trace_alpha.png: "
        "uint8, the trace lines' alpha (the rest of the truth is the data set's)",
        "scanned": scanned,
        "items": rows,
    }
    (out / "index.json").write_text(json.dumps(index, indent=0))
    return index


def main(argv: list[str] | None = None) -> int:
    """The command: fetch the SVGs, write the traced drawings, print one line of counts."""
    from pipeline.train.openmoji_parts import run_builder

    done = run_builder(
        argv,
        description=__doc__.splitlines()[0],
        default_out=DEFAULT_OUT,
        default_data=DEFAULT_DATA,
        build=build,
        what="traced",
    )
    if done is None:
        return 1
    index, out, seconds = done
    print(f"{len(index['items'])} traced drawings of {index['scanned']} scanned in {out}, {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
