"""Trace lines: colored boundary lines divide regions like ink, then are filled by their color's rule."""

import json

import cv2
import numpy as np
import pytest

from pipeline import BadPrompt, colorize, decode_image, hints_from_json, prompt_to_hints, recolor
from pipeline.hints import format_color
from pipeline.trace_lines import DEFAULT_TRACE_LINES, looks_traced, rules_json, trace_rules

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)
LIGHT, DARK = (242, 201, 165), (90, 60, 120)  # hint colors that look like no trace color
SIZE = 96


def box(*, trace=RED, gap: int = 0, ink: bool = True, thickness: int = 2) -> np.ndarray:
    """(H, W, 4): a black anti-aliased box split across by an anti-aliased trace line that meets the box's
    sides; with gap > 0 the trace line has a hole of `gap` columns in its middle."""
    paper = np.full((SIZE, SIZE, 3), 255, np.uint8)
    if ink:
        cv2.rectangle(paper, (10, 10), (85, 85), (0, 0, 0), 2, lineType=cv2.LINE_AA)
    cv2.line(paper, (12, 48), (83, 48), trace, thickness, lineType=cv2.LINE_AA)  # ends on the sides
    if gap:
        paper[40:57, 47 : 47 + gap] = 255
    return cv2.cvtColor(paper, cv2.COLOR_RGB2RGBA)


def two_hints(top=LIGHT, bottom=DARK):
    points = [
        {"x": 40, "y": 25, "color": format_color(top)},
        {"x": 40, "y": 70, "color": format_color(bottom)},
    ]
    return hints_from_json({"points": points}, width=SIZE, height=SIZE)


