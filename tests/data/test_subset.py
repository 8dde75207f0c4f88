"""The committed OpenMoji subset is an exact copy of part of the shared data set (needs the whole set)."""

from __future__ import annotations

import json


def test_subset_files_and_items_match_the_data_set(data_dir, full_data_dir):
    subset = json.loads((data_dir / "index.json").read_text())
    full = {it["name"]: it for it in json.loads((full_data_dir / "index.json").read_text())["items"]}
    assert subset["license"] == json.loads((full_data_dir / "index.json").read_text())["license"]
    assert len(subset["items"]) >= 20
    for item in subset["items"]:
        assert item == full[item["name"]], item["name"]
    files = sorted(p for p in data_dir.glob("*/*.png"))
    assert files
    for path in files:
        assert path.read_bytes() == (full_data_dir / path.parent.name / path.name).read_bytes(), path.name
    assert (data_dir / "OPENMOJI_LICENSE.txt").read_bytes() == (
        full_data_dir / "OPENMOJI_LICENSE.txt"
    ).read_bytes()
