"""`tint train`: train Tint's models with the project's own code and data (see pipeline/train)."""

from __future__ import annotations

import typer

__all__ = ["train_app"]

train_app = typer.Typer(help="Train Tint's models (colorizer, partition, parts).", no_args_is_help=True)