def test_antialiased_trace_line_divides_regions_and_leaves_no_fringe():
    result = colorize(box(), two_hints())
    top, bottom = int(result.regions[25, 40]), int(result.regions[70, 40])
    assert top != bottom
    trace = result.trace > 0
    assert trace.sum() > 100 and (result.lines[..., 3][trace] == 0).all()  # not in lines.png
    assert set(np.unique(result.regions[trace])) <= {top, bottom}  # regions.png gives them to regions
    near = cv2.dilate(trace.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    rules = trace_rules()
    for image in (result.colored, result.flats):  # no pixel of red, nor of its faded edge, survives
        assert not looks_traced(image[near], rules=rules).any()
    assert result.proof["trace_pixels"] == int(trace.sum()) and result.proof["trace_filled_by_rule"] == 1.0
    assert result.proof["hint_adherence"] == 1.0
    assert result.trace_json()["found"] == [
        {"color": "#ff0000", "rule": "nearest", "pixels": int(trace.sum())}
    ]


@pytest.mark.parametrize("color", [BLUE, GREEN, (220, 30, 40), (40, 90, 220)])
def test_default_trace_colors_are_red_blue_green_in_any_saturated_shade(color):
    result = colorize(box(trace=color), two_hints())
    assert result.trace_json()["pixels"] > 100
    assert not (result.lines[..., 3][result.trace > 0]).any()


@pytest.mark.parametrize("gap", [1, 2, 3])
def test_a_trace_line_with_a_small_gap_still_divides_its_regions(gap):
    drawing = box(gap=gap)
    result = colorize(drawing, two_hints())
    assert result.regions[25, 40] != result.regions[70, 40]
    assert result.gaps_json()["count"] >= 1
    assert (result.flats[25, 40] == LIGHT).all() and (result.flats[70, 40] == DARK).all()
    assert not looks_traced(result.colored, rules=trace_rules()).any()


def test_a_trace_line_touching_an_ink_line_keeps_the_ink():
    drawing = box()
    result = colorize(drawing, two_hints())
    plain = colorize(box(trace=(255, 255, 255)), two_hints())  # the same box with no trace line
    ink = plain.lines[..., 3] >= 128
    dark = result.colored[ink].max(axis=1) < 100
    assert dark.mean() >= 0.95  # the box's outline, where the trace line meets it too, stays ink
    junction = ink.copy()
    junction[:44] = junction[53:] = False  # the outline's pixels beside the trace line's two ends
    assert junction.sum() >= 8 and (result.colored[junction].max(axis=1) < 100).mean() >= 0.75


def test_a_drawing_with_no_ink_lines_at_all():
    paper = np.full((SIZE, SIZE, 3), 255, np.uint8)
    cv2.circle(paper, (48, 48), 30, RED, 2, lineType=cv2.LINE_AA)
    hints = hints_from_json({"points": [{"x": 48, "y": 48, "color": "#5a3825"}]}, width=SIZE, height=SIZE)
    result = colorize(cv2.cvtColor(paper, cv2.COLOR_RGB2RGBA), hints)
    assert int(result.regions.max()) == 2 and (result.regions > 0).all()  # every pixel is a region's
    assert not result.lines[..., 3].any()  # no ink: lines.png is empty
    assert not looks_traced(result.colored, rules=trace_rules()).any()
    outside = int(result.regions[2, 2])
    flats = result.flats_rgba()
    assert (flats[..., 3][result.regions == outside] == 0).all()  # trace pixels given to paper stay clear
    assert (result.colored[result.regions == int(result.regions[48, 48])] == (0x5A, 0x38, 0x25)).all()


@pytest.mark.parametrize(("rule", "want"), [("darker", DARK), ("lighter", LIGHT), ("#123456", (18, 52, 86))])
def test_each_rule_fills_trace_lines_with_its_color(rule, want):
    result = colorize(box(), two_hints(), trace_lines={"#ff0000": rule})
    trace = result.trace > 0
    inside = trace.copy()
    inside[:, :14] = inside[:, 82:] = False  # away from the box's sides (and the paper beyond them)
    assert (result.colored[inside] == want).all() and (result.flats[inside] == want).all()
    assert result.proof["trace_filled_by_rule"] == 1.0
    assert result.trace_json()["rules"]["#ff0000"] == rule
    if rule.startswith("#"):
        assert (result.regions[inside] == 0).all()  # a line of its own color, like ink, in regions.png
        assert result.proof["hint_adherence"] == 1.0


def test_a_prompt_names_trace_colors_and_rules_and_ink_turns_one_off():
    prompt = {"points": [], "trace_lines": {"#ff8800": "darker", "#ff0000": "ink"}}
    assert rules_json(trace_rules(prompt["trace_lines"])) == {
        "#0000ff": "nearest",
        "#00ff00": "nearest",
        "#ff8800": "darker",
    }
    resolved = prompt_to_hints(box(trace=(255, 136, 0)), prompt)
    assert (resolved.found.trace > 0).sum() > 100  # orange counts because the prompt says so
    red = prompt_to_hints(box(), prompt)
    assert not (red.found.trace > 0).any()  # red is ink for this prompt
    assert trace_rules(False) == () and rules_json(trace_rules(None)) == DEFAULT_TRACE_LINES


@pytest.mark.parametrize(
    "spec",
    [
        {"#808080": "nearest"},  # grey: an ink color
        {"#400000": "nearest"},  # too dark
        {"red": "nearest"},
        {"#ff0000": "closest"},
        ["#ff0000"],
        "darker",
    ],
)
def test_bad_trace_line_rules_are_a_clear_bad_prompt(spec):
    with pytest.raises(BadPrompt, match="trace_lines"):
        prompt_to_hints(box(), {"trace_lines": spec})


def test_recolor_refills_trace_lines_from_the_new_colors():
    drawing = box()
    rules = {"#ff0000": "darker"}
    parent = colorize(drawing, two_hints(), trace_lines=rules)
    top = int(parent.regions[25, 40])
    done = recolor(
        drawing, colored=parent.colored, regions=parent.regions, by_id={top: (20, 20, 60)}, trace_lines=rules
    )
    trace = done.result.trace > 0
    inside = trace.copy()
    inside[:, :14] = inside[:, 82:] = False
    assert (done.result.colored[inside] == (20, 20, 60)).all()  # the top is darker now: trace lines follow
    assert done.target["trace_lines"]["#ff0000"] == "darker"  # kept in the target prompt's history
    assert np.array_equal(done.result.regions > 0, parent.regions > 0)
    bottom = done.result.regions == int(parent.regions[70, 40])
    assert (done.result.colored[bottom] == DARK).all()


def test_recolor_with_nearest_changes_nothing_outside_the_edit():
    drawing = box()
    parent = colorize(drawing, two_hints())
    top = int(parent.regions[25, 40])
    done = recolor(drawing, colored=parent.colored, regions=parent.regions, by_id={top: (20, 120, 60)})
    assert done.locality["unchanged_outside"] == 1.0 and done.result.proof["trace_filled_by_rule"] == 1.0


def test_black_line_drawings_come_out_as_before(data_dir):
    items = [i for i in json.loads((data_dir / "index.json").read_text())["items"] if i["split"] == "test"]
    for item in items[:3]:
        drawing = decode_image((data_dir / "test" / f"{item['name']}_line.png").read_bytes())
        points = [{"x": r["point"][0], "y": r["point"][1], "color": r["color"]} for r in item["regions"]]
        hints = hints_from_json({"points": points}, width=drawing.shape[1], height=drawing.shape[0])
        now, before = colorize(drawing, hints), colorize(drawing, hints, trace_lines=False)
        assert now.trace_json()["pixels"] == 0 and "trace_pixels" not in now.proof
        for name in ("colored", "flats", "lines", "regions"):
            assert np.array_equal(getattr(now, name), getattr(before, name)), name
        assert now.proof == before.proof
