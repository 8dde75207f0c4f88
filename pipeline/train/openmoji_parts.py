"""Real part labels for the OpenMoji drawings: skin and hair masks from the source SVGs' named groups.

    python -m pipeline.train.openmoji_parts --out ~/.cache/tint/openmoji-parts [--limit N]

OpenMoji's SVGs (npm `openmoji` 17.0.0, the package ../shared/data/openmoji/build.py reads) paint their
flat colors in top-level groups, some named `skin` and `hair`. Each group is rendered alone, aliased, on
the drawing's own canvas (its index.json `viewbox` and `size`, as build.py renders the flats), and the
groups are stacked in document order, so a pixel takes the part of the topmost group that covers it.
Writes `{split}/{name}_parts.png` (uint8: 0 other, 1 skin, 2 hair; the indices of `PART_NAMES`) for
each drawing with any skin or hair pixel, test split first, and index.json listing them with their pixel
counts. `skin-shadow` groups (shading, another color) count as other; two-tone `skin-a`/`skin-b` and
`hair-a`/`hair-b` count as skin and hair.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import BadInput, NotFound, TintError
from pipeline.train.sources import npm_pack

__all__ = [
    "VERSION",
    "PART_OF_GROUP",
    "DEFAULT_DATA",
    "DEFAULT_OUT",
    "render_group_alpha",
    "render_part_masks",
    "fetch_svgs",
    "main",
]

VERSION = "17.0.0"
NS = "http://www.w3.org/2000/svg"
LINE_IDS = frozenset({"line", "line-supplement"})  # the artists' lines: never part of the flats
PART_OF_GROUP = {"skin": 1, "skin-a": 1, "skin-b": 1, "hair": 2, "hair-a": 2, "hair-b": 2}
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "openmoji"
DEFAULT_OUT = Path("~/.cache/tint/openmoji-parts").expanduser()

ET.register_namespace("", NS)


def _render_alpha(svg: bytes, size: int) -> np.ndarray:
    """(size, size) uint8 alpha of an SVG rendered by cairo."""
    import cairosvg  # optional dependency (the `data` extra); only the build needs it

    png = cairosvg.svg2png(bytestring=svg, output_width=size, output_height=size)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3]


def _one_group(root: ET.Element, index: int, *, viewbox: str) -> bytes:
    """The SVG with only its index-th top-level child, aliased, on the given viewBox (as build.py does)."""
    svg = copy.deepcopy(root)
    for k, child in enumerate(list(svg)):
        if k != index:
            svg.remove(child)
    svg.set("shape-rendering", "crispEdges")
    svg.set("viewBox", viewbox)
    for name in ("width", "height"):
        svg.attrib.pop(name, None)
    return ET.tostring(svg)


def render_group_alpha(root: ET.Element, index: int, *, viewbox: str, size: int) -> np.ndarray:
    """(size, size) uint8 alpha of the SVG's index-th top-level group alone, aliased, on the drawing's canvas
    (also what `pipeline.train.trace_lines` renders shadow groups with)."""
    return _render_alpha(_one_group(root, index, viewbox=viewbox), size)


def render_part_masks(svg: bytes, *, viewbox: str, size: int) -> np.ndarray:
    """(size, size) uint8 part labels of an OpenMoji SVG: 0 other or empty, 1 skin, 2 hair.

    Each non-line top-level group is rendered alone; a later group covers an earlier one, as in the flats.
    """
    root = ET.fromstring(svg)
    parts = np.zeros((size, size), np.uint8)
    for k, child in enumerate(root):
        gid = child.get("id")
        if gid in LINE_IDS:
            continue
        covered = render_group_alpha(root, k, viewbox=viewbox, size=size) > 0
        parts[covered] = PART_OF_GROUP.get(gid, 0)
    return parts


def fetch_svgs(workdir: Path) -> Path:
    """Unpack `openmoji@VERSION` from npm into workdir; the folder of its color SVGs."""
    with tarfile.open(npm_pack(f"openmoji@{VERSION}", workdir=workdir)) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/color/svg/")]
        tar.extractall(workdir, members=members, filter="data")
    return workdir / "package" / "color" / "svg"


def _has_part_group(svg: bytes) -> bool:
    return any(child.get("id") in PART_OF_GROUP for child in ET.fromstring(svg))


def build(*, data: Path, svgs: Path, out: Path, limit: int | None) -> dict:
    """Write the parts maps and index.json; the index."""
    items = json.loads((data / "index.json").read_text())["items"]
    items = sorted(items, key=lambda it: it["split"] != "test")  # test first, order kept within a split
    rows, scanned = [], 0
    for item in items:
        if limit is not None and len(rows) >= limit:
            break
        scanned += 1
        svg = (svgs / f"{item['hexcode']}.svg").read_bytes()
        if not _has_part_group(svg):
            continue
        parts = render_part_masks(svg, viewbox=item["viewbox"], size=item["size"])
        skin, hair = int((parts == 1).sum()), int((parts == 2).sum())
        if skin + hair == 0:
            continue
        folder = out / item["split"]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(parts, "L").save(folder / f"{item['name']}_parts.png", optimize=True)
        rows.append(
            {"name": item["name"], "split": item["split"], "annotation": item["annotation"],
             "skin_px": skin, "hair_px": hair}
        )  # fmt: skip
    index = {
        "source": f"openmoji {VERSION} (npm), groups {sorted(PART_OF_GROUP)}",
        "license": "CC BY-SA 4.0, OpenMoji - the open-source emoji and icon project (https://openmoji.org)",
        "files": "{split}/{name}_parts.png: uint8, 0 other, 1 skin, 2 hair (indices of PART_NAMES)",
        "scanned": scanned,
        "items": rows,
    }
    (out / "index.json").write_text(json.dumps(index, indent=0))
    return index


def run_builder(
    argv: list[str] | None, *, description: str, default_out: Path, default_data: Path, build, what: str
) -> tuple[dict, Path, float] | None:
    """The data builders' one command line: --out, --data and --limit checked, the SVGs fetched into a
    temporary folder and `build(data=, svgs=, out=, limit=)` run; (index, out folder, seconds), or None
    after one error line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out", type=Path, default=default_out, help=f"output folder (default {default_out})"
    )
    parser.add_argument("--data", type=Path, default=default_data, help="the OpenMoji set (its index.json)")
    parser.add_argument("--limit", type=int, default=None, help=f"stop after this many {what} drawings")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.limit is not None and args.limit < 1:
            raise BadInput(f"--limit {args.limit} keeps nothing; pass a count of 1 or more.")
        if not (args.data / "index.json").exists():
            raise NotFound(f"no index.json in {args.data}; pass --data the OpenMoji set's folder.")
        out = args.out.expanduser()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tint-openmoji-svgs-") as tmp:
            index = build(data=args.data, svgs=fetch_svgs(Path(tmp)), out=out, limit=args.limit)
    except TintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return index, out, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """The command: fetch the package, write the labels, print one line of counts."""
    done = run_builder(
        argv,
        description=__doc__.splitlines()[0],
        default_out=DEFAULT_OUT,
        default_data=DEFAULT_DATA,
        build=build,
        what="labelled",
    )
    if done is None:
        return 1
    index, out, seconds = done
    by_split = {s: sum(r["split"] == s for r in index["items"]) for s in ("test", "train")}
    print(
        f"{len(index['items'])} labelled drawings of {index['scanned']} scanned "
        f"(test {by_split['test']}, train {by_split['train']}) in {out}, {seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
