"""bench/clicks.py and the region judgment it shares with bench/colorize.py, on the OpenMoji subset."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import bench.clicks
from bench.colorize import (
    evaluate_fill,
    judge_regions,
    judge_result,
    match_regions,
    nearest_rule,
    read_drawings,
)
from bench.fills import load_method
from bench.openmoji import region_points
from pipeline.color import delta_e2000, rgb_to_lab
from pipeline.colorize import colorize, find_lines_and_regions
from pipeline.hints import hints_from_json
from pipeline.regions import assign_line_pixels


def _white(drawing: np.ndarray, regions: np.ndarray, hinted: dict) -> dict:
    return {}


def test_judged_regions_agree_with_the_median_over_their_pixels(data_dir) -> None:
    for d in read_drawings(data_dir, limit=3):
        found = find_lines_and_regions(d.drawing)
        match = match_regions(truth=d.truth, flats=d.flats, owner=assign_line_pixels(found.regions))
        height, width = d.truth.shape
        hints = hints_from_json({"points": region_points(d.table[::2])}, width=width, height=height)
        result = colorize(d.drawing, hints, fill_unhinted=nearest_rule, found=found)
        right, _, _ = judge_result(match, result, truth=d.truth, flats=d.flats)
        for region in d.table:
            mask = d.truth == region["id"]
            de = delta_e2000(rgb_to_lab(result.flats[mask]), rgb_to_lab(d.flats[mask]))
            assert right[region["id"]] == (np.median(de) < 5), (d.name, region)


def test_a_fill_that_leaves_regions_white_needs_at_most_a_click_per_fixable_colored_region(data_dir) -> None:
    got = bench.clicks.clicks_to_finish(data_dir, _white, limit=2)
    floor = got["one_per_region"]
    assert got["drawings"] == floor["drawings"] == 2
    assert got["finished"] == 1.0
    white_right = []
    for d in read_drawings(data_dir, limit=2):
        found = find_lines_and_regions(d.drawing)
        match = match_regions(truth=d.truth, flats=d.flats, owner=assign_line_pixels(found.regions))
        goal = bench.clicks.fixable_regions(d, found=found, match=match)
        right, _ = judge_regions(match, {})
        white_right.append(int((right & goal).sum()))
    # at most one click per fixable region; a region right while white needs one only when a click on a
    # region it leaked into paints it (then its own click cuts it back out)
    assert all(0 < c <= f for c, f in zip(got["per_drawing"], floor["per_drawing"], strict=True))
    assert sum(got["per_drawing"]) <= sum(floor["per_drawing"]) - min(white_right)


def test_the_region_engine_runs_once_per_drawing_not_per_click(data_dir, monkeypatch) -> None:
    calls = {"bench": 0, "colorize": 0}
    module = importlib.import_module("pipeline.colorize")  # the package's name `colorize` is the function
    real = module.find_lines_and_regions

    def counted(key: str):
        def find(*args, **kwargs):
            calls[key] += 1
            return real(*args, **kwargs)

        return find

    monkeypatch.setattr(bench.clicks, "find_lines_and_regions", counted("bench"))
    monkeypatch.setattr(module, "find_lines_and_regions", counted("colorize"))
    got = bench.clicks.clicks_for_fills(data_dir, {"nearest": nearest_rule}, limit=2)
    assert sum(got["nearest"]["per_drawing"]) > 0
    assert calls == {"bench": 2, "colorize": 0}


def test_evaluate_fill_reports_every_share_as_fractions(data_dir) -> None:
    got = evaluate_fill(data_dir, nearest_rule, limit=2)
    for share in (0.0, 0.25, 0.5):
        figures = got[share]
        assert figures["n"] == 2
        assert 0 <= figures["right"] <= 1 and 0 <= figures["within_10"] <= 1 and figures["mean_de"] >= 0


def test_a_method_is_a_fill_or_a_loader_by_import_path() -> None:
    assert load_method("bench.colorize:nearest_rule") is nearest_rule
    model = load_method("pipeline.models.colorizer:load")
    assert model.__self__.version.startswith("colorizer-")


def test_a_method_without_module_and_attr_is_refused() -> None:
    with pytest.raises(ValueError, match="module:attr"):
        load_method("nearest_rule")
