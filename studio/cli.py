"""`tint`: the command line. Every command is a few lines that call into workers/ and db/.

File commands (colorize, blockify, recolor) go through a Celery task like everything else; on the embedded
default they start an in-process worker when none is running, and wait for their job.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

from db import queries
from pipeline.errors import BadInput, TintError
from studio import runner
from studio.runner import console, err_console
from studio.train_cli import train_app

__all__ = ["app"]

app = typer.Typer(
    help="Tint: colorize line drawings, split them into color blocks, recolor blocks. "
    "Settings come from TINT_* environment variables (see README); with none set, everything runs "
    "locally under ./tint-data with no server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(train_app, name="train")
token_app = typer.Typer(help="API tokens for `tint serve` (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _friendly(fn):
    """A TintError ends the command with one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TintError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _ctx():
    from workers.context import get_context

    return get_context()


def _parse_pairs(values: list[str], *, what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, color = value.partition("=")
        if not sep or not key.strip() or not color.strip():
            raise BadInput(f"{what} {value!r} is not KEY=#RRGGBB (for example 12=#aa3300).")
        pairs[key.strip()] = color.strip()
    return pairs


def _drawing_spec(line: Path, hints: Path | None):
    from workers.manifest import DrawingSpec, read_hint_file

    if not line.is_file():
        raise BadInput(f"line drawing {str(line)!r} does not exist.")
    payload, hint_image = read_hint_file(hints) if hints else ({}, None)
    kind = "points" if payload else "image" if hint_image else "none"
    return DrawingSpec(
        name=line.name,
        character="",
        view="",
        line=line.read_bytes(),
        prompt_kind=kind,
        prompt_payload=payload,
        hint_image=hint_image,
    )


@app.command()
@_friendly
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
    style: Annotated[
        str, typer.Option(help="flat: one color per region; shaded: keep the model's shading in regions.")
    ] = "flat",
) -> None:
    """Colorize one line drawing: hinted regions take exactly their hint color, the model fills the rest."""
    from workers.manifest import STYLES
    from workers.submit import submit_colorize

    if style not in STYLES:
        raise BadInput(f"--style {style!r} is not one of {', '.join(STYLES)}.")
    ctx = _ctx()
    spec = _drawing_spec(line, hints)
    spec.style = style
    job_id = submit_colorize(ctx, spec)
    with runner.worker_available(ctx):
        (job,) = runner.wait_jobs(ctx, [job_id], label=f"colorizing {line.name}")
    runner.raise_if_failed(job, what=f"colorize of {line.name!r}")
    names = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}
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
@_friendly
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
) -> None:
    """Split a colored image (or a revision) into blocks, each filled with its mean color."""
    from workers.submit import submit_blockify

    if (colored is None) == (revision is None):
        raise BadInput("give either a COLORED image or --revision ID.")
    if colored is not None and not colored.is_file():
        raise BadInput(f"image {str(colored)!r} does not exist.")
    ctx = _ctx()
    if colored is not None:
        job_id = submit_blockify(ctx, image=colored.read_bytes(), name=colored.name)
    else:
        job_id = submit_blockify(ctx, revision_id=revision)
    with runner.worker_available(ctx):
        (job,) = runner.wait_jobs(ctx, [job_id], label="blockifying")
    runner.raise_if_failed(job, what="blockify")
    names = {"blocks": "blocks.png", "block_labels": "block_labels.png", "blocks_json": "blocks.json"}
    runner.write_assets(ctx, job.result["assets"], out, names)
    console.print(f"{job.result['block_count']} blocks → {out}/")


