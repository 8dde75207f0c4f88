"""Reference prompts: a colored picture of the character gives the drawing's regions their colors.

1. The reference is cut into one-color components (`color_regions`; thin dark pieces are ink).
2. Alignment (`pipeline.alignment`): the drawing is laid over the reference by an affine map. Candidates
   are the fit of the two foreground boxes, similarity transforms, no move at all for a same-size
   reference (a previous frame, or the drawing's own colored image), and one refined by ECC on the lines.
   When the refined lines correlate at least `_TRUST` it is taken; otherwise the candidate under which
   regions agree best on one color.
3. Matching: a region takes the color most of its pixels land on when at least half agree (confidence =
   that share); otherwise the reference region that scores best on overlap, relative position, relative
   size, shape (aspect) and, when both part maps are given, part label (confidence = that score). A region
   of the character never takes the paper around the reference (`outside_regions`), nor counts landing
   there as a vote: a pose that moved an arm off the reference's arm lands it on paper. Matches under
   `min_confidence` are left unhinted (the colorizer fills them); under LOW_CONFIDENCE, flagged.
4. Splitting (`pipeline.reference_split`): parts separated by color alone, with no line between them, are
   cut along the aligned reference's colors when the lines correlate at least `min_alignment`.
5. Views: each picture of a model sheet, and each picture's mirror image, is matched; the one whose
   matches are most confident (by area) wins, so a mirrored view or the sheet's side view colors the
   drawing as well as a same-facing front view.

`reference_hints` returns the refined region map: colorize must fill it (`colorize(..., regions=...)`), so
each sub-region is painted exactly. Without splits the map is the one given, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline import alignment
from pipeline.blockify import equal_color_components, inner_distance, label_modes
from pipeline.color import Color, pack_rgb, unpack_rgb, unpack_rgb_array
from pipeline.colorize import outside_regions
from pipeline.errors import BadPrompt
from pipeline.hints import format_color
from pipeline.part_maps import region_parts
from pipeline.prompts import hint_points, region_points
from pipeline.reference_split import apply_splits, find_splits
from pipeline.regions import merge_specks, number_in_reading_order

__all__ = ["LOW_CONFIDENCE", "color_regions", "flagged_matches", "reference_hints"]

LOW_CONFIDENCE = 0.5  # a region matched less surely than this is flagged for a lead to look at
_MIRROR_MARGIN = 0.02  # line correlation a mirror image must gain (symmetric drawings tie within 0.001)
_LONG = 100.0  # a one-color piece with this many times its depth squared in area is a line
_TRUST = 0.6  # line correlation above which the refined alignment is taken without a color vote


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
    labels = equal_color_components(rgb)  # exact 4-connected pieces of one color
    labels = merge_specks(labels, min_area=min_area)
    labels = number_in_reading_order(labels)
    # the line network (and hatching) is thin but long: shallow everywhere, yet large
    depth = inner_distance(labels, valid=labels > 0)
    count = int(labels.max(initial=0))
    area = np.bincount(labels.ravel(), minlength=count + 1)
    deepest = np.zeros(count + 1, np.float32)
    np.maximum.at(deepest, labels.ravel(), depth.ravel())
    # thick lines (a big picture, a heavy pen) are deeper than line_width at their joins, yet long: their
    # area is far more than their depth squared
    thin = ((deepest < line_width) | (area > _LONG * np.maximum(deepest, 1.0) ** 2)) & (area > line_area)
    thin[0] = False
    if thin.any():  # the largest thin piece is the ink; thin pieces of other colors are thin regions
        common = label_modes(pack_rgb(rgb), labels)  # a piece's edge pixels blend into its neighbours
        colors = unpack_rgb_array(common)
        dark = colors.max(axis=1) < 128  # ink is dark when any thin piece is; else the largest thin one
        main = int(np.argmax(np.where(thin & (dark if (thin & dark).any() else True), area, 0)))
        # pieces of the ink's color no thicker than the line network (an eye's outline, a dot) are ink too
        thickest = max(line_width, float(deepest[main]) + 1.0)
        thin = (deepest < thickest) & (np.abs(colors - colors[main]).max(axis=1) < 48)
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


def _vote_past_ink(
    regions: np.ndarray, colors: np.ndarray, valid: np.ndarray, *, ink: np.ndarray
) -> dict[int, tuple[float, int]]:
    """`_vote` over the pixels that do not land on ink (H, W) bool; a region that lands only on what looks
    like ink takes it."""
    vote = _vote(regions, colors, valid)
    vote |= _vote(regions, colors, valid & ~ink)
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
        v = _vote_past_ink(regions, packed[cy, cx], sel, ink=ref_ink[ref_regions[cy, cx]])
        total = sum(share for share, _ in v.values())
        if total > best_total:
            best_total, vote, pick = total, v, i
    return pick, vote


def _outside_mask(regions: np.ndarray) -> np.ndarray:
    """(N+1,) bool: the regions that are the paper around the picture (`outside_regions`)."""
    mask = np.zeros(int(regions.max(initial=0)) + 1, bool)
    mask[list(outside_regions(regions))] = True
    return mask


def _matches(
    score: np.ndarray,
    *,
    vote: dict[int, tuple[float, int]],
    pair: np.ndarray,
    ref_color: np.ndarray,
    ref_ink: np.ndarray,
    min_confidence: float,
) -> tuple[list[dict], dict[int, Color]]:
    """(matches, colors): each region takes the reference region that scores best, or the color most of
    its pixels land on when at least half agree (from where most of them lie)."""
    nt, nr = score.shape[0] - 1, score.shape[1] - 1
    colors: dict[int, Color] = {}
    matches = []
    for t in range(1, nt + 1):
        r = int(score[t].argmax())
        conf, color = (
            float(np.clip(score[t, r], 0, 1)),
            unpack_rgb(ref_color[r]) if ref_color[r] >= 0 else None,
        )
        share, value = vote.get(t, (0.0, 0))
        if share >= 0.5 and share >= conf:
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
    return matches, colors


def _reference_once(
    ref: np.ndarray,
    *,
    regions: np.ndarray,
    reference_regions: np.ndarray | None,
    part_map: np.ndarray | None,
    reference_part_map: np.ndarray | None,
    min_confidence: float,
    angles: tuple[float, ...],
    split: bool,
    min_alignment: float,
) -> tuple[dict[int, Color], list[dict], np.ndarray, float, float]:
    """(colors, matches, regions, quality, line correlation) from one reference picture (the correlation is
    -1 when the refined alignment was not taken); quality is the confidence of the
    matches, averaged over the drawing's regions by area (the outside left out)."""
    if reference_regions is None:
        ref_regions, ref_ink = _color_components(ref)
    else:
        ref_regions = np.asarray(reference_regions, np.int32)
        ref_ink = np.zeros(int(ref_regions.max(initial=0)) + 1, bool)
    if ref_regions.shape != ref.shape[:2]:
        raise BadPrompt("reference regions must have the reference picture's size.")
    nt, nr = int(regions.max(initial=0)), int(ref_regions.max(initial=0))
    if nt == 0 or nr == 0:
        none = [{"region": r, "source": None, "confidence": 0.0, "color": None} for r in range(1, nt + 1)]
        return {}, none, regions, 0.0, -1.0
    packed = pack_rgb(ref)
    ref_color = label_modes(packed, ref_regions)
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
    score[:, ref_ink] = 0.0  # ink is no source: a region nothing else fits is left to the colorizer
    score[:, 0] = -1.0  # reference lines are no source
    t_out, r_out = _outside_mask(regions), _outside_mask(ref_regions)
    score[np.ix_(~t_out, r_out)] = 0.0  # a region of the character never takes the paper around the reference
    inside = sel & ~t_out[regions] & ~r_out[landed]
    inside_vote = _vote_past_ink(regions, packed[ry, rx], inside, ink=ref_ink[landed])
    for t in np.flatnonzero(~t_out[1:]) + 1:
        vote[int(t)] = inside_vote.get(int(t), (0.0, 0))  # landing on the paper is no vote for the character
    matches, colors = _matches(
        score,
        vote=vote,
        pair=pair,
        ref_color=ref_color,
        ref_ink=ref_ink,
        min_confidence=min_confidence,
    )
    area = np.bincount(regions.ravel(), minlength=nt + 1).astype(np.float64) * ~t_out
    quality = float(sum(area[m["region"]] * m["confidence"] for m in matches) / max(area.sum(), 1.0))
    if split and correlation >= min_alignment:
        off = alignment.off_picture(matrices[pick], regions.shape, ref.shape[:2])
        landed_color = np.where(ref_ink[landed] | off, -1, ref_color[landed])  # ink, lines, off the picture
        unit = float(np.sqrt((tbox[2] - tbox[0]) * (tbox[3] - tbox[1])))
        outside = frozenset(np.flatnonzero(t_out).tolist())
        edges = _edges(ref_regions, ref_ink)[ry, rx]
        splits = find_splits(regions, landed=landed_color, unit=unit, outside=outside, edges=edges)
        if splits:
            colors, matches, regions = apply_splits(
                regions, splits, matches=matches, colors=colors, landed=landed_color, sources=landed
            )
    return colors, matches, regions, quality, correlation


