"""colorize: exact fill of hinted regions, conflicts, flats without holes, proof, real drawings."""

import json

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic_drawings import as_drawing, blank, rectangle

from bench.openmoji import region_points
from pipeline import BadPrompt, colorize, decode_image, empty_hints, hints_from_json

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def boxes(seed: int, size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grey = blank(size)
    for _ in range(5):
        x, y = (int(v) for v in rng.integers(2, size - 30, 2))
        w, h = (int(v) for v in rng.integers(10, 28, 2))
        cv2.rectangle(grey, (x, y), (x + w, y + h), int(rng.integers(0, 120)), int(rng.integers(1, 4)))
    return as_drawing(grey)


@FAST
@given(seed=st.integers(0, 100_000), count=st.integers(1, 12))
def test_every_hinted_region_is_exactly_its_hint_color(seed, count):
    drawing = boxes(seed)
    rng = np.random.default_rng(seed + 1)
    points = [
        {
            "x": int(x),
            "y": int(y),
            "color": "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rng.integers(0, 256, 3))),
        }
        for x, y in rng.integers(0, 96, (count, 2))
    ]
    result = colorize(drawing, hints_from_json({"points": points}, width=96, height=96))
    assert result.proof["hint_adherence"] == 1.0 and result.proof["failed_regions"] == []
    for rid, rgb in result.hinted.items():
        inside = result.regions == rid
        assert (result.colored[inside] == rgb).all() and (result.flats[inside] == rgb).all()


@FAST
@given(seed=st.integers(0, 100_000))
def test_line_pixels_take_a_neighbouring_region_color_in_flats(seed):
    drawing = boxes(seed)
    rng = np.random.default_rng(seed)
    points = [
        {"x": int(x), "y": int(y), "color": f"#{int(rng.integers(0, 1 << 24)):06x}"}
        for x, y in rng.integers(0, 96, (8, 2))
    ]
    result = colorize(drawing, hints_from_json({"points": points}, width=96, height=96))
    table = {rid: rgb for rid, rgb in result.region_colors.items()}
    colors = {tuple(c) for c in table.values()}
    on_line = result.regions == 0
    assert all(tuple(c) in colors for c in np.unique(result.flats[on_line], axis=0))
    assert set(result.region_colors) == set(range(1, result.regions.max() + 1))


def test_same_input_same_output():
    drawing = boxes(7)
    hints = hints_from_json({"points": [{"x": 40, "y": 40, "color": "#123456"}]}, width=96, height=96)
    a, b = colorize(drawing, hints), colorize(drawing.copy(), hints)
    for name in ("colored", "flats", "lines", "regions"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def test_conflict_with_no_neck_between_the_hints_takes_the_color_with_more_hint_pixels_and_is_reported():
    grey = rectangle(blank(64), x0=8, y0=8, x1=56, y1=56, thickness=2)
    prompt = {
        "strokes": [{"points": [[20, 30], [40, 30]], "width": 3, "color": "#00ff00"}],
        "points": [{"x": 30, "y": 45, "color": "#ff0000"}],
    }
    result = colorize(as_drawing(grey), hints_from_json(prompt, width=64, height=64))
    rid = int(result.regions[32, 32])
    assert result.hinted[rid] == (0, 255, 0) and int(result.regions[45, 30]) == rid
    (conflict,) = result.conflicts
    assert conflict["region"] == rid and conflict["chosen"] == "#00ff00" and result.proof["regions_cut"] == 0
    assert conflict["others"] == [{"color": "#ff0000", "pixels": 1}]
    assert result.proof["hint_adherence"] == 1.0
    json.dumps(result.conflicts)


def test_a_leak_through_an_open_outline_is_cut_at_its_narrowest_neck():
    grey = rectangle(blank(80), x0=10, y0=10, x1=40, y1=40, thickness=2)
    grey[22:30, 38:43] = 255  # an 8 px opening in the box's right side, wider than gap closing reaches
    prompt = {"points": [{"x": 25, "y": 25, "color": "#d23c3c"}, {"x": 70, "y": 70, "color": "#ffffff"}]}
    result = colorize(as_drawing(grey), hints_from_json(prompt, width=80, height=80))
    assert result.proof["regions_cut"] == 1 and result.conflicts == []  # box and paper were one region
    inside = result.flats[12:38, 12:38].reshape(-1, 3)
    assert (inside == (0xD2, 0x3C, 0x3C)).all(axis=1).mean() > 0.98  # the box, up to the opening
    assert (result.flats[50:80, 50:80] == 255).all()  # the paper stays white


def test_hint_on_a_line_pixel_colors_the_nearest_region():
    grey = rectangle(blank(64), x0=8, y0=8, x1=56, y1=56, thickness=3)  # the top line covers rows 6-10
    for y, near, far in ((9, (32, 32), (2, 2)), (7, (2, 2), (32, 32))):  # inside is nearer, then outside
        hints = hints_from_json({"points": [{"x": 32, "y": y, "color": "#ff0000"}]}, width=64, height=64)
        result = colorize(as_drawing(grey), hints)
        assert result.flats[near[1], near[0]].tolist() == [255, 0, 0], y
        assert result.flats[far[1], far[0]].tolist() == [255, 255, 255], y


def test_unhinted_regions_are_white_or_from_the_model():
    drawing = as_drawing(rectangle(blank(64), x0=8, y0=8, x1=56, y1=56))
    plain = colorize(drawing, empty_hints(width=64, height=64))
    assert (plain.flats == 255).all()
    seen = {}

    def model(image, regions, hinted):
        seen["args"] = (image.shape, regions.shape, hinted)
        return {rid: (1, 2, 3) for rid in range(1, regions.max() + 1)}

    hints = hints_from_json({"points": [{"x": 2, "y": 2, "color": "#ff0000"}]}, width=64, height=64)
    result = colorize(drawing, hints, fill_unhinted=model)
    assert tuple(result.flats[32, 32]) == (1, 2, 3) and tuple(result.flats[2, 2]) == (255, 0, 0)
    assert seen["args"][2] == {int(result.regions[2, 2]): (255, 0, 0)}


def test_the_model_is_not_run_when_every_region_is_hinted():
    drawing = as_drawing(rectangle(blank(64), x0=8, y0=8, x1=56, y1=56))
    calls = []

    def model(image, regions, hinted):
        calls.append(len(hinted))
        return {}

    inside = {"x": 32, "y": 32, "color": "#00ff00"}
    outside = {"x": 2, "y": 2, "color": "#ff0000"}
    both = hints_from_json({"points": [inside, outside]}, width=64, height=64)
    result = colorize(drawing, both, fill_unhinted=model)
    assert calls == [] and int(result.regions.max()) == 2  # both regions hinted: nothing for the model
    colorize(drawing, hints_from_json({"points": [outside]}, width=64, height=64), fill_unhinted=model)
    assert calls == [1]  # one region left to it


def test_hints_of_another_size_are_bad_prompt():
    with pytest.raises(BadPrompt, match="64x64"):
        colorize(as_drawing(blank(64)), empty_hints(width=32, height=32))


def test_outputs_have_the_documented_shapes_and_timings():
    result = colorize(boxes(3), empty_hints(width=96, height=96))
    assert result.colored.shape == (96, 96, 3) and result.flats.shape == (96, 96, 3)
    assert result.lines.shape == (96, 96, 4) and result.regions.dtype == np.int32
    assert set(result.timings) == {"lines", "regions", "fill", "proof"}
    assert (result.lines[..., 3][result.regions > 0] == 0).all()


def test_real_drawings_hinted_at_true_points_are_exact(data_dir):
    items = [i for i in json.loads((data_dir / "index.json").read_text())["items"] if i["split"] == "test"]
    for item in items[:6]:
        drawing = decode_image((data_dir / "test" / f"{item['name']}_line.png").read_bytes())
        prompt = {"points": region_points(item["regions"])}
        result = colorize(drawing, hints_from_json(prompt, width=512, height=512))
        assert result.proof["hint_adherence"] == 1.0
        assert result.proof["hinted_regions"] == len(result.hinted) > 0
        # the line layer over the flats looks like the drawing wherever the drawing has a solid line
        solid = drawing[..., 0] < 40
        assert (result.colored[solid].astype(int).max(axis=1) < 90).mean() > 0.95


@pytest.mark.parametrize(
    ("ink", "trace_lines"),
    [((130, 50, 170), None), ((140, 70, 20), None), ((40, 90, 220), False)],
    ids=["purple", "sepia", "blue-with-trace-lines-off"],
)
def test_colored_line_bounds_a_region_and_keeps_its_color(ink, trace_lines):
    # a colored ink line: not near a trace color's hue, too dark, or trace lines turned off by the prompt
    paper = np.full((64, 64, 3), 255, np.uint8)
    cv2.rectangle(paper, (10, 10), (50, 50), ink, 2, lineType=cv2.LINE_AA)
    hints = hints_from_json({"points": [{"x": 30, "y": 30, "color": "#fcea2b"}]}, width=64, height=64)
    result = colorize(cv2.cvtColor(paper, cv2.COLOR_RGB2RGBA), hints, trace_lines=trace_lines)
    assert tuple(result.flats[30, 30]) == (252, 234, 43) and tuple(result.flats[2, 2]) == (255, 255, 255)
    solid = result.lines[..., 3] == 255
    assert solid.any() and (np.abs(result.lines[solid][:, :3].astype(int) - ink).max() <= 3)
    assert result.trace_json()["pixels"] == 0


def test_the_paper_around_the_drawing_stays_paper_unless_hinted_and_is_transparent_in_flats():
    drawing = as_drawing(rectangle(blank(64), x0=8, y0=8, x1=56, y1=56))

    def model(image, regions, hinted):  # a model that would paint everything beige
        return {rid: (230, 210, 180) for rid in range(1, regions.max() + 1)}

    result = colorize(drawing, empty_hints(width=64, height=64), fill_unhinted=model)
    outside, inside = int(result.regions[2, 2]), int(result.regions[32, 32])
    assert result.outside == {outside}
    assert tuple(result.flats[2, 2]) == (255, 255, 255) and tuple(result.flats[32, 32]) == (230, 210, 180)
    rgba = result.flats_rgba()
    assert rgba.shape == (64, 64, 4) and rgba[2, 2, 3] == 0 and rgba[32, 32, 3] == 255
    assert (rgba[..., 3][result.regions == outside] == 0).all()
    blue = hints_from_json({"points": [{"x": 2, "y": 2, "color": "#3c6fd2"}]}, width=64, height=64)
    hinted = colorize(drawing, blue, fill_unhinted=model)
    assert tuple(hinted.flats[2, 2]) == (0x3C, 0x6F, 0xD2) and hinted.flats_rgba()[2, 2, 3] == 255
    assert inside not in hinted.outside


def test_a_hint_in_the_middle_of_another_part_is_no_leak_and_cuts_nothing():
    grey = cv2.circle(blank(96), (48, 48), 40, 0, 2)  # an orange slice whose spokes are color only
    rim = [
        (48 + int(30 * np.cos(a)), 48 + int(30 * np.sin(a)))
        for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ]
    points = [{"x": x, "y": y, "color": "#f1b31c"} for x, y in rim] + [{"x": 48, "y": 48, "color": "#e27022"}]
    result = colorize(as_drawing(grey), hints_from_json({"points": points}, width=96, height=96))
    (conflict,) = result.conflicts  # reported, but the disc stays one region: no neck between the hints
    assert result.proof["regions_cut"] == 0 and conflict["chosen"] == "#f1b31c"
    assert tuple(result.flats[48, 48]) == (0xF1, 0xB3, 0x1C)