@app.command()
@_friendly
def recolor(
    revision_id: Annotated[int, typer.Argument(help="The revision to recolor.")],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Folder for the new revision's images and result.json.")
    ],
    set_: Annotated[
        list[str], typer.Option("--set", help="BLOCK_ID=#RRGGBB; repeat for several blocks.")
    ] = [],  # noqa: B006
    at: Annotated[list[str], typer.Option(help="X,Y=#RRGGBB: recolor the block under pixel (X, Y).")] = [],  # noqa: B006
    edit_image: Annotated[
        Path | None,
        typer.Option(help="blocks.png painted over: changed pixels pick the blocks and their new colors."),
    ] = None,
) -> None:
    """Change the color of chosen blocks; everything not edited stays exactly as it was."""
    from workers.submit import submit_recolor

    edits = _parse_pairs(set_, what="--set")
    points = []
    for key, color in _parse_pairs(at, what="--at").items():
        x, sep, y = key.partition(",")
        if not sep or not x.strip().lstrip("-").isdigit() or not y.strip().lstrip("-").isdigit():
            raise BadInput(f"--at {key!r} is not X,Y with whole pixel coordinates.")
        points.append([int(x), int(y), color])
    if edit_image is not None and not edit_image.is_file():
        raise BadInput(f"edit image {str(edit_image)!r} does not exist.")
    if not edits and not points and edit_image is None:
        raise BadInput("recolor needs at least one --set BLOCK_ID=#RRGGBB, --at X,Y=#RRGGBB or --edit-image.")
    ctx = _ctx()
    job_id = submit_recolor(
        ctx,
        revision_id=revision_id,
        edits=edits,
        at=points,
        edit_image=edit_image.read_bytes() if edit_image is not None else None,
    )
    with runner.worker_available(ctx):
        (job,) = runner.wait_jobs(ctx, [job_id], label=f"recoloring revision {revision_id}")
    runner.raise_if_failed(job, what=f"recolor of revision {revision_id}")
    names = {"colored": "colored.png", "flats": "flats.png", "lines": "lines.png", "regions": "regions.png"}
    runner.write_assets(ctx, job.result["assets"], out, names)
    runner.write_json(
        out / "result.json",
        {"revision_id": job.revision_id, "parent_revision_id": revision_id, "job_id": job.id, **job.result},
    )
    loc = job.result.get("locality", {})
    console.print(
        f"revision {job.revision_id} (parent {revision_id}): unchanged outside edits "
        f"{loc.get('unchanged_outside', 1.0):.2%} → {out}/"
    )


@app.command()
@_friendly
def rerun(revision_id: Annotated[int, typer.Argument(help="The revision to make again.")]) -> None:
    """Run a revision's job again from its recorded inputs and say whether the result is bit-identical."""
    from db.models import Revision
    from workers.submit import submit_rerun

    ctx = _ctx()
    job_id = submit_rerun(ctx, revision_id)
    with runner.worker_available(ctx):
        (job,) = runner.wait_jobs(ctx, [job_id], label=f"re-running revision {revision_id}")
    runner.raise_if_failed(job, what=f"rerun of revision {revision_id}")
    with ctx.sessions() as session:
        old = session.get(Revision, revision_id)
        new = session.get(Revision, job.revision_id)
        same_models = old.model_versions == new.model_versions
        differing = sorted(role for role in old.assets if old.assets.get(role) != new.assets.get(role))
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
@_friendly
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

    ctx = _ctx()
    batch_id = submit_manifest(ctx, manifest, submitted_by=by)
    console.print(f"batch {batch_id} submitted; `tint status {batch_id}` shows progress")
    if wait:
        with runner.worker_available(ctx), ctx.sessions() as session:
            job_ids = [j.id for j in queries.batch_jobs(session, batch_id)]
            runner.wait_jobs(ctx, job_ids, label=f"batch {batch_id}")
        status(batch_id)


