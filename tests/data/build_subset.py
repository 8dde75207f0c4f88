"""Rebuild tests/data/openmoji, the small OpenMoji subset the tests use, from ../shared/data/openmoji.

`python tests/data/build_subset.py` copies the drawings named below (line, flat and region map for the
named ones, the line alone for the batch filler, the colored picture only where a test needs one) and
writes an index.json of just their items, with the data set's licence and attribution, so the suite runs
on a clone with nothing beside it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "openmoji"
TARGET = Path(__file__).resolve().parent / "openmoji"
TEST = ("E008", "E010", "E011", "E08C", "E093", "E094", "E0A0", "1F301", "1F306", "1F307")
TRAIN_EXTRA = ("1F476", "1F600")  # baby and grinning face, named by tests
TRAIN_FIRST = 18  # the first train items in index order, for batches
WITH_COLOR = ("1F476",)  # reference-prompt tests need the colored picture


def main() -> int:
    if not (SOURCE / "index.json").exists():
        print(
            f"error: {SOURCE} has no index.json; this script copies from the shared data set.",
            file=sys.stderr,
        )
        return 1
    index = json.loads((SOURCE / "index.json").read_text())
    by_name = {it["name"]: it for it in index["items"]}
    train = [it["name"] for it in index["items"] if it["split"] == "train"][:TRAIN_FIRST]
    names = [*TEST, *TRAIN_EXTRA, *train]
    shutil.rmtree(TARGET, ignore_errors=True)
    for split in ("train", "test"):
        (TARGET / split).mkdir(parents=True)
    items = []
    for name in dict.fromkeys(names):
        item = by_name[name]
        kinds = ("line", "flat", "regions") if name in TEST or name in TRAIN_EXTRA else ("line",)
        kinds += ("color",) if name in WITH_COLOR else ()
        for kind in kinds:
            file = f"{item['split']}/{name}_{kind}.png"
            shutil.copyfile(SOURCE / file, TARGET / file)
        items.append(item)
    items.sort(key=lambda it: [i["name"] for i in index["items"]].index(it["name"]))
    subset = {k: v for k, v in index.items() if k != "items"} | {"items": items}
    (TARGET / "index.json").write_text(json.dumps(subset, indent=1) + "\n")
    shutil.copyfile(SOURCE / "OPENMOJI_LICENSE.txt", TARGET / "OPENMOJI_LICENSE.txt")
    (TARGET / "README.md").write_text(
        "# OpenMoji test subset\n\n"
        f"{len(items)} drawings of the OpenMoji paired line-art set (`../shared/data/openmoji`, made by\n"
        "its `build.py` from npm `openmoji` 17.0.0), same files and index format, for the tests. Rebuilt by\n"
        "`python tests/data/build_subset.py`.\n\n"
        "All emoji designed by OpenMoji - the open-source emoji and icon project (https://openmoji.org).\n"
        "License: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this derived subset is\n"
        "shared alike under CC BY-SA 4.0. See OPENMOJI_LICENSE.txt.\n"
    )
    print(f"{len(items)} drawings → {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
