"""Gaps, not passages: line ends close, passages between unbroken lines stay open, results say where."""

import cv2
import numpy as np
from synthetic_drawings import as_drawing, blank, rectangle

from pipeline import colorize, extract_lines, hints_from_json
from pipeline.regions import find_regions_and_gaps


def regions_and_gaps(grey: np.ndarray, **kw):
    return find_regions_and_gaps(extract_lines(as_drawing(grey)).mask, **kw)


def pinched(width: int) -> np.ndarray:
    """A closed box whose inside is pinched to a `width` px passage by two wide ink bulges, no gap."""
    grey = blank(128)
    cv2.rectangle(grey, (10, 10), (117, 117), 0, 3)
    cv2.circle(grey, (64, 10), 50, 0, -1)  # a wide bulge from the top wall...
    cv2.circle(grey, (64, 117), 56 - width, 0, -1)  # ...and one from the bottom, `width` px below it
    return grey


def test_a_pinched_region_stays_one_region():
    for width in (2, 3, 4, 5):
        grey = pinched(width)
        column = grey[:, 64] == 255
        assert 2 <= int(column[11:117].sum()) <= 5, "the passage is as narrow as intended"
        regions, gaps = regions_and_gaps(grey, gap_px=5)
        left, right = regions[64, 20], regions[64, 108]
        assert left > 0 and left == right, f"a {width} px passage cut the region"
        assert gaps == []


def test_a_narrow_passage_between_two_parallel_lines_stays_open():
    grey = blank(128)
    cv2.rectangle(grey, (4, 4), (123, 123), 0, 2)
    cv2.line(grey, (4, 62), (123, 62), 0, 2)  # two unbroken lines 3 px apart, a passage
    cv2.line(grey, (30, 67), (97, 67), 0, 2)
    regions, _ = regions_and_gaps(grey, gap_px=3)
    assert regions[64, 64] == regions[100, 64]


def test_a_gap_between_two_line_ends_closes_and_is_reported():
    grey = rectangle(blank(96), x0=20, y0=20, x1=70, y1=70, thickness=2, gap=3)
    regions, gaps = regions_and_gaps(grey, gap_px=3)
    assert regions[45, 45] != regions[2, 2] and min(regions[45, 45], regions[2, 2]) > 0
    assert len(gaps) == 1 and gaps[0].length <= 6
    closed = rectangle(blank(96), x0=20, y0=20, x1=70, y1=70, thickness=2)
    ys, xs = np.nonzero(grey != closed)  # where the gap is
    assert abs(gaps[0].x - xs.mean()) < 6 and abs(gaps[0].y - ys.mean()) < 6


def test_an_open_neckline_stopping_short_of_the_shoulder_closes():
    grey = blank(128)
    cv2.ellipse(grey, (64, 128), (50, 40), 0, 180, 360, 0, 2)  # shoulders
    for x in (40, 88):  # neck lines stop 3 px short of the shoulder line below them
        shoulder = int(np.flatnonzero(grey[:, x] == 0).min())
        cv2.line(grey, (x, 20), (x, shoulder - 5), 0, 2)
        assert int((grey[shoulder - 3 : shoulder, x] == 255).sum()) == 3
    cv2.line(grey, (40, 20), (88, 20), 0, 2)
    regions, gaps = regions_and_gaps(grey, gap_px=4)
    neck, outside, body = regions[50, 64], regions[50, 10], regions[120, 64]
    assert len({neck, outside, body}) == 3 and min(neck, outside, body) > 0
    assert len(gaps) == 2


def test_a_stroke_ending_in_the_open_closes_nothing():
    grey = rectangle(blank(96), x0=10, y0=10, x1=86, y1=86, thickness=2)
    cv2.line(grey, (30, 48), (60, 48), 0, 2)  # a stroke inside, far from everything
    regions, gaps = regions_and_gaps(grey, gap_px=3)
    assert regions[40, 45] == regions[56, 45] and gaps == []


def test_colorize_reports_gaps_in_its_result():
    grey = rectangle(blank(96), x0=20, y0=20, x1=70, y1=70, thickness=2, gap=2)
    hints = hints_from_json({"points": [{"x": 45, "y": 45, "color": "#d23c3c"}]}, width=96, height=96)
    result = colorize(as_drawing(grey), hints)
    assert result.gaps_json()["count"] == 1
    assert tuple(result.flats[2, 2]) == (255, 255, 255)  # the fill was stopped at the gap
