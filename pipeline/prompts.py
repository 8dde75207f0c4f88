"""Prompts in the studio's words: a palette by part name, or a colored reference picture, turned into hints.

Both return a JSON hint prompt `{"points": [...]}` (one point per region, at the pixel farthest from
its edge), so the result goes through `pipeline.hints.hints_from_json` like any user prompt and
colorize paints each hinted region exactly. Regions must be the label map colorize will find for the
same drawing (`find_regions(extract_lines(drawing).mask, ...)` with the same settings).

- `palette_hints`: each region takes the part most of its pixels are predicted as (a part map from
  `pipeline.models.parts`), and a named part's color goes to all its regions.
- `reference_hints`: the reference is cut into one-color components (`color_regions`; thin dark pieces
  are ink), and the drawing is laid over it aligned by the two pictures' foreground boxes (or not moved
  at all, for a same-size reference, when that agrees better: a previous frame, or the drawing's own
  colored image, which is then reproduced exactly). A region takes the color most of its pixels land
  on when at least half agree (confidence = that share); otherwise the reference region that scores
  best on overlap, relative position, relative size, shape (aspect) and, when both part maps are
  given, part label (confidence = that score). Matches under `min_confidence` are left unhinted (the
  colorizer fills them).
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.blockify import inner_distance
from pipeline.errors import BadPrompt
from pipeline.hints import format_color, parse_color
from pipeline.lines import as_rgba, extract_lines
from pipeline.models.parts import PART_NAMES, region_parts
from pipeline.regions import find_regions, merge_specks, number_in_reading_order

__all__ = [
    "PART_NAMES",
    "SYNONYMS",
    "part_index",
    "resolve_palette",
    "representative_points",
    "palette_hints",
    "color_regions",
    "reference_hints",
    "drawing_regions",
]

Color = tuple[int, int, int]
SYNONYMS: dict[str, str] = {
    "bg": "background", "backdrop": "background", "paper": "background",
    "face": "skin", "body": "skin", "skin_tone": "skin", "skintone": "skin", "hands": "skin", "hand": "skin",
    "arms": "skin", "arm": "skin", "legs": "skin", "neck": "skin", "ears": "skin", "ear": "skin",
    "hairs": "hair", "eyebrows": "hair", "eyebrow": "hair", "brows": "hair", "brow": "hair", "bangs": "hair",
    "fringe": "hair", "beard": "hair", "ponytail": "hair",
    "eye": "eyes", "iris": "eyes", "irises": "eyes", "eye_color": "eyes", "eye_colour": "eyes",
    "eye_white": "eye_whites", "whites": "eye_whites", "sclera": "eye_whites",
    "lips": "mouth", "lip": "mouth", "tongue": "mouth", "mouth_inside": "mouth",
    "shirt": "top", "jacket": "top", "coat": "top", "blouse": "top", "sweater": "top", "jumper": "top",
    "hoodie": "top", "t_shirt": "top", "tshirt": "top", "tee": "top", "vest": "top", "dress": "top",
    "torso": "top", "sleeves": "top", "sleeve": "top", "tops": "top", "upper": "top", "collar": "top",
    "bottoms": "bottom", "pants": "bottom", "trousers": "bottom", "skirt": "bottom", "shorts": "bottom",
    "jeans": "bottom", "leggings": "bottom", "lower": "bottom",
    "shoe": "shoes", "boots": "shoes", "boot": "shoes", "sneakers": "shoes", "footwear": "shoes",
    "feet": "shoes", "foot": "shoes", "sandals": "shoes",
    "accessories": "accessory", "hat": "accessory", "cap": "accessory", "bow": "accessory",
    "scarf": "accessory", "bag": "accessory", "glasses": "accessory", "sunglasses": "accessory",
    "headband": "accessory", "belt": "accessory", "earrings": "accessory", "props": "accessory",
}  # fmt: skip


def drawing_regions(
    drawing: np.ndarray, *, gap_px: int = 3, min_area: int = 8, line_threshold: float | None = None
) -> np.ndarray:
    """The region map colorize will find for this drawing with the same settings (hints land on it)."""
    found = extract_lines(as_rgba(drawing), line_threshold=line_threshold)
    return find_regions(found.mask, gap_px=gap_px, min_area=min_area)


def part_index(name: str) -> int:
    """Index into PART_NAMES of a part name or synonym (case, spaces and hyphens ignored); else BadPrompt."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = SYNONYMS.get(key, key)
    if key not in PART_NAMES:
        raise BadPrompt(
            f"unknown part name {name!r} in the palette; known parts: {', '.join(PART_NAMES)} "
            f"(also accepted: {', '.join(sorted(SYNONYMS))})."
        )
    return PART_NAMES.index(key)


