"""Reference prompts: a colored picture of the character gives the drawing's regions their colors.

1. The reference is cut into one-color components (`color_regions`; thin dark pieces are ink).
2. Alignment (`pipeline.alignment`): the drawing is laid over the reference by an affine map. Candidates
   are the fit of the two foreground boxes, similarity transforms, no move at all for a same-size
   reference (a previous frame, or the drawing's own colored image), and one refined by ECC on the lines.
   When the refined lines correlate at least `_TRUST` it is taken; otherwise the candidate under which
   regions agree best on one color.
3. Matching: a region takes the color most of its pixels land on when at least half agree (confidence =
   that share); otherwise the reference region that scores best on overlap, relative position, relative
   size, shape (aspect) and, when both part maps are given, part label (confidence = that score). Matches
   under `min_confidence` are left unhinted (the colorizer fills them).
4. Splitting: parts are often separated by color alone, with no line between them, and one color per
   line-bounded region cannot follow the reference there. When the lines correlate at least
   `min_alignment`, a region over which a second reference color lands on a piece large and thick enough
   (not a sliver along a line, which is what misalignment leaves) is cut along the aligned reference's
   color edges: the landed colors are cleaned (ink, off-picture and rare colors take the nearest kept
   color, then a mode filter, then pieces too small or too thin join the neighbour they touch most) and
   every piece left becomes a sub-region hinted with its color. Sizes are fractions of the drawing's
   foreground box side, so they hold at any resolution; thresholds were tuned on the OpenMoji train split.

`reference_hints` returns the refined region map: colorize must fill it (`colorize(..., regions=...)`), so
each sub-region is painted exactly. Without splits the map is the one given, unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline import alignment
from pipeline.blockify import bounding_boxes, inner_distance
from pipeline.color import Color, pack_rgb, unpack_rgb
from pipeline.errors import BadPrompt
from pipeline.hints import format_color
from pipeline.part_maps import region_parts
from pipeline.prompts import hint_points, region_points
from pipeline.regions import merge_specks, number_in_reading_order

__all__ = ["color_regions", "reference_hints"]

Piece = tuple[np.ndarray, int]  # (h, w) bool mask in a region's box, packed 0xRRGGBB color
_TRUST = 0.6  # line correlation above which the refined alignment is taken without a color vote
_SPLIT_SHARE = 0.03  # a second color must cover this share of a region ...
_SPLIT_AREA = 0.004  # ... and this much area (x box side squared), and every piece must keep this area,
_SPLIT_DEPTH = 0.012  # be this thick (x box side; distance from its middle to its edge),
_SPLIT_WINDOW = 0.02  # after a mode filter this wide (x box side)


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
    box = alignment.box(fg)
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


def _component_colors(packed: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N + 1,) int64: each component's most common packed color (exact on flat pictures); -1 for 0."""
    count = int(labels.max(initial=0))
    keys, counts = np.unique(labels.ravel().astype(np.int64) << 24 | packed.ravel(), return_counts=True)
    rid, value = keys >> 24, keys & 0xFFFFFF
    order = np.lexsort((-counts, rid))  # per id, the most common color first
    first = np.ones(len(order), bool)
    first[1:] = rid[order][1:] != rid[order][:-1]
    out = np.full(count + 1, -1, np.int64)
    out[rid[order][first]] = value[order][first]
    out[0] = -1
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


def _align(
    regions: np.ndarray,
    *,
    packed: np.ndarray,
    ref_regions: np.ndarray,
    ref_ink: np.ndarray,
    lands: list[tuple],
) -> tuple[int, dict[int, tuple[float, int]]]:
    """(index, vote) of the landing under which the drawing's regions agree best on one color."""
    sel = regions > 0
    best_total, vote, pick = -1.0, {}, 0
    for i, (cy, cx) in enumerate(lands):
        v = _vote(regions, packed[cy, cx], sel)  # regions that land only on what looks like ink take it
        v |= _vote(regions, packed[cy, cx], sel & ~ref_ink[ref_regions[cy, cx]])
        total = sum(share for share, _ in v.values())
        if total > best_total:
            best_total, vote, pick = total, v, i
    return pick, vote


