"""What the file commands share: build the context, read a drawing's files into a spec, make sure a worker
runs, wait with a progress bar, and write a finished job's assets to a folder."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.exceptions import TyperException

from db.models import Job
from pipeline.errors import BadInput, TintError
from studio.failures import debug, report
from workers.context import Context
from workers.manifest import DrawingSpec, check_style, read_hint_file

__all__ = [
    "friendly",
    "context",
    "console",
    "err_console",
    "drawing_spec",
    "JobFailed",
    "wait_jobs",
    "raise_if_failed",
    "write_assets",
    "write_json",
    "job_seconds",
]

console = Console()
err_console = Console(stderr=True)


class JobFailed(TintError):
    """A job a file command waited for ended failed or cancelled."""


def drawing_spec(
    line: Path, *, hints: Path | None, palette: Path | None, reference: Path | None, style: str = "flat"
) -> DrawingSpec:
    """The drawing `tint colorize` submits, from its files; BadInput names a missing or unreadable one."""
    check_style(style, where="--style")
    for what, path in (
        ("line drawing", line),
        ("hints file", hints),
        ("palette", palette),
        ("reference", reference),
    ):
        if path is not None and not path.is_file():
            raise BadInput(f"{what} {str(path)!r} does not exist.")
    payload, hint_image = read_hint_file(hints) if hints else ({}, None)
    if palette is not None:
        try:
            payload["palette"] = json.loads(palette.read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadInput(
                f'palette {palette.name!r} is not JSON ({exc}); write {{"hair": "#5a3825"}}.'
            ) from exc
    forms = [
        form
        for form, given in (
            ("points", bool(set(payload) & {"points", "strokes"})),
            ("image", hint_image is not None),
            ("palette", palette is not None),
            ("reference", reference is not None),
        )
        if given
    ]
    return DrawingSpec(
        name=line.name,
        character="",
        view="",
        line=line.read_bytes(),
        prompt_kind=forms[0] if len(forms) == 1 else "mixed" if forms else "none",
        prompt_payload=payload,
        hint_image=hint_image,
        reference=reference.read_bytes() if reference is not None else None,
    )


def wait_jobs(ctx: Context, job_ids: list[int], *, label: str, timeout_s: float | None = None) -> list[Job]:
    """Follow the jobs to the end with a progress bar, running here any no live worker will run
    (workers.runs); returns the finished rows in the order given."""
    from workers.runs import see_jobs_through  # Celery: only when jobs run

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    # a bar only on a terminal: piped or logged, it would leave a blank line per wait behind
    bar = Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)
    with bar as progress:
        task = progress.add_task(label, total=len(job_ids))
        return see_jobs_through(
            ctx,
            job_ids,
            timeout_s=timeout_s or ctx.settings.result_timeout_s,
            on_final=lambda _: progress.advance(task),
        )


def raise_if_failed(job: Job, *, what: str) -> None:
    """JobFailed with the job's own error when it did not end done."""
    if job.state != "done":
        raise JobFailed(f"{what} failed (job {job.id}, {job.state}): {job.error}")


def write_assets(ctx: Context, shas: dict[str, str], out_dir: Path, names: dict[str, str]) -> dict[str, Path]:
    """Copy the assets named in `names` (role → file name) from storage into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for role, filename in names.items():
        if role in shas:
            path = out_dir / filename
            path.write_bytes(ctx.storage.get(shas[role]))
            written[role] = path
    return written


def write_json(path: Path, data: dict) -> Path:
    """Write `data` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def job_seconds(job: Job) -> float | None:
    """Wall time from submission to finish."""
    if job.finished_at and job.created_at:
        return round((job.finished_at - job.created_at).total_seconds(), 3)
    return None


def friendly(fn):
    """Any failure ends the command with one line on stderr (`tint: error: …`) and the exit status
    studio.failures documents; TINT_DEBUG=1 lets the traceback through instead."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):  # the command's own exits, and usage errors
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if debug():
                raise
            raise typer.Exit(report(exc)) from None

    return wrapper


def context():
    from workers.context import get_context

    return get_context()


def same_pixels(ctx: Context, old: dict, new: dict, *, roles: list[str]) -> list[str]:
    """Of `roles` (assets that differ by hash), those whose two PNGs decode to the same pixels."""
    import numpy as np

    from pipeline.images import decode_image, decode_label_map

    same = []
    for role in roles:
        if not (old.get(role) and new.get(role)) or role.endswith("json"):
            continue
        decode = decode_label_map if role in ("regions", "block_labels") else decode_image
        a, b = (decode(ctx.storage.get(old[role])), decode(ctx.storage.get(new[role])))
        if a.shape == b.shape and np.array_equal(a, b):
            same.append(role)
    return same
