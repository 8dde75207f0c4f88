"""Micro-batching: jobs running in threads of one worker share the model's forward passes.

Why threads and not celery-batches: each drawing stays one Celery task with its own message, late ack,
retries, time limit and Flower entry, so failure isolation and redelivery are exactly those of unbatched
jobs; and while one thread waits for the model, the others fetch, find regions, encode and store, so the
job's I/O overlaps the model. A worker started with `tint worker --batch N` runs N task threads; the
model stage of each goes through one `MicroBatcher`, which gathers up to N prepared inputs of one shape
(the size class: inputs are scaled to the net's resolution and padded to its multiple) arriving within
`wait_ms` of the first, runs one forward pass, and hands each thread its own slice.

If a batched pass raises, each input of it runs alone, so one bad input fails only its own job.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

__all__ = ["MicroBatcher"]


class MicroBatcher:
    """Callable: one input (C, H, W) in, its output out, computed in a batch with other threads' inputs."""

    def __init__(
        self,
        run_batch: Callable[[np.ndarray], np.ndarray],
        *,
        max_batch: int,
        wait_ms: float,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be 1 or more, got {max_batch}")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.wait_s = max(0.0, wait_ms) / 1000
        self.on_batch = on_batch  # told each batch's size (a metrics histogram)
        self._queue: queue.Queue[tuple[np.ndarray, Future]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The output for x; blocks until its batch has run (raises what running x raised)."""
        future: Future = Future()
        self._ensure_thread()
        self._queue.put((x, future))
        return future.result()

    def _ensure_thread(self) -> None:
        """Start the batching thread once per process (a forked child starts its own)."""
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                if self._pid != os.getpid():
                    self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._loop, name="tint-batcher", daemon=True)
                self._pid = os.getpid()
                self._thread.start()

    def _loop(self) -> None:
        waiting: list[tuple[np.ndarray, Future]] = []
        while True:
            if not waiting:
                waiting.append(self._queue.get())
            shape = waiting[0][0].shape
            deadline = time.monotonic() + self.wait_s
            while sum(x.shape == shape for x, _ in waiting) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    waiting.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            group = [item for item in waiting if item[0].shape == shape][: self.max_batch]
            waiting = [item for item in waiting if not any(item is g for g in group)]
            self._run(group)

    def _run(self, group: list[tuple[np.ndarray, Future]]) -> None:
        """One forward pass for the group; on failure, each input alone so only the bad one fails."""
        if self.on_batch is not None:
            self.on_batch(len(group))
        try:
            out = self.run_batch(np.stack([x for x, _ in group]))
        except Exception as exc:  # noqa: BLE001 - isolate below, or hand the error to its one caller
            if len(group) == 1:
                group[0][1].set_exception(exc)
                return
            for item in group:
                self._run([item])
            return
        for (_, future), result in zip(group, out, strict=True):
            future.set_result(result)
