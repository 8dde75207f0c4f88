"""Tint's models: definitions, safetensors save/load and the adapters the pipeline calls.

This package's own namespace imports no torch, so a job that runs no model can still name the shipped
weights and their versions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["WEIGHTS", "weights_digest"]

WEIGHTS = Path(__file__).resolve().parent / "weights"


def weights_digest(path: str | Path) -> str:
    """The first 12 hex digits of a weights file's sha256: the version every loaded model reports."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
