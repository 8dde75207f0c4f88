"""`tint demo`: the bundled sample characters through all three jobs, and an HTML contact sheet."""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

from db import queries
from studio import runner
from workers.context import Context
from workers.submit import submit_blockify, submit_manifest, submit_recolor

__all__ = ["samples_dir", "run_demo"]

IMAGE_FILES = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}
BLOCK_FILES = {"blocks": "blocks.png", "block_labels": "block_labels.png", "blocks_json": "blocks.json"}
RECOLOR_TO = "#3c6fd2"


def samples_dir() -> Path:
    """The folder of sample drawings shipped inside the package."""
    return Path(str(resources.files("studio") / "samples"))


def _pick_block(blocks: list[dict], width: int, height: int) -> dict:
    """The largest block that does not touch the image border (a part of the character, not background)."""
    inner = [
        b
        for b in blocks
        if b["bbox"][0] > 0 and b["bbox"][1] > 0 and b["bbox"][2] < width - 1 and b["bbox"][3] < height - 1
    ]
    return max(inner or blocks, key=lambda b: b["area"])


def _sheet(rows: list[dict], out: Path) -> Path:
    cells = []
    for row in rows:
        imgs = "".join(
            f'<figure><img src="{html.escape(src)}"><figcaption>{html.escape(cap)}</figcaption></figure>'
            for cap, src in row["images"]
        )
        cells.append(
            f"<section><h2>{html.escape(row['title'])}</h2><p>{html.escape(row['note'])}</p>{imgs}</section>"
        )
    page = (
        "<!doctype html><meta charset='utf-8'><title>Tint demo</title>"
        "<style>body{font:14px system-ui;margin:2em}figure{display:inline-block;margin:4px;text-align:center}"
        "img{width:192px;image-rendering:pixelated;border:1px solid #ccc;background:#fff}</style>"
        "<h1>Tint demo</h1><p>Sample drawings: OpenMoji, CC BY-SA 4.0 (see studio/samples/LICENSE.md).</p>"
        + "".join(cells)
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def run_demo(ctx: Context, out: Path) -> Path:
    """Colorize the samples as a batch, blockify each revision, recolor one block; returns the sheet path."""
    out.mkdir(parents=True, exist_ok=True)
    samples = samples_dir()
    batch_id = submit_manifest(ctx, samples / "manifest.yaml", submitted_by="tint demo")
    with ctx.sessions() as session:
        jobs = queries.batch_jobs(session, batch_id)
        names = {j.id: queries.get_drawing(session, j.drawing_id).character for j in jobs}
    done = runner.wait_jobs(ctx, [j.id for j in jobs], label=f"colorizing batch {batch_id}")
    rows, block_jobs = [], {}
    for job in done:
        runner.raise_if_failed(job, what=f"colorize of {names[job.id]!r}")
        block_jobs[job.id] = submit_blockify(ctx, revision_id=job.revision_id)
    blocked = dict(
        zip(block_jobs, runner.wait_jobs(ctx, list(block_jobs.values()), label="blockifying"), strict=True)
    )
    first = done[0]
    blocks_json = json.loads(ctx.storage.get(blocked[first.id].result["assets"]["blocks_json"]))
    with ctx.sessions() as session:
        line_sha = queries.get_drawing(session, first.drawing_id).line_sha
        asset = queries.get_asset(session, first.result["assets"]["colored"])
        width, height = asset.width, asset.height
    block = _pick_block(blocks_json, width, height)
    recolor_id = submit_recolor(
        ctx, revision_id=first.revision_id, edits={str(block["id"]): RECOLOR_TO}, at=[]
    )
    (recolored,) = runner.wait_jobs(ctx, [recolor_id], label="recoloring one block")
    runner.raise_if_failed(recolored, what="recolor")
    for job in done:
        folder = out / names[job.id]
        runner.write_assets(ctx, job.result["assets"], folder, IMAGE_FILES)
        runner.write_assets(ctx, blocked[job.id].result["assets"], folder, BLOCK_FILES)
        proof = job.result["proof"]
        rows.append(
            {
                "title": f"{names[job.id]} — revision {job.revision_id}",
                "note": (
                    f"{job.result['region_count']} regions, {blocked[job.id].result['block_count']} blocks, "
                    f"hint adherence {proof.get('hint_adherence', 1.0):.2%}, "
                    f"conflicts {len(job.result['conflicts'])}"
                ),
                "images": [
                    (cap, f"{names[job.id]}/{f}")
                    for cap, f in (
                        ("colored", "colored.png"),
                        ("flats", "flats.png"),
                        ("lines", "lines.png"),
                        ("blocks", "blocks.png"),
                    )
                ],
            }
        )
    (out / names[first.id] / "line.png").write_bytes(ctx.storage.get(line_sha))
    rows[0]["images"].insert(0, ("line drawing", f"{names[first.id]}/line.png"))
    recolor_dir = out / f"{names[first.id]}-recolored"
    runner.write_assets(ctx, recolored.result["assets"], recolor_dir, IMAGE_FILES)
    locality = recolored.result.get("locality", {})
    rows.append(
        {
            "title": f"{names[first.id]} — revision {recolored.revision_id}, recolor of {first.revision_id}",
            "note": f"block {block['id']} {block['color']} → {RECOLOR_TO}; unchanged outside the edit "
            f"{locality.get('unchanged_outside', 1.0):.2%}",
            "images": [
                ("before", f"{names[first.id]}/colored.png"),
                ("after", f"{recolor_dir.name}/colored.png"),
            ],
        }
    )
    runner.write_json(out / "summary.json", {"batch_id": batch_id, "rows": rows})
    return _sheet(rows, out)
