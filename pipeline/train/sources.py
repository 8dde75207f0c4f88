"""Real art sources beside OpenMoji: Iconify JSON sets from npm, built into the OpenMoji paired format.

    python -m pipeline.train.sources --out ~/.cache/tint/sources [--only NAME] [--limit N]

Each set becomes `<out>/<source>/` in exactly the format of ../shared/data/openmoji (its README):
index.json, `{split}/{name}_{line,color,flat,regions}.png`, skipped.json, and LICENSE.txt with the
licence and attribution. These sets have no line layer, so the line art is derived from the flat colors
(`pipeline.train.contours`). The split is "train" (256 px) when sha1(base name) % 100 < 80, else "test"
(512 px); skin-tone variants share their base name, so the same emoji is in one split in every source.
Icons are taken in a seeded order (sha1 of seed/source/name) until `limit` are kept, so a build is
deterministic and the whole set of sources takes a few minutes on 2 cores.

Licences (read from each package's info.json and package.json at build time; a set leaves the build,
logged, unless its SPDX id is on the allow list below and both files agree):

| source | npm version | art | licence | decision |
|---|---|---|---|---|
| fluent-emoji-flat | 1.2.6 | Microsoft Corporation | MIT | used |
| noto | 1.2.9 | Google Inc | Apache-2.0 | used |
| emojione | 1.2.3 | Emoji One (2.3.0) | CC-BY-4.0 | used, with attribution |
| fxemoji | 1.2.2 | Mozilla | Apache-2.0 | used |
| streamline-emojis | 1.2.4 | Streamline | CC-BY-4.0 | used, with attribution |
| flat-color-icons | 1.2.3 | Icons8 | MIT | used |
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import BadInput, NotFound, TintError
from pipeline.train.contours import derive_drawing, region_table

__all__ = [
    "SOURCES",
    "DEFAULT_OUT",
    "licence_problem",
    "base_name",
    "split_of",
    "svg_problem",
    "draw_icon",
    "build_source",
    "npm_pack",
    "write_contact_sheet",
    "main",
]

SOURCES = {  # npm package @iconify-json/<name>, pinned
    "fluent-emoji-flat": "1.2.6",
    "noto": "1.2.9",
    "emojione": "1.2.3",
    "fxemoji": "1.2.2",
    "streamline-emojis": "1.2.4",
    "flat-color-icons": "1.2.3",
}
ALLOWED_LICENCES = set("MIT Apache-2.0 ISC CC0-1.0 CC-BY-3.0 CC-BY-4.0 CC-BY-SA-4.0 OFL-1.1".split())
DEFAULT_OUT = Path("~/.cache/tint/sources").expanduser()
SIZES = {"train": 256, "test": 512}
FILL = 0.88  # the drawing's longer side fills 88% of the canvas, as in the OpenMoji set
MAX_ZOOM = 1.5  # never zoom in more than 1.5x the icon's own box
MIN_REGIONS, MAX_REGIONS = 3, 60
BATCH = 64  # icons sent to the pool at a time; the build stops within a batch of the limit
MIN_ART = 0.08  # skip drawings whose art covers less of the canvas than this ("mostly empty")
PAINT_SERVERS = re.compile(r"<(linearGradient|radialGradient|pattern|filter|image)\b")
TONE = re.compile(r"-(light|medium-light|medium|medium-dark|dark)(-skin-tone)?$")
MIT_TEXT = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""


def licence_problem(spdx: str, *, package_licence: str) -> str | None:
    """Why a set may not be used for training and evaluation with attribution, or None when it may."""
    if spdx != package_licence:
        return f"info.json says {spdx!r} but package.json says {package_licence!r}; check the terms by hand"
    if {"NC", "ND"} & set(spdx.upper().split("-")):
        return f"licence {spdx} forbids commercial use or derivatives"
    if spdx not in ALLOWED_LICENCES:
        return f"licence {spdx!r} is not on the allow list {sorted(ALLOWED_LICENCES)}; review it by hand"
    return None


def base_name(name: str) -> str:
    """The icon name without a skin-tone suffix ('waving-hand-medium-dark' -> 'waving-hand')."""
    return TONE.sub("", name)


def split_of(name: str) -> str:
    """'train' for 80% of base names, else 'test', by SHA-1 (as the OpenMoji set splits)."""
    return "train" if int(hashlib.sha1(base_name(name).encode()).hexdigest(), 16) % 100 < 80 else "test"


def svg_problem(icon: dict) -> str | None:
    """Why an icon is left out before rendering (deprecated, or paint the flats cannot hold), or None."""
    if icon.get("hidden"):
        return "hidden"
    found = PAINT_SERVERS.search(icon["body"])
    return f"uses <{found.group(1)}>" if found else None


def _svg(icon: dict, *, viewbox: str, crisp: bool) -> bytes:
    extra = ' shape-rendering="crispEdges"' if crisp else ""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="{viewbox}"{extra}>{icon["body"]}</svg>'
    ).encode()


def _render(svg: bytes, size: int, *, background: str | None = None) -> np.ndarray:
    """(size, size, 4) uint8 RGBA, read straight from cairo's pixels (no PNG round trip)."""
    from cairosvg.parser import Tree  # optional dependency (the `data` extra); only the build needs it
    from cairosvg.surface import PNGSurface

    surface = PNGSurface(
        Tree(bytestring=svg), None, 96, output_width=size, output_height=size, background_color=background
    )
    surface.cairo.flush()
    pixels = np.frombuffer(surface.cairo.get_data(), np.uint8).reshape(size, -1, 4)[:, :size]
    # cairo's ARGB32 is one native-endian word per pixel, premultiplied by alpha
    bgra = [2, 1, 0, 3] if sys.byteorder == "little" else [1, 2, 3, 0]
    premultiplied = pixels[..., bgra].astype(np.float32)
    alpha = premultiplied[..., 3:]
    rgb = np.where(alpha > 0, premultiplied[..., :3] * 255.0 / np.maximum(alpha, 1.0), 0.0)
    return np.round(np.concatenate([rgb, alpha], axis=-1)).clip(0, 255).astype(np.uint8)


