"""bench/propagate.py: its measures on known answers, and its pairs as the bench builds them."""

import numpy as np

from bench import propagate
from pipeline.train.characters import make_character


def test_the_truth_scores_full_marks_and_one_wrong_region_costs_its_share():
    c = make_character(seed=9_401, pose=0, expression=1)
    assert propagate.measure(c.flats, flat=c.flats, regions=c.regions) == {
        "segment": 1.0, "segment>10": 1.0, "pixel": 1.0, "fg pixel": 1.0, "bg iou": 1.0,
    }  # fmt: skip
    wrong = c.flats.copy()
    rid = int(np.bincount(c.regions.ravel())[1:].argmin()) + 1  # the smallest region, painted off
    wrong[c.regions == rid] = 255 - wrong[c.regions == rid]
    got = propagate.measure(wrong, flat=c.flats, regions=c.regions)
    assert got["segment"] == 1.0 - 1.0 / int(c.regions.max())
    assert got["pixel"] < 1.0


def test_generated_pairs_are_one_identity_and_mirrored_pairs_flip_the_reference():
    ((name, ref, drawing, flat, regions),) = propagate.generated_pairs("expression", count=1, first=9_402)
    ((_, mirrored, drawing2, _, _),) = propagate.generated_pairs("mirrored", count=1, first=9_402)
    assert np.array_equal(mirrored, ref[:, ::-1]) and np.array_equal(drawing, drawing2)
    palette = {tuple(v) for v in ref.reshape(-1, 3).tolist()}
    shared = np.mean([tuple(v) in palette for v in flat[regions > 0].tolist()])
    assert shared > 0.95  # the same character: its colors are the reference's
    other = make_character(seed=9_403, pose=0, expression=1).flats
    assert np.mean([tuple(v) in palette for v in other.reshape(-1, 3).tolist()]) < shared
    assert drawing.shape == ref.shape and name == "gen9402"


def test_misses_say_why_each_wrong_region_is_wrong():
    c = make_character(seed=9_404, pose=0, expression=1)
    flat, regions = c.flats, c.regions
    none = propagate.misses(flat, reference=flat, oracle=flat, flat=flat, regions=regions)
    assert none["true"] == int(regions.max()) and sum(none[k] for k in propagate.MISSES) == 0
    rid = int(np.bincount(regions.ravel())[1:].argmax()) + 1  # the largest region, painted off
    wrong = flat.copy()
    wrong[regions == rid] = 255 - wrong[regions == rid]
    got = propagate.misses(wrong, reference=flat, oracle=flat, flat=flat, regions=regions)
    assert got["mismatched"] == 1 and got["absent"] == got["merged"] == 0  # its color is in the reference
    blank = np.full_like(flat, 255)  # a reference of paper only holds no color at all
    got = propagate.misses(wrong, reference=blank, oracle=flat, flat=flat, regions=regions)
    assert got["absent"] == 1
    got = propagate.misses(wrong, reference=flat, oracle=wrong, flat=flat, regions=regions)
    assert got["merged"] == 1  # the oracle misses it too
