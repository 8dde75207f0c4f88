"""Iconify sets into the OpenMoji paired format, offline: a fake package on disk stands in for npm."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.train.sources import build_source, draw_icon, licence_problem, split_of, svg_problem

SHAPES = (  # a red and a blue square that touch, a green disk apart: 4 regions with the paper
    '<path fill="#dc2828" d="M4 6h10v10H4z"/><path fill="#283cdc" d="M14 6h10v10H14z"/>'
    '<circle cx="14" cy="23" r="5" fill="#28b43c"/>'
)
GRADIENT = (
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/>'
    '</linearGradient></defs><path fill="url(#g)" d="M4 4h24v24H4z"/>'
)


def icon(body: str) -> dict:
    return {"body": body, "left": 0, "top": 0, "width": 32, "height": 32}


def fake_package(root: Path, *, spdx: str) -> Path:
    """An unpacked @iconify-json package with three drawable icons, a gradient one and an alias."""
    package = root / "package"
    package.mkdir(parents=True)
    icons = {"shapes": {"body": SHAPES}, "sunset": {"body": GRADIENT}}
    icons |= {
        f"shapes-{n}": {"body": SHAPES.replace("#28b43c", c)} for n, c in (("b", "#f0c020"), ("c", "#a040c0"))
    }
    data = {"prefix": "fake", "icons": icons, "aliases": {"shapes-alias": {"parent": "shapes"}}, "width": 32}
    (package / "icons.json").write_text(json.dumps({**data, "height": 32}))
    info = {"name": "Fake Set", "author": {"name": "Ann Artist", "url": "https://example.org"}}
    info["license"] = {"title": spdx, "spdx": spdx, "url": "https://example.org/licence"}
    (package / "info.json").write_text(json.dumps(info))
    (package / "package.json").write_text(
        json.dumps({"name": "@iconify-json/fake", "version": "1.0.0", "license": spdx})
    )
    return package


@pytest.mark.parametrize("spdx", ["CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0"])
def test_licence_filter_rejects_non_commercial_and_no_derivatives(spdx):
    assert "forbids" in licence_problem(spdx, package_licence=spdx)


@pytest.mark.parametrize("spdx", ["MIT", "Apache-2.0", "CC-BY-4.0"])
def test_licence_filter_accepts_attribution_licences(spdx):
    assert licence_problem(spdx, package_licence=spdx) is None


def test_licence_filter_rejects_unknown_or_disagreeing_terms():
    assert "allow list" in licence_problem("LicenseRef-custom", package_licence="LicenseRef-custom")
    assert "package.json" in licence_problem("MIT", package_licence="CC-BY-NC-4.0")


def test_gradient_icon_is_skipped():
    assert svg_problem(icon(GRADIENT)) == "uses <linearGradient>"
    assert svg_problem(icon(SHAPES)) is None
    assert svg_problem({**icon(SHAPES), "hidden": True}) == "hidden"


def test_skin_tone_variants_share_a_split():
    assert (
        split_of("waving-hand-medium-dark")
        == split_of("waving-hand")
        == split_of("waving-hand-light-skin-tone")
    )
    splits = [split_of(f"icon-{i}") for i in range(400)]
    assert 0.7 < splits.count("train") / len(splits) < 0.9


def test_drawn_icon_has_lines_between_its_shapes_and_points_inside_regions():
    drawn = draw_icon("shapes", icon(SHAPES))
    item, files = drawn["item"], drawn["files"]
    regions = np.asarray(Image.open(io.BytesIO(files["regions"]))).astype(np.int64)
    line = np.asarray(Image.open(io.BytesIO(files["line"])))
    flat = np.asarray(Image.open(io.BytesIO(files["flat"])).convert("RGB"))
    assert regions.shape == line.shape == (item["size"], item["size"])
    assert len(item["regions"]) == int(regions.max()) == 4
    assert np.array_equal(line < 128, regions == 0)
    colors = np.unique(flat.reshape(-1, 3), axis=0).tolist()
    assert {f"#{r:02x}{g:02x}{b:02x}" for r, g, b in colors} == set(item["fill_colors"])
    assert set(item["fill_colors"]) == {"#dc2828", "#283cdc", "#28b43c", "#ffffff"}
    for r in item["regions"]:
        x, y = r["point"]
        assert regions[y, x] == r["id"] and r["area"] == int((regions == r["id"]).sum())
    red = next(r for r in item["regions"] if r["color"] == "#dc2828")
    blue = next(r for r in item["regions"] if r["color"] == "#283cdc")
    (xr, yr), (xb, _) = red["point"], blue["point"]  # the squares share their rows
    assert (line[yr, xr:xb] < 128).any()  # a line parts the two squares that touch


def test_build_source_writes_the_paired_format(tmp_path):
    package = fake_package(tmp_path / "npm", spdx="CC-BY-4.0")
    row = build_source("fake", package=package, out=tmp_path / "out", limit=2)
    folder = tmp_path / "out" / "fake"
    index = json.loads((folder / "index.json").read_text())
    assert row["kept"] == len(index["items"]) == 2  # the limit stops the build; the alias is no icon
    assert "Ann Artist" in index["attribution"] and "CC-BY-4.0" in index["license"]
    assert "Ann Artist" in (folder / "LICENSE.txt").read_text()
    for item in index["items"]:
        base = folder / item["split"] / item["name"]
        modes = [Image.open(f"{base}_{kind}.png").mode for kind in ("line", "color", "flat", "regions")]
        assert modes[:3] == ["L", "RGB", "P"] and modes[3].startswith("I")


def test_gradient_icon_lands_in_skipped_json(tmp_path):
    package = fake_package(tmp_path / "npm", spdx="MIT")
    build_source("fake", package=package, out=tmp_path / "out", limit=10)
    skipped = json.loads((tmp_path / "out" / "fake" / "skipped.json").read_text())
    assert skipped == {"paint_server": {"sunset": "uses <linearGradient>"}}


def test_non_commercial_set_is_left_out(tmp_path):
    package = fake_package(tmp_path / "npm", spdx="CC-BY-NC-4.0")
    row = build_source("fake", package=package, out=tmp_path / "out", limit=10)
    assert "forbids" in row["left_out"]
    assert not (tmp_path / "out" / "fake").exists()