@app.command()
@_friendly
def status(
    batch: Annotated[int | None, typer.Argument(help="Batch id; all recent batches when left out.")] = None,
) -> None:
    """Job counts per state for a batch, and each failed job's error."""
    from rich.table import Table

    ctx = _ctx()
    with ctx.sessions() as session:
        if batch is None:
            batches = queries.list_batches(session)
        else:
            found = queries.get_batch(session, batch)
            if found is None:
                raise BadInput(f"batch {batch} does not exist; `tint status` lists batches.")
            batches = [found]
        table = Table("batch", "name", "queued", "running", "done", "failed", "cancelled")
        for b in batches:
            counts = queries.batch_progress(session, b.id)
            table.add_row(
                str(b.id),
                b.name,
                *(str(counts.get(s, 0)) for s in ("queued", "running", "done", "failed", "cancelled")),
            )
        console.print(table)
        if batch is not None:
            for job_id, name, error in queries.batch_failures(session, batch):
                console.print(f"job {job_id} ({name}) failed: {error}", highlight=False)


@app.command()
@_friendly
def history(drawing: Annotated[int, typer.Argument(help="Drawing id.")]) -> None:
    """A drawing's prompt history and its revisions, each with its parent."""
    ctx = _ctx()
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
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = "gpu,cpu",
    concurrency: Annotated[int, typer.Option(help="Worker processes (1 per GPU).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    hostname: Annotated[
        str, typer.Option(help="Worker node name; unique per worker process on a host.")
    ] = "",
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus metrics on this port (0: off).")] = 0,
) -> None:
    """Run a Celery worker for Tint's jobs (it also beats and reconciles stranded jobs)."""
    import os
    import tempfile

    if metrics_port and pool == "prefork" and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Set before prometheus_client is imported: pool processes write samples the main process serves.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tint-metrics-")
    import workers.embedded  # noqa: F401  (registers the heartbeat signals)
    from workers import metrics
    from workers.celery_app import app as celery_app
    from workers.logs import configure_logging
    from workers.settings import get_settings

    configure_logging(fmt=get_settings().log_format, level=loglevel)
    if metrics_port:
        metrics.serve_metrics(metrics_port)
    extra = ["--hostname", hostname] if hostname else []
    celery_app.worker_main(
        [
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "--pool",
            pool,
            "-l",
            loglevel,
            "--without-gossip",
            "--without-mingle",
            *extra,
        ]
    )


@app.command()
@_friendly
def reconcile() -> None:
    """Re-enqueue jobs left queued or running past their deadline."""
    from workers.submit import reconcile as reconcile_jobs

    console.print(f"re-enqueued {reconcile_jobs(_ctx())} jobs")


@app.command()
@_friendly
def retry(job_id: Annotated[int, typer.Argument(help="A failed or cancelled job to run again.")]) -> None:
    """Queue a failed job again."""
    from workers.submit import retry_job

    retry_job(_ctx(), job_id)
    console.print(f"job {job_id} queued again")


@app.command()
@_friendly
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the demo's outputs.")] = Path(
        "tint-out/demo"
    ),
) -> None:
    """Colorize the bundled sample characters, blockify them, recolor one block, write a contact sheet."""
    from studio.demo import run_demo

    sheet = run_demo(_ctx(), out)
    console.print(f"contact sheet: {sheet}")


@app.command()
@_friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API and the review page (/review); on the embedded default its worker runs in-process."""
    from studio.api.tokens import serve as serve_api

    console.print(f"Tint API and review page on http://{host}:{port}/review (Ctrl+C stops)")
    serve_api(_ctx(), host=host, port=port)


@token_app.command("create")
@_friendly
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the token (a person, a pipeline).")],
    role: Annotated[str, typer.Option(help="submitter, lead or admin.")] = "submitter",
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from studio.api.tokens import issue_token

    token_id, secret = issue_token(_ctx(), name=name, role=role)
    err_console.print(f"token {token_id} ({role}) for {name!r}; it is shown only now:")
    print(secret)


@db_app.command("upgrade")
@_friendly
def db_upgrade() -> None:
    """Bring the database schema to the latest migration."""
    from db.session import upgrade
    from workers.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    console.print(f"database at {url.split('@')[-1]} is up to date")


def main() -> None:  # pragma: no cover - console entry for `python -m studio.cli`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
