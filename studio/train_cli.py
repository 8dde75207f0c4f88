"""`tint train`: train Tint's models with the project's own code and data (see pipeline/train)."""

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

train_app = typer.Typer(help="Train Tint's models (colorizer, partition, parts).", no_args_is_help=True)


@train_app.command("colorizer")
def colorizer(
    out: Annotated[Path, typer.Option(help="run folder: checkpoints, loss log, final colorizer.safetensors")],
    steps: Annotated[int, typer.Option(help="step budget")] = 1800,
    batch: Annotated[int, typer.Option(help="crops per step")] = 12,
    seed: Annotated[int, typer.Option(help="seed for data, hints and weights")] = 0,
    generated: Annotated[int, typer.Option(help="generated characters in the training pool")] = 1500,
    stop_loss: Annotated[
        float, typer.Option(help="stop when the smoothed loss stays under it (0: never)")
    ] = 0.0,
    stop_window: Annotated[int, typer.Option(help="steps the loss must stay under --stop-loss")] = 200,
    adv_weight: Annotated[float, typer.Option(help="weight of the patch-discriminator loss (0 = off)")] = 0.0,
    threads: Annotated[int, typer.Option(help="CPU threads for torch")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (cuda uses mixed precision)")] = "auto",
    data: Annotated[Path | None, typer.Option(help="OpenMoji folder [../shared/data/openmoji]")] = None,
) -> None:
    """Train the colorization model; re-running with the same --out resumes from its last checkpoint."""
    from pipeline.train.colorizer_data import DEFAULT_DATA
    from pipeline.train.colorizer_train import TrainConfig, train_colorizer

    cfg = TrainConfig(
        out=str(out),
        steps=steps,
        batch=batch,
        seed=seed,
        generated=generated,
        stop_loss=stop_loss,
        stop_window=stop_window,
        adv_weight=adv_weight,
        threads=threads,
        device=device,
        data=str(data or DEFAULT_DATA),
    )
    _train_with_progress("colorizer", train_colorizer, cfg, steps=steps)


@train_app.command("partition")
def partition(
    out: Annotated[Path, typer.Option(help="where to write the weights (safetensors)")] = Path(
        "pipeline/models/weights/partition.safetensors"
    ),
    max_steps: Annotated[int, typer.Option(help="step budget")] = 4000,
    max_minutes: Annotated[float, typer.Option(help="wall-clock budget of the training loop")] = 40.0,
    loss_threshold: Annotated[float, typer.Option(help="stop when the eval loss falls under it")] = 0.15,
    batch: Annotated[int, typer.Option(help="crops per step")] = 12,
    characters: Annotated[int, typer.Option(help="procedural characters in the pool (0: none)")] = 400,
    threads: Annotated[int, typer.Option(help="CPU threads for torch")] = 1,
    device: Annotated[str, typer.Option(help="cpu or cuda (cuda uses mixed precision)")] = "cpu",
    seed: Annotated[int, typer.Option(help="seed for data and weights")] = 6,
    data: Annotated[Path, typer.Option(help="OpenMoji folder (its train split is used)")] = Path(
        "../shared/data/openmoji"
    ),
) -> None:
    """Train the partition model (region boundaries + flat colors) on degraded drawings."""
    from pipeline.train.partition import TrainConfig, train

    cfg = TrainConfig(
        data=str(data),
        out=str(out),
        max_steps=max_steps,
        max_minutes=max_minutes,
        loss_threshold=loss_threshold,
        batch=batch,
        characters=characters,
        threads=threads,
        device=device,
        seed=seed,
    )
    train(cfg, log=typer.echo)


@train_app.command("parts")
def parts(
    out: Annotated[Path, typer.Option(help="run folder: checkpoints, loss log, final parts.safetensors")],
    steps: Annotated[int, typer.Option(help="step budget")] = 2000,
    max_minutes: Annotated[float, typer.Option(help="wall-clock budget of the training loop")] = 55.0,
    batch: Annotated[int, typer.Option(help="drawings per step")] = 10,
    characters: Annotated[int, typer.Option(help="generated characters in the training pool")] = 2000,
    seed: Annotated[int, typer.Option(help="seed for data and weights")] = 5,
    threads: Annotated[int, typer.Option(help="CPU threads for torch")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "cpu",
) -> None:
    """Train the part segmentation model on generated characters (fixed seed, step and time budget)."""
    from pipeline.train.parts_train import PartsTrainConfig, train_parts

    cfg = PartsTrainConfig(
        out=str(out),
        steps=steps,
        max_minutes=max_minutes,
        batch=batch,
        characters=characters,
        seed=seed,
        threads=threads,
        device=device,
    )
    _train_with_progress("parts", train_parts, cfg, steps=steps)


def _train_with_progress(name: str, train, cfg, *, steps: int) -> None:
    """Run a training function with a rich progress bar and print its one-line summary."""
    columns = (
        TextColumn(name),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("train", total=steps)
        result = train(
            cfg, log=bar.console.print, progress=lambda step, total: bar.update(task, completed=step)
        )
    typer.echo(
        f"done: {result.steps} steps in {result.seconds:.0f} s ({result.stopped}); "
        f"train {result.train_loss:.4f}, val {result.val_loss:.4f}; weights {result.weights}"
    )
