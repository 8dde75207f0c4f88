"""Reference matching across different drawings of one character: another expression, a mirrored view,
a model sheet of several pictures, and the flags a lead reviews."""

import numpy as np
import pytest

from pipeline import colorize, prompt_to_hints
from pipeline.color import delta_e2000, rgb_to_lab
from pipeline.reference import flagged_matches
from pipeline.train.characters import make_character

SEEDS = (9_101, 9_102, 9_103)


def segment_accuracy(flats: np.ndarray, character) -> float:
    """Share of the character's true regions whose majority color is within ΔE2000 < 5 of the truth."""
    right = delta_e2000(rgb_to_lab(flats.reshape(-1, 3)), rgb_to_lab(character.flats.reshape(-1, 3))) < 5
    right = right.reshape(flats.shape[:2])
    ids = character.regions
    count = int(ids.max())
    hits = np.bincount(ids.ravel(), weights=right.ravel(), minlength=count + 1)[1:]
    return float((hits > np.bincount(ids.ravel(), minlength=count + 1)[1:] / 2).mean())


def color_from(reference, target):
    drawing = target.drawing[..., :3]
    resolved = prompt_to_hints(drawing, {}, reference=reference)
    result = colorize(drawing, resolved.hints, found=resolved.found, regions=resolved.regions)
    return resolved, result


@pytest.fixture(scope="module")
def pairs():
    """(reference character, the same character with another expression) for a few seeds."""
    return [
        (make_character(seed=s, pose=0, expression=0), make_character(seed=s, pose=0, expression=1))
        for s in SEEDS
    ]


def test_another_expression_is_colored_region_by_region_from_the_reference(pairs):
    scores = [segment_accuracy(color_from(ref.colored, target)[1].flats, target) for ref, target in pairs]
    assert np.mean(scores) >= 0.85, scores


def test_a_mirrored_reference_colors_as_well_as_the_unmirrored_one(pairs):
    plain, mirrored = [], []
    for ref, target in pairs:
        plain.append(segment_accuracy(color_from(ref.colored, target)[1].flats, target))
        resolved, result = color_from(np.ascontiguousarray(ref.colored[:, ::-1]), target)
        mirrored.append(segment_accuracy(result.flats, target))
        assert all(m["mirrored"] for m in resolved.report["reference_matches"])
    assert np.mean(mirrored) >= np.mean(plain) - 0.05, (plain, mirrored)


def test_a_model_sheet_colors_each_drawing_from_the_picture_that_matches_it(pairs):
    (ref, target), (other, _) = pairs[0], pairs[1]
    sheet = [other.colored, ref.colored]  # another character first: the drawing's own one must win
    resolved, result = color_from(sheet, target)
    assert {m["picture"] for m in resolved.report["reference_matches"]} == {1}
    assert segment_accuracy(result.flats, target) == pytest.approx(
        segment_accuracy(color_from(ref.colored, target)[1].flats, target)
    )


def test_flagged_regions_are_those_matched_less_surely_than_the_threshold():
    matches = [
        {"region": 1, "confidence": 0.9, "color": "#112233"},
        {"region": 2, "confidence": 0.3, "color": "#112233"},
        {"region": 3, "confidence": 0.8, "color": None},
    ]
    assert flagged_matches(matches) == [2, 3]
    assert flagged_matches(matches, below=0.95) == [1, 2, 3]


def _openmoji(root, name: str, kind: str) -> np.ndarray:
    from pipeline import decode_image

    for split in ("train", "test"):
        path = root / split / f"{name}_{kind}.png"
        if path.is_file():
            return decode_image(path.read_bytes(), name=path.name)[..., :3]
    raise FileNotFoundError(name)


def test_parts_an_open_stroke_joins_to_the_paper_are_cut_out_of_it(full_data_dir):
    # OpenMoji's pilot: the person's colored emoji colors the man's line drawing. His tie and grey sleeve
    # are open at the bottom, so the region engine joins them to the paper around him; the reference's
    # colors cut them out again, where lines enclose them
    reference = _openmoji(full_data_dir, "1F9D1-200D-2708-FE0F", "color")
    drawing = _openmoji(full_data_dir, "1F468-200D-2708-FE0F", "line")
    flat = _openmoji(full_data_dir, "1F468-200D-2708-FE0F", "flat")
    resolved = prompt_to_hints(drawing, {}, reference=reference)
    result = colorize(drawing, resolved.hints, found=resolved.found, regions=resolved.regions)
    grey = (np.abs(flat.astype(int) - (0xD0, 0xCF, 0xCE)).max(-1) == 0) & (resolved.found.regions > 0)
    tie = (np.abs(flat.astype(int) - (0x3F, 0x3F, 0x3F)).max(-1) == 0) & (resolved.found.regions > 0)
    for part in (grey, tie):
        assert part.sum() > 100
        right = delta_e2000(rgb_to_lab(result.flats[part]), rgb_to_lab(flat[part])) < 5
        assert right.mean() > 0.8, right.mean()
    assert any("split_from" in m for m in resolved.report["reference_matches"])


def test_a_region_whose_own_lines_miss_the_reference_is_not_cut():
    from pipeline.reference_split import find_splits

    regions = np.full((120, 120), 2, np.int32)  # the paper, around a square outlined by a line
    regions[20:100, 20:100] = 0
    regions[22:98, 22:98] = 1
    landed = np.full(regions.shape, 0xFF0000, np.int64)
    landed[22:98, 60:98] = 0x00FF00  # the reference's colors would cut the square in two
    edges = np.zeros(regions.shape, bool)
    edges[:, 18:24] = True  # the reference has an edge under the square's left side only: a moved part
    assert find_splits(regions, landed=landed, unit=120.0, edges=edges) == []
    edges[18:102, 18:102] = True  # its edges lie under the whole outline: the square is aligned
    assert [t for t, _, _ in find_splits(regions, landed=landed, unit=120.0, edges=edges)] == [1]
