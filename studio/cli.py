"""`tint`: the command line. Every command is a few lines that call into workers/ and db/.

File commands (colorize, blockify, recolor) submit a job like everything else and follow it to the end; a
job no live worker will run, they run themselves through the same task code (workers.runs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from db import queries
from db.models import JOB_STATES
from pipeline.errors import BadInput
from studio import failures, runner
from studio.export_cli import export_app
from studio.ops_cli import db_app, ops_app, token_app
from studio.propagate_cli import propagate_app
from studio.publish_cli import publish_app
from studio.recolor_cli import recolor_app
from studio.runner import console, context, friendly
from studio.train_cli import train_app

__all__ = ["app"]

app = typer.Typer(
    help="Tint: colorize line drawings, split them into color blocks, recolor blocks. "
    "Settings come from TINT_* environment variables (see README); with none set, everything runs "
    "locally under ./tint-data with no server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(train_app, name="train")
app.add_typer(ops_app)  # worker, reconcile, retry, serve: top-level commands
app.add_typer(publish_app)  # publish: a batch to Kitsu
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(export_app)  # export: a top-level command
app.add_typer(recolor_app)  # recolor: blocks or parts, one revision or a character
app.add_typer(propagate_app)  # propagate: a character's approved colors to its other drawings


@app.command()
@friendly
def colorize(
    line: Annotated[
        Path, typer.Argument(help="Line drawing (PNG/JPEG/WebP; lines on white or on transparency).")
    ],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Folder for colored/flats/lines/regions.png and result.json.")
    ],
    hints: Annotated[
        Path | None, typer.Option(help="Hint points/strokes as JSON, or a hint image (PNG).")
    ] = None,
    palette: Annotated[
        Path | None, typer.Option(help='Colors by part name as JSON: {"hair": "#5a3825", "eyes": "#2e7d32"}.')
    ] = None,
    reference: Annotated[
        Path | None, typer.Option(help="A colored picture of the same character (e.g. the previous frame).")
    ] = None,
    # hidden: flat is the only style; kept so `--style shaded` says why it is gone instead of "no such option"
    style: Annotated[str, typer.Option(hidden=True)] = "flat",
) -> None:
    """Colorize one line drawing: hinted regions take exactly their hint color, the model fills the rest."""
    from workers.submit import submit_colorize

    ctx = context()
    spec = runner.drawing_spec(line, hints=hints, palette=palette, reference=reference, style=style)
    job_id = submit_colorize(ctx, spec)
    (job,) = runner.wait_jobs(ctx, [job_id], label=f"colorizing {line.name}")
    runner.raise_if_failed(job, what=f"colorize of {line.name!r}")
    names = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}
    names["trace_lines"] = "trace_lines.png"  # only when the drawing has trace lines
    runner.write_assets(ctx, job.result["assets"], out, names)
    result = {
        "revision_id": job.revision_id,
        "job_id": job.id,
        "seconds_end_to_end": runner.job_seconds(job),
        **{k: v for k, v in job.result.items() if k != "assets"},
        "assets": job.result["assets"],
    }
    runner.write_json(out / "result.json", result)
    proof = job.result.get("proof", {})
    console.print(
        f"revision {job.revision_id}: {job.result['region_count']} regions, hint adherence "
        f"{proof.get('hint_adherence', 1.0):.2%} → {out}/"
    )


@app.command()
@friendly
def blockify(
    colored: Annotated[
        Path | None, typer.Argument(help="A colored image to split into flat color blocks.")
    ] = None,
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Folder for blocks.png, block_labels.png, blocks.json.")
    ] = Path("tint-out/blocks"),
    revision: Annotated[
        int | None, typer.Option(help="Blockify a revision instead (blocks follow its regions).")
    ] = None,
    by: Annotated[
        str, typer.Option(help="With --revision: blocks (one per region) or parts (one per part).")
    ] = "blocks",
) -> None:
    """Split a colored image (or a revision) into blocks, each filled with its mean color."""
    from workers.submit import submit_blockify

    if (colored is None) == (revision is None):
        raise BadInput("give either a COLORED image or --revision ID.")
    if by == "parts" and revision is None:
        raise BadInput("--by parts needs --revision ID: the revision's line drawing gives the parts.")
    if colored is not None and not colored.is_file():
        raise BadInput(f"image {str(colored)!r} does not exist.")
    ctx = context()
    if colored is not None:
        job_id = submit_blockify(ctx, image=colored.read_bytes(), name=colored.name)
    else:
        job_id = submit_blockify(ctx, revision_id=revision, by=by)
    (job,) = runner.wait_jobs(ctx, [job_id], label="blockifying")
    runner.raise_if_failed(job, what="blockify")
    names = {"blocks": "blocks.png", "block_labels": "block_labels.png", "blocks_json": "blocks.json"}
    runner.write_assets(ctx, job.result["assets"], out, names)
    console.print(f"{job.result['block_count']} blocks → {out}/")


@app.command()
@friendly
def rerun(revision_id: Annotated[int, typer.Argument(help="The revision to make again.")]) -> None:
    """Run a revision's job again from its recorded inputs and say whether the result is bit-identical."""
    from db.models import Revision
    from workers.submit import submit_rerun

    ctx = context()
    job_id = submit_rerun(ctx, revision_id)
    (job,) = runner.wait_jobs(ctx, [job_id], label=f"re-running revision {revision_id}")
    runner.raise_if_failed(job, what=f"rerun of revision {revision_id}")
    for note in (job.result or {}).get("notes", []):  # e.g. a revision made shaded, rerun flat
        console.print(f"note: {note}")
    with ctx.sessions() as session:
        old = session.get(Revision, revision_id)
        new = session.get(Revision, job.revision_id)
        same_models = old.model_versions == new.model_versions
        differing = sorted(role for role in old.assets if old.assets.get(role) != new.assets.get(role))
    recoded = runner.same_pixels(ctx, old.assets, new.assets, roles=differing)
    if differing and recoded == differing:  # e.g. a revision written before the PNG encoder changed
        console.print(
            f"revision {job.revision_id} has the same pixels as revision {revision_id} in every image; "
            f"the PNG bytes of {', '.join(differing)} differ (written by another PNG encoder)"
        )
        return
    if differing:
        console.print(
            f"revision {job.revision_id} differs from {revision_id} in: {', '.join(differing)}"
            f"{'' if same_models else ' (model versions differ)'}"
        )
        raise typer.Exit(2)
    console.print(
        f"revision {job.revision_id} is bit-identical to revision {revision_id} "
        f"({len(old.assets)} assets, same content hashes)"
    )


