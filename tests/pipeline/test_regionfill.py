"""Region colorizer: the region graph, candidates a region could be, the NumPy model, training, no torch."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline import colorize, hints_from_json
from pipeline.color import rgb_to_lab
from pipeline.models import regionfill
from pipeline.region_graph import region_graph
from pipeline.train.regionfill import TrainConfig, build_examples, region_truth, train

ROOT = Path(__file__).resolve().parents[2]


def three_boxes() -> np.ndarray:
    """Regions: 1 outside, 2 a big box, 3 and 4 two same-size boxes inside it (a pair, like two eyes)."""
    regions = np.ones((64, 64), np.int32)
    cv2.rectangle(regions, (8, 8), (55, 55), 0, 1)
    regions[9:55, 9:55] = 2
    for x0 in (16, 38):
        cv2.rectangle(regions, (x0, 20), (x0 + 10, 30), 0, 1)
        regions[21:30, x0 + 1 : x0 + 10] = 3 if x0 == 16 else 4
    return regions


def test_region_graph_knows_neighbours_hops_twins_and_the_outside():
    graph = region_graph(three_boxes())
    assert graph.count == 4 and graph.outside.tolist() == [False, True, False, False, False]
    assert graph.border[2, 3] > 0 and graph.border[1, 3] == 0  # the eye box touches the face, not outside
    assert graph.hops_from([1])[3] == 2 and graph.hops_from([3])[4] == 2 and graph.hops_from([2])[4] == 1
    assert np.allclose(graph.shape[3], graph.shape[4])  # same size and shape: twins


@pytest.fixture(scope="module")
def model(tmp_path_factory, data_dir) -> regionfill.RegionFill:
    out = tmp_path_factory.mktemp("regionfill") / "small.safetensors"
    summary = train(
        TrainConfig(data=(data_dir,), out=out, split="test", budget_s=5, epochs=3, palette_size=8)
    )
    assert summary["examples"] > 30 and out.stat().st_size < 100_000
    return regionfill.load(out)


def test_generated_characters_add_examples_and_hints_cover_up_to_the_share_asked(tmp_path):
    base = TrainConfig(data=(), out=tmp_path / "x.safetensors", palette_size=8, draws=4)
    assert build_examples(base)[0].targets == []  # no data, no examples
    few, palette = build_examples(TrainConfig(**{**base.__dict__, "generated": 3, "max_share": 0.0}))
    most, _ = build_examples(
        TrainConfig(**{**base.__dict__, "generated": 3, "max_share": 0.95}), palette=palette
    )
    assert len(few.targets) > 50 and len(palette) == 8
    # with no hints every inner region of every draw is an example; with most regions hinted, far fewer
    assert len(most.targets) < 0.8 * len(few.targets)


def test_every_color_the_model_gives_is_a_hint_color_or_a_prior_never_an_average(model):
    regions = three_boxes()
    hinted = {2: (240, 200, 160), 3: (255, 255, 255)}
    out = model.fill_unhinted(np.zeros((64, 64, 4), np.uint8), regions, hinted)
    allowed = {tuple(c) for c in model.palette.tolist()} | set(hinted.values())
    assert set(out) == {1, 4} and all(tuple(c) in allowed for c in out.values())


def test_an_unsure_region_takes_the_candidate_least_far_from_what_it_likely_is(model, monkeypatch):
    # two reds split most of the belief, a blue holds the largest single share: the blue is the likeliest
    # candidate, yet a red is the smaller expected error, so the region takes that red (a candidate, no mix)
    regions = three_boxes()
    hinted = {2: (200, 30, 30), 3: (215, 40, 35), 1: (30, 60, 220)}
    graph = region_graph(regions)
    colors, _ = regionfill.candidates(graph, 4, hinted, palette=model.palette, palette_lab=model.palette_lab)
    listed = [tuple(c) for c in colors.tolist()]
    belief = np.full(len(listed), 1e-6)
    belief[listed.index((200, 30, 30))], belief[listed.index((215, 40, 35))] = 0.3, 0.3
    belief[listed.index((30, 60, 220))] = 0.4
    monkeypatch.setattr(type(model), "score", lambda self, rows: np.log(belief / belief.sum()))
    out = model.fill_unhinted(np.zeros((64, 64, 4), np.uint8), regions, hinted)
    expected = regionfill.pairwise_delta_e(colors) @ (belief / belief.sum())
    assert out[4] in {(200, 30, 30), (215, 40, 35)} and listed.index(out[4]) == int(np.argmin(expected))
    belief[listed.index((30, 60, 220))] = 0.9  # sure of the blue: the blue it is
    assert model.fill_unhinted(np.zeros((64, 64, 4), np.uint8), regions, hinted)[4] == (30, 60, 220)


def test_candidates_offer_each_hint_color_once_and_priors_not_already_hinted(model):
    graph = region_graph(three_boxes())
    prior = tuple(int(v) for v in model.palette[0])
    colors, rows = regionfill.candidates(
        graph, 4, {2: prior, 3: (1, 2, 3)}, palette=model.palette, palette_lab=rgb_to_lab(model.palette)
    )
    listed = [tuple(c) for c in colors.tolist()]
    assert listed[:2] == sorted([prior, (1, 2, 3)]) and listed.count(prior) == 1
    assert len(listed) == 2 + len(model.palette) - 1 and rows.shape == (len(listed), regionfill.input_size(8))


def test_region_truth_is_each_regions_most_common_color():
    regions = np.array([[1, 1, 1, 2]], np.int32)
    flat = np.array([[[9, 9, 9], [9, 9, 9], [1, 1, 1], [5, 6, 7]]], np.uint8)
    assert region_truth(regions, flat) == {1: (9, 9, 9), 2: (5, 6, 7)}


def test_a_load_of_the_wrong_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="tint train regionfill"):
        regionfill.load(tmp_path / "missing.safetensors")


def test_the_shipped_model_fills_a_real_drawing_without_importing_torch(data_dir):
    line = data_dir / "test" / "E010_line.png"  # eight line-bounded regions
    code = f"""
import sys, cv2
from pipeline import colorize, hints_from_json
from pipeline.models import regionfill
grey = cv2.imread({str(line)!r}, cv2.IMREAD_GRAYSCALE)
drawing = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA)
hints = hints_from_json({{"points": [{{"x": 256, "y": 256, "color": "#f2c94c"}}]}}, width=512, height=512)
result = colorize(drawing, hints, fill_unhinted=regionfill.load().fill_unhinted)
assert "torch" not in sys.modules, "the region colorizer imported torch"
print(len(result.region_colors), len(set(result.region_colors.values())))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    regions, colors = (int(v) for v in done.stdout.split())
    assert regions == 8 and colors > 1  # the model gave the unhinted regions colors, not all one


def test_colorize_with_the_model_keeps_hints_exact(model, data_dir):
    line = sorted((data_dir / "test").glob("*_line.png"))[0]
    drawing = cv2.cvtColor(cv2.imread(str(line), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2RGBA)
    hints = hints_from_json({"points": [{"x": 256, "y": 256, "color": "#3c6fd2"}]}, width=512, height=512)
    result = colorize(drawing, hints, fill_unhinted=model.fill_unhinted)
    assert result.proof["hint_adherence"] == 1.0
