"""The models a worker process uses, each loaded once per process (after any fork) and kept."""

from __future__ import annotations

import os
import threading
from typing import Any

from workers.context import get_context
from workers.metrics import time_model_load

__all__ = ["colorizer"]

_lock = threading.Lock()
_loaded: dict[str, tuple[int, Any]] = {}


def _limit_threads() -> None:
    """One compute thread per worker process: scale out with processes (measured faster under load)."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def colorizer() -> Any:
    """This process's colorization model (the shipped weights, on TINT_DEVICE)."""
    with _lock:
        pid, model = _loaded.get("colorizer", (None, None))
        if model is None or pid != os.getpid():
            from pipeline.models.colorizer import load_colorizer

            _limit_threads()
            with time_model_load("colorizer"):
                model = load_colorizer(None, device=get_context().settings.device)
            _loaded["colorizer"] = (os.getpid(), model)
        return model
