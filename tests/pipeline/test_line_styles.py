"""Hard line styles on real line art: solid ink, open strokes and pinches, with a consistent truth."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage

from pipeline import decode_image, decode_label_map
from pipeline.train.characters import PARTS, STYLES, make_character
from pipeline.train.line_styles import pinch_regions, pull_back_ends, solid_ink


def _load(data_dir: Path, split: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    folder = data_dir / split
    grey = cv2.imread(str(folder / f"{name}_line.png"), cv2.IMREAD_GRAYSCALE)
    labels = decode_label_map((folder / f"{name}_regions.png").read_bytes())
    flat = decode_image((folder / f"{name}_flat.png").read_bytes())[..., :3]
    return grey, labels, flat


def _border_ids(labels: np.ndarray) -> set[int]:
    return set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())


def _touching_pairs(grey: np.ndarray, labels: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of true regions that share one 4-connected area of free (non-ink) pixels."""
    free, _ = ndimage.label(grey >= 128)
    where = (free > 0) & (labels > 0)
    keys = np.unique(free[where].astype(np.int64) * 65536 + labels[where])
    by_area: dict[int, list[int]] = {}
    for key in keys.tolist():
        by_area.setdefault(key // 65536, []).append(key % 65536)
    return {(a, b) for ids in by_area.values() for a in ids for b in ids if a < b}


def _line_width(grey: np.ndarray) -> float:
    """Typical stroke width: twice the median distance to paper over solid ink pixels."""
    return 2 * float(np.median(ndimage.distance_transform_edt(grey < 128)[grey < 100]))


def _long_side(mask: np.ndarray) -> float:
    return max(cv2.minAreaRect(np.argwhere(mask)[:, ::-1].astype(np.float32))[1]) + 1


def _pieces(mask: np.ndarray, square: int) -> int:
    eroded = cv2.erode(mask.view(np.uint8), np.ones((square, square), np.uint8), borderValue=0)
    return cv2.connectedComponents(eroded, connectivity=8)[0] - 1


def test_solid_regions_are_ink_in_the_drawing_and_line_in_the_truth(data_dir):
    grey, labels, flat = _load(data_dir, "test", "E08C")
    g, lab, fl = solid_ink(grey, labels, flat, rng=np.random.default_rng(3), share=0.25)
    filled = np.unique(labels[(lab == 0) & (labels > 0)])
    assert len(filled) >= 1
    mask = np.isin(labels, filled)
    assert (g[mask] == 0).all() and (lab[mask] == 0).all() and (fl[mask] == 0).all()
    assert (lab[~mask] == labels[~mask]).all() and (g[~mask] == grey[~mask]).all()
    assert not set(filled.tolist()) & _border_ids(labels)  # the paper is never inked
    inside = (labels > 0) & ~np.isin(labels, list(_border_ids(labels)))
    assert 0.1 <= mask.sum() / inside.sum() <= 0.4


def test_mostly_solid_ink_covers_most_of_the_picture_but_never_the_paper(data_dir):
    grey, labels, flat = _load(data_dir, "test", "1F306")
    g, lab, _ = solid_ink(grey, labels, flat, rng=np.random.default_rng(3), share=0.9)
    assert (g < 128).mean() > 0.4
    for rid in _border_ids(labels) - {0}:
        assert ((lab == rid) == (labels == rid)).all()
    assert ((g < 128) == (lab == 0)).all()  # ink and line agree, as in the data set
    inner = set(np.unique(lab).tolist()) - _border_ids(labels) - {0}
    assert inner  # something inside is left to color


def test_pulled_back_ends_join_two_true_regions_through_free_pixels(data_dir):
    grey, labels, _ = _load(data_dir, "test", "E093")
    before = labels.copy()
    g = pull_back_ends(grey, rng=np.random.default_rng(0), px=(2, 6), labels=labels)
    assert (labels == before).all()  # the truth is not touched: the regions are still meant apart
    cut = g != grey
    assert cut.any() and (g[cut] == 255).all() and (grey[cut] < 255).all()
    assert _touching_pairs(g, labels) - _touching_pairs(grey, labels)  # a leak a fill would take
    line_w = _line_width(grey)
    count, pieces = cv2.connectedComponents(cut.view(np.uint8))
    for k in range(1, count):
        piece = pieces == k
        assert ndimage.distance_transform_edt(np.pad(piece, 1)).max() <= 4  # 2-6 px along the stroke
        assert _long_side(piece) >= 0.8 * line_w  # across the stroke's full width


def test_pinched_region_stays_one_region_with_a_2_to_5_px_passage(data_dir):
    grey, labels, flat = _load(data_dir, "test", "E093")
    g, lab, fl = pinch_regions(grey, labels, flat, rng=np.random.default_rng(0), width=(2, 5))
    bulge = (lab == 0) & (labels > 0)
    pinched = np.unique(labels[bulge])
    assert len(pinched) >= 1
    assert (g[bulge] == 0).all() and (fl[bulge] == 0).all()
    assert (lab[~bulge] == labels[~bulge]).all()
    for rid in pinched.tolist():
        was, now = labels == rid, lab == rid
        assert cv2.connectedComponents(now.view(np.uint8), connectivity=4)[0] == 2  # one 4-connected piece
        assert _pieces(now, 2) == _pieces(was, 2)  # a 2 x 2 block still passes: at least 2 px
        assert _pieces(now, 6) > _pieces(was, 6)  # a 6 x 6 block no longer does: at most 5 px
        assert _long_side(was & ~now) >= 1.5 * _line_width(grey)  # a wide bulge, not a line end


@pytest.mark.parametrize("style", ["solid", "open", "pinch"])
def test_same_seed_gives_the_same_style(data_dir, style):
    grey, labels, flat = _load(data_dir, "test", "E093")

    def run(seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        if style == "solid":
            return solid_ink(grey, labels, flat, rng=rng)
        if style == "open":
            return (pull_back_ends(grey, rng=rng, labels=labels),)
        return pinch_regions(grey, labels, flat, rng=rng)

    first, again = run(5), run(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], grey)


def test_generated_character_draws_the_styles_with_a_consistent_truth():
    plain = make_character(seed=5, size=128)
    c = make_character(seed=5, size=128, styles=STYLES)
    assert np.array_equal(c.parts, plain.parts)  # the same character, drawn the hard way
    hair = (plain.parts == PARTS.index("hair")) & (plain.regions > 0)
    assert hair.any() and (c.line_alpha[hair] >= 128).all() and (c.regions[hair] == 0).all()
    line = c.line_alpha >= 128
    assert (c.regions[line] == 0).all()
    ids = np.unique(c.regions[c.regions > 0])
    assert list(ids) == list(range(1, len(ids) + 1)) == sorted(c.points)
    for rid, (x, y) in c.points.items():
        assert c.regions[y, x] == rid
        colors, counts = np.unique(c.flats[c.regions == rid], axis=0, return_counts=True)
        assert tuple(colors[np.argmax(counts)]) == c.region_colors[rid]


def test_generated_character_rejects_an_unknown_style():
    with pytest.raises(ValueError, match="unknown line styles"):
        make_character(seed=1, size=64, styles=("watercolor",))
