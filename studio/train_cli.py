"""`tint train`: train Tint's models with the project's own code and data (see pipeline/train).

The pixel models train through the same loop (pipeline/train/loop.py), so those commands take the same
budget options (--steps, --stop-loss, --stop-window, --max-minutes) and re-running one on the same --out
resumes its run from the last checkpoint. The region colorizer (`regionfill`) is a few-kB MLP over region
features: it trains in epochs within --max-minutes, in one go, with no checkpoints to resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["train_app"]

train_app = typer.Typer(
    help="Train Tint's models (regionfill, colorizer, partition, parts).", no_args_is_help=True
)

Out = Annotated[Path, typer.Option(help="run folder: checkpoints, loss log, summary and the final weights")]
Steps = Annotated[int, typer.Option(help="step budget")]
StopLoss = Annotated[float, typer.Option(help="stop when the smoothed loss stays under it (0: never)")]
StopWindow = Annotated[int, typer.Option(help="steps the loss must stay under --stop-loss")]
MaxMinutes = Annotated[float, typer.Option(help="wall-clock budget of the training loop (0: none)")]
Batch = Annotated[int, typer.Option(help="examples per step")]
Seed = Annotated[int, typer.Option(help="seed for data and weights")]
Threads = Annotated[int, typer.Option(help="CPU threads for torch")]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda (cuda uses mixed precision)")]


@train_app.command("colorizer")
def colorizer(
    out: Out = Path("runs/colorizer"),
    steps: Steps = 1800,
    stop_loss: StopLoss = 0.0,
    stop_window: StopWindow = 200,
    max_minutes: MaxMinutes = 60.0,
    batch: Batch = 12,
    seed: Seed = 0,
    threads: Threads = 1,
    device: Device = "auto",
    generated: Annotated[int, typer.Option(help="generated characters in the training pool")] = 1500,
    adv_weight: Annotated[float, typer.Option(help="weight of the patch-discriminator loss (0 = off)")] = 0.0,
    data: Annotated[Path | None, typer.Option(help="OpenMoji folder [../shared/data/openmoji]")] = None,
) -> None:
    """Train the colorization model (final weights: OUT/colorizer.safetensors)."""
    from pipeline.train import colorizer as trainer
    from pipeline.train.colorizer_data import DEFAULT_DATA

    budget = {"steps": steps, "stop_loss": stop_loss, "stop_window": stop_window, "max_minutes": max_minutes}
    cfg = trainer.TrainConfig(
        out=str(out), **budget, batch=batch, seed=seed, threads=threads, device=device,
        generated=generated, adv_weight=adv_weight, data=str(data or DEFAULT_DATA),
    )  # fmt: skip
    _train_with_progress("colorizer", trainer.train, cfg)


@train_app.command("partition")
def partition(
    out: Out = Path("runs/partition"),
    steps: Steps = 4000,
    stop_loss: StopLoss = 0.0,
    stop_window: StopWindow = 200,
    max_minutes: MaxMinutes = 40.0,
    batch: Batch = 12,
    seed: Seed = 6,
    threads: Threads = 1,
    device: Device = "cpu",
    characters: Annotated[int, typer.Option(help="procedural characters in the pool (0: none)")] = 400,
    data: Annotated[Path, typer.Option(help="OpenMoji folder (its train split is used)")] = Path(
        "../shared/data/openmoji"
    ),
) -> None:
    """Train the partition model (region boundaries + flat colors) on degraded drawings."""
    from pipeline.train import partition as trainer

    budget = {"steps": steps, "stop_loss": stop_loss, "stop_window": stop_window, "max_minutes": max_minutes}
    cfg = trainer.TrainConfig(
        out=str(out), **budget, batch=batch, seed=seed, threads=threads, device=device,
        characters=characters, data=str(data),
    )  # fmt: skip
    _train_with_progress("partition", trainer.train, cfg)


@train_app.command("parts")
def parts(
    out: Out = Path("runs/parts"),
    steps: Steps = 2000,
    stop_loss: StopLoss = 0.0,
    stop_window: StopWindow = 200,
    max_minutes: MaxMinutes = 55.0,
    batch: Batch = 10,
    seed: Seed = 5,
    threads: Threads = 1,
    device: Device = "cpu",
    characters: Annotated[int, typer.Option(help="generated characters in the training pool")] = 2000,
    lr: Annotated[float, typer.Option(help="peak learning rate")] = 3e-3,
    init: Annotated[Path | None, typer.Option(help="weights to start from (e.g. the shipped parts)")] = None,
    real_labels: Annotated[
        Path | None, typer.Option(help="OpenMoji skin/hair labels (python -m pipeline.train.openmoji_parts)")
    ] = None,
    real_batch: Annotated[int, typer.Option(help="real labelled drawings per step")] = 4,
    real_weight: Annotated[float, typer.Option(help="weight of the real-label loss")] = 1.0,
) -> None:
    """Train the part segmentation model on generated characters (and real OpenMoji skin/hair labels)."""
    from pipeline.train import parts as trainer

    for path, hint in ((init, "--init"), (real_labels, "--real-labels")):
        if path is not None and not path.expanduser().exists():
            raise typer.BadParameter(f"{path} does not exist", param_hint=hint)
    budget = {"steps": steps, "stop_loss": stop_loss, "stop_window": stop_window, "max_minutes": max_minutes}
    cfg = trainer.TrainConfig(
        out=str(out), **budget, batch=batch, seed=seed, threads=threads, device=device, characters=characters,
        lr=lr, init=str(init.expanduser()) if init else "",
        real_labels=str(real_labels.expanduser()) if real_labels else "",
        real_batch=real_batch, real_weight=real_weight,
    )  # fmt: skip
    _train_with_progress("parts", trainer.train, cfg)


@train_app.command("regionfill")
def regionfill(
    data: Annotated[
        list[Path],
        typer.Option(help="a data set in OpenMoji's layout; repeat (its train split is used)"),
    ],
    out: Annotated[Path, typer.Option(help="the weights file to write")] = Path(
        "runs/regionfill.safetensors"
    ),
    limit: Annotated[int, typer.Option(help="training drawings per data set (0: all)")] = 500,
    max_minutes: MaxMinutes = 15.0,
    epochs: Annotated[int, typer.Option(help="epoch budget")] = 60,
    seed: Seed = 0,
) -> None:
    """Train the region colorizer, which fills unhinted regions (e.g. --data ../shared/data/openmoji
    --data ~/.cache/tint/sources/noto; build the sources with `python -m pipeline.train.sources`)."""
    from pipeline.train import regionfill as trainer

    missing = [str(p) for p in data if not (p.expanduser() / "index.json").is_file()]
    if missing:
        raise typer.BadParameter(
            f"no index.json in {', '.join(missing)}; pass data set folders", param_hint="--data"
        )
    cfg = trainer.TrainConfig(
        data=tuple(p.expanduser() for p in data),
        out=out,
        limit=limit,
        budget_s=max_minutes * 60,
        epochs=epochs,
        seed=seed,
    )
    summary = trainer.train(cfg)
    typer.echo(
        f"done: {summary['epochs']} epochs on {summary['examples']} regions in {summary['seconds']:.0f} s; "
        f"held-out right {summary['held_out_right']:.3f}; weights {out}"
    )


def _train_with_progress(name: str, train, cfg) -> None:
    """Run a training function with a rich progress bar and print its one-line summary."""
    columns = (
        TextColumn(name),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("train", total=cfg.steps)
        result = train(
            cfg, log=bar.console.print, progress=lambda step, total: bar.update(task, completed=step)
        )
    typer.echo(
        f"done: {result.steps} steps in {result.seconds:.0f} s ({result.stopped}); "
        f"train {result.train_loss:.4f}, val {result.val_loss:.4f}; weights {result.weights}"
    )