def resolve_palette(palette: dict[str, str]) -> dict[int, Color]:
    """Part index -> (r, g, b) from {"hair": "#5a3825", "iris": "#2e7d32"}; a part twice is BadPrompt."""
    if not isinstance(palette, dict) or not palette:
        raise BadPrompt('a palette is a non-empty object of part name -> color, e.g. {"hair": "#5a3825"}.')
    out: dict[int, Color] = {}
    named: dict[int, str] = {}
    for name, color in palette.items():
        k = part_index(name)
        if k in named:
            raise BadPrompt(f"palette names part {PART_NAMES[k]!r} twice ({named[k]!r} and {name!r}).")
        named[k] = name
        out[k] = parse_color(color)
    return out


def representative_points(regions: np.ndarray) -> dict[int, tuple[int, int]]:
    """Region id -> (x, y) of its pixel farthest from its edge (ties: first in reading order)."""
    regions = np.asarray(regions, np.int32)
    depth = inner_distance(regions, valid=regions > 0).ravel()
    labels = regions.ravel()
    order = np.lexsort((-depth, labels))
    first = np.ones(len(order), bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    width = regions.shape[1]
    return {int(labels[i]): (int(i % width), int(i // width)) for i in order[first] if labels[i] > 0}


def _points(colors: dict[int, Color], points: dict[int, tuple[int, int]]) -> dict:
    return {
        "points": [
            {"x": points[rid][0], "y": points[rid][1], "color": format_color(rgb)}
            for rid, rgb in sorted(colors.items())
            if rid in points
        ]
    }


def palette_hints(palette: dict[str, str], *, regions: np.ndarray, part_map: np.ndarray) -> tuple[dict, dict]:
    """({"points": [...]}, report) for a palette; part_map (H, W) holds indices into PART_NAMES.

    The report: {"regions": {id: part name}, "parts": {part: {"color", "regions", "named_as"}},
    "missing": [named parts no region was predicted as]}.
    """
    table = resolve_palette(palette)
    names = {part_index(n): n for n in palette}
    parts = region_parts(regions, part_map)
    colors = {rid: table[k] for rid, k in parts.items() if k in table}
    report: dict = {"regions": {rid: PART_NAMES[k] for rid, k in sorted(parts.items())}, "parts": {}}
    for k, rgb in sorted(table.items()):
        rids = sorted(rid for rid, p in parts.items() if p == k)
        report["parts"][PART_NAMES[k]] = {"color": format_color(rgb), "regions": rids, "named_as": names[k]}
    report["missing"] = [
        PART_NAMES[k] for k in sorted(table) if not report["parts"][PART_NAMES[k]]["regions"]
    ]
    return _points(colors, representative_points(regions)), report


def color_regions(
    rgb: np.ndarray, *, min_area: int = 6, line_width: float = 2.5, line_area: int = 60
) -> np.ndarray:
    """Regions of a colored picture: areas of one color (4-connected), specks merged, thin ink = line (0)."""
    labels, ink = _color_components(rgb, min_area=min_area, line_width=line_width, line_area=line_area)
    return number_in_reading_order(np.where(ink[labels], 0, labels))


def _color_components(
    rgb: np.ndarray, *, min_area: int = 6, line_width: float = 2.5, line_area: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """One-color components (H, W) int32 1..N and a (N+1,) bool flag of those that look like ink."""
    rgb = np.ascontiguousarray(np.asarray(rgb)[..., :3])
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    # exact 4-connected components of equal color: on a 2x grid, original pixels sit at even positions
    # and the pixel between two neighbours is open only when they share their color
    h, w = packed.shape
    grid = np.zeros((2 * h - 1, 2 * w - 1), np.uint8)
    grid[::2, ::2] = 1
    grid[::2, 1::2] = packed[:, 1:] == packed[:, :-1]
    grid[1::2, ::2] = packed[1:, :] == packed[:-1, :]
    _, comp = cv2.connectedComponents(grid, connectivity=4, ltype=cv2.CV_32S)
    labels = np.ascontiguousarray(comp[::2, ::2])
    labels = merge_specks(labels, min_area=min_area)
    labels = number_in_reading_order(labels)
    # the line network (and hatching) is thin but long: shallow everywhere, yet large
    depth = inner_distance(labels, valid=labels > 0)
    count = int(labels.max(initial=0))
    area = np.bincount(labels.ravel(), minlength=count + 1)
    deepest = np.zeros(count + 1, np.float32)
    np.maximum.at(deepest, labels.ravel(), depth.ravel())
    thin = (deepest < line_width) & (area > line_area)
    thin[0] = False
    if thin.any():  # the largest thin piece is the ink; thin pieces of other colors are thin regions
        ids = labels.ravel()
        first = np.zeros(count + 1, np.int64)
        first[ids[::-1]] = np.arange(ids.size)[::-1]
        colors = rgb.reshape(-1, 3)[first].astype(np.int32)
        dark = colors.max(axis=1) < 128  # ink is dark when any thin piece is; else the largest thin one
        ink = colors[int(np.argmax(np.where(thin & (dark if (thin & dark).any() else True), area, 0)))]
        thin = (deepest < line_width) & (np.abs(colors - ink).max(axis=1) < 48)
    thin[0] = True
    return labels, thin


def _stats(regions: np.ndarray, fg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Per region (index = id): centroid and spread normalised by the foreground box fg; the box."""
    h, w = regions.shape
    count = int(regions.max(initial=0))
    area = np.bincount(regions.ravel(), minlength=count + 1).astype(np.float64)
    ys, xs = np.nonzero(fg) if fg.any() else (np.array([0, h - 1]), np.array([0, w - 1]))
    box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    bw, bh = max(1.0, box[2] - box[0]), max(1.0, box[3] - box[1])
    yy, xx = np.mgrid[0:h, 0:w]
    ids = regions.ravel()
    mx = np.bincount(ids, weights=xx.ravel(), minlength=count + 1) / np.maximum(area, 1)
    my = np.bincount(ids, weights=yy.ravel(), minlength=count + 1) / np.maximum(area, 1)
    vx = np.bincount(ids, weights=xx.ravel() ** 2.0, minlength=count + 1) / np.maximum(area, 1) - mx**2
    vy = np.bincount(ids, weights=yy.ravel() ** 2.0, minlength=count + 1) / np.maximum(area, 1) - my**2
    cent = np.stack([(mx - box[0]) / bw, (my - box[1]) / bh], 1)
    aspect = np.log((np.sqrt(np.maximum(vx, 0)) / bw + 1e-3) / (np.sqrt(np.maximum(vy, 0)) / bh + 1e-3))
    return cent, area / (bw * bh), aspect, box


def _foreground(rgb: np.ndarray, *, tolerance: int = 24) -> np.ndarray:
    """(H, W) bool: pixels whose color is off the picture's border color (the most common one there)."""
    edge = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int32)
    colors, counts = np.unique(edge, axis=0, return_counts=True)
    paper = colors[counts.argmax()]
    return np.abs(rgb.astype(np.int32) - paper).max(axis=2) > tolerance


def _land(shape: tuple[int, int], ref_shape: tuple[int, int], tbox: tuple, rbox: tuple) -> tuple:
    """(ry, rx) int64 maps: where each drawing pixel lands in the reference when tbox maps onto rbox."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    sx = (rbox[2] - rbox[0]) / max(1.0, tbox[2] - tbox[0])
    sy = (rbox[3] - rbox[1]) / max(1.0, tbox[3] - tbox[1])
    rx = np.clip(np.round(rbox[0] + (xx + 0.5 - tbox[0]) * sx - 0.5), 0, ref_shape[1] - 1)
    ry = np.clip(np.round(rbox[1] + (yy + 0.5 - tbox[1]) * sy - 0.5), 0, ref_shape[0] - 1)
    return ry.astype(np.int64), rx.astype(np.int64)


def _similarity_lands(t_fg: np.ndarray, r_fg: np.ndarray, *, angles: tuple[float, ...]) -> list[tuple]:
    """(ry, rx) maps that move the drawing's foreground centroid onto the reference's, scaled by the
    square root of their area ratio and turned by each angle (degrees)."""
    if not t_fg.any() or not r_fg.any():
        return []
    ty, tx = (c.mean() for c in np.nonzero(t_fg))
    ry0, rx0 = (c.mean() for c in np.nonzero(r_fg))
    scale = float(np.sqrt(r_fg.sum() / t_fg.sum()))
    yy, xx = np.mgrid[0 : t_fg.shape[0], 0 : t_fg.shape[1]].astype(np.float64)
    dy, dx = yy - ty, xx - tx
    out = []
    for angle in angles:
        a = np.radians(angle)
        qx = rx0 + scale * (np.cos(a) * dx + np.sin(a) * dy)
        qy = ry0 + scale * (-np.sin(a) * dx + np.cos(a) * dy)
        qx = np.clip(np.round(qx), 0, r_fg.shape[1] - 1).astype(np.int64)
        qy = np.clip(np.round(qy), 0, r_fg.shape[0] - 1).astype(np.int64)
        out.append((qy, qx))
    return out


def _vote(regions: np.ndarray, colors: np.ndarray, valid: np.ndarray) -> dict[int, tuple[float, int]]:
    """Region id -> (share of its pixels, packed color) of the color most of its valid pixels carry."""
    keys = regions[valid].astype(np.int64) * (1 << 24) + colors[valid]
    uniq, counts = np.unique(keys, return_counts=True)
    area = np.bincount(regions.ravel())
    vote: dict[int, tuple[float, int]] = {}
    for key, cnt in zip(uniq.tolist(), counts.tolist(), strict=True):
        t, value = divmod(key, 1 << 24)
        if cnt / max(1, area[t]) > vote.get(t, (0.0, 0))[0]:
            vote[t] = (cnt / max(1, area[t]), value)
    return vote


def reference_hints(
    reference_rgb: np.ndarray,
    *,
    regions: np.ndarray,
    reference_regions: np.ndarray | None = None,
    part_map: np.ndarray | None = None,
    reference_part_map: np.ndarray | None = None,
    min_confidence: float = 0.35,
    angles: tuple[float, ...] = (-10.0, -5.0, 0.0, 5.0, 10.0),
) -> tuple[dict, list[dict]]:
    """({"points": [...]}, matches) hinting the drawing's regions with matched reference regions' colors.

    matches: one entry per region of `regions`: {"region", "source" (reference region id or None),
    "confidence" 0..1, "color" ("#rrggbb" or None when left to the colorizer)}.
    """
    ref = np.ascontiguousarray(np.asarray(reference_rgb)[..., :3])
    if reference_regions is None:
        ref_regions, ref_ink = _color_components(ref)
    else:
        ref_regions = np.asarray(reference_regions, np.int32)
        ref_ink = np.zeros(int(ref_regions.max(initial=0)) + 1, bool)
    if ref_regions.shape != ref.shape[:2]:
        raise BadPrompt("reference regions must have the reference picture's size.")
    regions = np.asarray(regions, np.int32)
    nt, nr = int(regions.max(initial=0)), int(ref_regions.max(initial=0))
    if nt == 0 or nr == 0:
        return {"points": []}, [
            {"region": r, "source": None, "confidence": 0.0, "color": None} for r in range(1, nt + 1)
        ]
    # each reference region's color: the most common color of its pixels (exact on flat pictures)
    ids = ref_regions.ravel()
    packed = (ref[..., 0].astype(np.int64) << 16 | ref[..., 1].astype(np.int64) << 8 | ref[..., 2]).ravel()
    order = np.lexsort((packed, ids))
    keys = ids[order] * (1 << 24) + packed[order]
    uniq, counts = np.unique(keys, return_counts=True)
    best: dict[int, tuple[int, int]] = {}
    for key, cnt in zip(uniq.tolist(), counts.tolist(), strict=True):
        rid, value = divmod(key, 1 << 24)
        if rid > 0 and cnt > best.get(rid, (0, -1))[0]:
            best[rid] = (cnt, value)
    ref_color = {rid: ((v >> 16) & 255, (v >> 8) & 255, v & 255) for rid, (_, v) in best.items()}
    sel = regions > 0
    border = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    t_fg, r_fg = ~sel | ~np.isin(regions, border), _foreground(ref)
    tc, ta, tasp, tbox = _stats(regions, t_fg)
    rc, ra, rasp, rbox = _stats(ref_regions, r_fg)
    # align by the foreground boxes, by similarity transforms (centroid, scale, a few rotations), or not
    # at all for a same-size reference: whichever makes regions agree best on one color
    packed = packed.reshape(ref_regions.shape)
    candidates = [_land(regions.shape, ref.shape[:2], tbox, rbox)]
    candidates += _similarity_lands(t_fg, r_fg, angles=angles)
    if ref.shape[:2] == regions.shape:
        candidates.append(tuple(np.mgrid[0 : regions.shape[0], 0 : regions.shape[1]].astype(np.int64)))
    best_total, vote, ry, rx = -1.0, {}, None, None
    for cy, cx in candidates:
        v = _vote(regions, packed[cy, cx], sel)  # regions that land only on what looks like ink take it
        v |= _vote(regions, packed[cy, cx], sel & ~ref_ink[ref_regions[cy, cx]])
        total = sum(share for share, _ in v.values())
        if total > best_total:
            best_total, vote, ry, rx = total, v, cy, cx
    landed = ref_regions[ry, rx]
    pair = np.bincount(
        regions[sel].astype(np.int64) * (nr + 1) + landed[sel], minlength=(nt + 1) * (nr + 1)
    ).reshape(nt + 1, nr + 1)
    overlap = pair / np.maximum(pair.sum(1, keepdims=True), 1)
    dist = np.hypot(*(tc[:, None, :] - rc[None, :, :]).transpose(2, 0, 1))
    size = np.abs(np.log((ta[:, None] + 1e-6) / (ra[None, :] + 1e-6)))
    shape = np.abs(tasp[:, None] - rasp[None, :])
    score = 0.55 * overlap + 0.25 * np.exp(-dist / 0.08) + 0.12 * np.exp(-size) + 0.08 * np.exp(-shape)
    if part_map is not None and reference_part_map is not None:
        tp, rp = region_parts(regions, part_map), region_parts(ref_regions, reference_part_map)
        t_lab = np.array([tp.get(i, -1) for i in range(nt + 1)])
        r_lab = np.array([rp.get(i, -2) for i in range(nr + 1)])
        score = np.where(t_lab[:, None] == r_lab[None, :], score, score * 0.6)
    score[:, ref_ink] *= 0.5  # what looks like ink is a source only when nothing else fits
    score[:, 0] = -1.0  # reference lines are no source
    colors: dict[int, Color] = {}
    matches = []
    for t in range(1, nt + 1):
        r = int(score[t].argmax())
        conf, color = float(np.clip(score[t, r], 0, 1)), ref_color.get(r)
        share, value = vote.get(t, (0.0, 0))
        if share >= 0.5 and share >= conf:  # most pixels agree on one color: take it, from where it lies
            r = int((pair[t] * (np.arange(nr + 1) > 0) * ~ref_ink).argmax())
            conf, color = share, ((value >> 16) & 255, (value >> 8) & 255, value & 255)
        ok = conf >= min_confidence and color is not None
        if ok:
            colors[t] = color
        matches.append(
            {
                "region": t,
                "source": r if ok else None,
                "confidence": round(conf, 3),
                "color": format_color(color) if ok else None,
            }
        )
    return _points(colors, representative_points(regions)), matches
