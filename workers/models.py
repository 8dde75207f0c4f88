"""The models a worker process uses, each loaded once per process (after any fork) and kept."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from workers.context import get_context
from workers.metrics import time_model_load

__all__ = ["regionfill", "fill_version", "partition", "parts"]

_lock = threading.Lock()
_loaded: dict[str, tuple[int, Any]] = {}


def _limit_threads(*, torch: bool) -> None:
    """One compute thread per worker process: scale out with processes (measured faster under load)."""
    import cv2

    cv2.setNumThreads(1)
    if torch:
        import torch as torch_module

        torch_module.set_num_threads(1)


def _once(name: str, load, *, torch: bool = True) -> Any:
    """The model `name`, loaded by `load(device)` once per process and kept (torch=False: a NumPy model,
    so loading it never imports torch)."""
    with _lock:
        pid, model = _loaded.get(name, (None, None))
        if model is None or pid != os.getpid():
            _limit_threads(torch=torch)
            with time_model_load(name):
                model = load(get_context().settings.device)
            _loaded[name] = (os.getpid(), model)
        return model


def regionfill() -> Any:
    """This process's region colorizer, which fills unhinted regions (NumPy, the shipped weights)."""
    from pipeline.models import regionfill as regionfill_model

    return _once("regionfill", lambda device: regionfill_model.load(None, device=device), torch=False)


@functools.cache
def fill_version() -> str:
    """The version `regionfill()` reports, read from the shipped weights' bytes without loading them."""
    from pipeline.models import WEIGHTS, weights_digest

    return f"regionfill-{weights_digest(WEIGHTS / 'regionfill.safetensors')}"


def partition() -> Any:
    """This process's partition model for blockify (the shipped weights, on TINT_DEVICE)."""
    from pipeline.models import partition as partition_model

    def load(device: str) -> Any:
        return partition_model.load(None, device=device)

    return _once("partition", load)


def parts() -> Any:
    """This process's part segmentation model (palette prompts), on TINT_DEVICE."""
    from pipeline.models import parts as parts_model

    return _once("parts", lambda device: parts_model.load(None, device=device))