def _fit_viewbox(icon: dict) -> str | None:
    """Square viewBox centred on the drawn art, whose longer side fills FILL of it; None if nothing shows."""
    left, top, w, h = icon["left"], icon["top"], icon["width"], icon["height"]
    side = max(w, h)
    probe = 256
    alpha = _render(_svg(icon, viewbox=f"{left} {top} {side} {side}", crisp=False), probe)[..., 3]
    ys, xs = np.nonzero(alpha)
    if len(xs) == 0:
        return None
    unit = side / probe
    x0, x1 = left + xs.min() * unit, left + (xs.max() + 1) * unit
    y0, y1 = top + ys.min() * unit, top + (ys.max() + 1) * unit
    fit = max(max(x1 - x0, y1 - y0) / FILL, side / MAX_ZOOM)
    return f"{(x0 + x1 - fit) / 2:.4f} {(y0 + y1 - fit) / 2:.4f} {fit:.4f} {fit:.4f}"


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _palette_png(palette: np.ndarray, index: np.ndarray) -> bytes:
    """The flats as an 8-bit palette PNG (mode P), like the OpenMoji set's."""
    image = Image.fromarray(index.astype(np.uint8), "P")
    image.putpalette(palette.ravel().tolist())
    return _png(image)


def draw_icon(name: str, icon: dict) -> dict:
    """One icon as a drawing: {"item": index entry, "files": {kind: PNG bytes}} or {"skip": (kind, why)}."""
    split = split_of(name)
    size = SIZES[split]
    viewbox = _fit_viewbox(icon)
    if viewbox is None:
        return {"skip": ("mostly_empty", "draws nothing")}
    flat_rgba = _render(_svg(icon, viewbox=viewbox, crisp=True), size)
    art = float((flat_rgba[..., 3] > 0).mean())
    if art < MIN_ART:
        return {"skip": ("mostly_empty", f"art covers {art:.1%} of the canvas")}
    drawn = derive_drawing(flat_rgba, line_px=max(2.0, size / 170), ink_radius=round(size / 85))
    if len(drawn.palette) > 256:
        return {"skip": ("flat_colors", f"{len(drawn.palette)} flat colors, more than a palette PNG holds")}
    count = int(drawn.regions.max())
    if not MIN_REGIONS <= count <= MAX_REGIONS:
        return {"skip": ("region_count", f"{count} regions, not {MIN_REGIONS}..{MAX_REGIONS}")}
    color = _render(_svg(icon, viewbox=viewbox, crisp=False), size, background="white")[..., :3]
    item = {
        "name": name,
        "base_name": base_name(name),
        "split": split,
        "size": size,
        "viewbox": viewbox,
        "fill_colors": sorted({f"#{r:02x}{g:02x}{b:02x}" for r, g, b in drawn.palette.tolist()}),
        "regions": region_table(drawn.regions, index=drawn.index, palette=drawn.palette),
    }
    files = {
        "line": _png(Image.fromarray(drawn.line, "L")),
        "color": _png(Image.fromarray(np.ascontiguousarray(color), "RGB")),
        "flat": _palette_png(drawn.palette, drawn.index),
        "regions": _png(Image.fromarray(drawn.regions.astype(np.uint16))),
    }
    return {"item": item, "files": files}


def _draw_job(job: tuple[str, dict]) -> dict:
    name, icon = job
    try:
        return draw_icon(name, icon)
    except Exception as exc:  # one broken icon must not stop the build; it is logged in skipped.json
        return {"skip": ("error", repr(exc))}