def _edges(ref_regions: np.ndarray, ref_ink: np.ndarray) -> np.ndarray:
    """(H', W') bool: the reference's ink and the borders between its colors, widened by 2 px (alignment
    is never exact to the pixel)."""
    ids = ref_regions
    edge = ref_ink[ids].copy()
    edge[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edge[1:, :] |= ids[1:, :] != ids[:-1, :]
    return cv2.dilate(edge.view(np.uint8), np.ones((5, 5), np.uint8)) > 0


def _flip(array: np.ndarray | None) -> np.ndarray | None:
    """The array mirrored left to right (None stays None)."""
    return None if array is None else np.ascontiguousarray(array[:, ::-1])


def flagged_matches(matches: list[dict], *, below: float = LOW_CONFIDENCE) -> list[int]:
    """The regions whose reference match is less sure than `below` (or that found none), for review."""
    return [m["region"] for m in matches if m["color"] is None or m["confidence"] < below]


def reference_hints(
    reference_rgb: np.ndarray | Sequence[np.ndarray],
    *,
    regions: np.ndarray,
    reference_regions: np.ndarray | None = None,
    part_map: np.ndarray | None = None,
    reference_part_map: np.ndarray | None = None,
    min_confidence: float = 0.35,
    angles: tuple[float, ...] = (-10.0, -5.0, 0.0, 5.0, 10.0),
    split: bool = True,
    min_alignment: float = 0.6,
    mirror: bool = True,
) -> tuple[dict, list[dict], np.ndarray]:
    """({"points": [...]}, matches, regions): hints from the reference's colors, on a refined region map.

    reference_rgb: one colored picture (H', W', 3) or several (a model sheet: front, side, back...). Each
    picture, and with `mirror` its mirror image, is matched; the one whose matches are most confident
    wins (a drawing takes its colors from one view of the sheet). regions (returned): the given map with
    the regions the reference colors in several coherent pieces split into sub-regions (all renumbered in
    reading order; the given map itself when nothing is split); colorize must fill this map. matches: one
    entry per region of it: {"region", "source" (reference region id or None), "confidence" 0..1, "color"
    ("#rrggbb" or None when left to the colorizer), "picture" (index of the picture), "mirrored"}, and
    "split_from" (the region's id in the given map) for sub-regions. Splits need a line correlation of at
    least min_alignment; split=False never splits. reference_regions and reference_part_map describe a
    single picture.
    """
    pictures = [reference_rgb] if isinstance(reference_rgb, np.ndarray) else list(reference_rgb)
    if not pictures:
        raise BadPrompt("a reference prompt needs at least one picture.")
    if len(pictures) > 1 and (reference_regions is not None or reference_part_map is not None):
        raise BadPrompt("reference regions and part maps describe one picture; give one picture with them.")
    regions = np.asarray(regions, np.int32)
    best = None
    for index, picture in enumerate(pictures):
        ref = np.ascontiguousarray(np.asarray(picture)[..., :3])
        options = {
            "regions": regions,
            "part_map": part_map,
            "min_confidence": min_confidence,
            "angles": angles,
            "split": split,
            "min_alignment": min_alignment,
        }
        got = _reference_once(
            ref, reference_regions=reference_regions, reference_part_map=reference_part_map, **options
        )
        mirrored = False
        if mirror and got[4] + _MIRROR_MARGIN < 1.0:  # lines this close to perfect: no mirror can beat them
            flipped = _reference_once(
                np.ascontiguousarray(ref[:, ::-1]),
                reference_regions=_flip(reference_regions),
                reference_part_map=_flip(reference_part_map),
                **options,
            )
            # a symmetric drawing matches its mirror image about as well: the mirror must align its lines
            # clearly better, and match more surely
            if flipped[4] > got[4] + _MIRROR_MARGIN and flipped[3] > got[3]:
                got, mirrored = flipped, True
        if best is None or got[3] > best[0][3] + 1e-9:
            best = (got, index, mirrored)
    (colors, matches, refined, *_), index, mirrored = best
    matches = [{**m, "picture": index, "mirrored": mirrored} for m in matches]
    return hint_points(colors, region_points(refined)), matches, refined