@app.command()
@friendly
def submit(
    manifest: Annotated[
        Path, typer.Argument(help="Batch manifest (YAML or JSON): drawings with line, character, hints.")
    ],
    by: Annotated[str, typer.Option(help="Who submits the batch.")] = "",
    wait: Annotated[
        bool, typer.Option(help="Wait for the batch, starting an in-process worker if none runs.")
    ] = False,
) -> None:
    """Submit a batch: rows first, then one queued job per drawing."""
    from workers.submit import submit_manifest

    ctx = context()
    batch_id = submit_manifest(ctx, manifest, submitted_by=by)
    console.print(f"batch {batch_id} submitted; `tint status {batch_id}` shows progress")
    if wait:
        with ctx.sessions() as session:
            job_ids = [j.id for j in queries.batch_jobs(session, batch_id)]
        runner.wait_jobs(ctx, job_ids, label=f"batch {batch_id}")
        status(batch_id)


@app.command()
@friendly
def status(
    batch: Annotated[int | None, typer.Argument(help="Batch id; all recent batches when left out.")] = None,
) -> None:
    """Job counts per state for a batch, and each failed job's error."""
    from rich.table import Table

    ctx = context()
    with ctx.sessions() as session:
        if batch is None:
            batches = queries.list_batches(session)
        else:
            found = queries.get_batch(session, batch, with_manifest=False)
            if found is None:
                raise BadInput(f"batch {batch} does not exist; `tint status` lists batches.")
            batches = [found]
        table = Table("batch", "name", *JOB_STATES)
        progress = queries.batches_progress(session, [b.id for b in batches])
        for b in batches:
            table.add_row(str(b.id), b.name, *(str(progress[b.id][s]) for s in JOB_STATES))
        console.print(table)
        if batch is not None:
            for job_id, name, error in queries.batch_failures(session, batch):
                console.print(f"job {job_id} ({name}) failed: {error}", highlight=False)