def _drawn_in_order(names: list[str], *, icons: dict, pool: Pool | None) -> Iterator[tuple[str, dict]]:
    """(name, draw_icon result) in the order given; the pool gets a batch at a time, so a consumer that
    stops early wastes at most one batch, and what it keeps never depends on timing."""
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        ready = [(name, icons[name]) for name in batch if svg_problem(icons[name]) is None]
        results = iter(pool.map(_draw_job, ready, chunksize=4) if pool else map(_draw_job, ready))
        for name in batch:
            problem = svg_problem(icons[name])
            kind = "hidden" if problem == "hidden" else "paint_server"
            yield name, ({"skip": (kind, problem)} if problem else next(results))


def npm_pack(spec: str, *, workdir: Path) -> Path:
    """`npm pack` the package `spec` (name@version) into workdir; the tarball's path."""
    done = subprocess.run(["npm", "pack", "--silent", spec], cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        raise NotFound(
            f"`npm pack {spec}` failed: {done.stderr.strip()[-300:]}. Check that npm can reach its registry."
        )
    return workdir / done.stdout.strip().splitlines()[-1]


def _fetch(source: str, *, workdir: Path) -> Path:
    """Unpack the pinned npm package of `source` into workdir; its folder."""
    with tarfile.open(npm_pack(f"@iconify-json/{source}@{SOURCES[source]}", workdir=workdir)) as tar:
        tar.extractall(workdir / source, filter="data")
    return workdir / source / "package"


def _licence_line(licence: dict) -> str:
    """'CC BY 4.0 (CC-BY-4.0) https://...' from an Iconify info.license."""
    return f"{licence.get('title', licence['spdx'])} ({licence['spdx']}) {licence.get('url', '')}".strip()


def _licence_text(info: dict, *, source: str, version: str) -> str:
    licence, author = info["license"], info.get("author", {})
    lines = [
        f"{info.get('name', source)}, icon set {info.get('version', '')} by {author.get('name', '?')}"
        f" ({author.get('url', '')}), from the npm package @iconify-json/{source}@{version}.",
        f"Licence: {_licence_line(licence)}",
        "",
        "The images in this folder are adaptations of that art: re-rendered, centred, split into flat",
        "colors, with a line drawing derived from the color boundaries (pipeline/train/contours.py)",
        "and labelled regions. Use them with the attribution above, under the terms of that licence.",
    ]
    if licence["spdx"] == "MIT":
        lines += ["", f"Copyright (c) {author.get('name', '?')}", "", MIT_TEXT]
    return "\n".join(lines) + "\n"


def _disk_bytes(folder: Path) -> int:
    """Space the folder's files take on disk, in 4 KiB blocks (as `du` counts them)."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in folder.rglob("*") if p.is_file())


def build_source(
    source: str, *, package: Path, out: Path, limit: int, seed: int = 0, pool: Pool | None = None
) -> dict:
    """Build `<out>/<source>/` from an unpacked Iconify JSON package; its summary row.

    A set whose licence forbids this use is left out (the row says why). Without a pool it runs inline."""
    data = json.loads((package / "icons.json").read_text())
    info = data.get("info") or json.loads((package / "info.json").read_text())
    meta = json.loads((package / "package.json").read_text())
    spdx = info["license"]["spdx"]
    row = {"source": source, "version": meta["version"], "licence": spdx}
    problem = licence_problem(spdx, package_licence=meta.get("license", ""))
    if problem:
        print(f"{source}: left out: {problem}", file=sys.stderr)
        return {**row, "left_out": problem}
    defaults = {
        key: data.get(key, 16 if key in ("width", "height") else 0)
        for key in ("left", "top", "width", "height")
    }
    icons = {name: {**defaults, **icon} for name, icon in data["icons"].items()}  # aliases are not in "icons"
    order = sorted(icons, key=lambda n: hashlib.sha1(f"{seed}/{source}/{n}".encode()).hexdigest())
    folder = out / source
    for split in SIZES:
        (folder / split).mkdir(parents=True, exist_ok=True)
        for old in (folder / split).glob("*.png"):
            old.unlink()
    items: list[dict] = []
    skipped: dict[str, dict[str, str]] = {}
    read = 0
    for name, result in _drawn_in_order(order, icons=icons, pool=pool):
        if len(items) >= limit:
            break
        read += 1
        if "skip" in result:
            kind, why = result["skip"]
            skipped.setdefault(kind, {})[name] = why
            continue
        items.append(result["item"])
        for kind, png in result["files"].items():
            (folder / result["item"]["split"] / f"{name}_{kind}.png").write_bytes(png)
        if read % BATCH == 0:
            print(f"\r  {source}: {read}/{len(order)} read, {len(items)} kept", end="", file=sys.stderr)
    print(f"\r  {source}: {read}/{len(order)} read, {len(items)} kept", file=sys.stderr)
    author = info.get("author", {})
    attribution = f"{info.get('name', source)} by {author.get('name', '?')} ({author.get('url', '')})"
    index = {
        "license": _licence_line(info["license"]),
        "attribution": attribution,
        "source": f"@iconify-json/{source} {meta['version']} (npm)",
        "lines": "derived from flat color boundaries (pipeline/train/contours.py); no artist lines",
        "files": "{split}/{name}_{line|color|flat|regions}.png",
        "items": sorted(items, key=lambda it: it["name"]),
    }
    (folder / "index.json").write_text(json.dumps(index, separators=(",", ":")))
    (folder / "skipped.json").write_text(json.dumps(skipped, indent=0, sort_keys=True))
    (folder / "LICENSE.txt").write_text(_licence_text(info, source=source, version=meta["version"]))
    splits = Counter(it["split"] for it in items)
    return {
        **row,
        "icons": len(icons),
        "read": read,
        "kept": len(items),
        "train": splits["train"],
        "test": splits["test"],
        "skipped": {kind: len(names) for kind, names in sorted(skipped.items())},
        "disk_mb": round(_disk_bytes(folder) / 1e6, 1),
    }


def write_contact_sheet(out: Path, *, sources: list[str], per_source: int = 4, tile: int = 128) -> Path:
    """`<out>/contact_sheet.png`: a row per source of test drawings, each as color | line | flat | regions."""
    from PIL import ImageDraw

    head, pad = 14, 4
    sheet = Image.new(
        "RGB", (per_source * (4 * tile + pad) + pad, len(sources) * (tile + head + pad)), "white"
    )
    pen = ImageDraw.Draw(sheet)
    hues = np.random.default_rng(12345).integers(60, 256, size=(65536, 3), dtype=np.uint8)
    hues[0] = 0  # line pixels black
    for row, source in enumerate(sources):
        items = json.loads((out / source / "index.json").read_text())["items"]
        tests = [it for it in items if it["split"] == "test"]
        for col, item in enumerate(tests[:: max(1, len(tests) // per_source)][:per_source]):
            x, y = pad + col * (4 * tile + pad), row * (tile + head + pad)
            base = out / source / "test" / item["name"]
            tiles = [Image.open(f"{base}_{kind}.png").convert("RGB") for kind in ("color", "line", "flat")]
            tiles.append(
                Image.fromarray(hues[np.asarray(Image.open(f"{base}_regions.png")).astype(np.int64)])
            )
            for k, image in enumerate(tiles):
                fit = image.resize((tile, tile), Image.LANCZOS if k < 2 else Image.NEAREST)
                sheet.paste(fit, (x + k * tile, y + head))
            pen.text((x, y + 1), f"{source}: {item['name'][:40]} ({len(item['regions'])} regions)", fill=0)
    path = out / "contact_sheet.png"
    sheet.save(path)
    return path


def _print_table(rows: list[dict]) -> None:
    keys = ("icons", "read", "kept", "train", "test", "disk_mb", "seconds")
    print(f"{'source':<18} {'version':<8} {'licence':<11}" + "".join(f"{k:>8}" for k in keys) + "  skipped")
    for r in rows:
        cells = f" left out: {r['left_out']}" if "left_out" in r else "".join(f"{r[k]:>8}" for k in keys)
        print(f"{r['source']:<18} {r['version']:<8} {r['licence']:<11}{cells}  {r.get('skipped', '')}")


def main(argv: list[str] | None = None) -> int:
    """The command: build every source (or --only one), then summary.json, the contact sheet and a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--only", choices=sorted(SOURCES), help="build this source alone")
    parser.add_argument("--limit", type=int, default=800, help="drawings kept per source (default 800)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample order (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    try:
        if args.limit < 1:
            raise BadInput(f"--limit {args.limit} keeps nothing; pass a count of 1 or more.")
        out = args.out.expanduser()
        rows = []
        with tempfile.TemporaryDirectory(prefix="tint-sources-") as tmp, Pool(args.workers) as pool:
            for source in [args.only] if args.only else list(SOURCES):
                started = time.monotonic()
                package = _fetch(source, workdir=Path(tmp))
                row = build_source(
                    source, package=package, out=out, limit=args.limit, seed=args.seed, pool=pool
                )
                rows.append({**row, "seconds": round(time.monotonic() - started, 1)})
        summary = out / "summary.json"  # a build of one source keeps the others' rows
        known = {r["source"]: r for r in json.loads(summary.read_text())} if summary.exists() else {}
        rows = list({**known, **{r["source"]: r for r in rows}}.values())
        summary.write_text(json.dumps(rows, indent=1))
        write_contact_sheet(out, sources=[r["source"] for r in rows if "left_out" not in r])
    except TintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
