"""The OpenMoji paired data set as the benches and tests read it: its items, and true regions as hints.

Imports nothing beyond the standard library, so the service-free benches can use it on a bare GPU machine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = [
    "DATA",
    "SUBSET",
    "items",
    "find_item",
    "region_points",
    "true_prompt",
    "hinted_points",
    "write_manifest",
]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openmoji"  # the whole set, beside the repo
SUBSET = Path(__file__).resolve().parents[1] / "tests" / "data" / "openmoji"  # committed, for the tests


def items(root: Path, *, split: str | None = None) -> list[dict]:
    """The index.json items of `root`, in index order; only `split`'s when given."""
    found = json.loads((Path(root) / "index.json").read_text())["items"]
    return [it for it in found if split is None or it["split"] == split]


def find_item(root: Path, name: str) -> dict:
    """One index.json item by name."""
    return next(it for it in items(root) if it["name"] == name)


def region_points(regions: list[dict]) -> list[dict]:
    """Hint points {"x", "y", "color"} at each region's point, in its true flat color."""
    return [{"x": r["point"][0], "y": r["point"][1], "color": r["color"]} for r in regions]


def true_prompt(item: dict) -> dict:
    """A prompt hinting every true region of the item at its point."""
    return {"points": region_points(item["regions"])}


def hinted_points(item: dict, fraction: float) -> dict:
    """{"points": [...]} for an evenly spread `fraction` of the item's regions (index.json order)."""
    chosen = [r for i, r in enumerate(item["regions"]) if int((i + 1) * fraction) > int(i * fraction)]
    return {"points": region_points(chosen)}


def write_manifest(root: Path, folder: Path, *, split: str, count: int, name: str) -> Path:
    """A batch manifest `folder/name.json` of `count` drawings of `split`, each hinted at every true region.

    The drawings cycle through the split when `count` exceeds it; each entry keeps a name of its own, so
    every job is still its own drawing row (equal line files share their asset)."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = items(root, split=split)
    drawings = []
    for i in range(count):
        it = chosen[i % len(chosen)]
        line = folder / f"{it['name']}.png"
        if not line.exists():
            shutil.copy(Path(root) / split / f"{it['name']}_line.png", line)
        drawings.append(
            {
                "line": line.name,
                "name": f"{i:05d}-{it['name']}",
                "character": it["annotation"],
                "view": "front",
                "hints": true_prompt(it),
            }
        )
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "drawings": drawings}))
    return path