@app.command()
@friendly
def history(drawing: Annotated[int, typer.Argument(help="Drawing id.")]) -> None:
    """A drawing's prompt history and its revisions, each with its parent."""
    ctx = context()
    with ctx.sessions() as session:
        if queries.get_drawing(session, drawing) is None:
            raise BadInput(f"drawing {drawing} does not exist.")
        console.print(f"[bold]drawing {drawing}[/bold] prompts:")
        for p in queries.prompt_history(session, drawing):
            console.print(
                f"  prompt {p.id} ({p.kind}) parent={p.parent_prompt_id} {str(p.payload)[:80]}",
                highlight=False,
            )
        console.print("revisions:")
        for r in queries.drawing_revisions(session, drawing):
            console.print(
                f"  revision {r.id} ({r.kind}) parent={r.parent_revision_id} prompt={r.prompt_id} "
                f"{r.review_status} edits={r.edits or {}}",
                highlight=False,
            )


@app.command()
@friendly
def parts(
    line: Annotated[Path, typer.Argument(help="Line drawing to segment into parts.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for parts.png and parts.json.")] = Path(
        "tint-out/parts"
    ),
) -> None:
    """Which part (hair, skin, eyes, top…) each region is predicted as: why a palette color went where.

    Runs as a `parts` job, one per drawing's content: the same file again reads the finished job's result."""
    from rich.table import Table

    from workers.submit import submit_parts

    if not line.is_file():
        raise BadInput(f"line drawing {str(line)!r} does not exist.")
    ctx = context()
    job_id = submit_parts(ctx, image=line.read_bytes(), name=line.name)
    (job,) = runner.wait_jobs(ctx, [job_id], label=f"segmenting {line.name}")
    runner.raise_if_failed(job, what=f"parts of {line.name!r}")
    names = {"parts": "parts.png", "parts_pixels": "parts_pixels.png", "parts_json": "parts.json"}
    runner.write_assets(ctx, job.result["assets"], out, names)
    table = Table("part", "regions", "pixels")
    for row in job.result["parts"]:
        table.add_row(row["part"], ", ".join(map(str, row["regions"])), str(row["pixels"]))
    console.print(table)
    console.print(f"part map → {out}/parts.png")


@app.command()
@friendly
def report(
    batch: Annotated[int, typer.Argument(help="Batch id (`tint status` lists batches).")],
    threshold: Annotated[
        float, typer.Option(min=0, help="Flag a part this far (CIEDE2000) from its character's median.")
    ] = 10.0,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of a table.")
    ] = False,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Also write the rows as CSV here.")] = None,
) -> None:
    """Per character and part, the color each drawing got; flags parts that differ from the rest."""
    from studio.report import batch_report, report_csv, report_json, report_table, summary_lines

    result = batch_report(context(), batch, threshold=threshold)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report_csv(result), encoding="utf-8", newline="")
    if json_:
        print(json.dumps(report_json(result), indent=2))
        return
    console.print(report_table(result))
    for line in summary_lines(result) + ([f"rows → {out}"] if out else []):
        console.print(line, highlight=False, soft_wrap=True)


@app.command()
@friendly
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the demo's outputs.")] = Path(
        "tint-out/demo"
    ),
) -> None:
    """Colorize the bundled sample characters, blockify them, recolor one block, write a contact sheet."""
    from studio.demo import run_demo

    sheet = run_demo(context(), out)
    console.print(f"contact sheet: {sheet}")


@app.callback()
def _setup() -> None:
    """Before every command: log records of the layers below print as one line each."""
    failures.configure_logging()


def main() -> None:
    """The `tint` console entry: any failure that escapes a command still ends in one line and a status."""
    try:
        app()
    except SystemExit:
        raise
    except (Exception, KeyboardInterrupt) as exc:
        if failures.debug():
            raise
        sys.exit(failures.report(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
