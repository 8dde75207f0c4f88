"""`tint publish B --kitsu URL`: a batch's colored drawings to the studio's Kitsu, through workers.kitsu.

Registered on the main `tint` app by `studio.cli`. Credentials come from TINT_KITSU_EMAIL and
TINT_KITSU_PASSWORD or a --credentials file, never from the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.errors import BadInput
from studio.runner import console, context, err_console, friendly

__all__ = ["publish_app"]

publish_app = typer.Typer()


def _statuses(values: list[str]) -> dict[str, str]:
    """Review state -> Kitsu status short name: the defaults, with each STATE=SHORT_NAME given on top."""
    from db.models import REVIEW_STATUSES
    from workers.kitsu import DEFAULT_STATUSES

    statuses = dict(DEFAULT_STATUSES)
    for value in values:
        state, sep, short = (part.strip() for part in value.partition("="))
        if not sep or state not in REVIEW_STATUSES or not short:
            raise BadInput(
                f"--status {value!r} is not STATE=KITSU_STATUS with STATE one of "
                f"{', '.join(REVIEW_STATUSES)} (for example approved=done)."
            )
        statuses[state] = short
    return statuses


@publish_app.command()
@friendly
def publish(
    batch: Annotated[int, typer.Argument(help="Batch id (`tint status` lists batches).")],
    kitsu: Annotated[
        str, typer.Option(help="The Kitsu API's URL, e.g. https://kitsu.example.com/api.", metavar="URL")
    ],
    project: Annotated[
        str | None, typer.Option(help="Kitsu project (found or created); default: the batch's name.")
    ] = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            help='JSON {"email": …, "password": …}; default: TINT_KITSU_EMAIL, TINT_KITSU_PASSWORD.'
        ),
    ] = None,
    entity: Annotated[
        str,
        typer.Option(help="asset: a character is an asset, a drawing its task; shot: a drawing is a shot."),
    ] = "asset",
    asset_type: Annotated[str, typer.Option(help="Kitsu asset type of the characters.")] = "Character",
    task_type: Annotated[str, typer.Option(help="Kitsu task type of the drawings' tasks.")] = "Coloring",
    status: Annotated[
        list[str],
        typer.Option(
            help="STATE=KITSU_STATUS: the task status a review state sets (approved=done, "
            "pending_review=wfa, changes_requested=retake unless given)."
        ),
    ] = [],  # noqa: B006
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object per drawing.")] = False,
) -> None:
    """Publish a batch's approved and waiting-for-review drawings to Kitsu: preview, comment and status.

    Publishing again updates the same tasks; a drawing that fails is reported and the rest go on."""
    from db import queries
    from workers.kitsu import KitsuMapping, connect, publish_batch, read_credentials

    if entity not in ("asset", "shot"):
        raise BadInput(f"--entity {entity!r} is neither asset nor shot.")
    ctx = context()
    with ctx.sessions() as session:
        found = queries.get_batch(session, batch, with_manifest=False)
        if found is None:
            raise BadInput(f"batch {batch} does not exist; `tint status` lists batches.")
        name = found.name
    mapping = KitsuMapping(
        project=project or name,
        entity=entity,
        asset_type=asset_type,
        task_type=task_type,
        statuses=_statuses(status),
    )
    email, password = read_credentials(ctx.settings, credentials)
    client = connect(kitsu, email=email, password=password)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    bar = Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)
    with bar as progress:
        task = progress.add_task(f"publishing batch {batch} to Kitsu", total=None)
        results = publish_batch(
            ctx, batch, client=client, url=kitsu, mapping=mapping, on_result=lambda _: progress.advance(task)
        )
    if json_:
        for r in results:
            print(json.dumps(r.__dict__, sort_keys=True))
    else:
        table = Table("drawing", "name", "revision", "outcome", "task status")
        for r in results:
            table.add_row(
                str(r.drawing_id), r.drawing, str(r.revision_id or ""), r.outcome, r.task_status or ""
            )
        console.print(table)
        for r in results:
            if r.outcome == "skipped":
                console.print(f"drawing {r.drawing_id} ({r.drawing}) skipped: {r.message}", highlight=False)
        counts = {o: sum(r.outcome == o for r in results) for o in ("published", "status", "unchanged")}
        console.print(
            f"Kitsu project {mapping.project!r}: {counts['published']} published, {counts['status']} status "
            f"updated, {counts['unchanged']} unchanged",
            highlight=False,
        )
    failed = [r for r in results if r.outcome == "failed"]
    for r in failed:  # one line each, on stderr like every error
        err_console.print(
            f"[red]tint: error:[/red] drawing {r.drawing_id} ({r.drawing}) was not published: {r.message}",
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)