def _nearest_fill(index: np.ndarray, known: np.ndarray) -> np.ndarray:
    """index with every unknown pixel set to the value of its nearest known pixel (L2)."""
    if known.all() or not known.any():
        return index
    _, nearest = cv2.distanceTransformWithLabels(
        (~known).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    lut = np.zeros(int(nearest.max()) + 1, index.dtype)
    lut[nearest[known]] = index[known]
    return lut[nearest]


def _pieces(index: np.ndarray, inside: np.ndarray, *, min_area: float, min_depth: float) -> np.ndarray:
    """(h, w) int32 pieces of equal index in `inside`; small or thin ones join the piece they touch most."""
    pieces = np.zeros(index.shape, np.int32)
    for j in np.unique(index[inside]).tolist():
        _, comp = cv2.connectedComponents((inside & (index == j)).view(np.uint8), connectivity=4)
        pieces = np.where(comp > 0, comp + pieces.max(), pieces)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    while True:
        ids = np.unique(pieces[pieces > 0])
        if len(ids) < 2:
            return pieces
        area = np.bincount(pieces.ravel(), minlength=int(ids.max()) + 1)
        depth = np.zeros(len(area), np.float32)
        np.maximum.at(depth, pieces.ravel(), inner_distance(pieces, valid=inside).ravel())
        bad = [i for i in ids.tolist() if area[i] < min_area or depth[i] < min_depth]
        if not bad:
            return pieces
        worst = min(bad, key=lambda i: (depth[i], area[i], i))
        mask = (pieces == worst).view(np.uint8)
        ring = pieces[(cv2.dilate(mask, cross) > 0) & (mask == 0) & inside]
        ring = ring[ring > 0]
        pieces[mask > 0] = int(np.bincount(ring).argmax()) if len(ring) else int(ids[ids != worst][0])


def _cut(inside: np.ndarray, landed: np.ndarray, *, colors: list[int], unit: float) -> list[Piece]:
    """The pieces of one region (a box around it, `inside` its mask) after cleaning the landed colors."""
    index = np.full(inside.shape, -1, np.int32)
    for j, value in enumerate(colors):
        index[inside & (landed == value)] = j
    index = _nearest_fill(index, index >= 0)
    window = int(round(_SPLIT_WINDOW * unit)) | 1
    if window > 1:  # mode filter: each pixel takes the color most of its window inside the region carries
        votes = np.stack(
            [
                cv2.boxFilter(
                    (inside & (index == j)).astype(np.float32),
                    -1,
                    (window, window),
                    normalize=False,
                    borderType=cv2.BORDER_CONSTANT,
                )
                for j in range(len(colors))
            ]
        )
        index = np.where(inside, np.argmax(votes, 0), -1).astype(np.int32)
    pieces = _pieces(index, inside, min_area=_SPLIT_AREA * unit**2, min_depth=_SPLIT_DEPTH * unit)
    out = []
    for k in np.unique(pieces[pieces > 0]).tolist():
        mask = pieces == k
        out.append((mask, colors[int(np.bincount(index[mask]).argmax())]))
    return out


def _splits(regions: np.ndarray, *, landed: np.ndarray, unit: float) -> list[tuple[int, tuple, list[Piece]]]:
    """(region id, its box as slices, pieces) for each region cut in two or more pieces by landed colors."""
    # landed (H, W) int64: the packed reference color each drawing pixel lands on, -1 where unknown
    sel = (regions > 0) & (landed >= 0)
    keys, counts = np.unique(regions[sel].astype(np.int64) << 24 | landed[sel], return_counts=True)
    count = int(regions.max(initial=0))
    area = np.bincount(regions.ravel(), minlength=count + 1)
    rid, value = keys >> 24, keys & 0xFFFFFF
    big = (counts >= _SPLIT_AREA * unit**2) & (counts >= _SPLIT_SHARE * area[rid])
    many = np.bincount(rid[big], minlength=count + 1) >= 2
    boxes = bounding_boxes(regions, count=count)
    out = []
    for t in np.flatnonzero(many).tolist():
        x0, y0, x1, y1 = boxes[t].tolist()
        box = (slice(y0, y1 + 1), slice(x0, x1 + 1))
        colors = value[(rid == t) & big].tolist()
        pieces = _cut(regions[box] == t, landed[box], colors=colors, unit=unit)
        if len(pieces) > 1:
            out.append((t, box, pieces))
    return out


def _split(
    regions: np.ndarray,
    splits: list[tuple[int, tuple, list[Piece]]],
    *,
    matches: list[dict],
    colors: dict[int, Color],
    landed: np.ndarray,
    sources: np.ndarray,
) -> tuple[dict[int, Color], list[dict], np.ndarray]:
    """(colors, matches, regions) with split regions replaced by their pieces, ids in reading order."""
    # a piece's confidence: the share of its pixels landing on its color; source: where most of those land
    count = int(regions.max(initial=0))
    refined = regions.copy()
    pieces: dict[int, dict] = {}
    for t, box, parts in splits:
        for mask, value in parts:
            tid = count + 1 + len(pieces)
            refined[box][mask] = tid
            got = landed[box][mask]
            known = got >= 0
            on = sources[box][mask][got == value]
            pieces[tid] = {
                "source": int(np.bincount(on).argmax()) if len(on) else None,
                "confidence": round(float((got[known] == value).mean()) if known.any() else 0.0, 3),
                "color": value,
                "split_from": t,
            }
    final = number_in_reading_order(refined)
    new_id = np.zeros(int(refined.max()) + 1, np.int32)
    new_id[refined.ravel()] = final.ravel()
    split_ids = {t for t, _, _ in splits}
    out_colors = {int(new_id[t]): rgb for t, rgb in colors.items() if t not in split_ids}
    out = [{**m, "region": int(new_id[m["region"]])} for m in matches if m["region"] not in split_ids]
    for tid, piece in pieces.items():
        rgb = unpack_rgb(piece["color"])
        out_colors[int(new_id[tid])] = rgb
        out.append({"region": int(new_id[tid]), **piece, "color": format_color(rgb)})
    return out_colors, sorted(out, key=lambda m: m["region"]), final


def reference_hints(
    reference_rgb: np.ndarray,
    *,
    regions: np.ndarray,
    reference_regions: np.ndarray | None = None,
    part_map: np.ndarray | None = None,
    reference_part_map: np.ndarray | None = None,
    min_confidence: float = 0.35,
    angles: tuple[float, ...] = (-10.0, -5.0, 0.0, 5.0, 10.0),
    split: bool = True,
    min_alignment: float = 0.8,
) -> tuple[dict, list[dict], np.ndarray]:
    """({"points": [...]}, matches, regions): hints from the reference's colors, on a refined region map.

    regions (returned): the given map with the regions the reference colors in several coherent pieces
    split into sub-regions (all renumbered in reading order; the given map itself when nothing is split);
    colorize must fill this map. matches: one entry per region of it: {"region", "source" (reference
    region id or None), "confidence" 0..1, "color" ("#rrggbb" or None when left to the colorizer)}, and
    "split_from" (the region's id in the given map) for sub-regions. Splits need a line correlation of at
    least min_alignment; split=False never splits.
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
        return (
            {"points": []},
            [{"region": r, "source": None, "confidence": 0.0, "color": None} for r in range(1, nt + 1)],
            regions,
        )
    packed = pack_rgb(ref)
    ref_color = _component_colors(packed, ref_regions)
    sel = regions > 0
    border = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    t_fg, r_fg = ~sel | ~np.isin(regions, border), alignment.foreground(ref)
    tc, ta, tasp, tbox = _stats(regions, t_fg)
    rc, ra, rasp, _ = _stats(ref_regions, r_fg)
    matrices, correlation = alignment.candidate_alignments(regions, ref, t_fg=t_fg, r_fg=r_fg, angles=angles)
    usable = matrices[-1:] if correlation >= _TRUST else matrices  # lines agree: the refined map (last) it is
    lands = [alignment.landing(m, regions.shape, ref.shape[:2]) for m in usable]
    pick, vote = _align(regions, packed=packed, ref_regions=ref_regions, ref_ink=ref_ink, lands=lands)
    ry, rx = lands[pick]
    pick += len(matrices) - len(usable)
    if pick != len(matrices) - 1 or correlation < 0:
        correlation = -1.0  # not the refined map: nothing says how well the lines agree
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
        conf, color = (
            float(np.clip(score[t, r], 0, 1)),
            unpack_rgb(ref_color[r]) if ref_color[r] >= 0 else None,
        )
        share, value = vote.get(t, (0.0, 0))
        if share >= 0.5 and share >= conf:  # most pixels agree on one color: take it, from where it lies
            r = int((pair[t] * (np.arange(nr + 1) > 0) * ~ref_ink).argmax())
            conf, color = share, unpack_rgb(value)
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
    if split and correlation >= min_alignment:
        off = alignment.off_picture(matrices[pick], regions.shape, ref.shape[:2])
        landed_color = np.where(ref_ink[landed] | off, -1, ref_color[landed])  # ink, lines, off the picture
        unit = float(np.sqrt((tbox[2] - tbox[0]) * (tbox[3] - tbox[1])))
        splits = _splits(regions, landed=landed_color, unit=unit)
        if splits:
            colors, matches, regions = _split(
                regions, splits, matches=matches, colors=colors, landed=landed_color, sources=landed
            )
    return hint_points(colors, region_points(regions)), matches, regions
